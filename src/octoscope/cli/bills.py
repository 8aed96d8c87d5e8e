"""``octoscope bills``: Octopus's statements next to octoscope's own costs, registered by :func:`register`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from octoscope.cli.shell import echo_json, fail, process_clock, read_settings, require_database, user_errors

if TYPE_CHECKING:
    from octoscope.clock import Clock
    from octoscope.config import Settings
    from octoscope.services.bills import BillsReport
    from octoscope.store.ports import StoreProtocol
    from octoscope.sync import FetchResult


def register(app: typer.Typer) -> None:
    app.command("bills")(bills)


def bills(
    offline: Annotated[bool, typer.Option("--offline", help="Only the statements kept; ask Octopus nothing.")] = False,
    tolerance: Annotated[int, typer.Option(help="Pence per fuel a statement may differ by.", min=0)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write one row per statement and fuel to this CSV file (- for stdout)."),
    ] = None,
    parquet_out: Annotated[Path | None, typer.Option("--parquet", help="Also write those rows as Parquet.")] = None,
    influx: Annotated[
        bool,
        typer.Option(
            "--influx", help="Also write bill_statements and account_balance to InfluxDB (the config's influx section)."
        ),
    ] = False,
) -> None:
    """Is my bill right? Each statement's charges per fuel next to octoscope's costs of the same days, the
    difference in pence and its reason when known; the account balance over time. Closed statements are
    read once and kept; the open one at most daily.

    Example: octoscope bills --json
    """
    from octoscope.domain.uktime import local_date  # noqa: PLC0415
    from octoscope.outputs import bills as exports  # noqa: PLC0415
    from octoscope.services.bills import bills_report, report_json  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        settings.require_account()
        require_database(settings)
        clock = process_clock()
        with open_account_store(settings, clock) as store:
            if store.load_account(settings.require_account()) is None:
                raise fail("no account stored yet: run `octoscope sync` first")
            import asyncio  # noqa: PLC0415 (not on every command's start)

            fetched = None if offline else asyncio.run(_fetch(settings, store, clock))
            today = local_date(clock.now())
            report = bills_report(store, settings, today, fetched=fetched, tolerance=tolerance)
        answer = report_json(report)  # what --json prints, and what the exports read
        written = []
        if csv_out is not None:
            written.append(f"{exports.export_csv(exports.rows(answer), csv_out)} rows to {csv_out}")
        if parquet_out is not None:
            written.append(f"{exports.export_parquet(exports.rows(answer), parquet_out)} rows to {parquet_out}")
        if influx:
            written.append(f"{exports.export_influx(settings, answer, clock)} points to InfluxDB")
        for what in written:
            typer.echo(f"Wrote {what}", err=True)
    if csv_out is not None and str(csv_out) == "-":
        return  # the CSV was the output
    if as_json:
        echo_json(answer)
    else:
        _print(report)


async def _fetch(settings: Settings, store: StoreProtocol, clock: Clock) -> FetchResult:
    from octoscope.services.bills import fetch  # noqa: PLC0415
    from octoscope.wiring import open_octopus  # noqa: PLC0415

    _, number = settings.require_credentials()
    async with open_octopus(settings, store, clock) as octopus:
        return await fetch(octopus.graphql, store, number, clock)


def _money(pence: int) -> str:
    return f"{'-' if pence < 0 else ''}£{abs(pence) / 100:,.2f}"


def _print(report: BillsReport) -> None:
    fetch = report.fetch
    if fetch is not None:
        what = fetch.skipped or f"{fetch.fetched} statement(s) read in {fetch.requests} request(s)"
        typer.echo(f"Statements: {what}; {fetch.kept} kept.", err=True)
    if not report.statements:
        typer.echo("No statements kept yet.")
        return
    typer.echo(f"{'Statement':<24} {'Fuel':<12} {'Octopus':>10} {'octoscope':>10} {'Diff':>7}  Reason")
    for r in report.statements:
        st = r.statement
        period = f"{st.first.isoformat()}..{st.last.isoformat()}" + ("*" if st.status != "CLOSED" else "")
        for note in r.notes:
            typer.echo(f"{period:<24} {'':<12} {note}")
        for line in r.lines:
            reasons = "; ".join(x.text for x in line.reasons) or ("ok" if line.matches else "")
            mark = "" if line.matches else "! "
            typer.echo(
                f"{period:<24} {line.fuel:<12} {_money(line.theirs):>10}"
                f" {_money(line.ours):>10} {line.difference:>+6}p  {mark}{reasons}"
            )
            period = ""
    typer.echo(f"{report.flagged} statement(s) differ by more than {report.tolerance}p on a fuel.")
    if report.balance:
        day, pence = report.balance[-1]
        typer.echo(f"Balance on {day.isoformat()}: {_money(pence)} ({'in credit' if pence >= 0 else 'owed'})")
