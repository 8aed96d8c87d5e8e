"""The live API over real sockets, against the simulator with its clock running fast: one poller however many
viewers, every reading to every viewer once and in order, resuming with Last-Event-ID, tokens kept across
restarts, and every failure told to viewers who stay connected."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from octoscope.live.clock import ScaledClock
from tests.conftest import DEMO_NOW, Cli, SimServer, simulator
from tests.live.support import (
    SteppedClock,
    Viewer,
    contiguous,
    copy_synced,
    events,
    live_app,
    settings_for,
    telemetry_calls,
)

SPEED = 120.0  # a simulated hour in 30 seconds
HOUR = 3600.0
START = datetime.fromisoformat(DEMO_NOW).timestamp()


@pytest.fixture
def fast_sim() -> Iterator[SimServer]:
    with simulator(speed=SPEED) as sim:
        yield sim


Clock = ScaledClock | SteppedClock


async def watch(base: str, viewer: Viewer, clock: Clock, until: float, headers: dict[str, str] | None = None) -> None:
    """Read the stream until the clock passes ``until`` (looked at on each event)."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=60)) as client,
        client.stream("GET", f"{base}/api/live/stream", headers=headers or {}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in events(response):
            viewer.take(event)
            if clock() >= until:
                return


def stalled_socket(base: str) -> socket.socket:
    """A client that asks for the stream and never reads a byte of it."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/live/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


async def viewers_connected(base: str, count: int) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(1000):
            if (await client.get(f"{base}/api/live/status")).json()["viewers"] >= count:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"{count} viewers did not connect")


async def drive(sim: SimServer, base: str, clock: SteppedClock, until: float) -> None:
    """Move the simulator's clock and ours together, 10 seconds a step, each step once the poller has done
    what was due (it then says when its next poll is): every poll at the same instant, run after run."""
    async with httpx.AsyncClient(timeout=30) as client:
        while clock() < until + 30:
            at = datetime.fromtimestamp(clock() + 10, UTC).isoformat()
            (await client.post(f"{sim.url}/_sim/clock", json={"now": at, "speed": 0})).raise_for_status()
            clock.advance(10)
            for _ in range(500):
                due = (await client.get(f"{base}/api/live/status")).json()["next_poll_at"]
                if due is not None and datetime.fromisoformat(due).timestamp() > clock():
                    break
                await asyncio.sleep(0.005)


async def an_hour_watched(sim: SimServer, base: str, clock: SteppedClock, count: int) -> list[Viewer]:
    viewers = [Viewer() for _ in range(count)]
    until = clock() + HOUR
    watching = [asyncio.create_task(watch(base, v, clock, until)) for v in viewers]
    await viewers_connected(base, count + 1)  # and the stalled one
    await drive(sim, base, clock, until)
    await asyncio.gather(*watching)
    return viewers


@pytest.mark.slow
def test_one_ten_and_a_hundred_viewers_cost_the_same_calls_and_each_gets_every_reading(
    synced_demo: Cli, tmp_path: Path
) -> None:
    counts: dict[int, list[float]] = {}
    for count in (1, 10, 100):
        with simulator() as sim:  # frozen: the test moves it
            clock = SteppedClock(START)
            db = copy_synced(synced_demo.db, tmp_path / f"viewers-{count}.db")
            with live_app(settings_for(sim, db), clock) as base:
                stalled = stalled_socket(base)
                try:
                    viewers = asyncio.run(an_hour_watched(sim, base, clock, count))
                finally:
                    stalled.close()
            calls = [datetime.fromisoformat(e["sim_at"]).timestamp() for e in telemetry_calls(sim)]
        counts[count] = calls
        # Within the budget: never more than 60 in any rolling hour.
        assert max(sum(1 for t in calls if a <= t < a + HOUR) for a in calls) <= 60
        assert len(viewers) == count
        for viewer in viewers:
            assert contiguous(viewer.readings), "a reading was missed, repeated or out of order"
            assert viewer.readings[0] == START - START % 10 - 10  # the newest when it connected...
            assert viewer.readings[-1] >= START + HOUR - 70  # ...to the end of the hour, every 10 seconds
            assert set(viewer.states) <= {"starting", "ok"}
            assert viewer.states[-1] == "ok"
            assert not viewer.other  # no resync: nobody fell behind (the stalled client held no one back)
    in_hour = {count: [t for t in calls if t < START + HOUR] for count, calls in counts.items()}
    assert in_hour[1] == in_hour[10] == in_hour[100]  # the same calls, at the same instants
    assert len(in_hour[1]) == 60
