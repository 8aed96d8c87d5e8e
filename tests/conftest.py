"""Shared test fixtures: the simulator served over real sockets on a free loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

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


@contextlib.contextmanager
def serve(app: Starlette) -> Iterator[SimServer]:
    """Serve an ASGI app over a real socket on a free loopback port."""
    with serve_in_thread(app) as url:
        yield SimServer(url, app)


@contextlib.contextmanager
def simulator(scenario: str = "demo", now: str = DEMO_NOW, speed: float = 0.0,
              faults: str | None = None, seed: int | None = None) -> Iterator[SimServer]:
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
