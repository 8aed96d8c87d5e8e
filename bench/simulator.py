"""Benchmark the simulator over a real socket; prints one JSON line.

Measures a 25,000-row consumption page cold (the first request, which computes the household's history)
and warm (median of 5), and small-page (page_size=100) requests per second, sequentially and with 8
concurrent clients.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

import httpx

from machine import machine
from octoscope.simulator import create_app
from octoscope.simulator.threaded import serve_in_thread

DEMO_NOW = "2026-11-21T09:00:00Z"
DEMO_KEY = "sk_live_octoscope_demo"
CONSUMPTION = "/v1/electricity-meter-points/1900000000101/meters/21L0000101/consumption/"
BIG_PAGE = {"page_size": 25000, "period_from": "2024-11-21T00:00:00Z", "period_to": "2026-11-21T00:00:00Z"}
SMALL_PAGE = {"page_size": 100, "period_from": "2026-11-01T00:00:00Z", "period_to": "2026-11-21T00:00:00Z"}
RUN_SECONDS = 3.0
CONCURRENCY = 8


def timed_big_page(client: httpx.Client) -> float:
    started = time.perf_counter()
    response = client.get(CONSUMPTION, params=BIG_PAGE)
    rows = len(response.json()["results"])
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or rows != 25000:
        raise RuntimeError(f"expected 25,000 rows, got HTTP {response.status_code} with {rows}")
    return elapsed


def sequential_rps(client: httpx.Client) -> float:
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < RUN_SECONDS:
        response = client.get(CONSUMPTION, params=SMALL_PAGE)
        response.raise_for_status()
        count += 1
    return count / (time.perf_counter() - started)


async def concurrent_rps(url: str) -> float:
    stop = time.perf_counter() + RUN_SECONDS
    limits = httpx.Limits(max_connections=CONCURRENCY)

    async def worker(client: httpx.AsyncClient) -> int:
        done = 0
        while time.perf_counter() < stop:
            response = await client.get(CONSUMPTION, params=SMALL_PAGE)
            response.raise_for_status()
            done += 1
        return done

    clients = [
        httpx.AsyncClient(base_url=url, auth=(DEMO_KEY, ""), timeout=30, limits=limits) for _ in range(CONCURRENCY)
    ]
    try:
        started = time.perf_counter()
        counts = await asyncio.gather(*(worker(c) for c in clients))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return sum(counts) / elapsed


def main() -> None:
    app = create_app("demo", now=DEMO_NOW, speed=0.0)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, auth=(DEMO_KEY, ""), timeout=60) as client:
        cold = timed_big_page(client)
        warm = statistics.median(timed_big_page(client) for _ in range(5))
        sequential = sequential_rps(client)
        concurrent = asyncio.run(concurrent_rps(url))
    result = {
        "bench": "simulator",
        "page_25000_cold_s": round(cold, 4),
        "page_25000_warm_s": round(warm, 4),
        "small_page_rps_sequential": round(sequential, 1),
        "small_page_rps_concurrent8": round(concurrent, 1),
        **machine(),
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
