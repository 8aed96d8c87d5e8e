"""EV session detection: hand-made series (each test says what is in it and what must come out), properties on
random households, clock-change days, and every EV scenario of the simulator over real sockets against its
truth."""

from __future__ import annotations

import itertools
import json
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octoscope.domain.sessions import Session, detect_sessions, estimate_charger_kw, match_by_overlap
from octoscope.domain.uktime import UK, iso_z, local_midnight, parse_api_instant
from octoscope.simulator import load_scenario
from tests.conftest import DEMO_NOW, simulator

HH = timedelta(minutes=30)
FIRST = date(2026, 1, 5)  # a Monday in winter (GMT)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class House:
    """Half-hourly import of a plain house by local time: 0.1 kWh a half-hour at night, 0.18 by day, 0.4 from
    17:00 to 21:00, each half-hour within 15 % of that; charges and appliances are added on top at a power,
    over [start, end)."""

    def __init__(self, first: date = FIRST, days: int = 21, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.first = first
        self.kwh: dict[datetime, float] = {}
        slot, end = local_midnight(first), local_midnight(first + timedelta(days=days))
        while slot < end:
            hour = slot.astimezone(UK).hour
            level = 0.4 if 17 <= hour < 21 else 0.18 if 7 <= hour < 23 else 0.1
            self.kwh[slot] = level * rng.uniform(0.85, 1.15)
            slot += HH

    def add(self, start: datetime, end: datetime, kw: float) -> House:
        slot = datetime.fromtimestamp(start.timestamp() // 1800 * 1800, UTC)
        while slot < end:
            overlap = (min(slot + HH, end) - max(slot, start)).total_seconds()
            if slot in self.kwh:
                self.kwh[slot] += kw * overlap / 3600
            slot += HH
        return self

    def nights(self, days: list[int], kw: float = 7.0, hours: float = 2.5) -> House:
        """A charge from 23:30 UTC on each of ``days`` (counted from the first): the charger's signature."""
        for day in days:
            start = self.at(day, 23.5)
            self.add(start, start + timedelta(hours=hours), kw)
        return self

    def at(self, day: int, hours: float) -> datetime:
        """``hours`` after midnight UTC of the ``day``-th day."""
        return datetime.combine(self.first + timedelta(days=day), datetime.min.time(), UTC) + timedelta(hours=hours)

    def readings(self) -> list[tuple[datetime, float]]:
        return [(slot, round(kwh, 3)) for slot, kwh in sorted(self.kwh.items())]


def during(sessions: list[Session], start: datetime, end: datetime) -> list[Session]:
    return [s for s in sessions if s.start < end and start < s.end]


# --- hand-made series ----------------------------------------------------------------------------------------


def test_a_night_charge_split_by_a_skipped_half_hour_is_one_session() -> None:
    # 7 kW from 23:30 to 01:30, nothing from 01:30 to 02:00 (Octopus skipped a slot), 7 kW again until 03:20:
    # 2 h + 1 h 20 min at 7 kW = 23.33 kWh, one session from 23:30 to 03:20.
    house = House().nights([2, 6, 9, 13, 17])
    start = z("2026-01-15T23:30:00Z")
    house.add(start, start + timedelta(hours=2), 7.0).add(z("2026-01-16T02:00:00Z"), z("2026-01-16T03:20:00Z"), 7.0)
    found = during(detect_sessions(house.readings()), start, z("2026-01-16T04:00:00Z"))
    assert len(found) == 1
    session = found[0]
    assert session.start == start
    assert abs(session.end - z("2026-01-16T03:20:00Z")) <= timedelta(minutes=3)
    assert session.kwh == pytest.approx(7.0 * (2 + 4 / 3), rel=0.02)
    assert session.charger_kw == pytest.approx(7.0, rel=0.02)
    assert sum(kwh for _, kwh in session.half_hours) == pytest.approx(session.kwh, abs=0.01)
    assert session.half_hours[0][0] == start
    assert dict(session.half_hours)[z("2026-01-16T01:30:00Z")] < 0.1  # the skipped slot holds nothing


def test_a_pause_longer_than_max_gap_starts_a_new_session() -> None:
    # 7 kW 23:30-01:00 and again 02:30-04:00: a pause of an hour and a half. Two sessions of 10.5 kWh by
    # default (a pause of at most half an hour joins), one of 21 kWh when pauses up to two hours join.
    house = House().nights([2, 6, 9, 13, 17])
    house.add(z("2026-01-15T23:30:00Z"), z("2026-01-16T01:00:00Z"), 7.0)
    house.add(z("2026-01-16T02:30:00Z"), z("2026-01-16T04:00:00Z"), 7.0)
    night = (z("2026-01-15T23:00:00Z"), z("2026-01-16T05:00:00Z"))
    apart = during(detect_sessions(house.readings()), *night)
    assert [s.kwh for s in apart] == [pytest.approx(10.5, rel=0.02), pytest.approx(10.5, rel=0.02)]
    joined = during(detect_sessions(house.readings(), max_gap=timedelta(hours=2)), *night)
    assert [s.kwh for s in joined] == [pytest.approx(21.0, rel=0.02)]


@pytest.mark.parametrize(("kw", "start", "minutes"), [(7.0, "12:10", 50), (3.6, "10:40", 75), (11.0, "13:00", 45)])
def test_a_daytime_top_up_is_a_session(kw: float, start: str, minutes: int) -> None:
    # The car charged at this power on five nights (so the data shows the charger), and tops up at midday on a
    # weekday: kw x minutes / 60 kWh.
    house = House().nights([2, 6, 9, 13, 17], kw=kw, hours=3)
    begin = z(f"2026-01-14T{start}:00Z")
    house.add(begin, begin + timedelta(minutes=minutes), kw)
    found = during(detect_sessions(house.readings()), begin, begin + timedelta(minutes=minutes))
    assert len(found) == 1
    assert found[0].kwh == pytest.approx(kw * minutes / 60, rel=0.05)
    assert abs(found[0].start - begin) <= timedelta(minutes=5)


def test_a_nine_kilowatt_shower_is_not_a_session() -> None:
    # A 9 kW electric shower for 10 minutes (1.5 kWh) every morning, two back to back on Saturdays, with a 7 kW
    # charger at night on five nights: the showers are no session, the nights are.
    house = House().nights([2, 6, 9, 13, 17])
    for day in range(21):
        morning = house.at(day, 7 + 5 / 60)
        house.add(morning, morning + timedelta(minutes=10), 9.0)
        if day % 7 == 5:
            house.add(morning + timedelta(minutes=12), morning + timedelta(minutes=22), 9.0)
    found = detect_sessions(house.readings())
    assert all(s.start.hour in (23, 0) for s in found), found
    assert len(found) == 5


@pytest.mark.parametrize("kw", [3.6, 7.0])
def test_a_heat_pump_running_for_hours_is_not_a_session(kw: float) -> None:
    # A heat pump drawing 2.5 kW from 14:00 to 18:00 on most days, a charger at night on five: the heat pump's
    # four hours at 1.25 kWh a half-hour are no session, given the charger's power or measuring it.
    house = House().nights([2, 6, 9, 13, 17], kw=kw, hours=3)
    for day in range(21):
        if day % 3:
            afternoon = house.at(day, 14)
            house.add(afternoon, afternoon + timedelta(hours=4), 2.5)
    for given_kw in (kw, None):
        found = detect_sessions(house.readings(), charger_kw=given_kw)
        assert len(found) == 5, found
        assert all(s.start.hour == 23 for s in found)


@pytest.mark.parametrize(
    ("first", "change"),
    [(date(2026, 3, 16), date(2026, 3, 29)), (date(2026, 10, 12), date(2026, 10, 25))],
    ids=["46 half-hours", "50 half-hours"],
)
def test_charges_across_the_clock_changes(first: date, change: date) -> None:
    # Three weeks around a clock change, the house's evening peak by local time throughout, and a 7 kW charge
    # on the night of the change from 00:30 to 03:30 UTC (straddling 01:00 UTC, when the clocks change): 21 kWh
    # from 00:30Z to 03:30Z, and nothing else but the other nights' charges.
    house = House(first=first, days=21)
    assert sum(1 for slot in house.kwh if slot.astimezone(UK).date() == change) in (46, 50)
    for day in (2, 5, 8, 16, 19):
        start = local_midnight(first + timedelta(days=day)) + timedelta(hours=0.5)
        house.add(start, start + timedelta(hours=3), 7.0)
    start = house.at((change - first).days, 0.5)
    house.add(start, start + timedelta(hours=3), 7.0)
    found = detect_sessions(house.readings())
    assert len(found) == 6
    on_the_day = during(found, start, start + timedelta(hours=3))
    assert len(on_the_day) == 1
    assert on_the_day[0].start == start
    assert on_the_day[0].end == start + timedelta(hours=3)
    assert on_the_day[0].kwh == pytest.approx(21.0, rel=0.01)
    assert len(on_the_day[0].half_hours) == 6


def test_a_missing_half_hour_inside_a_charge_counts_as_charging() -> None:
    # 7 kW from 23:30 to 03:30 with the 01:30 reading missing: still one session of 28 kWh.
    house = House().nights([2, 6, 9, 13, 17], hours=4)
    readings = [r for r in house.readings() if r[0] != z("2026-01-08T01:30:00Z")]
    found = during(detect_sessions(readings), z("2026-01-07T23:00:00Z"), z("2026-01-08T04:00:00Z"))
    assert [s.kwh for s in found] == [pytest.approx(28.0, rel=0.02)]


def test_export_counts_the_energy_the_car_took_from_the_panels() -> None:
    # Solar panels make 2 kW from 10:00 to 14:00 UTC every day; the house (0.36 kW then) exports the rest. A
    # 7 kW top-up from 11:00 to 12:30 takes 10.5 kWh, 1.5 h x (2 - 0.36) kW of it from the panels, which the
    # import alone cannot show; import - export shows it all.
    house = House().nights([2, 6, 9, 13, 17])
    for day in range(21):
        noon = house.at(day, 10)
        house.add(noon, noon + timedelta(hours=4), -2.0)
    begin = z("2026-01-14T11:00:00Z")
    house.add(begin, begin + timedelta(minutes=90), 7.0)
    net = house.readings()
    imports = [(t, max(kwh, 0.0)) for t, kwh in net]
    exports = [(t, max(-kwh, 0.0)) for t, kwh in net]
    with_export = during(detect_sessions(imports, export=exports), begin, begin + timedelta(minutes=90))
    assert [s.kwh for s in with_export] == [pytest.approx(10.5, rel=0.03)]
    # Import alone shows a plateau at three quarters of the charger's power (no more than some appliances
    # together): the session is short of the panels' share, or not found.
    import_only = during(detect_sessions(imports), begin, begin + timedelta(minutes=90))
    assert all(s.kwh <= 1.1 * (10.5 - 1.5 * (2 - 0.36)) for s in import_only)


def cooking(days: int = 28, pairs: tuple[int, ...] = (5, 12, 16, 23)) -> House:
    """A 3.6 kW charger from 23:30 for 3 hours on ten nights, and an oven (2.2 kW for 45 minutes) on five
    evenings a week at any time from 17:00 to 18:45; on the ``pairs`` days a second one 10 minutes after the
    first: 4.4 kW for 35 minutes, 2.2 kWh above the house in one half-hour, more than the charger's 1.8."""
    house = House(days=days).nights([1, 3, 6, 8, 10, 13, 15, 18, 20, 24], kw=3.6, hours=3)
    rng = random.Random(5)
    for day in range(days):
        if day % 7 in (2, 6) and day not in pairs:
            continue
        start = house.at(day, 17 + rng.uniform(0, 1.75))
        house.add(start, start + timedelta(minutes=45), 2.2)
        if day in pairs:
            house.add(start + timedelta(minutes=10), start + timedelta(minutes=55), 2.2)
    return house


def test_two_ovens_at_once_are_not_a_charge_where_the_car_never_charges_then() -> None:
    # The car charges at night and tops up twice at midday (80 minutes at 3.6 kW from 12:10 on the fifth day,
    # 75 from 10:40 on the twelfth): those are the sessions; the four evenings with two ovens are not.
    house = cooking()
    top_ups = [(house.at(4, 12 + 10 / 60), 80), (house.at(11, 10 + 40 / 60), 75)]
    for start, minutes in top_ups:
        house.add(start, start + timedelta(minutes=minutes), 3.6)
    found = detect_sessions(house.readings())
    assert len(found) == 12
    assert [s for s in found if 16 <= s.start.hour < 20] == []
    for start, minutes in top_ups:
        (session,) = during(found, start, start + timedelta(minutes=minutes))
        assert session.kwh == pytest.approx(3.6 * minutes / 60, rel=0.05)


def test_a_short_charge_at_dinner_time_counts_where_the_car_charges_then() -> None:
    # The same house where the car also charges on arrival at 18:15 for three hours on ten evenings, and one
    # evening only for 50 minutes from 18:10 (3 kWh): that one is a session too.
    house = cooking()
    for day in (0, 2, 4, 7, 9, 11, 14, 17, 21, 25):
        start = house.at(day, 18.25)
        house.add(start, start + timedelta(hours=3), 3.6)
    start = house.at(19, 18 + 10 / 60)
    house.add(start, start + timedelta(minutes=50), 3.6)
    assert len(during(detect_sessions(house.readings(), charger_kw=3.6), start, start + timedelta(minutes=50))) == 1


def test_dispatches_tell_when_the_car_charged() -> None:
    # A 7 kW charger. One evening an oven (2.4 kW, 17:40-18:30) overlaps a boost from 18:07 to 18:52 (5.25 kWh);
    # that night Octopus dispatches 23:30-01:30 and the car is full at 01:10 (11.67 kWh); the rest of the plan,
    # 02:30-03:00, takes 6 minutes (0.7 kWh). Given the dispatches, each is a session of its energy; without,
    # the oven counts as the car's and the 6 minutes are under min_kwh.
    house = House().nights([2, 6, 9, 13, 17], hours=2.5)
    house.add(z("2026-01-15T17:40:00Z"), z("2026-01-15T18:30:00Z"), 2.4)
    charges = [
        (z("2026-01-15T18:07:00Z"), z("2026-01-15T18:52:00Z"), 5.25),
        (z("2026-01-15T23:30:00Z"), z("2026-01-16T01:10:00Z"), 7.0 * 5 / 3),
        (z("2026-01-16T02:30:00Z"), z("2026-01-16T02:36:00Z"), 0.7),
    ]
    for start, end, _ in charges:
        house.add(start, end, 7.0)
    dispatches = [
        (z("2026-01-15T18:07:00Z"), z("2026-01-15T18:52:00Z")),
        (z("2026-01-15T23:30:00Z"), z("2026-01-16T01:30:00Z")),
        (z("2026-01-16T02:30:00Z"), z("2026-01-16T03:00:00Z")),
    ]
    evening = (z("2026-01-15T12:00:00Z"), z("2026-01-16T06:00:00Z"))
    found = during(detect_sessions(house.readings(), dispatches=dispatches), *evening)
    assert [s.kwh for s in found] == [pytest.approx(kwh, rel=0.02) for _, _, kwh in charges]
    for session, (start, end, _) in zip(found, charges, strict=True):
        assert abs(session.start - start) <= timedelta(minutes=1)
        assert abs(session.end - end) <= timedelta(minutes=1)
    assert found[0].half_hours[0][0] == z("2026-01-15T18:00:00Z")  # none of the oven's half-hour before it
    without = during(detect_sessions(house.readings()), *evening)
    assert len(without) == 2
    assert without[0].kwh > 1.2 * 5.25  # the oven's share taken for the car's


@pytest.mark.parametrize("kw", [2.3, 3.6, 7.0, 7.4, 11.0, 22.0])
def test_the_charger_power_is_measured_from_the_data(kw: float) -> None:
    house = House().nights([1, 3, 6, 9, 12, 15, 18], kw=kw, hours=3)
    assert estimate_charger_kw(house.readings()) == pytest.approx(kw, rel=0.03)
    assert {round(s.charger_kw / kw, 1) for s in detect_sessions(house.readings())} == {1.0}


def test_without_charges_there_is_no_charger_and_no_session() -> None:
    assert estimate_charger_kw(House().readings()) is None
    assert detect_sessions(House().readings()) == []
    assert detect_sessions([]) == []
    assert estimate_charger_kw([]) is None


def test_readings_in_any_order_give_the_same_sessions() -> None:
    readings = House().nights([2, 6, 9, 13, 17]).readings()
    shuffled = readings[:]
    random.Random(7).shuffle(shuffled)
    assert detect_sessions(shuffled) == detect_sessions(readings)


def test_three_days_are_enough_with_the_charger_given() -> None:
    # Three days, a 7 kW charge from 23:30 to 02:10 on the second night (18.67 kWh): too few charges to
    # measure the charger, but given it, the night stands out against the same hours of the other nights.
    house = House(days=3)
    house.add(z("2026-01-05T23:30:00Z"), z("2026-01-06T02:10:00Z"), 7.0)
    found = detect_sessions(house.readings(), charger_kw=7.0)
    assert [s.kwh for s in found] == [pytest.approx(7.0 * (2 + 2 / 3), rel=0.02)]
    assert found[0].start == z("2026-01-05T23:30:00Z")


def test_readings_without_an_offset_are_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        detect_sessions([(datetime(2026, 1, 5), 0.2)])  # noqa: DTZ001 (the point of the test)


def test_a_year_is_detected_quickly() -> None:
    # 17,520 half-hours with a charge on two nights of five: well under the 100 ms budget on a desktop; the
    # bound here only catches an accidental quadratic.
    house = House(first=date(2025, 1, 6), days=365).nights(list(range(0, 365, 5)) + list(range(2, 365, 5)))
    readings = house.readings()
    assert len(readings) == 17_520
    detect_sessions(readings)
    started = time.perf_counter()
    found = detect_sessions(readings)
    assert time.perf_counter() - started < 1.0
    assert len(found) == 146


def test_match_by_overlap_pairs_one_to_one_the_longest_overlaps_first() -> None:
    t = z("2026-01-01T00:00:00Z")
    hours = [(t + timedelta(hours=a), t + timedelta(hours=b)) for a, b in ((0, 3), (5, 6), (10, 11))]
    found = [(t + timedelta(hours=1), t + timedelta(hours=5.5)), (t + timedelta(hours=2.5), t + timedelta(hours=4))]
    # found[0] overlaps hours[0] by 2 h and hours[1] by 0.5 h; found[1] only hours[0], by 0.5 h.
    assert match_by_overlap(found, hours) == [(0, 0)]
    assert match_by_overlap([], hours) == []
    assert match_by_overlap(hours, hours) == [(0, 0), (1, 1), (2, 2)]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    kw=st.sampled_from([3.6, 7.0, 11.0]),
    nights=st.lists(st.integers(0, 19), min_size=4, max_size=12, unique=True),
    hours=st.floats(1.5, 5.0),
)
def test_sessions_are_ordered_apart_and_add_up(seed: int, kw: float, nights: list[int], hours: float) -> None:
    # Whatever the house and the nights (four or more charges of an hour and a half or more: enough to measure
    # the charger): sessions in time order, apart, each start before its end, its half-hours in order adding
    # up to its energy, none negative; every night's charge found, within 3 %.
    found = detect_sessions(House(seed=seed).nights(nights, kw=kw, hours=hours).readings())
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    for s in found:
        assert s.start < s.end
        assert s.start.tzinfo is UTC
        slots = [t for t, _ in s.half_hours]
        assert slots == sorted(slots)
        assert all(b - a == HH for a, b in itertools.pairwise(slots))
        assert all(kwh >= 0 for _, kwh in s.half_hours)
        assert sum(kwh for _, kwh in s.half_hours) == pytest.approx(s.kwh, abs=0.002 * len(slots))
    assert len(found) == len(nights)
    assert all(s.kwh == pytest.approx(kw * hours, rel=0.03) for s in found)


# --- the simulator's scenarios, over real sockets ------------------------------------------------------------

SCENARIOS = ("demo", "ev_3kw_go", "ev_3kw_flexible", "ev_7kw_heat_pump", "ev_11kw_intelligent")
TARGET = 0.95
# What each scenario reaches at least, so that a change for the worse shows.
FLOORS = {
    "demo": (0.99, 0.98),
    "ev_3kw_go": (0.99, 0.99),
    "ev_3kw_flexible": (0.98, 0.99),
    "ev_7kw_heat_pump": (0.98, 0.99),
    "ev_11kw_intelligent": (0.97, 0.99),
}
ENERGY_SHORT_OF_TARGET = (
    "data: in the half-hours a car only partly fills (a session's first and last), whatever else the house drew "
    "then (an oven or two, a kettle, a heat pump's run, the evening's noise; the demo's solar before its export "
    "meter) cannot be told from the car's share; without dispatches to say when the car charged, even an "
    "estimate that knows which half-hours it charged throughout and the household's true usual draw misses 5 % "
    "on some sessions (test_half_hours_alone_cannot_meet_the_energy_target, bench energy_error_floor)"
)
WITHOUT_DISPATCHES = ("demo", "ev_3kw_go", "ev_3kw_flexible", "ev_7kw_heat_pump")  # all or part of the time


@pytest.mark.parametrize(
    ("name", "charger_kw", "tariff", "appliances"),
    [
        ("ev_3kw_go", 3.6, "GO-VAR-22-10-14", {"oven", "kettle", "washing_machine"}),
        ("ev_3kw_flexible", 3.6, "VAR-22-11-01", {"oven", "kettle", "washing_machine"}),
        ("ev_7kw_heat_pump", 7.0, "GO-VAR-22-10-14", {"heat_pump_morning", "heat_pump_evening", "oven"}),
        ("ev_11kw_intelligent", 11.0, "INTELLI-VAR-24-10-29", {"shower_morning", "shower_evening", "hob"}),
    ],
)
def test_the_ev_scenarios_load(name: str, charger_kw: float, tariff: str, appliances: set[str]) -> None:
    # Each loads and validates, holds four months of history of one EV household, with top-ups by day.
    scenario = load_scenario(name, z(DEMO_NOW))
    (account,) = scenario.accounts
    (prop,) = account.properties
    ev = prop.household.ev
    assert ev is not None
    assert ev.charger_kw == charger_kw
    assert ev.top_up_probability >= 0.1
    assert z(DEMO_NOW) - prop.moved_in < timedelta(days=121)
    assert appliances <= {a.name for a in prop.household.appliances}
    (point,) = prop.electricity
    assert point.agreements[0].tariff_code[5:-2] == tariff


def rows(client: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(path, params=params)
    out: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        out += page["results"]
        if page["next"] is None:
            return out
        response = client.get(page["next"])


def accuracy(name: str) -> dict[str, Any]:
    """Detection on the scenario's EV household against the simulator's truth, as bench/sessions.py measures
    it: sessions cut by the ends of the data left out on both sides; with the dispatches Octopus planned, where
    there are some, and without; and the energy floor of splitting half-hours without them."""
    scenario = load_scenario(name, z(DEMO_NOW))
    account, prop = next((a, p) for a in scenario.accounts for p in a.properties if p.household.ev is not None)
    assert prop.household.ev is not None
    with simulator(name) as sim, sim.client(auth=(account.api_key, "")) as client:
        body = client.get(f"/v1/accounts/{account.number}/").json()
        point_list = next(p for p in body["properties"] if p["id"] == prop.id)["electricity_meter_points"]
        series: dict[bool, list[tuple[datetime, float]]] = {False: [], True: []}
        for point in point_list:
            for meter in point["meters"]:
                path = f"/v1/electricity-meter-points/{point['mpan']}/meters/{meter['serial_number']}/consumption/"
                params = {"page_size": 25000, "order_by": "period", "period_from": iso_z(prop.moved_in)}
                series[point["is_export"]] += [
                    (parse_api_instant(r["interval_start"]), r["consumption"]) for r in rows(client, path, params)
                ]
        imports, exports = sorted(series[False]), sorted(series[True])
        first, end = imports[0][0], imports[-1][0] + HH
        # Up to now, not to the end of the data: a charge still running there keeps its true end.
        truth = client.get("/_sim/truth", params={"from": iso_z(first - timedelta(days=1)), "to": DEMO_NOW}).json()
    true = [(parse_api_instant(t["start"]), parse_api_instant(t["end"]), t["kwh"]) for t in truth["ev_sessions"]]
    cut = [t for t in true if t[0] < first + HH or t[1] > end - HH]  # may have begun before or gone on after
    inner = [t for t in true if t not in cut]
    device = prop.household.ev.device_id
    dispatches = [
        (parse_api_instant(d["start"]), parse_api_instant(d["end"]))
        for d in truth["dispatches"]
        if d["device_id"] == device
    ]

    def score(given: list[tuple[datetime, datetime]] | None) -> tuple[float, float, list[float]]:
        found = [
            s
            for s in detect_sessions(imports, export=exports or None, dispatches=given)
            if first < s.half_hours[0][0]
            and s.half_hours[-1][0] < end - HH
            and not any(s.start < t[1] and t[0] < s.end for t in cut)
        ]
        pairs = match_by_overlap([(s.start, s.end) for s in found], [(t[0], t[1]) for t in inner])
        errors = [abs(found[i].kwh - inner[j][2]) / inner[j][2] for i, j in pairs]
        return len(pairs) / len(found), len(pairs) / len(inner), errors

    precision, recall, errors = score(dispatches or None)
    kw = prop.household.ev.charger_kw
    return {
        "precision": precision,
        "recall": recall,
        "errors": errors,
        "errors_without_dispatches": score(None)[2] if dispatches else None,
        "floor": energy_floor(imports, exports, inner, kw),
        "charger_kw": kw,
        "estimated_kw": estimate_charger_kw(imports, export=exports or None),
    }


def energy_floor(
    imports: list[tuple[datetime, float]],
    exports: list[tuple[datetime, float]],
    true: list[tuple[datetime, datetime, float]],
    kw: float,
) -> list[float]:
    """The error on each true session without a pause inside of an estimate that knows which half-hours the
    car charged throughout (a whole half-hour at ``kw`` each) and takes, in the others, the import less export
    above the household's true mean at that local time of day over the 14 days either side (from the truth,
    without the car), capped at a whole half-hour: what splitting part-filled half-hours reaches at best."""
    net = dict(imports)
    for t, kwh in exports:
        if t in net:
            net[t] -= kwh
    car: dict[datetime, float] = {}
    for a, b, _ in true:
        slot = datetime.fromtimestamp(a.timestamp() // 1800 * 1800, UTC)
        while slot < b:
            car[slot] = car.get(slot, 0.0) + kw * (min(slot + HH, b) - max(slot, a)).total_seconds() / 3600
            slot += HH
    house: dict[tuple[int, int], dict[date, float]] = {}
    for t, kwh in net.items():
        local = t.astimezone(UK)
        house.setdefault((local.hour, local.minute), {})[local.date()] = kwh - car.get(t, 0.0)

    def usual(t: datetime) -> float:
        local = t.astimezone(UK)
        days = house[(local.hour, local.minute)]
        return statistics.fmean(days[d] for k in range(-14, 15) if (d := local.date() + timedelta(days=k)) in days)

    errors = []
    for a, b, kwh in true:
        if abs(kw * (b - a).total_seconds() / 3600 - kwh) > 0.01:
            continue  # a pause inside: which half-hours it fills is not known from its ends
        slot, estimate = datetime.fromtimestamp(a.timestamp() // 1800 * 1800, UTC), 0.0
        while slot < b:
            whole = a <= slot and slot + HH <= b
            estimate += kw / 2 if whole else min(max(net[slot] - usual(slot), 0.0), kw / 2) if slot in net else 0.0
            slot += HH
        errors.append(abs(estimate - kwh) / kwh)
    return errors


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, Any]]:
    return {name: accuracy(name) for name in SCENARIOS}


@pytest.mark.parametrize("name", SCENARIOS)
def test_sessions_hold_their_measured_accuracy(measured: dict[str, dict[str, Any]], name: str) -> None:
    # Precision and recall at least as measured (FLOORS); the charger's power measured within 3 %; the energy
    # of a session off by 2.5 % or less at the median and 5 % or less on average.
    figures = measured[name]
    precision, recall = FLOORS[name]
    assert figures["precision"] >= precision
    assert figures["recall"] >= recall
    assert figures["estimated_kw"] == pytest.approx(figures["charger_kw"], rel=0.03)
    assert statistics.median(figures["errors"]) <= 0.025
    assert statistics.fmean(figures["errors"]) <= 0.05


@pytest.mark.parametrize("name", SCENARIOS)
def test_precision_and_recall_reach_the_target(measured: dict[str, dict[str, Any]], name: str) -> None:
    # Matched by overlap, one to one: at least 0.95 of the sessions found are real, and of the real ones found.
    assert measured[name]["precision"] >= TARGET
    assert measured[name]["recall"] >= TARGET


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=ENERGY_SHORT_OF_TARGET))
        if name in WITHOUT_DISPATCHES
        else name
        for name in SCENARIOS
    ],
)
def test_every_session_energy_within_5_percent(measured: dict[str, dict[str, Any]], name: str) -> None:
    assert max(measured[name]["errors"]) <= 0.05


@pytest.mark.parametrize("name", WITHOUT_DISPATCHES)
def test_half_hours_alone_cannot_meet_the_energy_target(measured: dict[str, dict[str, Any]], name: str) -> None:
    # The reason for the xfails above, checked: where some sessions have no dispatches, the best split of their
    # part-filled half-hours (energy_floor) is itself more than 5 % off on some of them.
    floor = measured[name]["floor"]
    assert len(floor) >= 50
    assert max(floor) > 0.05


@pytest.mark.parametrize("name", ["demo", "ev_11kw_intelligent"])
def test_dispatches_make_intelligent_sessions_more_exact(measured: dict[str, dict[str, Any]], name: str) -> None:
    # On Intelligent Octopus Go the dispatches tell when the car charged: errors smaller on average with them
    # (the demo's first year, on Flexible Octopus, has none; the 11 kW household's largest error falls under 5 %,
    # test_every_session_energy_within_5_percent).
    with_them, without = measured[name]["errors"], measured[name]["errors_without_dispatches"]
    assert statistics.fmean(with_them) < statistics.fmean(without)


def test_a_session_round_trips_through_its_json_exactly() -> None:
    start = datetime(2026, 10, 25, 0, 47, 13, tzinfo=UTC)
    halves = ((datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 1.234), (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3.5))
    for s in (
        Session(start, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 4.734, 7.21, halves),
        Session(start + timedelta(microseconds=250_000), start + timedelta(hours=1), 0.1 + 0.2, 3.6, ()),
    ):
        again = Session.from_json(json.loads(json.dumps(s.to_json())))
        assert again == s
        assert again.start.utcoffset() == timedelta(0)
