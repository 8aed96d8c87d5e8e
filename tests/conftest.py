"""Shared test fixtures: the simulator served over real sockets on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from octoscope.clock import SetClock, parse_instant
from octoscope.config import Settings
from octoscope.domain.secret import Secret
from octoscope.simulator import create_app
from octoscope.simulator.threaded import serve_in_thread

FIXTURES = Path(__file__).parent / "fixtures"
# A fixed clock for deterministic tests: a winter morning, after yesterday's consumption is published.
DEMO_NOW = "2026-11-21T09:00:00Z"
DEMO_KEY = "sk_live_octoscope_demo"
DEMO_ACCOUNT = "A-DE30DE30"


@dataclass
class SimServer:
    url: str  # e.g. http://127.0.0.1:41234
    app: Starlette

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def requests_log(self) -> dict[str, object]:
        return httpx.get(f"{self.url}/_sim/requests", timeout=30).json()  # type: ignore[no-any-return]

    def reset_log(self) -> None:
        httpx.delete(f"{self.url}/_sim/requests", timeout=30)

    def clock_state(self) -> tuple[str, float]:
        """The simulated instant (ISO 8601) and its speed."""
        body = httpx.get(f"{self.url}/_sim/clock", timeout=30).json()
        return str(body["now"]), float(body["speed"])

    def clock(self) -> SetClock:
        """A clock for octoscope in step with the simulator's: the same instant, moving at the same speed."""
        now, speed = self.clock_state()
        return SetClock(parse_instant(now), speed)


@contextlib.contextmanager
def serve(app: Starlette) -> Iterator[SimServer]:
    """Serve an ASGI app over a real socket on a free loopback port."""
    with serve_in_thread(app) as url:
        yield SimServer(url, app)


@contextlib.contextmanager
def simulator(
    scenario: str = "demo", now: str = DEMO_NOW, speed: float = 0.0, faults: str | None = None, seed: int | None = None
) -> Iterator[SimServer]:
    with serve(create_app(scenario, now=now, speed=speed, faults=faults, seed=seed)) as server:
        yield server


@pytest.fixture(scope="session")
def demo_sim() -> Iterator[SimServer]:
    """The demo scenario with a frozen clock, shared by read-only tests. Do not change its clock or faults."""
    with simulator() as server:
        yield server


@pytest.fixture
def fresh_sim() -> Iterator[SimServer]:
    """A demo simulator of one's own, for tests that move the clock, inject faults or count requests."""
    with simulator() as server:
        yield server


def load_fixture(name: str) -> object:
    import json

    return json.loads((FIXTURES / name).read_text())


@dataclass
class Cli:
    """The octoscope command run as a real process against a simulator, with its own config and database."""

    sim: SimServer
    home: Path
    env: dict[str, str]
    last_clock: tuple[str, float] | None = None  # the simulator's, as last seen (it may be stopped since)

    @property
    def db(self) -> Path:
        return Path(self.env["OCTOSCOPE_DB"])

    @property
    def db_url(self) -> str | None:
        """The PostgreSQL database this CLI uses, if it is not on a SQLite file."""
        location = self.env["OCTOSCOPE_DB"]
        return location if location.startswith("postgresql://") else None

    def settings(self, db: Path | None = None) -> Settings:
        """The settings this CLI runs with (its simulator, key and account), for an app built in the test's own
        process; ``db``: another database (a copy) instead of its own."""
        url = None if db is not None else self.db_url
        return Settings(
            api_key=Secret(self.env["OCTOSCOPE_API_KEY"]),
            account=self.env["OCTOSCOPE_ACCOUNT"],
            api_url=self.env["OCTOSCOPE_API_URL"],
            graphql_url=self.env["OCTOSCOPE_GRAPHQL_URL"],
            db=db or (self.home / "octoscope.db" if url else self.db),
            db_url=Secret(url) if url else None,
            config_path=self.home / "none.toml",
        )

    def clock_env(self) -> dict[str, str]:
        """OCTOSCOPE_NOW and OCTOSCOPE_SPEED at the simulator's instant: both sides agree on "now", whatever
        the machine's date."""
        if self.sim is not None:  # a CLI with no simulator (backups, restores) runs at the demo's instant
            with contextlib.suppress(httpx.TransportError):
                self.last_clock = self.sim.clock_state()
        now, speed = self.last_clock or (DEMO_NOW, 0.0)
        # A frozen simulator's CLI still runs at real speed: it must be able to wait out a Retry-After or a
        # spent budget (a few seconds' drift from the frozen instant changes nothing a test looks at).
        return {"OCTOSCOPE_NOW": now, "OCTOSCOPE_SPEED": repr(speed or 1.0)}

    def clock(self) -> SetClock:
        """The clock this CLI runs with, for an app built in the test's own process."""
        now, speed = self.sim.clock_state()
        return SetClock(parse_instant(now), speed or 1.0)

    def run(
        self, *args: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "octoscope", *args],
            env={**self.env, **self.clock_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, timeout: float = 300) -> str:
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, f"octoscope {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


def machine_env() -> dict[str, str]:
    """What a child process needs of this one's environment: PATH, and libfaketime's variables when the suite
    runs with the machine's clock moved (make test-clocks), so that a child lives on the same moved clock."""
    keep = ("PATH", "LD_PRELOAD", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep or k.startswith("FAKETIME")}


def make_cli(
    sim: SimServer, home: Path, key: str = DEMO_KEY, account: str = DEMO_ACCOUNT, backend: str = "sqlite"
) -> Cli:
    """The CLI on its own database: a SQLite file in ``home``, or (``backend="postgres"``) a fresh database on
    this worker's PostgreSQL cluster (tests/servers.py)."""
    env = {
        **machine_env(),
        "HOME": str(home),
        "OCTOSCOPE_API_KEY": key,
        "OCTOSCOPE_ACCOUNT": account,
        "OCTOSCOPE_API_URL": f"{sim.url}/v1",
        "OCTOSCOPE_GRAPHQL_URL": f"{sim.url}/v1/graphql/",
        "OCTOSCOPE_DB": str(home / "octoscope.db"),
        "OCTOSCOPE_CONFIG": str(home / "config.toml"),
    }
    if backend == "postgres":
        from tests.servers import fresh_database

        env["OCTOSCOPE_DB"] = fresh_database("cli")
    return Cli(sim, home, env)


def table_rows(
    db: Path, skip: tuple[str, ...] = ("request_budget", "sync_runs", "tokens")
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted, for comparing two databases row by row.

    Left out by default: the request ledger, the run log and the token (they record how a run went, not
    the data); and the columns that record when a thing was fetched or worked out.
    """
    clock_columns = {"discovered_at", "synced_at", "fresh_until", "settled_to", "seen_at", "applied_at", "computed_at"}
    with contextlib.closing(sqlite3.connect(db)) as conn:  # closed: a connection left open holds a lock
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        out = {}
        for table in sorted(set(tables) - set(skip)):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in clock_columns]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608
            out[table] = sorted(rows, key=repr)
    return out


@pytest.fixture(scope="session")
def synced_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The demo account synced once into its own database, for tests that only read it (costs, the API)."""
    with simulator() as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("synced-demo"))
        cli.ok("sync", "--to", "2026-11-22")
        yield cli


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """The end-to-end tests that take it run once per store backend (postgres ones are marked postgres)."""
    return str(request.param)


@pytest.fixture(scope="session")
def synced_on(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """``synced_demo``, on each store backend: the demo account synced once into SQLite, and into PostgreSQL."""
    with simulator() as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp(f"synced-demo-{store_backend}"), backend=store_backend)
        cli.ok("sync", "--to", "2026-11-22")
        yield cli


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test run on the PostgreSQL backend (a ``backend`` or ``store_backend`` parameter named postgres) is a
    PostgreSQL test: marked so, like those marked by hand, so that ``-m "not postgres"`` leaves them all out."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        chosen = [params.get(name) for name in ("backend", "store_backend")]
        if any(getattr(value, "name", value) == "postgres" for value in chosen):
            item.add_marker(pytest.mark.postgres)
