"""One Octopus per process: in one ``serve`` against the simulator over real sockets, a Retry-After answered
to the scheduler's sync holds back a live poll and a dispatch refresh until it expires, then they go."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx

from octoscope.config import SyncOptions
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import make_cli, simulator

HOLD = 12  # seconds of Retry-After


def real(entry: dict[str, object]) -> float:
    return datetime.fromisoformat(str(entry["at"])).timestamp()


def test_a_retry_after_to_the_sync_holds_back_live_and_dispatches(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--dry-run")  # the account is stored; no sync has run: serve's scheduler syncs at once
        sim.reset_log()
        spec = f"429:1:times=1:route=consumption:retry_after={HOLD}"
        httpx.post(f"{sim.url}/_sim/faults", content=spec, timeout=10).raise_for_status()
        # One download at a time: none of the sync's is already on the wire when the 429 comes back.
        settings = replace(cli.settings(), sync=SyncOptions(concurrency=1))
        app = create_app(settings, clock=cli.clock(), schedule_every=0.2)
        with serve_in_thread(app, graceful_seconds=1) as base:
            deadline = time.monotonic() + 60
            limited: dict[str, object] | None = None
            while limited is None and time.monotonic() < deadline:
                time.sleep(0.05)
                limited = next((e for e in sim.requests_log()["requests"] if e.get("fault")), None)
            assert limited is not None, "the sync was never answered 429"
            asked = time.time()
            refreshed: list[httpx.Response] = []
            refresh = threading.Thread(
                target=lambda: refreshed.append(httpx.post(f"{base}/api/dispatches/refresh", timeout=120))
            )
            refresh.start()
            httpx.get(f"{base}/api/live/current", timeout=30)  # wakes the live poller
            refresh.join(120)
            deadline = time.monotonic() + 60  # live's next poll is on its grid of readings, after the hold
            while time.monotonic() < deadline and not any(
                "smartMeterTelemetry" in e.get("fields", []) for e in sim.requests_log()["requests"]
            ):
                httpx.get(f"{base}/api/live/current", timeout=30)  # a viewer still there
                time.sleep(0.5)
            log = sim.requests_log()["requests"]
    at = real(limited)
    during = [e for e in log if at < real(e) < at + HOLD - 0.5]
    after = [e for e in log if real(e) >= at + HOLD - 0.5]
    assert asked < at + HOLD - 3, "the live poll and the refresh were asked during the hold"
    assert during == [], [(round(real(e) - at, 3), e["path"], e.get("fields")) for e in during]
    assert refreshed, "the refresh did not answer"
    assert refreshed[0].status_code == 200, refreshed[0].text
    assert any("flexPlannedDispatches" in e.get("fields", []) for e in after), "the refresh resumed after"
    assert any("smartMeterTelemetry" in e.get("fields", []) for e in after), "live resumed after"
    assert any("consumption" in str(e.get("path")) for e in after), "the sync resumed after"
