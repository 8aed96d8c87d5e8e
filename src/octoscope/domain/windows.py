"""Cheapest windows on a tariff's published half-hourly prices: pure, no I/O and no clock.

A *slot* is one half-hour [start, start + 30 min) whose price (p/kWh) is published. A half-hour without a
slot is unknown (not yet published, or not covered by any price record) and is never assumed: a block
never spans one. Instants are aware UTC datetimes; UK local times appear only in :func:`allowed_periods`.

Three searches, all on the same slots:

- :func:`cheapest_blocks`: the cheapest contiguous block of ``n`` half-hours, and with ``top`` > 1 the next
  cheapest blocks that overlap none chosen before (greedy: the best, then the best of what is left).
- :func:`cheapest_half_hours`: the cheapest ``n`` half-hours, not necessarily contiguous.
- Both keep to *allowed periods* (start after, finish before) and a maximum price per half-hour, and may be
  weighted by a load profile (kW per half-hour of the block): a block is then ranked by what that load
  would cost, not by its average price.

Ties: among blocks (or half-hours) of equal cost the earliest wins. Prices are compared as whole
micro-pence (10^-6 p) so that equal sums are equal whatever order they were added in: prefix sums of floats
would make a tie depend on rounding.

Cost: each block's sum is a difference of prefix sums (O(1) a block, O(n) a search); a load profile that
is not flat costs O(n x m) for m half-hours a block; any-N uses a heap (O(n log N)); top-k a heap of all
blocks, popped until k do not overlap.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import NamedTuple

from octoscope.domain.costs import PriceColumns
from octoscope.errors import InputError

HALF_HOUR = timedelta(minutes=30)
MICRO = 1_000_000  # prices are compared in micro-pence


class NoWindow(InputError):
    """No block or set of half-hours meets what was asked; the message says what is possible instead."""


class Slot(NamedTuple):
    """One half-hour with a published price, p/kWh."""

    start: datetime
    price: float

    @property
    def end(self) -> datetime:
        return self.start + HALF_HOUR


@dataclass(frozen=True)
class Window:
    """A block (or, in any-N searches, a set) of half-hours and what it costs.

    ``cost_pence`` and ``kwh`` are set when a load was given: the energy the load draws in those half-hours
    and what it costs at their prices. ``average`` is p/kWh: cost / kWh under a load, else the plain mean.
    """

    slots: tuple[Slot, ...]
    cost_pence: float | None
    kwh: float | None

    @property
    def start(self) -> datetime:
        return self.slots[0].start

    @property
    def end(self) -> datetime:
        return self.slots[-1].end

    @property
    def average(self) -> float:
        if self.cost_pence is not None and self.kwh:
            return self.cost_pence / self.kwh
        return sum(s.price for s in self.slots) / len(self.slots)

    @property
    def contiguous(self) -> bool:
        return all(b.start == a.end for a, b in pairwise(self.slots))


# --- slots from price records ------------------------------------------------------------------------


def slots_from_columns(
    columns: PriceColumns,
    start: datetime,
    end: datetime,
    *,
    inc_vat: bool = True,
    night: PriceColumns | None = None,
    night_hours: tuple[time, time] | None = None,
) -> list[Slot]:
    """The half-hours of [start, end) (``start`` on a half-hour) that one price record covers whole.

    A record with no end (a flat tariff's current price) covers up to ``end``: it is published as in force
    until changed. With ``night`` and ``night_hours`` (UTC), an Economy 7 tariff: half-hours starting in
    the night hours take the night list's price, the others the day list (``columns``)'s.
    """
    day = _Stepper(columns, inc_vat)
    dark = _Stepper(night, inc_vat) if night is not None else None
    out: list[Slot] = []
    t = start
    while t < end:
        stepper = day
        if dark is not None and night_hours is not None:
            clock = t.astimezone(UTC).time()
            if night_hours[0] <= clock < night_hours[1]:
                stepper = dark
        price = stepper.covering(t, t + HALF_HOUR)
        if price is not None:
            out.append(Slot(t, price))
        t += HALF_HOUR
    return out


class _Stepper:
    """Walks a price list (in time order) for half-hours asked in time order."""

    def __init__(self, columns: PriceColumns, inc_vat: bool) -> None:
        self.starts, self.ends = columns.starts, columns.ends
        self.values = columns.inc_vat if inc_vat else columns.exc_vat
        self.i = 0

    def covering(self, lo: datetime, hi: datetime) -> float | None:
        """The price of the record in force over all of [lo, hi), if one is."""
        starts, ends = self.starts, self.ends
        i = bisect.bisect_right(starts, lo, lo=self.i) - 1  # half-hours come in time order
        if i < 0:
            return None
        self.i = i
        end = ends[i]
        if end is not None and end < hi:
            return None
        return self.values[i]


# --- allowed periods ---------------------------------------------------------------------------------


def wall_time(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant a clock in ``tz`` shows ``at`` on ``day``. A time the clock skips (01:30 on the
    spring-forward day) is read on the clock before the change (01:30 GMT, that is 02:30 BST); a time the
    clock shows twice (01:30 on the autumn day) is its first showing (01:30 BST)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def allowed_periods(
    start: datetime, end: datetime, after: time | None, before: time | None, tz: tzinfo
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) a window may use: start at or after the clock time ``after`` and finish by
    the clock time ``before`` (local times in ``tz``).

    - Both: every period from ``after`` to the next ``before`` (the next day's when ``before`` is not later
      than ``after``: 18:00 to 07:00 runs across midnight; equal times mean 24 hours), one a day, from the
      period under way at ``start`` on.
    - Only ``after``: from ``after`` on the local day of ``start`` (or ``start``, if later) to ``end``.
    - Only ``before``: from ``start`` to the first time the clock shows ``before`` after ``start``.
    - Neither: [start, end).
    """
    if after is None and before is None:
        return [(start, end)] if start < end else []
    first_day = start.astimezone(tz).date()
    if before is None:
        assert after is not None
        lo = max(start, wall_time(first_day, after, tz))
        return [(lo, end)] if lo < end else []
    if after is None:
        hi = wall_time(first_day, before, tz)
        if hi <= start:
            hi = wall_time(first_day + timedelta(days=1), before, tz)
        hi = min(hi, end)
        return [(start, hi)] if start < hi else []
    out: list[tuple[datetime, datetime]] = []
    day = first_day - timedelta(days=1)
    while True:
        lo = wall_time(day, after, tz)
        if lo >= end:
            return out
        hi = wall_time(day + timedelta(days=0 if before > after else 1), before, tz)
        a, b = max(lo, start), min(hi, end)
        if a < b:
            out.append((a, b))
        day += timedelta(days=1)


# --- the searches ------------------------------------------------------------------------------------


def _micro(price: float) -> int:
    return round(price * MICRO)


def _watts(load_kw: Sequence[float] | None, n: int) -> list[int] | None:
    if load_kw is None:
        return None
    if len(load_kw) != n:
        raise NoWindow(f"the load has {len(load_kw)} half-hourly values; a block of {n} half-hours needs {n}")
    if any(kw < 0 for kw in load_kw) or not any(kw > 0 for kw in load_kw):
        raise NoWindow("a load must be 0 kW or more in each half-hour, and more than 0 in at least one")
    return [round(kw * 1000) for kw in load_kw]


def _runs(
    slots: Sequence[Slot], periods: Sequence[tuple[datetime, datetime]] | None, max_price: float | None
) -> list[tuple[int, int]]:
    """[first, last + 1) index ranges of slots that a block may span: consecutive half-hours, inside one
    allowed period, each at or under the maximum price. ``slots`` must be in time order."""
    limit = None if max_price is None else _micro(max_price)
    bounds = sorted(periods) if periods is not None else None
    out: list[tuple[int, int]] = []
    run_start = -1
    run_period = -1
    previous_end: datetime | None = None
    for i, slot in enumerate(slots):
        period = 0
        if bounds is not None:
            p = bisect.bisect_right(bounds, (slot.start, datetime.max.replace(tzinfo=UTC))) - 1
            period = p if p >= 0 and slot.start + HALF_HOUR <= bounds[p][1] and slot.start >= bounds[p][0] else -1
        usable = period >= 0 and (limit is None or _micro(slot.price) <= limit)
        joins = usable and run_start >= 0 and period == run_period and previous_end == slot.start
        if run_start >= 0 and not joins:
            out.append((run_start, i))
            run_start = -1
        if usable and run_start < 0:
            run_start, run_period = i, period
        previous_end = slot.start + HALF_HOUR
    if run_start >= 0:
        out.append((run_start, len(slots)))
    return out


def _describe_limits(periods: Sequence[tuple[datetime, datetime]] | None, max_price: float | None) -> str:
    parts = []
    if max_price is not None:
        parts.append(f"at or under {max_price:g} p/kWh")
    if periods is not None:
        parts.append("within the times asked")
    return (" " + " and ".join(parts)) if parts else ""


def _window(slots: Sequence[Slot], chosen: Sequence[int], watts: list[int] | None, flat_kw: float | None) -> Window:
    picked = tuple(slots[i] for i in chosen)
    if watts is not None:
        micro = sum(w * _micro(s.price) for w, s in zip(watts, picked, strict=True))
        return Window(picked, micro / (2 * 1000 * MICRO), sum(watts) / 2000)
    if flat_kw is not None:
        micro = sum(_micro(s.price) for s in picked)
        return Window(picked, micro * flat_kw / (2 * MICRO), flat_kw * len(picked) / 2)
    return Window(picked, None, None)


def cheapest_blocks(
    slots: Sequence[Slot],
    n: int,
    *,
    periods: Sequence[tuple[datetime, datetime]] | None = None,
    top: int = 1,
    max_price: float | None = None,
    load_kw: Sequence[float] | None = None,
) -> list[Window]:
    """The ``top`` cheapest contiguous blocks of ``n`` half-hours that overlap one another nowhere, cheapest
    first (equal costs: the earliest first).

    ``slots`` in time order; ``periods``: where a block may lie (see :func:`allowed_periods`), None for
    anywhere; ``max_price``: no half-hour of a block above it; ``load_kw``: the load in each of the block's
    ``n`` half-hours, to rank by its cost (None: by average price). Fewer than ``top`` blocks may fit;
    if none does, :class:`NoWindow` says what the longest usable stretch is.
    """
    if n < 1:
        raise NoWindow("a window needs at least one half-hour")
    if top < 1:
        raise NoWindow("ask for at least one window")
    watts = _watts(load_kw, n)
    flat = watts is not None and len(set(watts)) == 1
    runs = _runs(slots, periods, max_price)
    longest = max((b - a for a, b in runs), default=0)
    if longest < n:
        raise NoWindow(
            f"{n / 2:g} hours do not fit: the longest stretch of published prices{_describe_limits(periods, max_price)}"
            f" is {longest / 2:g} hours"
        )
    micro = [_micro(s.price) for s in slots]
    costs: list[tuple[int, int]] = []  # (cost, first index) of every block that fits
    best: tuple[int, int] | None = None
    for a, b in runs:
        if b - a < n:
            continue
        if watts is None or flat:
            prefix = [0]
            total = 0
            for value in micro[a:b]:
                total += value
                prefix.append(total)
            sums = [prefix[i + n] - prefix[i] for i in range(b - a - n + 1)]
        else:
            sums = [sum(w * micro[a + i + j] for j, w in enumerate(watts)) for i in range(b - a - n + 1)]
        if top == 1:
            i = min(range(len(sums)), key=sums.__getitem__)  # the first of equal minima: the earliest
            if best is None or sums[i] < best[0]:
                best = (sums[i], a + i)
        else:
            costs.extend((s, a + i) for i, s in enumerate(sums))
    flat_kw = None if watts is None else watts[0] / 1000 if flat else None
    profile = None if watts is None or flat else watts
    if top == 1:
        assert best is not None
        return [_window(slots, range(best[1], best[1] + n), profile, flat_kw)]
    heapq.heapify(costs)
    chosen: list[int] = []
    out: list[Window] = []
    while costs and len(out) < top:
        _, first = heapq.heappop(costs)
        k = bisect.bisect_left(chosen, first)
        if (k < len(chosen) and chosen[k] - first < n) or (k > 0 and first - chosen[k - 1] < n):
            continue  # overlaps a block already chosen
        chosen.insert(k, first)
        out.append(_window(slots, range(first, first + n), profile, flat_kw))
    return out


def cheapest_half_hours(
    slots: Sequence[Slot],
    n: int,
    *,
    periods: Sequence[tuple[datetime, datetime]] | None = None,
    max_price: float | None = None,
    kw: float | None = None,
) -> Window:
    """The ``n`` cheapest half-hours, contiguous or not, in time order (equal prices: the earliest first).

    ``kw``: a steady load, to give the cost; a profile that changes from half-hour to half-hour has no
    meaning when the half-hours are scattered.
    """
    if n < 1:
        raise NoWindow("a window needs at least one half-hour")
    if kw is not None and kw <= 0:
        raise NoWindow("a load must be more than 0 kW")
    usable = [i for a, b in _runs(slots, periods, max_price) for i in range(a, b)]
    if len(usable) < n:
        raise NoWindow(
            f"{n / 2:g} hours do not fit: only {len(usable) / 2:g} hours of published prices"
            f"{_describe_limits(periods, max_price)}"
        )
    picked = sorted(heapq.nsmallest(n, usable, key=lambda i: (_micro(slots[i].price), i)))
    return _window(slots, picked, None, kw)
