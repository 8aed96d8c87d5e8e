"""domain.periods: each named period as whole UK days, the rule for a running one, the period before, labels;
clock-change days (46 and 50 half-hours), month and year boundaries, a leap day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from octoscope.domain.periods import NAMED, before, clip, custom, label, named, same_point
from octoscope.domain.uktime import HALF_HOUR, UK, BadDate


def span(name: str, today: date) -> tuple[date, date]:
    p = named(name, today)
    return p.first, p.end


def test_each_named_period_mid_month() -> None:
    today = date(2026, 12, 5)  # a Saturday
    assert span("today", today) == (date(2026, 12, 5), date(2026, 12, 6))
    assert span("yesterday", today) == (date(2026, 12, 4), date(2026, 12, 5))
    assert span("this-week", today) == (date(2026, 11, 30), date(2026, 12, 6))  # Monday to today
    assert span("last-week", today) == (date(2026, 11, 23), date(2026, 11, 30))
    assert span("this-month", today) == (date(2026, 12, 1), date(2026, 12, 6))
    assert span("last-month", today) == (date(2026, 11, 1), date(2026, 12, 1))
    assert span("this-year", today) == (date(2026, 1, 1), date(2026, 12, 6))
    assert span("last-year", today) == (date(2025, 1, 1), date(2026, 1, 1))
    assert span("last-7-days", today) == (date(2026, 11, 28), date(2026, 12, 5))  # whole days, as --days 7
    assert span("last-30-days", today) == (date(2026, 11, 5), date(2026, 12, 5))
    assert named("This month", today) == named("this_month", today) == named("this-month", today)
    with pytest.raises(BadDate, match="is not a period; write one of today, yesterday"):
        named("next-month", today)


def test_the_first_of_a_month_and_of_a_year() -> None:
    today = date(2027, 1, 1)  # a Friday
    month = named("this-month", today)
    assert (month.first, month.end, month.days, month.running) == (today, date(2027, 1, 2), 1, True)
    assert span("last-month", today) == (date(2026, 12, 1), date(2027, 1, 1))
    assert span("this-year", today) == (today, date(2027, 1, 2))
    assert span("last-year", today) == (date(2026, 1, 1), date(2027, 1, 1))
    assert span("this-week", today) == (date(2026, 12, 28), date(2027, 1, 2))  # a week across the new year
    assert named("this-week", today).label(True) == "28 Dec 2026 - 1 Jan 2027, standing charge included"
    assert (before(month).first, before(month).end) == (date(2026, 12, 1), date(2026, 12, 2))
    assert before(named("this-year", today)).first == date(2026, 1, 1)


@pytest.mark.parametrize(("day", "half_hours"), [(date(2026, 3, 29), 46), (date(2026, 10, 25), 50)])
def test_clock_change_days_are_one_day_each(day: date, half_hours: int) -> None:
    today = named("today", day)
    assert today.days == 1
    assert (today.stop - today.start) // HALF_HOUR == half_hours
    assert today.start.astimezone(UK).isoformat()[:19] == f"{day.isoformat()}T00:00:00"  # local midnight
    week = named("this-week", day)  # both are Sundays: the week's seventh day
    assert (week.days, week.running) == (7, False)
    assert (week.stop - week.start) // HALF_HOUR == 7 * 48 + half_hours - 48
    # The day after, "yesterday" is the clock-change day with all its half-hours.
    yesterday = named("yesterday", day + timedelta(days=1))
    assert (yesterday.start, yesterday.stop) == (today.start, today.stop)


def test_the_period_before() -> None:
    today = date(2026, 3, 31)
    month = named("this-month", today)
    earlier = before(month)
    # 31 days of March so far against all 28 of February
    assert (earlier.first, earlier.end) == (date(2026, 2, 1), date(2026, 3, 1))
    assert before(named("this-month", date(2026, 3, 10))).end == date(2026, 2, 11)
    # over periods compare whole with whole: 30 days of November against 31 of October
    assert (
        before(named("last-month", date(2026, 12, 5))).first,
        before(named("last-month", date(2026, 12, 5))).end,
    ) == (
        date(2026, 10, 1),
        date(2026, 11, 1),
    )
    assert before(named("last-year", date(2025, 6, 1))).first == date(2023, 1, 1)
    # all of 2025 but New Year's Eve against as many days of leap 2024: up to 30 December
    assert before(named("this-year", date(2025, 12, 30))).end == date(2024, 12, 30)
    assert before(named("today", today)) == before(named("today", today))
    assert before(named("today", today)).first == date(2026, 3, 30)
    assert (before(named("last-7-days", today)).first, before(named("last-7-days", today)).end) == (
        date(2026, 3, 17),
        date(2026, 3, 24),
    )
    week = custom(date(2026, 3, 2), date(2026, 3, 9), today)
    assert (before(week).first, before(week).end) == (date(2026, 2, 23), date(2026, 3, 2))


def test_the_rule_never_counts_a_day_after_today() -> None:
    today = date(2026, 2, 28)
    assert clip(date(2026, 2, 1), date(2026, 3, 1), today) == date(2026, 3, 1)
    assert clip(date(2026, 2, 1), date(2026, 4, 1), today) == date(2026, 3, 1)
    assert clip(date(2026, 5, 1), date(2026, 6, 1), today) == date(2026, 5, 1)  # wholly ahead: empty
    leap = named("this-month", date(2028, 2, 29))
    assert (leap.first, leap.end, leap.whole_end) == (date(2028, 2, 1), date(2028, 3, 1), date(2028, 3, 1))
    assert not leap.running
    assert custom(date(2026, 5, 1), date(2026, 6, 1), today).label(True).startswith("no days yet")


def test_labels() -> None:
    assert label(date(2026, 12, 1), date(2026, 12, 6), True) == "1-5 Dec 2026, standing charge included"
    assert label(date(2026, 11, 28), date(2026, 12, 6), False) == "28 Nov - 5 Dec 2026, energy only"
    assert label(date(2026, 12, 28), date(2027, 1, 4), True) == "28 Dec 2026 - 3 Jan 2027, standing charge included"
    assert label(date(2026, 10, 25), date(2026, 10, 26), True) == "25 Oct 2026, standing charge included"
    assert set(NAMED) >= {"today", "this-month", "last-month", "this-week"}


def test_same_point_across_clock_changes() -> None:
    # This week's data stops at 15:00 on Wednesday 28 October (GMT); last week's Wednesday was in BST.
    week = named("this-week", date(2026, 10, 30))
    earlier = before(week)
    cut = datetime.fromisoformat("2026-10-28T15:00:00+00:00")
    assert same_point(cut, week, earlier).isoformat() == "2026-10-21T14:00:00+00:00"  # 15:00 BST
    assert same_point(week.start, week, earlier) == earlier.start
    assert same_point(week.stop, week, earlier) == earlier.stop
    # Before the period began (no data in it yet): nothing of the one before either.
    assert same_point(week.start - HALF_HOUR, week, earlier) == earlier.start
