"""What energy cost, to the penny: pure functions over stored readings, agreements and prices.

No I/O and no clock. Instants are aware UTC datetimes; Europe/London only buckets them into local days,
weeks and months. A local day has 46, 48 or 50 half-hours and one standing charge.

Rounding, ``exact`` (the default) prices each half-hour as consumption x unit rate, unrounded. ``billing``
follows what Octopus's documentation and the community clients describe for bills: each half-hour's
consumption is rounded to 0.01 kWh and the unit rate to 0.01 p (both half to even) before multiplying;
money is rounded only in the total shown.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from octoscope.domain.models import Agreement, Charge, Rate, TariffCode
from octoscope.domain.uktime import local_midnight

Rounding = Literal["exact", "billing"]
Bucket = Literal["day", "week", "month", "all"]
SMART_E7_NIGHT = (time(0, 30), time(7, 30))  # UTC, whatever the season: smart Economy 7 meters
VOLUME_CORRECTION = 1.02264
DEFAULT_CALORIFIC_VALUE = 39.5  # MJ/m³


def gas_kwh(m3: float, calorific_value: float = DEFAULT_CALORIFIC_VALUE) -> float:
    """m³ to kWh as bills do it: volume x correction for temperature and pressure x calorific value / 3.6."""
    return m3 * VOLUME_CORRECTION * calorific_value / 3.6


class Prices:
    """One tariff's stored prices, ready for lookups by instant, for one payment method.

    Records for the chosen method are used, with those that name none (Agile, Outgoing); a tariff that only
    has records for the other method has no price here, and its half-hours come out as missing, not guessed.
    """

    def __init__(self, unit_rates: dict[Charge, Sequence[Rate]], standing: Sequence[Rate], payment_method: str) -> None:
        self.unit = {charge: _Lookup(rates, payment_method) for charge, rates in unit_rates.items()}
        self.standing = _Lookup(standing, payment_method)

    def unit_rate(self, charge: Charge, at: datetime, inc_vat: bool) -> float | None:
        lookup = self.unit.get(charge)
        return None if lookup is None else lookup.at(at, inc_vat)

    def standing_charge(self, at: datetime, inc_vat: bool) -> float | None:
        return self.standing.at(at, inc_vat)


def band_of(charge: Charge, rate: float, levels: list[float]) -> str:
    """Which band a half-hour's price is: day and night on Economy 7; on one register, off-peak and peak
    where the day has two or three price levels (Go, Intelligent Go, Cosy), ``half-hourly`` where it has
    more (Agile), ``standard`` where it has one. ``levels``: the day's distinct prices, lowest first."""
    if charge is not Charge.STANDARD:
        return charge.value
    if len(levels) <= 1:
        return "standard"
    if len(levels) > 3:
        return "half-hourly"
    if rate == levels[0]:
        return "off-peak"
    return "peak" if rate == levels[-1] else "standard"


class _Lookup:
    """Price records of one list, in time order, as parallel lists for quick stepping."""

    def __init__(self, rates: Sequence[Rate], payment_method: str) -> None:
        chosen = sorted((r for r in rates if r.payment_method in (None, payment_method)), key=lambda r: r.valid_from)
        self.starts = [r.valid_from for r in chosen]
        self.ends = [r.valid_to for r in chosen]
        self.inc = [r.value_inc_vat for r in chosen]
        self.exc = [r.value_exc_vat for r in chosen]

    def levels(self, start: datetime, end: datetime, inc_vat: bool) -> list[float]:
        """The distinct prices in force at some point of [start, end), lowest first."""
        lo = max(0, bisect.bisect_right(self.starts, start) - 1)
        hi = bisect.bisect_left(self.starts, end)
        values = self.inc if inc_vat else self.exc
        ends = self.ends
        return sorted({values[i] for i in range(lo, hi) if ends[i] is None or ends[i] > start})  # type: ignore[operator]

    def at(self, instant: datetime, inc_vat: bool) -> float | None:
        i = bisect.bisect_right(self.starts, instant) - 1
        if i < 0:
            return None
        end = self.ends[i]
        if end is not None and instant >= end:
            return None
        return (self.inc if inc_vat else self.exc)[i]


class _Cursor:
    """Steps through a price list for instants that mostly come in time order: amortised O(1) a lookup."""

    __slots__ = ("ends", "i", "last", "lookup", "starts", "values")

    def __init__(self, lookup: _Lookup, inc_vat: bool) -> None:
        self.lookup = lookup
        self.starts = lookup.starts
        self.ends = lookup.ends
        self.values = lookup.inc if inc_vat else lookup.exc
        self.i = -1
        self.last = len(self.starts) - 1

    def at(self, instant: datetime) -> float | None:
        starts, i = self.starts, self.i
        if i >= 0 and instant < starts[i]:
            i = bisect.bisect_right(starts, instant) - 1  # out of order: look it up
        while i < self.last and starts[i + 1] <= instant:
            i += 1
        self.i = i
        if i < 0:
            return None
        end = self.ends[i]
        if end is not None and instant >= end:
            return None
        return self.values[i]


@dataclass
class Totals:
    """Sums over a stretch of time; money in pence, unrounded."""

    kwh: float = 0.0
    energy_cost: float = 0.0
    standing_charge: float = 0.0
    half_hours: int = 0
    bands: dict[str, list[float]] = field(default_factory=dict)  # band -> [kWh, pence]
    partial_days: list[date] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.energy_cost + self.standing_charge

    @property
    def average_p_per_kwh(self) -> float | None:
        return self.energy_cost / self.kwh if self.kwh else None


@dataclass(frozen=True)
class CostReport:
    totals: Totals
    buckets: list[tuple[date, date, Totals]]  # [start, end) local dates


def _round(value: float, places: str) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_EVEN))


def bucket_start(day: date, by: Bucket) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())  # Monday, as the API groups weeks
    if by == "month":
        return day.replace(day=1)
    return day


def bucket_end(start: date, by: Bucket, last: date) -> date:
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    if by == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return last


class _Timeline:
    """The tariff in force at any instant, from the agreements (a switch may fall at any instant)."""

    def __init__(self, agreements: Sequence[Agreement], prices: dict[str, Prices]) -> None:
        ordered = sorted(agreements, key=lambda a: a.valid_from)
        self.starts = [a.valid_from for a in ordered]
        self.entries = [(a, a.tariff, prices.get(a.tariff_code)) for a in ordered]

    def at(self, instant: datetime) -> tuple[Agreement, TariffCode, Prices | None] | None:
        i = bisect.bisect_right(self.starts, instant) - 1
        if i < 0:
            return None
        entry = self.entries[i]
        valid_to = entry[0].valid_to
        return entry if valid_to is None or instant < valid_to else None

    def for_day(self, start: datetime, end: datetime) -> tuple[Agreement, TariffCode, Prices | None] | None:
        """The agreement whose standing charge a local day pays: the one in force as the day begins, or, on
        the day an agreement begins part-way through, that one."""
        return self.at(start) or next((e for e in self.entries if start <= e[0].valid_from < end), None)


def _charge_for(tariff: TariffCode, at: datetime, night: tuple[time, time]) -> Charge:
    if tariff.registers != 2:
        return Charge.STANDARD
    clock = at.time()  # ``at`` is UTC
    return Charge.NIGHT if night[0] <= clock < night[1] else Charge.DAY


@dataclass
class _InForce:
    """An agreement while the readings walk through it, with a cursor on each of its price lists."""

    start: datetime
    end: datetime | None
    tariff: TariffCode
    prices: Prices | None
    cursors: dict[Charge, _Cursor]


def cost(
    readings: Iterable[tuple[datetime, float]],
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    first_day: date,
    end_day: date,
    *,
    by: Bucket = "all",
    inc_vat: bool = True,
    rounding: Rounding = "exact",
    night: tuple[time, time] = SMART_E7_NIGHT,
) -> CostReport:
    """Cost the local days [first_day, end_day) of one series from its half-hourly kWh.

    ``readings`` are (half-hour start in UTC, kWh); ``prices`` maps tariff code to its prices. A day lacking
    a reading, a unit rate for a half-hour or its standing charge is listed in ``partial_days``; what is
    known of it is still counted, nothing missing is counted as zero cost.

    One pass over the readings in time order, stepping through days, agreements and price lists alongside
    (a year is 17,520 half-hours: no per-reading search or time-zone arithmetic).
    """
    timeline = _Timeline(agreements, prices)
    in_force = [
        _InForce(
            a.valid_from,
            a.valid_to,
            tariff,
            p,
            {c: _Cursor(lookup, inc_vat) for c, lookup in p.unit.items()} if p is not None else {},
        )
        for a, tariff, p in timeline.entries
    ]
    days: dict[date, Totals] = {}
    bounds: list[datetime] = []  # local midnights in UTC: the walk moves from day to day by comparison
    day = first_day
    while day <= end_day:
        if day < end_day:
            days[day] = Totals()
        bounds.append(local_midnight(day))
        day += timedelta(days=1)
    incomplete: set[date] = set()
    billing = rounding == "billing"
    levels: dict[tuple[int, int, Charge], list[float]] = {}
    index, agreement_index = -1, -1
    day_end = bounds[0]
    totals = Totals()
    current: _InForce | None = None
    for start, kwh in sorted(readings, key=lambda reading: reading[0]):
        if start >= day_end or index < 0:
            if start < bounds[0] or start >= bounds[-1]:
                continue  # outside [first_day, end_day)
            index = bisect.bisect_right(bounds, start) - 1
            day_end = bounds[index + 1]
            totals = days[first_day + timedelta(days=index)]
        totals.kwh += kwh
        totals.half_hours += 1
        if current is None or start < current.start or (current.end is not None and start >= current.end):
            agreement_index = bisect.bisect_right(timeline.starts, start) - 1
            current = in_force[agreement_index] if agreement_index >= 0 else None
            if current is not None and current.end is not None and start >= current.end:
                current = None
        rate = None
        if current is not None:
            charge = Charge.STANDARD if current.tariff.registers != 2 else _charge_for(current.tariff, start, night)
            cursor = current.cursors.get(charge)
            rate = cursor.at(start) if cursor is not None else None
        if rate is None or current is None:
            incomplete.add(first_day + timedelta(days=index))
            continue
        pence = _round(kwh, "0.01") * _round(rate, "0.01") if billing else kwh * rate
        totals.energy_cost += pence
        key = (index, agreement_index, charge)
        day_levels = levels.get(key)
        if day_levels is None:
            lookup = current.cursors[charge].lookup
            day_levels = levels[key] = lookup.levels(bounds[index], day_end, inc_vat)
        band = totals.bands.setdefault(band_of(charge, rate, day_levels), [0.0, 0.0])
        band[0] += kwh
        band[1] += pence
    for local, day_totals in days.items():
        i = (local - first_day).days
        midnight, next_midnight = bounds[i], bounds[i + 1]
        if day_totals.half_hours < int((next_midnight - midnight) / timedelta(minutes=30)):
            incomplete.add(local)
        entry = timeline.for_day(midnight, next_midnight)
        standing = None
        if entry is not None and entry[2] is not None:
            standing = entry[2].standing_charge(max(midnight, entry[0].valid_from), inc_vat)
        if standing is None:
            incomplete.add(local)
        else:
            day_totals.standing_charge = standing
    for local in sorted(incomplete):
        days[local].partial_days.append(local)
    return _bucketed(days, first_day, end_day, by)


def _add(into: Totals, part: Totals) -> None:
    into.kwh += part.kwh
    into.energy_cost += part.energy_cost
    into.standing_charge += part.standing_charge
    into.half_hours += part.half_hours
    into.partial_days.extend(part.partial_days)
    for band, (kwh, pence) in part.bands.items():
        mine = into.bands.setdefault(band, [0.0, 0.0])
        mine[0] += kwh
        mine[1] += pence


def _bucketed(days: dict[date, Totals], first_day: date, end_day: date, by: Bucket) -> CostReport:
    overall = Totals()
    buckets: dict[date, Totals] = {}
    for day, totals in sorted(days.items()):
        _add(overall, totals)
        if by != "all":
            _add(buckets.setdefault(bucket_start(day, by), Totals()), totals)
    if by == "all":
        listed = [(first_day, end_day, overall)]
    else:
        listed = [(max(s, first_day), min(bucket_end(s, by, end_day), end_day), t) for s, t in sorted(buckets.items())]
    return CostReport(overall, listed)
