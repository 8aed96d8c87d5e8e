"""Cheapest windows on hand-worked cases (the arithmetic is in each test), the clock-change days, and a
property: the contiguous search agrees with trying every block."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octoscope.domain.costs import PriceColumns
from octoscope.domain.uktime import UK, local_midnight
from octoscope.domain.windows import (
    NoWindow,
    Slot,
    allowed_periods,
    cheapest_blocks,
    cheapest_half_hours,
    slots_from_columns,
)

HH = timedelta(minutes=30)
SPRING = date(2026, 3, 29)  # 46 half-hours: 01:00 GMT becomes 02:00 BST
AUTUMN = date(2026, 10, 25)  # 50 half-hours: 01:00-02:00 happens twice


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def run(start: str, prices: list[float]) -> list[Slot]:
    """Consecutive half-hours from ``start`` (UTC) at these prices."""
    first = z(start)
    return [Slot(first + i * HH, p) for i, p in enumerate(prices)]


def starts(windows: list[object]) -> list[str]:
    return [w.start.strftime("%d %H:%M") for w in windows]  # type: ignore[attr-defined]


# --- contiguous blocks -------------------------------------------------------------------------------


def test_across_midnight_the_cheapest_two_hours_are_2300_to_0100() -> None:
    # 22:00 20, 22:30 18, 23:00 10, 23:30 8, 00:00 6, 00:30 9, 01:00 15, 01:30 30 (January: UTC is UK time).
    # Two-hour sums: from 22:00 62, 22:30 42, 23:00 33, 23:30 38, 00:00 60: 23:00-01:00 at 33 / 4 = 8.25.
    slots = run("2026-01-14T22:00Z", [20, 18, 10, 8, 6, 9, 15, 30])
    (best,) = cheapest_blocks(slots, 4)
    assert (best.start, best.end) == (z("2026-01-14T23:00Z"), z("2026-01-15T01:00Z"))
    assert best.average == 8.25
    assert best.cost_pence is None
    assert [s.price for s in best.slots] == [10, 8, 6, 9]


def test_ties_go_to_the_earliest_block() -> None:
    # Hour sums: 6, 2, 6, 6, 2, 6: blocks from 00:30 and 02:00 both cost 2; 00:30 comes first.
    slots = run("2026-01-14T00:00Z", [5, 1, 1, 5, 1, 1, 5])
    (best,) = cheapest_blocks(slots, 2)
    assert best.start == z("2026-01-14T00:30Z")
    assert starts(cheapest_blocks(slots, 2, top=2)) == ["14 00:30", "14 02:00"]


def test_ties_are_exact_whatever_the_order_of_adding() -> None:
    # Hour sums: 0.1 + 0.2 (00:00), 0.2 + 0.3 (00:30), 0.3 + 0.0 (01:00), 0.0 + 9 (01:30). In floating point
    # 0.1 + 0.2 > 0.3 and 01:00 would win; they are equal, so the earliest, 00:00, does.
    slots = run("2026-01-14T00:00Z", [0.1, 0.2, 0.3, 0.0, 9])
    assert 0.1 + 0.2 > 0.3 + 0.0
    (best,) = cheapest_blocks(slots, 2)
    assert best.start == z("2026-01-14T00:00Z")


def test_a_maximum_price_rules_out_any_block_with_a_dearer_half_hour() -> None:
    # Sums of three: 22 (from 00:00, with a 20), 30, 38, 27 (9, 9, 9). Cheapest is 00:00, but under a
    # 10 p maximum only 01:30-03:00 qualifies.
    slots = run("2026-01-14T00:00Z", [1, 1, 20, 9, 9, 9])
    assert starts(cheapest_blocks(slots, 3)) == ["14 00:00"]
    assert starts(cheapest_blocks(slots, 3, max_price=10)) == ["14 01:30"]
    assert starts(cheapest_blocks(slots, 3, max_price=9)) == ["14 01:30"]  # at the maximum is allowed
    with pytest.raises(NoWindow, match=r"1.5 hours do not fit: .*at or under 8.9 p/kWh is 1 hours"):
        cheapest_blocks(slots, 3, max_price=8.9)


def test_top_k_blocks_do_not_overlap() -> None:
    # Hour sums from each half-hour: 6, 4, 2, 4, 6, 5, 4, 5. Best 01:00 (2); then 00:30 and 01:30 (4)
    # overlap it, 03:00 (4) does not; then 02:30 and 03:30 (5) overlap that, 00:00 (6) is free.
    slots = run("2026-01-14T00:00Z", [3, 3, 1, 1, 3, 3, 2, 2, 3])
    found = cheapest_blocks(slots, 2, top=3)
    assert starts(found) == ["14 01:00", "14 03:00", "14 00:00"]
    assert [w.average for w in found] == [1, 2, 3]
    assert len(cheapest_blocks(slots, 2, top=10)) == 4  # no more fit without overlapping


def test_a_load_profile_ranks_by_what_the_load_costs() -> None:
    # 7, 7 then 2 kW over three half-hours, on 10, 2, 2, 10, 10 p/kWh.
    # From 00:00: (7x10 + 7x2 + 2x2) x 0.5 h = 44 p; 00:30: (7x2 + 7x2 + 2x10) x 0.5 = 24 p;
    # 01:00: (7x2 + 7x10 + 2x10) x 0.5 = 52 p. Unweighted, 00:00 and 00:30 tie at 14 and 00:00 wins.
    slots = run("2026-01-14T00:00Z", [10, 2, 2, 10, 10])
    assert starts(cheapest_blocks(slots, 3)) == ["14 00:00"]
    (best,) = cheapest_blocks(slots, 3, load_kw=[7, 7, 2])
    assert best.start == z("2026-01-14T00:30Z")
    assert best.cost_pence == 24.0
    assert best.kwh == 8.0  # (7 + 7 + 2) x 0.5
    assert best.average == 3.0  # 24 p / 8 kWh


def test_a_steady_load_costs_kw_times_half_an_hour_times_each_price() -> None:
    # 7 kW for 1.5 hours on 4, 5, 6: 7 x 0.5 x 15 = 52.5 p for 10.5 kWh.
    slots = run("2026-01-14T00:00Z", [9, 4, 5, 6, 9])
    (best,) = cheapest_blocks(slots, 3, load_kw=[7, 7, 7])
    assert (best.start, best.cost_pence, best.kwh, best.average) == (z("2026-01-14T00:30Z"), 52.5, 10.5, 5.0)


def test_unpublished_half_hours_are_never_assumed() -> None:
    # 01:00 has no price: the cheap 00:30 and 01:30 cannot make one block across it.
    slots = [s for s in run("2026-01-14T00:00Z", [9, 1, 0, 1, 9]) if s.start != z("2026-01-14T01:00Z")]
    assert starts(cheapest_blocks(slots, 2)) == ["14 00:00"]  # 9 + 1 = 10 = 1 + 9: the earliest
    with pytest.raises(NoWindow, match=r"1.5 hours do not fit: the longest stretch of published prices is 1 hours"):
        cheapest_blocks(slots, 3)


def test_longer_than_everything_published_is_a_clear_refusal() -> None:
    slots = run("2026-01-14T22:00Z", [1, 2, 3])
    with pytest.raises(NoWindow, match=r"3 hours do not fit: the longest stretch of published prices is 1.5 hours"):
        cheapest_blocks(slots, 6)
    with pytest.raises(NoWindow, match="the load has 2 half-hourly values"):
        cheapest_blocks(slots, 3, load_kw=[7, 7])


# --- any half-hours ----------------------------------------------------------------------------------


def test_the_cheapest_half_hours_in_any_order() -> None:
    # 5, 1, 9, 1, 5, 2: the three cheapest are 00:30 (1), 01:30 (1) and 02:30 (2): 4 / 3 p/kWh on average.
    slots = run("2026-01-14T00:00Z", [5, 1, 9, 1, 5, 2])
    found = cheapest_half_hours(slots, 3, kw=2)
    assert [s.start for s in found.slots] == [z("2026-01-14T00:30Z"), z("2026-01-14T01:30Z"), z("2026-01-14T02:30Z")]
    assert found.cost_pence == 4.0  # 2 kW x 0.5 h x (1 + 1 + 2)
    assert not found.contiguous


def test_any_half_hours_ties_go_to_the_earliest() -> None:
    # 2, 1, 2, 1, 2: the two 1s, then the first 2 (00:00).
    slots = run("2026-01-14T00:00Z", [2, 1, 2, 1, 2])
    found = cheapest_half_hours(slots, 3)
    assert [s.start.strftime("%H:%M") for s in found.slots] == ["00:00", "00:30", "01:30"]
    with pytest.raises(NoWindow, match=r"only 0.5 hours of published prices at or under 1.5 p/kWh"):
        cheapest_half_hours(slots[:2], 2, max_price=1.5)


# --- allowed periods and clock times -----------------------------------------------------------------


def test_after_and_before_across_midnight_in_uk_summer_time() -> None:
    # 18:00 to 07:00 BST is 17:00 to 06:00 UTC; searching from 20:10 UTC on 14 July, the period under way.
    start, end = z("2026-07-14T19:10Z"), z("2026-07-16T06:00Z")
    periods = allowed_periods(start, end, time(18), time(7), UK)
    assert periods == [(start, z("2026-07-15T06:00Z")), (z("2026-07-15T17:00Z"), end)]


def test_only_after_or_only_before() -> None:
    start, end = z("2026-01-14T09:00Z"), z("2026-01-15T23:00Z")
    assert allowed_periods(start, end, time(18), None, UK) == [(z("2026-01-14T18:00Z"), end)]
    assert allowed_periods(start, end, None, time(7), UK) == [(start, z("2026-01-15T07:00Z"))]
    assert allowed_periods(start, end, None, time(10), UK) == [(start, z("2026-01-14T10:00Z"))]
    assert allowed_periods(start, end, None, None, UK) == [(start, end)]


def test_a_block_keeps_inside_one_period() -> None:
    # 16:00 to 20:00 and 22:00 to 02:00 (GMT): the dip at 20:00-22:00 is out of bounds.
    slots = run("2026-01-14T16:00Z", [9, 9, 8, 8, 9, 9, 9, 9, 1, 1, 1, 1, 7, 7, 7, 7, 5, 5, 6, 6])
    periods = [(z("2026-01-14T16:00Z"), z("2026-01-14T20:00Z")), (z("2026-01-14T22:00Z"), z("2026-01-15T02:00Z"))]
    # In 22:00-02:00 (7, 7, 7, 7, 5, 5, 6, 6) two-hour sums are 28, 26, 24, 23, 22: 00:00-02:00; in
    # 16:00-20:00 none is under 34.
    (best,) = cheapest_blocks(slots, 4, periods=periods)
    assert (best.start, best.end) == (z("2026-01-15T00:00Z"), z("2026-01-15T02:00Z"))
    assert cheapest_half_hours(slots, 2, periods=periods).slots[0].start == z("2026-01-15T00:00Z")


def test_spring_forward_day_00_00_to_03_00_is_two_hours() -> None:
    # On 29 March 2026 the clock jumps from 01:00 GMT to 02:00 BST: 00:00 to 03:00 on the clock is
    # 00:00Z to 02:00Z, four half-hours. Two hours fit exactly; two and a half do not.
    day = [Slot(local_midnight(SPRING) + i * HH, 10 + i) for i in range(46)]
    start = local_midnight(SPRING)
    periods = allowed_periods(start, day[-1].end, time(0), time(3), UK)
    assert periods[0] == (z("2026-03-29T00:00Z"), z("2026-03-29T02:00Z"))
    (best,) = cheapest_blocks(day, 4, periods=periods)
    assert (best.start, best.end) == (z("2026-03-29T00:00Z"), z("2026-03-29T02:00Z"))
    assert best.end.astimezone(UK).strftime("%H:%M %Z") == "03:00 BST"
    with pytest.raises(NoWindow, match=r"2.5 hours do not fit: .* within the times asked is 2 hours"):
        cheapest_blocks(day, 5, periods=periods)
    # A clock time the change skips (01:30) reads as if the clock had not changed: 01:30 GMT.
    assert allowed_periods(start, day[-1].end, time(1, 30), None, UK)[0][0] == z("2026-03-29T01:30Z")


def test_fall_back_day_00_00_to_03_00_is_four_hours_and_the_repeated_hour_counts_twice() -> None:
    # On 25 October 2026 01:00-02:00 happens twice (BST, then GMT): 00:00 BST (23:00Z on the 24th) to
    # 03:00 GMT (03:00Z) is eight half-hours. The second 01:00-01:30 (01:00Z) is the cheapest half-hour.
    start = local_midnight(AUTUMN)
    prices = [9.0] * 50
    prices[4] = 1.0  # 01:00Z, the second 01:00 on the clock
    day = [Slot(start + i * HH, p) for i, p in enumerate(prices)]
    assert len(day) == 50
    periods = allowed_periods(start, day[-1].end, time(0), time(3), UK)
    assert periods[0] == (z("2026-10-24T23:00Z"), z("2026-10-25T03:00Z"))
    (best,) = cheapest_blocks(day, 8, periods=periods)
    assert (best.start, best.end) == (z("2026-10-24T23:00Z"), z("2026-10-25T03:00Z"))
    cheapest = cheapest_half_hours(day, 1, periods=periods).slots[0]
    assert cheapest.start.astimezone(UK).strftime("%H:%M %Z") == "01:00 GMT"
    # The first showing of 01:30 (BST) is where a window "after 01:30" begins.
    assert allowed_periods(start, day[-1].end, time(1, 30), None, UK)[0][0] == z("2026-10-25T00:30Z")


# --- slots from price records ------------------------------------------------------------------------


def columns(*records: tuple[str, str | None, float]) -> PriceColumns:
    return PriceColumns(
        [z(a) for a, _, _ in records],
        [z(b) if b else None for _, b, _ in records],
        [v / 1.05 for _, _, v in records],
        [v for _, _, v in records],
    )


def test_slots_from_records_only_where_a_record_covers_the_whole_half_hour() -> None:
    prices = columns(
        ("2026-01-14T00:00Z", "2026-01-14T01:00Z", 10),
        ("2026-01-14T01:00Z", "2026-01-14T01:15Z", 20),  # ends mid-half-hour: 01:00 is not known
        ("2026-01-14T02:00Z", None, 30),  # open-ended: in force until further notice
    )
    got = slots_from_columns(prices, z("2026-01-14T00:00Z"), z("2026-01-14T03:00Z"))
    assert [(s.start.strftime("%H:%M"), s.price) for s in got] == [
        ("00:00", 10),
        ("00:30", 10),
        ("02:00", 30),
        ("02:30", 30),
    ]


def test_economy_7_slots_take_the_night_rate_in_the_utc_night_hours_in_summer_too() -> None:
    # 00:30-07:30 UTC is 01:30-08:30 BST in July.
    day = columns(("2026-07-01T00:00Z", None, 30))
    night = columns(("2026-07-01T00:00Z", None, 12))
    got = slots_from_columns(
        day, z("2026-07-14T00:00Z"), z("2026-07-14T08:00Z"), night=night, night_hours=(time(0, 30), time(7, 30))
    )
    assert [s.price for s in got] == [30] + [12] * 14 + [30]


# --- the search agrees with trying everything --------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    prices=st.lists(st.integers(-20, 60), min_size=1, max_size=40),
    n=st.integers(1, 8),
    top=st.integers(1, 4),
    cap=st.none() | st.integers(-20, 60),
)
def test_blocks_match_brute_force(prices: list[int], n: int, top: int, cap: int | None) -> None:
    slots = run("2026-01-14T00:00Z", [p / 4 for p in prices])
    ok = [cap is None or p <= cap * 4 for p in prices]
    blocks = sorted(
        (sum(prices[i : i + n]), i) for i in range(len(prices) - n + 1) if all(ok[i : i + n])
    )  # (cost, start): the earliest first among equals
    chosen: list[int] = []
    for _, i in blocks:
        if len(chosen) < top and all(abs(i - j) >= n for j in chosen):
            chosen.append(i)
    if not chosen:
        with pytest.raises(NoWindow):
            cheapest_blocks(slots, n, top=top, max_price=cap)
        return
    found = cheapest_blocks(slots, n, top=top, max_price=cap)
    assert [slots.index(w.slots[0]) for w in found] == chosen


@pytest.mark.parametrize("mode", ["contiguous", "any"])
def test_finish_by_0645_never_takes_the_half_hour_that_ends_at_0700(mode: str) -> None:
    """ "Finish by" is the window's end, not its last half-hour's start: 06:30-07:00 ends after 06:45."""
    # Winter (UK = UTC): from noon, the cheapest half-hours are 06:00 and 06:30 the next morning.
    slots = run("2026-12-06T12:00:00Z", [1.0 if h in (36, 37) else 20.0 for h in range(48)])
    end = slots[-1].end
    for after in (None, time(18, 0)):
        periods = allowed_periods(slots[0].start, end, after, time(6, 45), UK)
        if mode == "contiguous":
            found = cheapest_blocks(slots, 2, periods=periods)[0]
        else:
            found = cheapest_half_hours(slots, 2, periods=periods)
        assert all(s.end <= z("2026-12-07T06:45:00Z") for s in found.slots), starts([found])
        assert z("2026-12-07T06:00:00Z") in [s.start for s in found.slots]  # the cheap one that fits is taken
    with pytest.raises(NoWindow):
        cheapest_blocks(slots, 2, periods=allowed_periods(z("2026-12-07T06:00:00Z"), end, None, time(6, 45), UK))


def test_after_equal_to_before_means_24_hours_a_day() -> None:
    start, end = z("2026-12-06T12:00:00Z"), z("2026-12-09T12:00:00Z")
    periods = allowed_periods(start, end, time(18, 0), time(18, 0), UK)
    assert periods == [
        (z("2026-12-06T12:00:00Z"), z("2026-12-06T18:00:00Z")),  # the period under way at the start
        (z("2026-12-06T18:00:00Z"), z("2026-12-07T18:00:00Z")),
        (z("2026-12-07T18:00:00Z"), z("2026-12-08T18:00:00Z")),
        (z("2026-12-08T18:00:00Z"), z("2026-12-09T12:00:00Z")),
    ]
    # A 24-hour window fits a whole period, and not one that straddles 18:00.
    slots = run("2026-12-06T18:00:00Z", [5.0] * 96)
    found = cheapest_blocks(slots, 48, periods=allowed_periods(slots[0].start, slots[-1].end, time(18), time(18), UK))
    assert found[0].start == z("2026-12-06T18:00:00Z")
    assert found[0].end == z("2026-12-07T18:00:00Z")
