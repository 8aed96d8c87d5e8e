"""``/api/overview``: today so far, yesterday, this week and this month per fuel, each against the period
before it up to the same point; the unit price now, the next cheap stretch, and how fresh the data is.

Periods run to the last half-hour stored (Octopus publishes a day's consumption the next morning), and the
previous period is cut at the same local time, so that like is compared with like.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from octoscope.domain.costs import Totals, next_month
from octoscope.domain.models import Account, MeterPoint
from octoscope.domain.uktime import UK, from_epoch, local_date, local_midnight
from octoscope.services.costing import FUELS, FuelName, fuel_of, prices_ahead
from octoscope.web.cache import StoreCache, cache_of

router = APIRouter(tags=["overview"])

HALF_HOUR = timedelta(minutes=30)
AHEAD = 72  # half-hours of prices looked through for the next cheap stretch (36 hours)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UK).isoformat()


def _same_point(end: datetime, first: date, previous_first: date, limit: date) -> datetime:
    """The instant as far into the period starting ``previous_first`` as ``end`` is into the one starting
    ``first`` (same number of local days, same local time of day), at most local midnight of ``limit``."""
    local = end.astimezone(UK)
    day = previous_first + (local.date() - first)
    if day >= limit:
        return local_midnight(limit)
    return datetime.combine(day, local.time(), tzinfo=UK).astimezone(UTC)


def periods(now: datetime, cut: datetime) -> list[tuple[str, str, datetime, datetime, datetime, datetime]]:
    """(name, label, start, end, previous start, previous end) for today, yesterday, this week, this month.

    Each runs from its start to ``cut`` (the data's end, at most now), and the previous one as far into its
    own period; a period ``cut`` has not reached yet is empty (start == end).
    """
    today = local_date(now)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    spans = [
        ("today", "Today so far", today, today + timedelta(days=1), today - timedelta(days=1)),
        ("yesterday", "Yesterday", today - timedelta(days=1), today, today - timedelta(days=2)),
        ("week", "This week", monday, today + timedelta(days=1), monday - timedelta(days=7)),
        ("month", "This month", first, next_month(first), (first - timedelta(days=1)).replace(day=1)),
    ]
    out = []
    for name, label, lo, hi, previous in spans:
        start = local_midnight(lo)
        end = max(start, min(local_midnight(hi), cut))
        prev_start = local_midnight(previous)
        prev_end = prev_start if end == start else _same_point(end, lo, previous, lo)
        out.append((name, label, start, end, prev_start, prev_end))
    return out


def _span(cache: StoreCache, fuel: FuelName, start: datetime, end: datetime, today: date) -> Totals:
    """Totals of [start, end): ``start`` a local midnight, ``end`` any instant."""
    totals = Totals()
    if end <= start:
        return totals
    last = local_date(end)
    for day_totals in cache.days(fuel, local_date(start), last, today).values():
        totals.add(day_totals)
    if end > local_midnight(last):
        totals.add(cache.part_of_day(fuel, last, end))
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
        cut = min(now, until) if until else local_midnight(today - timedelta(days=400))
        rows = []
        for name, label, start, end, prev_start, prev_end in periods(now, cut):
            these = _span(cache, fuel, start, end, today)
            before = _span(cache, fuel, prev_start, prev_end, today)
            empty = end <= start
            rows.append(
                {
                    "name": name,
                    "label": label,
                    "from": _iso(start),
                    "to": _iso(end),
                    "kwh": None if empty else round(these.kwh, 3),
                    "pence": None if empty else _money(fuel, these),
                    "half_hours": these.half_hours,
                    "partial": bool(these.partial_days) and not empty,
                    "previous": {
                        "from": _iso(prev_start),
                        "to": _iso(prev_end),
                        "kwh": round(before.kwh, 3),
                        "pence": _money(fuel, before),
                    },
                    "change_pct": None
                    if empty
                    else {
                        "kwh": _change(these.kwh, before.kwh),
                        "pence": _change(_money(fuel, these), _money(fuel, before)),
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


@router.get("/api/overview", summary="Today, yesterday, this week and this month per fuel, against the period before")
async def overview(request: Request) -> Response:
    # Worked out once per half-hour (prices change on the half-hour) and per store version (data arrives);
    # async, so that an answer already worked out costs no thread hop.
    cache = cache_of(request.app)
    slot = int(request.app.state.clock() // 1800 * 1800)
    return await cache.answer_async(("overview", slot), lambda: overview_at(cache, from_epoch(slot)))
