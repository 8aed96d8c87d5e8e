"""Benchmark cheapest windows on a year of half-hours and a tariff comparison; prints one JSON line.

- Windows: a year of Agile-like prices (2025-11-01 to 2026-11-01 local, 17,520 half-hours, both clock
  changes inside), one price per half-hour. For every length from 1 to 12 hours (2 to 24 half-hours):
  ``cheapest_blocks`` for the best block (``block_ms``), the best 3 that do not overlap (``top3_ms``), the
  best block under a load profile that changes each half-hour (``profile_ms``: O(n x m), the costly case),
  and ``cheapest_half_hours`` (``any_ms``); each the median of 5 runs after a warm-up. ``slots_year_ms``:
  turning a year of stored price records into half-hour slots.
- Comparison: the demo household (the simulator in this process, its clock frozen at 2026-11-21 09:00 UTC)
  synced, then compared once to fetch the catalogue and the rates; then timed with everything stored:
  ``compare_electricity_ms`` is ``compare_tariffs`` for electricity (8 tariffs and the current one over 12
  months, 0 requests: checked), ``compare_all_ms`` for every fuel (11 tariffs and 3 baselines),
  ``costing_only_ms`` the costing from the store without opening the clients or reading the catalogue.
  Medians of 5. Target: 8 tariffs over 12 months in 1 s or less.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from machine import machine
from octoscope.clock import frozen
from octoscope.config import Settings
from octoscope.domain.costs import PriceColumns
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import HALF_HOUR, local_midnight
from octoscope.domain.windows import Slot, cheapest_blocks, cheapest_half_hours, slots_from_columns
from octoscope.services.pricing import compare_tariffs, comparison_costs, prepare_comparison
from octoscope.services.pricing_results import Comparison
from octoscope.simulator import create_app
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.sync.run import run_sync
from octoscope.wiring import open_octopus

RUNS = 5
SEED = 909
FIRST, END = date(2025, 11, 1), date(2026, 11, 1)
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
KEY, ACCOUNT = "sk_live_octoscope_demo", "A-DE30DE30"
TARGET_MS = 1000.0


def timed(call: Callable[[], Any]) -> tuple[float, list[float]]:
    call()
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), runs


def year_of_prices() -> PriceColumns:
    rng = random.Random(SEED)
    start, stop = local_midnight(FIRST), local_midnight(END)
    starts: list[datetime] = []
    ends: list[datetime | None] = []
    exc: list[float] = []
    inc: list[float] = []
    t = start
    while t < stop:
        hour = (t.hour + t.minute / 60) % 24
        price = round(14 + (16 if 16 <= hour < 19 else 0) - (6 if 1 <= hour < 5 else 0) + rng.gauss(0, 4), 2)
        starts.append(t)
        ends.append(t + HALF_HOUR)
        exc.append(price)
        inc.append(round(price * 1.05, 4))
        t += HALF_HOUR
    return PriceColumns(starts, ends, exc, inc)


def windows_figures() -> dict[str, Any]:
    columns = year_of_prices()
    start, stop = local_midnight(FIRST), local_midnight(END)
    slots_ms, _ = timed(lambda: slots_from_columns(columns, start, stop))
    slots: list[Slot] = slots_from_columns(columns, start, stop)
    per_hours: dict[str, dict[str, float]] = {}
    for hours in range(1, 13):
        n = 2 * hours
        profile = [7.0 if i % 3 else 3.5 for i in range(n)]
        per_hours[str(hours)] = {
            "block_ms": round(timed(partial(cheapest_blocks, slots, n))[0], 1),
            "top3_ms": round(timed(partial(cheapest_blocks, slots, n, top=3))[0], 1),
            "profile_ms": round(timed(partial(cheapest_blocks, slots, n, load_kw=profile))[0], 1),
            "any_ms": round(timed(partial(cheapest_half_hours, slots, n))[0], 1),
        }
    return {
        "half_hours": len(slots),
        "slots_year_ms": round(slots_ms, 1),
        "windows_by_hours": per_hours,
        "block_ms_max": max(v["block_ms"] for v in per_hours.values()),
        "profile_ms_max": max(v["profile_ms"] for v in per_hours.values()),
    }


def comparison_figures(tmp: Path) -> dict[str, Any]:
    app = create_app("demo", now=NOW.isoformat(), speed=0.0)
    with serve_in_thread(app) as base, Store.open(tmp / "bench.db") as store:
        settings = Settings(
            api_key=Secret(KEY),
            account=ACCOUNT,
            api_url=f"{base}/v1",
            graphql_url=f"{base}/v1/graphql/",
            db=tmp / "bench.db",
        )

        async def sync() -> None:
            async with open_octopus(settings, store, frozen(NOW)) as octopus:
                await run_sync(octopus.clients, store, ACCOUNT, start=None, end=NOW + timedelta(hours=15), now=NOW)

        started = time.perf_counter()
        asyncio.run(sync())
        sync_s = time.perf_counter() - started

        def compare(fuel: str | None) -> dict[str, Any]:
            async def once() -> Comparison:
                async with open_octopus(settings, store, frozen(NOW)) as octopus:
                    return await compare_tariffs(settings, store, frozen(NOW), octopus, months=12, fuel=fuel)

            return asyncio.run(once()).to_json()

        started = time.perf_counter()
        first = compare(None)
        first_s = time.perf_counter() - started
        electricity = compare("electricity")
        if electricity["requests"]["rest"] or len(electricity["tariffs"]) != 8:
            raise RuntimeError(f"expected 8 tariffs and no requests: {electricity['requests']}")
        electricity_ms, electricity_runs = timed(lambda: compare("electricity"))
        all_ms, _ = timed(lambda: compare(None))

        async def prepare() -> Any:
            async with open_octopus(settings, store, frozen(NOW)) as octopus:
                return await prepare_comparison(settings, store, frozen(NOW), octopus, months=12, fuel="electricity")

        prepared = asyncio.run(prepare())
        if prepared.requests["rest"]:
            raise RuntimeError("preparing a stored comparison asked Octopus")
        costing_ms, _ = timed(lambda: comparison_costs(store, settings, prepared.plan, prepared.names))
    rows = {r["tariff"]: r["total_pence"] for r in electricity["tariffs"]}
    return {
        "sync_s": round(sync_s, 2),
        "first_compare_s": round(first_s, 2),
        "first_compare_requests": first["requests"],
        "compare_electricity_ms": round(electricity_ms, 1),
        "compare_electricity_runs": [round(ms, 1) for ms in electricity_runs],
        "compare_all_ms": round(all_ms, 1),
        "costing_only_ms": round(costing_ms, 1),
        "tariffs_compared": len(rows),
        "period": [electricity["from"], electricity["to"]],
        "cheapest_electricity": min(rows, key=rows.__getitem__),
        "within_target": electricity_ms <= TARGET_MS and not math.isnan(electricity_ms),
    }


def main() -> None:
    load_before = os.getloadavg()[0]
    result: dict[str, Any] = {"bench": "prices", "runs": RUNS}
    result.update(windows_figures())
    with tempfile.TemporaryDirectory(prefix="octoscope-bench-prices-") as tmp:
        result.update(comparison_figures(Path(tmp)))
    result["target_ms"] = TARGET_MS
    result.update(machine())
    result["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
