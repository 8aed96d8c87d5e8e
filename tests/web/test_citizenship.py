"""Serve as a citizen of the API: with KT-CT-1199 answered to every GraphQL call for a simulated hour, every
caller of the key (the live poller, the scheduler's dispatch and account jobs) is silent but for a handful of
probes, further and further apart; the Live stream says so; live is back to its share soon after. The app and
the simulator run on clocks the test steps together, ten seconds a step, so the hour passes in seconds."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import httpx

from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_NOW, Cli, simulator
from tests.live.support import ManualClock, Session, Viewer, copy_synced, play, settings_for

START = datetime.fromisoformat(DEMO_NOW).timestamp()
FAULT_FROM = START + 300
FAULT_TO = FAULT_FROM + 3600


def graphql_calls(log: dict[str, object]) -> list[tuple[float, list[str], bool]]:
    """(simulated instant, root fields, whether the fault answered it) of every GraphQL call."""
    requests = log["requests"]
    assert isinstance(requests, list)
    return [
        (datetime.fromisoformat(e["sim_at"]).timestamp(), list(e.get("fields", [])), bool(e.get("fault")))
        for e in requests
        if e.get("route", "").startswith("graphql") or e.get("fields")
    ]


def test_an_hour_of_kt_ct_1199_is_met_with_silence_and_live_returns_to_its_share(
    synced_demo: Cli, tmp_path: Path
) -> None:
    viewer = Viewer()
    told: list[dict[str, object]] = []
    db = copy_synced(synced_demo.db, tmp_path / "citizen.db")

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(FAULT_FROM - START)
        fault = "kt-ct-1199:1:route=graphql"
        (await s.http.post(f"{s.sim.url}/_sim/faults", content=fault)).raise_for_status()
        await s.advance(1800)
        told.append(await s.status())
        await s.advance(1800)
        (await s.http.post(f"{s.sim.url}/_sim/faults", content="")).raise_for_status()
        await s.advance(1800)

    with simulator() as sim:
        clock = ManualClock(START)
        # The sync's reading of the account is an hour old: the dispatch job is due during the fault too.
        httpx.post(f"{sim.url}/_sim/clock", json={"now": DEMO_NOW, "speed": 0}, timeout=10).raise_for_status()
        app = create_app(settings_for(sim, db, graphql_per_hour=60), clock=clock, schedule_every=60.0)
        with serve_in_thread(app, graceful_seconds=1) as base:
            play(sim, base, clock, scenario)
        calls = graphql_calls(sim.requests_log())

    during = [(t, fields) for t, fields, _ in calls if FAULT_FROM <= t < FAULT_TO]
    # A handful of calls in the hour, from every caller together (they are held, not each backing off alone).
    assert 3 <= len(during) <= 8, during
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(during)]
    # Growing to the 15-minute cap (on a 10-second grid, with the poller's own jitter of 10% on top).
    assert all(b >= min(a, 900) - 20 for a, b in itertools.pairwise(gaps)), gaps
    assert gaps[-1] >= 480
    assert any("flexPlannedDispatches" in f for _, f in during) or any(
        "flexPlannedDispatches" in f for t, f, _ in calls if t >= FAULT_TO
    )  # the dispatch job was held back, not skipped
    # The stream said so, while connected.
    status = told[0]
    assert status["state"] == "rate_limited"
    assert "too many requests" in str(status["message"]).lower()
    assert "rate_limited" in viewer.states
    assert viewer.states[-1] == "ok"
    # Back to live's share (40 an hour: one poll every 90 s) within minutes of recovery.
    polls = [t for t, fields, faulted in calls if "smartMeterTelemetry" in fields and not faulted and t >= FAULT_TO]
    assert polls
    assert polls[0] - FAULT_TO <= 900
    first = polls[0]
    in_ten = [t for t in polls if first <= t < first + 600]
    assert len(in_ten) >= 6, in_ten
