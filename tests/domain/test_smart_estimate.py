"""Intelligent Octopus without dispatch history: EV charging found outside the off-peak window where no
dispatch can be known is costed as a probable smart charge, at the off-peak price, and counted as estimated
with the amount at stake; known dispatches always win. The arithmetic is in each test."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from octoscope.domain.costs import Prices, cost
from octoscope.domain.models import Agreement, Charge, Rate
from octoscope.domain.sessions import Session, detect_sessions, dispatch_history_from, probable_smart_half_hours
from octoscope.domain.uktime import UK, local_midnight
from tests.domain.test_sessions import House

IOG = "E-1R-INTELLI-VAR-24-10-29-J"
HH = timedelta(minutes=30)
OFF_PEAK, PEAK = 7.0, 30.0


def local(day: date, hours: float) -> datetime:
    """``hours`` after local midnight of ``day`` by the wall clock (23.5 is 23:30 local), in UTC."""
    whole = int(hours * 60)
    return datetime.combine(day, time(whole // 60, whole % 60), UK).astimezone(UTC)


def iog_prices(first: date, days: int) -> dict[str, Prices]:
    """7 p from 23:30 to 05:30 local time, 30 p otherwise, on the days from ``first``; a 46 p standing charge."""
    rates = []
    for i in range(-1, days + 1):
        day = first + timedelta(days=i)
        rates.append(Rate(local(day, 5.5), local(day, 23.5), PEAK / 1.05, PEAK, "DIRECT_DEBIT"))
        rates.append(
            Rate(local(day, 23.5), local(day + timedelta(days=1), 5.5), OFF_PEAK / 1.05, OFF_PEAK, "DIRECT_DEBIT")
        )
    standing = [Rate(datetime(2020, 1, 1, tzinfo=UTC), None, 46 / 1.05, 46.0, "DIRECT_DEBIT")]
    return {IOG: Prices({Charge.STANDARD: rates}, standing, "DIRECT_DEBIT")}


def session(start: datetime, half_hours: int, kwh: float = 3.5) -> Session:
    """A charge of ``kwh`` a half-hour over ``half_hours`` half-hours from ``start``."""
    slots = tuple((start + i * HH, kwh) for i in range(half_hours))
    return Session(start, start + half_hours * HH, kwh * half_hours, kwh * 2, slots)


def house_day(day: date, charge: Session, base: float = 0.2) -> list[tuple[datetime, float]]:
    """The day's import: ``base`` kWh every half-hour and the charge on top."""
    extra = dict(charge.half_hours)
    slot, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    out = []
    while slot < end:
        out.append((slot, base + extra.get(slot, 0.0)))
        slot += HH
    return out


def cost_day(
    day: date,
    charge: Session,
    *,
    dispatched: frozenset[datetime] = frozenset(),
    history_from: datetime | None = None,
) -> tuple[float, float, float, float]:
    """(energy cost, estimated kWh, estimated pence, at stake) of the day on IOG, the charge's half-hours before
    ``history_from`` (None: no history) estimated."""
    estimated = probable_smart_half_hours([charge], history_from)
    report = cost(
        house_day(day, charge),
        [Agreement(IOG, datetime(2020, 1, 1, tzinfo=UTC), None)],
        iog_prices(day, 1),
        day,
        day + timedelta(days=1),
        dispatched=dispatched,
        estimated=estimated,
    )
    t = report.totals
    return t.energy_cost, t.estimated_kwh, t.estimated_pence, t.at_stake


DAY = date(2026, 11, 14)  # GMT
EVENING = session(local(DAY, 18), 4)  # 18:00-20:00 local, 3.5 kWh a half-hour: 14 kWh at peak


def test_a_charge_outside_the_window_with_no_history_is_estimated_at_the_off_peak_price() -> None:
    plain, _, _, _ = cost_day(DAY, EVENING, history_from=local(DAY, 0))  # history covers it: the peak price
    energy, kwh, pence, stake = cost_day(DAY, EVENING)
    # The four half-hours hold 3.7 kWh each (0.2 of house): 14.8 kWh at 7 p instead of 30 p.
    assert kwh == pytest.approx(14.8)
    assert pence == pytest.approx(14.8 * OFF_PEAK)
    assert stake == pytest.approx(14.8 * (PEAK - OFF_PEAK))
    assert energy == pytest.approx(plain - stake)


def test_a_known_dispatch_wins_off_peak_and_not_estimated() -> None:
    dispatched = frozenset(t for t, _ in EVENING.half_hours)
    energy, kwh, _, stake = cost_day(DAY, EVENING, dispatched=dispatched)  # no history, but these are known
    estimated_energy, _, _, _ = cost_day(DAY, EVENING)
    assert kwh == 0.0
    assert stake == 0.0
    assert energy == pytest.approx(estimated_energy)  # the same price, but known


def test_where_the_history_reaches_a_charge_outside_any_dispatch_is_peak() -> None:
    # History from the morning of the day: the evening charge has no dispatch, so it was not smart.
    energy, kwh, _, stake = cost_day(DAY, EVENING, history_from=local(DAY, 6))
    # 44 half-hours at 0.2 kWh: 12 of them off-peak (00:00-05:30 and 23:30-24:00), 32 + 4 at peak, plus 14 kWh
    assert energy == pytest.approx(12 * 0.2 * OFF_PEAK + 36 * 0.2 * PEAK + 14 * PEAK)
    assert kwh == 0.0
    assert stake == 0.0


def test_the_history_begins_part_way_through_a_charge() -> None:
    # The earliest dispatch kept starts at 19:00: the half-hours before it are estimated, the rest are peak.
    _, kwh, _, stake = cost_day(DAY, EVENING, history_from=local(DAY, 19))
    assert kwh == pytest.approx(2 * 3.7)
    assert stake == pytest.approx(2 * 3.7 * (PEAK - OFF_PEAK))


def test_a_charge_straddling_the_window_edge_is_estimated_only_outside_it() -> None:
    # 22:30 to 01:00 local: 22:30-23:30 is outside the window (estimated), 23:30-01:00 inside it (off-peak
    # already, nothing at stake, not counted as estimated).
    charge = session(local(DAY, 22.5), 5)
    day_end = [s for s in charge.half_hours if s[0] < local(DAY + timedelta(days=1), 0)]
    energy, kwh, _, stake = cost_day(DAY, Session(charge.start, charge.end, 10.5, 7.0, tuple(day_end)))
    assert kwh == pytest.approx(2 * 3.7)
    assert stake == pytest.approx(2 * 3.7 * (PEAK - OFF_PEAK))
    # The house alone: 11 half-hours off-peak (00:00-05:30) and 34 at peak; 23:30 with the car (3.7 kWh)
    # off-peak by the window, 22:30 and 23:00 by the estimate.
    assert energy == pytest.approx(11 * 0.2 * OFF_PEAK + 3.7 * OFF_PEAK + 2 * 3.7 * OFF_PEAK + 34 * 0.2 * PEAK)


@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 29), 46), (date(2026, 10, 25), 50)])
def test_the_clock_change_days(day: date, count: int) -> None:
    # An evening charge 18:00-20:00 local on the short and the long day: the window is by the wall clock, so
    # the same four half-hours are estimated whatever the day's length, and the others keep their price.
    charge = session(local(day, 18), 4)
    readings = house_day(day, charge)
    assert len(readings) == count
    energy, kwh, _, stake = cost_day(day, charge)
    assert kwh == pytest.approx(4 * 3.7)
    assert stake == pytest.approx(4 * 3.7 * (PEAK - OFF_PEAK))
    # 00:00-05:30 local holds 11 half-hours, 9 on the short day and 13 on the long one; and 23:30-24:00
    off_peak_house = 11 + {46: -2, 50: 2}[count] + 1
    peak_house = count - off_peak_house - 4
    assert energy == pytest.approx(off_peak_house * 0.2 * OFF_PEAK + peak_house * 0.2 * PEAK + 4 * 3.7 * OFF_PEAK)


def test_the_early_hours_on_the_long_day_are_estimated_once_each() -> None:
    # A charge 01:00-02:00 BST then GMT on 25 Oct (the repeated hour): four distinct half-hours, all inside the
    # window: nothing at stake. The same charge at 06:00-08:00 local: four half-hours outside it, estimated.
    day = date(2026, 10, 25)
    repeated = session(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), 4)  # 01:00 BST to 01:00 GMT + 1 h
    assert len({t.astimezone(UK).strftime("%H:%M%z") for t, _ in repeated.half_hours}) == 4
    _, kwh, _, stake = cost_day(day, repeated)
    assert kwh == 0.0
    assert stake == 0.0
    morning = session(local(day, 6), 4)
    _, kwh, _, stake = cost_day(day, morning)
    assert kwh == pytest.approx(4 * 3.7)


def test_detected_charges_before_the_history_are_the_probable_smart_half_hours() -> None:
    # Nights charged at 7 kW and one evening charge at 18:00-20:00 UTC on day 10 (a smart dispatch the history
    # lacks): with no history, its half-hours are probable smart charging; with a history from day 5, only the
    # nights before day 5 are, and the evening is not.
    house = House().nights([2, 4, 6, 9, 13, 17])
    evening = house.at(10, 18)
    house.add(evening, evening + timedelta(hours=2), 7.0)
    found = detect_sessions(house.readings())
    everything = probable_smart_half_hours(found, None)
    assert {evening + i * HH for i in range(4)} <= everything
    history_from = house.at(5, 0)
    before = probable_smart_half_hours(found, history_from)
    assert before
    assert all(t < history_from for t in before)
    assert not before & {evening + i * HH for i in range(4)}
    # a session whose half-hours hold nothing adds nothing
    assert probable_smart_half_hours([session(evening, 2, kwh=0.0)], None) == frozenset()


def test_where_the_history_begins() -> None:
    assert dispatch_history_from([]) is None
    first, later = datetime(2026, 11, 20, 22, tzinfo=UTC), datetime(2026, 11, 21, 1, tzinfo=UTC)
    assert dispatch_history_from(iter([later, first])) == first
