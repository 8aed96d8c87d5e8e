"""When InfluxDB is down, answers 5xx, refuses the credentials, lacks the database or refuses a point: one
clear line, the failed measurement's cursor not moved, and the next run writes everything that was missed.
Against a real InfluxDB 1.x; the 5xx comes from a transport that stops forwarding to it part-way."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.config import InfluxSettings
from octoscope.outputs.influx import export_influx, push_after_sync, target_of
from octoscope.outputs.influx_writer import (
    InfluxAuthError,
    InfluxNotFound,
    InfluxRejected,
    InfluxServerError,
    InfluxUnreachable,
)
from octoscope.simulator.threaded import free_port
from octoscope.store.sqlite import Store
from tests.conftest import Cli, make_cli
from tests.outputs.conftest import NOW, copy_database, influx_v1, settings_for
from tests.outputs.test_influx import counts
from tests.servers import ADMIN, Influx1

WRONG_PASSWORD = "not-the-password-5f3a"


def no_sleep(_: float) -> None:
    pass


@pytest.fixture(scope="module")
def reference(
    influx: Influx1, export_demo: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, int]]:
    """What one clean export of the demo writes, per measurement and field."""
    db = copy_database(export_demo, tmp_path_factory.mktemp("reference") / "octoscope.db")
    influx.create_database("reference")
    with Store.open(db) as store:
        export_influx(settings_for(db, influx_v1(influx, "reference")), store, clock=frozen(NOW))
    return counts(influx, "reference")


def cursors(db: Path, influx: InfluxSettings) -> dict[tuple[str, str], object]:
    with Store.open(db) as store:
        return dict(store.export_cursors(target_of(influx).describe()))


def test_influx_down_then_up(influx: Influx1, demo_db: Path, reference: dict[str, dict[str, int]]) -> None:
    down = influx_v1(influx, "after_down", url=f"http://127.0.0.1:{free_port()}")
    with Store.open(demo_db) as store, pytest.raises(InfluxUnreachable) as caught:
        export_influx(settings_for(demo_db, down), store, clock=frozen(NOW), sleep=no_sleep)
    message = str(caught.value)
    assert "cannot reach InfluxDB at http://127.0.0.1:" in message
    assert "is it running? check [influx] url" in message
    assert cursors(demo_db, down) == {}
    influx.create_database("after_down")
    up = replace(down, url=influx.url)
    with Store.open(demo_db) as store:
        export_influx(settings_for(demo_db, up), store, clock=frozen(NOW))
    assert counts(influx, "after_down") == reference


def test_wrong_password_then_right(influx: Influx1, demo_db: Path, reference: dict[str, dict[str, int]]) -> None:
    influx.create_database("after_401")
    wrong = influx_v1(influx, "after_401", password=WRONG_PASSWORD)
    with Store.open(demo_db) as store, pytest.raises(InfluxAuthError) as caught:
        export_influx(settings_for(demo_db, wrong), store, clock=frozen(NOW), sleep=no_sleep)
    message = str(caught.value)
    assert "refused to let us write (401: authorization failed)" in message
    assert "check [influx] username (octoscope) and OCTOSCOPE_INFLUX_PASSWORD" in message
    assert WRONG_PASSWORD not in message
    assert cursors(demo_db, wrong) == {}
    with Store.open(demo_db) as store:
        export_influx(settings_for(demo_db, influx_v1(influx, "after_401")), store, clock=frozen(NOW))
    assert counts(influx, "after_401") == reference


class FailsPartWay(httpx.BaseTransport):
    """Forwards the first ``good`` writes to the real server, then answers 503 as an overloaded one would."""

    def __init__(self, good: int) -> None:
        self.real = httpx.HTTPTransport()
        self.good = good
        self.seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen <= self.good:
            return self.real.handle_request(request)
        return httpx.Response(503, json={"error": "engine: cache-max-memory-size exceeded"})

    def close(self) -> None:
        self.real.close()


def test_5xx_part_way_then_the_next_run_writes_the_rest(
    influx: Influx1, demo_db: Path, reference: dict[str, dict[str, int]]
) -> None:
    influx.create_database("after_503")
    settings = influx_v1(influx, "after_503")
    failing = FailsPartWay(good=12)  # some measurements whole, one cut in the middle
    with Store.open(demo_db) as store, pytest.raises(InfluxServerError) as caught:
        export_influx(settings_for(demo_db, settings), store, clock=frozen(NOW), transport=failing, sleep=no_sleep)
    assert str(caught.value) == (
        f"InfluxDB at {influx.url} (database after_503) answered 503 (engine: cache-max-memory-size exceeded)"
        " 5 times: try again later; nothing is lost, the next export writes it"
    )
    kept = cursors(demo_db, settings)
    assert ("electricity_export", "electricity-export:1900000000125") in kept  # written whole before the failure
    assert ("gas_consumption", "gas:3000000101") not in kept  # cut part-way: its cursor did not move
    partial = counts(influx, "after_503")
    assert partial != reference
    with Store.open(demo_db) as store:
        export_influx(settings_for(demo_db, settings), store, clock=frozen(NOW))
    assert counts(influx, "after_503") == reference


def test_a_missing_database_says_how_to_create_it(influx: Influx1, demo_db: Path) -> None:
    settings = influx_v1(influx, "never_created")
    with Store.open(demo_db) as store, pytest.raises(InfluxNotFound) as caught:
        export_influx(settings_for(demo_db, settings), store, clock=frozen(NOW))
    assert str(caught.value) == (
        f'InfluxDB at {influx.url} (database never_created): database not found: "never_created";'
        " create it (influx -execute 'CREATE DATABASE \"never_created\"') or fix [influx] database"
    )
    assert cursors(demo_db, settings) == {}


def test_a_missing_retention_policy_is_named(influx: Influx1, demo_db: Path) -> None:
    influx.create_database("with_rp")
    settings = influx_v1(influx, "with_rp", retention_policy="forever")
    with Store.open(demo_db) as store, pytest.raises(InfluxNotFound) as caught:
        export_influx(settings_for(demo_db, settings), store, clock=frozen(NOW), sleep=no_sleep)
    assert "retention policy not found: forever; fix [influx] retention_policy" in str(caught.value)


def test_a_point_refused_is_one_line_with_the_reason(influx: Influx1, demo_db: Path) -> None:
    influx.create_database("conflict")
    # Someone's earlier script wrote usage_kwh as text (InfluxDB keeps the first type in each shard).
    httpx.post(
        f"{influx.url}/write",
        params={"db": "conflict", "precision": "s"},
        content=b'electricity_consumption,location=Home usage_kwh="0.5" 1795132800',
        auth=ADMIN,
        timeout=30,
    ).raise_for_status()
    settings = influx_v1(influx, "conflict")
    with Store.open(demo_db) as store, pytest.raises(InfluxRejected) as caught:
        export_influx(settings_for(demo_db, settings), store, clock=frozen(NOW))
    message = str(caught.value)
    assert "refused a batch of" in message
    assert "field type conflict" in message
    assert "write to a new database or bucket, or drop the measurement" in message
    assert ("electricity_consumption", "electricity-import:1900000000101") not in cursors(demo_db, settings)


def test_push_after_sync_reports_and_never_raises(
    influx: Influx1, demo_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Store.open(demo_db) as store:
        assert asyncio.run(push_after_sync(settings_for(demo_db), store, clock=frozen(NOW))) is None
        off = replace(influx_v1(influx, "pushed"), push_after_sync=False)
        assert asyncio.run(push_after_sync(settings_for(demo_db, off), store, clock=frozen(NOW))) is None
        wrong = influx_v1(influx, "pushed", password=WRONG_PASSWORD)
        with caplog.at_level(logging.DEBUG):
            failed = asyncio.run(push_after_sync(settings_for(demo_db, wrong), store, clock=frozen(NOW)))
        assert failed is not None
        assert "OCTOSCOPE_INFLUX_PASSWORD" in failed["error"]
        assert WRONG_PASSWORD not in caplog.text
        assert "InfluxDB push after sync: " in caplog.text
        influx.create_database("pushed")
        done = asyncio.run(
            push_after_sync(settings_for(demo_db, influx_v1(influx, "pushed")), store, clock=frozen(NOW))
        )
    assert done is not None
    assert done["total_points"] > 150_000


@pytest.fixture
def cli_with_influx(synced_demo: Cli, export_demo: Path, tmp_path: Path) -> Cli:
    copy_database(export_demo, tmp_path / "octoscope.db")
    return make_cli(synced_demo.sim, tmp_path)


def test_the_cli_error_is_one_line_without_the_password(influx: Influx1, cli_with_influx: Cli) -> None:
    cli = cli_with_influx
    env = {
        "OCTOSCOPE_INFLUX_URL": influx.url,
        "OCTOSCOPE_INFLUX_DATABASE": "from_cli",
        "OCTOSCOPE_INFLUX_USERNAME": ADMIN[0],
        "OCTOSCOPE_INFLUX_PASSWORD": WRONG_PASSWORD,
    }
    done = cli.run("-vv", "export", "influx", env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("Error: InfluxDB at http://127.0.0.1:")
    assert "Traceback" not in done.stderr
    assert WRONG_PASSWORD not in done.stdout + done.stderr
    influx.create_database("from_cli")
    ok = cli.run("export", "influx", "--json", env={**env, "OCTOSCOPE_INFLUX_PASSWORD": ADMIN[1]})
    assert ok.returncode == 0, ok.stderr
    assert '"total_points": ' in ok.stdout
    assert counts(influx, "from_cli")["electricity_consumption"]["count_usage_kwh"] > 17_000
