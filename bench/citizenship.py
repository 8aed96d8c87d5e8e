"""Benchmark how politely ``octoscope serve`` treats the API over a simulated day; prints one JSON line.

Two days, each on a scenario served by the simulator in this process on a clock the bench steps, and
``octoscope serve``'s app (``create_app`` with its scheduler looking every minute and the live poller) in this
process too, on a ``ManualClock`` stepped with it: 10 s a step while a viewer watches, 60 s otherwise. Each
app starts on an empty database the day before at 09:00 (its first sync, the account, prices) and is
measured from midnight to midnight (UK time, GMT in November):

- ``demo``: the demo household on Intelligent Octopus, its car made to plug in every evening (the scenario's
  arrival, 18:00 less 45 min to plus 90 min, until ready at 07:00; ``charging`` lists the day's charging from
  the simulator's truth), a live viewer on the event stream from 17:00 to 21:00;
- ``agile``: Agile import and export, a car on a timer that is not on an Intelligent tariff, the same viewer.

Figures, from the simulator's request log: GraphQL calls per day by what they ask (``dispatches``: one
query for a device's state, planned and completed dispatches) and in the busiest rolling
hour (with that hour's live polls), live polls in each watched hour, REST requests per day by route, and
requests that brought nothing (the requests of syncs that stored no new half-hour, and dispatch queries
that stored no new or changed dispatch, though each still reads the car's state; from the scheduler's run
messages). Targets: the busiest rolling hour at most 60 GraphQL
calls with at least 40 live polls in every watched hour; on the demo at most 120 GraphQL calls a day besides
the watched live view's polls, and at most 15 REST requests; no dispatch query for a device not on an
Intelligent tariff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from machine import machine
from octoscope.clock import ManualClock
from octoscope.config import Settings
from octoscope.domain.secret import Secret
from octoscope.simulator import create_app as create_simulator
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "src" / "octoscope" / "simulator" / "scenarios"
DAY = datetime(2026, 11, 20, tzinfo=UTC)  # a Friday in GMT: UK midnight is UTC midnight
WARM_FROM = DAY - timedelta(hours=15)  # the day before, 09:00
WATCH = (DAY + timedelta(hours=17), DAY + timedelta(hours=21))
HOUR = 3600.0
CASES = {
    "demo": ("sk_live_octoscope_demo", "A-DE30DE30"),
    "agile": ("sk_live_octoscope_agile_test", "A-0000A61E"),
}


def scenario_file(name: str, folder: Path) -> Path:
    text = (SCENARIOS / f"{name}.toml").read_text()
    if name == "demo":  # the car plugs in every evening
        text = re.sub(r"plug_in_probability = [0-9.]+", "plug_in_probability = 1.0", text)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Day:
    """One scenario's app and simulator, stepped together."""

    def __init__(self, app: Any, sim: str, clock: ManualClock) -> None:
        self.app = app
        self.sim = sim
        self.clock = clock
        self.http = httpx.AsyncClient(timeout=60)
        self.runs: dict[tuple[str, str], str] = {}  # (job, started) -> message, once finished

    def quiet(self) -> bool:
        """Whether the scheduler is between runs and the poller (if polling) waits for a later instant."""
        scheduler = getattr(self.app.state, "scheduler", None)
        if scheduler is not None and any(r.ok is None for r in scheduler.runs.values()):
            return False
        live = getattr(self.app.state, "live", None)
        for feed in live.feeds.values() if live is not None else ():
            due = feed.status.next_poll_at
            if feed.running and feed.active(self.clock()) and (due is None or due <= self.clock()):
                return False
        return True

    async def step(self, seconds: float) -> None:
        to = self.clock() + seconds
        answer = await self.http.post(
            f"{self.sim}/_sim/clock", json={"now": datetime.fromtimestamp(to, UTC).isoformat(), "speed": 0}
        )
        answer.raise_for_status()
        self.clock.set(to)
        await asyncio.sleep(0.003)
        deadline = time.monotonic() + 120
        while not self.quiet():
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not settle at {datetime.fromtimestamp(to, UTC)}")
            await asyncio.sleep(0.003)
        scheduler = self.app.state.scheduler
        for job, run in scheduler.runs.items():
            if run.ok is not None:
                self.runs[(job, run.started.isoformat())] = run.message


async def watch(base: str, stop: asyncio.Event) -> int:
    """A viewer on the event stream until ``stop``; the readings it got."""
    readings = 0
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client,
        client.stream("GET", f"{base}/api/live/stream") as response,
    ):
        lines = response.aiter_lines()
        while not stop.is_set():
            reading = asyncio.ensure_future(anext(lines))
            waiter = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({reading, waiter}, return_when=asyncio.FIRST_COMPLETED)
            for task in (reading, waiter):
                if task not in done:
                    task.cancel()
            if reading in done and reading.result().startswith("event: reading"):
                readings += 1
    return readings


async def run_day(day: Day, base: str) -> dict[str, Any]:
    end = (DAY + timedelta(days=1)).timestamp()
    watch_from, watch_to = WATCH[0].timestamp(), WATCH[1].timestamp()
    stop = asyncio.Event()
    viewer: asyncio.Task[int] | None = None
    await day.step(0)
    while day.clock() < end:
        now = day.clock()
        if now >= DAY.timestamp() and now - 60 < DAY.timestamp():
            (await day.http.delete(f"{day.sim}/_sim/requests")).raise_for_status()
            day.runs.clear()
        if viewer is None and now >= watch_from:
            viewer = asyncio.create_task(watch(base, stop))
            for _ in range(1000):  # until it is counted
                if any(f.viewers for f in day.app.state.live.feeds.values()):
                    break
                await asyncio.sleep(0.005)
        if viewer is not None and not stop.is_set() and now >= watch_to:
            stop.set()
            await viewer
        watching = viewer is not None and not stop.is_set()
        near = watch_from - 60 <= now < watch_to + 180
        await day.step(10 if watching or near else 60)
    log = (await day.http.get(f"{day.sim}/_sim/requests")).json()
    return {"log": log, "runs": dict(day.runs), "readings": await viewer if viewer is not None else 0}


MAIN_FIELDS = ("smartMeterTelemetry", "flexPlannedDispatches", "plannedDispatches", "obtainKrakenToken", "account")


def call_name(fields: list[str]) -> str:
    """One name per GraphQL call (a dispatch query asks for the devices, planned and completed dispatches)."""
    for name in MAIN_FIELDS:
        if name in fields:
            return "dispatches" if name.endswith("lannedDispatches") else name
    return "+".join(sorted(fields))


def figures(result: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    day0 = DAY.timestamp()
    requests = [r for r in result["log"]["requests"] if day0 <= at(r["sim_at"]) < day0 + 86400]
    graphql = [(at(r["sim_at"]), call_name(r["fields"])) for r in requests if r.get("fields")]
    rest = [r for r in requests if not r.get("fields")]
    times = sorted(t for t, _ in graphql)
    busiest, busiest_at = 0, None
    for t in times:
        n = sum(1 for u in times if t <= u < t + HOUR)
        if n > busiest:
            busiest, busiest_at = n, t
    assert busiest_at is not None or not times
    live = [t for t, f in graphql if f == "smartMeterTelemetry"]
    in_busiest = sum(1 for t in live if busiest_at is not None and busiest_at <= t < busiest_at + HOUR)
    watch_from = WATCH[0].timestamp()
    watched = [sum(1 for t in live if watch_from + h * HOUR <= t < watch_from + (h + 1) * HOUR) for h in range(4)]
    nothing = {"syncs": 0, "dispatch_queries": 0}
    for (job, _), message in result["runs"].items():
        found = re.match(r"(\d+) new half-hours; (\d+) REST, (\d+) GraphQL", message)
        if job in ("consumption", "prices") and found and found[1] == "0":
            nothing["syncs"] += int(found[2]) + int(found[3])
        if job == "dispatches" and message and all(m.endswith(": 0 new, 0 updated") for m in message.split("; ")):
            nothing["dispatch_queries"] += message.count(";") + 1
    sessions = [{"start": s["start"], "end": s["end"], "mode": s.get("mode")} for s in truth.get("ev_sessions", [])]
    by_field = Counter(f for _, f in graphql)
    return {
        "graphql_per_day": len(graphql),
        "graphql_by_field": dict(by_field.most_common()),
        "graphql_per_day_besides_live": len(graphql) - len(live),
        "busiest_hour_graphql": busiest,
        "busiest_hour_from": None if busiest_at is None else datetime.fromtimestamp(busiest_at, UTC).isoformat(),
        "busiest_hour_live_polls": in_busiest,
        "live_polls_per_watched_hour": watched,
        "rest_per_day": len(rest),
        "rest_by_route": dict(Counter(str(r.get("route")) for r in rest).most_common()),
        "requests_that_brought_nothing": nothing,
        "viewer_readings": result["readings"],
        "charging": sessions,
    }


def one(name: str, folder: Path) -> dict[str, Any]:
    key, account = CASES[name]
    sim_app = create_simulator(str(scenario_file(name, folder)), now=WARM_FROM.isoformat(), speed=0)
    with serve_in_thread(sim_app) as sim:
        clock = ManualClock(WARM_FROM.timestamp())
        db = folder / f"{name}.db"
        settings = Settings(
            api_key=Secret(key),
            account=account,
            api_url=f"{sim}/v1",
            graphql_url=f"{sim}/v1/graphql/",
            db=db,
            config_path=folder / "none.toml",
        )
        app = create_app(settings, clock=clock, schedule_every=60.0)
        with serve_in_thread(app, graceful_seconds=1) as base:

            async def go() -> dict[str, Any]:
                day = Day(app, sim, clock)
                try:
                    return await run_day(day, base)
                finally:
                    await day.http.aclose()

            result = asyncio.run(go())
        truth = httpx.get(
            f"{sim}/_sim/truth",
            params={"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()},
            timeout=60,
        ).json()
    return figures(result, truth)


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out: dict[str, Any] = {"bench": "citizenship", "day": DAY.date().isoformat()}
        for name in CASES:
            out[name] = one(name, Path(tmp))
    demo, agile = out["demo"], out["agile"]
    out["targets"] = {
        "busiest_hour_at_most_60": max(demo["busiest_hour_graphql"], agile["busiest_hour_graphql"]) <= 60,
        "live_at_least_40_every_watched_hour": min(demo["live_polls_per_watched_hour"]) >= 40
        and min(agile["live_polls_per_watched_hour"]) >= 40,
        "demo_graphql_besides_live_at_most_120": demo["graphql_per_day_besides_live"] <= 120,
        "demo_rest_at_most_15": demo["rest_per_day"] <= 15,
        "agile_no_dispatch_queries": agile["graphql_by_field"].get("dispatches", 0) == 0,
    }
    out["seconds"] = round(time.perf_counter() - began, 1)
    out["machine"] = machine()
    print(json.dumps(out))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
