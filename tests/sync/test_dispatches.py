"""Dispatch history against the simulator: an evening and night with the car plugged in, walked minute by
minute on a simulated clock. The calls keep to the limits and the history ends complete, although Octopus
answers completed dispatches for the last 12 hours only."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from octoscope.clock import ManualClock
from octoscope.domain.models import SmartDevice
from octoscope.domain.secret import Secret
from octoscope.octopus.graphql import GraphQLClient
from octoscope.octopus.http import new_http_client
from octoscope.octopus.policy import RequestPolicy, key_fingerprint
from octoscope.octopus.rest import RestClient
from octoscope.store.sqlite import Store
from octoscope.sync.discovery import discover
from octoscope.sync.dispatches import (
    FINAL_AFTER,
    IDLE_EVERY,
    MIN_GAP,
    PER_HOUR,
    PLUGGED_IN_EVERY,
    QUICK_EVERY,
    RefreshTooSoon,
    _next_for,
    _observe,
    due,
    next_allowed,
    plan_next,
    refresh,
)
from octoscope.sync.session import Clients
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, Cli, SimServer, make_cli, simulator

START = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # before a boost at 18:37 and a smart charge from 23:30
END = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def set_clock(sim: SimServer, at: datetime) -> None:
    httpx.post(f"{sim.url}/_sim/clock", json={"now": at.isoformat()}, timeout=10).raise_for_status()


async def walk(sim: SimServer, store: Store) -> int:
    clock = ManualClock(START.timestamp())
    policy = RequestPolicy(
        key_fingerprint(DEMO_KEY), store, {"rest": 1000, "graphql": 1000}, clock=clock, sleep=clock.sleep
    )
    async with new_http_client(30) as http:
        graphql = GraphQLClient(http, f"{sim.url}/v1/graphql/", Secret(DEMO_KEY), policy, store, clock=clock)
        clients = Clients(RestClient(http, f"{sim.url}/v1", Secret(DEMO_KEY), policy), graphql, policy)
        set_clock(sim, START)
        await discover(clients, store, DEMO_ACCOUNT, START)
        refreshes = 0
        at = START
        while at < END:
            clock.set(at.timestamp())
            if due(store, policy.key_id, DEMO_ACCOUNT, clock()):
                set_clock(sim, at)
                await refresh(clients, store, DEMO_ACCOUNT, clock())
                refreshes += 1
            at += timedelta(minutes=1)
        return refreshes


@pytest.fixture
def walked(tmp_path: Path) -> tuple[SimServer, Store, int]:
    with simulator() as sim, Store.open(tmp_path / "db.sqlite") as store:
        count = asyncio.run(walk(sim, store))
        yield sim, store, count


def test_dispatch_calls_keep_to_the_limits_and_the_history_is_complete(walked: tuple[SimServer, Store, int]) -> None:
    sim, store, count = walked
    calls = sorted(
        datetime.fromisoformat(str(e["sim_at"])).timestamp()
        for e in sim.requests_log()["requests"]
        if "flexPlannedDispatches" in e.get("fields", [])
    )
    assert len(calls) == count
    assert all(b - a >= MIN_GAP for a, b in itertools.pairwise(calls))
    assert max(sum(1 for t in calls if a <= t < a + 3600) for a in calls) <= PER_HOUR
    # Often while plugged in (the boost at 18:37, the night from 23:30), rarely when not.
    assert count > 3 * 10

    truth = httpx.get(
        f"{sim.url}/_sim/truth", params={"from": START.isoformat(), "to": END.isoformat()}, timeout=30
    ).json()["dispatches"]
    assert {d["type"] for d in truth} == {"BOOST", "SMART"}
    kept = store.dispatches(START, END)
    completed = {r.start for r in kept if r.kind == "completed"}
    for d in truth:
        start, end = datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"])
        block = start.replace(minute=0 if start.minute < 30 else 30, second=0, microsecond=0)
        while block < end:
            assert block in completed, f"the completed half-hour from {block} was lost"
            block += timedelta(minutes=30)
    planned = {r.charge_type for r in kept if r.kind == "planned"}
    assert planned == {"BOOST", "SMART"}


def test_a_refresh_too_soon_says_when_the_next_is_allowed(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        key_id = key_fingerprint(DEMO_KEY)
        now = START.timestamp()
        store.record_request(key_id, "dispatches", now - 30)
        assert next_allowed(store, key_id, now) == now + 30
        for i in range(PER_HOUR):
            store.record_request(key_id, "dispatches", now - 3000 + i * 100)
        assert (
            next_allowed(store, key_id, now) == now - 3000 + 100 * 0 + 3600 + 0
            or next_allowed(store, key_id, now) >= now - 3000 + 3600
        )
        error = RefreshTooSoon(now + 30)
        assert "next refresh is allowed at 17:00:30 UTC" in str(error)


def test_the_cli_refreshes_within_the_limits_and_lists_what_it_kept(synced_demo_copy: Cli) -> None:
    cli = synced_demo_copy
    first = cli.run("dispatches", "--refresh", "--json", "--days", "3")
    assert first.returncode == 0, first.stderr
    listed = json.loads(first.stdout)
    assert set(listed["devices"]) == {"00000000-0000-4000-8000-00000000d301"}
    assert {d["kind"] for d in listed["dispatches"]} >= {"completed"}
    assert all(d["kwh"] is None or d["kwh"] >= 0 for d in listed["dispatches"])
    again = cli.run("dispatches", "--refresh")
    assert again.returncode == 1
    (line,) = again.stderr.strip().splitlines()
    assert line.startswith("Error: dispatches were refreshed too recently: the next refresh is allowed at")
    table = cli.ok("dispatches", "--days", "3")
    assert "Device 00000000-0000-4000-8000-00000000d301:" in table
    assert "completed" in table


@pytest.fixture
def synced_demo_copy(tmp_path: Path) -> Iterator[Cli]:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        yield cli


def test_the_pace_follows_the_car_state_and_plan(walked: tuple[SimServer, Store, int]) -> None:
    sim, _, _ = walked
    calls = sorted(
        datetime.fromisoformat(str(e["sim_at"])).timestamp()
        for e in sim.requests_log()["requests"]
        if "flexPlannedDispatches" in e.get("fields", [])
    )
    truth = httpx.get(
        f"{sim.url}/_sim/truth", params={"from": START.isoformat(), "to": END.isoformat()}, timeout=30
    ).json()["ev_sessions"]
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    # Unplugged at first: hourly; once plugged in (with a boost planned at once), every ten minutes, and 30 s
    # after each planned dispatch's start and end (the boost's end at 19:20:40, the smart charge's start at
    # 23:30), on the minute the walk looks.
    assert gaps[0] == 3600
    plugged = min(datetime.fromisoformat(s["start"]).timestamp() for s in truth)
    while_plugged = [b - a for a, b in itertools.pairwise(calls) if a >= plugged]
    assert while_plugged
    assert max(while_plugged) <= 600
    at = {datetime.fromtimestamp(t, UTC).strftime("%H:%M") for t in calls}
    assert {"19:22", "23:31"} <= at


def test_no_dispatch_query_for_a_car_not_on_an_intelligent_tariff(tmp_path: Path) -> None:
    with simulator("agile") as sim:
        cli = make_cli(sim, tmp_path, key="sk_live_octoscope_agile_test", account="A-0000A61E")
        cli.ok("sync", "--to", "2026-11-22")
        with Store.open(cli.db) as store:
            account = store.load_account("A-0000A61E")
            assert account is not None
            assert any(d.device_type == "ELECTRIC_VEHICLES" for d in account.devices)  # a car, on Agile
            key_id = key_fingerprint("sk_live_octoscope_agile_test")
            at, why = plan_next(store, key_id, "A-0000A61E", START.timestamp())
    assert at is None
    assert why == "no device on an Intelligent Octopus tariff"


def test_quick_checks_after_a_plug_in_until_a_plan_then_every_ten_minutes_then_one_read_after_unplugging(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        device = SmartDevice("ev-1", "ELECTRIC_VEHICLES", "OHME", None, "SMART_CONTROL_NOT_AVAILABLE")
        t = START.timestamp()
        assert _next_for(store, device, t, t) == (t + IDLE_EVERY, "not plugged in")
        gaps = []
        for _ in range(4):  # plugged in, and Octopus has planned nothing yet
            _observe(store, device.id, "SMART_CONTROL_CAPABLE", False, t)
            at, _ = _next_for(store, device, t, t)
            gaps.append(at - t)
            t = at
        assert gaps == [QUICK_EVERY, QUICK_EVERY, PLUGGED_IN_EVERY, PLUGGED_IN_EVERY]
        _observe(store, device.id, "SMART_CONTROL_NOT_AVAILABLE", False, t)  # unplugged
        assert _next_for(store, device, t, t) == (t + FINAL_AFTER, "just unplugged: one last read")
        _observe(store, device.id, "SMART_CONTROL_NOT_AVAILABLE", False, t + FINAL_AFTER)
        later = t + FINAL_AFTER
        assert _next_for(store, device, later, later) == (later + IDLE_EVERY, "not plugged in")
