"""``octoscope live``: the Home Mini's demand in the terminal, from the same poller and hub the server uses
(one poll a minute by default, every 10-second reading shown), with its cost at the rate in force."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope.cli.shell import fail, process_clock, read_settings, user_errors
from octoscope.errors import OctoscopeError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from octoscope.clock import Clock
    from octoscope.config import Settings
    from octoscope.domain.live import DayRates, LiveReading
    from octoscope.live.service import Feed

SPARKS = "▁▂▃▄▅▆▇█"
COLOURS = {"green": "green", "blue": "blue", "yellow": "yellow", "orange": "dark_orange", "red": "red"}
FIRST_POLL_WAIT = 60.0  # real seconds to wait for a first poll not yet scheduled


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` as at most ``width`` bars (neighbours averaged when there are more), scaled from the least
    to the most."""
    shown = list(values)
    if len(shown) > width > 0:
        per = -(-len(shown) // width)  # readings a bar
        shown = [sum(part) / len(part) for part in (shown[i : i + per] for i in range(0, len(shown), per))]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    if high - low < 1e-9:
        return SPARKS[0] * len(shown)
    top = len(SPARKS) - 1
    return "".join(SPARKS[round((v - low) / (high - low) * top)] for v in shown)


def _pence(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.1f}p" if abs(value) < 100 else f"£{value / 100:,.2f}"


@dataclass
class _View:
    minutes: int
    started_after: int  # readings after this id arrived while watching: the cost "since start"
    printed: int = -1  # plain output: the newest reading printed
    status_shown: tuple[str, str] = ("", "")
    since_start: list[float] = field(default_factory=list)


def _snapshot(feed: Feed, rates: DayRates | None, now: float, minutes: int) -> dict[str, Any]:
    from octoscope.domain.uktime import from_epoch  # noqa: PLC0415
    from octoscope.live import views  # noqa: PLC0415

    snapshot = views.dashboard(feed, rates, from_epoch(now), minutes)
    snapshot["device_id"] = feed.device
    return snapshot


def _render(feed: Feed, snapshot: dict[str, Any], view: _View, width: int) -> RenderableType:
    from rich.console import Group  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    status, current, cost = snapshot["status"], snapshot["current"], snapshot["cost"]
    lines: list[Text] = [
        Text.assemble(
            ("Home Mini ", "bold"), (feed.device or "(none yet)", "bold"), "  ", (status["state"], "bold"), "  "
        ),
        Text(status["message"], style="dim"),
    ]
    if current is None:
        lines.append(Text("No reading yet.", style="bold"))
    else:
        colour = COLOURS[current["level"]]
        lines.append(
            Text.assemble(
                (f"{current['demand_w']:>7,.0f} W ", f"bold {colour}"),
                (f" {current['level']} ", f"reverse {colour}"),
                f"  at {current['time'][11:19]}" + ("  (late)" if current["stale"] else ""),
            )
        )
        demand = [r["demand_w"] for r in snapshot["recent"]]
        stats = snapshot["stats"] or {}
        lines.append(
            Text.assemble(
                (sparkline(demand, width), COLOURS[current["level"]]),
                f"  last {view.minutes} min: peak {stats.get('demand_peak_kw', 0):.2f} kW,"
                f" least {stats.get('demand_min_kw', 0):.2f} kW, {stats.get('consumption_kwh', 0):.3f} kWh",
            )
        )
    rate = cost["rate_pence_per_kwh"]
    lines.append(
        Text(
            f"Rate {'?' if rate is None else f'{rate:.2f}'} p/kWh · now {_pence(cost['cost_per_hour_pence'])} an hour"
            f" · today ~{_pence(cost['projected_day_pence'])} · this month ~{_pence(cost['projected_month_pence'])}"
            f" · since start {_pence(sum(view.since_start))}"
        )
    )
    if status["next_poll_at"]:
        lines.append(Text(f"Next poll {status['next_poll_at'][11:19]}. Ctrl-C to stop.", style="dim"))
    return Group(*lines)


def _plain_lines(feed: Feed, view: _View) -> list[str]:
    """New readings and status changes as lines, for a pipe or a log."""
    out = []
    status = feed.status
    if (status.state, status.message) != view.status_shown:
        view.status_shown = (status.state, status.message)
        out.append(f"status {status.state}: {status.message}")
    from octoscope.domain.live import level  # noqa: PLC0415
    from octoscope.live.hub import local_iso  # noqa: PLC0415

    for reading in feed.hub.readings():
        if reading.id <= view.printed:
            continue
        view.printed = reading.id
        pence = "" if reading.pence is None else f"  {reading.pence:.4f}p"
        late = "  late" if reading.stale else ""
        out.append(
            f"{local_iso(reading.at)}  {reading.demand_w:7.0f} W  {level(reading.demand_w):<6}"
            f"  {reading.kwh:.4f} kWh{pence}{late}"
        )
    return out


def _collect(feed: Feed, view: _View, seen: set[int]) -> None:
    """Add to the cost since start what arrived since the last look."""
    fresh: list[LiveReading] = [r for r in feed.hub.readings() if r.id > view.started_after and r.id not in seen]
    for reading in fresh:
        seen.add(reading.id)
        if reading.pence is not None:
            view.since_start.append(reading.pence)


async def _watch(
    settings: Settings,
    clock: Clock,
    device: str | None,
    minutes: int,
    seconds: float | None,
    once: bool,
    as_json: bool,
) -> None:
    from octoscope.domain.uktime import from_epoch, local_date  # noqa: PLC0415
    from octoscope.wiring import (  # noqa: PLC0415
        configured_octopus,
        open_account_store,
        open_live,
    )

    # The terminal shows each batch as it comes (no play-out delay): a one-off view wants the newest reading.
    settings = replace(settings, live=replace(settings.live, playout=0.0))
    with open_account_store(settings, clock) as store:
        async with (
            configured_octopus(settings, store, clock) as octopus,
            open_live(settings, store, clock, octopus) as service,
        ):
            feed = service.feed(device)
            if once and await feed.recall(clock()):
                newest = feed.hub.newest
                assert newest is not None
                view = _View(minutes, newest.id, newest.id - 10)
                now = clock()
                rates = await _rates(service, feed, local_date(from_epoch(now)))
                _print_once(feed, _snapshot(feed, rates, now, minutes), view, as_json)
                return
            feed.eager = once
            async with service.watch(device) as sub:
                await _first_poll(feed, clock, once)
                newest = feed.hub.newest
                # What came before the first poll is history: not counted in the cost since start, not listed.
                view = _View(minutes, newest.id if newest else -1, newest.id - 10 if newest else -1)
                if once:
                    if feed.status.state in ("token_error", "no_device") and feed.hub.newest is None:
                        raise _LiveError(feed.status.message)  # nothing to show: say what to fix
                    now = clock()
                    rates = await _rates(service, feed, local_date(from_epoch(now)))
                    _print_once(feed, _snapshot(feed, rates, now, minutes), view, as_json)
                    return
                stop_at = None if seconds is None else clock.monotonic() + seconds
                if sys.stdout.isatty():
                    await _live_screen(service, clock, feed, sub, view, stop_at)
                else:
                    await _live_lines(clock, feed, sub, view, stop_at)


class _LiveError(OctoscopeError):
    """Something the user can fix, found while watching."""


async def _first_poll(feed: Feed, clock: Clock, once: bool = False) -> None:
    """Wait for the poller's first answer; if the live budget puts it a while off (other polls filled the
    hour), say when, or with ``once`` (which polls at once when the hour has room) stop and say so."""
    import asyncio  # noqa: PLC0415 (not on every command's start)

    told = False
    began = clock.monotonic()
    while not feed.polled.is_set():
        due = feed.status.next_poll_at
        if due is None and clock.monotonic() - began > FIRST_POLL_WAIT:
            return
        if once and due is not None and due - clock() > 5:
            when = feed.status.as_dict()["next_poll_at"][11:19]
            raise _LiveError(
                f"no recorded readings, and the live budget allows no poll before {when}: run it again then,"
                " or set [live] record = true so that `octoscope serve` keeps the last hour"
            )
        if due is not None and due - clock() > 5 and not told:
            told = True
            typer.echo(f"Waiting for the next poll, at {feed.status.as_dict()['next_poll_at'][11:19]}.", err=True)
        try:
            async with asyncio.timeout(1.0):
                await feed.polled.wait()
        except TimeoutError:
            continue


async def _rates(service: Any, feed: Feed, day: Any) -> DayRates | None:
    if feed.device is None:
        return None
    rates: DayRates | None = await service.day_rates(feed.device, day)
    return rates


def _print_once(feed: Feed, snapshot: dict[str, Any], view: _View, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(snapshot, indent=2, ensure_ascii=False))
        return
    from rich.console import Console  # noqa: PLC0415

    Console(highlight=False, soft_wrap=True).print(_render(feed, snapshot, view, 60))


def _remaining(clock: Clock, stop_at: float | None) -> float:
    return 1.0 if stop_at is None else max(0.0, min(1.0, stop_at - clock.monotonic()))


async def _live_screen(service: Any, clock: Clock, feed: Feed, sub: Any, view: _View, stop_at: float | None) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.live import Live  # noqa: PLC0415

    from octoscope.domain.uktime import from_epoch, local_date  # noqa: PLC0415

    console = Console(highlight=False)
    seen: set[int] = set()
    with Live(console=console, refresh_per_second=4, transient=False) as screen:
        while stop_at is None or clock.monotonic() < stop_at:
            await sub.next(_remaining(clock, stop_at))
            _collect(feed, view, seen)
            now = clock()
            rates = await _rates(service, feed, local_date(from_epoch(now)))
            snapshot = _snapshot(feed, rates, now, view.minutes)
            screen.update(_render(feed, snapshot, view, max(10, console.width - 60)))


async def _live_lines(clock: Clock, feed: Feed, sub: Any, view: _View, stop_at: float | None) -> None:
    while stop_at is None or clock.monotonic() < stop_at:
        await sub.next(_remaining(clock, stop_at))
        for line in _plain_lines(feed, view):
            typer.echo(line)


def live(
    device: Annotated[
        str | None, typer.Option(help="A smart meter's device id; default: the account's Home Mini.")
    ] = None,
    minutes: Annotated[int, typer.Option(help="Minutes the sparkline and the figures cover (1-60).")] = 10,
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Show one view after the first poll, then stop.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --once: print /api/live/dashboard's JSON.")] = False,
) -> None:
    """Watch your demand live from the Home Mini: watts and their level, a sparkline, and what it costs.

    One poll a minute ([live] calls_per_hour) fetches every 10-second reading since the last. Ctrl-C stops.

    Example: octoscope live --minutes 5
    """

    if not 1 <= minutes <= 60:
        raise fail(f"--minutes {minutes}: give 1 to 60")
    if seconds is not None and not (math.isfinite(seconds) and 0 < seconds <= 366 * 86400):
        raise fail(f"--seconds {seconds}: give a number of seconds above 0, at most a year")
    if as_json and not once:
        raise fail("--json goes with --once (the live view is for a terminal)")
    with user_errors():
        settings = read_settings()
        settings.require_credentials()
        try:
            import asyncio  # noqa: PLC0415 (not on every command's start)

            asyncio.run(_watch(settings, process_clock(), device, minutes, seconds, once, as_json))
        except KeyboardInterrupt:
            typer.echo("Stopped.", err=True)
