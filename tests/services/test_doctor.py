"""`octoscope doctor`: one line per check, what to do when one fails, exit 1 then; the key never shown."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from octoscope.clock import frozen
from octoscope.services.doctor import _Seen, check_clock
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.migrations import MIGRATIONS
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, SimServer, machine_env, make_cli, simulator

NAMES = ["version", "config", "modes", "database", "api", "influx", "budget", "clock"]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with simulator() as server:
        yield server


@pytest.fixture
def home(sim: SimServer, tmp_path: Path) -> Path:
    """A user after `init` and `sync`: a config file (mode 600) and a database with a week in it."""
    cli = make_cli(sim, tmp_path)
    cli.ok("sync", "--from", "2026-11-01", "--to", "2026-11-08")
    config = tmp_path / "config.toml"
    config.write_text(
        f'api_key = "{DEMO_KEY}"\naccount = "{DEMO_ACCOUNT}"\napi_url = "{sim.url}/v1"\n'
        f'graphql_url = "{sim.url}/v1/graphql/"\ndb = "{cli.db}"\n'
    )
    config.chmod(0o600)
    return tmp_path


def doctor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "octoscope", "doctor", *args],
        env={
            **machine_env(),
            "HOME": str(home),
            "OCTOSCOPE_CONFIG": str(home / "config.toml"),
            "OCTOSCOPE_NOW": DEMO_NOW,  # the simulator's instant, at which the sync above ran
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert DEMO_KEY not in done.stdout + done.stderr, "the doctor never shows the key"
    return done


def by_name(done: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    lines = done.stdout.splitlines()
    assert [line.split()[1] for line in lines] == NAMES, done.stdout
    return {line.split()[1]: (line.split()[0], line.split(None, 2)[2]) for line in lines}


def test_a_sound_installation_is_all_ok_on_one_screen(home: Path, sim: SimServer) -> None:
    done = doctor(home)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = by_name(done)
    assert {status for status, _ in checks.values()} == {"ok"}, done.stdout
    current = len(MIGRATIONS)
    assert checks["database"][1].startswith(f"{home}/octoscope.db: schema {current} (current), integrity ok, ")
    assert checks["api"][1].startswith(f"{sim.url}/v1/products/ answers (")
    assert checks["config"][1] == (
        f"{home}/config.toml: API key set, account {DEMO_ACCOUNT}, database {home}/octoscope.db"
    )
    budget = checks["budget"][1]
    assert budget.startswith("rest ")
    assert budget.endswith(" requests in the last hour")
    assert "rest 0 of" not in budget, "the sync a moment ago is counted"
    assert "agrees with the API's" in checks["clock"][1]
    assert len(done.stdout.splitlines()) == len(NAMES)
    assert all(len(line) < 240 for line in done.stdout.splitlines())
    as_json = json.loads(doctor(home, "--json").stdout)
    assert [c["check"] for c in as_json] == NAMES


def test_what_is_wrong_is_a_fail_line_saying_what_to_do(home: Path) -> None:
    (home / "config.toml").chmod(0o644)
    # Nothing listens on port 9 (discard) here: the API cannot be reached.
    (home / "config.toml").write_text(re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:9", (home / "config.toml").read_text()))
    done = doctor(home)
    assert done.returncode == 1
    checks = by_name(done)
    assert checks["modes"] == (
        "FAIL",
        f"{home}/config.toml is readable by others (mode 644) and holds your API key: run chmod 600 {home}/config.toml",
    )
    assert checks["api"][0] == "FAIL"
    assert checks["api"][1].endswith("(ConnectError): check the network and api_url")
    assert checks["database"][0] == "ok"


def test_a_database_from_a_newer_release_fails_the_database_check_and_is_left_alone(home: Path) -> None:
    db = home / "octoscope.db"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)")
    before = db.read_bytes()
    done = doctor(home)
    assert done.returncode == 1
    status, message = by_name(done)["database"]
    assert status == "FAIL"
    assert "was written by a newer octoscope (schema version 99" in message
    assert db.read_bytes() == before


def test_a_missing_key_and_database_say_run_init_and_sync(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(f'account = "{DEMO_ACCOUNT}"\ndb = "{tmp_path}/none.db"\n')
    (tmp_path / "config.toml").chmod(0o600)
    checks = by_name(doctor(tmp_path))
    assert checks["config"] == ("FAIL", f"{tmp_path}/config.toml: no API key: run `octoscope init`")
    assert checks["database"] == ("FAIL", f"no octoscope data at {tmp_path}/none.db: run `octoscope sync`")


@contextlib.contextmanager
def influx(status: int) -> Iterator[str]:
    async def ping(_: object) -> Response:
        return Response(status_code=status, headers={"X-Influxdb-Version": "1.8.10"})

    with serve_in_thread(Starlette(routes=[Route("/ping", ping)])) as url:
        yield url


@pytest.mark.parametrize(("status", "expected"), [(204, "ok"), (401, "FAIL")])
def test_influxdb_is_pinged_where_configured(home: Path, status: int, expected: str) -> None:
    with influx(status) as url:
        config = home / "config.toml"
        config.write_text(config.read_text() + f'\n[influx]\nurl = "{url}"\ndatabase = "octopus"\n')
        checks = by_name(doctor(home))
    assert checks["influx"][0] == expected
    assert checks["influx"][1].startswith(f"{url}/ping answers")


def test_a_clock_far_from_the_apis_fails() -> None:
    asked = 1_792_000_000.0
    check = check_clock(_Seen(frozen(asked), api_date=asked - 600, asked_at=asked))
    assert check.status == "FAIL"
    assert check.message == (
        "this machine's clock is 600 s ahead of the API's: turn on time sync (timedatectl set-ntp true)"
    )
    assert check_clock(_Seen(frozen(asked), api_date=asked - 5, asked_at=asked)).status == "ok"
