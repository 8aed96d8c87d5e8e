"""The request budget ledger, tokens, runs, notifications, dispatches, telemetry, export cursors, the
catalogue, statements, and a database that is not ours."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from octoscope.domain.models import DispatchRecord, Fuel, IssuedToken, TelemetryReading
from octoscope.domain.products import Product, ProductTariff
from octoscope.store.errors import StoreError
from octoscope.store.ports import ExportCursor, StoreProtocol
from octoscope.store.sqlite import BUDGET_KEEP_SECONDS
from tests.store.backends import Backend
from tests.store.test_sqlite import AT, KEY_ID

T0 = 1_790_000_000.0
DEVICE = "00000000-0000-4000-8000-000000000001"


def test_a_database_that_is_not_ours_is_refused(backend: Backend, tmp_path: Path) -> None:
    location = backend.not_ours(tmp_path)
    with pytest.raises(StoreError) as caught:
        backend.open_at(location) if hasattr(backend, "open_at") else _open_sqlite(location)
    assert "\n" not in str(caught.value)


def _open_sqlite(location: object) -> None:
    from octoscope.store import open_store

    assert isinstance(location, Path)
    open_store(location).close()


def test_reopening_keeps_what_was_written(backend: Backend, tmp_path: Path) -> None:
    with backend.open_in(tmp_path) as first:
        first.record_request(KEY_ID, "rest", T0)
    with backend.open_in(tmp_path) as again:
        assert again.requests_since(KEY_ID, "rest", 0) == [T0]


def test_the_ledger_counts_per_key_and_api_from_an_instant_on(empty: StoreProtocol) -> None:
    for at in (T0, T0 + 1, T0 + 2):
        empty.record_request(KEY_ID, "rest", at)
    empty.record_request(KEY_ID, "graphql", T0 + 1)
    empty.record_request("another-key", "rest", T0 + 1)
    assert empty.requests_since(KEY_ID, "rest", T0 + 1) == [T0 + 1, T0 + 2]
    assert empty.requests_since(KEY_ID, "graphql", 0) == [T0 + 1]
    assert empty.requests_since("nobody", "rest", 0) == []


def test_the_ledger_forgets_what_no_window_counts(empty: StoreProtocol) -> None:
    empty.record_request(KEY_ID, "rest", T0)
    empty.record_request(KEY_ID, "rest", T0 + BUDGET_KEEP_SECONDS + 1)
    assert empty.requests_since(KEY_ID, "rest", 0) == [T0 + BUDGET_KEEP_SECONDS + 1]


def test_tokens_are_saved_replaced_and_forgotten(empty: StoreProtocol) -> None:
    assert empty.load_token(KEY_ID) is None
    first = IssuedToken("jwt-1", T0 + 3600, "refresh-1", T0 + 7 * 86400)
    empty.save_token(KEY_ID, first)
    assert empty.load_token(KEY_ID) == first
    second = IssuedToken("jwt-2", T0 + 7200, None, None)
    empty.save_token(KEY_ID, second)
    assert empty.load_token(KEY_ID) == second
    empty.forget_token(KEY_ID)
    assert empty.load_token(KEY_ID) is None


def test_runs_are_recorded_newest_last(empty: StoreProtocol) -> None:
    assert empty.last_run() is None
    assert empty.last_successful_run() is None
    run = empty.start_run(AT)
    assert empty.last_run() == (AT, None, "running")
    empty.finish_run(run, AT + timedelta(minutes=1), "ok", {"rows": 1})
    assert empty.last_run() == (AT, AT + timedelta(minutes=1), "ok")
    assert empty.last_successful_run() == (AT, AT + timedelta(minutes=1))


def test_a_notification_is_recorded_once(empty: StoreProtocol) -> None:
    assert not empty.notification_sent("cheap:1")
    empty.record_notification("cheap:1", "cheap", AT)
    empty.record_notification("cheap:1", "cheap", AT + timedelta(hours=1))
    assert empty.notification_sent("cheap:1")
    assert empty.notifications_since(AT) == 1
    assert empty.notifications_since(AT + timedelta(seconds=1)) == 0


def test_dispatches_are_upserted_by_device_kind_and_start(store: StoreProtocol) -> None:
    one = DispatchRecord(DEVICE, "planned", AT, AT + timedelta(hours=1), "SMART", -3.5, None, None)
    assert store.dispatches() == []
    assert store.save_dispatches([one], None, AT) == (1, 0)
    assert store.save_dispatches([one], None, AT) == (0, 0)
    longer = one._replace(end=AT + timedelta(hours=2))
    assert store.save_dispatches([longer], None, AT) == (0, 1)
    assert store.dispatches(AT + timedelta(hours=1), AT + timedelta(hours=3)) == [longer]
    assert store.dispatches(AT + timedelta(hours=2), AT + timedelta(hours=3)) == []  # ends where the range starts


def test_telemetry_round_trips_in_half_open_ranges(empty: StoreProtocol) -> None:
    rows = [TelemetryReading(AT + timedelta(seconds=10 * i), 1000.0 + i, 1.0, 360.0, None) for i in range(3)]
    assert empty.last_telemetry(DEVICE) is None
    assert empty.write_telemetry(DEVICE, rows) == 3
    empty.write_telemetry(DEVICE, rows)
    assert empty.telemetry(DEVICE, rows[0].read_at, rows[2].read_at) == rows[:2]
    assert empty.last_telemetry(DEVICE) == rows[2].read_at
    assert [r.read_at for r in empty.latest_telemetry()] == [rows[2].read_at]
    assert empty.telemetry_extents() == {DEVICE: (rows[0].read_at, rows[2].read_at)}
    assert empty.prune_telemetry(rows[1].read_at) == 1
    assert empty.telemetry(DEVICE, AT, AT + timedelta(hours=1)) == rows[1:]


def test_export_cursors_are_kept_per_target(empty: StoreProtocol) -> None:
    assert empty.export_cursors("influx") == {}
    cursor = ExportCursor(AT, AT + timedelta(days=1), AT + timedelta(days=1, hours=1), 48)
    empty.save_export_cursor("influx", "consumption", "electricity-import:1", cursor)
    empty.save_export_cursor("influx", "consumption", "electricity-import:1", cursor)
    assert empty.export_cursors("influx") == {("consumption", "electricity-import:1"): cursor}
    assert empty.export_cursors("files") == {}


def test_the_catalogue_and_lookups(empty: StoreProtocol) -> None:
    assert empty.products() == ([], None)
    assert empty.product_tariffs() == ([], {})
    assert empty.lookup("postcode:SW1A 1AA") is None
    empty.save_lookup("postcode:SW1A 1AA", "C", AT)
    empty.save_lookup("postcode:SW1A 1AA", "C", AT)
    assert empty.lookup("postcode:SW1A 1AA") == ("C", AT)
    assert empty.product_name("NOPE") is None
    assert empty.statements("A-0000FEED") == []
    agile = Product(
        "AGILE-24-10-01",
        "IMPORT",
        "Agile Octopus",
        "Agile",
        True,
        True,
        False,
        False,
        False,
        False,
        None,
        "OCTOPUS_ENERGY",
        AT - timedelta(days=400),
        None,
    )
    go = replace(agile, code="GO-VAR-22-10-14", display_name="Octopus Go")
    empty.save_products([go, agile], AT)
    empty.save_products([go, agile], AT)
    assert empty.products() == ([go, agile], AT)  # as listed, in the API's order
    tariff = ProductTariff("AGILE-24-10-01", "E-1R-AGILE-24-10-01-C", "C", Fuel.ELECTRICITY, 1)
    empty.save_product_tariffs("AGILE-24-10-01", [tariff], AT)
    empty.save_product_tariffs("AGILE-24-10-01", [tariff], AT)
    assert empty.product_tariffs() == ([tariff], {"AGILE-24-10-01": AT})
    assert empty.product_name("AGILE-24-10-01") == "Agile"
    empty.save_products([go], AT + timedelta(days=1))  # Agile no longer listed: it goes, with its tariffs
    assert empty.products() == ([go], AT + timedelta(days=1))
    assert empty.product_tariffs() == ([], {})


def test_the_store_says_its_schema_and_soundness(empty: StoreProtocol) -> None:
    assert empty.schema_version() > 0
    assert empty.quick_check() is None
    before = empty.data_version()
    empty.record_request(KEY_ID, "rest", T0)
    assert empty.data_version() != before
