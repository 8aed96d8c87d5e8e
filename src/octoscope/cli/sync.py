"""Fetching and what was fetched: ``sync``, ``status`` and ``dispatches``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope.cli.shell import (
    echo_json,
    fail,
    plan_sync,
    print_summary,
    process_clock,
    read_all_settings,
    read_settings,
    require_database,
    sync_and_record,
    sync_progress,
    user_errors,
)
from octoscope.domain.validation import MAX_DISPATCH_DAYS

if TYPE_CHECKING:
    from octoscope.config import Settings
    from octoscope.sync import PlannedSync, SyncSummary

__all__ = ["dispatches", "status", "sync"]


def sync(
    from_: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD), or latest to go on from the store.")
    ] = "latest",
    to: Annotated[
        str, typer.Option(help="Stop before this day (YYYY-MM-DD), or through yesterday/today/tomorrow.")
    ] = "tomorrow",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and its request count; fetch nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    past_properties: Annotated[bool, typer.Option("--past-properties", help="Also sync homes moved out of.")] = False,
) -> None:
    """Fetch consumption, tariff rates and standing charges into the local database, in the fewest requests.

    With several accounts configured, each in turn; `--account NUMBER` for one.

    Example: octoscope sync --from 2025-01-01 --to today
    """
    with user_errors():
        every = read_all_settings()
    if len(every) == 1:
        _sync_one(every[0], from_, to, dry_run, as_json, past_properties)
        return
    # Several accounts: each in turn, with its own key and store; one that fails does not stop the others.
    failed = []
    answers: dict[str, Any] = {}
    for settings in every:
        if not as_json:
            typer.echo(f"Account {settings.account}:")
        try:
            done = _sync_one(settings, from_, to, dry_run, as_json, past_properties, echo=False)
            answers[str(settings.account)] = done.to_json()
        except typer.Exit as err:  # its one line is printed already
            if err.exit_code:
                failed.append(str(settings.account))
    if as_json:
        echo_json({"accounts": answers})
    if failed:
        raise fail(f"the sync of {', '.join(failed)} failed (see above); the other accounts are synced")


def _sync_one(
    settings: Settings, from_: str, to: str, dry_run: bool, as_json: bool, past: bool, echo: bool = True
) -> SyncSummary | PlannedSync:
    from octoscope.sync import resolve_window  # noqa: PLC0415

    with user_errors():
        settings.require_credentials()
        now = process_clock().now()
        start, end = resolve_window(from_, to, now)
        import asyncio  # noqa: PLC0415 (not on every command's start)

        with sync_progress(as_json or dry_run) as progress:
            if dry_run:
                planned = asyncio.run(plan_sync(settings, start, end, now, past))
            else:
                summary = asyncio.run(sync_and_record(settings, start, end, now, past, progress))
    if dry_run:
        if as_json and echo:
            echo_json(planned.to_json())
        elif not as_json:
            _print_plan(planned)
        return planned
    if as_json and echo:
        echo_json(summary.to_json())
    elif not as_json:
        print_summary(summary)
    push_after_cli_sync(settings)
    return summary


def _print_plan(planned: PlannedSync) -> None:
    from octoscope.domain.uktime import iso_z  # noqa: PLC0415

    plan = planned.plan
    typer.echo(
        f"Plan for {iso_z(plan.window.start)} to {iso_z(plan.window.end)}: {plan.requests} requests"
        f" (of which {sum(planned.requests_for_discovery.values())} already made to read the account)"
    )
    for c in plan.consumption:
        typer.echo(f"  consumption {c.series} meter {c.serial}: {iso_z(c.start)} to {iso_z(c.end)} ({c.pages})")
    for t in plan.charges:
        typer.echo(f"  {t.charge.value} charges of {t.tariff.code}: {iso_z(t.start)} to {iso_z(t.end)} ({t.pages})")


def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Per series: what is stored, its gaps and last sync; and the request budget used this hour.

    Example: octoscope status
    """
    from octoscope.domain.uktime import from_epoch, iso_z  # noqa: PLC0415
    from octoscope.services.status import key_id_of, status_report  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        settings.require_credentials()
        require_database(settings)
        clock = process_clock()
        with open_account_store(settings, clock) as store:
            key, number = settings.require_credentials()
            limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour}
            now = clock()
            report = status_report(store, number, key_id_of(key), limits, from_epoch(now), now)
    if as_json:
        echo_json(report.to_json())
        return
    typer.echo(f"Account {report.account}, database {report.database}")

    def shown(at: datetime | None) -> str | None:  # as the JSON says it
        return iso_z(at) if at else None

    for s in report.series:
        where = "" if s.current_property else f" (past property {s.property})"
        if not s.rows:
            typer.echo(f"  {s.series}{where}: nothing stored")
            continue
        typer.echo(
            f"  {s.series}{where}: {s.rows} half-hours in {s.unit}, {shown(s.first_interval)} to"
            f" {shown(s.last_interval)}, {len(s.gaps)} gaps, last sync {shown(s.last_sync)}"
        )
        for start, end in s.gaps[:5]:
            typer.echo(f"      gap {iso_z(start)} to {iso_z(end)}")
    budget = report.budget_this_hour
    typer.echo(
        f"Requests this hour: REST {budget['rest'].used}/{budget['rest'].limit},"
        f" GraphQL {budget['graphql'].used}/{budget['graphql'].limit}"
    )
    run = report.last_run
    if run is not None:
        said = {"interrupted": "interrupted (the process stopped before it finished)"}.get(run.outcome)
        typer.echo(f"Last sync run: started {iso_z(run.started)}, {said or run.outcome}")


def dispatches(
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask Octopus now (within the limits) first.")] = False,
    days: Annotated[
        int, typer.Option(help="Show the dispatches of the last N days.", min=1, max=MAX_DISPATCH_DAYS)
    ] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Intelligent Octopus dispatches kept in the database: planned and completed, smart and boost.

    Example: octoscope dispatches --refresh
    """
    from octoscope.sync import listing  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        number = settings.require_account()
        require_database(settings)
        now = process_clock().now()
        if refresh:
            import asyncio  # noqa: PLC0415 (not on every command's start)

            asyncio.run(_refresh_dispatches(settings))
        with open_account_store(settings, process_clock()) as store:
            listed = listing(store, number, now - timedelta(days=days))
    devices: dict[str, str | None] = listed["devices"]  # type: ignore[assignment]
    rows: list[dict[str, Any]] = listed["dispatches"]  # type: ignore[assignment]
    if as_json:
        echo_json(listed)
        return
    for device, state in devices.items():
        typer.echo(f"Device {device}: {state or 'state unknown'}")
    if not rows:
        typer.echo(f"No dispatches in the last {days} days.")
    for r in rows:
        energy = "" if r["kwh"] is None else f" {r['kwh']:.2f} kWh"
        typer.echo(f"  {r['kind']:<9} {r['start']} to {r['end']} {r['type'] or ''}{energy}")


async def _refresh_dispatches(settings: Settings) -> None:
    from octoscope.sync import refresh  # noqa: PLC0415
    from octoscope.wiring import open_account_store, open_octopus  # noqa: PLC0415

    _, number = settings.require_credentials()
    clock = process_clock()
    with open_account_store(settings, clock) as store:
        async with open_octopus(settings, store, clock) as octopus:
            for done in await refresh(octopus.clients, store, number, clock()):
                typer.echo(
                    f"Refreshed {done.device_id}: {done.state}, {done.new} new, {done.updated} updated", err=True
                )


def push_after_cli_sync(settings: Settings) -> None:
    """After ``octoscope sync``: write what is new to InfluxDB when [influx] asks for it. A failure is one
    line and exit 1, saying the sync itself is kept."""
    if settings.influx is None or not settings.influx.push_after_sync:
        return
    from octoscope.outputs.influx import export_influx  # noqa: PLC0415
    from octoscope.outputs.influx_writer import InfluxError  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    try:
        with open_account_store(settings, process_clock()) as store:
            summary = export_influx(settings, store, clock=process_clock())
    except InfluxError as err:
        raise fail(f"synced, but not written to InfluxDB: {err}") from None
    typer.echo(f"Wrote {summary['total_points']} points to {summary['target']}", err=True)
