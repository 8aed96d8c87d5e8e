"""``/api/status``: what the store holds per series (coverage and gaps), the scheduler's jobs with their last
and next runs, and the request budget used this hour."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from octoscope.costing import CostError, fuel_of
from octoscope.domain.uktime import UK, from_epoch, local_date
from octoscope.octopus.policy import WINDOW, key_fingerprint
from octoscope.sync.dispatches import LEDGER, PER_HOUR
from octoscope.web.cache import StoreCache
from octoscope.web.deps import ClockDep, SettingsDep, StoreDep
from octoscope.web.usage import CacheDep

router = APIRouter(tags=["status"])

GAPS_LISTED = 50  # the longest gaps; the count and the missing half-hours cover all of them


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UK).isoformat()


def coverage(cache: StoreCache, now: datetime) -> list[dict[str, Any]]:
    store = cache.store
    account = cache.account()
    cursors = store.cursors()
    out = []
    for prop in account.properties:
        for point in prop.meter_points:
            extent = store.series_extent(point.series)
            gaps = store.series_gaps(point.series)
            missing = sum(round((b - a) / timedelta(minutes=30)) for a, b in gaps)
            expected = extent.rows + missing if extent else 0
            synced = max((at for (name, _), (at, _) in cursors.items() if name == point.series), default=None)
            longest = sorted(gaps, key=lambda g: g[1] - g[0], reverse=True)[:GAPS_LISTED]
            out.append(
                {
                    "series": point.series,
                    "fuel": fuel_of(point),
                    "property": prop.id,
                    "current_property": prop.lived_in_at(now),
                    "unit": extent.unit if extent else point.unit,
                    "rows": extent.rows if extent else 0,
                    "first_interval": _iso(extent.first) if extent else None,
                    "last_interval": _iso(extent.last) if extent else None,
                    "coverage_pct": round(100 * extent.rows / expected, 3) if extent and expected else None,
                    "gap_count": len(gaps),
                    "missing_half_hours": missing,
                    "gaps": [[_iso(a), _iso(b)] for a, b in sorted(longest)],
                    "last_sync": _iso(synced),
                }
            )
    return out


@router.get("/api/status", summary="Coverage and gaps per series, the scheduler's jobs, the request budget used")
def status(
    request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep, cache: CacheDep
) -> dict[str, Any]:
    now = from_epoch(clock())
    # The stored part changes only when the store does; the jobs and the budget are read afresh.
    try:
        series = cache.memo(("status-series", local_date(now)), lambda: coverage(cache, now))
    except CostError as err:
        raise HTTPException(404, str(err)) from None
    last = store.last_run()
    budget = None
    if settings.api_key is not None:
        key_id = key_fingerprint(settings.api_key.reveal())
        since = time.time() - WINDOW  # the ledger is kept on the real clock
        limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour}
        limits[LEDGER] = PER_HOUR
        budget = {api: {"used": len(store.requests_since(key_id, api, since)), "limit": n} for api, n in limits.items()}
    scheduler = getattr(request.app.state, "scheduler", None)
    return {
        "account": settings.require_account(),
        "now": _iso(now),
        "last_sync": None
        if last is None
        else {"started": _iso(last[0]), "finished": _iso(last[1]), "outcome": last[2]},
        "budget_this_hour": budget,
        "scheduler": None if scheduler is None else {"jobs": scheduler.snapshot()},
        "series": series,
    }
