"""The SQLite store on real files: migrations recorded, every write an upsert that counts new and changed rows,
gaps, price windows, tokens and the request ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from octoscope.domain.models import (
    Account,
    Agreement,
    Charge,
    Direction,
    Fuel,
    IssuedToken,
    Meter,
    MeterPoint,
    Property,
    Rate,
    Reading,
    SmartDevice,
    TariffInfo,
)
from octoscope.octopus import parse
from octoscope.store import migrations
from octoscope.store.sqlite import BUDGET_KEEP_SECONDS, RateWindow, Store, StoreError
from tests.conftest import load_fixture, table_rows

HALF_HOUR = timedelta(minutes=30)
AGILE = "E-1R-AGILE-24-10-01-J"
FLEX = "E-1R-VAR-22-11-01-J"
IMPORT = "electricity-import:1900000000001"
GAS_SERIES = "gas:9000000001"
AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
KEY_ID = "0123456789abcdef"


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def fixture_account() -> Account:
    return parse.rest_account(load_fixture("account.json"), "A-0000FEED")


def enriched_account() -> Account:
    """The fixture account as discovery saves it: with GraphQL's meter dates, units and devices."""
    account = fixture_account()
    details = parse.AccountDetails(
        meters={
            ("1900000000001", "98L0000002"): parse.MeterDetails(date(2023, 6, 15), date(2024, 3, 1), None, "S1", None),
            ("1900000000001", "99L0000001"): parse.MeterDetails(
                date(2024, 3, 1), None, None, "S2AD", "00-00-00-FF-FE-00-00-01"
            ),
            ("9000000001", "E6S99999999901"): parse.MeterDetails(
                date(2023, 6, 15), None, "m³", "S2", "00-00-00-FF-FE-00-00-02"
            ),
        },
        directions={"1900000000025": Direction.EXPORT},
        tariffs={},
        devices=(SmartDevice("00000000-0000-4000-8000-000000000001", "ELECTRIC_VEHICLES", "OHME", "LIVE", None),),
    )
    return parse.merge_details(account, details)


AGILE_INFO = TariffInfo(AGILE, "AGILE-24-10-01", "Agile Octopus October 2024 v1", "Agile Octopus", "HalfHourlyTariff")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "octoscope.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    opened = Store.open(db)
    opened.save_account(enriched_account(), [AGILE_INFO], AT)
    yield opened
    opened.close()


def half_hourly(start: str, values: list[float]) -> list[Reading]:
    first = z(start)
    return [Reading(first + i * HALF_HOUR, v) for i, v in enumerate(values)]


def agile_rates(start: str, values: list[float]) -> list[Rate]:
    first = z(start)
    return [
        Rate(first + i * HALF_HOUR, first + (i + 1) * HALF_HOUR, v, round(v * 1.05, 4), None)
        for i, v in enumerate(values)
    ]


# --- opening and migrations ----------------------------------------------------------------------------------


def test_opening_creates_the_file_in_wal_mode_and_records_the_migrations(db: Path) -> None:
    with Store.open(db) as store:
        assert store.schema_version() == len(migrations.MIGRATIONS)
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(i, name) for i, (name, _) in enumerate(migrations.MIGRATIONS, start=1)]


def test_reopening_does_not_run_migrations_again(db: Path) -> None:
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        first = conn.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()
    with Store.open(db) as store:
        assert store.schema_version() == len(migrations.MIGRATIONS)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall() == first


def test_a_failing_migration_leaves_nothing_half_done(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Store.open(db).close()
    broken = (*migrations.MIGRATIONS, ("half a migration", "CREATE TABLE extra (x INTEGER); CREATE TABLE oops ("))
    monkeypatch.setattr("octoscope.store.guard.MIGRATIONS", broken)
    with pytest.raises(StoreError) as caught:
        Store.open(db)
    assert str(db) in str(caught.value)
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert "extra" not in tables, "the migration's first statement was rolled back with it"
    assert versions == list(range(1, len(migrations.MIGRATIONS) + 1))


def test_a_migration_table_with_gaps_is_refused(db: Path) -> None:
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 3")
    with pytest.raises(StoreError, match=r"with gaps: restore a backup of it"):
        Store.open(db)


def test_a_file_that_is_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


# --- the account -------------------------------------------------------------------------------------------------


def test_the_account_round_trips(store: Store) -> None:
    loaded = store.load_account("A-0000FEED")
    assert loaded is not None
    saved = enriched_account()
    assert {p.id for p in loaded.properties} == {p.id for p in saved.properties}
    for original in saved.properties:
        (back,) = (p for p in loaded.properties if p.id == original.id)
        assert (back.moved_in_at, back.moved_out_at, back.postcode) == (
            original.moved_in_at,
            original.moved_out_at,
            original.postcode,
        )
        assert {p.identifier: p for p in back.meter_points} == {p.identifier: p for p in original.meter_points}
    assert loaded.devices == saved.devices
    current = loaded.current_property()
    assert current is not None
    gas = next(p for p in current.meter_points if p.fuel is Fuel.GAS)
    assert gas.unit == "m³"


def test_an_unknown_account_is_none(store: Store) -> None:
    assert store.load_account("A-00000000") is None


def test_saving_the_account_twice_changes_nothing(store: Store, db: Path) -> None:
    before = table_rows(db)
    store.save_account(enriched_account(), [AGILE_INFO], AT + timedelta(days=1))
    assert table_rows(db) == before


def test_saving_the_account_updates_what_changed(store: Store) -> None:
    account = enriched_account()
    current = account.current_property()
    assert current is not None
    point = next(p for p in current.meter_points if p.identifier == "1900000000001")
    ended = Agreement(point.agreements[-1].tariff_code, point.agreements[-1].valid_from, z("2026-12-01T00:00:00Z"))
    new_point = MeterPoint(
        point.fuel,
        point.identifier,
        point.direction,
        point.meters,
        (*point.agreements[:-1], ended),
        point.profile_class,
    )
    changed = Property(
        current.id,
        current.moved_in_at,
        current.moved_out_at,
        current.postcode,
        current.address,
        tuple(new_point if p.identifier == point.identifier else p for p in current.meter_points),
    )
    store.save_account(Account(account.number, (account.properties[0], changed), account.devices), [], AT)
    loaded = store.load_account("A-0000FEED")
    assert loaded is not None
    loaded_current = loaded.current_property()
    assert loaded_current is not None
    loaded_point = next(p for p in loaded_current.meter_points if p.identifier == "1900000000001")
    assert loaded_point.agreements[-1].valid_to == z("2026-12-01T00:00:00Z")
    assert len(loaded_point.agreements) == len(point.agreements)


def test_rest_only_details_do_not_erase_what_graphql_told_us(store: Store) -> None:
    store.save_account(fixture_account(), [], AT)  # the REST account knows no units, dates or device ids
    loaded = store.load_account("A-0000FEED")
    assert loaded is not None
    current = loaded.current_property()
    assert current is not None
    gas = next(p for p in current.meter_points if p.fuel is Fuel.GAS)
    assert gas.meters[0].unit == "m³"
    assert gas.meters[0].device_id == "00-00-00-FF-FE-00-00-02"


def test_tariff_kinds_are_kept(store: Store) -> None:
    kinds = store.tariff_kinds()
    assert kinds[AGILE] == "HalfHourlyTariff"
    assert FLEX in kinds
    store.save_account(enriched_account(), [], AT)  # an agreement saved again does not forget the kind
    assert store.tariff_kinds()[AGILE] == "HalfHourlyTariff"


# --- consumption -----------------------------------------------------------------------------------------------


def test_consumption_counts_new_then_nothing_on_a_second_write(store: Store) -> None:
    readings = half_hourly("2026-11-20T00:00:00Z", [0.1, 0.2, 0.3, 0.4])
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", readings) == (4, 0)
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", readings) == (0, 0)
    assert store.readings(IMPORT, z("2026-11-20T00:00:00Z"), z("2026-11-21T00:00:00Z")) == [
        (r.start, r.value, "kWh") for r in readings
    ]


def test_consumption_counts_new_and_revised_rows_separately(store: Store) -> None:
    store.write_consumption(IMPORT, "99L0000001", "kWh", half_hourly("2026-11-20T00:00:00Z", [0.1, 0.2, 0.3]))
    revised = half_hourly("2026-11-20T00:00:00Z", [0.1, 0.25, 0.3, 0.4, 0.5])
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", revised) == (2, 1)
    values = [v for _, v, _ in store.readings(IMPORT, z("2026-11-20T00:00:00Z"), z("2026-11-21T00:00:00Z"))]
    assert values == [0.1, 0.25, 0.3, 0.4, 0.5]


def test_an_empty_write_is_nothing(store: Store) -> None:
    assert store.write_consumption(IMPORT, "99L0000001", "kWh", []) == (0, 0)


def test_units_are_kept_as_received(store: Store) -> None:
    store.write_consumption(GAS_SERIES, "E6S99999999901", "m³", half_hourly("2026-11-20T00:00:00Z", [0.003, 0.0]))
    assert [u for _, _, u in store.readings(GAS_SERIES, AT - timedelta(days=2), AT)] == ["m³", "m³"]
    extent = store.series_extent(GAS_SERIES)
    assert extent is not None
    assert extent.unit == "m³"


def test_consumption_for_an_unknown_series_is_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        store.write_consumption(
            "electricity-import:0000000000000", "X", "kWh", half_hourly("2026-11-20T00:00:00Z", [1])
        )


def test_readings_are_from_inclusive_to_exclusive(store: Store) -> None:
    store.write_consumption(IMPORT, "S", "kWh", half_hourly("2026-11-20T00:00:00Z", [1, 2, 3, 4]))
    got = store.readings(IMPORT, z("2026-11-20T00:30:00Z"), z("2026-11-20T01:30:00Z"))
    assert [v for _, v, _ in got] == [2, 3]


def test_extent_and_no_gaps_across_the_short_day(store: Store) -> None:
    # 2026-03-29 in London: 46 half-hours, contiguous in UTC.
    store.write_consumption(IMPORT, "S", "kWh", half_hourly("2026-03-29T00:00:00Z", [0.1] * 46))
    extent = store.series_extent(IMPORT)
    assert extent is not None
    assert (extent.first, extent.last, extent.rows) == (z("2026-03-29T00:00:00Z"), z("2026-03-29T22:30:00Z"), 46)
    assert store.series_gaps(IMPORT) == []


def test_no_gaps_across_the_long_day(store: Store) -> None:
    store.write_consumption(IMPORT, "S", "kWh", half_hourly("2026-10-24T23:00:00Z", [0.1] * 50))
    extent = store.series_extent(IMPORT)
    assert extent is not None
    assert (extent.last, extent.rows) == (z("2026-10-25T23:30:00Z"), 50)
    assert store.series_gaps(IMPORT) == []


def test_gaps_are_the_missing_stretches(store: Store) -> None:
    readings = half_hourly("2026-11-20T00:00:00Z", [1.0] * 10)
    kept = readings[:2] + readings[5:6] + readings[7:]
    store.write_consumption(IMPORT, "S", "kWh", kept)
    assert store.series_gaps(IMPORT) == [
        (z("2026-11-20T01:00:00Z"), z("2026-11-20T02:30:00Z")),
        (z("2026-11-20T03:00:00Z"), z("2026-11-20T03:30:00Z")),
    ]
    store.write_consumption(IMPORT, "S", "kWh", readings)
    assert store.series_gaps(IMPORT) == []


def test_no_extent_for_an_empty_series(store: Store) -> None:
    assert store.series_extent(IMPORT) is None
    assert store.series_gaps(IMPORT) == []


def test_the_cursor_only_moves_forward(store: Store) -> None:
    store.write_consumption(IMPORT, "S", "kWh", half_hourly("2026-11-20T00:00:00Z", [1]))
    store.mark_synced(IMPORT, "S", z("2026-11-21T00:00:00Z"), z("2026-11-21T09:00:00Z"))
    store.mark_synced(IMPORT, "S", z("2026-11-19T00:00:00Z"), z("2026-11-21T09:05:00Z"))
    assert store.cursors()[(IMPORT, "S")][1] == z("2026-11-21T00:00:00Z")


def test_meter_extents_are_per_serial(store: Store) -> None:
    store.write_consumption(IMPORT, "OLD", "kWh", half_hourly("2026-06-17T10:00:00Z", [0.2, 0.3]))
    store.write_consumption(IMPORT, "NEW", "kWh", half_hourly("2026-06-17T11:00:00Z", [0.4]))
    assert store.meter_extents() == {
        (IMPORT, "OLD"): (z("2026-06-17T10:00:00Z"), z("2026-06-17T10:30:00Z")),
        (IMPORT, "NEW"): (z("2026-06-17T11:00:00Z"), z("2026-06-17T11:00:00Z")),
    }


@pytest.mark.parametrize("new_first", [True, False])
def test_on_an_exchange_day_a_reading_beats_the_other_meters_zero_whatever_the_order(
    store: Store, new_first: bool
) -> None:
    old = ("S1OLD", half_hourly("2026-06-17T13:00:00Z", [0.0, 0.0]))
    new = ("S2NEW", half_hourly("2026-06-17T13:00:00Z", [0.8, 0.0]))
    for serial, readings in (new, old) if new_first else (old, new):
        store.write_consumption(IMPORT, serial, "kWh", readings)
    rows = store.readings(IMPORT, z("2026-06-17T13:00:00Z"), z("2026-06-17T14:00:00Z"))
    assert [v for _, v, _ in rows] == [0.8, 0.0]


def test_the_database_is_readable_by_its_owner_only(db: Path, store: Store) -> None:
    store.save_token(KEY_ID, IssuedToken("t", 0.0, "r", 0.0))
    for path in (db, Path(f"{db}-wal")):
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_data_survives_reopening(db: Path, store: Store) -> None:
    store.write_consumption(IMPORT, "S", "kWh", half_hourly("2026-11-20T00:00:00Z", [0.5, 0.6]))
    store.close()
    with Store.open(db) as again:
        assert [v for _, v, _ in again.readings(IMPORT, AT - timedelta(days=2), AT)] == [0.5, 0.6]


# --- prices and their windows ----------------------------------------------------------------------------------


def test_rates_count_new_then_nothing_then_changed(store: Store) -> None:
    rates = agile_rates("2026-11-20T23:00:00Z", [10.0, 11.0, 12.0])
    assert store.write_rates(AGILE, Charge.STANDARD, rates) == (3, 0)
    assert store.write_rates(AGILE, Charge.STANDARD, rates) == (0, 0)
    changed = [*rates[:2], rates[2]._replace(value_exc_vat=13.0, value_inc_vat=13.65)]
    assert store.write_rates(AGILE, Charge.STANDARD, changed) == (0, 1)
    assert [r.value_exc_vat for r in store.rates(AGILE, Charge.STANDARD)] == [10.0, 11.0, 13.0]
    assert store.rates(AGILE, Charge.STANDARD)[0].payment_method is None


def test_an_open_ended_rate_closed_later_counts_as_changed(store: Store) -> None:
    page = parse.rates_page(load_fixture("flexible-standard-unit-rates.json"), "rates")
    assert store.write_rates(FLEX, Charge.STANDARD, page.items) == (6, 0)
    current = [r for r in page.items if r.valid_to is None]
    closed = [r._replace(valid_to=z("2027-01-01T00:00:00Z")) for r in current]
    assert store.write_rates(FLEX, Charge.STANDARD, closed) == (0, len(current))


def test_direct_debit_and_non_direct_debit_are_both_kept(store: Store) -> None:
    page = parse.rates_page(load_fixture("standing-charges.json"), "standing charges")
    store.write_rates(FLEX, Charge.STANDING, page.items)
    kept = store.rates(FLEX, Charge.STANDING)
    assert len(kept) == 4
    assert {r.payment_method for r in kept} == {"DIRECT_DEBIT", "NON_DIRECT_DEBIT"}
    assert store.rates(FLEX, Charge.STANDARD) == [], "standing charges are not unit rates"


def test_day_and_night_rates_are_separate_lists(store: Store) -> None:
    e7 = "E-2R-VAR-22-11-01-J"
    day = parse.rates_page(load_fixture("day-unit-rates.json"), "day").items
    night = parse.rates_page(load_fixture("night-unit-rates.json"), "night").items
    assert store.write_rates(e7, Charge.DAY, day) == (4, 0)
    assert store.write_rates(e7, Charge.NIGHT, night) == (4, 0)
    assert sorted(store.rates(e7, Charge.DAY)) == sorted(day)
    assert sorted(store.rates(e7, Charge.NIGHT)) == sorted(night)


def test_a_price_window_is_recorded_with_its_page(store: Store) -> None:
    start, end = z("2026-11-20T23:00:00Z"), z("2026-11-21T23:00:00Z")
    window = RateWindow(start, end, settled_to=z("2026-11-21T23:00:00Z"), fresh_until=AT + timedelta(minutes=5))
    store.write_rates(AGILE, Charge.STANDARD, agile_rates("2026-11-20T23:00:00Z", [1.0] * 48), window)
    assert store.rate_windows(AGILE, Charge.STANDARD) == [window]
    assert store.rate_windows(AGILE, Charge.STANDING) == []


def test_a_price_window_fetched_again_keeps_the_furthest_settled_point(store: Store) -> None:
    start, end = z("2026-11-21T23:00:00Z"), z("2026-11-22T23:00:00Z")
    later = RateWindow(start, end, settled_to=z("2026-11-22T23:00:00Z"), fresh_until=AT + timedelta(minutes=5))
    store.write_rates(AGILE, Charge.STANDARD, [], later)
    earlier = RateWindow(start, end, settled_to=z("2026-11-22T12:00:00Z"), fresh_until=AT + timedelta(hours=1))
    store.write_rates(AGILE, Charge.STANDARD, [], earlier)
    (kept,) = store.rate_windows(AGILE, Charge.STANDARD)
    assert kept.settled_to == z("2026-11-22T23:00:00Z")
    assert kept.fresh_until == AT + timedelta(hours=1)


def test_rates_write_is_idempotent_for_every_table(store: Store, db: Path) -> None:
    window = RateWindow(AT, AT + timedelta(days=1), AT, AT)
    rates = agile_rates("2026-11-21T09:00:00Z", [5.0] * 4)
    store.write_rates(AGILE, Charge.STANDARD, rates, window)
    before = table_rows(db)
    store.write_rates(AGILE, Charge.STANDARD, rates, window)
    assert table_rows(db) == before


# --- tokens and the request ledger -----------------------------------------------------------------------------


def test_tokens_are_saved_replaced_and_forgotten(store: Store) -> None:
    assert store.load_token(KEY_ID) is None
    first = IssuedToken("token-1", 1_760_003_600.0, "refresh-1", 1_760_604_800.0)
    store.save_token(KEY_ID, first)
    assert store.load_token(KEY_ID) == first
    second = IssuedToken("token-2", 1_760_007_200.0, None, None)
    store.save_token(KEY_ID, second)
    assert store.load_token(KEY_ID) == second
    assert store.load_token("another-key") is None
    store.forget_token(KEY_ID)
    assert store.load_token(KEY_ID) is None


def test_the_ledger_counts_per_key_per_api_since_an_instant(store: Store) -> None:
    for at in (100.0, 200.0, 300.0):
        store.record_request(KEY_ID, "rest", 1_760_000_000.0 + at)
    store.record_request(KEY_ID, "graphql", 1_760_000_250.0)
    store.record_request("another-key", "rest", 1_760_000_250.0)
    assert store.requests_since(KEY_ID, "rest", 1_760_000_200.0) == [1_760_000_200.0, 1_760_000_300.0]
    assert store.requests_since(KEY_ID, "graphql", 0) == [1_760_000_250.0]
    assert store.requests_since("another-key", "rest", 0) == [1_760_000_250.0]


@pytest.mark.parametrize("ledger", ["store", "memory"])
def test_the_ledger_is_pruned_per_key_and_api_on_the_clock_that_wrote_it(store: Store, ledger: str) -> None:
    """A row written days ahead (another caller's clock) must not delete what this API still counts: the
    scheduler's dispatch ledger and the GraphQL calls once ran on two clocks, and dispatches looked due."""
    from tests.octopus.fakes import MemoryLedger

    book = store if ledger == "store" else MemoryLedger()
    t = 1_760_000_000.0
    book.record_request(KEY_ID, "dispatches", t)
    book.record_request(KEY_ID, "graphql", t + 5 * 86400)  # five days ahead
    book.record_request("another-key", "dispatches", t + 5 * 86400)
    assert book.requests_since(KEY_ID, "dispatches", 0) == [t]
    book.record_request(KEY_ID, "dispatches", t + 3 * 86400)  # its own API, three days on: the old row goes
    assert book.requests_since(KEY_ID, "dispatches", 0) == [t + 3 * 86400]


def test_the_ledger_keeps_fractions_of_seconds(store: Store) -> None:
    store.record_request(KEY_ID, "rest", 1_760_000_000.25)
    assert store.requests_since(KEY_ID, "rest", 1_760_000_000.2) == [1_760_000_000.25]


def test_the_ledger_forgets_what_no_budget_needs(store: Store) -> None:
    now = 1_760_000_000.0
    store.record_request(KEY_ID, "rest", now - BUDGET_KEEP_SECONDS - 10)
    store.record_request(KEY_ID, "rest", now - 3600)
    store.record_request(KEY_ID, "rest", now)
    assert store.requests_since(KEY_ID, "rest", 0) == [now - 3600, now]
    assert BUDGET_KEEP_SECONDS >= 3600


def test_the_ledger_is_shared_between_two_open_stores(db: Path, store: Store) -> None:
    with Store.open(db) as other:
        other.record_request(KEY_ID, "rest", 1_760_000_000.0)
    assert store.requests_since(KEY_ID, "rest", 0) == [1_760_000_000.0]


# --- runs ---------------------------------------------------------------------------------------------------------


def test_runs_are_logged(store: Store) -> None:
    assert store.last_run() is None
    run_id = store.start_run(AT)
    assert store.last_run() == (AT, None, "running")
    store.finish_run(run_id, AT + timedelta(minutes=2), "ok", {"requests": {"rest": 3}})
    assert store.last_run() == (AT, AT + timedelta(minutes=2), "ok")


def test_meters_without_graphql_dates_load_with_none(store: Store) -> None:
    store.save_account(
        Account(
            "A-0000BEEF",
            (
                Property(
                    "p-2",
                    None,
                    None,
                    "",
                    "",
                    (
                        MeterPoint(
                            Fuel.ELECTRICITY,
                            "1900000000777",
                            Direction.IMPORT,
                            (Meter("Z1"),),
                            (Agreement(FLEX, z("2026-01-01T00:00:00Z"), None),),
                        ),
                    ),
                ),
            ),
        ),
        [],
        AT,
    )
    loaded = store.load_account("A-0000BEEF")
    assert loaded is not None
    (point,) = loaded.properties[0].meter_points
    assert point.meters == (Meter("Z1"),)
    assert point.agreements == (Agreement(FLEX, z("2026-01-01T00:00:00Z"), None),)


def test_agreements_the_account_no_longer_lists_are_removed(store: Store) -> None:
    account = enriched_account()
    store.save_account(account, [], AT)
    prop = account.properties[-1]
    point = prop.meter_points[0]
    corrected = replace(point, agreements=point.agreements[-1:])
    changed = replace(
        account, properties=(*account.properties[:-1], replace(prop, meter_points=(corrected, *prop.meter_points[1:])))
    )
    store.save_account(changed, [], AT)
    loaded = store.load_account(account.number)
    assert loaded is not None
    kept = next(p for p in loaded.properties[-1].meter_points if p.identifier == point.identifier)
    assert kept.agreements == corrected.agreements


def test_price_columns_are_one_method_over_the_window_in_time_order(store: Store) -> None:
    store.write_rates(AGILE, Charge.STANDARD, agile_rates("2026-11-20T00:00:00Z", [10.0, 11.0, 13.0, 12.0]))
    flat = [
        Rate(z("2026-01-01T00:00:00Z"), None, 20.0, 21.0, "DIRECT_DEBIT"),
        Rate(z("2026-01-01T00:00:00Z"), None, 22.0, 23.1, "NON_DIRECT_DEBIT"),
    ]
    store.write_rates(FLEX, Charge.STANDARD, flat)
    window = store.price_columns(
        AGILE, Charge.STANDARD, z("2026-11-20T00:30:00Z"), z("2026-11-20T01:30:00Z"), "DIRECT_DEBIT"
    )
    assert window.starts == [z("2026-11-20T00:30:00Z"), z("2026-11-20T01:00:00Z")]
    assert window.ends == [z("2026-11-20T01:00:00Z"), z("2026-11-20T01:30:00Z")]
    assert window.exc_vat == [11.0, 13.0]
    chosen = store.price_columns(
        FLEX, Charge.STANDARD, z("2026-11-01T00:00:00Z"), z("2026-11-02T00:00:00Z"), "NON_DIRECT_DEBIT"
    )
    assert (chosen.exc_vat, chosen.inc_vat, chosen.ends) == ([22.0], [23.1], [None])
