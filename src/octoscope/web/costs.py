"""``/api/costs``: the same answer ``octoscope costs --json`` prints, kept until the store changes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from octoscope.domain.uktime import from_epoch, local_date
from octoscope.services.costing import costs_as_asked, resolve_days
from octoscope.web.cache import KeptFirstRoute, cache_of, request_key
from octoscope.web.deps import FromDay, LastDays, ToDay

router = APIRouter(tags=["costs"], route_class=KeptFirstRoute)


# The shape of the answer, for /docs only: the route answers with the bytes ``CostsReport.as_json`` gives,
# kept per store version, which no model re-validates (the tests check that the answers fit them).
class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BandOut(Out):
    kwh: float
    pence: float


class EstimatedOut(Out):
    kwh: float
    pence: float
    at_stake_pence: float = Field(description="What it would cost more if it was not smart charging")


class FiguresOut(Out):
    kwh: float
    m3: float | None = Field(None, description="Gas read in m³ (a SMETS2 meter) only, as stored")
    energy_cost_pence: float | None = Field(None, description="Not for export")
    standing_charge_pence: float | None = Field(None, description="Not for export")
    total_pence: float | None = Field(None, description="Energy and standing charges; not for export")
    earnings_pence: float | None = Field(None, description="Export only: what it earned")
    average_p_per_kwh: float | None
    bands: dict[str, BandOut] = Field(description="kWh and pence per rate band: peak, off-peak, ...")
    partial_days: list[date] = Field(description="Days with half-hours missing or unpriced")
    estimated_smart_charging: EstimatedOut | None = Field(
        None, description="EV charging before the dispatch history, costed at the off-peak price"
    )


class BucketOut(FiguresOut):
    from_: date = Field(alias="from")
    to: date = Field(description="Exclusive")


class FuelOut(FiguresOut):
    standing_included: bool
    label: str = Field(description="Which days the figures cover, and whether standing charges are in")
    buckets: list[BucketOut]


class CostsOut(Out):
    from_: date = Field(alias="from")
    to: date = Field(description="Exclusive")
    by: Literal["day", "week", "month"]
    inc_vat: bool
    rounding: Literal["exact", "billing"]
    payment_method: str
    electricity: FuelOut | None = Field(None, description="Each fuel asked for (all by default)")
    gas: FuelOut | None = None
    export: FuelOut | None = None
    net_pence: float = Field(description="Electricity and gas less what export earned")


@router.get("/api/costs", summary="What energy cost, per fuel, with buckets", response_model=CostsOut)
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
    # version and today, which ends the range) is its encoded bytes, with no thread hop and no costing; the
    # same query string again is answered before its parameters are even parsed (KeptFirstRoute).
    cache = cache_of(request.app)
    today = local_date(from_epoch(request.app.state.clock()))
    first, end = resolve_days(from_, to, period, days, today)
    key = ("costs", first, end, by, fuel, exc_vat, rounding, today)

    def compute() -> dict[str, object]:
        return costs_as_asked(
            cache.store, cache.settings, first, end, by=by, fuel=fuel, exc_vat=exc_vat, rounding=rounding, today=today
        ).as_json()

    return await cache.answer_async(key, compute, request_key(request))
