"""Issue 18, "one definition of each period": the "this month", "this week" and "last month" electricity totals
that the Overview (its API and its page in a browser), the Costs page and /api/costs, and ``octoscope costs``
give are equal to the penny and carry the same label, at several instants: mid-month, the 1st of a month
just after midnight, and the two clock-change days (46 and 50 half-hours) - on the synced demo account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_NOW, Cli
from tests.servers import in_ci

CHROMIUM = "/usr/bin/chromium"  # as tests/web/test_browser.py
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

INSTANTS = [
    DEMO_NOW,  # Saturday 21 November 2026, 09:00: mid-month, mid-week
    "2026-12-01T00:10:00Z",  # the 1st just after midnight: this month is one day with no readings yet
    "2026-11-01T00:10:00Z",  # a Sunday, 1st: last month holds the 50-half-hour day
    "2026-10-25T12:00:00Z",  # the 50-half-hour day itself, the last day of its week
    "2026-03-29T12:00:00+01:00",  # the 46-half-hour day
]
# Overview row name -> the named period the Costs page and the CLI are asked for
PERIODS = {"month": "this-month", "week": "this-week", "last_month": "last-month"}


@pytest.fixture(scope="module", params=INSTANTS)
def at(request: pytest.FixtureRequest, synced_demo: Cli) -> Iterator[tuple[str, str]]:
    """(the instant, the base URL of the dashboard with its clock frozen there)."""
    app = create_app(synced_demo.settings(), clock=frozen(request.param))
    with serve_in_thread(app) as base:
        yield request.param, base


def pounds(pence: float) -> str:
    """As the pages show money (``pounds`` in app.js)."""
    return f"£{round(pence) / 100:,.2f}"  # a cost: never below zero


def overview_rows(base: str) -> dict[str, dict[str, Any]]:
    got = httpx.get(f"{base}/api/overview", timeout=120).json()
    return {p["name"]: p for p in got["fuels"]["electricity"]["periods"]}


def test_overview_api_costs_api_and_cli_agree(at: tuple[str, str], synced_demo: Cli) -> None:
    instant, base = at
    rows = overview_rows(base)
    for row, name in PERIODS.items():
        shown = rows[row]
        costs = httpx.get(f"{base}/api/costs", params={"period": name, "fuel": "electricity"}, timeout=120).json()[
            "electricity"
        ]
        printed = synced_demo.run(
            "costs", "--period", name, "--fuel", "electricity", "--json",
            env={"OCTOSCOPE_NOW": instant, "OCTOSCOPE_SPEED": "0"},
        )  # fmt: skip
        assert printed.returncode == 0, printed.stderr
        cli = json.loads(printed.stdout)["electricity"]
        # equal to the penny: the same days, the same standing charges, the same half-hours
        assert shown["pence"] == pytest.approx(costs["total_pence"], abs=0.005), (instant, name)
        assert cli["total_pence"] == costs["total_pence"], (instant, name)
        assert shown["label"] == costs["label"] == cli["label"], (instant, name)
        assert shown["label"].endswith(", standing charge included")
        assert shown["standing_included"] is costs["standing_included"] is True
        assert shown["pence"] > 0  # every period holds a day's standing charge at least
    if instant.startswith("2026-12-01"):
        assert rows["month"]["label"] == "1 Dec 2026, standing charge included"
        assert rows["month"]["kwh"] is None  # no readings yet, but the day's standing charge is owed
        assert rows["last_month"]["label"] == "1-30 Nov 2026, standing charge included"
        assert rows["week"]["label"] == "30 Nov - 1 Dec 2026, standing charge included"
    if instant == DEMO_NOW:
        assert rows["month"]["label"] == "1-21 Nov 2026, standing charge included"


def test_the_usage_totals_say_the_same(at: tuple[str, str]) -> None:
    """/api/usage over the same days, by day or by half-hour, gives the same total with the same label."""
    _, base = at
    rows = overview_rows(base)
    for resolution in ("day", "halfhour"):
        got = httpx.get(
            f"{base}/api/usage", params={"period": "this-week", "resolution": resolution}, timeout=120
        ).json()["totals"]
        assert got["pence"] == pytest.approx(rows["week"]["pence"], abs=0.005), resolution
        assert got["label"] == rows["week"]["label"]


# --- the same in a browser ---------------------------------------------------------------------------------

# Outside CI a missing browser skips the browser test, with the reason; in CI it must run.
browser_missing = not in_ci() and not Path(CHROMIUM).exists()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if browser_missing:
        pytest.skip(f"{CHROMIUM} is not installed (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def test_the_pages_show_the_same_figures_and_labels(browser: Any, at: tuple[str, str]) -> None:
    instant, base = at
    rows = overview_rows(base)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{base}/")
        page.wait_for_selector("#fuels[data-ready]", timeout=60_000)
        for row, name in PERIODS.items():
            cells = page.locator(f'[data-fuel="electricity"] tr[data-period="{row}"]')
            label = cells.locator("[data-period-label]").inner_text()
            money = cells.locator("td[data-pence]").inner_text()
            assert label == rows[row]["label"], (instant, row)
            costs_page = context.new_page()
            costs_page.goto(f"{base}/costs?period={name}")
            costs_page.wait_for_selector("#statements[data-ready]", timeout=60_000)
            fuel = costs_page.locator('#statements [data-fuel="electricity"]')
            assert fuel.locator("[data-period-label]").inner_text() == label, (instant, name)
            total = fuel.locator("tfoot td").nth(4).inner_text()  # All: kWh, Energy, Standing, Total
            assert total == money == pounds(rows[row]["pence"]), (instant, name)
            costs_page.close()
    finally:
        context.close()
