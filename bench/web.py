"""Benchmark the dashboard's JSON routes under 20 concurrent clients on three years of demo data; prints one
JSON line.

The demo scenario with its history made three years long (the home, the first tariff and gas from -1095 days)
is served by the simulator in this process on a frozen clock (2026-11-21 09:00 UTC), synced by the real CLI
into a fresh database, then `octoscope serve` runs in its own process (no API key: no scheduler) and 20
clients send requests as fast as they are answered, each waiting for its answer before the next:

- ``overview``: ``GET /api/overview``; ``usage_year``: ``GET /api/usage`` for a year at day resolution (what
  the Usage page asks for a year): p50 and p95 latency over ``REQUESTS`` requests per client;
- ``one_client_p50_ms``: the same, one client alone (what a request costs without queueing);
- ``*_cold_ms``: the first request of each, before anything is cached (a sync or a write by any process
  drops the cache; the same then holds);
- ``page_weight_kb``: per page, the HTML, CSS and JavaScript plus the JSON it loads at first, without
  plotly.js (which the browser caches: ``plotly_js_kb``); target at most 200 kB.
- ``within_target``: p95 at most 50 ms for both routes and every page at most 200 kB.
- ``browser``: the Overview opened in Chromium (Playwright, 1,400 px): ``first_load_kb``, every byte the
  first visit transfers (plotly.js included, compressed as served; headers too), ``second_load_kb``, the same
  page again in the same browser (what its cache saves), and ``cold_chart_ms``, from asking for the page in a
  browser with an empty cache to its energy-and-cost chart drawn (the median of ``COLD_RUNS``).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from machine import machine
from octoscope.simulator import create_app
from octoscope.simulator.threaded import free_port, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "octoscope" / "simulator" / "scenarios" / "demo.toml"
NOW = "2026-11-21T09:00:00Z"
KEY, ACCOUNT = "sk_live_octoscope_demo", "A-DE30DE30"
CHROMIUM = "/usr/bin/chromium"
COLD_RUNS = 5
CLIENTS = 20
REQUESTS = 40  # per client and route
YEAR = {"from": "2025-11-01", "to": "2026-11-01", "resolution": "day"}
COSTS_YEAR = {"from": "2025-12-01", "to": "2026-12-01", "by": "month"}  # what the Costs page asks for
# What each page fetches when it opens (the Live and Prices pages only where their features are served).
PAGE_DATA = {
    "/": ["/api/overview", "/api/usage?days=14&resolution=day&fuel=electricity"],
    "/usage": ["/api/usage?from=2026-11-14&to=2026-11-21&fuel=electricity&resolution=auto"],
    "/costs": ["/api/costs?from=2025-12-01&to=2026-12-01&by=month"],
    "/ev": ["/api/sessions?days=30", "/api/dispatches?days=30"],
    "/status": ["/api/status"],
    "/prices": [],
    "/live": [],
}


def three_years(folder: Path) -> Path:
    text = DEMO.read_text().replace('"-730d"', '"-1095d"').replace('name = "demo"', 'name = "demo-3y"')
    path = folder / "demo-3y.toml"
    path.write_text(text)
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def hammer(port: int, path: str, params: dict[str, str] | None) -> list[float]:
    """20 clients on their own keep-alive connections, each sending its next request when answered. Plain
    HTTP/1.1 over asyncio streams: a full HTTP client in this process would spend more of the two cores
    than the server does, and measure itself."""
    target = path + (f"?{urlencode(params)}" if params else "")
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()

    async def one_client() -> list[float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        times = []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            lines = head.split(b"\r\n")
            length = next(int(v.split(b":", 1)[1]) for v in lines if v.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            times.append((time.perf_counter() - start) * 1000)
        writer.close()
        await writer.wait_closed()
        return times

    results = await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return [t for r in results for t in r]


def server_cpu_ns(pid: int) -> int | None:
    """CPU time the server process has run so far, all its threads (Linux's schedstat, in ns): what a request
    cost it, whatever else the machine was doing meanwhile. None where /proc does not say."""
    try:
        return sum(int((task / "schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir())
    except (OSError, ValueError, IndexError):
        return None


def costs_figures(base: str, port: int, pid: int) -> dict[str, object]:
    """``/api/costs`` for the Costs page's year by month: ``cold_ms`` the first request of the server process
    (nothing cached: every meter point's year costed, the smart-charging estimate's sessions detected),
    ``cold_other_ranges_ms`` years starting a day later each (their answers not cached either, the detected
    sessions kept), ``warm_*`` 20 clients on the kept answer. Targets: cold under 60 ms, warm p95 under
    10 ms. ``load_average``: the machine's 1-minute load as it starts (two cores: above 2, the figures wait
    for a core too); ``*_cpu_ms``: the server's CPU time for the same requests, which waiting does not add to
    (None off Linux). Call it before anything else has asked for costs."""
    load = round(os.getloadavg()[0], 2)
    cold, cpu = [], []
    with httpx.Client(base_url=base, timeout=60) as one:
        for i in range(5):
            # each a range not asked before, so that the answer is worked out again
            params = {**COSTS_YEAR, "from": f"2025-12-{1 + i:02d}"}
            ran = server_cpu_ns(pid)
            start = time.perf_counter()
            one.get("/api/costs", params=params).raise_for_status()
            cold.append((time.perf_counter() - start) * 1000)
            after = server_cpu_ns(pid)
            cpu.append(None if ran is None or after is None else round((after - ran) / 1e6, 1))
    times = asyncio.run(hammer(port, "/api/costs", COSTS_YEAR))
    return {
        "range": f"{COSTS_YEAR['from']}..{COSTS_YEAR['to']} by {COSTS_YEAR['by']}",
        "cold_ms": round(cold[0], 1),
        "cold_other_ranges_ms": [round(t, 1) for t in cold[1:]],
        "cold_cpu_ms": cpu[0],
        "cold_other_ranges_cpu_ms": cpu[1:],
        "warm_p50_ms": round(statistics.median(times), 2),
        "warm_p95_ms": round(percentile(times, 0.95), 2),
        "requests": len(times),
        "load_average": load,
        "within_target": cold[0] < 60 and percentile(times, 0.95) < 10,
    }


def browser(base: str) -> dict[str, object]:
    """What a browser transfers for the Overview, first and second visit, and how soon its chart is drawn;
    bytes as Chromium counts them on the wire (DevTools' encodedDataLength: compressed bodies and headers)."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    drawn = "#energy-chart[data-state=drawn], #energy-chart[data-state=empty]"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=args)
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        devtools = context.new_cdp_session(page)
        devtools.send("Network.enable")
        received: list[float] = []
        devtools.on("Network.loadingFinished", lambda e: received.append(e["encodedDataLength"]))
        loads = []
        for _ in range(2):
            received.clear()
            page.goto(f"{base}/", wait_until="networkidle")
            page.wait_for_selector(drawn, timeout=60_000)
            loads.append(round(sum(received) / 1024, 1))
        context.close()
        cold = []
        for _ in range(COLD_RUNS):
            context = chromium.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{base}/")
            page.wait_for_selector(drawn, timeout=60_000)
            cold.append((time.perf_counter() - start) * 1000)
            context.close()
        chromium.close()
    return {"first_load_kb": loads[0], "second_load_kb": loads[1], "cold_chart_ms": round(statistics.median(cold))}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = three_years(folder)
        with serve_in_thread(create_app(str(scenario), now=NOW, speed=0)) as sim:
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(folder),
                "OCTOSCOPE_API_KEY": KEY,
                "OCTOSCOPE_ACCOUNT": ACCOUNT,
                "OCTOSCOPE_API_URL": f"{sim}/v1",
                "OCTOSCOPE_GRAPHQL_URL": f"{sim}/v1/graphql/",
                "OCTOSCOPE_DB": str(folder / "octoscope.db"),
                "OCTOSCOPE_CONFIG": str(folder / "config.toml"),
                "OCTOSCOPE_NOW": NOW,  # the simulator's instant, whatever the machine's date
                "OCTOSCOPE_SPEED": "0",
            }
            subprocess.run(
                [sys.executable, "-m", "octoscope", "sync", "--to", "2026-11-22", "--json"],
                env=env,
                check=True,
                capture_output=True,
            )
        env.pop("OCTOSCOPE_API_KEY")
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "octoscope", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/static/app.css", timeout=5)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            half_hours = httpx.get(f"{base}/api/status", timeout=60).json()["series"]
            costs = costs_figures(base, port, server.pid)  # first: nothing of the costs is cached yet
            cold = {}
            for name, path, params in (("overview", "/api/overview", None), ("usage_year", "/api/usage", YEAR)):
                start = time.perf_counter()
                httpx.get(f"{base}{path}", params=params, timeout=60).raise_for_status()
                cold[name] = round((time.perf_counter() - start) * 1000, 1)
            figures = {}
            for name, path, params in (("overview", "/api/overview", None), ("usage_year", "/api/usage", YEAR)):
                serial = []
                with httpx.Client(base_url=base, timeout=60) as one:
                    for _ in range(200):
                        start = time.perf_counter()
                        one.get(path, params=params).raise_for_status()
                        serial.append((time.perf_counter() - start) * 1000)
                times = asyncio.run(hammer(port, path, params))
                figures[name] = {
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 0.95), 1),
                    "requests": len(times),
                    "cold_ms": cold[name],
                    "one_client_p50_ms": round(statistics.median(serial), 2),
                }
            weights = {}
            for page, data in PAGE_DATA.items():
                total = 0
                html = httpx.get(f"{base}{page}", timeout=60)
                total += len(html.content)
                for asset in ("/static/app.css", "/static/app.js"):
                    total += len(httpx.get(f"{base}{asset}", timeout=60).content)
                for url in data:
                    total += len(httpx.get(f"{base}{url}", timeout=60).content)
                weights[page] = round(total / 1024, 1)
            plotly_kb = round(len(httpx.get(f"{base}/vendor/plotly.min.js", timeout=60).content) / 1024, 1)
            in_browser = browser(base)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        json.dumps(
            {
                "bench": "web",
                "clients": CLIENTS,
                "meter_years": round(sum(s["rows"] for s in half_hours) / 17520, 2),
                **figures,
                "costs_year_by_month": costs,
                "page_weight_kb": weights,
                "plotly_js_kb": plotly_kb,
                "browser": in_browser,
                "within_target": all(f["p95_ms"] <= 50 for f in figures.values()) and max(weights.values()) <= 200,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
