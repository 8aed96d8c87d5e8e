"""Benchmark writing 5 meter-years to a real InfluxDB 1.x; prints one JSON line.

The store is the one ``bench/costs.py`` builds: one import MPAN, five years of half-hours (2021-01-01 to
2026-01-01 UK local days, ten clock-change days), on Agile (a price per half-hour) then a flat tariff. InfluxDB
is Debian's ``influxd``, started here on free loopback ports with its data in a temporary folder, as the tests
start it (``tests/servers.py``), authentication on.

Each run exports everything into a fresh database, as a first ``octoscope export influx`` does: the half-hours
with their costs (``electricity_consumption``), the price in force at every half-hour through the day after
the clock (``electricity_pricing``), the daily costs, the EV sessions found. Figures are medians of RUNS:

- ``points_per_second``: end to end, points written over the whole export's time: reading the store, pricing
  every half-hour twice (exc and inc VAT) with the cost engine, finding sessions, formatting the lines,
  gzip, HTTP, and InfluxDB storing them. Batches travel while the next is made.
- ``write_only_points_per_second``: the same lines, made beforehand, sent again into another fresh database:
  what the sink and the server manage alone (gzip, HTTP, InfluxDB's ingest).
- ``make_lines_seconds``: the lines alone (no network): what the export costs this process.
- ``incremental_seconds``: a second export straight after: the push after a sync (the last days again).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from costs import ACCOUNT, END_DAY, HALF_HOURS_PER_METER_YEAR, build
from machine import machine
from octoscope.clock import frozen
from octoscope.config import InfluxSettings, Settings
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import local_midnight
from octoscope.outputs.influx import _Context, export_influx, jobs, plan_ranges, target_of
from octoscope.outputs.influx_writer import InfluxWriter
from octoscope.store.sqlite import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.servers

from tests.servers import ADMIN, influx1

RUNS = 3
NOW = local_midnight(END_DAY) + timedelta(hours=9)


def main() -> None:
    load_before = os.getloadavg()[0]
    runs: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="octoscope-bench-influx-") as tmp,
        Store.open(Path(tmp) / "bench.db") as store,
        influx1() as server,
    ):
        data = build(store)
        half_hours = data["rows"]["consumption"]
        base = Settings(account=ACCOUNT, db=store.path, config_path=Path(tmp) / "none.toml")
        account = store.load_account(ACCOUNT)
        assert account is not None
        for run in range(RUNS):
            database = f"bench{run}"
            server.create_database(database)
            influx = InfluxSettings(url=server.url, database=database, username=ADMIN[0], password=Secret(ADMIN[1]))
            settings = replace(base, influx=influx)
            store._db.execute("DELETE FROM export_cursors")  # each run a first export
            started = time.perf_counter()
            summary = export_influx(settings, store, clock=frozen(NOW))
            seconds = time.perf_counter() - started
            started = time.perf_counter()
            again = export_influx(settings, store, clock=frozen(NOW))
            incremental = time.perf_counter() - started
            # The same lines made alone, then sent alone into another fresh database.
            ctx = _Context(settings, store, account, (("account_number", ACCOUNT), *influx.tags), NOW)
            started = time.perf_counter()
            lines = [
                text
                for job in jobs(ctx)
                for lo, hi in plan_ranges(job.extent, None, job.margin, job.by_day)
                for text in job.lines(lo, hi)
            ]
            make = time.perf_counter() - started
            server.create_database(f"{database}_write")
            target = target_of(replace(influx, database=f"{database}_write"))
            started = time.perf_counter()
            with InfluxWriter(target, clock=frozen(NOW), batch_size=influx.batch_size) as writer:
                writer.write_lines(lines)
            write_only = time.perf_counter() - started
            stored = server.series('SELECT count("usage_kwh") FROM "electricity_consumption"', database)
            if stored[0]["values"][0][1] != half_hours or len(lines) != summary["total_points"]:
                raise RuntimeError(f"run {run}: {stored} half-hours stored, {len(lines)} lines made, {summary}")
            runs.append(
                {
                    "points": summary["total_points"],
                    "seconds": seconds,
                    "points_per_second": summary["total_points"] / seconds,
                    "write_only_points_per_second": len(lines) / write_only,
                    "make_lines_seconds": make,
                    "incremental_seconds": incremental,
                    "incremental_points": again["total_points"],
                    "by_measurement": summary["points"],
                }
            )
    result: dict[str, Any] = {"bench": "influx", "server": "InfluxDB 1.x (Debian influxd)", "runs": RUNS}
    result["meter_years"] = round(half_hours / HALF_HOURS_PER_METER_YEAR, 3)
    result["points"] = runs[0]["points"]
    result["points_by_measurement"] = runs[0]["by_measurement"]
    for key in ("points_per_second", "write_only_points_per_second"):
        result[key] = round(statistics.median(r[key] for r in runs))
        result[f"{key}_runs"] = [round(r[key]) for r in runs]
    for key in ("seconds", "make_lines_seconds", "incremental_seconds"):
        result[key] = round(statistics.median(r[key] for r in runs), 2)
    result["incremental_points"] = runs[0]["incremental_points"]
    result["batch_size"] = InfluxSettings(url="http://x").batch_size
    result["clock"] = NOW.astimezone(UTC).isoformat()
    result.update(machine())
    result["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
