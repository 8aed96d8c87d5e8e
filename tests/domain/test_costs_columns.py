"""The cost pass's two ways through a day give the same floats: a whole local day a column at a time (one
agreement on one register, every half-hour priced) and half-hour by half-hour (the walk: every other day, and
here every day, ``_whole_day`` made to decline); and readings as (instant, kWh) pairs or as epoch-second
columns. The half-hours listed (the exports' rows) are the same both ways too."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from octoscope.domain import costs
from octoscope.domain.costs import (
    EpochReadings,
    HalfHourColumns,
    HalfHourCost,
    Prices,
    Rounding,
    cost,
    cost_exc_inc,
    running_sum,
)
from octoscope.domain.models import Agreement, Charge, Rate
from octoscope.domain.uktime import local_midnight

HH = timedelta(minutes=30)
GO = "E-1R-INTELLI-VAR-24-10-29-J"
AGILE = "E-1R-AGILE-24-10-01-J"
FLEX = "E-1R-VAR-22-11-01-J"
GO_STRETCHES = "go-stretches"  # GO's prices a record per stretch of one price
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
# a fortnight either side of each clock change of 2026: the 46- and 50-half-hour days among them
RANGES = [(date(2026, 3, 20), date(2026, 4, 3)), (date(2026, 10, 18), date(2026, 11, 1))]


def half_hours(first: date, end: date) -> list[datetime]:
    start, stop = local_midnight(first), local_midnight(end)
    return [start + i * HH for i in range((stop - start) // HH)]


def go_rates(first: date, end: date, rng: random.Random) -> list[Rate]:
    """Two prices a day (23:30-05:30 local off-peak), each record a stretch, as Intelligent Go publishes."""
    out = []
    for t in half_hours(first - timedelta(days=1), end + timedelta(days=1)):
        local = t.astimezone(local_midnight(first).tzinfo).time()
        value = 7.0 if local.hour < 5 or (local.hour == 5 and local.minute < 30) else 27.31 + rng.random() / 100
        out.append(Rate(t, t + HH, value / 1.05, value, None))
    return out


def go_stretches(first: date, end: date, rng: random.Random) -> list[Rate]:
    """:func:`go_rates` as the store holds the API's: a record per stretch of one price (the off-peak hours,
    then the peak, at its first half-hour's price), so that each record prices many half-hours of a day."""
    out: list[Rate] = []
    for rate in go_rates(first, end, rng):
        if out and (out[-1].value_inc_vat > 7.0) == (rate.value_inc_vat > 7.0):
            out[-1] = Rate(out[-1].valid_from, rate.valid_to, out[-1].value_exc_vat, out[-1].value_inc_vat, None)
        else:
            out.append(rate)
    return out


def agile_rates(first: date, end: date, rng: random.Random) -> list[Rate]:
    times = half_hours(first - timedelta(days=1), end + timedelta(days=1))
    return [Rate(t, t + HH, v / 1.05, v, None) for t in times for v in [round(rng.uniform(-2, 40), 3)]]


def standing() -> list[Rate]:
    return [Rate(LONG_AGO, None, 40.0, 42.0, None)]


@pytest.mark.parametrize(("first", "end"), RANGES, ids=["spring-46", "autumn-50"])
@pytest.mark.parametrize("rounding", ["exact", "billing"])
@pytest.mark.parametrize("code", [GO, GO_STRETCHES, AGILE, FLEX])
def test_a_day_costed_whole_is_the_walk_to_the_last_bit(
    first: date, end: date, rounding: Rounding, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(f"{first}{code}{rounding}")
    stretches = code == GO_STRETCHES
    code = GO if stretches else code
    times = half_hours(first, end)
    readings = [(t, round(rng.uniform(0, 3.7), 3)) for t in times if rng.random() > 0.01]  # a few missing
    if code == FLEX:
        unit = [Rate(LONG_AGO, times[100], 24.0 / 1.05, 24.0, None), Rate(times[100], None, 25.5 / 1.05, 25.5, None)]
    else:
        unit = go_rates(first, end, rng) if code == GO else agile_rates(first, end, rng)
        unit = go_stretches(first, end, rng) if stretches else unit
    prices = {code: Prices({Charge.STANDARD: unit}, standing(), "DIRECT_DEBIT")}
    # an agreement that starts part-way through a day, and a gap in the prices: both days partial
    agreements = [Agreement(code, times[30] + timedelta(minutes=7), None)]
    estimated = frozenset(t for t, _ in readings if rng.random() < 0.05)
    dispatched = frozenset(t for t, _ in readings if rng.random() < 0.03)
    whole = cost_exc_inc(
        readings, agreements, prices, first, end, by="day", rounding=rounding, estimated=estimated,
        dispatched=dispatched,
    )  # fmt: skip
    sinks: tuple[list[HalfHourCost], list[HalfHourCost]] = ([], [])
    with monkeypatch.context() as patched:
        patched.setattr(costs, "_whole_day", lambda *args: False)  # every day walked half-hour by half-hour
        walked = cost_exc_inc(
            readings, agreements, prices, first, end, by="day", rounding=rounding, estimated=estimated,
            dispatched=dispatched, half_hours=sinks,
        )  # fmt: skip
    columns = EpochReadings([int(t.timestamp()) for t, _ in readings], [k for _, k in readings])
    seconds = frozenset(int(t.timestamp()) for t in estimated)
    by_columns = cost_exc_inc(
        columns, agreements, prices, first, end, by="day", rounding=rounding, estimated=seconds,
        dispatched=dispatched,
    )  # fmt: skip
    assert repr(whole) == repr(walked) == repr(by_columns)
    assert whole[1].totals.estimated_kwh > 0 or code != GO
    assert len(sinks[1]) == len([t for t, _ in readings if t >= agreements[0].valid_from])


def test_a_running_sum_adds_in_order_from_zero() -> None:
    values = [0.1] * 10 + [1e16, 1.0, -1e16]
    total = 0.0
    for v in values:
        total += v
    assert running_sum(values) == total
    assert running_sum(iter([])) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_a_running_sum_is_the_loop_to_the_last_bit(seed: int) -> None:
    """Whichever way it is summed in C (``sum`` before Python 3.12), the float and its type are the loop's."""
    rng = random.Random(seed)
    picks = [0.1, 1e16, -1e16, -0.0, 0.0, 3, -2, 1e-300, 7.93695, 27.31]
    for _ in range(500):
        values = [rng.choice(picks) if rng.random() < 0.3 else rng.uniform(-40, 40) for _ in range(rng.randrange(60))]
        total = 0.0
        for v in values:
            total += v
        assert repr(running_sum(values)) == repr(total)
        assert repr(running_sum(iter(values))) == repr(total)


def test_one_reading_costs_the_same_as_columns_or_as_a_pair() -> None:
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    prices = {FLEX: Prices({Charge.STANDARD: [Rate(LONG_AGO, None, 20.0, 21.0, None)]}, standing(), "DIRECT_DEBIT")}
    day = date(2026, 3, 29)
    pair = cost([(at, 1.25)], [Agreement(FLEX, LONG_AGO, None)], prices, day, day + timedelta(days=1))
    cols = cost(
        EpochReadings([at.timestamp()], [1.25]), [Agreement(FLEX, LONG_AGO, None)], prices, day, day + timedelta(days=1)
    )
    assert repr(pair) == repr(cols)
    assert pair.totals.energy_cost == 1.25 * 21.0
    assert pair.totals.partial_days == [day]  # 45 of its 46 half-hours missing


E7 = "E-2R-VAR-22-11-01-J"
GO_FLAT = "go-flat"  # GO's two prices exactly, a record per half-hour: a band per half-hour by its price


def go_flat(first: date, end: date, rng: random.Random) -> list[Rate]:
    return [
        Rate(r.valid_from, r.valid_to, 27.31 / 1.05, 27.31, None) if r.value_inc_vat > 7.0 else r
        for r in go_rates(first, end, rng)
    ]


@pytest.mark.parametrize(("first", "end"), RANGES, ids=["spring-46", "autumn-50"])
@pytest.mark.parametrize("rounding", ["exact", "billing"])
@pytest.mark.parametrize("code", [GO, GO_STRETCHES, GO_FLAT, AGILE, FLEX, E7])
@pytest.mark.parametrize("as_columns", [False, True], ids=["pairs", "epoch"])
def test_the_half_hours_of_a_day_costed_whole_are_the_walks(
    first: date, end: date, rounding: Rounding, code: str, as_columns: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each half-hour a whole day's columns list (HalfHourColumns, and the HalfHourCosts made of them) is the
    one the walk lists, field for field and bit for bit, exc and inc VAT: on the 46- and 50-half-hour days,
    with smart dispatches and probable smart charging, a part-day agreement, a missing reading, and on
    Economy 7 (two registers: always walked)."""
    rng = random.Random(f"{first}{code}{rounding}columns")
    variant = code
    code = GO if code in (GO_STRETCHES, GO_FLAT) else code
    times = half_hours(first, end)
    readings = [(t, round(rng.uniform(0, 3.7), 3)) for t in times if rng.random() > 0.01]
    if code == FLEX:
        unit = {
            Charge.STANDARD: [
                Rate(LONG_AGO, times[100], 24.0 / 1.05, 24.0, None),
                Rate(times[100], None, 25.5 / 1.05, 25.5, None),
            ]
        }
    elif code == E7:
        unit = {
            Charge.DAY: [Rate(LONG_AGO, None, 30.0, 31.5, None)],
            Charge.NIGHT: [Rate(LONG_AGO, None, 9.5, 9.975, None)],
        }
    else:
        made = {GO: go_rates, GO_STRETCHES: go_stretches, GO_FLAT: go_flat, AGILE: agile_rates}[variant]
        unit = {Charge.STANDARD: made(first, end, rng)}
    prices = {code: Prices(unit, standing(), "DIRECT_DEBIT")}
    agreements = [Agreement(code, times[30] + timedelta(minutes=7), None)]
    estimated = frozenset(t for t, _ in readings if rng.random() < 0.05)
    dispatched = frozenset(t for t, _ in readings if rng.random() < 0.03)
    given: list[tuple[datetime, float]] | EpochReadings = readings
    if as_columns:
        given = EpochReadings([int(t.timestamp()) for t, _ in readings], [k for _, k in readings])

    def costed() -> tuple[
        object, tuple[HalfHourColumns, HalfHourColumns], tuple[list[HalfHourCost], list[HalfHourCost]]
    ]:
        sinks = (HalfHourColumns(), HalfHourColumns())
        report = cost_exc_inc(
            given, agreements, prices, first, end, by="day", rounding=rounding, estimated=estimated,
            dispatched=dispatched, columns=sinks,
        )  # fmt: skip
        listed: tuple[list[HalfHourCost], list[HalfHourCost]] = ([], [])
        again = cost_exc_inc(
            given, agreements, prices, first, end, by="day", rounding=rounding, estimated=estimated,
            dispatched=dispatched, half_hours=listed,
        )  # fmt: skip
        assert repr(report) == repr(again)
        return report, sinks, listed

    whole_days = []
    real = costs._whole_day

    def counted(*args: Any) -> bool:
        whole_days.append(done := real(*args))
        return done

    monkeypatch.setattr(costs, "_whole_day", counted)
    report, columns, listed = costed()
    monkeypatch.setattr(costs, "_whole_day", lambda *args: False)  # every day walked half-hour by half-hour
    walked_report, walked, walked_listed = costed()
    assert any(whole_days) == (code != E7)
    assert repr(report) == repr(walked_report)
    for mine, theirs in zip(columns, walked, strict=True):
        for name in ("starts", "kwh", "codes", "rates", "pence", "bands", "instants"):
            assert repr(getattr(mine, name)) == repr(getattr(theirs, name)), name
    assert repr(listed) == repr(walked_listed)
    assert listed[0] == columns[0].rows()
    assert listed[1] == columns[1].rows()
    assert len(listed[1]) == len([t for t, _ in readings if t >= agreements[0].valid_from])
