"""The planner, pure: windows from user dates (clock-change days included), consumption per serial over its
live span, prices per tariff only where not already stored.

Clock changes in Europe/London, 2026: Sunday 29 March has 46 half-hours (01:00 UTC the clocks go forward),
Sunday 25 October has 50 (01:00 UTC they go back).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from octoscope.domain.models import (
    Account,
    Agreement,
    Charge,
    Direction,
    Fuel,
    Meter,
    MeterPoint,
    Property,
)
from octoscope.domain.uktime import BadDate
from octoscope.sync.plan import ChargeTask, ConsumptionTask, Plan, StoredState, Window, make_plan, resolve_window

HALF_HOUR = timedelta(minutes=30)
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
FLEX = "E-1R-VAR-22-11-01-J"
AGILE = "E-1R-AGILE-24-10-01-J"
E7 = "E-2R-VAR-22-11-01-J"
GAS = "G-1R-VAR-22-11-01-J"
MPAN, MPAN2, EXPORT, MPRN = "1900000000001", "1900000000002", "1900000000025", "9000000001"


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def half_hours(start: datetime, end: datetime) -> int:
    return int((end - start) / HALF_HOUR)


def agreement(code: str, start: str, end: str | None = None) -> Agreement:
    return Agreement(code, z(start), z(end) if end else None)


def point(
    identifier: str = MPAN,
    agreements: tuple[Agreement, ...] = (),
    meters: tuple[Meter, ...] = (Meter("99L0000001"),),
    fuel: Fuel = Fuel.ELECTRICITY,
    direction: Direction = Direction.IMPORT,
) -> MeterPoint:
    agreements = agreements or (agreement(FLEX, "2023-06-14T23:00:00Z"),)
    return MeterPoint(fuel, identifier, direction, meters, agreements)


def home(*points: MeterPoint, moved_in: str = "2023-06-14T23:00:00Z", moved_out: str | None = None) -> Property:
    return Property(
        f"p-{moved_in}", z(moved_in), z(moved_out) if moved_out else None, "ZZ9 9ZZ", "2 Example Road", points
    )


def account(*properties: Property) -> Account:
    return Account("A-0000FEED", properties)


def stored(
    last: dict[str, datetime] | None = None,
    first: dict[str, datetime] | None = None,
    covered: dict[tuple[str, Charge], list[Window]] | None = None,
    half_hourly: frozenset[str] = frozenset(),
    serial: str = "99L0000001",
    synced_to: dict[tuple[str, str], datetime] | None = None,
) -> StoredState:
    """What the store holds; ``last`` is per series, for its meter ``serial``."""
    return StoredState(
        meter_last={(series, serial): at for series, at in (last or {}).items()},
        meter_synced_to=synced_to or {},
        first_interval=first or dict(last or {}),
        covered=covered or {},
        half_hourly_tariffs=half_hourly,
    )


NOTHING = stored()


def window(from_text: str, to_text: str, now: datetime = NOW) -> tuple[datetime | None, datetime]:
    return resolve_window(from_text, to_text, now)


def plan_for(
    acct: Account,
    from_text: str,
    to_text: str,
    state: StoredState = NOTHING,
    now: datetime = NOW,
    reread_days: int = 3,
    past: bool = False,
) -> Plan:
    start, end = window(from_text, to_text, now)
    return make_plan(acct, state, start, end, now, reread_days, past)


def spans(tasks: tuple[ChargeTask, ...], code: str, charge: Charge) -> list[tuple[datetime, datetime]]:
    return [(t.start, t.end) for t in tasks if t.tariff.code == code and t.charge is charge]


def by_serial(tasks: tuple[ConsumptionTask, ...]) -> dict[str, tuple[datetime, datetime]]:
    out = {}
    for t in tasks:
        assert t.serial not in out, f"{t.serial} planned twice"
        out[t.serial] = (t.start, t.end)
    return out


# --- resolve_window ------------------------------------------------------------------------------------------


def test_the_spring_clock_change_day_is_23_hours() -> None:
    start, end = window("2026-03-29", "2026-03-30")
    assert (start, end) == (z("2026-03-29T00:00:00Z"), z("2026-03-29T23:00:00Z"))
    assert start is not None
    assert half_hours(start, end) == 46


def test_the_autumn_clock_change_day_is_25_hours() -> None:
    start, end = window("2026-10-25", "2026-10-26")
    assert (start, end) == (z("2026-10-24T23:00:00Z"), z("2026-10-26T00:00:00Z"))
    assert start is not None
    assert half_hours(start, end) == 50


def test_summer_dates_are_local_midnights() -> None:
    assert window("2026-06-01", "2026-07-01") == (z("2026-05-31T23:00:00Z"), z("2026-06-30T23:00:00Z"))


def test_latest_means_no_start() -> None:
    assert window("latest", "2026-11-22") == (None, z("2026-11-22T00:00:00Z"))
    assert window(" Latest ", "2026-11-22")[0] is None


def test_day_words_are_whole_local_days() -> None:
    now = z("2026-03-29T12:00:00Z")  # 13:00 BST on the short day
    assert window("yesterday", "today", now) == (z("2026-03-28T00:00:00Z"), z("2026-03-29T23:00:00Z"))
    assert window("today", "tomorrow", now) == (z("2026-03-29T00:00:00Z"), z("2026-03-30T23:00:00Z"))
    assert window("latest", "yesterday", now) == (None, z("2026-03-29T00:00:00Z"))


def test_day_words_follow_the_local_date_not_the_utc_date() -> None:
    now = z("2026-10-24T23:30:00Z")  # 00:30 BST on Sunday 25 October: already "today" is the long day
    assert window("today", "today", now) == (z("2026-10-24T23:00:00Z"), z("2026-10-26T00:00:00Z"))
    assert window("latest", "yesterday", now) == (None, z("2026-10-24T23:00:00Z"))


def test_from_after_to_is_one_line_bad_date() -> None:
    with pytest.raises(BadDate) as caught:
        window("2026-10-26", "2026-10-25")
    message = str(caught.value)
    assert "\n" not in message
    assert "--from" in message
    assert "--to" in message


def test_from_equal_to_to_is_an_empty_window() -> None:
    with pytest.raises(BadDate):
        window("2026-03-29", "2026-03-29")


@pytest.mark.parametrize(
    ("from_text", "to_text", "flag"),
    [
        ("2026-02-30", "2026-03-10", "--from"),
        ("2026-02-01", "2026-02-30", "--to"),
        ("2026-13-01", "2026-12-01", "--from"),
        ("29/03/2026", "2026-04-01", "--from"),
        ("2026-03-01", "next week", "--to"),
        ("", "2026-04-01", "--from"),
    ],
)
def test_dates_that_do_not_exist_are_one_line_bad_dates(from_text: str, to_text: str, flag: str) -> None:
    with pytest.raises(BadDate) as caught:
        window(from_text, to_text)
    message = str(caught.value)
    assert "\n" not in message
    assert flag in message
    assert "YYYY-MM-DD" in message


# --- consumption -----------------------------------------------------------------------------------------------


def test_a_window_on_the_short_day_plans_46_half_hours() -> None:
    plan = plan_for(account(home(point())), "2026-03-29", "2026-03-30")
    (task,) = plan.consumption
    assert (task.start, task.end) == (z("2026-03-29T00:00:00Z"), z("2026-03-29T23:00:00Z"))
    assert half_hours(task.start, task.end) == 46
    assert plan.window == Window(z("2026-03-29T00:00:00Z"), z("2026-03-29T23:00:00Z"))
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(task.start, task.end)]
    assert spans(plan.charges, FLEX, Charge.STANDING) == [(task.start, task.end)]


def test_a_window_on_the_long_day_plans_50_half_hours() -> None:
    plan = plan_for(account(home(point())), "2026-10-25", "2026-10-26")
    (task,) = plan.consumption
    assert (task.start, task.end) == (z("2026-10-24T23:00:00Z"), z("2026-10-26T00:00:00Z"))
    assert half_hours(task.start, task.end) == 50
    assert spans(plan.charges, FLEX, Charge.STANDING) == [(task.start, task.end)]


def test_a_window_from_the_short_day_to_the_long_day() -> None:
    plan = plan_for(account(home(point())), "2026-03-29", "2026-10-25")
    (task,) = plan.consumption
    assert (task.start, task.end) == (z("2026-03-29T00:00:00Z"), z("2026-10-24T23:00:00Z"))
    assert plan.window == Window(task.start, task.end)


def test_consumption_stops_at_now_while_prices_run_to_the_end() -> None:
    now = z("2026-11-21T09:13:00Z")
    plan = plan_for(account(home(point())), "2026-11-20", "tomorrow", now=now)
    (task,) = plan.consumption
    assert (task.start, task.end) == (z("2026-11-20T00:00:00Z"), now)
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(z("2026-11-20T00:00:00Z"), z("2026-11-23T00:00:00Z"))]


def test_latest_with_nothing_stored_starts_at_the_move_in() -> None:
    plan = plan_for(account(home(point(), moved_in="2026-10-24T23:00:00Z")), "latest", "2026-11-01")
    (task,) = plan.consumption
    assert (task.start, task.end) == (z("2026-10-24T23:00:00Z"), z("2026-11-01T00:00:00Z"))
    assert plan.window.start == z("2026-10-24T23:00:00Z")


def test_a_window_before_the_move_in_starts_at_the_move_in() -> None:
    plan = plan_for(account(home(point(), moved_in="2026-06-14T23:00:00Z")), "2026-06-01", "2026-07-01")
    (task,) = plan.consumption
    assert task.start == z("2026-06-14T23:00:00Z")


def test_reread_days_count_back_from_the_last_stored_interval() -> None:
    acct = account(home(point()))
    series = acct.properties[0].meter_points[0].series
    state = stored(last={series: z("2026-11-20T23:30:00Z")}, first={series: z("2023-06-14T23:00:00Z")})
    plan = plan_for(acct, "latest", "tomorrow", state, reread_days=3)
    (task,) = plan.consumption
    # The 20th is the last whole day stored: re-read the 18th, 19th and 20th, then on to now.
    assert (task.start, task.end) == (z("2026-11-18T00:00:00Z"), NOW)


def test_reread_days_across_the_autumn_clock_change() -> None:
    acct = account(home(point()))
    series = acct.properties[0].meter_points[0].series
    # The last half-hour of the long day (23:30 GMT on 25 October) is stored.
    state = stored(last={series: z("2026-10-25T23:30:00Z")})
    now = z("2026-10-26T10:00:00Z")
    (task,) = plan_for(acct, "latest", "today", state, now=now, reread_days=3).consumption
    assert task.start == z("2026-10-22T23:00:00Z")  # local midnight of Friday the 23rd, in BST
    # The last half-hour of Saturday the 24th (23:30 BST) is stored.
    state = stored(last={series: z("2026-10-24T22:30:00Z")})
    (task,) = plan_for(acct, "latest", "today", state, now=now, reread_days=3).consumption
    assert task.start == z("2026-10-21T23:00:00Z")


def test_reread_never_starts_before_the_move_in() -> None:
    acct = account(home(point(), moved_in="2026-11-19T00:00:00Z"))
    series = acct.properties[0].meter_points[0].series
    state = stored(last={series: z("2026-11-20T23:30:00Z")})
    (task,) = plan_for(acct, "latest", "today", state, reread_days=7).consumption
    assert task.start == z("2026-11-19T00:00:00Z")


def test_an_explicit_from_is_honoured_whatever_is_stored() -> None:
    acct = account(home(point()))
    series = acct.properties[0].meter_points[0].series
    state = stored(last={series: z("2026-11-20T23:30:00Z")})
    (task,) = plan_for(acct, "2026-01-01", "2026-02-01", state).consumption
    assert (task.start, task.end) == (z("2026-01-01T00:00:00Z"), z("2026-02-01T00:00:00Z"))


def test_a_meter_exchange_gives_one_task_per_serial_over_its_live_span() -> None:
    meters = (
        Meter("S1M0001101", active_from=date(2023, 6, 15), active_to=date(2026, 10, 24)),
        Meter("S2M0001102", active_from=date(2026, 10, 25), active_to=None),
    )
    plan = plan_for(account(home(point(meters=meters))), "2026-10-01", "2026-11-01")
    assert by_serial(plan.consumption) == {
        "S1M0001101": (z("2026-09-30T23:00:00Z"), z("2026-10-24T23:00:00Z")),  # through the end of the 24th
        "S2M0001102": (z("2026-10-24T23:00:00Z"), z("2026-11-01T00:00:00Z")),  # from the long day's midnight
    }
    assert {t.series for t in plan.consumption} == {f"electricity-import:{MPAN}"}
    assert len(spans(plan.charges, FLEX, Charge.STANDARD)) == 1, "prices do not depend on the meter"


def test_a_meter_exchanged_during_a_day_is_read_on_both_serials_for_that_day() -> None:
    meters = (
        Meter("S1M0001101", active_from=date(2025, 9, 1), active_to=date(2026, 6, 17)),
        Meter("S2M0001102", active_from=date(2026, 6, 17), active_to=None),
    )
    plan = plan_for(account(home(point(meters=meters))), "2026-06-01", "2026-07-01")
    assert by_serial(plan.consumption) == {
        "S1M0001101": (z("2026-05-31T23:00:00Z"), z("2026-06-17T23:00:00Z")),
        "S2M0001102": (z("2026-06-16T23:00:00Z"), z("2026-06-30T23:00:00Z")),
    }


def test_a_meter_removed_before_the_window_is_not_asked_for() -> None:
    meters = (
        Meter("OLD", active_from=date(2023, 6, 15), active_to=date(2026, 1, 31)),
        Meter("NEW", active_from=date(2026, 2, 1)),
    )
    plan = plan_for(account(home(point(meters=meters))), "2026-06-01", "2026-07-01")
    assert set(by_serial(plan.consumption)) == {"NEW"}


def test_each_point_has_its_own_series() -> None:
    acct = account(
        home(
            point(MPAN),
            point(
                EXPORT, (agreement("E-1R-OUTGOING-VAR-24-10-26-J", "2024-11-01T00:00:00Z"),), direction=Direction.EXPORT
            ),
            point(MPRN, (agreement(GAS, "2023-06-14T23:00:00Z"),), (Meter("E6S99999999901", unit="m³"),), Fuel.GAS),
        )
    )
    plan = plan_for(acct, "2026-11-01", "2026-11-02")
    tasks = {t.series: t for t in plan.consumption}
    assert set(tasks) == {f"electricity-import:{MPAN}", f"electricity-export:{EXPORT}", f"gas:{MPRN}"}
    assert tasks[f"gas:{MPRN}"].unit == "m³"
    assert tasks[f"gas:{MPRN}"].fuel is Fuel.GAS
    assert tasks[f"electricity-import:{MPAN}"].unit == "kWh"


def test_past_properties_only_when_asked() -> None:
    old = home(
        point("1200000000004", (agreement(E7, "2019-02-25T00:00:00Z", "2023-06-13T23:00:00Z"),)),
        moved_in="2019-02-25T00:00:00Z",
        moved_out="2023-06-13T23:00:00Z",
    )
    acct = account(old, home(point()))
    assert {t.point for t in plan_for(acct, "2023-06-01", "2023-07-01").consumption} == {MPAN}
    past = plan_for(acct, "2023-06-01", "2023-07-01", past=True)
    spans_by_point = {t.point: (t.start, t.end) for t in past.consumption}
    assert spans_by_point["1200000000004"] == (z("2023-05-31T23:00:00Z"), z("2023-06-13T23:00:00Z"))
    assert spans_by_point[MPAN] == (z("2023-06-14T23:00:00Z"), z("2023-06-30T23:00:00Z"))
    assert {t.charge for t in past.charges if t.tariff.code == E7} == {Charge.DAY, Charge.NIGHT, Charge.STANDING}


# --- prices ------------------------------------------------------------------------------------------------------


def test_a_tariff_switch_at_any_instant_splits_the_price_windows() -> None:
    switch = "2026-06-15T10:17:00Z"
    p = point(agreements=(agreement(FLEX, "2023-06-14T23:00:00Z", switch), agreement(AGILE, switch)))
    plan = plan_for(account(home(p)), "2026-06-01", "2026-07-01")
    for charge in (Charge.STANDARD, Charge.STANDING):
        assert spans(plan.charges, FLEX, charge) == [(z("2026-05-31T23:00:00Z"), z(switch))]
        assert spans(plan.charges, AGILE, charge) == [(z(switch), z("2026-06-30T23:00:00Z"))]
    assert len(plan.consumption) == 1, "consumption does not care about tariffs"


def test_a_tariff_switch_at_the_spring_clock_change_instant() -> None:
    switch = "2026-03-29T01:00:00Z"  # 01:00 GMT becomes 02:00 BST
    p = point(agreements=(agreement(FLEX, "2023-06-14T23:00:00Z", switch), agreement(AGILE, switch)))
    plan = plan_for(account(home(p)), "2026-03-29", "2026-03-30")
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(z("2026-03-29T00:00:00Z"), z(switch))]
    assert spans(plan.charges, AGILE, Charge.STANDARD) == [(z(switch), z("2026-03-29T23:00:00Z"))]


def test_an_economy_7_tariff_needs_day_night_and_standing_prices() -> None:
    plan = plan_for(
        account(home(point(agreements=(agreement(E7, "2023-06-14T23:00:00Z"),)))), "2026-11-01", "2026-11-02"
    )
    assert sorted(t.charge for t in plan.charges) == sorted([Charge.DAY, Charge.NIGHT, Charge.STANDING])


def test_a_tariff_shared_by_two_meter_points_is_fetched_once() -> None:
    acct = account(
        home(
            point(MPAN, (agreement(FLEX, "2023-06-14T23:00:00Z"),), (Meter("A1"),)),
            point(MPAN2, (agreement(FLEX, "2026-06-10T12:00:00Z"),), (Meter("B1"),)),
        )
    )
    plan = plan_for(acct, "2026-06-01", "2026-07-01")
    assert len(plan.consumption) == 2
    for charge in (Charge.STANDARD, Charge.STANDING):
        assert spans(plan.charges, FLEX, charge) == [(z("2026-05-31T23:00:00Z"), z("2026-06-30T23:00:00Z"))]
    assert len(plan.charges) == 2


def test_a_tariff_shared_across_a_move_is_fetched_once_over_both_homes() -> None:
    old = home(
        point("1200000000004", (agreement(FLEX, "2019-02-25T00:00:00Z", "2026-06-10T23:00:00Z"),)),
        moved_in="2019-02-25T00:00:00Z",
        moved_out="2026-06-10T23:00:00Z",
    )
    new = home(point(MPAN, (agreement(FLEX, "2026-06-10T23:00:00Z"),)), moved_in="2026-06-10T23:00:00Z")
    plan = plan_for(account(old, new), "2026-06-01", "2026-07-01", past=True)
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(z("2026-05-31T23:00:00Z"), z("2026-06-30T23:00:00Z"))]


def test_stored_price_windows_are_not_fetched_again() -> None:
    start, end = z("2026-05-31T23:00:00Z"), z("2026-06-30T23:00:00Z")
    state = stored(
        covered={
            (FLEX, Charge.STANDARD): [Window(start, z("2026-06-20T00:00:00Z"))],
            (FLEX, Charge.STANDING): [Window(z("2026-01-01T00:00:00Z"), z("2027-01-01T00:00:00Z"))],
        }
    )
    plan = plan_for(account(home(point())), "2026-06-01", "2026-07-01", state)
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(z("2026-06-20T00:00:00Z"), end)]
    assert spans(plan.charges, FLEX, Charge.STANDING) == []


def test_only_the_holes_between_stored_price_windows_are_fetched() -> None:
    state = stored(
        covered={
            (AGILE, Charge.STANDARD): [
                Window(z("2026-06-10T00:00:00Z"), z("2026-06-12T00:00:00Z")),
                Window(z("2026-06-11T00:00:00Z"), z("2026-06-20T00:00:00Z")),  # overlapping windows merge
                Window(z("2026-06-25T00:00:00Z"), z("2026-06-26T00:00:00Z")),
            ]
        },
        half_hourly=frozenset({AGILE}),
    )
    p = point(agreements=(agreement(AGILE, "2024-10-14T23:00:00Z"),))
    plan = plan_for(account(home(p)), "2026-06-01", "2026-07-01", state)
    assert spans(plan.charges, AGILE, Charge.STANDARD) == [
        (z("2026-05-31T23:00:00Z"), z("2026-06-10T00:00:00Z")),
        (z("2026-06-20T00:00:00Z"), z("2026-06-25T00:00:00Z")),
        (z("2026-06-26T00:00:00Z"), z("2026-06-30T23:00:00Z")),
    ]


def test_prices_are_planned_wherever_consumption_is_stored() -> None:
    # An earlier run stored consumption from the move-in and stopped before its prices.
    acct = account(home(point(), moved_in="2026-01-01T00:00:00Z"))
    series = acct.properties[0].meter_points[0].series
    state = stored(last={series: z("2026-11-20T23:30:00Z")}, first={series: z("2026-01-01T00:00:00Z")})
    plan = plan_for(acct, "latest", "tomorrow", state)
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(z("2026-01-01T00:00:00Z"), z("2026-11-23T00:00:00Z"))]
    covered = stored(
        last={series: z("2026-11-20T23:30:00Z")},
        first={series: z("2026-01-01T00:00:00Z")},
        covered={(FLEX, Charge.STANDARD): [Window(z("2026-01-01T00:00:00Z"), z("2026-11-21T00:00:00Z"))]},
    )
    plan = plan_for(acct, "latest", "tomorrow", covered)
    assert spans(plan.charges, FLEX, Charge.STANDARD) == [(z("2026-11-21T00:00:00Z"), z("2026-11-23T00:00:00Z"))]


def test_the_request_estimate_counts_pages() -> None:
    p = point(agreements=(agreement(AGILE, "2024-10-14T23:00:00Z"),))
    plan = plan_for(account(home(p)), "2026-03-29", "2026-06-01", stored(half_hourly=frozenset({AGILE})))
    (task,) = plan.consumption
    assert half_hours(task.start, task.end) == 64 * 48 - 2  # 64 local days, one of them short
    (standard,) = (t for t in plan.charges if t.charge is Charge.STANDARD)
    (standing,) = (t for t in plan.charges if t.charge is Charge.STANDING)
    assert standard.half_hourly
    assert standard.pages == 3  # 3070 half-hourly prices at 1500 a page
    assert standing.pages == 1
    assert task.pages == 1
    assert plan.requests == 1 + 3 + 1


def test_a_flat_tariff_is_one_page_whatever_the_window() -> None:
    plan = plan_for(account(home(point())), "2024-01-01", "2026-11-01")
    assert all(t.pages == 1 for t in plan.charges)
    (task,) = plan.consumption
    assert task.pages == 2  # more than 25,000 half-hours


# --- found in review: units per meter, resuming per meter, homes still lived in ------------------------------


def test_each_gas_meter_keeps_its_own_unit() -> None:
    meters = (
        Meter("SMETS1", active_from=date(2023, 6, 15), active_to=date(2026, 1, 31), unit="kWh"),
        Meter("SMETS2", active_from=date(2026, 2, 1), unit="m³"),
    )
    acct = account(home(point(MPRN, (agreement(GAS, "2023-06-14T23:00:00Z"),), meters, Fuel.GAS)))
    plan = plan_for(acct, "2026-01-01", "2026-03-01")
    assert {t.serial: t.unit for t in plan.consumption} == {"SMETS1": "kWh", "SMETS2": "m³"}


def test_each_meter_resumes_from_its_own_last_half_hour() -> None:
    # The new meter is up to date; the old one stopped after its first page: it must be read on from there.
    meters = (
        Meter("OLD", active_from=date(2024, 1, 1), active_to=date(2026, 6, 16)),
        Meter("NEW", active_from=date(2026, 6, 17)),
    )
    acct = account(home(point(meters=meters)))
    series = acct.properties[0].meter_points[0].series
    state = StoredState(
        meter_last={(series, "OLD"): z("2025-02-10T23:30:00Z"), (series, "NEW"): z("2026-11-20T23:30:00Z")},
        meter_synced_to={(series, "NEW"): NOW},
        first_interval={series: z("2024-01-01T00:00:00Z")},
        covered={},
        half_hourly_tariffs=frozenset(),
    )
    plan = plan_for(acct, "latest", "today", state, reread_days=3)
    assert by_serial(plan.consumption) == {
        "OLD": (z("2025-02-08T00:00:00Z"), z("2026-06-16T23:00:00Z")),
        "NEW": (z("2026-11-18T00:00:00Z"), NOW),
    }


def test_a_meter_read_whole_and_settled_is_not_read_again() -> None:
    meters = (Meter("OLD", active_from=date(2024, 1, 1), active_to=date(2026, 6, 16)), Meter("NEW"))
    acct = account(home(point(meters=meters)))
    series = acct.properties[0].meter_points[0].series
    state = StoredState(
        meter_last={(series, "OLD"): z("2026-06-16T22:30:00Z"), (series, "NEW"): z("2026-11-20T23:30:00Z")},
        meter_synced_to={(series, "OLD"): z("2026-06-16T23:00:00Z"), (series, "NEW"): NOW},
        first_interval={series: z("2024-01-01T00:00:00Z")},
        covered={},
        half_hourly_tariffs=frozenset(),
    )
    plan = plan_for(acct, "latest", "today", state, reread_days=3)
    assert set(by_serial(plan.consumption)) == {"NEW"}


def test_a_move_out_recorded_ahead_of_time_is_still_home() -> None:
    acct = account(home(point(), moved_out="2026-12-31T00:00:00Z"))
    plan = plan_for(acct, "2026-11-01", "2026-11-02")
    assert len(plan.consumption) == 1


def test_two_homes_lived_in_at_once_are_both_synced() -> None:
    acct = account(home(point(MPAN)), home(point(MPAN2), moved_in="2025-01-01T00:00:00Z"))
    plan = plan_for(acct, "2026-11-01", "2026-11-02")
    assert {t.point for t in plan.consumption} == {MPAN, MPAN2}
