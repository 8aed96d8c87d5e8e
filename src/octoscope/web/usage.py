"""``/api/usage``: consumption over any range with its price, half-hourly or in day, week or month bars."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from octoscope.domain.costs import Totals, bucketed
from octoscope.domain.periods import clip, label
from octoscope.domain.uktime import UK, from_epoch, local_date, local_midnight
from octoscope.services.costing import FuelName, half_hours, resolve_days
from octoscope.web.cache import StoreCache, cache_of, get_cache
from octoscope.web.deps import FromDay, LastDays, ToDay

router = APIRouter(tags=["usage"])

CacheDep = Annotated[StoreCache, Depends(get_cache)]
Resolution = Literal["auto", "halfhour", "day", "week", "month"]
HALF_HOURLY_DAYS = 31  # the longest range served half-hour by half-hour (1,488 points)


def auto_resolution(first: date, end: date) -> Literal["halfhour", "day", "week", "month"]:
    """What a chart of the range shows best: half-hours up to a fortnight, days up to about a year."""
    days = (end - first).days
    if days <= 14:
        return "halfhour"
    if days <= 400:
        return "day"
    return "week" if days <= 800 else "month"


def _money(value: float) -> float:
    return round(value, 4)


def _bucket_fields(fuel: FuelName, totals: Totals) -> dict[str, Any]:
    average = totals.average_p_per_kwh
    return {
        "kwh": round(totals.kwh, 3),
        "pence": _money(totals.energy_cost if fuel == "export" else totals.total),
        "energy_pence": _money(totals.energy_cost),
        "standing_charge_pence": _money(totals.standing_charge),
        "average_pence_per_kwh": None if average is None else round(average, 3),
        "partial": bool(totals.partial_days),
    }


@router.get(
    "/api/usage",
    summary="Consumption over a range with its price: half-hourly, or by day, week or month",
    response_description="Columns of equal length under `points`; `pence` is what it cost (export: earned);"
    " `totals.pence` includes the days' standing charges (up to today) and `totals.label` says which days",
)
async def usage(
    request: Request,
    from_: FromDay = None,
    to: ToDay = None,
    period: Annotated[
        str | None, Query(description="A month, YYYY-MM, a year, YYYY, or a named period: this-month, last-week, ...")
    ] = None,
    days: LastDays = None,
    fuel: Literal["electricity", "gas", "export"] = "electricity",
    resolution: Resolution = "auto",
) -> Response:
    # async, reading the app's state directly: an answer already worked out costs no thread hop.
    cache = cache_of(request.app)
    today = local_date(from_epoch(request.app.state.clock()))
    first, end = resolve_days(from_, to, period, days, today)
    chosen = auto_resolution(first, end) if resolution == "auto" else resolution
    if chosen == "halfhour" and (end - first).days > HALF_HOURLY_DAYS:
        raise HTTPException(400, f"half-hourly usage is served for at most {HALF_HOURLY_DAYS} days; ask for less")
    key = ("usage", first, end, fuel, chosen, today)
    payment_method = cache.settings.payment_method
    if chosen == "halfhour":
        return await cache.answer_async(key, lambda: _half_hourly(cache, payment_method, fuel, first, end, today))
    return await cache.answer_async(key, lambda: _bars(cache, fuel, first, end, chosen, today))


def _half_hourly(
    cache: StoreCache, payment_method: str, fuel: FuelName, first: date, end: date, today: date
) -> dict[str, Any]:
    """Each half-hour's energy and price; the totals, as every other total of a period, add each day's
    standing charge (the days up to today: ``domain.periods``)."""
    rows = half_hours(
        cache.store,
        cache.account(),
        fuel,
        local_midnight(first),
        local_midnight(end),
        payment_method=payment_method,
        settings=cache.settings.costs,
    )
    starts, kwh, prices, pence = [], [], [], []
    total_kwh = total_pence = priced = 0.0
    for at, value, price in rows:
        starts.append(at.astimezone(UK).isoformat())
        kwh.append(round(value, 4))
        prices.append(None if price is None else round(price, 4))
        cost = None if price is None else value * price
        pence.append(None if cost is None else _money(cost))
        total_kwh += value
        if cost is not None:
            total_pence += cost
            priced += value
    standing = 0.0
    last = clip(first, end, today)
    if fuel != "export" and first < last:
        standing = sum(t.standing_charge for t in cache.days(fuel, first, last, today).values())
    return {
        "fuel": fuel,
        "resolution": "halfhour",
        "from": first.isoformat(),
        "to": end.isoformat(),
        "unit": "kWh",
        "points": {"start": starts, "kwh": kwh, "pence_per_kwh": prices, "pence": pence},
        "totals": {
            "kwh": round(total_kwh, 3),
            "pence": _money(total_pence + standing),
            "energy_pence": _money(total_pence),
            "standing_charge_pence": _money(standing),
            "average_pence_per_kwh": round(total_pence / priced, 3) if priced else None,
            "half_hours": len(rows),
            "standing_included": fuel != "export",
            "label": label(first, last, fuel != "export"),
        },
    }


def _bars(cache: StoreCache, fuel: FuelName, first: date, end: date, by: str, today: date) -> dict[str, Any]:
    last = clip(first, end, today)
    days = cache.days(fuel, first, last, today) if first < last else {}
    report = bucketed(days, first, max(first, last), by)  # type: ignore[arg-type]
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "start",
            "end",
            "kwh",
            "pence",
            "energy_pence",
            "standing_charge_pence",
            "average_pence_per_kwh",
            "partial",
        )
    }
    for lo, hi, totals in report.buckets:
        columns["start"].append(lo.isoformat())
        columns["end"].append(hi.isoformat())
        for name, value in _bucket_fields(fuel, totals).items():
            columns[name].append(value)
    return {
        "fuel": fuel,
        "resolution": by,
        "from": first.isoformat(),
        "to": end.isoformat(),
        "unit": "kWh",
        "points": columns,
        "totals": {
            **_bucket_fields(fuel, report.totals),
            "partial_days": [d.isoformat() for d in report.totals.partial_days],
            "standing_included": fuel != "export",
            "label": label(first, max(first, last), fuel != "export"),
        },
    }
