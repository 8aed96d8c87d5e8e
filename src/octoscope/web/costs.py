"""``/api/costs``: the same answer ``octoscope costs --json`` prints, kept until the store changes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from octoscope.domain.uktime import from_epoch, local_date
from octoscope.services.costing import costs_as_asked, resolve_days
from octoscope.web.cache import cache_of
from octoscope.web.deps import FromDay, LastDays, ToDay

router = APIRouter(tags=["costs"])


@router.get("/api/costs", summary="What energy cost, per fuel, with buckets")
async def costs(
    request: Request,
    from_: FromDay = None,
    to: ToDay = None,
    period: Annotated[
        str | None, Query(description="A month, YYYY-MM, a year, YYYY, or a named period: this-month, last-week, ...")
    ] = None,
    days: LastDays = None,
    by: Literal["day", "week", "month"] = "month",
    fuel: Literal["electricity", "gas", "export"] | None = None,
    exc_vat: bool = False,
    rounding: Literal["exact", "billing"] | None = None,
) -> Response:
    # async, reading the app's state directly, as /api/usage: an answer already worked out (per store
    # version and today, which ends the range) costs no thread hop and no costing.
    cache = cache_of(request.app)
    today = local_date(from_epoch(request.app.state.clock()))
    first, end = resolve_days(from_, to, period, days, today)
    key = ("costs", first, end, by, fuel, exc_vat, rounding, today)

    def compute() -> dict[str, object]:
        return costs_as_asked(
            cache.store, cache.settings, first, end, by=by, fuel=fuel, exc_vat=exc_vat, rounding=rounding, today=today
        )

    return await cache.answer_async(key, compute)
