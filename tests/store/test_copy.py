"""``octoscope store copy``: a synced household copied SQLite -> each backend -> SQLite loses nothing (every
table, row for row, and the same ``costs --json``); what it refuses, in one line each."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from octoscope.domain.models import DispatchRecord, Fuel, TelemetryReading
from octoscope.domain.products import Product, ProductTariff
from octoscope.store import open_store
from octoscope.store.copy import copy_store
from octoscope.store.ports import ExportCursor, StoreProtocol
from tests.conftest import Cli
from tests.store.backends import BACKENDS, Backend
from tests.store.test_sqlite import AT

COSTS = ("costs", "--from", "2025-11-01", "--to", "2026-11-01", "--by", "month", "--json")


def everything(store: StoreProtocol) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    out = {}
    for table in store.copy_tables():
        columns, rows = store.read_table(table)
        out[table] = (columns, list(rows))
    return out


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a database that another process may have open (its WAL included)."""
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(scope="module")
def household(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced demo household, with a row in every table a sync leaves empty (live readings, dispatches,
    the catalogue, export cursors, notifications, statements, a kept comparison), so that the copy is shown to
    carry them all."""
    path = tmp_path_factory.mktemp("copy-source") / "household.db"
    snapshot(synced_demo.db, path)
    done = synced_demo.run("bills", env={"OCTOSCOPE_DB": str(path)})
    assert done.returncode == 0, done.stderr
    with open_store(path) as store:
        device = "00000000-0000-4000-8000-00000000d301"
        store.save_dispatches(
            [DispatchRecord(device, "completed", AT, AT + timedelta(minutes=30), "SMART", -3.5, None, "AT_HOME")],
            ("SMART_CONTROL_CAPABLE", None),
            AT,
        )
        store.write_telemetry(
            "00-00-00-FF-FE-00-01-01",
            [TelemetryReading(AT + timedelta(seconds=10 * i), 1000.0 + i, 1.0, 360.0, None) for i in range(30)],
        )
        agile = Product(
            "AGILE-24-10-01", "IMPORT", "Agile Octopus", "Agile", True, True, False, False, False, False, None,
            "OCTOPUS_ENERGY", AT - timedelta(days=400), None,
        )  # fmt: skip
        store.save_products([agile], AT)
        store.save_product_tariffs(
            "AGILE-24-10-01", [ProductTariff("AGILE-24-10-01", "E-1R-AGILE-24-10-01-J", "J", Fuel.ELECTRICITY, 1)], AT
        )
        store.save_lookup("postcode:BN1 1AA", "J", AT)
        store.save_export_cursor("influx", "consumption", "gas:3000000101", ExportCursor(AT, AT, AT, 48))
        store.record_notification("cheap:2026-11-21", "cheap", AT)
        store.keep_result("compare:12", "digest-of-inputs", '{"tariffs": []}', AT)
        empty = [t for t, (_, rows) in everything(store).items() if not rows]
    assert empty == [], f"the source should hold a row in every table, not in {empty}"
    return path


@pytest.mark.parametrize("middle", BACKENDS, ids=lambda b: b.name)
def test_a_round_trip_through_each_backend_loses_nothing(
    middle: Backend, household: Path, synced_demo: Cli, tmp_path: Path
) -> None:
    back = tmp_path / "back.db"
    # The middle store is bound to the household's account where the backend keeps many
    with open_store(household) as source, middle.open_in(tmp_path / "middle") as hop, open_store(back) as last:
        there = copy_store(source, hop, batch=997)  # batches that do not divide the tables evenly
        returned = copy_store(hop, last, batch=4096)
        assert [(t.table, t.source_rows) for t in there] == [(t.table, t.destination_rows) for t in there]
        assert [(t.table, t.source_rows) for t in returned] == [(t.table, t.source_rows) for t in there]
        before, after = everything(source), everything(last)
    assert list(before) == list(after)
    for table in before:
        assert after[table] == before[table], f"table {table} differs after the round trip"
    assert sum(len(rows) for _, rows in after.values()) > 90_000
    costs = []
    for db in (household, back):
        done = synced_demo.run(*COSTS, env={"OCTOSCOPE_DB": str(db)})
        assert done.returncode == 0, done.stderr
        costs.append(json.loads(done.stdout))
    assert costs[0] == costs[1]
    assert costs[0]["electricity"]["total_pence"] > 0


def test_the_command_copies_counts_and_refuses_in_one_line(household: Path, synced_demo: Cli, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    out = synced_demo.ok("store", "copy", str(household), str(target))
    assert out.startswith(f"Copied {household} to {target}: ")
    assert "consumption" in out
    listed = json.loads(synced_demo.ok("store", "copy", str(household), str(tmp_path / "two.db"), "--json"))
    assert listed["tables"]["consumption"] > 80_000

    again = synced_demo.run("store", "copy", str(household), str(target))
    assert again.returncode == 1
    assert again.stderr.startswith("Error: the destination already holds data (accounts, properties")
    assert len(again.stderr.strip().splitlines()) == 1
    assert "--force" in again.stderr
    forced = synced_demo.ok("store", "copy", str(household), str(target), "--force")  # an interrupted copy finished
    assert "more kept from before" not in forced

    for args, expected in [
        ((str(household), str(household)), "Error: the source and the destination are the same file"),
        ((str(tmp_path / "nope.db"), str(tmp_path / "x.db")), "no such database file"),
        ((str(household), "postgresql://octo:s3cret-pass@127.0.0.1:1/octoscope"), "--account NUMBER"),
        (
            (str(household), str(tmp_path / "y.db"), "--account", "A-0000FEED"),
            "holds account A-DE30DE30, not A-0000FEED",
        ),
    ]:
        done = synced_demo.run("store", "copy", *args)
        assert done.returncode == 1, done.stdout
        assert expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "s3cret-pass" not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr
