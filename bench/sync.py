"""Benchmark a back-fill of 10 meter-years by `octoscope sync`; prints one JSON line.

The simulator runs in its own process (so it and the sync do not share a GIL), serving a scenario written
here: one account with five years of an Agile import MPAN and an Agile Outgoing export MPAN (10 meter-years
of half-hours, and as many half-hourly prices). After one warm-up sync, each measured `octoscope sync` is a
child process with a fresh database, timed from spawn to exit, which reports its peak RSS (VmHWM) as it exits.

- ``wall_seconds`` (median of the runs) and ``rows_per_second``: rows stored in SQLite (consumption, unit
  rates, standing charges) per second of sync.
- ``peak_rss_mb`` for the 10-meter-year back-fill, ``peak_rss_mb_2_meter_years`` and ``..._6_meter_years``
  for one- and three-year ones on the same server, and ``peak_rss_mb_dry_run`` (interpreter, imports and
  discovery, no pages) as the floor. Pages are streamed, so memory is the floor plus the pages in flight:
  it grows while the pages grow and is flat in the number of years once they are full (25,000 half-hours,
  about 17 months of one meter): 6 and 10 meter-years match, 2 (pages of 17,520) sits lower.
- ``download_only_seconds`` (median): the same REST GET requests the sync made, taken from the simulator's
  request log (every page as the sync asked for it, `next` links included), replayed sequentially with plain
  httpx against the same warm server; ``sync_to_download_ratio`` = sync wall time / download time. GraphQL
  (two POSTs for discovery) is left out.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from machine import machine
from octoscope.config import SyncOptions
from octoscope.simulator.threaded import free_port
from serving import process

SIM_NOW = "2026-11-21T09:00:00Z"
SYNC_TO = "2026-11-21"  # exclusive; a fixed end makes the window the same whatever day the bench runs
SMALLER = {"2": "2025-11-21", "6": "2023-11-21"}  # meter-years -> --from: one and three years of both MPANs
KEY = "sk_live_octoscope_bench_sync"
ACCOUNT = "A-0000B5C1"
DAYS = 1826  # five years back from the clock's start day, 2021-11-21 to 2026-11-21
RUNS = 3  # measured 10-meter-year syncs and download replays; the medians are reported
SYNC_TIMEOUT = 120.0
HALF_HOURS_PER_YEAR = 48 * 365.25

_PRODUCTS = """
[[products]]
code = "AGILE-24-10-01"
kind = "agile"
full_name = "Agile Octopus October 2024 v1"
available_from = "-2000d"
standing_charge = 47.0

[[products]]
code = "AGILE-OUTGOING-19-05-13"
kind = "agile_outgoing"
full_name = "Agile Outgoing Octopus May 2019"
available_from = "-2000d"
"""

SCENARIO = f"""
# Written by bench/sync.py: five years of Agile import and Agile Outgoing export, 10 meter-years.
name = "bench_sync"
description = "Five years of Agile import and Agile Outgoing export with solar and an EV"
seed = 4242

[[accounts]]
number = "{ACCOUNT}"
api_key = "{KEY}"
user_id = 3004242

[[accounts.properties]]
id = 3104242
moved_in = "-{DAYS}d"
postcode = "SW1A 1AA"
region = "C"

[[accounts.properties.electricity]]
mpan = "1200000042401"
meters = [{{ serial = "BEN0042401" }}]
agreements = [{{ tariff = "E-1R-AGILE-24-10-01-C", from = "-{DAYS}d" }}]

[[accounts.properties.electricity]]
mpan = "1200000042425"
profile_class = 8
export = true
meters = [{{ serial = "BEN0042401" }}]
agreements = [{{ tariff = "E-1R-AGILE-OUTGOING-19-05-13-C", from = "-{DAYS}d" }}]

[accounts.properties.household]
baseload_w = 220
solar_kwp = 4.2

[accounts.properties.household.ev]
device_id = "00000000-0000-4000-8000-000000042401"
charger_kw = 7.4
timer = "02:00"
plug_in_probability = 0.4
{_PRODUCTS}"""


@contextlib.contextmanager
def simulator(scenario: Path, logs: Path) -> Iterator[str]:
    """Run `octoscope simulate` in its own process; yield its base URL once it answers; stop it after."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "octoscope", "simulate", "--scenario", str(scenario), "--port", str(port)]
    command += ["--now", SIM_NOW, "--speed", "0"]
    with process(command, None, logs / "simulator.log", f"{base}/_sim/clock"):
        yield base


def sync_env(base: str, home: Path, db: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "OCTOSCOPE_API_KEY": KEY,
        "OCTOSCOPE_ACCOUNT": ACCOUNT,
        "OCTOSCOPE_API_URL": f"{base}/v1",
        "OCTOSCOPE_GRAPHQL_URL": f"{base}/v1/graphql/",
        "OCTOSCOPE_DB": str(db),
        "OCTOSCOPE_CONFIG": str(home / "config.toml"),  # absent: everything comes from the environment
        "OCTOSCOPE_NOW": SIM_NOW,  # octoscope's clock and the simulator's agree, whatever the machine's date
        "OCTOSCOPE_SPEED": "0",
    }


# The measured child: `octoscope sync` run in-process by a few lines that, at exit, write the process's peak
# RSS (VmHWM) to a file. Not wait4's ru_maxrss: Linux carries the parent's high-water mark over a fork and
# exec into it, so a child's ru_maxrss is never below the bench's own (tens of MB of replayed pages).
CHILD = """
import atexit, os, runpy, sys

def peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_RSS_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(peak)
sys.argv = ["octoscope", *sys.argv[1:]]
runpy.run_module("octoscope", run_name="__main__", alter_sys=True)
"""


def run_sync(base: str, home: Path, name: str, *args: str) -> dict[str, Any]:
    """`octoscope sync --json ARGS` as a child process on a fresh database: wall time, peak RSS, summary."""
    db = home / f"{name}.db"
    out_path, err_path, rss_path = home / f"{name}.out", home / f"{name}.err", home / f"{name}.rss"
    command = [sys.executable, "-c", CHILD, "sync", "--json", "--to", SYNC_TO, *args]
    env = {**sync_env(base, home, db), "BENCH_PEAK_RSS_FILE": str(rss_path)}
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        done = subprocess.run(command, stdout=out, stderr=err, env=env, timeout=SYNC_TIMEOUT, check=False)  # noqa: S603
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"octoscope sync {' '.join(args)} exited {done.returncode}: {err_path.read_text()[-2000:]}")
    summary = json.loads(out_path.read_text())
    if summary.get("retries"):
        raise RuntimeError(f"octoscope sync retried {summary['retries']} requests; the figures would be skewed")
    counts: dict[str, int] = {}
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for table in ("consumption", "unit_rates", "standing_charges"):
            counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
    return {"wall": wall, "rss_mb": int(rss_path.read_text()) / 1024, "summary": summary, "counts": counts}


def rest_gets(base: str) -> list[str]:
    """The REST GETs in the simulator's request log, as path?query, in the order they were made."""
    log = httpx.get(f"{base}/_sim/requests", timeout=30).json()["requests"]
    out = []
    for entry in log:
        if entry["method"] != "GET" or not entry["path"].startswith("/v1/"):
            continue
        if entry["status"] != 200:
            raise RuntimeError(f"the sync got HTTP {entry['status']} for {entry['path']}")
        out.append(entry["path"] + (f"?{entry['query']}" if entry["query"] else ""))
    return out


def download_only(base: str, targets: list[str]) -> tuple[float, int]:
    """Fetch every target sequentially with plain httpx; (seconds, bytes). Checks that `next` stays inside."""
    bodies = []
    with httpx.Client(base_url=base, auth=(KEY, ""), timeout=60) as client:
        started = time.perf_counter()
        for target in targets:
            response = client.get(target)
            response.raise_for_status()
            bodies.append(response.content)
        elapsed = time.perf_counter() - started
    asked = set(targets)
    for body in bodies:
        link = orjson.loads(body).get("next")
        if link:
            parts = urlsplit(link)
            if f"{parts.path}?{parts.query}" not in asked:
                raise RuntimeError(f"a page links to {link}, which the sync did not fetch")
    return elapsed, sum(len(b) for b in bodies)


def main() -> None:
    load_before = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="octoscope-bench-sync-"))
    try:
        scenario = home / "bench_sync.toml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        with simulator(scenario, home) as base:
            warmup = run_sync(base, home, "warmup")  # the server computes five years of household and prices
            syncs, downloads = [], []
            targets: list[str] = []
            for i in range(RUNS):
                httpx.delete(f"{base}/_sim/requests", timeout=30)
                syncs.append(run_sync(base, home, f"full{i}"))
                targets = rest_gets(base)
                downloads.append(download_only(base, targets))
            smaller = {years: run_sync(base, home, f"from{start}", "--from", start) for years, start in SMALLER.items()}
            dry = run_sync(base, home, "dry", "--dry-run")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    full = syncs[-1]
    for years, s in smaller.items():
        stored = s["counts"]["consumption"] / HALF_HOURS_PER_YEAR
        if round(stored) != int(years):
            raise RuntimeError(f"the {years}-meter-year back-fill stored {stored:.2f} meter-years")
    if any(s["counts"] != full["counts"] for s in [warmup, *syncs]):
        raise RuntimeError("the syncs stored different row counts")
    requests = full["summary"]["requests"]
    if len(targets) != requests.get("rest"):
        raise RuntimeError(f"the request log holds {len(targets)} REST GETs, the sync counted {requests.get('rest')}")
    wall = statistics.median(s["wall"] for s in syncs)
    download = statistics.median(d[0] for d in downloads)
    rows = sum(full["counts"].values())
    result = {
        "bench": "sync",
        "meter_years": round(full["counts"]["consumption"] / HALF_HOURS_PER_YEAR, 2),
        "rows": rows,
        "rows_by_table": full["counts"],
        "wall_seconds": round(wall, 3),
        "wall_seconds_runs": [round(s["wall"], 3) for s in syncs],
        "warmup_sync_seconds": round(warmup["wall"], 3),
        "rows_per_second": round(rows / wall),
        "rest_requests": requests.get("rest", 0),
        "graphql_requests": requests.get("graphql", 0),
        "peak_rss_mb": round(max(s["rss_mb"] for s in syncs), 1),
        "peak_rss_mb_runs": [round(s["rss_mb"], 1) for s in syncs],
        **{f"peak_rss_mb_{years}_meter_years": round(s["rss_mb"], 1) for years, s in smaller.items()},
        "peak_rss_mb_dry_run": round(dry["rss_mb"], 1),
        "download_only_seconds": round(download, 3),
        "download_only_seconds_runs": [round(d[0], 3) for d in downloads],
        "download_requests": len(targets),
        "download_mb": round(downloads[-1][1] / 2**20, 1),
        "sync_to_download_ratio": round(wall / download, 2),
        "sync_concurrency": SyncOptions().concurrency,
        **machine(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before and after: others' work
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
