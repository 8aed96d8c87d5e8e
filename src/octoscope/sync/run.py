"""Doing the plan: fetch pages with bounded concurrency, upsert each page as it comes, keep count.

Each page is committed on its own (with its cursor), so a crash or a lasting outage loses nothing stored;
the next run plans from what the store holds and fetches only what is missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from octoscope.domain.models import Account, Charge
from octoscope.domain.uktime import from_epoch, iso_z
from octoscope.octopus.errors import NotFound, RequestRejected
from octoscope.octopus.policy import Meter
from octoscope.store.ports import RateWindow, StoreProtocol
from octoscope.sync.discovery import discover
from octoscope.sync.plan import ChargeTask, ConsumptionTask, Plan, StoredState, Window, make_plan, points_in_scope
from octoscope.sync.schedule import next_publication
from octoscope.sync.session import Clients

log = logging.getLogger(__name__)

RATES_FRESH_FOR = timedelta(seconds=300)  # the API's Cache-Control: max-age=300 on charge endpoints
HALF_HOURLY_KINDS = frozenset({"HalfHourlyTariff"})


@dataclass
class SeriesCount:
    new: int = 0
    updated: int = 0


@dataclass
class Progress:
    """Callbacks for a display: ``start(total_tasks)``, then ``advance(description)`` per task done."""

    start: Callable[[int], None] = lambda total: None
    advance: Callable[[str], None] = lambda description: None


@dataclass(frozen=True, slots=True)
class SeriesSynced:
    """One consumption series after a run: the rows it wrote, and what the store now holds."""

    rows_new: int
    rows_updated: int
    unit: str | None
    rows: int
    first_interval: datetime | None
    last_interval: datetime | None
    gaps: tuple[tuple[datetime, datetime], ...]

    def to_json(self) -> dict[str, object]:
        return {
            "rows_new": self.rows_new,
            "rows_updated": self.rows_updated,
            "unit": self.unit,
            "rows": self.rows,
            "first_interval": iso_z(self.first_interval) if self.first_interval else None,
            "last_interval": iso_z(self.last_interval) if self.last_interval else None,
            "gaps": [[iso_z(a), iso_z(b)] for a, b in self.gaps],
        }


@dataclass(frozen=True, slots=True)
class RowsWritten:
    new: int
    updated: int


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What a sync run did and what the store then held: ``sync --json`` prints it, the run log keeps it,
    the scheduler reports it (:meth:`to_json` is the one rendering, instants in UTC ``Z``)."""

    window: tuple[datetime, datetime]
    requests: Mapping[str, int]
    planned_requests: int
    retries: int
    problems: tuple[str, ...]
    series: Mapping[str, SeriesSynced]  # by series name, sorted
    charges: Mapping[str, RowsWritten]  # by "tariff/charge", sorted

    @property
    def rows_new(self) -> int:
        """New half-hours of consumption over every series."""
        return sum(s.rows_new for s in self.series.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "window": [iso_z(self.window[0]), iso_z(self.window[1])],
            "requests": dict(self.requests),
            "planned_requests": self.planned_requests,
            "retries": self.retries,
            "problems": list(self.problems),
            "series": {name: s.to_json() for name, s in self.series.items()},
            "charges": {k: {"rows_new": v.new, "rows_updated": v.updated} for k, v in self.charges.items()},
        }


@dataclass(frozen=True, slots=True)
class PlannedSync:
    """A dry run's answer: the plan, and the requests already made to read the account."""

    plan: Plan
    requests_for_discovery: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": True, "requests_for_discovery": dict(self.requests_for_discovery), **self.plan.describe()}


@dataclass
class SyncResult:
    plan: Plan
    series: dict[str, SeriesCount] = field(default_factory=dict)
    charges: dict[str, SeriesCount] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    problems: list[str] = field(default_factory=list)  # tasks that failed without stopping the run
    account: Account | None = None  # as the run found it: what comes after the sync works on its meter points

    def count(self, meter: Meter) -> None:
        """Take the work's requests and retries from its meter (called when the work ends, failed or not)."""
        self.requests = dict(meter.made)
        self.retries = meter.retries

    def planned(self) -> PlannedSync:
        return PlannedSync(self.plan, dict(self.requests))

    def summary(self, store: StoreProtocol) -> SyncSummary:
        """What the run did and what the store now holds, for ``--json`` and the run log."""
        series: dict[str, SeriesSynced] = {}
        for name in sorted({t.series for t in self.plan.consumption} | set(self.series)):
            count = self.series.get(name, SeriesCount())
            extent = store.series_extent(name)
            series[name] = SeriesSynced(
                rows_new=count.new,
                rows_updated=count.updated,
                unit=extent.unit if extent else None,
                rows=extent.rows if extent else 0,
                first_interval=extent.first if extent else None,
                last_interval=extent.last if extent else None,
                gaps=tuple(store.series_gaps(name)),
            )
        return SyncSummary(
            window=(self.plan.window.start, self.plan.window.end),
            requests=dict(self.requests),
            planned_requests=self.plan.requests,
            retries=self.retries,
            problems=tuple(self.problems),
            series=series,
            charges={k: RowsWritten(v.new, v.updated) for k, v in sorted(self.charges.items())},
        )


def stored_state(store: StoreProtocol, account: Account, now: datetime) -> StoredState:
    first: dict[str, datetime] = {}
    covered: dict[tuple[str, Charge], list[Window]] = {}
    half_hourly: set[str] = set()
    kinds = store.tariff_kinds()
    meters = store.meter_extents()
    for _, point in points_in_scope(account, past_properties=True, now=now):
        starts = [extent[0] for (series, _), extent in meters.items() if series == point.series]
        if starts:
            first[point.series] = min(starts)
        for agreement in point.agreements:
            code = agreement.tariff_code
            if kinds.get(code) in HALF_HOURLY_KINDS:
                half_hourly.add(code)
            for charge in agreement.tariff.charges:
                covered.setdefault((code, charge), []).extend(held_windows(store, code, charge, now))
    last = {key: extent[1] for key, extent in meters.items()}
    synced = {key: to for key, (_, to) in store.cursors().items()}
    return StoredState(last, synced, first, covered, frozenset(half_hourly))


def held_windows(store: StoreProtocol, code: str, charge: Charge, now: datetime) -> list[Window]:
    """The stretches of a price list that need no fetch at ``now``: a window fetched within the API's
    cache time counts whole, an older one only as far as it is settled (a window that settled nothing is
    no stretch at all: left in, it would split the gap around it into two requests)."""
    held = (
        Window(w.start, w.end if w.fresh_until > now else min(w.end, w.settled_to))
        for w in store.rate_windows(code, charge)
    )
    return [w for w in held if w.start < w.end]


def settled_until(task: ChargeTask, ends: list[datetime | None], now: datetime) -> datetime:
    """How far a fetched price window is settled for good: published prices never change, but only what
    was received is known. An open-ended record is certain only up to now (a change may be announced)."""
    if not ends:
        return task.start  # nothing received: nothing is known, however old the window
    if task.end <= now:
        return task.end  # a window wholly past: what was received is all there will be
    known = [e for e in ends if e is not None]
    if len(known) < len(ends):
        known.append(now)
    return min(task.end, max(task.start, *known))


class Runner:
    def __init__(self, clients: Clients, store: StoreProtocol, now: datetime, progress: Progress) -> None:
        self.clients = clients
        self.store = store
        self.now = now
        self.progress = progress
        # One writer thread: SQLite commits overlap the next download instead of stalling the event loop.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="octoscope-store")

    async def _write(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    async def consumption(self, task: ConsumptionTask, result: SyncResult) -> None:
        count = result.series.setdefault(task.series, SeriesCount())
        unit = task.unit or "unknown"  # never guessed: costs refuse a series whose unit is unknown
        async for page in self.clients.rest.consumption(task.fuel, task.point, task.serial, task.start, task.end):
            new, updated = await self._write(self.store.write_consumption, task.series, task.serial, unit, page.items)
            count.new += new
            count.updated += updated
        synced_at = from_epoch(self.clients.policy.clock())  # the process's clock, which the policy keeps
        await self._write(self.store.mark_synced, task.series, task.serial, task.end, synced_at)
        self.progress.advance(f"{task.series} {task.serial}")

    async def charge(self, task: ChargeTask, result: SyncResult) -> None:
        key = f"{task.tariff.code}/{task.charge}"
        count = result.charges.setdefault(key, SeriesCount())
        pages = self.clients.rest.charges(task.tariff, task.charge, task.start, task.end)
        ends: list[datetime | None] = []
        page = await anext(pages)
        while True:
            following = await anext(pages, None)  # one page ahead: the window is recorded with the last page
            ends.extend(r.valid_to for r in page.items)
            window = None
            if following is None:
                settled = settled_until(task, ends, self.now)
                open_ended = None in ends and task.end > self.now  # the current price (newest first or last)
                fresh = next_publication(self.now) if open_ended else self.now + RATES_FRESH_FOR
                window = RateWindow(task.start, task.end, settled, fresh)
            new, updated = await self._write(self.store.write_rates, task.tariff.code, task.charge, page.items, window)
            count.new += new
            count.updated += updated
            if following is None:
                break
            page = following
        self.progress.advance(key)

    async def guarded(self, job: Awaitable[None], what: str, result: SyncResult) -> None:
        """Run one task; a price list Octopus does not have (404, 400) is reported, not fatal to the run."""
        try:
            await job
        except (NotFound, RequestRejected) as err:
            log.warning("%s", err)
            result.problems.append(str(err))
            self.progress.advance(what)

    def close(self) -> None:
        self._writer.shutdown(wait=True)


async def run_sync(
    clients: Clients,
    store: StoreProtocol,
    number: str,
    *,
    start: datetime | None,
    end: datetime,
    now: datetime,
    reread_days: int = 3,
    concurrency: int = 4,
    past_properties: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    account_fresh_for: timedelta | None = None,
) -> SyncResult:
    """Discover the account, plan, and (unless ``dry_run``) fetch and store; returns what happened.
    ``account_fresh_for``: an account read from Octopus within this long is taken from the store (the
    scheduler reads it daily on its own, and at once when a sync finds a tariff it does not know)."""
    with clients.policy.meter() as meter:  # this run's requests, not those of others sharing the policy
        read = store.account_read_at(number)
        stored = store.load_account(number) if account_fresh_for is not None else None
        if stored is not None and read is not None and account_fresh_for is not None and now - read < account_fresh_for:
            account = stored
        else:
            account = await discover(clients, store, number, now)
        plan = make_plan(
            account,
            stored_state(store, account, now),
            start,
            end,
            now,
            reread_days,
            past_properties,
        )
        discovered: dict[str, int] = dict(meter.made)
        plan = Plan(plan.window, plan.consumption, plan.charges, {k: v for k, v in discovered.items() if v})
        result = SyncResult(plan, account=account)
        if dry_run:
            result.requests = discovered
            return result
        progress = progress or Progress()
        progress.start(len(plan.consumption) + len(plan.charges))
        runner = Runner(clients, store, now, progress)
        limit = asyncio.Semaphore(max(1, concurrency))

        async def bounded(job: Any) -> None:
            async with limit:
                await job

        try:
            async with asyncio.TaskGroup() as group:
                for ctask in plan.consumption:
                    group.create_task(bounded(runner.consumption(ctask, result)))
                for rtask in plan.charges:
                    what = f"{rtask.tariff.code}/{rtask.charge}"
                    group.create_task(bounded(runner.guarded(runner.charge(rtask, result), what, result)))
        except* Exception as failure:
            # The first error stops the run; everything committed so far stays.
            raise failure.exceptions[0] from None
        finally:
            runner.close()
            result.count(meter)
        return result
