"""Live demand as pure functions: levels, groups, summaries, and projections on days of 46, 48 and 50
half-hours."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from octoscope.domain.live import (
    DayRates,
    LiveReading,
    from_telemetry,
    group,
    half_hours,
    level,
    project,
    summarise,
)
from octoscope.domain.models import TelemetryReading
from octoscope.domain.uktime import local_day_bounds

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def reading(seconds: int, demand: float, kwh: float = 0.001, pence: float | None = 0.02) -> LiveReading:
    return LiveReading(T0 + timedelta(seconds=seconds), demand, kwh, False, pence)


@pytest.mark.parametrize(
    ("watts", "expected"),
    [
        (-800.0, "green"),
        (0.0, "green"),
        (499.9, "green"),
        (500.0, "blue"),
        (999.9, "blue"),
        (1000.0, "yellow"),
        (1999.0, "yellow"),
        (2000.0, "orange"),
        (3000.0, "orange"),
        (3000.1, "red"),
        (11000.0, "red"),
    ],
)
def test_levels_follow_the_dashboard_thresholds(watts: float, expected: str) -> None:
    assert level(watts) == expected


def test_a_telemetry_reading_becomes_watts_and_kilowatt_hours() -> None:
    got = from_telemetry(TelemetryReading(T0, 1_200_000.0, 3.0, 1080.0, 0.0))
    assert got == LiveReading(T0, 1080.0, 0.003)
    assert got.id == int(T0.timestamp())


def test_a_missing_demand_is_the_mean_power_of_the_energy() -> None:
    assert from_telemetry(TelemetryReading(T0, None, 5.0, None, None)).demand_w == 1800.0  # 5 Wh in 10 s
    assert from_telemetry(TelemetryReading(T0, None, None, 250.0, None)).kwh == 0.0


def test_groups_are_aligned_to_the_clock_with_mean_demand_and_summed_energy() -> None:
    readings = [reading(s, 100.0 * (i + 1)) for i, s in enumerate(range(30, 150, 10))]  # 09:00:30 .. 09:02:20
    minutes = group(readings, 60)
    assert [g.at for g in minutes] == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert minutes[0].demand_w == pytest.approx((100 + 200 + 300) / 3)  # 09:00:30, :40, :50
    assert minutes[1].kwh == pytest.approx(0.006)
    assert minutes[2].pence == pytest.approx(0.06)
    assert group(readings, 10) == readings


def test_a_group_with_an_unpriced_or_stale_reading_says_so() -> None:
    readings = [reading(0, 100.0), reading(10, 100.0, pence=None)._replace(stale=True)]
    (one,) = group(readings, 300)
    assert one.pence is None
    assert one.stale is True


def test_a_summary_gives_current_average_peak_least_energy_and_cost() -> None:
    found = summarise([reading(0, 400.0), reading(10, 2600.0), reading(20, 1000.0, pence=None)])
    assert found is not None
    assert (found.current_w, found.peak_kw, found.min_kw) == (1000.0, 2.6, 0.4)
    assert found.average_kw == pytest.approx(4.0 / 3)
    assert found.kwh == pytest.approx(0.003)
    assert found.pence == pytest.approx(0.04)
    assert found.priced is False
    assert summarise([]) is None


@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 29), 46), (date(2026, 6, 1), 48), (date(2026, 10, 25), 50)])
def test_a_local_day_has_46_48_or_50_half_hours(day: date, count: int) -> None:
    slots = half_hours(day)
    assert len(slots) == count
    assert slots[0] == local_day_bounds(day)[0]
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(slots))


def flat(day: date, rate: float) -> DayRates:
    return DayRates(day, dict.fromkeys(half_hours(day), rate), 50.0)


@pytest.mark.parametrize(
    ("day", "hours", "month_hours"),
    [
        (date(2026, 3, 29), 23, 31 * 24 - 1),  # the clock goes forward: a 23-hour day, a 743-hour March
        (date(2026, 6, 1), 24, 30 * 24),
        (date(2026, 10, 25), 25, 31 * 24 + 1),  # back: a 25-hour day, a 745-hour October
    ],
)
def test_projections_count_the_hours_the_local_day_and_month_really_have(
    day: date, hours: int, month_hours: int
) -> None:
    now = local_day_bounds(day)[0] + timedelta(hours=12)
    projection = project(2000.0, 1000.0, flat(day, 20.0), now)
    assert projection.rate == 20.0
    assert projection.per_hour == pytest.approx(40.0)  # 2 kW now at 20 p
    assert projection.day == pytest.approx(1.0 * hours * 20.0)  # 1 kW on average, every hour of the day
    assert projection.month == pytest.approx(1.0 * month_hours * 20.0)


def test_a_day_of_half_hourly_prices_weighs_each_half_hour_at_its_own_rate() -> None:
    day = date(2026, 10, 25)  # 50 half-hours
    slots = half_hours(day)
    rates = {t: (10.0 if i < 10 else 30.0) for i, t in enumerate(slots)}  # ten cheap half-hours, forty dear
    now = slots[0] + timedelta(minutes=5)
    projection = project(500.0, 2000.0, DayRates(day, rates), now)
    assert projection.rate == 10.0
    assert projection.per_hour == pytest.approx(5.0)
    assert projection.day == pytest.approx(2.0 * (10 * 0.5 * 10.0 + 40 * 0.5 * 30.0))
    mean_rate = (10 * 10.0 + 40 * 30.0) / 50
    assert projection.month == pytest.approx(2.0 * 745 * mean_rate)


def test_a_half_hour_without_a_price_counts_at_the_mean_of_those_known() -> None:
    day = date(2026, 3, 29)  # 46 half-hours
    slots = half_hours(day)
    rates = {t: 20.0 for t in slots[:23]} | {t: 40.0 for t in slots[23:44]}  # the last two unknown
    projection = project(1000.0, 1000.0, DayRates(day, rates), slots[-1])
    mean = (23 * 20.0 + 21 * 40.0) / 44
    assert projection.rate is None  # not known now
    assert projection.per_hour is None
    assert projection.day == pytest.approx(0.5 * (23 * 20.0 + 21 * 40.0 + 2 * mean))


def test_without_prices_for_today_nothing_is_projected() -> None:
    yesterday = flat(date(2026, 11, 20), 20.0)
    assert project(1000.0, 1000.0, yesterday, T0).day is None
    assert project(1000.0, 1000.0, None, T0).rate is None


def test_the_rate_in_force_is_the_one_of_the_half_hour_containing_the_instant() -> None:
    day = date(2026, 11, 21)
    slots = half_hours(day)
    rates = DayRates(day, {t: float(i) for i, t in enumerate(slots)})
    assert rates.rate_at(slots[18]) == 18.0
    assert rates.rate_at(slots[18] + timedelta(minutes=29, seconds=59)) == 18.0
    assert rates.rate_at(slots[19]) == 19.0
