"""``/api/prices`` and ``/api/cheapest``: the answers ``octoscope cheapest --json`` prints, and the current
tariff's prices per half-hour (the tariff comparison, which spends budget, is a job: ``compare``).

Prices and windows are read from the store only (the scheduler keeps prices ahead fresh with
:func:`octoscope.services.pricing.sync_prices_ahead`): a page open in many tabs asks Octopus nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from octoscope.domain.uktime import from_epoch, parse_date
from octoscope.services.pricing import WindowQuery, cheapest, prices_view
from octoscope.web.deps import ClockDep, SettingsDep, StoreDep, TodayDep

router = APIRouter(tags=["prices"])


@router.get("/api/prices", summary="The current tariff's unit rates per half-hour, as far as published")
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
) -> dict[str, Any]:
    first = parse_date(from_, "--from") if from_ else today
    end = parse_date(to, "--to") if to else first + timedelta(days=2)
    return prices_view(store, settings, first, end, fuel, from_epoch(clock()))


@router.get("/api/cheapest", summary="The cheapest windows ahead on the current import tariff's prices")
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
) -> dict[str, Any]:
    query = WindowQuery(hours, after, before, mode, top, max_price, kw or None)
    return cheapest(store, settings, query, from_epoch(clock()), tariff)
