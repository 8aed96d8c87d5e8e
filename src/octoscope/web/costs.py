"""``/api/costs``: the same answer ``octoscope costs --json`` prints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from octoscope.services.costing import costs_as_asked, resolve_days
from octoscope.web.deps import FromDay, LastDays, SettingsDep, StoreDep, ToDay, TodayDep

router = APIRouter(tags=["costs"])


@router.get("/api/costs", summary="What energy cost, per fuel, with buckets")
def costs(
    store: StoreDep,
    settings: SettingsDep,
    today: TodayDep,
    from_: FromDay = None,
    to: ToDay = None,
    period: Annotated[str | None, Query(description="A month, YYYY-MM, or a year, YYYY")] = None,
    days: LastDays = None,
    by: Literal["day", "week", "month"] = "month",
    fuel: Literal["electricity", "gas", "export"] | None = None,
    exc_vat: bool = False,
    rounding: Literal["exact", "billing"] | None = None,
) -> dict[str, Any]:
    first, end = resolve_days(from_, to, period, days, today)
    return costs_as_asked(
        store, settings, first, end, by=by, fuel=fuel, exc_vat=exc_vat, rounding=rounding, today=today
    )
