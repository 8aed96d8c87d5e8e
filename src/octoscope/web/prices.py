"""``/api/prices`` and ``/api/cheapest``: the answers ``octoscope cheapest --json`` prints, and the current
tariff's prices per half-hour (the tariff comparison, which spends budget, is a job: ``compare``).

Prices and windows are read from the store only (the scheduler keeps prices ahead fresh with
:func:`octoscope.services.pricing.sync_prices_ahead`): a page open in many tabs asks Octopus nothing.

The models here only document the answers' shape in /docs: each route answers with its result's own
``to_json`` (the CLI's ``--json``), so that the bytes are the same whichever asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from octoscope.domain.uktime import from_epoch, parse_date
from octoscope.services.pricing import WindowQuery, cheapest, prices_view
from octoscope.web.deps import ClockDep, SettingsDep, StoreDep, TodayDep

__all__ = ["CheapestWindowsModel", "PriceReportModel", "router"]

router = APIRouter(tags=["prices"])


class HalfHourRateModel(BaseModel):
    start: datetime
    end: datetime
    pence_inc_vat: float
    pence_exc_vat: float


class CurrentRateModel(BaseModel):
    start: datetime
    end: datetime
    pence_inc_vat: float


class PriceReportModel(BaseModel):
    """A fuel's current tariff's unit rates per half-hour, p/kWh, and the half-hour in force now."""

    tariff: str
    product: str
    name: str = Field(description="The product's display name")
    fuel: Literal["electricity", "gas", "export"]
    rates: list[HalfHourRateModel]
    published_until: datetime | None = Field(description="Where the stored prices end; null: until further notice")
    now: CurrentRateModel | None


class SlotPriceModel(BaseModel):
    start: datetime
    pence_inc_vat: float


class CheapWindowModel(BaseModel):
    start: datetime
    end: datetime
    average_pence_per_kwh: float
    # Absent without a load, never null (the schema leaves the None out).
    cost_pence: float | SkipJsonSchema[None] = Field(
        None, description="Only with a load (kw): what it costs in this window"
    )
    kwh: float | SkipJsonSchema[None] = Field(
        None, description="Only with a load (kw): the energy it uses in this window"
    )
    slots: list[SlotPriceModel]


class CheapestWindowsModel(BaseModel):
    """The cheapest windows ahead on a tariff's prices, cheapest first (equal prices: the earliest)."""

    model_config = ConfigDict(populate_by_name=True)

    tariff: str
    product: str
    mode: Literal["contiguous", "any"]
    hours: float
    from_: datetime = Field(alias="from", description="The first half-hour searched")
    to: datetime = Field(description="The end of the last half-hour searched")
    published_until: datetime | None = Field(description="Where the stored prices end; null: until further notice")
    windows: list[CheapWindowModel]


@router.get(
    "/api/prices",
    summary="The current tariff's unit rates per half-hour, as far as published",
    response_model=PriceReportModel,
)
def prices(
    store: StoreDep,
    settings: SettingsDep,
    today: TodayDep,
    clock: ClockDep,
    from_: Annotated[str | None, Query(alias="from", description="First local day, YYYY-MM-DD (default today)")] = None,
    to: Annotated[
        str | None, Query(description="Day after the last, YYYY-MM-DD, exclusive (default: after tomorrow)")
    ] = None,
    fuel: Literal["electricity", "gas", "export"] = "electricity",
) -> JSONResponse:
    first = parse_date(from_, "--from") if from_ else today
    end = parse_date(to, "--to") if to else first + timedelta(days=2)
    return JSONResponse(prices_view(store, settings, first, end, fuel, from_epoch(clock())).to_json())


@router.get(
    "/api/cheapest",
    summary="The cheapest windows ahead on the current import tariff's prices",
    response_model=CheapestWindowsModel,
)
def cheapest_windows(
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    hours: Annotated[float, Query(description="Length in hours, half-hour steps")],
    after: Annotated[str | None, Query(description="Start at or after, HH:MM UK")] = None,
    before: Annotated[str | None, Query(description="Finish by, HH:MM UK")] = None,
    mode: Literal["contiguous", "any"] = "contiguous",
    top: int = 1,
    max_price: Annotated[float | None, Query(description="No half-hour dearer, p/kWh inc VAT")] = None,
    kw: Annotated[str | None, Query(description="Load: kW, or kW per half-hour comma-separated")] = None,
    tariff: Annotated[str | None, Query(description="A tariff code (default the current import tariff)")] = None,
) -> JSONResponse:
    query = WindowQuery(hours, after, before, mode, top, max_price, kw or None)
    return JSONResponse(cheapest(store, settings, query, from_epoch(clock()), tariff).to_json())
