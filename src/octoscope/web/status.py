"""``/api/status``: what the store holds per series (coverage and gaps), the scheduler's jobs with their last
and next runs, and the request budget used this hour.

The answer's shape is declared below (``StatusAnswer``, the response model) so that /docs shows it; the
values are the services' own renderings (``to_json``), instants in UK local time. Fields are declared in the
order they are sent: the model writes them in its own order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from octoscope.domain.uktime import UK, from_epoch, local_date
from octoscope.services.costing import fuel_of
from octoscope.services.status import budget_json, budget_used, coverage, key_id_of, last_run
from octoscope.sync import DISPATCH_LEDGER as LEDGER
from octoscope.sync import DISPATCHES_PER_HOUR as PER_HOUR
from octoscope.web.cache import StoreCache
from octoscope.web.deps import ClockDep, SettingsDep, StoreDep
from octoscope.web.usage import CacheDep

router = APIRouter(tags=["status"])

GAPS_LISTED = 50  # the longest gaps; the count and the missing half-hours cover all of them


class SeriesAnswer(BaseModel):
    series: str
    property: str
    current_property: bool
    unit: str | None
    rows: int
    first_interval: str | None
    last_interval: str | None
    coverage_pct: float | None
    gap_count: int
    missing_half_hours: int
    gaps: list[list[str]]  # [start, end) of the longest gaps, in time order
    last_sync: str | None
    fuel: str


class RunAnswer(BaseModel):
    started: str
    finished: str | None
    outcome: str


class UseAnswer(BaseModel):
    used: int
    limit: int


class JobRunAnswer(BaseModel):
    started: str
    finished: str | None
    outcome: Literal["running", "ok", "failed"]
    message: str


class JobAnswer(BaseModel):
    job: str
    what: str
    last_run: JobRunAnswer | None
    next_run: str | None
    due: bool
    why: str


class SchedulerAnswer(BaseModel):
    jobs: list[JobAnswer]


class StatusAnswer(BaseModel):
    account: str
    now: str
    last_sync: RunAnswer | None
    budget_this_hour: dict[str, UseAnswer] | None  # per ledger: rest, graphql, dispatches; None without a key
    scheduler: SchedulerAnswer | None  # None when this app schedules nothing
    series: list[SeriesAnswer]


def _iso(instant: datetime) -> str:
    return instant.astimezone(UK).isoformat()


def _coverage(cache: StoreCache, now: datetime) -> list[dict[str, object]]:
    rows = coverage(cache.store, cache.account(), now, gaps_listed=GAPS_LISTED)
    fuels = {p.series: fuel_of(p) for prop in cache.account().properties for p in prop.meter_points}
    return [{"series": row.series, **row.to_json(_iso), "fuel": fuels[row.series]} for row in rows]


@router.get(
    "/api/status",
    summary="Coverage and gaps per series, the scheduler's jobs, the request budget used",
    response_model=StatusAnswer,
)
def status(
    request: Request, store: StoreDep, settings: SettingsDep, clock: ClockDep, cache: CacheDep
) -> dict[str, Any]:
    now = from_epoch(clock())
    # The stored part changes only when the store does; the jobs and the budget are read afresh.
    series = cache.memo(("status-series", local_date(now)), lambda: _coverage(cache, now))
    last = last_run(store)
    budget = None
    if settings.api_key is not None:
        limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour, LEDGER: PER_HOUR}
        budget = budget_json(budget_used(store, key_id_of(settings.api_key), limits, clock()))
    scheduler = getattr(request.app.state, "scheduler", None)
    return {
        "account": settings.require_account(),
        "now": _iso(now),
        "last_sync": None if last is None else last.to_json(_iso),
        "budget_this_hour": budget,
        "scheduler": None if scheduler is None else {"jobs": [job.to_json() for job in scheduler.snapshot()]},
        "series": series,
    }
