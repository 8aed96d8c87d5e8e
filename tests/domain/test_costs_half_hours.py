"""The cost engine's list of half-hours as it priced them (what the exports write), hand-checked: the long
autumn day on Agile, a switch of tariff part-way through the short spring day, a missing price, a smart
dispatch at the off-peak price."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from octoscope.domain.costs import HalfHourCost, Prices, cost
from octoscope.domain.models import Agreement, Charge, Rate
from octoscope.domain.uktime import local_midnight

HH = timedelta(minutes=30)
AGILE = "E-1R-AGILE-24-10-01-J"
FLEX = "E-1R-VAR-22-11-01-J"
GO = "E-1R-INTELLI-VAR-24-10-29-J"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def slots(day: date) -> list[datetime]:
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return [start + i * HH for i in range(int((end - start) / HH))]


def test_each_of_the_50_half_hours_as_priced_adds_up_to_the_day() -> None:
    day = date(2026, 10, 25)
    times = slots(day)
    rates = [Rate(t, t + HH, 0.0, 10 + 0.1 * i, None) for i, t in enumerate(times)]
    prices = {AGILE: Prices({Charge.STANDARD: rates}, [Rate(LONG_AGO, None, 40.0, 42.0, None)], "DIRECT_DEBIT")}
    listed: list[HalfHourCost] = []
    report = cost(
        [(t, 0.5) for t in reversed(times)],  # in any order: listed in time order
        [Agreement(AGILE, LONG_AGO, None)],
        prices,
        day,
        day + timedelta(days=1),
        half_hours=listed,
    )
    assert [h.start for h in listed] == times
    assert listed[0] == HalfHourCost(times[0], 0.5, AGILE, 10.0, 5.0, "half-hourly")
    assert listed[49].rate == pytest.approx(14.9)
    assert sum(h.pence for h in listed if h.pence is not None) == pytest.approx(report.totals.energy_cost)
    assert report.totals.energy_cost == pytest.approx(311.25)  # 0.5 x (500 + 0.1 x 1225)


def test_a_switch_on_the_short_day_and_a_missing_price_are_listed_as_they_were_priced() -> None:
    day = date(2026, 3, 29)
    times = slots(day)
    assert len(times) == 46
    switch = times[20]  # 11:00 BST (10:00 UTC)
    agile = [Rate(t, t + HH, 0.0, 20.0, None) for t in times[:20] if t != times[3]]  # 01:30 has no price
    prices = {
        AGILE: Prices({Charge.STANDARD: agile}, [Rate(LONG_AGO, None, 40.0, 42.0, None)], "DIRECT_DEBIT"),
        FLEX: Prices(
            {Charge.STANDARD: [Rate(LONG_AGO, None, 23.8, 25.0, "DIRECT_DEBIT")]},
            [Rate(LONG_AGO, None, 50.0, 52.5, "DIRECT_DEBIT")],
            "DIRECT_DEBIT",
        ),
    }
    listed: list[HalfHourCost] = []
    report = cost(
        [(t, 1.0) for t in times],
        [Agreement(AGILE, LONG_AGO, switch), Agreement(FLEX, switch, None)],
        prices,
        day,
        day + timedelta(days=1),
        half_hours=listed,
    )
    assert len(listed) == 46
    assert listed[3] == HalfHourCost(times[3], 1.0, AGILE, None, None, None)
    assert {h.tariff_code for h in listed[:20]} == {AGILE}
    assert {(h.tariff_code, h.rate, h.band) for h in listed[20:]} == {(FLEX, 25.0, "standard")}
    # 19 priced Agile half-hours at 20 p and 26 at 25 p: 380 + 650 p; the day is partial (one price missing)
    assert report.totals.energy_cost == pytest.approx(1030.0)
    assert report.totals.partial_days == [day]


def test_a_smart_dispatch_is_listed_at_the_off_peak_price() -> None:
    day = date(2026, 1, 14)
    times = slots(day)
    # Intelligent Go: 7 p from 23:30 to 05:30 local, 30 p otherwise (one price list, two levels).
    rates = []
    for t in times:
        hour = t.hour + t.minute / 60
        rates.append(Rate(t, t + HH, 0.0, 7.0 if hour < 5.5 or hour >= 23.5 else 30.0, None))
    prices = {GO: Prices({Charge.STANDARD: rates}, [Rate(LONG_AGO, None, 50.0, 52.5, None)], "DIRECT_DEBIT")}
    evening = times[36]  # 18:00
    listed: list[HalfHourCost] = []
    cost(
        [(t, 2.0) for t in times],
        [Agreement(GO, LONG_AGO, None)],
        prices,
        day,
        day + timedelta(days=1),
        dispatched=frozenset({evening}),
        half_hours=listed,
    )
    assert listed[36] == HalfHourCost(evening, 2.0, GO, 7.0, 14.0, "off-peak")
    assert listed[35] == HalfHourCost(times[35], 2.0, GO, 30.0, 60.0, "peak")
