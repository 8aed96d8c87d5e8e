"""EV charging sessions found in half-hourly import consumption, for any tariff, with or without dispatch data.

Pure: no I/O, no clock. Instants are aware UTC datetimes; the time zone (Europe/London by default) only lines
half-hours up by local time of day, because a household's habits follow the wall clock.

How, in a few linear passes (a year of 17,520 half-hours takes well under a tenth of a second):

1. The household baseline of each half-hour comes from the same local time of day in the weeks around it
   (``window_days`` either side). First a low percentile, which the car cannot drag up even where it charges
   on most nights; then, with the charging found against it set aside (and found again against the better
   baseline), the mean (what the house draws then on average, oven and heat pump included, so that energy
   above it is unbiased), the median, and how far the house itself goes above its mean over two half-hours in
   a row at that time of day (showers at seven, cooking at six: an upper quantile and the spread below it).
2. The charger's power, given or estimated: the highest power step in the data that recurs and then holds
   flat for two whole half-hours (a heat pump's steps hold too, but lower; showers, kettles and ovens do not
   hold). ``DEFAULT_CHARGER_KW`` when the data cannot tell.
3. Charging. A half-hour is at power when it holds ``FULL_LEVEL`` of a whole half-hour at the charger's
   power above the household median, or above the low baseline next to a run of those (at dinner time the
   median holds an oven the house did not always run); a run of them, with the half-hour either side, is a
   piece of a session. A lone one counts only if, with a neighbour, it also stands above what the house does
   in an hour then. A charge under an hour may fill no half-hour at all: two half-hours in a row are a short
   charge when they hold far more than the house ever puts in two half-hours at that time of day, the house
   was quiet just before and after, and the car is seen at power at about that time of day on other days.
   Pieces whose pause between them (the half-hours between, less the charging they hold) is at most
   ``max_gap`` are one session: Octopus skips a slot between dispatches now and then. A session at power
   for at most ``SHORT_RUN`` half-hours, at a time of day when the house itself often goes far above its
   usual (``BUSY``: cooking, the showers) and when the car never holds at power for ``LONG_RUN`` half-hours
   or more on other days, is the house: two ovens at once draw more than a 3.6 kW charger for a whole
   half-hour, but for an hour at most, at dinner time. One-off top-ups by day stand where the house is quiet;
   a short charge at dinner time stands where the car charges at dinner time on other days.
4. Energy. A charger draws a constant power, so the half-hours a session fills hold the same energy: the
   charger's level, measured over every such half-hour of the series above the household median (an oven or
   a kettle in one of them does not move it; a session that clearly charged at another power keeps its own),
   and every half-hour charged throughout counts that, as does one at power at a session's edge unless its
   energy above the household mean is short of it by more than the house's own low side (the car stopped a
   few minutes early). The others, partly filled, count their energy above the household mean, capped at that
   level; where the house was off its usual on both sides of the session (a sunny afternoon against the
   export, a heat pump already running), the smaller of the two shifts moves their baseline. Sessions under
   ``min_kwh`` are dropped.
5. Dispatches, where given (Intelligent Octopus Go): they say when the car was told to charge. A half-hour a
   dispatch covers that holds some energy above the house's usual is charging, however short the charge (the
   tail of a plan that needed six minutes more). In a session that overlaps them, a half-hour counts the share
   of a whole one its dispatches cover (a boost from 18:07 holds 23/30 of one, whatever the oven drew then),
   less only where the energy above the house's usual is short of that by more than the house's own low side
   (the car was full before the dispatch ended); half-hours outside them count nothing unless at power (a
   dispatch the history lacks). ``min_kwh`` does not apply.

What half-hours cannot show: an appliance (or two) drawing about the charger's power for a whole half-hour
looks like a charge where the car also charges at that time of day, and a charge under half an hour looks like
an appliance where the house often does as much then; in a half-hour the car only partly fills, whatever else
the house drew then is indistinguishable from the car's share, unless a dispatch says how much of it the car
charged. Against the simulator's truth (bench/sessions.py, README), precision and recall reach 0.95 but the
largest energy error per session stays above 5 % wherever sessions have no dispatches: even an estimate that
knows which half-hours the car charged throughout and the household's true usual draw errs by more than 5 %
(up to 82 %) on the worst session of nearly every scenario, where an oven or a kettle ran in a short
session's first or last half-hour.

Exported energy can be passed too: a car charging while solar panels export draws part of its energy from the
panels, which the import alone cannot see and import - export can.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from octoscope.domain.costs import EpochReadings
from octoscope.domain.uktime import UK

SLOT_SECONDS = 1800
DEFAULT_CHARGER_KW = 7.0  # the usual UK home wallbox (32 A single phase); only where the data cannot tell
# The baseline: computed per block of days from the blocks within window_days; a low quantile first; all
# half-hours of the day pooled where one half-hour has fewer than MIN_DAYS values.
BLOCK_DAYS = 14
LOW_QUANTILE = 0.2
MIN_DAYS = 7
PASSES = 2  # baselines computed with the charging set aside (the first against the low quantile)
# Fractions of a whole half-hour at the charger's power.
FULL_LEVEL = 0.9  # above the household median: the half-hour charged throughout
SHORT_FLOOR = 0.3  # two half-hours of a short charge hold at least this
EDGE_LEVEL = 0.05  # the half-hour either side of a session holds some of it above this
# What the house itself does over two half-hours at a time of day: HOUSE_UPPER quantile + k x (that - median),
# k = SHORT_SPREAD for a short charge, SINGLE_SPREAD for a lone half-hour at power.
HOUSE_UPPER = 0.9
SHORT_SPREAD = 2.5
SINGLE_SPREAD = 0.5
QUIET = 0.35  # a short charge: the half-hour either side holds under this share of its energy
SEEN_WITHIN = 3  # half-hours either side of a short charge's time of day where the car must be seen charging
SEEN_DAYS = 2  # on at least this many other days
# A session at power for at most SHORT_RUN half-hours where the house's own HOUSE_UPPER tail holds BUSY of a whole
# half-hour is the house (ovens, showers) unless the car holds at power for LONG_RUN or more at that time of day.
SHORT_RUN = 2
BUSY = 0.4
LONG_RUN = 3
OWN_LEVEL = 0.15  # a session keeps its own level when it differs from the series' by more than this share
PAUSE_SLACK = 0.05  # hours of noise allowed on a pause against max_gap
_NAN = float("nan")
_HALF_HOUR = timedelta(minutes=30)


# What detect_sessions finds from the same inputs: bump it whenever that changes (its thresholds, its passes),
# so that sessions kept in the store under an older version are found again rather than used.
DETECTION_VERSION = 1


@dataclass(frozen=True)
class Session:
    """One charging session. ``start`` and ``end`` are aware UTC instants, placed inside the first and last
    half-hours from the energy they hold; ``kwh`` is the energy above the household baseline; ``charger_kw``
    the power it charged at; ``half_hours`` each half-hour's start and the kWh the car took in it, for costing
    at the rates in force."""

    start: datetime
    end: datetime
    kwh: float
    charger_kw: float
    half_hours: tuple[tuple[datetime, float], ...]

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def to_json(self) -> list[object]:
        """Compact plain data (instants in epoch seconds) that :meth:`from_json` turns back into an equal Session."""
        return [
            _seconds(self.start),
            _seconds(self.end),
            self.kwh,
            self.charger_kw,
            [[_seconds(t), kwh] for t, kwh in self.half_hours],
        ]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> Session:
        start, end, kwh, charger_kw, half_hours = row
        return cls(
            _from_seconds(start),
            _from_seconds(end),
            kwh,
            charger_kw,
            tuple((_from_seconds(t), v) for t, v in half_hours),
        )


def _seconds(at: datetime) -> int | float:
    # Detection places instants on whole seconds; a float would still round-trip through JSON's repr.
    t = at.timestamp()
    return int(t) if t.is_integer() else t


def _from_seconds(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def detect_sessions(
    readings: Sequence[tuple[datetime, float]] | EpochReadings,
    *,
    charger_kw: float | None = None,
    export: Sequence[tuple[datetime, float]] | EpochReadings | None = None,
    dispatches: Sequence[tuple[datetime, datetime]] | None = None,
    tz: tzinfo = UK,
    window_days: int = 14,
    max_gap: timedelta = _HALF_HOUR,
    min_kwh: float = 2.0,
) -> list[Session]:
    """EV charging sessions in one import series, oldest first.

    ``readings``: (half-hour start, kWh imported), in any order (time order is quickest), or the same as
    columns (``EpochReadings``, starts in epoch seconds: no datetime per half-hour); missing half-hours
    are allowed (a missing one inside a session counts as charging when both neighbours are at power).
    ``export``: the same property's export, where it has one. ``charger_kw``: the charger's power, which sets
    the thresholds (the energy of whole half-hours is measured from the data whatever it says); None
    estimates it from the data, which is safer than a wrong value: one much too high finds nothing.
    ``dispatches``: [start, end) intervals Octopus dispatched the car to charge in (Intelligent tariffs: smart
    slots and boosts, planned or completed; overlaps are fine): inside them the car draws the charger's power
    until it is full, so a half-hour they cover in part holds that part of a whole one, a session that overlaps
    them charges nowhere else but at power, and a charge they show counts whatever its size.
    ``max_gap``: pauses up to this long (the half-hours between two charges, less the time their energy takes
    at the charger's power) do not end a session. ``min_kwh``: smaller sessions are dropped, unless dispatches
    show them (by measurement: without dispatches, the simulator's sessions under 2 kWh were all the house, a
    washing machine and a kettle or two, over four draws of five households).
    ``window_days``: how far either side the baseline looks; a few days of history around a session are
    needed to tell the house from the car.
    """
    series = _series(readings, export, tz)
    if series is None:
        return []
    values = series.values
    gap_hours = max_gap.total_seconds() / 3600
    low = _low_baseline(series, window_days)
    if charger_kw is not None:
        full = charger_kw / 2
    else:
        full = _estimate_full([v - b for v, b in zip(values, low, strict=True)]) or DEFAULT_CHARGER_KW / 2
    cover = _cover(series, dispatches or ())
    found = _find(series, None, low, full, gap_hours, min_kwh, cover)
    for _ in range(PASSES):
        keep = [True] * len(values)
        for f in found:  # set each session aside with a half-hour either side
            for i in range(max(f.first - 1, 0), min(f.last + 2, len(values))):
                keep[i] = False
        base = _baseline(series, keep, window_days, low)
        found = _find(series, base, low, full, gap_hours, min_kwh, cover)
    sessions = []
    for f in found:
        slot = series.first + f.first
        lead = min(f.kwh[0] / f.kw, 0.5)  # hours charged in the first half-hour: at its end
        tail = min(f.kwh[-1] / f.kw, 0.5)  # and in the last: at its start
        start = _instant(slot + 1, -lead)
        end = _instant(series.first + f.last, tail)
        if f.first == f.last:
            start, end = _instant(slot, 0.0), _instant(slot, lead)
        half_hours = tuple((_instant(slot + k, 0.0), round(kwh, 3)) for k, kwh in enumerate(f.kwh))
        sessions.append(Session(start, end, round(math.fsum(f.kwh), 3), round(f.kw, 2), half_hours))
    return sessions


def estimate_charger_kw(
    readings: Sequence[tuple[datetime, float]] | EpochReadings,
    *,
    export: Sequence[tuple[datetime, float]] | None = None,
    tz: tzinfo = UK,
    window_days: int = 14,
) -> float | None:
    """The charger's power in kW as the half-hourly data shows it, or None when the data cannot tell: it needs
    four charges or more that fill two whole half-hours after the one they start in."""
    series = _series(readings, export, tz)
    if series is None:
        return None
    low = _low_baseline(series, window_days)
    full = _estimate_full([v - b for v, b in zip(series.values, low, strict=True)])
    return None if full is None else round(full * 2, 2)


def dispatch_history_from(starts: Iterable[datetime]) -> datetime | None:
    """Where the dispatch history kept begins: the start of the earliest dispatch ever stored (any device, any
    kind), given the stored dispatches' starts; None when none is stored.

    Octopus answers completed dispatches for about the last 12 hours only, so what happened before octoscope
    first asked is lost for good. The earliest dispatch stored is where the history certainly reaches: before
    it, the car may have been dispatched with nothing recorded. (It may reach a little earlier, to 12 hours
    before the first query that found nothing yet, but the store keeps no trace of such a query: a dispatch's
    ``seen_at`` is rewritten whenever the dispatch changes, so it cannot say when it was first seen either.)
    """
    return min(starts, default=None)


def probable_smart_half_hours(sessions: Iterable[Session], history_from: datetime | None) -> frozenset[datetime]:
    """The half-hours of probable smart charging no dispatch can be known for: those in which a session found
    in the consumption (:func:`detect_sessions`) took energy, starting before the dispatch history begins
    (``history_from``; None: no history at all, as for a tariff the household is not on).

    On an Intelligent tariff the car charges when Octopus dispatches it, and a dispatched half-hour is billed
    at the off-peak price whatever the hour; a charge outside the off-peak window with no dispatch history to
    say otherwise was most likely such a dispatch (a boost, at the normal price, is the exception nothing
    left can show). Where the history reaches, it is the record: a charge outside the window and outside any
    dispatch there is not in this set. The cost engine prices these half-hours at the off-peak price only
    where the price in force is higher (outside the window), and counts them as estimated; a half-hour a
    known dispatch covers is costed as dispatched, never estimated.
    """
    return frozenset(
        start
        for s in sessions
        for start, kwh in s.half_hours
        if kwh > 0 and (history_from is None or start < history_from)
    )


def match_by_overlap(
    found: Sequence[tuple[datetime, datetime]], known: Sequence[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    """Pairs (index in ``found``, index in ``known``) of [start, end) intervals that overlap in time, one to one,
    the longest overlaps first: detected sessions against true ones, or against dispatches."""
    order = sorted(range(len(known)), key=lambda j: known[j][0])
    starts = [known[j][0] for j in order]
    longest = max((end - start for start, end in known), default=timedelta(0))
    overlaps = []
    for i, (start, end) in enumerate(found):
        for k in range(bisect.bisect_left(starts, start - longest), bisect.bisect_left(starts, end)):
            j = order[k]
            overlap = min(end, known[j][1]) - max(start, known[j][0])
            if overlap > timedelta(0):
                overlaps.append((overlap, i, j))
    overlaps.sort(key=lambda o: (-o[0], o[1], o[2]))
    pairs: list[tuple[int, int]] = []
    taken_found: set[int] = set()
    taken_known: set[int] = set()
    for _, i, j in overlaps:
        if i not in taken_found and j not in taken_known:
            pairs.append((i, j))
            taken_found.add(i)
            taken_known.add(j)
    return sorted(pairs)


def _instant(slot: int, hours: float) -> datetime:
    return datetime.fromtimestamp(round(slot * SLOT_SECONDS + hours * 3600), UTC)


# --- the series ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    """A dense run of half-hours from ``first`` (a slot number: epoch seconds / 1800); missing ones are NaN."""

    first: int
    values: list[float]  # kWh, import less export
    tod: list[int]  # local half-hour of the day, 0-47 by the wall clock
    day: list[int]  # local day, counted from the first
    block: list[int]  # block of BLOCK_DAYS local days, counted from the first

    @functools.cached_property
    def keys(self) -> list[int]:
        """Each slot's (time of day, block) as one number, worked out once for every baseline."""
        blocks = self.block[-1] + 1
        return [tod * blocks + block for tod, block in zip(self.tod, self.block, strict=True)]


def _series(
    readings: Sequence[tuple[datetime, float]] | EpochReadings,
    export: Sequence[tuple[datetime, float]] | EpochReadings | None,
    tz: tzinfo,
) -> _Series | None:
    for series in (readings, export or ()):
        if series and not isinstance(series, EpochReadings) and series[0][0].tzinfo is None:
            raise ValueError(f"{series[0][0].isoformat()} has no UTC offset: readings start at aware instants")
    slots, kwhs = _slots(readings)
    if not slots:
        return None
    first = min(slots)
    if slots[-1] - slots[0] + 1 == len(slots) and all(map(operator.lt, slots, slots[1:])):
        values = list(kwhs)  # every half-hour there, in order (the usual case)
    else:
        values = [_NAN] * (max(slots) - first + 1)
        for slot, kwh in zip(slots, kwhs, strict=True):
            values[slot - first] = kwh
    if export:
        n = len(values)
        for slot, kwh in zip(*_slots(export), strict=True):
            if 0 <= slot - first < n:
                values[slot - first] -= kwh  # NaN stays NaN: an export reading says nothing of a missing import
    tod, day = _local_positions(first, len(values), tz)
    return _Series(first, values, tod, day, [d // BLOCK_DAYS for d in day])


def _slots(readings: Sequence[tuple[datetime, float]] | EpochReadings) -> tuple[list[int], Sequence[float]]:
    """Each reading's slot number, and its kWh. From columns, a division; from pairs, one half an hour after the
    reading before it is the next slot, found without converting its instant (the usual case, the quickest)."""
    if isinstance(readings, EpochReadings):
        return [int(start) // SLOT_SECONDS for start in readings.starts], readings.kwh
    out: list[int] = []
    previous: datetime | None = None
    slot = 0
    for start, _ in readings:
        if previous is not None and start - previous == _HALF_HOUR:
            slot += 1
        else:
            slot = int(start.timestamp()) // SLOT_SECONDS
        previous = start
        out.append(slot)
    return out, [kwh for _, kwh in readings]


def _offset(slot: int, tz: tzinfo) -> int:
    offset = datetime.fromtimestamp(slot * SLOT_SECONDS, tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _local_positions(first: int, count: int, tz: tzinfo) -> tuple[list[int], list[int]]:
    """Local half-hour of the day and local day (from the first) of each slot. The UTC offset is looked up once
    per 48 slots, and slot by slot only where it changes among them (the two clock-change days of a year: on
    the 50-half-hour day two half-hours share each wall-clock time from 01:00 to 02:00; on the 46-half-hour
    day none has the times from 01:00 to 02:00)."""
    tod: list[int] = []
    day: list[int] = []
    first_day = (first * SLOT_SECONDS + _offset(first, tz)) // 86400
    i = 0
    while i < count:
        stop = min(i + 48, count)
        a, b = _offset(first + i, tz), _offset(first + stop - 1, tz)
        locals_: Sequence[int]
        if a == b:
            locals_ = range((first + i) * SLOT_SECONDS + a, (first + stop) * SLOT_SECONDS + a, SLOT_SECONDS)
        else:
            locals_ = [(first + j) * SLOT_SECONDS + _offset(first + j, tz) for j in range(i, stop)]
        tod += [local % 86400 // SLOT_SECONDS for local in locals_]
        day += [local // 86400 - first_day for local in locals_]
        i = stop
    return tod, day


# --- the household baseline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Baseline:
    """Per slot, from the half-hours without charging at the same local time of day in the weeks around."""

    mean: list[float]
    median: list[float]
    pair_upper: list[float]  # the HOUSE_UPPER quantile of two half-hours in a row, above their mean
    pair_spread: list[float]  # that, less their median


def _keys(series: _Series, window_days: int) -> tuple[list[int], int, int]:
    """Each slot's (time of day, block) as one number; the number of blocks; the blocks either side to pool."""
    return series.keys, series.block[-1] + 1, -(-window_days // BLOCK_DAYS)


def _pooled(values: list[float], keys: list[int], blocks: int, reach: int, tods: int) -> list[list[float]]:
    """Per (time of day, block): the sorted values (NaN left out) of the blocks within ``reach`` and the times
    of day within ``tods``. Each step sorts lists made of sorted runs, which Timsort merges: cheap."""
    per: list[list[float]] = [[] for _ in range(48 * blocks)]
    adders = [bucket.append for bucket in per]
    for key, value in zip(keys, values, strict=True):
        if value == value:  # noqa: PLR0124 - not NaN
            adders[key](value)
    for bucket in per:
        bucket.sort()
    # Per block, which blocks it pools (in the same order as one by one: the same sorted lists, bit for bit).
    spans = [(max(block - reach, 0), min(block + reach + 1, blocks)) for block in range(blocks)]
    around: list[list[float]] = []
    for tod in range(48):
        row = tod * blocks
        for lo, hi in spans:
            pooled = [v for bucket in per[row + lo : row + hi] for v in bucket] if hi - lo > 1 else list(per[row + lo])
            pooled.sort()
            around.append(pooled)
    if not tods:
        return around
    out = []
    for key in range(48 * blocks):
        tod, block = divmod(key, blocks)
        pooled = []
        for t in range(tod - tods, tod + tods + 1):
            pooled += around[(t % 48) * blocks + block]
        pooled.sort()
        out.append(pooled)
    return out


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else _NAN


def _low_baseline(series: _Series, window_days: int) -> list[float]:
    """LOW_QUANTILE of the same local half-hour around each block, or of every half-hour around it where the
    series holds too few days (a charge on one of three days would be a third of one half-hour's values)."""
    keys, blocks, reach = _keys(series, window_days)
    pools = _pooled(series.values, keys, blocks, reach, 0)
    wholes: dict[int, list[float]] = {}
    levels = []
    for key, pool in enumerate(pools):
        block = key % blocks
        if len(pool) < MIN_DAYS and block not in wholes:
            wholes[block] = sorted(v for k in range(block, 48 * blocks, blocks) for v in pools[k])
        levels.append(_quantile(pool if len(pool) >= MIN_DAYS else wholes[block], LOW_QUANTILE))
    return list(map(levels.__getitem__, keys))


def _baseline(series: _Series, keep: list[bool], window_days: int, fallback: list[float]) -> _Baseline:
    """The household's mean and median at each half-hour from the kept ones (the fallback where fewer than
    three), and the tail of its own draw above its mean over two half-hours in a row, pooled with the
    neighbouring times of day (a few weeks of one half-hour are too few for a tail)."""
    keys, blocks, reach = _keys(series, window_days)
    kept = [v if k else _NAN for v, k in zip(series.values, keep, strict=True)]
    stats = [(sum(v) / len(v), v[len(v) // 2]) if len(v) >= 3 else None for v in _pooled(kept, keys, blocks, reach, 0)]
    if None in stats:
        per_slot = list(map(stats.__getitem__, keys))
        mean = [f if known is None else known[0] for known, f in zip(per_slot, fallback, strict=True)]
        median = [f if known is None else known[1] for known, f in zip(per_slot, fallback, strict=True)]
    else:  # every time of day known (the usual case): each slot's figures by lookup, in C
        means, medians = [known[0] for known in stats], [known[1] for known in stats]  # type: ignore[index]
        mean, median = list(map(means.__getitem__, keys)), list(map(medians.__getitem__, keys))
    deviation = list(map(operator.sub, kept, mean))
    pairs = [*map(operator.add, deviation, deviation[1:]), _NAN]  # NaN where either is
    tails = []
    for values in _pooled(pairs, keys, blocks, reach, 1):
        n = len(values)
        if n:
            upper = values[min(int(HOUSE_UPPER * n), n - 1)]  # _quantile, inline: 288 of them a baseline
            tails.append((upper, upper - values[min(int(0.5 * n), n - 1)]))
        else:
            tails.append((0.0, 0.0))
    uppers, spreads = [t[0] for t in tails], [t[1] for t in tails]
    return _Baseline(mean, median, list(map(uppers.__getitem__, keys)), list(map(spreads.__getitem__, keys)))


# --- the charger ---------------------------------------------------------------------------------------------


def _estimate_full(excess: list[float], min_step: float = 0.6, flat: float = 0.12) -> float | None:
    """The kWh a charger delivers in a whole half-hour, from the steps up in ``excess`` (kWh above a baseline)
    from a steady level to one that holds, within ``flat``, for two whole half-hours: the highest level that
    enough of them share, within 8 % (a heat pump's steps can be as many but are lower; coincidences of
    appliances higher but few)."""
    steps: list[float] = []
    for i in range(1, len(excess) - 2):
        before, part, one, two = excess[i - 1], excess[i], excess[i + 1], excess[i + 2]
        step = (one + two) / 2 - before
        if not step >= min_step:  # also false for NaN
            continue
        if abs(one - two) > flat * step or not before - flat * step <= part <= one + flat * step:
            continue
        if i >= 2 and not abs(excess[i - 2] - before) <= flat * step:
            continue
        steps.append(step)
    if not steps:
        return None
    steps.sort()
    support = [bisect.bisect_right(steps, s * 1.08) - bisect.bisect_left(steps, s / 1.08) for s in steps]
    needed = max(4, 0.15 * max(support))
    qualified = [i for i, n in enumerate(support) if n >= needed]
    if not qualified:
        return None
    top = qualified[-1]
    near = range(bisect.bisect_left(steps, steps[top] / 1.16), top + 1)
    centre = steps[max(near, key=lambda i: support[i])]
    cluster = steps[bisect.bisect_left(steps, centre / 1.08) : bisect.bisect_right(steps, centre * 1.08)]
    return cluster[len(cluster) // 2]


# --- sessions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    first: int  # slot index of the first half-hour with energy for the car
    last: int
    kwh: list[float]  # per half-hour from first to last
    kw: float  # the power it charged at


def _find(
    series: _Series,
    base: _Baseline | None,
    low: list[float],
    full: float,
    max_gap_hours: float,
    min_kwh: float,
    cover: list[float],
) -> list[_Found]:
    """Sessions against the household baseline ``base``; against the low baseline alone where it is not known
    yet (only runs at power then, for setting the charging aside)."""
    values = series.values
    excess = list(map(operator.sub, values, base.mean if base is not None else low))
    reference = base.median if base is not None else low
    cut = FULL_LEVEL * full
    firm = [i for i, d in enumerate(map(operator.sub, values, reference)) if d >= cut]
    powered = _grown(firm, values, low, cut) if base is not None else firm
    pieces = _pieces(series, excess, base, powered, full, cover)
    groups = _sessions(pieces, excess, full, max_gap_hours)
    at_power = [False] * len(values)
    for i in powered:
        at_power[i] = True
    # Half-hours charged throughout (both neighbours at power too) measure the charger's level; every half-hour
    # at power counts it.
    inners = [[i for i in range(a + 1, b) if at_power[i - 1] and at_power[i] and at_power[i + 1]] for a, b in groups]
    every = [values[i] - reference[i] for inner in inners for i in inner]
    level = _median(every) if base is not None and len(every) >= 5 else full
    # Per time of day, the days the car holds at power for LONG_RUN half-hours or more: what a charge does and
    # an oven, a shower or a kettle does not.
    held: list[set[int]] = [set() for _ in range(48)]
    firm_at = [False] * len(values)
    for i in firm:
        firm_at[i] = True
    for a, b in _runs(firm):
        if b - a + 1 >= LONG_RUN:
            for i in range(a, b + 1):
                held[series.tod[i]].add(series.day[i])
    found: list[_Found] = []
    for (start, stop), inner in zip(groups, inners, strict=True):
        shift = _shift(excess, start, stop, found[-1].last if found else -1)
        own = level
        if base is not None and len(inner) >= 4:
            mine = _median([values[i] - reference[i] for i in inner]) - shift
            if abs(mine - level) > OWN_LEVEL * level:
                own = mine  # clearly another power: another car, or a charger set lower
        inside = set(inner)
        dispatched = any(cover[i] > 0 for i in range(start, stop + 1))
        if base is not None and not dispatched and _house_like(series, base, firm_at, held, start, stop, full):
            continue
        kwh = []
        for i in range(start, stop + 1):
            e = excess[i] - shift
            if dispatched and base is not None:
                kwh.append(_dispatched(e, cover[i], i in inside, at_power[i], own, base, low, i, full))
            elif i in inside:
                kwh.append(own)
            elif at_power[i]:  # at a session's edge: a whole half-hour unless clearly short of one
                kwh.append(_short_of(e, own, base, low, i, full) if base is not None else own)
            elif math.isnan(e):  # missing: charging if both neighbours are at power
                kwh.append(own if 0 < i < len(values) - 1 and at_power[i - 1] and at_power[i + 1] else 0.0)
            elif i in (start, stop) and not at_power[i] and e <= EDGE_LEVEL * full:
                kwh.append(0.0)  # a neighbour that holds nothing of the charge
            else:
                kwh.append(min(max(e, 0.0), own))
        first, last = start, stop
        while first < last and kwh[0] == 0.0:
            kwh.pop(0)
            first += 1
        while last > first and kwh[-1] == 0.0:
            kwh.pop()
            last -= 1
        if (math.fsum(kwh) >= min_kwh or dispatched) and own > 0:
            found.append(_Found(first, last, kwh, own * 2))
    return found


def _pieces(
    series: _Series, excess: list[float], base: _Baseline | None, powered: list[int], full: float, cover: list[float]
) -> list[tuple[int, int, int, int]]:
    """(first, last, first charging, last charging) slot indices of each piece of charging, in time order: the
    runs at power with the half-hour either side; with a baseline, the short charges and the dispatched half-hours
    that hold more than the house does then too."""
    n = len(excess)
    floor = SHORT_FLOOR * full
    pieces: list[tuple[int, int, int, int]] = []
    used = [False] * n
    runs = _runs(powered)
    for a, b in runs:
        if base is not None and a == b and not _stands_out(excess, base, a, floor):
            continue  # one half-hour at power, with a neighbour no more than the house puts in an hour then
        pieces.append((max(a - 1, 0), min(b + 1, n - 1), a, b))
        for i in range(max(a - 1, 0), min(b + 2, n)):
            used[i] = True
    if base is None:
        return pieces
    shown = [
        i
        for i, c in enumerate(cover)
        if c > 0 and not used[i] and excess[i] >= max(EDGE_LEVEL * full, min(base.pair_upper[i], c * full / 2))
    ]
    for a, b in _runs(shown):
        pieces.append((a, b, a, b))
        for i in range(a, b + 1):
            used[i] = True
    # Two half-hours in a row against the highest of the house's limits around them (a pair also stands
    # against the times just before and after it: a shower window that begins at half past six).
    candidates = [
        i
        for i, (x, y) in enumerate(itertools.pairwise(excess))
        if x + y >= floor
        and not used[i]
        and not used[i + 1]
        and x + y >= max(_limit(base, j, SHORT_SPREAD) for j in range(max(i - 1, 0), min(i + 2, n)))
    ]
    # Per time of day, the days the car is seen at power: a short charge is believed only at a time of day
    # the car charges on other days too.
    seen: list[set[int]] = [set() for _ in range(48)]
    for i in powered:
        seen[series.tod[i]].add(series.day[i])
    for a, b in _runs(candidates):
        if b - a > 2:
            continue  # more than an hour of it, never at the charger's power: not a car
        best = max(range(a, b + 1), key=lambda i: excess[i] + excess[i + 1])
        energy = excess[best] + excess[best + 1]
        around = [excess[i] for i in (best - 1, best + 2) if 0 <= i < n and not math.isnan(excess[i])]
        if any(e > QUIET * energy for e in around):
            continue  # the house was busy just before or after: more of the same, not a car
        if not _seen(series, seen, best):
            continue  # the car never charges at this time of day: the showers, more likely
        first = best if excess[best] > EDGE_LEVEL * full else best + 1
        last = best + 1 if excess[best + 1] > EDGE_LEVEL * full else best
        pieces.append((first, last, first, last))
    pieces.sort()
    return pieces


def _sessions(
    pieces: list[tuple[int, int, int, int]], excess: list[float], full: float, max_gap_hours: float
) -> list[tuple[int, int]]:
    """[first, last] of each session: pieces joined where the pause between their charging is at most
    ``max_gap_hours`` (however many half-hours the charging between them partly fills; missing ones count as
    charging, at most as many as a pause of ``max_gap_hours`` could hold)."""
    groups: list[list[int]] = []  # first, last, last charging
    for a, b, charging_a, charging_b in pieces:
        if groups:
            between = range(groups[-1][2] + 1, charging_a)
            if _pause(excess, between, full, max_gap_hours + PAUSE_SLACK, 2 * max_gap_hours + 1):
                groups[-1][1], groups[-1][2] = b, charging_b
                continue
        groups.append([a, b, charging_b])
    return [(a, b) for a, b, _ in groups]


def _dispatched(
    e: float, c: float, inner: bool, powered: bool, level: float, base: _Baseline, low: list[float], i: int, full: float
) -> float:
    """The car's kWh in a half-hour of a session Octopus dispatched, ``c`` of which a dispatch covers: that share
    of a whole half-hour, unless the energy above the house's usual ``e`` is clearly short of it (the car was
    full); nothing outside the dispatches, unless at power (a dispatch the history lacks)."""
    if inner:
        return level
    expected = (c or 1.0) * level if powered else c * level
    if expected == 0 or math.isnan(e):
        return expected  # a missing reading inside a dispatch: what the dispatch shows
    return _short_of(e, expected, base, low, i, full)


def _short_of(e: float, expected: float, base: _Baseline, low: list[float], i: int, full: float) -> float:
    """``expected`` kWh for the car in half-hour ``i``, or the energy above the house's usual ``e`` where that
    is short of it by more than the house's own low side (its mean above its low baseline) or spread."""
    slack = max(base.mean[i] - low[i], base.pair_spread[i], EDGE_LEVEL * full)
    return expected if e >= expected - slack else max(e, 0.0)


def _cover(series: _Series, intervals: Sequence[tuple[datetime, datetime]]) -> list[float]:
    """The share of each half-hour of the series inside the union of ``intervals``."""
    cover = [0.0] * len(series.values)
    merged: list[list[float]] = []
    for start, end in sorted((a.timestamp(), b.timestamp()) for a, b in intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif end > start:
            merged.append([start, end])
    for start, end in merged:
        slot = int(start // SLOT_SECONDS)
        while slot * SLOT_SECONDS < end:
            i = slot - series.first
            if 0 <= i < len(cover):
                overlap = min(end, (slot + 1) * SLOT_SECONDS) - max(start, slot * SLOT_SECONDS)
                cover[i] = min(cover[i] + overlap / SLOT_SECONDS, 1.0)
            slot += 1
    return cover


def _grown(powered: list[int], values: list[float], low: list[float], cut: float) -> list[int]:
    """Runs at power grown over the half-hours next to them that are at power above the low baseline: the car
    goes on charging where the house draws less than its median (at dinner time the median has an oven in it)."""
    out: list[int] = []
    for a, b in _runs(powered):
        first, last = a, b
        while first > 0 and first - 1 > (out[-1] if out else -1) and values[first - 1] - low[first - 1] >= cut:
            first -= 1
        while last + 1 < len(values) and values[last + 1] - low[last + 1] >= cut:
            last += 1
        out += range(max(first, out[-1] + 1 if out else 0), last + 1)
    return out


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """[first, last] of each run of consecutive numbers in ``indices`` (ascending)."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def _pause(excess: list[float], between: range, full: float, hours: float, missing: float) -> bool:
    """Whether the half-hours ``between`` hold at most ``hours`` without charging (each less the time its energy
    would take) and at most ``missing`` missing ones; stops as soon as they hold more."""
    pause = gaps = 0.0
    for i in between:
        e = excess[i]
        if math.isnan(e):
            gaps += 1
        else:
            pause += 0.5 - min(max(e, 0.0), full) / full / 2
        if pause > hours or gaps > missing:
            return False
    return True


def _house_like(
    series: _Series, base: _Baseline, firm_at: list[bool], held: list[set[int]], start: int, stop: int, full: float
) -> bool:
    """Whether a session looks like the house rather than a car: at power above the household median for at most
    SHORT_RUN half-hours, at a time of day the house itself often goes far above its usual (BUSY of a whole
    half-hour at the charger's power over two half-hours: cooking), and where the car never holds at power on
    other days."""
    span = range(start, stop + 1)
    if sum(firm_at[i] for i in span) > SHORT_RUN or max(base.pair_upper[i] for i in span) < BUSY * full:
        return False
    return not _seen(series, held, start)


def _seen(series: _Series, seen: list[set[int]], i: int) -> bool:
    """Whether the car charges at power within SEEN_WITHIN half-hours of slot ``i``'s time of day on at least
    SEEN_DAYS other days."""
    tod = series.tod[i]
    days = set().union(*(seen[t % 48] for t in range(tod - SEEN_WITHIN, tod + SEEN_WITHIN + 2)))
    return len(days - {series.day[i]}) >= SEEN_DAYS


def _limit(base: _Baseline, i: int, spread: float) -> float:
    """What the house itself puts above its mean in two half-hours from ``i``, give or take: its upper
    quantile and ``spread`` times the distance from its median to that."""
    return base.pair_upper[i] + spread * base.pair_spread[i]


def _stands_out(excess: list[float], base: _Baseline, i: int, floor: float) -> bool:
    """Whether half-hour ``i`` and either neighbour hold more than the house itself does in an hour then."""
    n = len(excess)
    pairs = [excess[j] + excess[j + 1] for j in (i - 1, i) if j >= 0 and j + 1 < n]
    limit = max([floor] + [_limit(base, j, SINGLE_SPREAD) for j in range(max(i - 2, 0), min(i + 2, n))])
    return any(p >= limit for p in pairs)  # False for NaN


def _shift(excess: list[float], first: int, last: int, taken: int) -> float:
    """How far the house was off its usual in the two half-hours before and after a session where both sides
    agree: the smaller of the two shifts (a sunny day's export, a heat pump already running); else nothing.
    Half-hours up to ``taken`` belong to the session before."""
    before = [excess[i] for i in (first - 2, first - 1) if i > taken and not math.isnan(excess[i])]
    after = [excess[i] for i in (last + 1, last + 2) if i < len(excess) and not math.isnan(excess[i])]
    if not before or not after:
        return 0.0
    b, a = sum(before) / len(before), sum(after) / len(after)
    if (b > 0) != (a > 0):
        return 0.0
    return min(b, a, key=abs)
