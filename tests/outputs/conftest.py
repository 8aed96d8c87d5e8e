"""A real broker (Debian's mosquitto, on a free loopback port) and a client that listens as Home Assistant
does; skipped with the reason when mosquitto is missing, except under CI=true, where it must run."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from tests.conftest import Cli, SimServer, make_cli
from tests.servers import Broker, ServerMissing, in_ci, mosquitto
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
