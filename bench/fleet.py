"""Benchmark a first sync of a fleet: N simulated accounts, 12 months each, into one store; prints one JSON line.

The simulator runs in its own process with ``--scenario fleet --fleet N`` (simulator/fleet.py: every tariff
kind, gas, export, EVs, meter exchanges, moves). This process syncs every account with its own key and its
own Octopus facade, ``--workers`` accounts at a time on one event loop, into ``--db`` (a postgresql:// URL,
each account through a store bound to it); without ``--db``, into a throwaway PostgreSQL cluster started as
the tests start one (tests/servers.py), or, where this build has none, a directory of SQLite files, one per
account (the ``store`` field says which).

- ``accounts_per_minute`` and ``rows_per_second``: accounts and rows written (half-hours, unit rates and
  standing charges) per second of the fleet's wall time.
- ``requests_per_account``: REST and GraphQL requests over all accounts / N; ``single_account_minimum``: the
  first ``--alone`` accounts synced one by one into fresh stores beforehand, and whether the fleet made the
  same requests for each (``equals_single_account_minimum``). Where prices are shared between accounts
  (PostgreSQL), an account may need fewer than alone (a tariff another already fetched), never more.
- ``bytes_per_account_year``: the store's growth on disk (PostgreSQL: pg_database_size before and after;
  SQLite: the files' sizes) / (N x 1 year).
- ``peak_rss_mb_at_tenth`` and ``peak_rss_mb_at_all``: this process's VmHWM after N/10 accounts and after
  N; equal when memory is flat in N. The simulator's too (``simulator_peak_rss_mb_*``).
- ``cost_month_seconds``: costing one month (services.costing.account_costs) for every account.

Develop with ``--accounts 20``; the default is 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from machine import machine
from octoscope.clock import SetClock, parse_instant
from octoscope.config import Settings
from octoscope.domain.secret import Secret
from octoscope.services.costing import account_costs
from octoscope.simulator.fleet import fleet_keys
from octoscope.simulator.threaded import free_port
from octoscope.store import open_store
from octoscope.sync import resolve_window, run_sync
from octoscope.wiring import open_octopus
from serving import process

SIM_NOW = "2026-11-21T09:00:00Z"
SYNC_FROM, SYNC_TO = "2025-11-21", "2026-11-21"  # 12 months, the same whatever day the bench runs
COST_MONTH = (date(2026, 10, 1), date(2026, 11, 1))  # with the 50-half-hour day, 25 October
SEED = 7


def peak_rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:"))) / 1024


@contextlib.contextmanager
def simulator(accounts: int, seed: int, logs: Path) -> Iterator[tuple[str, int, float]]:
    """`octoscope simulate` with the fleet, in its own process: (base URL, pid, seconds until it answered)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "octoscope", "simulate", "--scenario", "fleet", "--fleet", str(accounts)]
    command += ["--seed", str(seed), "--port", str(port), "--now", SIM_NOW, "--speed", "0"]
    started = time.perf_counter()
    with process(command, None, logs / "simulator.log", f"{base}/_sim/clock") as child:
        ready = time.perf_counter() - started
        yield base, child.pid, ready


class Stores:
    """Where the fleet goes: a PostgreSQL URL (a store per account, bound to it) or a folder of SQLite files."""

    def __init__(self, url: str | None, folder: Path) -> None:
        self.url = url
        self.folder = folder

    def open(self, number: str) -> Any:
        clock = SetClock(parse_instant(SIM_NOW), 1.0)
        if self.url is not None:
            return open_store(self.url, clock, account=number)  # type: ignore[call-arg]
        return open_store(self.folder / f"{number}.db", clock)

    def size(self) -> int | None:
        if self.url is None:
            return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        try:
            import psycopg
        except ImportError:
            return None
        with psycopg.connect(self.url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else None


def settings_for(base: str, number: str, key: str, home: Path) -> Settings:
    return Settings(
        api_key=Secret(key),
        account=number,
        api_url=f"{base}/v1",
        graphql_url=f"{base}/v1/graphql/",
        db=home / "unused.db",
        config_path=home / "none.toml",
    )


async def sync_one(base: str, number: str, key: str, stores: Stores, home: Path) -> dict[str, Any]:
    """A first sync of one account's 12 months, as `octoscope sync --past-properties` does it."""
    settings = settings_for(base, number, key, home)
    clock = SetClock(parse_instant(SIM_NOW), 1.0)
    now = clock.now()
    start, end = resolve_window(SYNC_FROM, SYNC_TO, now)
    with stores.open(number) as store:
        async with open_octopus(settings, store, clock) as octopus:
            result = await run_sync(
                octopus.clients,
                store,
                number,
                start=start,
                end=end,
                now=now,
                past_properties=True,
                reread_days=settings.sync.reread_days,
                concurrency=settings.sync.concurrency,
            )
            summary = result.summary(store)
    requests = summary.requests
    rows = summary.rows_new + sum(c.new for c in summary.charges.values())
    if summary.retries:
        raise RuntimeError(f"{number}: {summary.retries} requests retried; the figures would be skewed")
    return {"requests": requests.get("rest", 0) + requests.get("graphql", 0), "rows": rows}


async def sync_fleet(
    base: str, keys: list[tuple[str, str]], stores: Stores, home: Path, workers: int, sim_pid: int
) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for pair in keys:
        queue.put_nowait(pair)
    results: dict[str, dict[str, Any]] = {}
    tenth = max(1, len(keys) // 10)
    marks: dict[str, float] = {}

    async def worker() -> None:
        while True:
            try:
                number, key = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            results[number] = await sync_one(base, number, key, stores, home)
            if len(results) == tenth and "tenth" not in marks:
                marks["tenth"] = peak_rss_mb()
                marks["sim_tenth"] = peak_rss_mb(sim_pid)
            if len(results) % max(1, len(keys) // 20) == 0:
                sys.stderr.write(f"fleet: {len(results)}/{len(keys)} accounts synced\n")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    wall = time.perf_counter() - started
    return {"results": results, "wall": wall, **marks}


def cost_all(keys: list[tuple[str, str]], stores: Stores) -> float:
    started = time.perf_counter()
    for number, _ in keys:
        with stores.open(number) as store:
            account = store.load_account(number)
            if account is None:
                raise RuntimeError(f"{number} was not stored")
            report = account_costs(store, account, *COST_MONTH, by="month")
            electricity = report.fuel("electricity")
            if electricity is None or not electricity.totals.kwh:
                raise RuntimeError(f"{number} used no electricity in {COST_MONTH[0]:%Y-%m}")
    return time.perf_counter() - started


@contextlib.contextmanager
def store_location(url: str | None, folder: Path) -> Iterator[tuple[str | None, str]]:
    """(PostgreSQL URL or None for SQLite files, what the JSON says the store was)."""
    if url is not None:
        yield url, "postgresql (given)"
        return
    sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the repository, for tests.servers
    try:
        from tests.servers import postgres
    except ImportError:
        yield None, "sqlite files, one per account (this build has no tests.servers.postgres to start a cluster)"
        return
    with postgres() as server:
        yield server.create_database("fleet"), "postgresql 15 (a throwaway cluster, tests/servers.py)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--db", help="a postgresql:// URL (default: a throwaway cluster, else SQLite files)")
    parser.add_argument("--workers", type=int, default=4, help="accounts synced at once")
    parser.add_argument("--alone", type=int, default=5, help="accounts first synced one by one, for the minimum")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="octoscope-bench-fleet-"))
    try:
        keys = list(fleet_keys(args.accounts, args.seed))
        with simulator(args.accounts, args.seed, home) as (base, sim_pid, sim_ready):
            sim_rss_start = peak_rss_mb(sim_pid)
            alone: dict[str, int] = {}
            for number, key in keys[: args.alone]:  # each into a fresh store of its own
                folder = home / "alone" / number
                folder.mkdir(parents=True)
                alone[number] = asyncio.run(sync_one(base, number, key, Stores(None, folder), home))["requests"]
            httpx.delete(f"{base}/_sim/requests", timeout=30)
            folder = home / "fleet"
            folder.mkdir()
            with store_location(args.db, folder) as (url, store_kind):
                stores = Stores(url, folder)
                size_before = stores.size()
                fleet = asyncio.run(sync_fleet(base, keys, stores, home, args.workers, sim_pid))
                rss_all, sim_rss_all = peak_rss_mb(), peak_rss_mb(sim_pid)
                size_after = stores.size()
                cost_seconds = cost_all(keys, stores)
            logged = httpx.get(f"{base}/_sim/requests", timeout=60).json()["requests"]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    results = fleet["results"]
    n = len(keys)
    requests = [r["requests"] for r in results.values()]
    rows = sum(r["rows"] for r in results.values())
    if sum(requests) != len([e for e in logged if e["path"].startswith("/v1/")]):
        raise RuntimeError("the accounts' own request counts do not add up to the simulator's log")
    sample = {number: results[number]["requests"] for number in alone}
    grown = None if size_before is None or size_after is None else size_after - size_before
    result = {
        "bench": "fleet",
        "store": store_kind,
        "accounts": n,
        "workers": args.workers,
        "months_synced": 12,
        "wall_seconds": round(fleet["wall"], 2),
        "accounts_per_minute": round(n / fleet["wall"] * 60, 1),
        # What one account costs a worker, for scaling out: wall time x workers / accounts
        "worker_seconds_per_account": round(fleet["wall"] * args.workers / n, 2),
        "rows": rows,
        "rows_per_second": round(rows / fleet["wall"]),
        "requests_per_account": round(statistics.mean(requests), 2),
        "requests_per_account_range": [min(requests), max(requests)],
        "single_account_minimum": alone,
        "fleet_requests_of_those": sample,
        "equals_single_account_minimum": sample == alone,
        "never_above_single_account_minimum": all(sample[k] <= alone[k] for k in alone),
        "bytes_per_account_year": None if grown is None else round(grown / n),
        "peak_rss_mb_at_tenth": round(fleet.get("tenth", 0.0), 1),
        "peak_rss_mb_at_all": round(rss_all, 1),
        "simulator_ready_seconds": round(sim_ready, 2),
        "simulator_peak_rss_mb_at_start": round(sim_rss_start, 1),
        "simulator_peak_rss_mb_at_tenth": round(fleet.get("sim_tenth", 0.0), 1),
        "simulator_peak_rss_mb_at_all": round(sim_rss_all, 1),
        "cost_month_seconds": round(cost_seconds, 2),
        "cost_month_ms_per_account": round(cost_seconds / n * 1000, 1),
        **machine(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
