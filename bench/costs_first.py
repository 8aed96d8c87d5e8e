"""The first ``/api/costs`` of a server process, by part, on bench/web.py's three years of demo data; prints
one JSON line.

bench/web.py measures the Costs page's year (``costs_year_by_month``) from outside a served process: the
server's CPU for its first request (``cold_cpu_ms``), which includes detecting the EV sessions of the
smart-charging estimate. This runs the same app in a fresh process per run, started as ``octoscope serve``
starts it (the CLI's imports, ``create_app``, the lifespan's start-up), then sends the request through the
ASGI app, with the process's CPU time (all threads) around it:

- ``first_cpu_ms``: the first request as served (detection included);
- ``first_detection_warm_cpu_ms``: the first request, with only the sessions' detection done before
  (``services.costing._probable_smart_seconds`` for each meter point over the range): reading, costing and
  whatever else a process's first request pays;
- ``next_range_cpu_ms``: then a year starting a day later (not cached: read and costed again);
- ``start_cpu_ms``: the process up to the first request (imports, start-up).

Medians of ``RUNS`` fresh processes; ``load_average`` as it starts (two cores: above 2, CPU figures still
hold, wall time would not).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import machine
from octoscope.simulator import create_app
from octoscope.simulator.threaded import serve_in_thread
from web import ACCOUNT, COSTS_YEAR, KEY, NOW, three_years

RUNS = 5

# One run, in its own process: argv[1] "warm" or "cold"; the store's settings in the environment.
ONE_RUN = """
import asyncio, json, sys, time
started = time.process_time()
import octoscope.cli  # what `python -m octoscope serve` imports
from datetime import date, timedelta
from octoscope.cli.shell import read_all_settings
from octoscope.clock import make_clock
from octoscope.domain.uktime import local_midnight
from octoscope.services import costing
from octoscope.web.app import create_app

app = create_app(read_all_settings()[0], clock=make_clock(sys.argv[2], "0"), schedule_every=60.0)


async def get(query: str) -> float:
    sent = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/api/costs", "raw_path": b"/api/costs", "query_string": query.encode(),
             "root_path": "", "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 9),
             "server": ("127.0.0.1", 80)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    before = time.process_time()
    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return (time.process_time() - before) * 1000


async def main() -> None:
    async with app.router.lifespan_context(app):
        start = (time.process_time() - started) * 1000
        first, end = date.fromisoformat(sys.argv[3]), date.fromisoformat(sys.argv[4])
        if sys.argv[1] == "warm":
            store = app.state.store
            for prop in store.load_account(read_all_settings()[0].account).properties:
                for point in prop.meter_points:
                    costing._probable_smart_seconds(
                        store, point, local_midnight(first), local_midnight(end), False, True
                    )
        cold = await get(f"from={first}&to={end}&by=month")
        later = await get(f"from={first + timedelta(days=1)}&to={end}&by=month")
        print(json.dumps({"start": start, "first": cold, "next": later}))


asyncio.run(main())
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = three_years(folder)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(folder),
            "OCTOSCOPE_ACCOUNT": ACCOUNT,
            "OCTOSCOPE_DB": str(folder / "octoscope.db"),
            "OCTOSCOPE_CONFIG": str(folder / "config.toml"),
        }
        with serve_in_thread(create_app(str(scenario), now=NOW, speed=0)) as sim:
            synced = {**env, "OCTOSCOPE_API_KEY": KEY, "OCTOSCOPE_API_URL": f"{sim}/v1"}
            synced |= {"OCTOSCOPE_GRAPHQL_URL": f"{sim}/v1/graphql/", "OCTOSCOPE_NOW": NOW, "OCTOSCOPE_SPEED": "0"}
            subprocess.run(
                [sys.executable, "-m", "octoscope", "sync", "--to", "2026-11-22", "--json"],
                env=synced,
                check=True,
                capture_output=True,
            )
        load = round(os.getloadavg()[0], 2)
        runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
        for _ in range(RUNS):
            for kind, held in runs.items():
                out = subprocess.run(  # noqa: S603 - our own interpreter and script
                    [sys.executable, "-c", ONE_RUN, kind, NOW, COSTS_YEAR["from"], COSTS_YEAR["to"]],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                held.append(json.loads(out.stdout))

    def median(kind: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[kind]), 1)

    print(
        json.dumps(
            {
                "bench": "costs_first",
                "range": f"{COSTS_YEAR['from']}..{COSTS_YEAR['to']} by {COSTS_YEAR['by']}",
                "runs": RUNS,
                "first_cpu_ms": median("cold", "first"),
                "first_detection_warm_cpu_ms": median("warm", "first"),
                "next_range_cpu_ms": median("warm", "next"),
                "start_cpu_ms": median("cold", "start"),
                "load_average": load,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
