"""Readings: upserts that change nothing when repeated, kept with the unit received, answered in [start, end)
in time order, UTC instants exact across the clock changes; cursors; the empty store's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from octoscope.domain.models import Reading
from octoscope.store.errors import StoreError
from octoscope.store.ports import StoreProtocol
from tests.store.test_sqlite import AGILE_INFO, AT, GAS_SERIES, IMPORT, enriched_account

HALF_HOUR = timedelta(minutes=30)
SPRING = (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), 46)  # UK local day 29 March 2026: 23 hours
AUTUMN = (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), 50)  # UK local day 25 October 2026: 25 hours


def day(first: datetime, n: int, value: float = 0.25) -> list[Reading]:
    return [Reading(first + i * HALF_HOUR, value + i / 1000) for i in range(n)]


def test_the_empty_store_answers_nothing(empty: StoreProtocol) -> None:
    assert empty.readings(IMPORT, AT - timedelta(days=1), AT) == []
    assert empty.series_extent(IMPORT) is None
    assert empty.series_gaps(IMPORT) == []
    assert empty.meter_extents() == {}
    assert empty.cursors() == {}
    assert empty.load_account("A-0000FEED") is None
    assert empty.account_read_at("A-0000FEED") is None


def test_writing_the_same_readings_twice_changes_nothing(store: StoreProtocol) -> None:
    readings = day(AT, 4)
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", readings) == (4, 0)
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", readings) == (0, 0)
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", []) == (0, 0)
    assert [r[0] for r in store.readings(IMPORT, AT, AT + 2 * HALF_HOUR * 2)] == [r.start for r in readings]


def test_a_revised_reading_replaces_its_half_hour(store: StoreProtocol) -> None:
    store.write_consumption(IMPORT, "99L0000001", "kWh", day(AT, 2))
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", [Reading(AT, 9.5)]) == (0, 1)
    assert store.readings(IMPORT, AT, AT + HALF_HOUR) == [(AT, 9.5, "kWh")]


def test_units_are_kept_as_received(store: StoreProtocol) -> None:
    store.write_consumption(GAS_SERIES, "E6S99999999901", "m³", [Reading(AT, 1.234)])
    assert store.readings(GAS_SERIES, AT, AT + HALF_HOUR) == [(AT, 1.234, "m³")]
    extent = store.series_extent(GAS_SERIES)
    assert extent is not None
    assert (extent.unit, extent.first, extent.last, extent.rows) == ("m³", AT, AT, 1)


@pytest.mark.parametrize("units", [("m³", "m³"), ("kWh", "m³"), ("m³", "ft³"), ("kWh", "kWh")])
def test_reading_columns_keep_every_unit_as_received(store: StoreProtocol, units: tuple[str, str]) -> None:
    for i, unit in enumerate(units):
        store.write_consumption(GAS_SERIES, f"E6S9999999990{i}", unit, [Reading(AT + i * HALF_HOUR, 1.5 + i)])
    got = store.reading_columns(GAS_SERIES, AT, AT + 2 * HALF_HOUR)
    assert (tuple(got.starts), tuple(got.values), tuple(got.units)) == (
        (int(AT.timestamp()), int(AT.timestamp()) + 1800),
        (1.5, 2.5),
        units,
    )


def test_ranges_are_half_open_and_in_time_order(store: StoreProtocol) -> None:
    readings = day(AT, 6)
    store.write_consumption(IMPORT, "99L0000001", "kWh", list(reversed(readings)))
    got = store.readings(IMPORT, readings[1].start, readings[4].start)
    assert [when for when, _, _ in got] == [r.start for r in readings[1:4]]
    assert store.readings(IMPORT, readings[2].start, readings[2].start) == []


@pytest.mark.parametrize(("first", "n"), [SPRING, AUTUMN], ids=["spring-46", "autumn-50"])
def test_reading_columns_answer_as_readings_do_in_epoch_seconds(store: StoreProtocol, first: datetime, n: int) -> None:
    readings = day(first, n)
    store.write_consumption(IMPORT, "99L0000001", "kWh", list(reversed(readings)))
    lo, hi = readings[1].start, readings[-1].start
    got = store.reading_columns(IMPORT, lo, hi)
    assert list(zip(*got, strict=True)) == [(int(t.timestamp()), v, u) for t, v, u in store.readings(IMPORT, lo, hi)]
    assert list(got.starts) == [int(r.start.timestamp()) for r in readings[1:-1]]
    assert tuple(store.reading_columns(IMPORT, lo, lo)) == ((), (), ())
    assert tuple(store.reading_columns("electricity-import:0000000000000", lo, hi)) == ((), (), ())


@pytest.mark.parametrize(("first", "n"), [SPRING, AUTUMN], ids=["spring-46", "autumn-50"])
def test_clock_change_days_round_trip_exactly(store: StoreProtocol, first: datetime, n: int) -> None:
    readings = day(first, n)
    store.write_consumption(IMPORT, "99L0000001", "kWh", readings)
    got = store.readings(IMPORT, first, first + n * HALF_HOUR)
    assert len(got) == n
    assert [(when, value) for when, value, _ in got] == [(r.start, r.value) for r in readings]
    assert all(when.utcoffset() == timedelta(0) for when, _, _ in got)


def test_gaps_are_half_open_stretches(store: StoreProtocol) -> None:
    readings = day(AT, 6)
    store.write_consumption(IMPORT, "99L0000001", "kWh", readings[:2] + readings[4:])
    assert store.series_gaps(IMPORT) == [(readings[2].start, readings[4].start)]
    assert store.meter_extents() == {(IMPORT, "99L0000001"): (readings[0].start, readings[-1].start)}


def test_cursors_only_move_forward(store: StoreProtocol) -> None:
    later = AT + timedelta(days=1)
    store.mark_synced(IMPORT, "99L0000001", later, AT)
    store.mark_synced(IMPORT, "99L0000001", AT, later)  # an older window read again
    assert store.cursors() == {(IMPORT, "99L0000001"): (later, later)}


def test_readings_of_an_unknown_series_are_refused(store: StoreProtocol) -> None:
    with pytest.raises(StoreError):
        store.write_consumption("electricity-import:0000000000000", "X", "kWh", day(AT, 1))


def test_the_account_round_trips_and_saving_it_again_changes_nothing(store: StoreProtocol) -> None:
    account = enriched_account()
    first = store.load_account(account.number)
    assert first is not None
    assert {p.id for p in first.properties} == {p.id for p in account.properties}
    assert first.devices == account.devices
    store.save_account(account, [AGILE_INFO], AT + timedelta(hours=1))
    assert store.load_account(account.number) == first
    assert store.account_read_at(account.number) == AT + timedelta(hours=1)
    assert store.tariff_kinds()[AGILE_INFO.code] == "HalfHourlyTariff"
