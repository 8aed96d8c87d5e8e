"""Live's first view at once (issue 18): a page opened after a restart shows the readings an earlier run stored,
within a second, while the Home Mini (the simulator, made five seconds slow to answer) has not been asked yet;
with nothing stored, the first poll goes at once rather than at its slot."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from octoscope.clock import ManualClock
from octoscope.domain.models import TelemetryReading
from octoscope.octopus.policy import key_fingerprint
from octoscope.store.sqlite import Store
from tests.conftest import DEMO_KEY, Cli, simulator
from tests.live.support import HOME_MINI, copy_synced, events, live_app, settings_for, telemetry_calls
from tests.web.test_api_live import START


def stored_hour(db: Path, until: float) -> list[TelemetryReading]:
    """An hour of 10-second readings ending at ``until``, as an earlier run with ``[live] record`` kept them."""
    first = int(until - 3600) // 10 * 10
    rows = [
        TelemetryReading(datetime.fromtimestamp(t, UTC), 1000.0 + i, 1.0, 300.0 + i % 50, 0.0)
        for i, t in enumerate(range(first, int(until) - 10, 10))
    ]
    with Store.open(db) as store:
        store.write_telemetry(HOME_MINI, rows)
    return rows


def test_the_first_view_shows_the_stored_readings_within_a_second(synced_demo: Cli, tmp_path: Path) -> None:
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    rows = stored_hour(db, START - 30)
    newest = int(rows[-1].read_at.timestamp())
    with (
        simulator(faults="latency:1:ms=5000:route=graphql") as sim,
        live_app(settings_for(sim, db), ManualClock(START)) as base,
    ):

        async def opened() -> tuple[float, dict[str, object], float, list[tuple[str, object]]]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                began = time.monotonic()
                dashboard = (await http.get("/api/live/dashboard")).json()
                took = time.monotonic() - began
                began = time.monotonic()
                seen: list[tuple[str, object]] = []
                async with http.stream("GET", "/api/live/stream") as response:
                    async for event in events(response):
                        seen.append((event.name, event.id if event.name == "reading" else event.data))
                        if event.name == "reading":
                            break
                return took, dashboard, time.monotonic() - began, seen

        took, dashboard, streamed, seen = asyncio.run(opened())
        polls = telemetry_calls(sim)
    assert took < 1.0, f"the dashboard took {took:.2f} s"
    current = dashboard["current"]
    assert isinstance(current, dict)
    assert datetime.fromisoformat(current["time"]).timestamp() == newest  # the newest stored reading
    last_five_minutes = [r for r in rows if r.read_at.timestamp() >= START - 300]
    assert len(dashboard["recent"]) == len(last_five_minutes) == 26
    status = dashboard["status"]
    assert isinstance(status, dict)
    assert status["state"] == "ok"
    assert "from the database" in status["message"]
    assert streamed < 1.0, f"the stream's first reading took {streamed:.2f} s"
    assert seen[-1] == ("reading", str(newest))
    assert len(polls) <= 1  # the stored hour was not asked for again (a poll from after it may be under way)


def test_with_nothing_stored_the_first_poll_goes_at_once_not_at_its_slot(synced_demo: Cli, tmp_path: Path) -> None:
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    # A poll 20 s ago (an earlier process's, in the ledger) puts the next slot 40 s away (at the default 60
    # an hour, one a minute).
    with Store.open(db) as store:
        store.record_request(key_fingerprint(DEMO_KEY), "live", START - 20)
    with simulator() as sim, live_app(settings_for(sim, db), ManualClock(START)) as base:
        began = time.monotonic()
        dashboard = httpx.get(f"{base}/api/live/dashboard", timeout=30).json()
        took = time.monotonic() - began
        polls = telemetry_calls(sim)
    # The slot is 40 s away on a clock that does not move: without the poll at once, the dashboard would give up
    # waiting after 10 s with nothing to show. The poll itself (a token and an hour of telemetry) takes a
    # second or two on a busy machine.
    assert took < 8.0, f"the dashboard took {took:.2f} s"
    assert dashboard["current"] is not None
    assert len(polls) == 1
