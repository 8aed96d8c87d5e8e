"""``/api/overview``: today, yesterday, this week, this month and last month per fuel, each against the period
before it up to the same point; the unit price now, the next cheap stretch, and how fresh the data is.

Periods are ``domain.periods``'s, under its one rule (the days of a running period end with today, each
with its standing charge; energy as far as the data goes), so that every figure here equals what the Costs
page, ``/api/costs`` and ``octoscope costs`` say for the same period. The period before is as many days
long, and its energy is cut at the same point as the data of the current one, so that like is compared
with like while Octopus has not published the last hours yet.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from octoscope.domain.costs import Totals
from octoscope.domain.models import Account, MeterPoint
from octoscope.domain.periods import Period, before, named, same_point
from octoscope.domain.uktime import UK, from_epoch, local_date, local_midnight
from octoscope.services.costing import FUELS, FuelName, fuel_of, prices_ahead
from octoscope.web.cache import StoreCache, cache_of

router = APIRouter(tags=["overview"])

HALF_HOUR = timedelta(minutes=30)
AHEAD = 72  # half-hours of prices looked through for the next cheap stretch (36 hours)
# (row name, named period): the names are the rows' data-period in the page
ROWS = (("today", "today"), ("yesterday", "yesterday"), ("week", "this-week"), ("month", "this-month"),
        ("last_month", "last-month"))  # fmt: skip


def _iso(instant: datetime) -> str:
    return instant.astimezone(UK).isoformat()


def _days(cache: StoreCache, fuel: FuelName, period: Period, today: date) -> Totals:
    """The period's whole days, each with its standing charge: what /api/costs says for it."""
    totals = Totals()
    for day_totals in cache.days(fuel, period.first, period.end, today).values():
        totals.add(day_totals)
    return totals


def _before(cache: StoreCache, fuel: FuelName, earlier: Period, point: datetime, today: date) -> Totals:
    """``earlier``'s days, with energy only up to ``point`` (the same point as the current period's data)
    and every day's standing charge, as the current period has."""
    totals = Totals()
    if point <= earlier.start:
        cut = earlier.first
    else:
        last = local_date(point - timedelta(microseconds=1))  # the day ``point`` falls in or ends
        for day_totals in cache.days(fuel, earlier.first, last, today).values():
            totals.add(day_totals)
        totals.add(
            cache.days(fuel, last, last + timedelta(days=1), today).get(last, Totals())
            if point >= local_midnight(last + timedelta(days=1))
            else cache.part_of_day(fuel, last, point)
        )
        cut = last + timedelta(days=1)
    for day_totals in cache.days(fuel, cut, earlier.end, today).values():
        totals.add(Totals(standing_charge=day_totals.standing_charge))
    return totals


def _money(fuel: FuelName, totals: Totals) -> float:
    return round(totals.energy_cost if fuel == "export" else totals.total, 2)


def _change(now: float, before: float) -> float | None:
    return None if not before else round((now - before) / before * 100, 1)


def _data_until(cache: StoreCache, points: list[MeterPoint]) -> datetime | None:
    ends = [e.last + HALF_HOUR for p in points if (e := cache.store.series_extent(p.series)) is not None]
    return max(ends) if ends else None


def _current_points(account: Account, now: datetime) -> list[MeterPoint]:
    return [p for prop in account.properties if prop.lived_in_at(now) for p in prop.meter_points]


def _prices(cache: StoreCache, points: list[MeterPoint], slot: datetime) -> dict[str, Any]:
    imports = [
        p
        for p in points
        if fuel_of(p) == "electricity" and any(a.overlaps(slot, slot + HALF_HOUR) for a in p.agreements)
    ]
    if not imports:
        return {"price_now": None, "next_cheap": None}
    point = imports[0]
    tariff = next(a.tariff_code for a in point.agreements if a.overlaps(slot, slot + HALF_HOUR))
    ahead = prices_ahead(
        cache.store, point, slot, AHEAD, payment_method=cache.settings.payment_method, settings=cache.settings.costs
    )
    known = []
    for at, rate in ahead:
        if rate is None:
            break
        known.append((at, rate))
    if not known:
        return {"price_now": {"tariff": tariff, "pence_per_kwh": None, "until": None}, "next_cheap": None}
    now_rate = known[0][1]
    until = next((at for at, rate in known if rate != now_rate), None)
    lowest = min(rate for _, rate in known)
    cheap = None
    if any(rate != lowest for _, rate in known):
        i = next(i for i, (_, rate) in enumerate(known) if rate == lowest)
        j = i
        while j + 1 < len(known) and known[j + 1][1] == lowest:
            j += 1
        cheap = {
            "from": _iso(known[i][0]),
            "to": _iso(known[j][0] + HALF_HOUR),
            "pence_per_kwh": round(lowest, 3),
            "now": i == 0,
        }
    return {
        "price_now": {
            "tariff": tariff,
            "pence_per_kwh": round(now_rate, 3),
            "until": _iso(until) if until else None,
            "known_until": _iso(known[-1][0] + HALF_HOUR),
        },
        "next_cheap": cheap,
    }


def overview_at(cache: StoreCache, now: datetime) -> dict[str, Any]:
    account: Account = cache.account()
    today = local_date(now)
    points = _current_points(account, now)
    fuels: dict[str, Any] = {}
    for fuel in FUELS:
        mine = [p for p in points if fuel_of(p) == fuel]
        if not mine:
            continue
        until = _data_until(cache, mine)
        # Where the data stops: the period before is cut at the same point. (The rule counts what is stored
        # for the days; a replay whose clock is set before stored data counts it too, on every page alike.)
        cut = until if until else local_midnight(today - timedelta(days=400))
        rows = []
        for row, name in ROWS:
            period = named(name, today)
            earlier = before(period)
            these = _days(cache, fuel, period, today)
            point = same_point(cut, period, earlier) if cut < period.stop else earlier.stop
            previous = _before(cache, fuel, earlier, point, today)
            read = these.half_hours > 0
            standing = fuel != "export"
            rows.append(
                {
                    "name": row,
                    "title": period.title,
                    "label": period.label(standing),
                    "standing_included": standing,
                    "from": _iso(period.start),
                    "to": _iso(period.stop),
                    "data_to": _iso(min(max(cut, period.start), period.stop)),
                    "kwh": round(these.kwh, 3) if read else None,
                    "pence": _money(fuel, these),
                    "half_hours": these.half_hours,
                    "partial": bool(these.partial_days),
                    "previous": {
                        "from": _iso(earlier.start),
                        "to": _iso(earlier.stop),
                        "data_to": _iso(point),
                        "label": earlier.label(standing),
                        "kwh": round(previous.kwh, 3),
                        "pence": _money(fuel, previous),
                    },
                    "change_pct": {
                        "kwh": _change(these.kwh, previous.kwh) if read else None,
                        "pence": _change(_money(fuel, these), _money(fuel, previous)),
                    },
                }
            )
        fuels[fuel] = {"data_until": _iso(until) if until else None, "periods": rows}
    slot = from_epoch(now.timestamp() // 1800 * 1800)
    last = cache.store.last_run()
    return {
        "now": _iso(now),
        "fuels": fuels,
        **_prices(cache, points, slot),
        "last_sync": None
        if last is None
        else {"started": _iso(last[0]), "finished": _iso(last[1]) if last[1] else None, "outcome": last[2]},
    }


@router.get(
    "/api/overview",
    summary="Today, yesterday, this week, this month and last month per fuel, against the period before",
)
async def overview(request: Request) -> Response:
    # Worked out once per half-hour (prices change on the half-hour) and per store version (data arrives);
    # async, so that an answer already worked out costs no thread hop.
    cache = cache_of(request.app)
    slot = int(request.app.state.clock() // 1800 * 1800)
    return await cache.answer_async(("overview", slot), lambda: overview_at(cache, from_epoch(slot)))
