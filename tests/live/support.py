"""Helpers for the live tests: the web app served over a real socket on a clock the test moves in step with
the simulator's, and an SSE client that reads events as a browser's EventSource would."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from octoscope.clock import ManualClock
from octoscope.config import Budget, LiveSettings, Settings
from octoscope.domain.secret import Secret
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, SimServer

HOME_MINI = "00-00-00-FF-FE-00-01-01"


@dataclass
class Event:
    name: str
    id: str | None
    data: Any


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    """Events as the SSE spec frames them; comments (keep-alives) and retry-only blocks are skipped."""
    name: str | None = None
    event_id: str | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield Event(name or "message", event_id, json.loads("\n".join(data)))
            name, event_id, data = None, None, []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "event":
            name = value
        elif key == "id":
            event_id = value
        elif key == "data":
            data.append(value)


def copy_synced(source: Path, target: Path) -> Path:
    """A copy of a synced database without its token and request ledger (they belong to another simulator
    and another clock)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with sqlite3.connect(target) as db:
        db.execute("DELETE FROM tokens")
        db.execute("DELETE FROM request_budget")
    return target


def set_sim_clock(sim: SimServer, **body: object) -> None:
    httpx.post(f"{sim.url}/_sim/clock", json=body, timeout=10).raise_for_status()


def settings_for(
    sim: SimServer, db: Path, graphql_per_hour: int = 100, key: str = DEMO_KEY, account: str = DEMO_ACCOUNT, **live: Any
) -> Settings:
    """Settings against the simulator. The play-out is off unless asked for (``playout=None``: auto): these
    sessions watch the poller's batches as they arrive; tests/live/test_playout.py and the browser's play-out
    test watch the play-out."""
    live.setdefault("playout", 0.0)
    return Settings(
        api_key=Secret(key),
        account=account,
        api_url=f"{sim.url}/v1",
        graphql_url=f"{sim.url}/v1/graphql/",
        db=db,
        config_path=db.parent / "none.toml",
        budget=Budget(rest_per_hour=300, graphql_per_hour=graphql_per_hour),
        live=LiveSettings(**live),
    )


@contextlib.contextmanager
def live_app(settings: Settings, clock: ManualClock) -> Iterator[str]:
    """The web app on a free port; open streams get a second when it stops."""
    with serve_in_thread(create_app(settings, clock=clock), graceful_seconds=1) as base:
        yield base


def telemetry_calls(sim: SimServer) -> list[dict[str, Any]]:
    """The simulator's log of telemetry calls (their ``sim_at`` is simulated time)."""
    log = sim.requests_log()["requests"]
    assert isinstance(log, list)
    return [e for e in log if "smartMeterTelemetry" in e.get("fields", [])]


@dataclass
class Viewer:
    """One SSE client's record of what it received."""

    readings: list[int] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    other: list[Event] = field(default_factory=list)

    def take(self, event: Event) -> None:
        if event.name == "reading":
            assert event.id is not None
            self.readings.append(int(event.id))
            self.data.append(event.data)
        elif event.name == "status":
            self.statuses.append(event.data)
        else:
            self.other.append(event)

    @property
    def states(self) -> list[str]:
        return [s["state"] for s in self.statuses]


def contiguous(ids: list[int]) -> bool:
    return all(b - a == 10 for a, b in itertools.pairwise(ids))


async def watch(
    base: str, viewer: Viewer, clock: Callable[[], float], until: float, headers: dict[str, str] | None = None
) -> None:
    """Read the stream until the clock passes ``until`` (looked at on each event)."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as client,
        client.stream("GET", f"{base}/api/live/stream", headers=headers or {}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in events(response):
            viewer.take(event)
            if clock() >= until:
                return


class Session:
    """The app on a stepped clock against a frozen simulator: the test moves time; viewers watch."""

    def __init__(self, sim: SimServer, base: str, clock: ManualClock) -> None:
        self.sim = sim
        self.base = base
        self.clock = clock
        self.http = httpx.AsyncClient(timeout=30)
        self.tasks: list[asyncio.Task[None]] = []

    async def status(self) -> dict[str, Any]:
        answer = (await self.http.get(f"{self.base}/api/live/status")).json()
        assert isinstance(answer, dict)
        return answer

    async def viewers(self, count: int) -> None:
        """Wait until ``count`` viewers are connected."""
        for _ in range(1000):
            if (await self.status())["viewers"] >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{count} viewers did not connect")

    def watch(self, viewer: Viewer, headers: dict[str, str] | None = None, until: float = float("inf")) -> None:
        self.tasks.append(asyncio.create_task(watch(self.base, viewer, self.clock, until, headers)))

    async def leave(self) -> None:
        """Every viewer disconnects."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []

    async def advance(self, seconds: float, *, sim_follows: bool = True) -> None:
        """Move the simulator's clock and ours together (or ours alone: the Home Mini falls silent), 10
        seconds a step, each step once the poller has done what was due (it then says when its next poll
        is): every poll at the same instant, run after run."""
        end = self.clock() + seconds
        while self.clock() < end:
            if sim_follows:
                at = datetime.fromtimestamp(self.clock() + 10, UTC).isoformat()
                answer = await self.http.post(f"{self.sim.url}/_sim/clock", json={"now": at, "speed": 0})
                answer.raise_for_status()
            self.clock.advance(10)
            deadline = time.monotonic() + 30  # a loaded machine can be slow; a wrong one never answers
            while True:
                status = await self.status()
                due = status["next_poll_at"]
                if status["state"] == "idle" or (
                    due is not None and datetime.fromisoformat(due).timestamp() > self.clock()
                ):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"the poller did not get past {self.clock()}: {status}")
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.002)

    async def close(self) -> None:
        await self.leave()
        await self.http.aclose()


Scenario = Callable[[Session], Awaitable[None]]


def play(sim: SimServer, base: str, clock: ManualClock, scenario: Scenario) -> None:
    """Run a scenario as one session against the app at ``base``, closing the session whatever happens."""

    async def go() -> None:
        session = Session(sim, base, clock)
        try:
            await scenario(session)
        finally:
            await session.close()

    asyncio.run(go())
