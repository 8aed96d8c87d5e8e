"""Prices: the cheapest time ahead (``cheapest``) and the tariff comparison (``compare``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope.cli.shell import (
    echo_json,
    pounds,
    process_clock,
    read_settings,
    require_database,
    sync_progress,
    user_errors,
)

if TYPE_CHECKING:
    from datetime import datetime

    from octoscope.config import Settings
    from octoscope.services.pricing_results import CheapestWindows, Comparison

__all__ = ["cheapest", "compare"]


def cheapest(
    hours: Annotated[float, typer.Option(help="How long, in hours (half-hour steps: 3, 1.5).")],
    after: Annotated[str | None, typer.Option(help="Start at or after this UK time, HH:MM.")] = None,
    before: Annotated[
        str | None, typer.Option(help="Finish by this UK time, HH:MM (the next day's if not after --after).")
    ] = None,
    contiguous: Annotated[
        bool, typer.Option("--contiguous/--any", help="One unbroken block, or the cheapest half-hours in any order.")
    ] = True,
    top: Annotated[int, typer.Option(help="How many windows that do not overlap, cheapest first.")] = 1,
    max_price: Annotated[float | None, typer.Option(help="No half-hour dearer than this, p/kWh inc VAT.")] = None,
    kw: Annotated[
        str | None, typer.Option(help="The load, to rank and cost by: kW (7), or per half-hour (7,7,3.5).")
    ] = (None),
    tariff: Annotated[str | None, typer.Option(help="A tariff code; default your current import tariff.")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the stored prices only; ask Octopus nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The cheapest time ahead to use power: on the prices published (today's, and tomorrow's from about
    16:00 UK), fetched first if not stored. Equal prices: the earliest window wins.

    Example: octoscope cheapest --hours 3 --after 18:00 --before 07:00 --kw 7
    """
    from octoscope.services.pricing import WindowQuery, cheapest, check_query  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    query = WindowQuery(hours, after, before, "contiguous" if contiguous else "any", top, max_price, kw)
    with user_errors():
        check_query(query)  # before any request
        settings = read_settings()
        if tariff is None:
            settings.require_account()
            require_database(settings)
        now = process_clock().now()
        with open_account_store(settings, process_clock()) as store:
            if not offline:
                import asyncio  # noqa: PLC0415 (not on every command's start)

                asyncio.run(_fetch_ahead(settings, store, tariff, now))
            found = cheapest(store, settings, query, now, tariff)
    if as_json:
        echo_json(found.to_json())
        return
    _print_windows(found)


async def _fetch_ahead(settings: Settings, store: Any, tariff: str | None, now: Any) -> None:
    from octoscope.services.pricing import tariff_to_search  # noqa: PLC0415
    from octoscope.sync import fetch_prices_ahead  # noqa: PLC0415
    from octoscope.wiring import open_octopus  # noqa: PLC0415

    code = tariff_to_search(store, settings, tariff, now).code
    async with open_octopus(settings, store, process_clock()) as octopus:
        result = await fetch_prices_ahead(octopus.clients, store, [code], now, concurrency=settings.sync.concurrency)
    for problem in result.problems:
        typer.echo(f"Warning: {problem}", err=True)


def _print_windows(found: CheapestWindows) -> None:
    from octoscope.domain.uktime import UK  # noqa: PLC0415

    def clock(instant: datetime) -> str:
        return instant.astimezone(UK).strftime("%a %d %b %H:%M")

    hours = f"{found.hours:g}"
    what = f"{hours} hours of half-hours in any order" if found.mode == "any" else f"{hours}-hour window"
    known = (
        f"prices published to {clock(found.published_until)}"
        if found.published_until
        else f"its price in force until further notice, looked at to {clock(found.searched_to)}"
    )
    typer.echo(f"Cheapest {what} on {found.tariff} ({known} UK):")
    for i, w in enumerate(found.windows, start=1):
        cost = f"  {pounds(w.cost.pence)} for {w.cost.kwh:g} kWh" if w.cost is not None else ""
        typer.echo(f"  {i}. {clock(w.start)} to {clock(w.end)[-5:]}  {w.average_pence_per_kwh:.2f} p/kWh{cost}")
        if found.mode == "any":
            for s in w.slots:
                typer.echo(f"       {clock(s.start)}  {s.pence_inc_vat:.2f} p/kWh")


def compare(
    months: Annotated[int, typer.Option(help="How many months back from your last whole day of readings.")] = 12,
    fuel: Annotated[str | None, typer.Option(help="Only electricity, gas or export.")] = None,
    region: Annotated[str | None, typer.Option(help="Region letter A-P, if it cannot be found.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Would another tariff have been cheaper? Your real half-hourly usage costed on every tariff in your
    region, standing charges included, at the prices published for those dates (fetched once, then kept).

    Example: octoscope compare --months 12
    """
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        settings.require_credentials()
        require_database(settings)
        clock = process_clock()
        # Progress on stderr, whatever stdout is (the first comparison over a year can take minutes).
        with open_account_store(settings, clock) as store, sync_progress(False) as progress:
            import asyncio  # noqa: PLC0415 (not on every command's start)

            report = asyncio.run(_compare(settings, store, clock, months, fuel, region, progress))
    if as_json:
        echo_json(report.to_json())
        return
    _print_comparison(report)


async def _compare(
    settings: Settings, store: Any, clock: Any, months: int, fuel: str | None, region: str | None, progress: Any
) -> Comparison:
    from octoscope.services.pricing import compare_tariffs  # noqa: PLC0415
    from octoscope.wiring import open_octopus  # noqa: PLC0415

    async with open_octopus(settings, store, clock) as octopus:
        return await compare_tariffs(
            settings, store, clock, octopus, months=months, fuel=fuel, region=region, progress=progress
        )


def _signed(pence: float) -> str:
    """A saving: +£4.95 cheaper, -£11.48 dearer."""
    return ("-" if pence < 0 else "+") + pounds(abs(pence))


def _marks(caveats: Iterable[str], notes: list[str]) -> str:
    """Footnote marks for ``caveats``, each note numbered once however many rows share it."""
    marks = ""
    for caveat in caveats:
        if caveat not in notes:
            notes.append(caveat)
        marks += f" [{notes.index(caveat) + 1}]"
    return marks


def _print_comparison(report: Comparison) -> None:
    region = report.region
    typer.echo(
        f"Tariff comparison {report.first} to {report.end} ({report.days} days, to exclusive), region"
        f" {region.letter} ({region.name}, from the {region.source}), VAT included"
    )
    notes: list[str] = []
    for now in report.current:
        fuel = now.fuel
        earned = fuel == "export"
        typer.echo(
            f"\n{fuel.capitalize()}: {now.kwh:,.0f} kWh; now on {now.name} ({now.tariff}):"
            f" {pounds(now.total_pence)}" + (" earned" if earned else "") + _marks(now.caveats, notes)
        )
        typer.echo(f"  {'tariff':<36}{'earned' if earned else 'total':>11}{'saving':>11}")
        for row in (r for r in report.tariffs if r.fuel == fuel):
            marks = _marks(row.caveats, notes)
            typer.echo(f"  {row.name[:35]:<36}{pounds(row.total_pence):>11}{_signed(row.saving_pence):>11}{marks}")
    typer.echo("")
    for i, note in enumerate(notes, start=1):
        typer.echo(f"[{i}] {note}")
    for caveat in report.caveats:
        typer.echo(f"Note: {caveat}")
