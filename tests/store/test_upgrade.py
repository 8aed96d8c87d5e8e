"""Upgrades keep data: a database made by the previous release (tests/fixtures/upgrade/README.md says how)
opens in this one, migrates forward, and costs the same; a failed migration, a newer release's database and
another application's SQLite file are each refused in one line with the file left exactly as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from octoscope.cli import app
from octoscope.store import migrations
from octoscope.store.guard import APPLICATION_ID
from tests.conftest import DEMO_ACCOUNT, FIXTURES, machine_env, table_rows

UPGRADE = FIXTURES / "upgrade"
PREVIOUS_SCHEMA = 3  # what release f73ed23 had applied
COSTS = ("costs", "--from", "2026-10-01", "--to", "2026-10-28", "--by", "week", "--json")


@pytest.fixture
def previous_db(tmp_path: Path) -> Path:
    path = tmp_path / "octoscope.db"
    path.write_bytes(gzip.decompress((UPGRADE / "f73ed23-demo.db.gz").read_bytes()))
    path.chmod(0o600)
    return path


def env_for(db: Path) -> dict[str, str]:
    home = db.parent / "home"
    home.mkdir(exist_ok=True)
    return {
        **machine_env(),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "OCTOSCOPE_CONFIG": str(home / "none.toml"),
        "OCTOSCOPE_DB": str(db),
        "OCTOSCOPE_ACCOUNT": DEMO_ACCOUNT,
        "OCTOSCOPE_API_KEY": "sk_live_not_used_by_these_commands",
        "OCTOSCOPE_API_URL": "http://127.0.0.1:9/v1",  # nothing listens: these commands must not call out
        "OCTOSCOPE_GRAPHQL_URL": "http://127.0.0.1:9/v1/graphql/",
        "OCTOSCOPE_NOW": "2026-11-20T09:00:00Z",  # the range costed is in the past whatever the machine's date
    }


def octoscope(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "octoscope", *args],
        env=env_for(db),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def same_figures(before: object, now: object) -> bool:
    """Whether ``now`` answers every figure ``before`` did, equal: a later release may add fields (the periods'
    labels), never change or drop one."""
    if isinstance(before, dict):
        return isinstance(now, dict) and all(k in now and same_figures(v, now[k]) for k, v in before.items())
    if isinstance(before, list):
        return isinstance(now, list) and len(now) == len(before) and all(map(same_figures, before, now))
    if isinstance(before, float) and isinstance(now, float):
        return now == pytest.approx(before, abs=0.001)
    return before == now


def without_estimate(before: dict[str, Any], now: dict[str, Any]) -> None:
    """Put back, in ``now``, what the previous release charged for EV charging from before the dispatch history
    (the price in force; now an off-peak estimate with its amount at stake), so that every other figure can be
    held to the previous release's. The kWh moved between bands still add up to the same."""

    def undo(old: dict[str, Any], new: dict[str, Any]) -> float:
        guess = new.pop("estimated_smart_charging", None)
        if guess is None:
            return 0.0
        stake = float(guess["at_stake_pence"])
        new["energy_cost_pence"] += stake
        new["total_pence"] += stake
        assert sum(b["kwh"] for b in new.pop("bands").values()) == pytest.approx(
            sum(b["kwh"] for b in old.pop("bands").values()), abs=0.001
        )
        new.pop("average_p_per_kwh"), old.pop("average_p_per_kwh")
        return stake

    for fuel in ("electricity", "gas"):
        if fuel in now:
            now["net_pence"] += undo(before[fuel], now[fuel])
            for old, new in zip(before[fuel]["buckets"], now[fuel]["buckets"], strict=True):
                undo(old, new)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sidecars(path: Path) -> list[Path]:
    return [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")) if p.exists()]


def test_the_previous_release_database_migrates_forward_and_costs_the_same(previous_db: Path, tmp_path: Path) -> None:
    untouched = tmp_path / "untouched.db"
    untouched.write_bytes(previous_db.read_bytes())
    before = table_rows(untouched, skip=("schema_migrations",))

    done = octoscope(previous_db, *COSTS)

    assert done.returncode == 0, done.stderr
    previous, now = json.loads((UPGRADE / "f73ed23-costs.json").read_text()), json.loads(done.stdout)
    assert "estimated_smart_charging" in now["electricity"], "the demo's October has charges before its history"
    without_estimate(previous, now)
    assert same_figures(previous, now)
    after = table_rows(previous_db, skip=("schema_migrations",))
    assert {t: rows for t, rows in after.items() if t in before} == before, "every row kept, none added"
    assert all(not rows for t, rows in after.items() if t not in before), "tables of new migrations start empty"
    with sqlite3.connect(previous_db) as db:
        names = [r[0] for r in db.execute("SELECT name FROM schema_migrations ORDER BY version")]
        assert names == [name for name, _ in migrations.MIGRATIONS]
        assert len(names) > PREVIOUS_SCHEMA, "this release has a migration of its own to run"
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = octoscope(previous_db, *COSTS)
    assert again.returncode == 0
    assert again.stdout == done.stdout


def test_a_failed_migration_leaves_the_file_byte_identical_and_says_so(
    previous_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A later migration that meets data it did not expect: the readings' serials are not unique. It runs
    # after this release's own migration 4 (which writes the SQLite header), so both must roll back.
    broken = (*migrations.MIGRATIONS, ("one serial per reading", "CREATE UNIQUE INDEX one ON consumption (serial)"))
    monkeypatch.setattr("octoscope.store.guard.MIGRATIONS", broken)
    before, mode = digest(previous_db), previous_db.stat().st_mode

    result = CliRunner().invoke(app, list(COSTS), env=env_for(previous_db))

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(
        f"Error: cannot upgrade {previous_db}: migration {len(broken)} (one serial per reading) failed:"
        " UNIQUE constraint failed"
    )
    assert "nothing was changed" in lines[0]
    assert digest(previous_db) == before
    assert previous_db.stat().st_mode == mode
    assert sidecars(previous_db) == []


def test_a_database_from_a_newer_release_is_refused_and_left_alone(previous_db: Path) -> None:
    future = len(migrations.MIGRATIONS) + 1
    with sqlite3.connect(previous_db) as db:  # what a release with this one's migrations and one more recorded
        known = [(n, name, 0) for n, (name, _) in enumerate(migrations.MIGRATIONS, 1) if n > PREVIOUS_SCHEMA]
        db.executemany("INSERT INTO schema_migrations VALUES (?, ?, ?)", [*known, (future, "from the future", 0)])
    before = digest(previous_db)

    done = octoscope(previous_db, *COSTS)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"Error: {previous_db} was written by a newer octoscope (schema version {future}; this build knows up to"
        f" {len(migrations.MIGRATIONS)}): upgrade octoscope, or restore a backup made by this version\n"
    )
    assert digest(previous_db) == before


def another_apps_database(path: Path, application_id: int = 0) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('buy milk')")
        db.execute(f"PRAGMA application_id = {application_id}")
    db.close()
    path.chmod(0o644)


@pytest.mark.parametrize("command", [COSTS, ("status",), ("sync", "--from", "2026-10-01", "--to", "2026-10-02")])
def test_another_applications_database_gets_no_table_mode_or_token(tmp_path: Path, command: tuple[str, ...]) -> None:
    path = tmp_path / "notes.db"
    another_apps_database(path)
    before = digest(path)

    done = octoscope(path, *command)

    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {path} is another application's database (tables notes); octoscope writes nothing into it:"
        " choose another OCTOSCOPE_DB\n"
    )
    assert digest(path) == before
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert sidecars(path) == []


def test_a_database_stamped_by_another_application_is_refused_even_when_empty(tmp_path: Path) -> None:
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("PRAGMA user_version = 1")  # a write, so that the header is on disk
    db.close()
    before = digest(path)

    done = octoscope(path, *COSTS)

    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {path} belongs to another application (SQLite application id 0x000004d2); octoscope writes"
        " nothing into it: choose another OCTOSCOPE_DB\n"
    )
    assert digest(path) == before
