"""After a crash (issue 15): a killed export's temporary file is removed by the next export, a killed
sync is shown as interrupted rather than running for ever, ``serve`` on a damaged or unreadable database
says so in one line before anything is served, and database errors name their real cause."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from octoscope.store.problems import describe
from tests.conftest import Cli, SimServer, make_cli
from tests.web.test_security import free_tcp_port

KILLED_EXPORT = """
import os, signal, sys
from pathlib import Path
from octoscope.outputs.files import atomic_file
with atomic_file(Path(sys.argv[1])) as temporary:
    temporary.write_text("half a file")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_exports_temporary_file_is_removed_by_the_next(synced_demo: Cli, tmp_path: Path) -> None:
    out = tmp_path / "usage.csv"
    killed = subprocess.run([sys.executable, "-c", KILLED_EXPORT, str(out)], check=False, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    left = list(tmp_path.glob(".usage.csv.*"))
    assert len(left) == 1  # what the crash left
    done = synced_demo.run("export", "csv", "--from", "2026-11-01", "--to", "2026-11-02", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().count("\n") > 10
    assert list(tmp_path.glob(".usage.csv.*")) == []  # removed at the next export's start


def test_a_killed_sync_is_interrupted_not_running_for_ever(fresh_sim: SimServer, tmp_path: Path) -> None:
    cli = make_cli(fresh_sim, tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "octoscope", "sync", "--to", "2026-11-22"],
        env={**cli.env, **cli.clock_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    running = False
    while time.monotonic() < deadline and not running:
        time.sleep(0.05)
        if cli.db.exists():
            try:
                with sqlite3.connect(cli.db, timeout=5) as db:
                    running = bool(db.execute("SELECT 1 FROM sync_runs WHERE outcome = 'running'").fetchall())
            except sqlite3.OperationalError:
                pass  # not made yet
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert running, "the sync never recorded its run"
    with sqlite3.connect(cli.db) as db:
        assert db.execute("SELECT outcome FROM sync_runs").fetchall() == [("running",)]  # what the kill left
    status = json.loads(cli.ok("status", "--json"))
    assert status["last_run"]["outcome"] == "interrupted"
    assert status["last_run"]["finished"] is None
    said = cli.ok("status")
    assert "Last sync run: started " in said
    assert "interrupted (the process stopped before it finished)" in said


def test_a_running_sync_is_not_marked_interrupted_by_another_command(fresh_sim: SimServer, tmp_path: Path) -> None:
    from octoscope.domain.uktime import from_epoch
    from octoscope.store.sqlite import Store

    db = tmp_path / "octoscope.db"
    with Store.open(db) as running:
        run_id = running.start_run(from_epoch(1_790_000_000))
        with Store.open(db) as other:  # `status` while the sync runs
            assert other.last_run() is not None
            assert other.last_run()[2] == "running"  # type: ignore[index]
        running.finish_run(run_id, from_epoch(1_790_000_100), "ok", {})
        assert running.last_run()[2] == "ok"  # type: ignore[index]


def _serve(cli: Cli, db: Path) -> subprocess.CompletedProcess[str]:
    return cli.run("serve", "--port", str(free_tcp_port()), env={"OCTOSCOPE_DB": str(db)}, timeout=60)


def test_serve_on_a_damaged_database_is_one_line_before_anything_is_served(synced_demo: Cli, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all\n" * 200)
    damaged = tmp_path / "damaged.db"
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(damaged) as target:
        source.backup(target)
    size = damaged.stat().st_size
    with damaged.open("r+b") as f:  # scribble over pages in the middle of the file, as a bad disk would
        f.seek(size // 2)
        f.write(os.urandom(64 * 1024))
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    for db, said in ((garbage, "is not a SQLite database"), (damaged, "damaged"), (folder, "is not a file")):
        done = _serve(synced_demo, db)
        assert done.returncode == 1, (db, done.stdout)
        assert done.stdout == "", done.stdout  # no address printed for a server that will not start
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("Error: ")
        assert said in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("error", "said", "not_said"),
    [
        (sqlite3.OperationalError("database or disk is full"), "is full", "another octoscope"),
        (sqlite3.DatabaseError("database disk image is malformed"), "damaged", "another octoscope"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "permissions", "another octoscope"),
        (sqlite3.OperationalError("database is locked"), "another octoscope", "damaged"),
        (OSError(28, "No space left on device"), "is full", "another octoscope"),
    ],
)
def test_database_errors_name_their_cause(error: Exception, said: str, not_said: str) -> None:
    message = describe(error, "/data/octoscope.db")  # type: ignore[arg-type]
    assert said in message
    assert not_said not in message
    assert "/data/octoscope.db" in message
    assert "\n" not in message


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("args", [["costs", "--json"], ["export", "csv", "--from", "2026-11-01", "--to", "2026-11-02"]])
def test_a_full_disk_is_one_line(synced_demo: Cli, args: list[str]) -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "octoscope", *args],
            env={**synced_demo.env, **synced_demo.clock_env()},
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr == (
        "Error: the disk holding the output is full ([Errno 28] No space left on device):"
        " free some space, then run the command again\n"
    )
