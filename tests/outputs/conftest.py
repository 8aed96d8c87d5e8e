"""Fixtures for the outputs' tests. A real broker (Debian's mosquitto, on a free loopback port) and a client that
listens as Home Assistant does; real InfluxDB 1.x and VictoriaMetrics servers; and the synced demo database with
its dispatches and an hour of Home Mini readings, copied for each test that writes cursors. Skipped with the
reason when a server is missing, except under CI=true, where they must run."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as paho
import pytest

from octoscope.config import InfluxSettings, Settings
from octoscope.domain.secret import Secret
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, Cli, SimServer, make_cli
from tests.servers import ADMIN, Broker, Influx1, ServerMissing, Victoria, in_ci, influx1, mosquitto, victoria
from tests.servers import mosquitto_binary as require_binary


def require_mosquitto() -> None:
    """Skip (with the reason) when mosquitto is not installed, except under CI=true."""
    try:
        require_binary()
    except ServerMissing as err:
        if in_ci():
            raise
        pytest.skip(str(err))


@pytest.fixture
def broker() -> Iterator[Broker]:
    try:
        with mosquitto() as running:
            yield running
    except ServerMissing as err:
        if in_ci():
            raise
        pytest.skip(str(err))


@dataclass
class Received:
    topic: str
    payload: str
    retained: bool


class Listener:
    """Subscribes to ``topics`` (Home Assistant's discovery prefix and octoscope's base) and keeps every message."""

    def __init__(self, broker: Broker, topics: tuple[str, ...] = ("homeassistant/#", "octoscope/#")) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"ha-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        assert self._ready.wait(10), "the broker did not confirm the subscription"

    def _on_message(self, _client: object, _userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(message.topic, message.payload.decode(), bool(message.retain)))

    def wait(self, test: Callable[[list[Received]], bool], timeout: float = 20.0, what: str = "") -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = list(self.messages)
            if test(seen):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or test}: {len(seen)} messages seen")

    def latest(self) -> dict[str, str]:
        with self._lock:
            return {m.topic: m.payload for m in self.messages}

    def configs(self) -> dict[str, dict[str, object]]:
        return {t: json.loads(p) for t, p in self.latest().items() if t.endswith("/config") and p}

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def listen(broker: Broker) -> Iterator[Callable[[], Listener]]:
    made: list[Listener] = []

    def make() -> Listener:
        made.append(Listener(broker))
        return made[-1]

    yield make
    for one in made:
        one.close()


def mqtt_env(broker: Broker) -> dict[str, str]:
    return {"OCTOSCOPE_MQTT_HOST": broker.host, "OCTOSCOPE_MQTT_PORT": str(broker.port)}


def copy_of(synced: Cli, home: Path, keyless: bool = False, sim: SimServer | None = None) -> Cli:
    """A CLI on a copy of the synced demo's database (tests that write to it must not touch the shared one),
    with an empty request ledger."""
    import sqlite3

    home.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(synced.db)) as source,
        contextlib.closing(sqlite3.connect(home / "octoscope.db")) as target,
    ):
        source.backup(target)
        # The request ledger and the token belong to the shared database's history (every test that ran the
        # demo's CLI spent from that budget): a copy starts with none, as a new installation would.
        target.execute("DELETE FROM request_budget")
        target.execute("DELETE FROM tokens")
        target.commit()
    cli = make_cli(sim or synced.sim, home)
    if keyless:
        del cli.env["OCTOSCOPE_API_KEY"]
    return cli


@contextlib.contextmanager
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        server.shutdown()
        server.server_close()


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
