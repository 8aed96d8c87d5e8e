"""Costs on hand-computed cases (the arithmetic is in each test), and properties that must hold for any data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octoscope.domain.costs import HalfHourCost, Prices, cost, cost_exc_inc, gas_kwh, prices_in_force, unit_rates
from octoscope.domain.models import Agreement, Charge, Rate
from octoscope.domain.uktime import local_midnight

HH = timedelta(minutes=30)
AGILE = "E-1R-AGILE-24-10-01-J"
FLEX = "E-1R-VAR-22-11-01-J"
GO = "E-1R-GO-VAR-22-10-14-J"
E7 = "E-2R-VAR-22-11-01-J"
GAS = "G-1R-VAR-22-11-01-J"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def flat(
    value: float, start: datetime = LONG_AGO, end: datetime | None = None, method: str | None = "DIRECT_DEBIT"
) -> Rate:
    return Rate(start, end, value / 1.05, value, method)


def slots(day: date) -> list[datetime]:
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return [start + i * HH for i in range(int((end - start) / HH))]


def agreement(code: str, start: datetime = LONG_AGO, end: datetime | None = None) -> Agreement:
    return Agreement(code, start, end)


def test_the_long_autumn_day_on_agile_has_50_half_hours_and_one_standing_charge() -> None:
    day = date(2026, 10, 25)
    times = slots(day)
    assert len(times) == 50
    rates = [Rate(t, t + HH, 0.0, 10 + 0.1 * i, None) for i, t in enumerate(times)]
    prices = {AGILE: Prices({Charge.STANDARD: rates}, [flat(50.0, method=None)], "DIRECT_DEBIT")}
    report = cost([(t, 0.5) for t in times], [agreement(AGILE)], prices, day, day + timedelta(days=1))
    # sum over i=0..49 of 0.5 x (10 + 0.1 i) = 0.5 x (500 + 0.1 x 1225) = 311.25 p; plus 50 p standing
    assert report.totals.energy_cost == pytest.approx(311.25)
    assert report.totals.standing_charge == 50.0
    assert report.totals.total == pytest.approx(361.25)
    assert report.totals.kwh == pytest.approx(25.0)
    assert report.totals.partial_days == []


def test_the_short_spring_day_on_agile_has_46_half_hours() -> None:
    day = date(2026, 3, 29)
    times = slots(day)
    assert len(times) == 46
    rates = [Rate(t, t + HH, 0.0, 10 + 0.1 * i, None) for i, t in enumerate(times)]
    prices = {AGILE: Prices({Charge.STANDARD: rates}, [flat(50.0, method=None)], "DIRECT_DEBIT")}
    report = cost([(t, 0.5) for t in times], [agreement(AGILE)], prices, day, day + timedelta(days=1))
    # 0.5 x (460 + 0.1 x 1035) = 281.75 p; plus 50 p
    assert report.totals.total == pytest.approx(331.75)
    assert report.totals.partial_days == []


@pytest.mark.parametrize("day", [date(2026, 1, 14), date(2026, 7, 14)])
def test_economy_7_night_is_0030_to_0730_utc_in_winter_and_in_summer(day: date) -> None:
    prices = {E7: Prices({Charge.DAY: [flat(30.0)], Charge.NIGHT: [flat(15.0)]}, [flat(40.0)], "DIRECT_DEBIT")}
    times = slots(day)
    report = cost([(t, 1.0) for t in times], [agreement(E7)], prices, day, day + timedelta(days=1))
    # 00:30-07:30 UTC is 14 half-hours at 15 p, the other 34 at 30 p: 210 + 1020 = 1230 p; plus 40 p
    assert report.totals.bands == {"night": [14.0, 210.0], "day": [34.0, 1020.0]}
    assert report.totals.total == pytest.approx(1270.0)


def test_a_tariff_switch_at_noon_prices_each_half_of_the_day_by_its_tariff() -> None:
    day = date(2026, 2, 10)
    switch = z("2026-02-10T12:00:00Z")
    prices = {
        FLEX: Prices({Charge.STANDARD: [flat(20.0)]}, [flat(45.0)], "DIRECT_DEBIT"),
        GO: Prices({Charge.STANDARD: [flat(30.0)]}, [flat(60.0)], "DIRECT_DEBIT"),
    }
    agreements = [agreement(FLEX, LONG_AGO, switch), agreement(GO, switch)]
    report = cost([(t, 1.0) for t in slots(day)], agreements, prices, day, day + timedelta(days=1))
    # 24 half-hours at 20 p and 24 at 30 p = 1200 p; the day began on Flexible: its 45 p standing charge
    assert report.totals.energy_cost == pytest.approx(1200.0)
    assert report.totals.standing_charge == 45.0
    nxt = cost(
        [(t, 1.0) for t in slots(day + timedelta(days=1))],
        agreements,
        prices,
        day + timedelta(days=1),
        day + timedelta(days=2),
    )
    assert nxt.totals.standing_charge == 60.0


def test_flexible_with_a_price_change_mid_month() -> None:
    change = z("2026-01-15T00:00:00Z")
    rates = [flat(25.0, LONG_AGO, change), flat(27.0, change)]
    prices = {FLEX: Prices({Charge.STANDARD: rates}, [flat(50.0)], "DIRECT_DEBIT")}
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(31)]
    readings = [(t, 1.0) for d in days for t in slots(d)]
    report = cost(readings, [agreement(FLEX)], prices, date(2026, 1, 1), date(2026, 2, 1), by="month")
    # 14 days x 48 x 25 p + 17 days x 48 x 27 p = 16800 + 22032 = 38832 p; 31 x 50 p standing = 1550 p
    assert report.totals.energy_cost == pytest.approx(38832.0)
    assert report.totals.standing_charge == pytest.approx(1550.0)
    ((start, end, january),) = report.buckets
    assert (start, end) == (date(2026, 1, 1), date(2026, 2, 1))
    assert january.total == pytest.approx(40382.0)


def test_gas_in_cubic_metres_is_converted_before_pricing() -> None:
    day = date(2026, 1, 14)
    prices = {GAS: Prices({Charge.STANDARD: [flat(6.0)]}, [flat(30.0)], "DIRECT_DEBIT")}
    kwh = gas_kwh(1.0)  # 1 m³ x 1.02264 x 39.5 MJ/m³ / 3.6 = 11.22063... kWh
    assert kwh == pytest.approx(1.02264 * 39.5 / 3.6)
    report = cost([(t, kwh) for t in slots(day)], [agreement(GAS)], prices, day, day + timedelta(days=1))
    assert report.totals.energy_cost == pytest.approx(48 * 11.220633333 * 6.0, rel=1e-9)
    assert gas_kwh(1.0, calorific_value=40.0) == pytest.approx(1.02264 * 40 / 3.6)


def test_export_earnings_are_priced_like_import() -> None:
    day = date(2026, 6, 21)
    outgoing = "E-1R-OUTGOING-VAR-24-10-26-J"
    prices = {outgoing: Prices({Charge.STANDARD: [flat(15.0, method=None)]}, [flat(0.0, method=None)], "DIRECT_DEBIT")}
    readings = [(t, 0.4) for t in slots(day)[20:30]]
    report = cost(readings, [agreement(outgoing)], prices, day, day + timedelta(days=1))
    # 10 half-hours x 0.4 kWh x 15 p = 60 p; the export day has all its other half-hours missing
    assert report.totals.energy_cost == pytest.approx(60.0)
    assert report.totals.partial_days == [day]


def test_missing_readings_rates_or_standing_charge_make_a_day_partial_never_zero() -> None:
    day = date(2026, 1, 14)
    times = slots(day)
    full = {FLEX: Prices({Charge.STANDARD: [flat(20.0)]}, [flat(45.0)], "DIRECT_DEBIT")}
    gap = cost([(t, 1.0) for t in times[:-1]], [agreement(FLEX)], full, day, day + timedelta(days=1))
    assert gap.totals.partial_days == [day]
    no_rate = {FLEX: Prices({Charge.STANDARD: [flat(20.0, LONG_AGO, times[10])]}, [flat(45.0)], "DIRECT_DEBIT")}
    report = cost([(t, 1.0) for t in times], [agreement(FLEX)], no_rate, day, day + timedelta(days=1))
    assert report.totals.partial_days == [day]
    assert report.totals.energy_cost == pytest.approx(200.0)  # the 10 priced half-hours; the rest not as zero
    no_standing = {FLEX: Prices({Charge.STANDARD: [flat(20.0)]}, [], "DIRECT_DEBIT")}
    assert cost(
        [(t, 1.0) for t in times], [agreement(FLEX)], no_standing, day, day + timedelta(days=1)
    ).totals.partial_days == [day]


def test_the_payment_method_chooses_the_price() -> None:
    day = date(2026, 1, 14)
    rates = [flat(20.0, method="DIRECT_DEBIT"), flat(21.0, method="NON_DIRECT_DEBIT")]
    readings = [(t, 1.0) for t in slots(day)]
    for method, expected in (("DIRECT_DEBIT", 960.0), ("NON_DIRECT_DEBIT", 1008.0)):
        prices = {FLEX: Prices({Charge.STANDARD: rates}, [flat(45.0, method=None)], method)}
        assert cost(readings, [agreement(FLEX)], prices, day, day + timedelta(days=1)).totals.energy_cost == expected


def test_vat_exclusive_uses_the_exc_vat_values() -> None:
    day = date(2026, 1, 14)
    prices = {
        FLEX: Prices(
            {Charge.STANDARD: [Rate(LONG_AGO, None, 20.0, 21.0, None)]},
            [Rate(LONG_AGO, None, 40.0, 42.0, None)],
            "DIRECT_DEBIT",
        )
    }
    report = cost(
        [(t, 1.0) for t in slots(day)], [agreement(FLEX)], prices, day, day + timedelta(days=1), inc_vat=False
    )
    assert report.totals.total == pytest.approx(48 * 20.0 + 40.0)


def test_billing_rounding_rounds_consumption_and_rate_per_half_hour() -> None:
    day = date(2026, 1, 14)
    prices = {FLEX: Prices({Charge.STANDARD: [flat(26.4159)]}, [flat(45.0)], "DIRECT_DEBIT")}
    readings = [(slots(day)[0], 0.028)]
    exact = cost(readings, [agreement(FLEX)], prices, day, day + timedelta(days=1))
    billing = cost(readings, [agreement(FLEX)], prices, day, day + timedelta(days=1), rounding="billing")
    assert exact.totals.energy_cost == pytest.approx(0.028 * 26.4159)
    assert billing.totals.energy_cost == pytest.approx(0.03 * 26.42)  # 0.7926 p


# --- properties --------------------------------------------------------------------------------------------

START = date(2026, 3, 20)  # the window spans the spring clock change
DAYS = 20
START_SWITCH = datetime(2026, 4, 2, 13, 17, tzinfo=UTC)  # an odd instant, after the clock change


def _prices() -> dict[str, Prices]:
    change = z("2026-03-27T10:00:00Z")
    return {
        FLEX: Prices(
            {Charge.STANDARD: [flat(20.0, LONG_AGO, change), flat(23.5, change)]}, [flat(45.0)], "DIRECT_DEBIT"
        )
    }


@st.composite
def readings(draw: st.DrawFn) -> list[tuple[datetime, float]]:
    """Twenty days of half-hours, some missing, random kWh: drawn from a seed to keep examples small."""
    rng = random.Random(draw(st.integers(min_value=0, max_value=2**32)))
    missing = draw(st.sampled_from([0.0, 0.01, 0.3]))
    times = [t for i in range(DAYS) for t in slots(START + timedelta(days=i))]
    return [(t, round(rng.uniform(0, 5), 3)) for t in times if rng.random() >= missing]


@settings(max_examples=40, deadline=None)
@given(readings(), st.integers(min_value=1, max_value=DAYS - 1))
def test_costs_add_up_across_any_split(data: list[tuple[datetime, float]], cut: int) -> None:
    middle = START + timedelta(days=cut)
    end = START + timedelta(days=DAYS)
    whole = cost(data, [agreement(FLEX)], _prices(), START, end).totals
    left = cost(data, [agreement(FLEX)], _prices(), START, middle).totals
    right = cost(data, [agreement(FLEX)], _prices(), middle, end).totals
    assert whole.energy_cost == pytest.approx(left.energy_cost + right.energy_cost)
    assert whole.standing_charge == pytest.approx(left.standing_charge + right.standing_charge)
    assert whole.kwh == pytest.approx(sum(v for _, v in data))
    assert sorted(whole.partial_days) == sorted(left.partial_days + right.partial_days)


@settings(max_examples=20, deadline=None)
@given(readings(), st.sampled_from(["day", "week", "month"]))
def test_every_local_day_pays_one_standing_charge_and_buckets_add_up(
    data: list[tuple[datetime, float]], by: str
) -> None:
    end = START + timedelta(days=DAYS)
    report = cost(data, [agreement(FLEX)], _prices(), START, end, by=by)  # type: ignore[arg-type]
    assert report.totals.standing_charge == pytest.approx(45.0 * DAYS)
    assert sum(t.energy_cost for _, _, t in report.buckets) == pytest.approx(report.totals.energy_cost)
    assert sum(t.kwh for _, _, t in report.buckets) == pytest.approx(sum(v for _, v in data))
    assert report.buckets[0][0] == START
    assert report.buckets[-1][1] == end


def test_go_off_peak_and_peak_bands_come_from_the_published_periods() -> None:
    # Octopus Go publishes each day's periods: 8.5 p from 00:30 to 05:30 local, 30 p otherwise.
    day = date(2026, 7, 14)  # BST: the local periods are an hour earlier in UTC
    midnight = local_midnight(day)
    cheap_from, cheap_to = midnight + timedelta(minutes=30), midnight + timedelta(hours=5, minutes=30)
    rates = [
        Rate(midnight - timedelta(hours=19), cheap_from, 0.0, 30.0, "DIRECT_DEBIT"),
        Rate(cheap_from, cheap_to, 0.0, 8.5, "DIRECT_DEBIT"),
        Rate(cheap_to, midnight + timedelta(days=1, minutes=30), 0.0, 30.0, "DIRECT_DEBIT"),
    ]
    prices = {GO: Prices({Charge.STANDARD: rates}, [flat(45.0)], "DIRECT_DEBIT")}
    report = cost([(t, 1.0) for t in slots(day)], [agreement(GO)], prices, day, day + timedelta(days=1))
    # 10 off-peak half-hours at 8.5 p = 85 p; 38 peak half-hours at 30 p = 1140 p
    assert report.totals.bands == {"peak": [38.0, 1140.0], "off-peak": [10.0, 85.0]}
    assert cheap_from == z("2026-07-13T23:30:00Z")


def test_cosy_has_three_levels_off_peak_standard_and_peak() -> None:
    cosy = "E-1R-COSY-22-12-08-J"
    day = date(2026, 1, 14)  # GMT: local = UTC
    m = local_midnight(day)

    def at(hours: float) -> datetime:
        return m + timedelta(hours=hours)

    # 13 p 04:00-07:00 and 13:00-16:00; 40 p 16:00-19:00; 26 p otherwise
    periods = [(0, 4, 26.0), (4, 7, 13.0), (7, 13, 26.0), (13, 16, 13.0), (16, 19, 40.0), (19, 24, 26.0)]
    rates = [Rate(at(a), at(b), 0.0, v, "DIRECT_DEBIT") for a, b, v in periods]
    prices = {cosy: Prices({Charge.STANDARD: rates}, [flat(45.0)], "DIRECT_DEBIT")}
    report = cost([(t, 1.0) for t in slots(day)], [agreement(cosy)], prices, day, day + timedelta(days=1))
    # 12 half-hours at 13 p = 156 p; 6 at 40 p = 240 p; 30 at 26 p = 780 p
    assert report.totals.bands == {"standard": [30.0, 780.0], "off-peak": [12.0, 156.0], "peak": [6.0, 240.0]}


def test_tracker_prices_each_day_by_that_days_rate() -> None:
    tracker = "E-1R-SILVER-24-12-31-J"
    first = date(2026, 1, 14)
    rates = [
        Rate(
            local_midnight(first + timedelta(days=i)),
            local_midnight(first + timedelta(days=i + 1)),
            0.0,
            20.0 + i,
            "DIRECT_DEBIT",
        )
        for i in range(3)
    ]
    prices = {tracker: Prices({Charge.STANDARD: rates}, [flat(45.0)], "DIRECT_DEBIT")}
    readings = [(t, 0.5) for i in range(3) for t in slots(first + timedelta(days=i))]
    report = cost(readings, [agreement(tracker)], prices, first, first + timedelta(days=3), by="day")
    # each day 48 x 0.5 kWh = 24 kWh at 20, 21 and 22 p: 480 + 504 + 528 = 1512 p
    assert [t.energy_cost for _, _, t in report.buckets] == pytest.approx([480.0, 504.0, 528.0])
    assert report.totals.bands == {"standard": [72.0, pytest.approx(1512.0)]}


# --- found in review -----------------------------------------------------------------------------------------


def test_overlapping_agreements_price_a_day_the_same_whatever_the_range() -> None:
    # A's end was recorded after B's start: the later agreement takes over where it begins.
    switch = z("2026-02-10T12:00:00Z")
    agreements = [agreement(FLEX, LONG_AGO, z("2026-02-11T00:00:00Z")), agreement(GO, switch)]
    prices = {
        FLEX: Prices({Charge.STANDARD: [flat(20.0)]}, [flat(45.0)], "DIRECT_DEBIT"),
        GO: Prices({Charge.STANDARD: [flat(30.0)]}, [flat(60.0)], "DIRECT_DEBIT"),
    }
    days = [date(2026, 2, 9), date(2026, 2, 10), date(2026, 2, 11)]
    readings = [(t, 1.0) for d in days for t in slots(d)]
    alone = cost(readings, agreements, prices, days[1], days[2])
    inside = cost(readings, agreements, prices, days[0], days[2] + timedelta(days=1), by="day")
    assert alone.totals.energy_cost == pytest.approx(24 * 20 + 24 * 30)
    assert inside.days[days[1]].energy_cost == alone.totals.energy_cost


def test_a_move_in_at_noon_is_not_a_partial_day_and_its_average_counts_priced_kwh_only() -> None:
    day = date(2026, 1, 14)
    moved_in = z("2026-01-14T12:00:00Z")
    prices = {FLEX: Prices({Charge.STANDARD: [flat(20.0)]}, [flat(45.0)], "DIRECT_DEBIT")}
    readings = [(t, 1.0) for t in slots(day)]  # the meter read all day; the home was ours from noon
    report = cost(readings, [agreement(FLEX, moved_in)], prices, day, day + timedelta(days=1))
    assert report.totals.partial_days == []
    assert report.totals.kwh == 24.0  # the morning was the previous occupant's
    assert report.totals.average_p_per_kwh == pytest.approx(20.0)
    no_rate_after_3 = {
        FLEX: Prices({Charge.STANDARD: [flat(20.0, LONG_AGO, z("2026-01-14T15:00:00Z"))]}, [flat(45.0)], "DIRECT_DEBIT")
    }
    partial = cost(readings, [agreement(FLEX, moved_in)], no_rate_after_3, day, day + timedelta(days=1))
    assert partial.totals.partial_days == [day]
    assert partial.totals.average_p_per_kwh == pytest.approx(20.0)  # not diluted by the unpriced kWh


def test_export_has_no_standing_charge_to_miss() -> None:
    day = date(2026, 6, 21)
    outgoing = "E-1R-OUTGOING-VAR-24-10-26-J"
    prices = {outgoing: Prices({Charge.STANDARD: [flat(15.0, method=None)]}, [], "DIRECT_DEBIT")}
    readings = [(t, 0.1) for t in slots(day)]
    report = cost(readings, [agreement(outgoing)], prices, day, day + timedelta(days=1), standing_charges=False)
    assert report.totals.partial_days == []
    assert report.totals.standing_charge == 0.0


def test_a_non_smart_economy_7_night_window_can_be_given() -> None:
    day = date(2026, 1, 14)
    prices = {E7: Prices({Charge.DAY: [flat(30.0)], Charge.NIGHT: [flat(15.0)]}, [flat(40.0)], "DIRECT_DEBIT")}
    report = cost(
        [(t, 1.0) for t in slots(day)],
        [agreement(E7)],
        prices,
        day,
        day + timedelta(days=1),
        night=(time(0, 0), time(7, 0)),
    )
    assert report.totals.bands["night"] == [14.0, 210.0]  # 00:00-07:00 UTC: 14 half-hours


def test_intelligent_go_bills_smart_dispatches_at_the_off_peak_price_and_boosts_at_the_normal_one() -> None:
    iog = "E-1R-INTELLI-VAR-24-10-29-J"
    day = date(2026, 1, 14)  # GMT: local = UTC
    m = local_midnight(day)

    def at(hours: float) -> datetime:
        return m + timedelta(hours=hours)

    # 7 p from 23:30 to 05:30, 30 p otherwise
    rates = [
        Rate(at(-0.5), at(5.5), 0.0, 7.0, "DIRECT_DEBIT"),
        Rate(at(5.5), at(23.5), 0.0, 30.0, "DIRECT_DEBIT"),
        Rate(at(23.5), at(29.5), 0.0, 7.0, "DIRECT_DEBIT"),
    ]
    prices = {iog: Prices({Charge.STANDARD: rates}, [flat(46.0)], "DIRECT_DEBIT")}
    # 0.2 kWh every half-hour, plus 3.5 kWh in 18:00-19:00 (smart) and 19:00-19:30 (boost)
    extra = {at(18): 3.5, at(18.5): 3.5, at(19): 3.5}
    readings = [(t, 0.2 + extra.get(t, 0.0)) for t in slots(day)]
    plain = cost(readings, [agreement(iog)], prices, day, day + timedelta(days=1))
    adjusted = cost(
        readings, [agreement(iog)], prices, day, day + timedelta(days=1), dispatched=frozenset({at(18), at(18.5)})
    )
    # Plain: 12 off-peak half-hours (00:00-05:30 and 23:30-24:00) x 0.2 x 7 = 16.8; 36 peak x 0.2 x 30 = 216;
    # the extra 3 x 3.5 kWh at 30 p = 315: 547.8 p
    assert plain.totals.energy_cost == pytest.approx(547.8)
    # Adjusted: the two smart half-hours (3.7 kWh each) at 7 p instead of 30 p: 547.8 - 2 x 3.7 x 23 = 377.6 p;
    # the boost half-hour keeps the peak price
    assert adjusted.totals.energy_cost == pytest.approx(377.6)
    assert adjusted.totals.bands["off-peak"][0] == pytest.approx(12 * 0.2 + 2 * 3.7)


@settings(max_examples=25, deadline=None)
@given(readings(), st.sampled_from(["exact", "billing"]), st.integers(min_value=0, max_value=2**32))
def test_one_pass_exc_and_inc_vat_is_two_calls_of_cost(
    data: list[tuple[datetime, float]], rounding: str, seed: int
) -> None:
    """Agile (a price a half-hour, with gaps) then Economy 7 from a switch at an odd instant, smart dispatches
    here and there, over a clock change: every figure and half-hour of the one pass equals what cost() says
    exc and inc VAT alone, and prices_in_force equals unit_rates."""
    rng = random.Random(seed)
    switch = START_SWITCH
    agile = [
        Rate(t, t + HH, round(rng.uniform(-2, 40), 2), round(rng.uniform(-2, 40), 2), None)
        for i in range(DAYS)
        for t in slots(START + timedelta(days=i))
        if rng.random() > 0.02
    ]
    prices = {
        AGILE: Prices({Charge.STANDARD: agile}, [flat(48.0, method=None)], "DIRECT_DEBIT"),
        E7: Prices({Charge.DAY: [flat(30.0)], Charge.NIGHT: [flat(9.5)]}, [flat(52.0)], "DIRECT_DEBIT"),
    }
    deals = [agreement(AGILE, LONG_AGO, switch), agreement(E7, switch)]
    dispatched = frozenset(t for t, _ in data if rng.random() < 0.05)
    first, end = START, START + timedelta(days=DAYS)
    pair: tuple[list[HalfHourCost], list[HalfHourCost]] = ([], [])
    both = cost_exc_inc(
        data,
        deals,
        prices,
        first,
        end,
        by="day",
        rounding=rounding,
        dispatched=dispatched,
        half_hours=pair,  # type: ignore[arg-type]
    )
    for inc_vat, got, halves in ((False, both[0], pair[0]), (True, both[1], pair[1])):
        alone: list[HalfHourCost] = []
        want = cost(
            data, deals, prices, first, end, by="day", inc_vat=inc_vat, rounding=rounding,  # type: ignore[arg-type]
            dispatched=dispatched, half_hours=alone,
        )  # fmt: skip
        assert got == want
        assert halves == alone
    starts = [t for i in range(DAYS) for t in slots(START + timedelta(days=i))]
    seconds = frozenset(int(t.timestamp()) for t in dispatched)  # prices_in_force walks in epoch seconds
    found = prices_in_force([int(t.timestamp()) for t in starts], deals, prices, dispatched=seconds)
    assert all(f is None or f[0] in (AGILE, E7) for f in found)
    assert [f[0] for f in found if f is not None] == sorted(f[0] for f in found if f is not None)  # Agile, then E7
    exc = unit_rates(starts, deals, prices, inc_vat=False, dispatched=dispatched)
    inc = unit_rates(starts, deals, prices, inc_vat=True, dispatched=dispatched)
    assert [None if f is None else f[1] for f in found] == exc
    assert [None if f is None else f[2] for f in found] == inc
