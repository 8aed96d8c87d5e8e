"""What energy cost, from the local database: ``costs`` and the EV charging ``sessions``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from octoscope.cli.shell import (
    FromDay,
    LastDays,
    ToDay,
    echo_json,
    fail,
    pounds,
    process_clock,
    read_settings,
    require_database,
    user_errors,
)

if TYPE_CHECKING:
    from octoscope.services.cost_results import CostsReport

__all__ = ["costs", "sessions"]


def costs(
    from_: FromDay = None,
    to: ToDay = None,
    period: Annotated[
        str | None,
        typer.Option(help="A month (YYYY-MM), a year (YYYY), or this-week, this-month, last-month, this-year, ..."),
    ] = None,
    days: LastDays = None,
    by: Annotated[str, typer.Option(help="Buckets: day, week, month.")] = "month",
    fuel: Annotated[str | None, typer.Option(help="Only electricity, gas or export.")] = None,
    exc_vat: Annotated[bool, typer.Option("--exc-vat", help="Prices without VAT.")] = False,
    rounding: Annotated[str | None, typer.Option(help="exact (default) or billing.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What your energy cost, from the local database: per fuel, with standing charges, by day, week or month.

    A period still running ends with today, whose standing charge it includes (the rule every page and the
    API follow). Example: octoscope costs --period 2026-10 --by day; octoscope costs --period this-month
    """

    from octoscope.domain.uktime import local_date  # noqa: PLC0415
    from octoscope.services.costing import FUELS, costs_as_asked, resolve_days  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    if by not in ("day", "week", "month"):
        raise fail(f"--by {by!r}: write day, week or month")
    if fuel is not None and fuel not in FUELS:
        raise fail(f"--fuel {fuel!r}: write electricity, gas or export")
    if rounding is not None and rounding not in ("exact", "billing"):
        raise fail(f"--rounding {rounding!r}: write exact or billing")
    with user_errors():
        settings = read_settings()
        settings.require_account()  # fail early, before any work, if it is missing
        today = local_date(process_clock().now())
        first, end = resolve_days(from_, to, period, days, today)
        require_database(settings)
        with open_account_store(settings, process_clock()) as store:
            report = costs_as_asked(
                store,
                settings,
                first,
                end,
                by=by,  # type: ignore[arg-type]
                fuel=fuel,
                exc_vat=exc_vat,
                rounding=rounding,
                today=today,
            )
    if as_json:
        echo_json(report.as_json())
    else:
        _print_costs(report)


def _print_costs(report: CostsReport) -> None:
    vat = "inc VAT" if report.inc_vat else "exc VAT"
    typer.echo(f"Costs {report.first} to {report.end} (to exclusive), {vat}, rounding {report.rounding}")
    for data in report.fuels:
        fuel, whole = data.fuel, data.totals
        unit = f" ({whole.m3} m³)" if whole.m3 is not None else ""
        typer.echo(f"\n{fuel.capitalize()}: {whole.kwh} kWh{unit}")
        typer.echo(f"  {data.label}")
        header = f"  {'from':<12}{'kWh':>10}"
        header += f"{'earnings':>12}" if fuel == "export" else f"{'energy':>12}{'standing':>11}{'total':>12}"
        typer.echo(header + "  partial days")
        for first, b in [*((str(x.first), x.figures) for x in data.buckets), ("all", whole)]:
            line = f"  {first:<12}{b.kwh:>10.3f}"
            if fuel == "export":
                line += f"{pounds(b.earnings_pence):>12}"
            else:
                line += (
                    f"{pounds(b.energy_cost_pence):>12}{pounds(b.standing_charge_pence):>11}{pounds(b.total_pence):>12}"
                )
            partial = len(b.partial_days)
            typer.echo(line + (f"  {partial}" if partial else ""))
        if whole.average_p_per_kwh is not None:
            bands = ", ".join(f"{name} {v.kwh} kWh {pounds(v.pence)}" for name, v in whole.bands)
            typer.echo(f"  average {whole.average_p_per_kwh:.2f} p/kWh; {bands}")
        guess = whole.estimated
        if guess:
            typer.echo(
                f"  includes {pounds(guess.pence)} estimated smart charging (±{pounds(guess.at_stake_pence)}):"
                " EV charging before octoscope kept a dispatch history, at the off-peak price"
            )
    typer.echo(f"\nNet: {pounds(report.net_pence)}")


def sessions(
    from_: FromDay = None,
    to: ToDay = None,
    days: LastDays = None,
    charger_kw: Annotated[float | None, typer.Option(help="Your charger's power; estimated if not given.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """EV charging sessions found in your half-hourly consumption, on any tariff, each costed and matched with
    Intelligent Octopus dispatches.

    Example: octoscope sessions --days 14
    """
    from octoscope.domain.uktime import local_date  # noqa: PLC0415
    from octoscope.services.cost_results import sessions_json  # noqa: PLC0415
    from octoscope.services.costing import ev_sessions, resolve_days  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    if charger_kw is not None and not 1 <= charger_kw <= 50:
        raise fail(f"--charger-kw {charger_kw}: a home charger gives between 1 and 50 kW")
    with user_errors():
        settings = read_settings()
        settings.require_account()
        today = local_date(process_clock().now())
        first, end = resolve_days(from_, to, None, days, today)
        require_database(settings)
        with open_account_store(settings, process_clock()) as store:
            found = ev_sessions(store, settings, first, end, today=today, charger_kw=charger_kw)
    if as_json:
        echo_json(sessions_json(found))
        return
    if not found:
        typer.echo(f"No charging sessions from {first} to {end}.")
    for s in found:
        typer.echo(
            f"{s.start.isoformat()[:16]} to {s.end:%H:%M}  {s.kwh:6.2f} kWh  {pounds(s.cost_pence):>8}"
            f"  {s.average_pence_per_kwh or 0:5.2f} p/kWh  {s.dispatch}"
            + (f"  estimated (±{pounds(s.at_stake_pence)})" if s.estimated else "")
        )
