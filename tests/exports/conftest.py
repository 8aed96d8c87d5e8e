"""Fixtures for the export tests: real InfluxDB 1.x and VictoriaMetrics servers, and the synced demo
database with its dispatches and an hour of Home Mini readings, copied for each test that writes cursors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from octoscope.config import InfluxSettings, Settings
from octoscope.domain.secret import Secret
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, Cli, make_cli
from tests.servers import ADMIN, Influx1, ServerMissing, Victoria, in_ci, influx1, victoria

T = TypeVar("T")
NOW = datetime.fromisoformat(DEMO_NOW).astimezone(UTC)
HOME_MINI = "00-00-00-FF-FE-00-01-01"  # the demo's electricity meter's device id
TELEMETRY_FROM = int(datetime(2026, 11, 21, 8, tzinfo=UTC).timestamp())  # the hour before the clock


def _server(start: Callable[[], AbstractContextManager[T]]) -> Iterator[T]:
    try:
        manager = start()
        server = manager.__enter__()
    except ServerMissing as err:
        if in_ci():
            pytest.fail(f"{err}; CI=true, so the test must run")
        pytest.skip(str(err))
    try:
        yield server
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def influx() -> Iterator[Influx1]:
    yield from _server(influx1)


@pytest.fixture(scope="session")
def vm() -> Iterator[Victoria]:
    yield from _server(victoria)


def copy_database(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


@pytest.fixture(scope="session")
def export_demo(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced demo database, plus what the other parts of octoscope keep: the dispatches (a real refresh
    from the simulator) and an hour of Home Mini readings every 10 seconds (as the live view records them)."""
    home = tmp_path_factory.mktemp("export-demo")
    path = copy_database(synced_demo.db, home / "octoscope.db")
    cli = make_cli(synced_demo.sim, home)
    cli.ok("dispatches", "--refresh")
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO telemetry (device_id, read_at, consumption_wh, delta_wh, demand_w, export_wh)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (HOME_MINI, TELEMETRY_FROM + 10 * i, 1_000_000 + 5.0 * i, 5.0, 1800.0 + (i % 7) * 10, 0.0)
                for i in range(360)
            ],
        )
    return path


@pytest.fixture
def demo_db(export_demo: Path, tmp_path: Path) -> Path:
    """A test's own copy, so that the cursors it writes are its own."""
    return copy_database(export_demo, tmp_path / "octoscope.db")


def settings_for(db: Path, influx: InfluxSettings | None = None) -> Settings:
    return Settings(
        api_key=Secret(DEMO_KEY), account=DEMO_ACCOUNT, db=db, config_path=db.parent / "none.toml", influx=influx
    )


def influx_v1(server: Influx1, database: str, password: str = ADMIN[1], **changes: object) -> InfluxSettings:
    settings = InfluxSettings(
        url=server.url, version=1, database=database, username=ADMIN[0], password=Secret(password)
    )
    return replace(settings, **changes)  # type: ignore[arg-type]
