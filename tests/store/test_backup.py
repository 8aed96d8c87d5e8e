"""`octoscope backup` and `restore`: a consistent copy taken while a sync writes and the dashboard reads,
checked by opening it; a restore that never lands on a database in use or on another application's file."""

from __future__ import annotations

import contextlib
import gzip
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.backup import check
from octoscope.store.migrations import MIGRATIONS
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from tests.conftest import FIXTURES, Cli, machine_env, make_cli, simulator, table_rows

EVERYTHING: tuple[str, ...] = ()  # table_rows(skip=...): compare every table, the run log and budget too


def consumption(db: Path) -> dict[tuple[int, int], tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT series_id, interval_start, value, unit, serial FROM consumption").fetchall()
    conn.close()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_a_backup_under_load_opens_and_equals_the_source(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--from", "2026-10-01", "--to", "2026-11-01")
        before = len(consumption(cli.db))
        reads: list[int] = []
        stop = threading.Event()

        with serve_in_thread(create_app(cli.settings(), clock=cli.clock())) as web:

            def dashboard() -> None:  # the dashboard, reading the database the sync writes
                with httpx.Client(base_url=web, timeout=30) as client:
                    while not stop.is_set():
                        for url in ("/api/costs?period=2026-10&by=day", "/api/overview", "/"):
                            reads.append(client.get(url).status_code)

            reader = threading.Thread(target=dashboard)
            reader.start()
            # One consumption page at a time, each answered after a pause: the sync is surely still writing
            # consumption when the backup's snapshot is taken, however fast the machine.
            (cli.home / "config.toml").write_text("[sync]\nconcurrency = 1\n")
            faults = "latency:1:ms=700:route=consumption"
            httpx.post(f"{sim.url}/_sim/faults", content=faults, timeout=30).raise_for_status()
            writer = subprocess.Popen(
                [sys.executable, "-m", "octoscope", "sync", "--from", "2024-12-01", "--to", "2026-10-01"],
                env={**cli.env, **cli.clock_env()},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                deadline = time.monotonic() + 120
                while len(consumption(cli.db)) == before and time.monotonic() < deadline:
                    time.sleep(0.05)  # until the sync has written its first rows
                mid = cli.run("backup", str(tmp_path / "mid.db"))
                still_writing = writer.poll() is None
                _, errors = writer.communicate(timeout=300)
            finally:
                stop.set()
                reader.join(timeout=60)
                if writer.poll() is None:
                    writer.kill()
        assert writer.returncode == 0, errors
        assert mid.returncode == 0, mid.stderr
        assert still_writing, "the backup finished while the sync was still writing"
        assert set(reads) == {200}, f"the dashboard kept answering: {sorted(set(reads))}"
        final = cli.ok("backup", str(tmp_path / "final.db"))

    assert mid.stdout.startswith(f"Backed up {cli.db} to {tmp_path / 'mid.db'}: ")
    assert mid.stdout.rstrip().endswith("half-hours, integrity ok")
    snapshot = check(tmp_path / "mid.db")
    source = consumption(cli.db)
    copied = consumption(tmp_path / "mid.db")
    assert before < len(copied) < len(source), "a snapshot taken in the middle of the sync"
    assert all(source[key] == value for key, value in copied.items()), "every row copied as the source holds it"
    assert snapshot.schema_version == len(MIGRATIONS)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("mid", ".mid"))) == ["mid.db"]
    assert oct((tmp_path / "mid.db").stat().st_mode & 0o777) == "0o600"
    # Once the writers are done, a backup is the source, table by table and row by row.
    assert "integrity ok" in final
    assert table_rows(tmp_path / "final.db", skip=EVERYTHING) == table_rows(cli.db, skip=EVERYTHING)
    with Store.open(tmp_path / "final.db") as store:  # and octoscope opens it as its own
        assert store.schema_version() == len(MIGRATIONS)


@pytest.fixture
def synced(tmp_path: Path) -> Cli:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--from", "2026-10-01", "--to", "2026-10-15")
    return cli


def test_restore_puts_a_backup_back_and_never_over_data_without_force(synced: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    synced.ok("backup", str(copy))
    expected = table_rows(synced.db, skip=EVERYTHING)
    with sqlite3.connect(synced.db) as conn:
        conn.execute("DELETE FROM consumption")
    conn.close()

    refused = synced.run("restore", str(copy))
    assert refused.stderr == f"Error: {synced.db} holds data: add --force to replace it with {copy}\n"

    done = synced.run("restore", str(copy), "--force")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Restored {copy} into {synced.db}: schema {len(MIGRATIONS)}, ")
    assert table_rows(synced.db, skip=EVERYTHING) == expected


def test_restore_is_refused_while_the_database_is_in_use(synced: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    synced.ok("backup", str(copy))
    with Store.open(synced.db) as store:  # what `serve` holds while it runs
        done = synced.run("restore", str(copy), "--force")
        assert store.schema_version() == len(MIGRATIONS)
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {synced.db} is in use by another process: stop `octoscope serve` (systemctl stop octoscope) and any"
        " sync, then restore\n"
    )


def test_restoring_a_previous_release_backup_upgrades_it(tmp_path: Path) -> None:
    old = tmp_path / "old-backup.db"
    old.write_bytes(gzip.decompress((FIXTURES / "upgrade" / "f73ed23-demo.db.gz").read_bytes()))
    cli = Cli(sim=None, home=tmp_path, env=make_env(tmp_path))  # type: ignore[arg-type]
    done = cli.run("restore", str(old))
    assert done.returncode == 0, done.stderr
    assert f"schema {len(MIGRATIONS)}, 4,038 half-hours, integrity ok" in done.stdout
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def make_env(home: Path) -> dict[str, str]:

    return {
        **machine_env(),
        "HOME": str(home),
        "OCTOSCOPE_DB": str(home / "data" / "octoscope.db"),
        "OCTOSCOPE_CONFIG": str(home / "none.toml"),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backup", "{home}/exists.db"), "{home}/exists.db already exists: a backup never overwrites; give a new"),
        (("backup", "{home}/nowhere/b.db"), "no directory {home}/nowhere: create it first"),
        (("restore", "{home}/notes.txt"), "{home}/notes.txt is not a SQLite database; octoscope leaves it alone"),
        (("restore", "{home}/missing.db"), "no backup at {home}/missing.db: check the path"),
    ],
)
def test_backup_and_restore_mistakes_are_one_line(
    synced: Cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "exists.db").write_text("mine")
    (tmp_path / "notes.txt").write_text("not a database\n" * 20)
    done = synced.run(*(a.format(home=tmp_path) for a in args))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: " + message.format(home=tmp_path)), done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert (tmp_path / "exists.db").read_text() == "mine"


def test_backup_of_no_database_says_to_sync(tmp_path: Path) -> None:
    cli = Cli(sim=None, home=tmp_path, env=make_env(tmp_path))  # type: ignore[arg-type]
    done = cli.run("backup", str(tmp_path / "b.db"))
    assert done.stderr == (
        f"Error: no database at {tmp_path}/data/octoscope.db: run `octoscope sync` first, or set OCTOSCOPE_DB\n"
    )


def test_paths_with_characters_special_in_uris_back_up_and_restore(tmp_path: Path) -> None:
    odd = tmp_path / "my data #1?x=%41"
    odd.mkdir()
    env = make_env(tmp_path) | {"OCTOSCOPE_DB": str(odd / "octo?scope#.db")}
    cli = Cli(sim=None, home=tmp_path, env=env)  # type: ignore[arg-type]
    (odd / "old%20backup.db").write_bytes(gzip.decompress((FIXTURES / "upgrade" / "f73ed23-demo.db.gz").read_bytes()))
    restored = cli.run("restore", str(odd / "old%20backup.db"))
    assert restored.returncode == 0, restored.stderr
    backed = cli.run("backup", str(odd / "new?backup#.db"))
    assert backed.returncode == 0, backed.stderr
    assert "4,038 half-hours, integrity ok" in backed.stdout
    assert table_rows(odd / "new?backup#.db", skip=EVERYTHING) == table_rows(cli.db, skip=EVERYTHING)


def test_restore_never_lands_on_another_applications_database(tmp_path: Path) -> None:
    theirs = tmp_path / "notes.db"
    with contextlib.closing(sqlite3.connect(theirs)) as conn, conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = theirs.read_bytes()
    backup_file = tmp_path / "backup.db"
    backup_file.write_bytes(gzip.decompress((FIXTURES / "upgrade" / "f73ed23-demo.db.gz").read_bytes()))
    cli = Cli(sim=None, home=tmp_path, env=make_env(tmp_path) | {"OCTOSCOPE_DB": str(theirs)})  # type: ignore[arg-type]
    done = cli.run("restore", str(backup_file), "--force")
    assert done.stderr == (
        f"Error: {theirs} is another application's database (tables notes); octoscope writes nothing into it:"
        " choose another OCTOSCOPE_DB\n"
    )
    assert theirs.read_bytes() == before
