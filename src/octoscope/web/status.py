"""``/api/status``: what the store holds per series (coverage and gaps), the scheduler's jobs with their last
and next runs, and the request budget used this hour."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from octoscope.domain.uktime import UK, from_epoch, local_date
from octoscope.services.costing import fuel_of
from octoscope.services.status import budget_used, coverage, key_id_of
from octoscope.sync import DISPATCH_LEDGER as LEDGER
from octoscope.sync import DISPATCHES_PER_HOUR as PER_HOUR
from octoscope.web.cache import StoreCache
from octoscope.web.deps import ClockDep, SettingsDep, StoreDep
from octoscope.web.usage import CacheDep

router = APIRouter(tags=["status"])

GAPS_LISTED = 50  # the longest gaps; the count and the missing half-hours cover all of them


def _iso(instant: datetime) -> str:
    return instant.astimezone(UK).isoformat()


def _coverage(cache: StoreCache, now: datetime) -> list[dict[str, Any]]:
    rows = coverage(cache.store, cache.account(), now, show=_iso, gaps_listed=GAPS_LISTED)
    fuels = {p.series: fuel_of(p) for prop in cache.account().properties for p in prop.meter_points}
    return [{**row, "fuel": fuels[row["series"]]} for row in rows]


@router.get("/api/status", summary="Coverage and gaps per series, the scheduler's jobs, the request budget used")
def status(
    request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep, cache: CacheDep
) -> dict[str, Any]:
    now = from_epoch(clock())
    # The stored part changes only when the store does; the jobs and the budget are read afresh.
    series = cache.memo(("status-series", local_date(now)), lambda: _coverage(cache, now))
    last = store.last_run()
    budget = None
    if settings.api_key is not None:
        limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour, LEDGER: PER_HOUR}
        budget = budget_used(store, key_id_of(settings.api_key), limits, clock())
    scheduler = getattr(request.app.state, "scheduler", None)
    return {
        "account": settings.require_account(),
        "now": _iso(now),
        "last_sync": None
        if last is None
        else {"started": _iso(last[0]), "finished": last[1] and _iso(last[1]), "outcome": last[2]},
        "budget_this_hour": budget,
        "scheduler": None if scheduler is None else {"jobs": scheduler.snapshot()},
        "series": series,
    }
