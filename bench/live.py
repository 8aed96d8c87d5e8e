"""Benchmark the live fan-out: 100 SSE clients on one `octoscope serve`; prints one JSON line.

The simulator (the demo scenario, its clock the real one) and the server each run in their own process;
the 100 clients are one asyncio process reading `/api/live/stream` over real sockets. The server polls once
per 10-second reading (`[live] calls_per_hour = 360`, a budget raised to allow it) for ``SECONDS``.

- ``latency_ms_p50`` / ``p95`` / ``max``: from the moment a poll's answer reached the server (its
  ``answered_unix`` in `/api/live/status`) to the moment each of its readings arrived at each client, over
  every (reading, client) pair. Both clocks are this machine's wall clock.
- ``server_rss_mb``: the server's resident memory with the 100 clients connected (VmRSS), and before any
  client connected (``server_rss_mb_idle``); ``server_peak_rss_mb`` is VmHWM.
- ``telemetry_calls``: upstream calls in the run, from the simulator's log: one per poll, however many
  clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from machine import machine
from octoscope.simulator.threaded import free_port
from serving import process

CLIENTS = 100
SECONDS = 75.0
KEY = "sk_live_octoscope_demo"
ACCOUNT = "A-DE30DE30"
CONFIG = """
[budget]
graphql_per_hour = 1000

[live]
calls_per_hour = 360
"""


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


async def client(base: str, arrivals: dict[int, float], stop: asyncio.Event, connected: list[int]) -> None:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as http,
        http.stream("GET", f"{base}/api/live/stream") as response,
    ):
        connected.append(1)
        event_id = None
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line == "" and event_id is not None:
                arrivals[event_id] = time.time()
                event_id = None
            if stop.is_set():
                return


async def watch(base: str, server_pid: int) -> tuple[list[dict[int, float]], float]:
    arrivals: list[dict[int, float]] = [{} for _ in range(CLIENTS)]
    stop = asyncio.Event()
    connected: list[int] = []
    tasks = [asyncio.create_task(client(base, a, stop, connected)) for a in arrivals]
    while len(connected) < CLIENTS:
        await asyncio.sleep(0.05)
    await asyncio.sleep(SECONDS)
    rss = rss_mb(server_pid)
    stop.set()
    await asyncio.sleep(12)  # one more reading wakes every client to see the stop
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return arrivals, rss


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="octoscope-bench-live-") as work:
        home = Path(work)
        (home / "config.toml").write_text(CONFIG)
        sim_port, web_port = free_port(), free_port()
        sim = f"http://127.0.0.1:{sim_port}"
        web = f"http://127.0.0.1:{web_port}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "OCTOSCOPE_API_KEY": KEY,
            "OCTOSCOPE_ACCOUNT": ACCOUNT,
            "OCTOSCOPE_API_URL": f"{sim}/v1",
            "OCTOSCOPE_GRAPHQL_URL": f"{sim}/v1/graphql/",
            "OCTOSCOPE_DB": str(home / "octoscope.db"),
            "OCTOSCOPE_CONFIG": str(home / "config.toml"),
        }
        now = datetime.now(UTC).isoformat(timespec="seconds")
        simulate = [sys.executable, "-m", "octoscope", "simulate", "--port", str(sim_port), "--now", now]
        serve = [sys.executable, "-m", "octoscope", "serve", "--port", str(web_port)]
        (home / "octoscope.db").touch()  # serve asks for a database; live needs no sync
        with (
            process(simulate, env, home / "simulator.log", f"{sim}/_sim/clock"),
            process(serve, env, home / "server.log", f"{web}/api/live/status") as server,
        ):
            idle_rss = rss_mb(server.pid)
            arrivals, rss = asyncio.run(watch(web, server.pid))
            peak = rss_mb(server.pid, "VmHWM")
            status: dict[str, Any] = httpx.get(f"{web}/api/live/status", timeout=10).json()
            calls = httpx.get(f"{sim}/_sim/requests", timeout=10).json()["counts"].get("graphql:smartMeterTelemetry", 0)
    latencies = []
    polls = [p for p in status["polls"] if p["outcome"] in ("ok", "stale")]
    previous: int | None = None
    measured_polls = 0
    for poll in polls:
        newest = poll["newest"]
        if previous is not None and newest is not None and poll["readings"]:
            ids = range(previous + 10, newest + 1, 10)
            pairs = [(got[i] - poll["answered_unix"]) * 1000 for got in arrivals for i in ids if i in got]
            if pairs:
                measured_polls += 1
                latencies += pairs
        previous = newest
    if not latencies:
        raise RuntimeError(f"no reading reached a client after the first poll: {json.dumps(status)[:2000]}")
    result = {
        "bench": "live",
        "clients": CLIENTS,
        "seconds": SECONDS,
        "polls_measured": measured_polls,
        "deliveries": len(latencies),
        "latency_ms_p50": round(statistics.median(latencies), 1),
        "latency_ms_p95": round(percentile(latencies, 0.95), 1),
        "latency_ms_max": round(max(latencies), 1),
        "server_rss_mb": round(rss, 1),
        "server_rss_mb_idle": round(idle_rss, 1),
        "server_peak_rss_mb": round(peak, 1),
        "telemetry_calls": calls,
        "dropped_clients": status["dropped_viewers"],
        **machine(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
