"""Doing the plan: fetch pages with bounded concurrency, upsert each page as it comes, keep count.

Each page is committed on its own (with its cursor), so a crash or a lasting outage loses nothing stored;
the next run plans from what the store holds and fetches only what is missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from octoscope.config import Settings
from octoscope.domain.models import Account, Charge
from octoscope.domain.uktime import iso_z
from octoscope.store.sqlite import RateWindow, Store
from octoscope.sync.discovery import discover
from octoscope.sync.plan import ChargeTask, ConsumptionTask, Plan, StoredState, Window, make_plan, points_in_scope
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


@dataclass
class SyncResult:
    plan: Plan
    series: dict[str, SeriesCount] = field(default_factory=dict)
    charges: dict[str, SeriesCount] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    retries: int = 0

    def summary(self, store: Store) -> dict[str, Any]:
        """What the run did and what the store now holds, for ``--json`` and the run log."""
        series: dict[str, Any] = {}
        for name in sorted({t.series for t in self.plan.consumption} | set(self.series)):
            count = self.series.get(name, SeriesCount())
            extent = store.series_extent(name)
            series[name] = {
                "rows_new": count.new,
                "rows_updated": count.updated,
                "unit": extent.unit if extent else None,
                "rows": extent.rows if extent else 0,
                "first_interval": iso_z(extent.first) if extent else None,
                "last_interval": iso_z(extent.last) if extent else None,
                "gaps": [[iso_z(a), iso_z(b)] for a, b in store.series_gaps(name)],
            }
        return {
            "window": [iso_z(self.plan.window.start), iso_z(self.plan.window.end)],
            "requests": dict(self.requests),
            "planned_requests": self.plan.requests,
            "retries": self.retries,
            "series": series,
            "charges": {k: {"rows_new": v.new, "rows_updated": v.updated} for k, v in sorted(self.charges.items())},
        }


def stored_state(store: Store, account: Account, now: datetime) -> StoredState:
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    covered: dict[tuple[str, Charge], list[Window]] = {}
    half_hourly: set[str] = set()
    kinds = store.tariff_kinds()
    for _, point in points_in_scope(account, past_properties=True):
        extent = store.series_extent(point.series)
        if extent is not None:
            first[point.series] = extent.first
            last[point.series] = extent.last
        for agreement in point.agreements:
            code = agreement.tariff_code
            if kinds.get(code) in HALF_HOURLY_KINDS:
                half_hourly.add(code)
            for charge in agreement.tariff.charges:
                windows = covered.setdefault((code, charge), [])
                for w in store.rate_windows(code, charge):
                    windows.append(Window(w.start, w.end if w.fresh_until > now else min(w.end, w.settled_to)))
    return StoredState(last, first, covered, frozenset(half_hourly))


class Runner:
    def __init__(self, clients: Clients, store: Store, settings: Settings, now: datetime, progress: Progress) -> None:
        self.clients = clients
        self.store = store
        self.settings = settings
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
            synced_to = page.items[-1].start + timedelta(minutes=30) if page.items else None
            new, updated = await self._write(
                self.store.write_consumption, task.series, task.serial, unit, page.items, synced_to
            )
            count.new += new
            count.updated += updated
        self.progress.advance(f"{task.series} {task.serial}")

    async def charge(self, task: ChargeTask, result: SyncResult) -> None:
        key = f"{task.tariff.code}/{task.charge}"
        count = result.charges.setdefault(key, SeriesCount())
        pages = self.clients.rest.charges(task.tariff, task.charge, task.start, task.end)
        latest_end = self.now
        page = await anext(pages)
        while True:
            following = await anext(pages, None)
            ends = [r.valid_to for r in page.items if r.valid_to is not None]
            latest_end = max([latest_end, *ends])
            window = None
            if following is None:
                # Published prices never change: what was out when fetched is settled for good.
                settled = min(task.end, latest_end)
                window = RateWindow(task.start, task.end, settled, self.now + RATES_FRESH_FOR)
            new, updated = await self._write(self.store.write_rates, task.tariff.code, task.charge, page.items, window)
            count.new += new
            count.updated += updated
            if following is None:
                break
            page = following
        self.progress.advance(key)

    def close(self) -> None:
        self._writer.shutdown(wait=True)


async def run_sync(
    clients: Clients,
    store: Store,
    settings: Settings,
    *,
    start: datetime | None,
    end: datetime,
    now: datetime | None = None,
    past_properties: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Discover the account, plan, and (unless ``dry_run``) fetch and store; returns what happened."""
    now = now or datetime.now(UTC)
    _, number = settings.require_credentials()
    before = dict(clients.policy.made)
    account = await discover(clients, store, number, now)
    plan = make_plan(
        account,
        stored_state(store, account, now),
        start,
        end,
        now,
        settings.sync.reread_days,
        past_properties,
    )
    discovered: dict[str, int] = {api: clients.policy.made[api] - before[api] for api in before}
    plan = Plan(plan.window, plan.consumption, plan.charges, {k: v for k, v in discovered.items() if v})
    result = SyncResult(plan)
    if dry_run:
        result.requests = discovered
        return result
    progress = progress or Progress()
    progress.start(len(plan.consumption) + len(plan.charges))
    runner = Runner(clients, store, settings, now, progress)
    limit = asyncio.Semaphore(max(1, settings.sync.concurrency))

    async def bounded(job: Any) -> None:
        async with limit:
            await job

    try:
        async with asyncio.TaskGroup() as group:
            for ctask in plan.consumption:
                group.create_task(bounded(runner.consumption(ctask, result)))
            for rtask in plan.charges:
                group.create_task(bounded(runner.charge(rtask, result)))
    except* Exception as failure:
        # The first error stops the run; everything committed so far stays.
        raise failure.exceptions[0] from None
    finally:
        runner.close()
        result.requests = {api: clients.policy.made[api] - before[api] for api in before}
        result.retries = clients.policy.retries
    return result
