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
import functools
import itertools
import operator
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from operator import itemgetter
from typing import Generic, Literal, NamedTuple, TypeVar, cast

from octoscope.domain.models import Agreement, Charge, Rate, TariffCode
from octoscope.domain.uktime import local_date, local_midnight

Rounding = Literal["exact", "billing"]
Bucket = Literal["day", "week", "month", "all"]
SMART_E7_NIGHT = (time(0, 30), time(7, 30))  # UTC, whatever the season: smart Economy 7 meters
VOLUME_CORRECTION = 1.02264
DEFAULT_CALORIFIC_VALUE = 39.5  # MJ/m³


def gas_kwh(m3: float, calorific_value: float = DEFAULT_CALORIFIC_VALUE) -> float:
    """m³ to kWh as bills do it: volume x correction for temperature and pressure x calorific value / 3.6."""
    return m3 * VOLUME_CORRECTION * calorific_value / 3.6


class EpochReadings(NamedTuple):
    """Half-hourly kWh as two columns: starts in UTC epoch seconds, in time order, and kWh. How a store hands
    over a year of readings without a datetime per half-hour; :func:`cost` takes it as it takes pairs."""

    starts: Sequence[float]
    kwh: Sequence[float]


def gas_kwh_many(m3: Sequence[float], calorific_value: float) -> list[float]:
    """:func:`gas_kwh` of each value, one calorific value for them all (a local day's)."""
    return [v * VOLUME_CORRECTION * calorific_value / 3.6 for v in m3]


class PriceColumns(NamedTuple):
    """One price list as parallel columns in time order, already for one payment method: how a store can
    hand over a year of Agile (17,520 records) without building a record object for each."""

    starts: list[datetime]
    ends: list[datetime | None]
    exc_vat: list[float]
    inc_vat: list[float]


class PriceSeconds(NamedTuple):
    """:class:`PriceColumns` with the instants in epoch seconds, as stored: what the cost engine compares.
    An instant made per record, only to be turned back into seconds, was most of reading a year of Agile."""

    starts: list[int]
    ends: list[int | None]  # None: the record has no end
    exc_vat: list[float]
    inc_vat: list[float]


def columns_of(rates: Sequence[Rate], payment_method: str) -> PriceColumns:
    """Records for the chosen method, with those that name none (Agile, Outgoing), as columns."""
    wanted = (None, payment_method)
    chosen = sorted((r for r in rates if r.payment_method in wanted), key=itemgetter(0))  # by valid_from
    return PriceColumns(
        [r.valid_from for r in chosen],
        [r.valid_to for r in chosen],
        [r.value_exc_vat for r in chosen],
        [r.value_inc_vat for r in chosen],
    )


class Prices:
    """One tariff's stored prices, ready for lookups by instant, for one payment method.

    A tariff that only has records for the other payment method has no price here, and its half-hours come
    out as missing, not guessed.
    """

    def __init__(self, unit_rates: dict[Charge, Sequence[Rate]], standing: Sequence[Rate], payment_method: str) -> None:
        self.unit = {c: _Lookup.of_columns(columns_of(rates, payment_method)) for c, rates in unit_rates.items()}
        self.standing = _Lookup.of_columns(columns_of(standing, payment_method))

    @classmethod
    def from_columns(cls, unit_rates: dict[Charge, PriceColumns], standing: PriceColumns) -> Prices:
        unit = {charge: _Lookup.of_columns(columns) for charge, columns in unit_rates.items()}
        return cls._of(unit, _Lookup.of_columns(standing))

    @classmethod
    def from_seconds(cls, unit_rates: dict[Charge, PriceSeconds], standing: PriceSeconds) -> Prices:
        unit = {charge: _Lookup.of_seconds(columns) for charge, columns in unit_rates.items()}
        return cls._of(unit, _Lookup.of_seconds(standing))

    @classmethod
    def _of(cls, unit: dict[Charge, _Lookup], standing: _Lookup) -> Prices:
        prices = cls.__new__(cls)
        prices.unit, prices.standing = unit, standing
        return prices

    def overlapping(self, lo: int, hi: int) -> Prices:
        """Only the records overlapping [lo, hi) (epoch seconds) of each list: what a read of that window
        alone finds, so that prices read once over a wider window answer exactly as that read would."""
        unit = {charge: lookup.overlapping(lo, hi) for charge, lookup in self.unit.items()}
        return Prices._of(unit, self.standing.overlapping(lo, hi))

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


Key = TypeVar("Key", datetime, float)  # a price list walked by instant, or by epoch second (the cost pass)


class _Lookup:
    """Price records of one list, in time order, as parallel lists for quick stepping. Starts and ends are
    epoch seconds (ints where whole, see :func:`_second`; infinity where a record has no end): the cost
    pass and the prices in force walk in seconds, and an instant given is compared as its seconds."""

    def __init__(self, starts: list[float], ends: list[float], exc: list[float], inc: list[float]) -> None:
        self._starts, self._ends, self.exc, self.inc = starts, ends, exc, inc

    @staticmethod
    def of_seconds(columns: PriceSeconds) -> _Lookup:
        starts, ends, exc, inc = columns
        if None in ends:  # usually no record, or only the last, is open-ended
            return _Lookup(cast("list[float]", starts), [_INF if e is None else e for e in ends], exc, inc)
        return _Lookup(cast("list[float]", starts), cast("list[float]", ends), exc, inc)

    @staticmethod
    def of_columns(columns: PriceColumns) -> _Lookup:
        starts = [_second(s.timestamp()) for s in columns.starts]
        ends = [_INF if e is None else _second(e.timestamp()) for e in columns.ends]
        return _Lookup(starts, ends, columns.exc_vat, columns.inc_vat)

    def seconds(self) -> list[float]:
        """The records' starts in epoch seconds."""
        return self._starts

    def end_seconds(self) -> list[float]:
        """The records' ends in epoch seconds (infinity for none)."""
        return self._ends

    def overlapping(self, lo: float, hi: float) -> _Lookup:
        """The records overlapping [lo, hi) in their order (itself where that is all of them)."""
        starts, ends = self._starts, self._ends
        stop = bisect.bisect_left(starts, hi)
        if self._ends_in_order():  # records that follow one another: those ending after lo are a run
            first = bisect.bisect_right(ends, lo, 0, stop)
            if first == 0 and stop == len(starts):
                return self
            return _Lookup(starts[first:stop], ends[first:stop], self.exc[first:stop], self.inc[first:stop])
        kept = [i for i in range(stop) if ends[i] > lo]
        return _Lookup(
            [starts[i] for i in kept], [ends[i] for i in kept], [self.exc[i] for i in kept], [self.inc[i] for i in kept]
        )

    def _ends_in_order(self) -> bool:
        held: bool | None = getattr(self, "_ordered", None)
        if held is None:
            ends = self._ends
            held = self._ordered = all(map(operator.le, ends, itertools.islice(ends, 1, None)))
        return held

    def levels(self, start: datetime, end: datetime, inc_vat: bool) -> list[float]:
        """The distinct prices in force at some point of [start, end), lowest first."""
        return self.levels_between(start.timestamp(), end.timestamp(), inc_vat)

    def levels_between(self, start: float, end: float, inc_vat: bool) -> list[float]:
        """:meth:`levels` of [start, end) in epoch seconds."""
        starts, ends = self._starts, self._ends
        lo = max(0, bisect.bisect_right(starts, start) - 1)
        hi = bisect.bisect_left(starts, end)
        values = self.inc if inc_vat else self.exc
        if hi - lo == 1:  # one record all day (a fixed price): no set to make
            return [values[lo]] if ends[lo] > start else []
        if self._ends_in_order():  # those of them ending after start are a run: its values' set made in C
            return sorted(set(values[bisect.bisect_right(ends, start, lo, hi) : hi]))
        return sorted({values[i] for i in range(lo, hi) if ends[i] > start})

    def at(self, instant: datetime, inc_vat: bool) -> float | None:
        seconds = instant.timestamp()
        i = bisect.bisect_right(self._starts, seconds) - 1
        if i < 0 or seconds >= self._ends[i]:
            return None
        return (self.inc if inc_vat else self.exc)[i]


class _Cursor(Generic[Key]):
    """Steps through a price list for instants that mostly come in time order: amortised O(1) a lookup. It
    finds the record, not a value, so that one walk reads the price exc and inc VAT together. Over epoch
    seconds (:meth:`of_seconds`), as the price list keeps them."""

    __slots__ = ("ends", "i", "last", "lookup", "starts")

    def __init__(self, lookup: _Lookup, starts: list[Key], ends: list[Key]) -> None:
        self.lookup = lookup
        self.starts: list[Key] = starts
        self.ends: list[Key] = ends  # a record without an end: infinity, so one comparison does
        self.i = -1
        self.last = len(starts) - 1

    @staticmethod
    def of_seconds(lookup: _Lookup) -> _Cursor[float]:
        return _Cursor(lookup, lookup.seconds(), lookup.end_seconds())

    def index(self, instant: Key) -> int:
        """The record in force at ``instant``, or -1."""
        starts, i = self.starts, self.i
        if i < 0 or instant < starts[i]:
            # first use, or out of order: look it up (a walk from the start of years of Agile is long)
            i = bisect.bisect_right(starts, instant) - 1
        while i < self.last and starts[i + 1] <= instant:
            i += 1
        self.i = i
        if i < 0 or instant >= self.ends[i]:
            return -1
        return i

    def at(self, instant: Key, inc_vat: bool) -> float | None:
        i = self.index(instant)
        return None if i < 0 else (self.lookup.inc if inc_vat else self.lookup.exc)[i]


@dataclass
class Totals:
    """Sums over a stretch of time; money in pence, unrounded."""

    kwh: float = 0.0
    priced_kwh: float = 0.0  # the kWh that found a price: what the average p/kWh divides by
    energy_cost: float = 0.0
    standing_charge: float = 0.0
    half_hours: int = 0
    m3: float = 0.0  # gas read in cubic metres, before conversion
    bands: dict[str, list[float]] = field(default_factory=dict)  # band -> [kWh, pence]
    partial_days: list[date] = field(default_factory=list)
    # Probable smart charging (Intelligent tariffs, no dispatch known): its kWh, their cost at the off-peak
    # price (in energy_cost) and what they would cost more at the price in force (the amount at stake).
    estimated_kwh: float = 0.0
    estimated_pence: float = 0.0
    at_stake: float = 0.0

    @property
    def total(self) -> float:
        return self.energy_cost + self.standing_charge

    @property
    def average_p_per_kwh(self) -> float | None:
        return self.energy_cost / self.priced_kwh if self.priced_kwh else None

    def add(self, other: Totals) -> None:
        self.kwh += other.kwh
        self.priced_kwh += other.priced_kwh
        self.energy_cost += other.energy_cost
        self.standing_charge += other.standing_charge
        self.half_hours += other.half_hours
        self.m3 += other.m3
        self.estimated_kwh += other.estimated_kwh
        self.estimated_pence += other.estimated_pence
        self.at_stake += other.at_stake
        if other.partial_days:
            self.partial_days = sorted(set(self.partial_days) | set(other.partial_days))
        bands = self.bands
        for band, (kwh, pence) in other.bands.items():
            mine = bands.get(band)
            if mine is None:
                bands[band] = [0.0 + kwh, 0.0 + pence]  # as added to a new [0.0, 0.0]
            else:
                mine[0] += kwh
                mine[1] += pence


class HalfHourCost(NamedTuple):
    """One half-hour as the cost engine priced it: what the CSV and InfluxDB exports write.

    ``rate`` is the p/kWh applied (a smart dispatch's off-peak price where it applied) and ``pence`` the
    energy cost (earnings, for export); both None where no price was found. ``band`` as in the totals."""

    start: datetime
    kwh: float
    tariff_code: str | None
    rate: float | None
    pence: float | None
    band: str | None


class HalfHourColumns:
    """The half-hours one side (exc or inc VAT) of the cost pass priced, in time order, as parallel columns:
    what a :class:`HalfHourCost` says of each, without an object or a datetime per half-hour. The cost pass
    fills them a whole day at a time where it costs the day a column at a time; the InfluxDB export formats a
    year of lines straight from them, and :meth:`rows` makes the HalfHourCosts for those that want them."""

    __slots__ = ("bands", "codes", "instants", "kwh", "pence", "rates", "starts")

    def __init__(self) -> None:
        self.starts: list[float] = []  # epoch seconds, as the readings gave them
        self.kwh: list[float] = []
        self.codes: list[str | None] = []
        self.rates: list[float | None] = []
        self.pence: list[float | None] = []
        self.bands: list[str | None] = []
        # the readings' own instants where they came as (instant, kWh) pairs: a HalfHourCost gives them back
        self.instants: list[datetime] | None = None

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self) -> list[HalfHourCost]:
        instants = map(_instant, self.starts) if self.instants is None else self.instants
        return list(map(HalfHourCost, instants, self.kwh, self.codes, self.rates, self.pence, self.bands))


@dataclass(frozen=True)
class CostReport:
    totals: Totals
    buckets: list[tuple[date, date, Totals]]  # [start, end) local dates
    days: dict[date, Totals]


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
        return next_month(start)
    return last


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass
class _InForce:
    """An agreement while the readings walk through it, with its tariff's prices."""

    start: datetime
    end: datetime | None
    tariff: TariffCode
    prices: Prices | None


class _Timeline:
    """The tariff in force at any instant, from the agreements (a switch may fall at any instant).

    Agreements are made to follow one another: where one starts before the previous one ends, the previous
    one ends there, so that every instant has at most one tariff whatever range is asked.
    """

    def __init__(self, agreements: Sequence[Agreement], prices: dict[str, Prices]) -> None:
        ordered = sorted(agreements, key=lambda a: a.valid_from)
        self.entries: list[_InForce] = []
        for i, a in enumerate(ordered):
            end = a.valid_to
            if i + 1 < len(ordered) and (end is None or end > ordered[i + 1].valid_from):
                end = ordered[i + 1].valid_from
            if end is not None and end <= a.valid_from:
                continue
            self.entries.append(_InForce(a.valid_from, end, a.tariff, prices.get(a.tariff_code)))
        self.starts = [e.start for e in self.entries]
        self.span = (self.entries[0].start, self.entries[-1].end) if self.entries else None

    def at(self, instant: datetime) -> _InForce | None:
        i = bisect.bisect_right(self.starts, instant) - 1
        if i < 0:
            return None
        entry = self.entries[i]
        return entry if entry.end is None or instant < entry.end else None

    def for_day(self, start: datetime, end: datetime) -> _InForce | None:
        """The agreement whose standing charge a local day pays: the one in force as the day begins, or, on
        the day an agreement begins part-way through, that one."""
        return self.at(start) or next((e for e in self.entries if start <= e.start < end), None)


def _night_seconds(night: tuple[time, time]) -> tuple[float, float]:
    """Economy 7's night as seconds of the UTC day, as :func:`_register` takes it."""
    return _second_of_day(night[0]), _second_of_day(night[1])


def _register(tariff: TariffCode, seconds: float, night: tuple[float, float]) -> Charge:
    """The register a half-hour starting at ``seconds`` (epoch) is charged on: Economy 7's by the UTC clock
    (``night`` from :func:`_night_seconds`), the one standard rate otherwise."""
    if tariff.registers != 2:
        return Charge.STANDARD
    return Charge.NIGHT if night[0] <= seconds % 86400 < night[1] else Charge.DAY


def cost(
    readings: Iterable[tuple[datetime, float]] | EpochReadings,
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    first_day: date,
    end_day: date,
    *,
    by: Bucket = "all",
    inc_vat: bool = True,
    rounding: Rounding = "exact",
    night: tuple[time, time] = SMART_E7_NIGHT,
    standing_charges: bool = True,
    dispatched: frozenset[datetime] | frozenset[int] = frozenset(),
    estimated: frozenset[datetime] | frozenset[int] = frozenset(),
    half_hours: list[HalfHourCost] | None = None,
    columns: HalfHourColumns | None = None,
) -> CostReport:
    """Cost the local days [first_day, end_day) of one series from its half-hourly kWh.

    ``readings`` are (half-hour start in UTC, kWh); ``prices`` maps tariff code to its prices. Only the
    stretch the agreements cover is costed. A day of it lacking a reading, a unit rate for a half-hour, or
    (with ``standing_charges``; export has none) its standing charge is listed in ``partial_days``: what is
    known of it is still counted, nothing missing is counted as zero.

    ``dispatched``: half-hour starts of Intelligent Octopus smart dispatches. Octopus charges those at the
    day's off-peak price even outside the off-peak window (boosts are not in it: they pay the normal rate).

    ``estimated``: half-hours of probable smart charging no known dispatch covers (see
    :func:`octoscope.domain.sessions.probable_smart_half_hours`): priced like a dispatch but counted in the
    totals' ``estimated_*`` and ``at_stake``; a half-hour in ``dispatched`` is never estimated.

    ``half_hours``: if given, each half-hour costed is appended to it, in time order, as it was priced;
    ``columns``: the same as columns, which cost less (no object or datetime per half-hour).

    One pass over the readings in time order, stepping through days, agreements and price lists alongside
    (a year is 17,520 half-hours: no per-reading search or time-zone arithmetic).
    """
    sinks = (columns,) if columns is not None else None if half_hours is None else (HalfHourColumns(),)
    (report,) = _cost_pass(
        readings, agreements, prices, first_day, end_day, by, (inc_vat,), rounding, night, standing_charges,
        dispatched, sinks, estimated,
    )  # fmt: skip
    if half_hours is not None and sinks is not None:
        half_hours.extend(sinks[0].rows())
    return report


def cost_exc_inc(
    readings: Iterable[tuple[datetime, float]] | EpochReadings,
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    first_day: date,
    end_day: date,
    *,
    by: Bucket = "all",
    rounding: Rounding = "exact",
    night: tuple[time, time] = SMART_E7_NIGHT,
    standing_charges: bool = True,
    dispatched: frozenset[datetime] | frozenset[int] = frozenset(),
    estimated: frozenset[datetime] | frozenset[int] = frozenset(),
    half_hours: tuple[list[HalfHourCost], list[HalfHourCost]] | None = None,
    columns: tuple[HalfHourColumns, HalfHourColumns] | None = None,
) -> tuple[CostReport, CostReport]:
    """:func:`cost` exc and inc VAT in one pass: the same as calling it twice, for little more than once
    (the walk through days, agreements and price records is shared; only the sums are kept twice).
    ``half_hours``: two lists, filled exc and inc VAT; ``columns``: the same as columns, which cost less."""
    sinks = columns
    if half_hours is not None and sinks is None:
        sinks = (HalfHourColumns(), HalfHourColumns())
    exc, inc = _cost_pass(
        readings, agreements, prices, first_day, end_day, by, (False, True), rounding, night, standing_charges,
        dispatched, sinks, estimated,
    )  # fmt: skip
    if half_hours is not None and sinks is not None:
        half_hours[0].extend(sinks[0].rows())
        half_hours[1].extend(sinks[1].rows())
    return exc, inc


def _columns(
    readings: Iterable[tuple[datetime, float]] | EpochReadings,
) -> tuple[Sequence[float], Sequence[float], Sequence[datetime] | None]:
    """Readings as (epoch seconds, kWh, their instants or None) in time order: columns are taken as they are,
    pairs sorted (stably: two readings of one half-hour both count, as they came)."""
    if isinstance(readings, EpochReadings):
        return readings.starts, readings.kwh, None
    ordered = sorted(readings, key=itemgetter(0))
    return [t.timestamp() for t, _ in ordered], [k for _, k in ordered], [t for t, _ in ordered]


def _seconds(instants: frozenset[datetime] | frozenset[int]) -> set[float]:
    """A set of half-hour starts as epoch seconds, whichever way they came."""
    return {t.timestamp() if isinstance(t, datetime) else t for t in instants}


def _cost_pass(
    readings: Iterable[tuple[datetime, float]] | EpochReadings,
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    first_day: date,
    end_day: date,
    by: Bucket,
    vats: tuple[bool, ...],
    rounding: Rounding,
    night: tuple[time, time],
    standing_charges: bool,
    dispatched: frozenset[datetime] | frozenset[int],
    sinks: Sequence[HalfHourColumns] | None,
    estimated: frozenset[datetime] | frozenset[int] = frozenset(),
) -> list[CostReport]:
    """The walk behind :func:`cost`, summing for each of ``vats`` (inc VAT or not) side by side.

    Instants are compared as epoch seconds (a float per half-hour, not a datetime), and the readings are
    walked a local day at a time: each day's slice is found by bisection at its precomputed midnights, and
    its sums are kept in locals until the day is done (added in the same order as one by one, so to the
    same float). ``sinks``: a :class:`HalfHourColumns` per side, each half-hour costed appended to it."""
    timeline = _Timeline(agreements, prices)
    sides = range(len(vats))
    days: list[dict[date, Totals]] = [{} for _ in vats]
    local_days = [first_day + timedelta(days=i) for i in range((end_day - first_day).days)]
    for held in days:
        for day in local_days:
            held[day] = Totals()
    instants = midnights(first_day, end_day)  # local midnights in UTC: the walk moves from day to day by comparison
    if timeline.span is None:
        return [bucketed(held, first_day, end_day, by) for held in days]
    starts, kwhs, given = _columns(readings)
    if sinks is not None and given is not None:
        for sink in sinks:
            sink.instants = []
    bounds = [_second(b.timestamp()) for b in instants]
    entries = timeline.entries
    entry_starts = [e.start.timestamp() for e in entries]
    entry_ends = [_INF if e.end is None else e.end.timestamp() for e in entries]
    covered_from, covered_to = entry_starts[0], entry_ends[-1]
    night_seconds = _night_seconds(night)
    smart = _seconds(dispatched) if dispatched else set()
    guessed = _seconds(estimated) if estimated else set()
    incomplete: set[date] = set()
    billing = rounding == "billing"
    agreement_index = -1
    current: _InForce | None = None
    current_from = current_to = 0.0
    cursors: dict[int, _Cursor[float]] = {}  # per price list, by id
    charge = Charge.STANDARD
    # What the half-hours of one (day, agreement, register) share, worked out when it changes: the price
    # list's cursor, and per side its prices, the day's levels (lowest first) and the band when it does not
    # depend on the price (one level, or Agile's many), else the band of each price met.
    key_day = key_agreement = -1
    key_charge: Charge | None = None
    cursor: _Cursor[float] | None = None
    c_starts: list[float] = []
    c_ends: list[float] = []
    c_last = c_i = -1
    side_values: list[list[float]] = [[] for _ in vats]
    side_low: list[float | None] = [None for _ in vats]
    side_levels: list[list[float]] = [[] for _ in vats]
    side_fixed: list[str | None] = [None for _ in vats]
    side_bands: list[dict[float, str]] = [{} for _ in vats]
    pos = bisect.bisect_left(starts, bounds[0])
    for index in range(len(local_days)):
        day_end = bounds[index + 1]
        stop = bisect.bisect_left(starts, day_end, pos)
        if stop == pos:
            continue
        totals = [held[local_days[index]] for held in days]
        if _whole_day(
            starts, kwhs, pos, stop, totals, entries, entry_starts, entry_ends, vats, billing, smart, guessed,
            instants[index], instants[index + 1], sinks, given,
        ):  # fmt: skip
            pos = stop
            continue
        day_kwh = day_priced = 0.0
        day_count = 0
        for j in range(pos, stop):
            start = starts[j]
            if start < covered_from or start >= covered_to:
                continue  # before the first agreement or after the last: not this series' to cost
            kwh = kwhs[j]
            day_kwh += kwh
            day_count += 1
            if current is None or start < current_from or start >= current_to:
                agreement_index = bisect.bisect_right(entry_starts, start) - 1
                current = entries[agreement_index] if agreement_index >= 0 else None
                if current is not None:
                    current_from, current_to = entry_starts[agreement_index], entry_ends[agreement_index]
                    if start >= current_to:
                        current = None
            found = -1
            if current is not None:
                charge = _register(current.tariff, start, night_seconds)
                if index != key_day or agreement_index != key_agreement or charge is not key_charge:
                    key_day, key_agreement, key_charge = index, agreement_index, charge
                    if cursor is not None:
                        cursor.i = c_i
                    lookup = current.prices.unit.get(charge) if current.prices is not None else None
                    if lookup is None:
                        cursor = None
                    else:
                        cursor = cursors.get(id(lookup))
                        if cursor is None:
                            cursor = cursors[id(lookup)] = _Cursor.of_seconds(lookup)
                        c_starts, c_ends, c_last, c_i = cursor.starts, cursor.ends, cursor.last, cursor.i
                        for k in sides:
                            side_values[k] = lookup.inc if vats[k] else lookup.exc
                            side_levels[k] = day_levels = lookup.levels(instants[index], instants[index + 1], vats[k])
                            side_low[k] = day_levels[0] if day_levels else None
                            side_fixed[k] = (
                                band_of(charge, 0.0, day_levels)
                                if charge is not Charge.STANDARD or not 2 <= len(day_levels) <= 3
                                else None
                            )
                            side_bands[k] = {}
                if cursor is not None:
                    # the record in force: amortised O(1) for half-hours in time order
                    i = c_i
                    if i < 0 or start < c_starts[i]:
                        i = bisect.bisect_right(c_starts, start) - 1
                    while i < c_last and c_starts[i + 1] <= start:
                        i += 1
                    c_i = i
                    if i >= 0 and start < c_ends[i]:
                        found = i
            if found < 0 or current is None:
                incomplete.add(local_days[index])
                if sinks is not None:
                    code = current.tariff.code if current else None
                    for sink in sinks:
                        _append(sink, start, kwh, code, None, None, None, given, j)
                continue
            day_priced += kwh
            rounded_kwh = _round(kwh, "0.01") if billing else kwh
            for k in sides:
                rate = side_values[k][found]
                low = side_low[k]
                name = side_fixed[k]
                t = totals[k]
                if low is not None and rate > low:
                    if smart and start in smart:
                        rate, name = low, "off-peak"  # a smart dispatch: the off-peak price, whatever the hour
                    elif guessed and start in guessed:
                        # A probable smart dispatch the history lacks: the off-peak price, and what is at stake.
                        at_rate = rounded_kwh * _round(rate, "0.01") if billing else kwh * rate
                        rate, name = low, "off-peak"
                        off = rounded_kwh * _round(rate, "0.01") if billing else kwh * rate
                        t.estimated_kwh += kwh
                        t.estimated_pence += off
                        t.at_stake += at_rate - off
                pence = rounded_kwh * _round(rate, "0.01") if billing else kwh * rate
                t.energy_cost += pence
                if name is None:
                    name = side_bands[k].get(rate)
                    if name is None:
                        name = side_bands[k][rate] = band_of(charge, rate, side_levels[k])
                band = t.bands.get(name)
                if band is None:
                    band = t.bands[name] = [0.0, 0.0]
                band[0] += kwh
                band[1] += pence
                if sinks is not None:
                    _append(sinks[k], start, kwh, current.tariff.code, rate, pence, name, given, j)
        pos = stop
        for t in totals:
            t.kwh, t.half_hours, t.priced_kwh = day_kwh, day_count, day_priced
    for i, local in enumerate(local_days):
        midnight, next_midnight = instants[i], instants[i + 1]
        # Only the part of the day the agreements cover is expected: a move-in at noon is not a gap.
        lo = max(midnight, timeline.span[0])
        hi = next_midnight if timeline.span[1] is None else min(next_midnight, timeline.span[1])
        if lo >= hi:
            continue
        whole = -((bounds[i] - bounds[i + 1]) // 1800) if lo == midnight and hi == next_midnight else None
        if days[0][local].half_hours < (_half_hours_from(midnight, lo, hi) if whole is None else whole):
            incomplete.add(local)
        if not standing_charges:
            continue
        entry = timeline.for_day(midnight, next_midnight)
        for k in sides:
            standing = None
            if entry is not None and entry.prices is not None:
                standing = entry.prices.standing_charge(max(midnight, entry.start), vats[k])
            if standing is None:
                incomplete.add(local)
            else:
                days[k][local].standing_charge = standing
    for local in sorted(incomplete):
        for held in days:
            held[local].partial_days.append(local)
    return [bucketed(held, first_day, end_day, by) for held in days]


_INF = float("inf")


def _append(
    sink: HalfHourColumns,
    start: float,
    kwh: float,
    code: str | None,
    rate: float | None,
    pence: float | None,
    band: str | None,
    given: Sequence[datetime] | None,
    j: int,
) -> None:
    """One half-hour as the walk priced it, onto the end of ``sink``'s columns."""
    sink.starts.append(start)
    sink.kwh.append(kwh)
    sink.codes.append(code)
    sink.rates.append(rate)
    sink.pence.append(pence)
    sink.bands.append(band)
    if sink.instants is not None and given is not None:
        sink.instants.append(given[j])


def _whole_day(
    starts: Sequence[float],
    kwhs: Sequence[float],
    pos: int,
    stop: int,
    totals: list[Totals],
    entries: list[_InForce],
    entry_starts: list[float],
    entry_ends: list[float],
    vats: tuple[bool, ...],
    billing: bool,
    smart: set[float],
    guessed: set[float],
    midnight: datetime,
    next_midnight: datetime,
    sinks: Sequence[HalfHourColumns] | None = None,
    given: Sequence[datetime] | None = None,
) -> bool:
    """The readings [pos, stop) of one local day costed a column at a time, where the day allows it: one
    agreement on one register, every half-hour priced. Otherwise False, and nothing is touched (the walk
    prices the day half-hour by half-hour). ``sinks``: each side's half-hours, as the walk would append them.

    The sums are the walk's, bit for bit: each added from 0.0 in time order, a band's over its own half-hours."""
    first, last = starts[pos], starts[stop - 1]
    e = bisect.bisect_right(entry_starts, first) - 1
    if e < 0 or last >= entry_ends[e]:
        return False  # not one agreement all day (or before the first: the walk leaves those out)
    entry = entries[e]
    if entry.tariff.registers == 2 or entry.prices is None:
        return False
    lookup = entry.prices.unit.get(Charge.STANDARD)
    if lookup is None:
        return False
    seconds = lookup.seconds()
    ends = lookup.end_seconds()
    part = starts[pos:stop]
    n = stop - pos
    i = bisect.bisect_right(seconds, first) - 1
    if i < 0:
        return False  # the first half-hour has no price: the day is partial, as the walk says
    runs: list[tuple[int, int, int]] = []  # (a, b, record): part[a:b] priced by one record
    records: range | None = None
    if (
        n > 1
        and i + n <= len(seconds)
        and seconds[i + n - 1] == last
        and seconds[i : i + n] == list(part)
        and (i + n == len(seconds) or seconds[i + n] > last)
        and all(map(operator.lt, part, part[1:]))
    ):
        # a record per half-hour, each starting at its half-hour (Agile): the next record, every time
        records = range(i, i + n)
        if not all(map(operator.lt, part, ends[i : i + n])):
            return False
    else:
        # Records that each last a stretch (one all day, or Go's two or three): the half-hours a record
        # prices are a run, found by one bisection each, not a search per half-hour.
        a, r, count = 0, i, len(seconds)
        while True:
            after = r + 1
            b = bisect.bisect_left(part, seconds[after], a) if after < count else n
            if part[b - 1] >= ends[r]:
                return False  # a half-hour without a price: the day is partial, as the walk says
            runs.append((a, b, r))
            if b == n:
                break
            a = b
            r = bisect.bisect_right(seconds, part[a], after) - 1
    special = bool(smart or guessed) and not (smart.isdisjoint(part) and guessed.isdisjoint(part))
    kws = kwhs[pos:stop]
    priced = _added(kws)
    code = entry.tariff.code
    # A record per half-hour from the day's midnight to the next (a whole day of Agile): the records in force
    # in the day are the half-hours' own, so its price levels are their distinct prices, as lookup.levels
    # finds them (in the same order, so the same floats), made in C from the rates the day already reads.
    day_lo, day_hi = midnight.timestamp(), next_midnight.timestamp()
    own = records is not None and first == day_lo and (i + n == len(seconds) or seconds[i + n] >= day_hi)
    for k, (t, inc_vat) in enumerate(zip(totals, vats, strict=True)):
        values = lookup.inc if inc_vat else lookup.exc
        rates = values[i : i + n] if records is not None else []  # records: range(i, i + n)
        levels = sorted(set(rates)) if own else lookup.levels_between(day_lo, day_hi, inc_vat)
        # the day's one band where it does not depend on the price, else per half-hour (Agile) or per run
        single = None if 2 <= len(levels) <= 3 else band_of(Charge.STANDARD, 0.0, levels)
        names: list[str] | None = None
        segments: list[tuple[int, int, str]] = []  # (a, b, band): part[a:b] in one band, in time order
        if records is not None:
            if single is None:
                named = {r: band_of(Charge.STANDARD, r, levels) for r in set(rates)}
                names = [named[r] for r in rates]
        else:
            for a, b, r in runs:
                rates += [values[r]] * (b - a)
            if single is None:
                segments = [(a, b, band_of(Charge.STANDARD, values[r], levels)) for a, b, r in runs]
        # 1: a smart dispatch, 2: probable smart charging, at the off-peak price where the price is higher
        changed: list[tuple[int, int]] = []
        if special and levels and max(rates) > levels[0]:
            low = levels[0]
            changed = [(j, 1 if part[j] in smart else 2) for j in _positions(part, smart, guessed) if rates[j] > low]
        estimated: list[int] = []
        if changed:
            estimated = [j for j, kind in changed if kind == 2]
            at_rates = _pence([kws[j] for j in estimated], [rates[j] for j in estimated], billing)
            for j, _ in changed:
                rates[j] = low
            if names is not None:
                for j, _ in changed:
                    names[j] = "off-peak"
            else:
                segments = _split([j for j, _ in changed], segments or [(0, n, str(single))], "off-peak")
        pence = _pence(kws, rates, billing)
        if sinks is not None:
            sink = sinks[k]
            sink.starts += part
            sink.kwh += kws
            sink.codes += [code] * n
            sink.rates += rates
            sink.pence += pence
            if names is not None:
                sink.bands += names
            elif segments:
                for a, b, name in segments:
                    sink.bands += [name] * (b - a)
            else:
                sink.bands += [single] * n
            if sink.instants is not None and given is not None:
                sink.instants += given[pos:stop]
        t.kwh, t.half_hours, t.priced_kwh = priced, n, priced
        t.energy_cost = _added(pence)
        if estimated:
            t.estimated_kwh = _added([kws[j] for j in estimated])
            off = [pence[j] for j in estimated]
            t.estimated_pence = _added(off)
            t.at_stake = _added(list(map(operator.sub, at_rates, off)))
        if names is not None:
            if names.count(names[0]) == n:
                single = names[0]
            else:
                for name in dict.fromkeys(names):  # in the order first met, as the walk adds them
                    t.bands[name] = [
                        _added(itertools.compress(kws, map(name.__eq__, names))),
                        _added(itertools.compress(pence, map(name.__eq__, names))),
                    ]
                continue
        if segments and any(band != segments[0][2] for _, _, band in segments):
            for name in dict.fromkeys(band for _, _, band in segments):  # in the order first met, as the walk
                mine = [(a, b) for a, b, band in segments if band == name]
                t.bands[name] = [
                    _added(itertools.chain.from_iterable([kws[a:b] for a, b in mine])),
                    _added(itertools.chain.from_iterable([pence[a:b] for a, b in mine])),
                ]
            continue
        t.bands[segments[0][2] if segments else str(single)] = [priced, t.energy_cost]
    return True


def _split(at: list[int], segments: list[tuple[int, int, str]], band: str) -> list[tuple[int, int, str]]:
    """``segments`` with each position of ``at`` (in order) cut out into a segment of its own in ``band``."""
    out: list[tuple[int, int, str]] = []
    k = 0
    for a, b, name in segments:
        rest = a
        while k < len(at) and at[k] < b:
            j = at[k]
            if j > rest:
                out.append((rest, j, name))
            out.append((j, j + 1, band))
            rest = j + 1
            k += 1
        if rest < b:
            out.append((rest, b, name))
    return out


def _positions(part: Sequence[float], smart: set[float], guessed: set[float]) -> list[int]:
    """The positions in ``part`` (time order) of the half-hours in ``smart`` or ``guessed``, in order: found
    by bisection from the few such half-hours, not by a look at each of the day's."""
    found = sorted(smart.intersection(part) | guessed.intersection(part))
    out: list[int] = []
    for s in found:
        a = bisect.bisect_left(part, s)
        out.extend(range(a, bisect.bisect_right(part, s, a)))  # a half-hour read twice counts twice
    return out


def _pence(kwhs: Sequence[float], rates: Sequence[float], billing: bool) -> list[float]:
    """Each half-hour's kWh x p/kWh, as the walk prices it (rounded first for billing)."""
    if billing:
        return [_round(k, "0.01") * _round(r, "0.01") for k, r in zip(kwhs, rates, strict=True)]
    return list(map(operator.mul, kwhs, rates))


if sys.version_info >= (3, 12):

    def running_sum(values: Iterable[float]) -> float:
        """0.0 plus each value in turn, in C: the float a running ``total += value`` reaches (``sum``
        compensates, from Python 3.12, and then differs in the last bit from what was always shown)."""
        return functools.reduce(operator.add, values, 0.0)

else:

    def running_sum(values: Iterable[float]) -> float:
        """0.0 plus each value in turn, in C: the float a running ``total += value`` reaches. Until Python
        3.12 (which made it compensate), ``sum`` from 0.0 does just that in a C double, five times as fast
        as ``functools.reduce``, which makes a float object of each partial sum."""
        return sum(values, 0.0)


_added = running_sum


def _second(seconds: float) -> float:
    """Epoch seconds as an int where whole (as the store's half-hour starts are): compared with the readings'
    starts by the thousand, an int against an int is the quick comparison."""
    return int(seconds) if seconds.is_integer() else seconds


@functools.lru_cache(maxsize=8192)
def _midnight(day: date) -> datetime:
    return local_midnight(day)


def midnights(first_day: date, last_day: date) -> list[datetime]:
    """The UTC instants of the local midnights that begin the days ``first_day`` to ``last_day``, both in (each
    worked out once per process: every meter point's costing of a range asks for the same)."""
    return [_midnight(first_day + timedelta(days=i)) for i in range((last_day - first_day).days + 1)]


def _second_of_day(at: time) -> float:
    return at.hour * 3600 + at.minute * 60 + at.second + at.microsecond / 1_000_000


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _half_hours_from(midnight: datetime, lo: datetime, hi: datetime) -> int:
    """How many half-hours of a day (counted from its midnight) start in [lo, hi)."""
    step = timedelta(minutes=30)
    first = midnight + -((midnight - lo) // step) * step  # the first half-hour start at or after lo
    return max(0, -((first - hi) // step))


def bucketed(days: dict[date, Totals], first_day: date, end_day: date, by: Bucket) -> CostReport:
    """Per-day totals summed into buckets over [first_day, end_day): days, Monday weeks or calendar
    months, the first and last clipped to the range."""
    overall = Totals()
    buckets: dict[date, Totals] = {}
    for day, totals in sorted(days.items()):
        overall.add(totals)
        if by != "all":
            buckets.setdefault(bucket_start(day, by), Totals()).add(totals)
    if by == "all":
        listed = [(first_day, end_day, overall)]
    else:
        listed = [(max(s, first_day), min(bucket_end(s, by, end_day), end_day), t) for s, t in sorted(buckets.items())]
    return CostReport(overall, listed, days)


def unit_rates(
    starts: Sequence[datetime],
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    *,
    inc_vat: bool = True,
    night: tuple[time, time] = SMART_E7_NIGHT,
    dispatched: frozenset[datetime] = frozenset(),
) -> list[float | None]:
    """The unit rate (p/kWh) each half-hour in ``starts`` (time order) is charged at, as :func:`cost` prices
    it: the tariff in force at its start, the register by the clock on Economy 7, a smart dispatch at the
    day's off-peak price. None where no price is known."""
    timeline = _Timeline(agreements, prices)
    night_seconds = _night_seconds(night)
    day_levels: dict[tuple[date, int], list[float]] = {}
    cursors: dict[int, _Cursor[float]] = {}  # per price list, by id
    out: list[float | None] = []
    for start in starts:
        entry = timeline.at(start)
        seconds = start.timestamp()
        cursor = None
        if entry is not None and entry.prices is not None:
            lookup = entry.prices.unit.get(_register(entry.tariff, seconds, night_seconds))
            if lookup is not None:
                cursor = cursors.get(id(lookup))
                if cursor is None:
                    cursor = cursors[id(lookup)] = _Cursor.of_seconds(lookup)
        rate = cursor.at(seconds, inc_vat) if cursor is not None else None
        if rate is not None and cursor is not None and dispatched and start in dispatched:
            day = local_date(start)
            key = (day, id(cursor))
            levels = day_levels.get(key)
            if levels is None:
                levels = day_levels[key] = cursor.lookup.levels(
                    local_midnight(day), local_midnight(day + timedelta(days=1)), inc_vat
                )
            if levels and rate > levels[0]:
                rate = levels[0]
        out.append(rate)
    return out


def prices_in_force(
    starts: Sequence[int],
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    *,
    night: tuple[time, time] = SMART_E7_NIGHT,
    dispatched: frozenset[int] = frozenset(),
) -> list[tuple[str, float, float] | None]:
    """For each half-hour in ``starts`` (epoch seconds, time order): the tariff code in force and its unit
    rate exc and inc VAT, as :func:`unit_rates` gives each; None where no price is known. ``dispatched``:
    smart dispatches' half-hours, in epoch seconds. :func:`in_force` as a tuple per half-hour."""
    found = in_force(starts, agreements, prices, night=night, dispatched=dispatched)
    return [None if c is None else (c, e, i) for c, e, i in zip(found.codes, found.exc, found.inc, strict=True)]


class InForce(NamedTuple):
    """The prices in force at some half-hours, as columns: the tariff code (None where no price is known, its
    rates then read 0.0) and the unit rate exc and inc VAT."""

    codes: list[str | None]
    exc: list[float]
    inc: list[float]


def in_force(
    starts: Sequence[int],
    agreements: Sequence[Agreement],
    prices: dict[str, Prices],
    *,
    night: tuple[time, time] = SMART_E7_NIGHT,
    dispatched: frozenset[int] = frozenset(),
) -> InForce:
    """:func:`prices_in_force` as columns, which copy the price lists' own values: no object is made per
    half-hour (a year of Agile is 17,520 of them). In seconds, as the cost pass works. An agreement on one
    register is priced a record at a time (:func:`_fill_in_force`), Economy 7 a half-hour at a time."""
    timeline = _Timeline(agreements, prices)
    night_seconds = _night_seconds(night)
    day_levels: dict[tuple[date, int, bool], list[float]] = {}

    def off_peak(start: int, lookup: _Lookup, inc_vat: bool, rate: float) -> float:
        day = local_date(_instant(start))
        key = (day, id(lookup), inc_vat)
        levels = day_levels.get(key)
        if levels is None:
            levels = day_levels[key] = lookup.levels(
                local_midnight(day), local_midnight(day + timedelta(days=1)), inc_vat
            )
        return levels[0] if levels and rate > levels[0] else rate

    count = len(starts)
    out = InForce([None] * count, [0.0] * count, [0.0] * count)
    codes, exc, inc = out
    for entry in timeline.entries:  # they follow one another: each prices the half-hours in its span
        lo = bisect.bisect_left(starts, entry.start.timestamp())
        hi = count if entry.end is None else bisect.bisect_left(starts, entry.end.timestamp(), lo)
        if lo == hi or entry.prices is None:
            continue
        code, unit = entry.tariff.code, entry.prices.unit
        on: dict[int, _Lookup] = {}  # the price list each half-hour was priced from, where dispatches need it
        if entry.tariff.registers != 2:
            lookup = unit.get(Charge.STANDARD)
            if lookup is None:
                continue
            _fill_in_force(out, starts, lo, hi, lookup, code)
            if dispatched:
                on = dict.fromkeys(range(lo, hi), lookup)
        else:
            cursors: dict[Charge, _Cursor[float]] = {c: _Cursor.of_seconds(x) for c, x in unit.items()}
            for j in range(lo, hi):
                start = starts[j]
                cursor = cursors.get(_register(entry.tariff, start, night_seconds))
                i = cursor.index(start) if cursor is not None else -1
                if cursor is not None and i >= 0:
                    codes[j], exc[j], inc[j] = code, cursor.lookup.exc[i], cursor.lookup.inc[i]
                    on[j] = cursor.lookup
        for t in sorted(dispatched):  # a smart dispatch: the day's off-peak price, whatever the hour
            j = bisect.bisect_left(starts, t, lo, hi)
            while j < hi and starts[j] == t:
                if codes[j] is not None:
                    exc[j], inc[j] = off_peak(t, on[j], False, exc[j]), off_peak(t, on[j], True, inc[j])
                j += 1
    return out


def _fill_in_force(out: InForce, starts: Sequence[int], lo: int, hi: int, lookup: _Lookup, code: str) -> None:
    """Put in ``out[lo:hi]`` the price of ``lookup`` in force at each of ``starts[lo:hi]`` (the record started
    last at or before it, where it has not ended), a record at a time: the half-hours it prices are found
    by bisection. Where records are a half-hour each, each starting at its half-hour (Agile), a day of them
    is matched and copied at once."""
    seconds, ends, exc, inc = lookup.seconds(), lookup.end_seconds(), lookup.exc, lookup.inc
    codes, out_exc, out_inc = out
    count = len(seconds)
    r = -1
    j = lo
    while j < hi:
        t = starts[j]
        r = bisect.bisect_right(seconds, t, r + 1) - 1  # the record in force: at or after the last one
        after = seconds[r + 1] if r + 1 < count else _INF
        b = bisect.bisect_left(starts, after, j, hi)  # the half-hours before the next record starts
        if r < 0:
            j = b
            continue
        c = bisect.bisect_left(starts, ends[r], j, b)  # of those, the ones before this record ends
        if c == b == j + 1 and seconds[r] == t:
            m = min(hi - j, count - r, 48)
            day = list(starts[j : j + m])
            if (
                seconds[r : r + m] == day
                and (r + m == count or seconds[r + m] > day[-1])
                and all(map(operator.lt, day, day[1:]))
                and all(map(operator.lt, day, ends[r : r + m]))
            ):
                codes[j : j + m] = [code] * m
                out_exc[j : j + m] = exc[r : r + m]
                out_inc[j : j + m] = inc[r : r + m]
                r += m - 1
                j += m
                continue
        if c > j:
            codes[j:c] = [code] * (c - j)
            out_exc[j:c] = [exc[r]] * (c - j)
            out_inc[j:c] = [inc[r]] * (c - j)
        j = b


def standing_charges(
    agreements: Sequence[Agreement], prices: dict[str, Prices], days: Iterable[date]
) -> dict[date, tuple[float, float] | None]:
    """Each local day's standing charge exc and inc VAT, as :func:`cost` charges it; None where none is
    known, or the agreements do not cover the day."""
    timeline = _Timeline(agreements, prices)
    out: dict[date, tuple[float, float] | None] = {}
    for day in days:
        out[day] = None
        if timeline.span is None:
            continue
        midnight, next_midnight = local_midnight(day), local_midnight(day + timedelta(days=1))
        covered_from, covered_to = timeline.span
        lo = max(midnight, covered_from)
        hi = next_midnight if covered_to is None else min(next_midnight, covered_to)
        entry = timeline.for_day(midnight, next_midnight)
        if lo >= hi or entry is None or entry.prices is None:
            continue
        at = max(midnight, entry.start)
        exc, inc = entry.prices.standing_charge(at, False), entry.prices.standing_charge(at, True)
        out[day] = None if exc is None or inc is None else (exc, inc)
    return out
