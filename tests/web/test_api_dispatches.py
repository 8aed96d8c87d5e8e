"""Dispatches over the API: the list, a manual refresh within the limits, and the scheduler keeping it fresh."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import Cli, make_cli, simulator


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Cli]:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        yield cli


def test_a_manual_refresh_keeps_to_the_limits_and_says_when(synced: Cli) -> None:
    with serve_in_thread(create_app(synced.settings(), clock=synced.clock())) as base:
        first = httpx.post(f"{base}/api/dispatches/refresh", timeout=30)
        second = httpx.post(f"{base}/api/dispatches/refresh", timeout=30)
        listed = httpx.get(f"{base}/api/dispatches", params={"days": 3}, timeout=30).json()
    assert first.status_code == 200
    assert first.json()["refreshed"][0]["device_id"] == "00000000-0000-4000-8000-00000000d301"
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 60
    assert "next refresh is allowed at" in second.json()["detail"]
    assert listed["dispatches"]
    assert set(listed["devices"]) == {"00000000-0000-4000-8000-00000000d301"}


def test_the_scheduler_keeps_dispatches_fresh(synced: Cli) -> None:
    # The sync read the account, with the car's state (not plugged in): dispatches are read an hour later.
    now, _ = synced.sim.clock_state()
    later = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(hours=1, seconds=1)
    httpx.post(f"{synced.sim.url}/_sim/clock", json={"now": later.isoformat()}, timeout=30).raise_for_status()
    with serve_in_thread(create_app(synced.settings(), clock=synced.clock(), schedule_every=0.1)) as base:
        deadline = time.monotonic() + 20
        listed: dict[str, object] = {"dispatches": []}
        while not listed["dispatches"] and time.monotonic() < deadline:
            time.sleep(0.2)
            listed = httpx.get(f"{base}/api/dispatches", params={"days": 3}, timeout=30).json()
    assert listed["dispatches"], "the scheduler made no refresh"
    calls = [e for e in synced.sim.requests_log()["requests"] if "flexPlannedDispatches" in e.get("fields", [])]
    assert len(calls) == 1  # once, then the limits (and the idle interval) hold it back
