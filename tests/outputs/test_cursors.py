"""What an incremental export writes, from what the store holds and the cursor: pure, in UK local days
(across the clock changes: 29 March 2026 has 46 half-hours, 25 October 2026 has 50)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from octoscope.domain.uktime import local_midnight
from octoscope.outputs.influx import advanced, plan_ranges
from octoscope.store.sqlite import ExportCursor

AT = datetime(2026, 11, 21, 9, tzinfo=UTC)
FOUR_DAYS = timedelta(days=4)


def day(y: int, m: int, d: int) -> datetime:
    return local_midnight(date(y, m, d))


def cursor(start: datetime, end: datetime) -> ExportCursor:
    return ExportCursor(start, end, AT, 100)


def test_the_first_run_writes_whole_local_days_of_everything() -> None:
    # Readings from 00:30 BST on 30 March to 23:00 UTC on 25 October (the 50-half-hour day's last).
    extent = (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), datetime(2026, 10, 26, 0, 0, tzinfo=UTC))
    assert plan_ranges(extent, None, FOUR_DAYS, by_day=True) == [(day(2026, 3, 30), day(2026, 10, 26))]
    assert day(2026, 3, 30) == datetime(2026, 3, 29, 23, tzinfo=UTC)


def test_then_only_the_last_days_again_counted_in_local_days_across_the_clock_change() -> None:
    extent = (day(2026, 1, 1), day(2026, 10, 28))
    done = cursor(day(2026, 1, 1), day(2026, 10, 27))
    # Four local days before 27 October: 23 October, across the 50-half-hour 25th, at local midnight (BST).
    assert plan_ranges(extent, done, FOUR_DAYS, by_day=True) == [(day(2026, 10, 23), day(2026, 10, 28))]
    assert day(2026, 10, 23) == datetime(2026, 10, 22, 23, tzinfo=UTC)
    spring = cursor(day(2026, 1, 1), day(2026, 3, 31))
    assert plan_ranges((day(2026, 1, 1), day(2026, 4, 2)), spring, FOUR_DAYS, by_day=True) == [
        (day(2026, 3, 27), day(2026, 4, 2))
    ]


def test_an_older_back_fill_is_written_and_the_middle_is_not_again() -> None:
    done = cursor(day(2026, 6, 1), day(2026, 11, 1))
    extent = (day(2025, 1, 1), day(2026, 11, 3))
    assert plan_ranges(extent, done, FOUR_DAYS, by_day=True) == [
        (day(2025, 1, 1), day(2026, 6, 1)),
        (day(2026, 10, 28), day(2026, 11, 3)),
    ]


def test_nothing_stored_nothing_written() -> None:
    assert plan_ranges(None, None, FOUR_DAYS, by_day=True) == []
    assert plan_ranges(None, cursor(day(2026, 1, 1), day(2026, 2, 1)), FOUR_DAYS, by_day=True) == []


def test_instants_are_not_rounded_to_days() -> None:
    first, last = datetime(2026, 11, 20, 8, 0, 10, tzinfo=UTC), datetime(2026, 11, 21, 9, 0, 1, tzinfo=UTC)
    done = cursor(first, datetime(2026, 11, 21, 8, 0, 1, tzinfo=UTC))
    assert plan_ranges((first, last), done, timedelta(0), by_day=False) == [
        (datetime(2026, 11, 21, 8, 0, 1, tzinfo=UTC), last)
    ]


def test_asked_days_are_written_whatever_the_cursor_says() -> None:
    done = cursor(day(2025, 1, 1), day(2026, 11, 1))
    extent = (day(2025, 1, 1), day(2026, 11, 1))
    asked = (day(2026, 3, 1), day(2026, 4, 1))
    assert plan_ranges(extent, done, FOUR_DAYS, by_day=True, asked=asked) == [asked]
    assert plan_ranges(extent, done, FOUR_DAYS, by_day=True, asked=(day(2027, 1, 1), day(2027, 2, 1))) == []


def test_the_cursor_grows_by_what_touches_it_only() -> None:
    done = cursor(day(2026, 6, 1), day(2026, 11, 1))
    grown = advanced(done, [(day(2025, 1, 1), day(2026, 6, 1)), (day(2026, 10, 28), day(2026, 11, 3))], 7, AT)
    assert grown == ExportCursor(day(2025, 1, 1), day(2026, 11, 3), AT, 7)
    # Days asked for apart from it: not joined, so the days between are never taken as written.
    apart = advanced(done, [(day(2024, 1, 1), day(2024, 2, 1))], 5, AT)
    assert apart == ExportCursor(day(2026, 6, 1), day(2026, 11, 1), AT, 5)
    assert advanced(None, [(day(2024, 1, 1), day(2024, 2, 1))], 5, AT) == ExportCursor(
        day(2024, 1, 1), day(2024, 2, 1), AT, 5
    )
    assert advanced(done, [], 0, AT) == done
