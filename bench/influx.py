"""Benchmark writing 5 meter-years to a real InfluxDB 1.x; prints one JSON line.

The store is the one ``bench/costs.py`` builds: one import MPAN, five years of half-hours (2021-01-01 to
2026-01-01 UK local days, ten clock-change days), on Agile (a price per half-hour) then a flat tariff, left as
a sync leaves it (the detected charging of each eight-week block kept: a first export after a sync). InfluxDB
is Debian's ``influxd``, started here on free loopback ports with its data in a temporary folder, as the tests
start it (``tests/servers.py``), authentication on.

Each run exports everything into a fresh database, as a first ``octoscope export influx`` does: the half-hours
with their costs (``electricity_consumption``), the price in force at every half-hour through the day after
the clock (``electricity_pricing``), the daily costs, the EV sessions found. Figures are medians of RUNS:

- ``points_per_second``: end to end, points written over the whole export's time: reading the store, pricing
  every half-hour twice (exc and inc VAT) with the cost engine, finding sessions, formatting the lines,
  HTTP (plain: the server is on loopback), and InfluxDB storing them. Batches travel, two at a time, while
  the next is made.
- ``write_only_points_per_second``: the same lines, made beforehand, sent again into another fresh database:
  what the sink and the server manage alone (HTTP, InfluxDB's ingest).
- ``make_lines_seconds``: the lines alone (no network): what the export costs this process;
  ``make_lines_cpu_seconds`` the same in CPU seconds, which other load on the machine inflates less.
- ``export_cpu_seconds`` and ``influxd_cpu_seconds``: CPU of the end-to-end export in this process (with
  the sender threads') and in the server (from /proc) over the same time: on two cores the server's
  share bounds what end to end can reach.
- ``write_only_influxd_cpu_seconds``: the server's CPU for those lines alone: its ingest cost, which no
  change on our side lowers.
- ``*_cpu_seconds_per_100k_points`` and ``ceiling_points_per_second``: the points over (export CPU + influxd
  CPU) / the cores: the best end to end could reach if both sides kept every core busy all the time.
- ``within_target``: ``points_per_second`` at least 100,000 (issue 17).
- ``server_alone``: the same lines, joined and encoded beforehand into bodies of the writer's batch size,
  posted over 1, 2 and 4 keep-alive connections by the standard library's ``http.client`` into fresh
  databases: no line to make and next to no client, so what InfluxDB on this machine ingests at best.
  If its best is under the target, no export on this machine can reach the target end to end.
- ``writer_options`` (with ``BENCH_WRITER_OPTIONS=1``): the lines sent with other writer settings (gzip
  level, batch size, requests in flight, sorted by series key then time), CPU of each side: why the
  writer's defaults are what they are.
- ``incremental_seconds``: a second export straight after: the push after a sync (the last days again).
- ``sync_vs_export``: a year of an Agile import meter (bench/sync.py's scenario cut to 365 days, import only)
  synced from the simulator by ``octoscope sync`` in a child process, then exported by ``octoscope export
  influx`` in another: CPU seconds of each child (user + system, from wait4), and their ratio (target:
  export CPU at most half the sync's; ``within_target`` inside it). With ``BENCH_BASELINE=<a checkout of the
  code before>``, the same export is run with that checkout's ``src`` first on the path, for a ratio old/new
  in the same run. ``cli_cpu_seconds``: ``octoscope version`` alone in the same environment, the floor every
  command (sync and export alike) pays for the interpreter, typer and its pydantic coercion.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

import sync as sync_bench  # bench/sync.py: its scenario, simulator and environment
from costs import ACCOUNT, END_DAY, HALF_HOURS_PER_METER_YEAR, build
from machine import machine
from octoscope.clock import frozen
from octoscope.config import InfluxSettings, Settings
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import local_midnight
from octoscope.outputs.influx import SENDERS, _Context, export_influx, jobs, plan_ranges, target_of
from octoscope.outputs.influx_writer import GZIP_LEVEL, LOOPBACK_GZIP_LEVEL, InfluxWriter
from octoscope.store.sqlite import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.servers

from tests.servers import ADMIN, influx1

RUNS = 3
TARGET_POINTS_PER_SECOND = 100_000  # end to end (issue 17)
TARGET_EXPORT_TO_SYNC_CPU = 0.5
YEAR_DAYS = 365
NOW = local_midnight(END_DAY) + timedelta(hours=9)


def influxd_cpu(folder: Path) -> float:
    """CPU seconds the ``influxd`` whose data is in ``folder`` has used (from /proc): what storing costs the
    server, which the export's own CPU does not show."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"influxd" not in command or str(folder).encode() not in command:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


def stored_half_hours(server: Any, database: str, expected: int) -> int:
    """The half-hours InfluxDB counts; asked again for a few seconds while short of ``expected`` (a count
    taken while influxd 1.6 was still settling a shard once came a shard short), then the last answer."""
    deadline = time.monotonic() + 10
    while True:
        stored = server.series('SELECT count("usage_kwh") FROM "electricity_consumption"', database)
        count = int(stored[0]["values"][0][1]) if stored else 0
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def _child_cpu(command: list[str], env: dict[str, str]) -> float:
    """Run a child to its end; its CPU seconds (user + system), which other load on the machine does not
    inflate as it does wall time."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[3:5]} failed: {child.stderr.read().decode()[-2000:] if child.stderr else ''}")
    return usage.ru_utime + usage.ru_stime


def sync_vs_export(server: Any, folder: Path) -> dict[str, Any]:
    """CPU of a first export against CPU of the sync that fetched the same year (see the module's text)."""
    text = sync_bench.SCENARIO.replace(f'"-{sync_bench.DAYS}d"', f'"-{YEAR_DAYS}d"')
    text = re.sub(
        r"\[\[accounts\.properties\.electricity\]\]\nmpan = \"1200000042425\".*?(?=\n\n)", "", text, flags=re.S
    )
    scenario = folder / "year.toml"
    scenario.write_text(text, encoding="utf-8")
    db = folder / "year.db"
    out: dict[str, Any] = {"meter": "Agile import", "days": YEAR_DAYS}
    with sync_bench.simulator(scenario, folder) as base:
        env = sync_bench.sync_env(base, folder, db)
        python = [sys.executable, "-m", "octoscope"]
        sync_bench.run_sync(base, folder, "warmup")  # the simulator works out its year once
        out["sync_cpu_seconds"] = round(_child_cpu([*python, "sync", "--to", sync_bench.SYNC_TO, "--json"], env), 2)
    stored = store_rows(db)
    out["half_hours"] = stored
    runs: dict[str, str | None] = {"export": None, "export_baseline": os.environ.get("BENCH_BASELINE")}
    for name, checkout in runs.items():
        if name == "export_baseline" and not checkout:
            continue
        server.create_database(name)
        influx_env = {
            **env,
            "OCTOSCOPE_INFLUX_URL": server.url,
            "OCTOSCOPE_INFLUX_DATABASE": name,
            "OCTOSCOPE_INFLUX_USERNAME": ADMIN[0],
            "OCTOSCOPE_INFLUX_PASSWORD": ADMIN[1],
        }
        influx_env.pop("OCTOSCOPE_API_KEY")
        if checkout:
            influx_env["PYTHONPATH"] = str(Path(checkout) / "src")
        with Store.open(db) as store:
            store._db.execute("DELETE FROM export_cursors")  # each a first export
        out[f"{name}_cpu_seconds"] = round(_child_cpu([*python, "export", "influx"], influx_env), 2)
    out["cli_cpu_seconds"] = round(_child_cpu([*python, "version"], env), 2)
    out["export_to_sync_cpu"] = round(out["export_cpu_seconds"] / out["sync_cpu_seconds"], 3)
    if "export_baseline_cpu_seconds" in out:
        out["baseline_to_export_cpu"] = round(out["export_baseline_cpu_seconds"] / out["export_cpu_seconds"], 2)
    out["within_target"] = out["export_to_sync_cpu"] <= TARGET_EXPORT_TO_SYNC_CPU
    return out


WRITER_OPTIONS = [
    {"gzip": gzip, "batch_size": batch, "senders": senders, "sorted": False}
    for gzip in (0, 1)
    for batch in (5000, 10_000, 20_000)
    for senders in (1, 2)
] + [{"gzip": 0, "batch_size": 5000, "senders": 2, "sorted": True}]


def _series_then_time(text: str) -> tuple[str, int]:
    return text[: text.index(" ")], int(text[text.rindex(" ") + 1 :])


def writer_options(server: Any, influx: InfluxSettings, lines: list[str]) -> list[dict[str, Any]]:
    """The same lines sent with each of WRITER_OPTIONS into a fresh database (gzip level, batch size,
    requests in flight, sorted by series key then time as InfluxDB recommends): CPU of this process (the
    senders' gzip and HTTP) and of the server, medians of RUNS taken in turn. ``BENCH_WRITER_OPTIONS=1``."""
    ordered = sorted(lines, key=_series_then_time)
    taken: list[list[dict[str, float]]] = [[] for _ in WRITER_OPTIONS]
    for run in range(RUNS):
        for n, option in enumerate(WRITER_OPTIONS):
            database = f"options{run}_{n}"
            server.create_database(database)
            target = target_of(replace(influx, database=database))
            server_cpu, cpu, started = influxd_cpu(server.folder), time.process_time(), time.perf_counter()
            with InfluxWriter(
                target,
                clock=frozen(NOW),
                batch_size=option["batch_size"],
                compress_level=option["gzip"],
                senders=option["senders"],
            ) as writer:
                writer.write_lines(ordered if option["sorted"] else lines)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            time.sleep(1)  # what the server does just after the last answer (its cache snapshot) counts too
            taken[n].append(
                {
                    "points_per_second": len(lines) / seconds,
                    "our_cpu_seconds": cpu,
                    "influxd_cpu_seconds": influxd_cpu(server.folder) - server_cpu,
                }
            )
            server.query(f'DROP DATABASE "{database}"')
    out = []
    for option, runs in zip(WRITER_OPTIONS, taken, strict=True):
        row: dict[str, Any] = dict(option)
        for key in ("points_per_second", "our_cpu_seconds", "influxd_cpu_seconds"):
            row[key] = round(statistics.median(r[key] for r in runs), 0 if key == "points_per_second" else 3)
        row["both_cpu_seconds"] = round(row["our_cpu_seconds"] + row["influxd_cpu_seconds"], 3)
        out.append(row)
    return out


SERVER_ALONE_CONNECTIONS = (1, 2, 4)


def _post_all(
    address: tuple[str, int],
    path: str,
    headers: dict[str, str],
    queue: list[bytes],
    taking: threading.Lock,
    failures: list[str],
) -> None:
    """Post bodies taken from ``queue`` over one keep-alive connection until none is left."""
    conn = http.client.HTTPConnection(*address, timeout=60)
    while True:
        with taking:
            if not queue:
                break
            body = queue.pop()
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status != 204:
            failures.append(str(answer.status))
    conn.close()


def server_alone(server: Any, influx: InfluxSettings, lines: list[str], tag: str) -> dict[str, Any]:
    """The lines as ready bodies, posted over each of SERVER_ALONE_CONNECTIONS keep-alive connections at
    once (a body each in turn) into a fresh database: points/s and the server's CPU per 100k points."""
    size = influx.batch_size
    bodies = ["\n".join(lines[i : i + size]).encode() for i in range(0, len(lines), size)]
    out: dict[str, Any] = {}
    for connections in SERVER_ALONE_CONNECTIONS:
        database = f"alone_{tag}_{connections}"
        server.create_database(database)
        target = target_of(replace(influx, database=database))
        url, params = target.endpoint()
        headers = {k: v for k, v in target.headers().items() if k != "Content-Encoding"}
        parts = httpx.URL(url, params=params)
        path = parts.raw_path.decode()
        queue = list(reversed(bodies))
        taking = threading.Lock()
        failures: list[str] = []
        address = (parts.host, parts.port or 80)
        server_cpu, started = influxd_cpu(server.folder), time.perf_counter()
        workers = [
            threading.Thread(target=_post_all, args=(address, path, headers, queue, taking, failures))
            for _ in range(connections)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - started
        server_cpu = influxd_cpu(server.folder) - server_cpu
        if failures:
            raise RuntimeError(f"server alone: answers {failures[:3]}")
        out[str(connections)] = {
            "points_per_second": round(len(lines) / seconds),
            "influxd_cpu_seconds_per_100k_points": round(server_cpu * 100_000 / len(lines), 2),
        }
        server.query(f'DROP DATABASE "{database}"')
    return out


def store_rows(db: Path) -> int:
    with Store.open(db) as store:
        return int(store._db.execute("SELECT COUNT(*) FROM consumption").fetchone()[0])


def main() -> None:
    load_before = os.getloadavg()[0]
    runs: list[dict[str, float]] = []
    options: list[dict[str, Any]] = []
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
            server_cpu = influxd_cpu(server.folder)
            cpu = time.process_time()
            started = time.perf_counter()
            summary = export_influx(settings, store, clock=frozen(NOW))
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            server_cpu = influxd_cpu(server.folder) - server_cpu
            started = time.perf_counter()
            again = export_influx(settings, store, clock=frozen(NOW))
            incremental = time.perf_counter() - started
            # The same lines made alone, then sent alone into another fresh database.
            ctx = _Context(settings, store, account, (("account_number", ACCOUNT), *influx.tags), NOW)
            make_cpu = time.process_time()
            started = time.perf_counter()
            lines = [
                text
                for job in jobs(ctx)
                for lo, hi in plan_ranges(job.extent, None, job.margin, job.by_day)
                for text in job.lines(lo, hi)
            ]
            make = time.perf_counter() - started
            make_cpu = time.process_time() - make_cpu
            server.create_database(f"{database}_write")
            target = target_of(replace(influx, database=f"{database}_write"))
            write_cpu = influxd_cpu(server.folder)
            started = time.perf_counter()
            with InfluxWriter(target, clock=frozen(NOW), batch_size=influx.batch_size, senders=SENDERS) as writer:
                writer.write_lines(lines)
            write_only = time.perf_counter() - started
            write_cpu = influxd_cpu(server.folder) - write_cpu
            stored = stored_half_hours(server, database, half_hours)
            if stored != half_hours or len(lines) != summary["total_points"]:
                raise RuntimeError(f"run {run}: {stored} half-hours stored, {len(lines)} lines made, {summary}")
            alone = server_alone(server, influx, lines, str(run))
            if run == RUNS - 1 and os.environ.get("BENCH_WRITER_OPTIONS"):
                options = writer_options(server, influx, lines)
            runs.append(
                {
                    "points": summary["total_points"],
                    "seconds": seconds,
                    "points_per_second": summary["total_points"] / seconds,
                    "write_only_points_per_second": len(lines) / write_only,
                    "export_cpu_seconds": cpu,
                    "influxd_cpu_seconds": server_cpu,
                    "write_only_influxd_cpu_seconds": write_cpu,
                    "make_lines_seconds": make,
                    "make_lines_cpu_seconds": make_cpu,
                    "incremental_seconds": incremental,
                    "incremental_points": again["total_points"],
                    "by_measurement": summary["points"],
                    "server_alone": alone,
                }
            )
    result: dict[str, Any] = {"bench": "influx", "server": "InfluxDB 1.x (Debian influxd)", "runs": RUNS}
    result["meter_years"] = round(half_hours / HALF_HOURS_PER_METER_YEAR, 3)
    result["points"] = runs[0]["points"]
    result["points_by_measurement"] = runs[0]["by_measurement"]
    for key in ("points_per_second", "write_only_points_per_second"):
        result[key] = round(statistics.median(r[key] for r in runs))
        result[f"{key}_runs"] = [round(r[key]) for r in runs]
    for key in (
        "seconds",
        "export_cpu_seconds",
        "influxd_cpu_seconds",
        "write_only_influxd_cpu_seconds",
        "make_lines_seconds",
        "make_lines_cpu_seconds",
        "incremental_seconds",
    ):
        result[key] = round(statistics.median(r[key] for r in runs), 2)
    result["points_per_second_target"] = TARGET_POINTS_PER_SECOND
    # What two cores allow at best: every CPU second of both sides, spread perfectly over the cores.
    per_100k = 100_000 / result["points"]
    result["export_cpu_seconds_per_100k_points"] = round(result["export_cpu_seconds"] * per_100k, 2)
    result["influxd_cpu_seconds_per_100k_points"] = round(result["influxd_cpu_seconds"] * per_100k, 2)
    both = result["export_cpu_seconds"] + result["influxd_cpu_seconds"]
    result["ceiling_points_per_second"] = round(result["points"] / (both / (os.cpu_count() or 1)))
    result["within_target"] = result["points_per_second"] >= TARGET_POINTS_PER_SECOND
    for key, digits in (("points_per_second", None), ("influxd_cpu_seconds_per_100k_points", 2)):
        result[f"server_alone_{key}"] = {
            str(n): round(statistics.median(r["server_alone"][str(n)][key] for r in runs), digits)
            for n in SERVER_ALONE_CONNECTIONS
        }
    result["server_alone_best_points_per_second"] = max(result["server_alone_points_per_second"].values())
    result["incremental_points"] = runs[0]["incremental_points"]
    if os.environ.get("BENCH_WRITER_OPTIONS"):
        result["writer_options"] = options
    with tempfile.TemporaryDirectory(prefix="octoscope-bench-influx-year-") as tmp, influx1() as server:
        result["sync_vs_export"] = sync_vs_export(server, Path(tmp))
    result["batch_size"] = InfluxSettings(url="http://x").batch_size
    result["gzip_level"] = GZIP_LEVEL
    result["gzip_level_loopback"] = LOOPBACK_GZIP_LEVEL
    result["senders"] = SENDERS
    result["clock"] = NOW.astimezone(UTC).isoformat()
    result.update(machine())
    result["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
