"""Prices read once and shared: a wider read cut to a window answers as a read of that window alone, and the
prices in force found a record at a time agree with the half-hour-at-a-time lookup (unit_rates), whatever
the records (gaps, overlaps, two starting together, open-ended ones, starts off the half-hour)."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from octoscope.domain.costs import Prices, prices_in_force, unit_rates
from octoscope.domain.models import Agreement, Charge, Rate

HH = timedelta(minutes=30)
BASE = datetime(2026, 3, 28, tzinfo=UTC)  # the spring clock change falls in what is drawn
FLEX = "E-1R-VAR-22-11-01-J"
E7 = "E-2R-VAR-22-11-01-J"
METHODS = (None, "DIRECT_DEBIT", "PREPAYMENT")


@st.composite
def price_lists(draw: st.DrawFn) -> list[Rate]:
    """A half-hour record for most half-hours (Agile, with gaps), then a few records of any length, some
    open-ended, overlapping it or each other, some starting off the half-hour."""
    out: list[Rate] = []
    agile = draw(st.integers(min_value=0, max_value=150))
    for i in range(agile):
        if draw(st.integers(min_value=0, max_value=20)):  # one in 21 left out: a gap
            start = BASE + i * HH
            out.append(Rate(start, start + HH, float(i % 7), float(i % 5), None))
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        start = BASE + draw(st.integers(min_value=-4, max_value=160)) * HH
        start += draw(st.sampled_from([timedelta(0), timedelta(0), timedelta(minutes=15)]))
        length = draw(st.none() | st.integers(min_value=1, max_value=60))
        end = None if length is None else start + length * HH
        value = float(draw(st.integers(min_value=-2, max_value=40)))
        out.append(Rate(start, end, value, value * 1.05, draw(st.sampled_from(METHODS))))
    return out


def columns(prices: Prices) -> list[tuple[list[float], list[float], list[float], list[float]]]:
    lookups = [prices.standing, *(prices.unit[c] for c in sorted(prices.unit, key=str))]
    return [(x.seconds(), x.end_seconds(), x.exc, x.inc) for x in lookups]


def levels_record_by_record(prices: Prices, start: datetime, end: datetime, inc_vat: bool) -> list[float]:
    """The day's levels as defined: of the records from the last to start at or before ``start`` up to
    ``end``, the distinct prices of those that end after ``start``, lowest first."""
    lookup = prices.unit[Charge.STANDARD]
    starts, ends = lookup.seconds(), lookup.end_seconds()
    lo = max(0, bisect.bisect_right(starts, start.timestamp()) - 1)
    hi = bisect.bisect_left(starts, end.timestamp())
    values = lookup.inc if inc_vat else lookup.exc
    return sorted({values[i] for i in range(lo, hi) if ends[i] > start.timestamp()})


@settings(max_examples=200, deadline=None)
@given(price_lists(), price_lists(), st.integers(min_value=-10, max_value=170), st.integers(min_value=1, max_value=170))
def test_a_wider_read_cut_to_a_window_is_a_read_of_that_window(
    unit: list[Rate], standing: list[Rate], first: int, length: int
) -> None:
    lo, hi = BASE + first * HH, BASE + (first + length) * HH

    def within(rates: list[Rate]) -> list[Rate]:  # what the store's query returns for [lo, hi)
        return [r for r in rates if r.valid_from < hi and (r.valid_to is None or r.valid_to > lo)]

    held = Prices({Charge.STANDARD: unit}, standing, "DIRECT_DEBIT")
    cut = held.overlapping(int(lo.timestamp()), int(hi.timestamp()))
    alone = Prices({Charge.STANDARD: within(unit)}, within(standing), "DIRECT_DEBIT")
    assert columns(cut) == columns(alone)
    for step in range(-2, length + 2):
        at = lo + step * HH
        assert cut.standing_charge(at, True) == alone.standing_charge(at, True)
        levels = cut.unit[Charge.STANDARD].levels(at, at + 4 * HH, False)
        assert levels == alone.unit[Charge.STANDARD].levels(at, at + 4 * HH, False)
        assert levels == levels_record_by_record(alone, at, at + 4 * HH, False)


@settings(max_examples=200, deadline=None)
@given(
    price_lists(),
    price_lists(),
    price_lists(),
    st.integers(min_value=-6, max_value=170),
    st.sets(st.integers(min_value=0, max_value=179), max_size=12),
)
def test_the_prices_in_force_a_record_at_a_time_are_each_half_hours_rate(
    flex: list[Rate], day: list[Rate], night: list[Rate], switch: int, dispatched: set[int]
) -> None:
    starts = [BASE + (i - 4) * HH for i in range(180)]
    prices = {
        FLEX: Prices({Charge.STANDARD: flex}, [], "DIRECT_DEBIT"),
        E7: Prices({Charge.DAY: day, Charge.NIGHT: night}, [], "DIRECT_DEBIT"),
    }
    at = BASE + switch * HH + timedelta(minutes=switch % 3 * 10)  # a switch on or off the half-hour
    deals = [Agreement(FLEX, BASE - 2 * HH, at), Agreement(E7, at, BASE + 160 * HH)]
    smart = frozenset(starts[i] for i in dispatched)
    found = prices_in_force(
        [int(t.timestamp()) for t in starts], deals, prices, dispatched=frozenset(int(t.timestamp()) for t in smart)
    )
    exc = unit_rates(starts, deals, prices, inc_vat=False, dispatched=smart)
    inc = unit_rates(starts, deals, prices, inc_vat=True, dispatched=smart)
    assert [None if f is None else f[1] for f in found] == exc
    assert [None if f is None else f[2] for f in found] == inc
    assert [f[0] for f in found if f is not None] == [
        FLEX if t < at else E7 for t, f in zip(starts, found, strict=True) if f is not None
    ]


def test_of_two_records_starting_together_the_later_listed_is_in_force_at_a_run_of_agiles_end() -> None:
    agile = [Rate(BASE + i * HH, BASE + (i + 1) * HH, float(i), float(i), None) for i in range(3)]
    prices = {FLEX: Prices({Charge.STANDARD: [*agile, Rate(BASE + 2 * HH, None, 9.0, 9.5, None)]}, [], "DIRECT_DEBIT")}
    starts = [BASE + i * HH for i in range(3)]
    found = prices_in_force([int(t.timestamp()) for t in starts], [Agreement(FLEX, BASE, None)], prices)
    assert found == [(FLEX, 0.0, 0.0), (FLEX, 1.0, 1.0), (FLEX, 9.0, 9.5)]
    assert unit_rates(starts, [Agreement(FLEX, BASE, None)], prices) == [0.0, 1.0, 9.5]
