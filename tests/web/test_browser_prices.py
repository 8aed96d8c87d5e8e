"""The Prices page, the Overview's cheapest window and the Costs page's tariff comparison in a real browser,
against the real ``/api/prices``, ``/api/cheapest`` and ``/api/compare``.

Two accounts: the demo (Intelligent Octopus Go, at 09:00 on 21 November 2026, prices published to midnight)
and the ``agile`` scenario on 8 November 2026, a day with negative Agile prices (at 09:00, before tomorrow's
are published; then at 17:00, after). What the page shows is read from the page (plotly's data and layout,
the tables) and checked against what the routes answer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
import pytest

from octoscope.clock import ManualClock, frozen
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import HALF_HOUR, UK
from octoscope.services.pricing import sync_prices_ahead
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from octoscope.wiring import open_octopus
from tests.conftest import DEMO_NOW, Cli, make_cli, simulator
from tests.web.test_api_prices import compared
from tests.web.test_browser import Page, browser, shot

__all__ = ["browser"]  # the module's Chromium, a fixture

DASH = "\u2013"  # the page writes times as 09:00\u201309:30
AGILE_KEY, AGILE_ACCOUNT = "sk_live_octoscope_agile_test", "A-0000A61E"
AGILE_MORNING = "2026-11-08T09:00:00Z"  # Agile published to 23:00 today; negative prices at 11:00-15:00
AGILE_EVENING = "2026-11-08T17:00:00Z"  # tomorrow's published (to 23:00 tomorrow)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def wall(instant: str | datetime) -> str:
    """An instant as UK wall-clock time, as the page lays it out on plotly's date axis."""
    at = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return at.astimezone(UK).strftime("%Y-%m-%d %H:%M:%S")


def get(base: str, path: str, **params: Any) -> Any:
    response = httpx.get(f"{base}{path}", params=params, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def demo(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A copy of the synced demo (a comparison stores tariffs' rates), served on the simulator's clock."""
    cli = make_cli(synced_demo.sim, tmp_path_factory.mktemp("browser-prices"))
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(cli.db) as target:
        source.backup(target)
    with serve_in_thread(create_app(cli.settings(), clock=frozen(DEMO_NOW))) as url:
        yield url


@dataclass
class Agile:
    url: str
    cli: Cli
    clock: ManualClock

    def move_to(self, iso: str) -> None:
        """Move the simulator and the app to ``iso`` and fetch the prices ahead, as the scheduler would."""
        httpx.post(f"{self.cli.sim.url}/_sim/clock", json={"now": iso}, timeout=30)
        self.clock.set(epoch(iso))
        settings = agile_settings(self.cli)
        with Store.open(self.cli.db) as store, ThreadPoolExecutor(1) as pool:  # Playwright holds this thread's loop
            pool.submit(asyncio.run, prices_ahead(settings, store, self.clock)).result()


async def prices_ahead(settings: Any, store: Store, clock: ManualClock) -> None:
    async with open_octopus(settings, store, clock) as octopus:
        await sync_prices_ahead(settings, store, clock, octopus)


def agile_settings(cli: Cli) -> Any:
    return replace(cli.settings(), api_key=Secret(AGILE_KEY), account=AGILE_ACCOUNT)


@pytest.fixture(scope="module")
def agile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agile]:
    with simulator("agile", now=AGILE_MORNING) as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("browser-agile"), key=AGILE_KEY, account=AGILE_ACCOUNT)
        # The CLI syncs the past only; the prices ahead are fetched as the scheduler does, on the app's clock.
        cli.ok("sync", "--from", "2026-11-01", "--to", "2026-11-08")
        clock = ManualClock(epoch(AGILE_MORNING))
        with serve_in_thread(create_app(agile_settings(cli), clock=clock)) as url:
            account = Agile(url, cli, clock)
            account.move_to(AGILE_MORNING)
            yield account


def open_page(browser: Any, url: str, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = Page(context)
    page.open(url)
    return page


PLOT = """sel => { const el = document.querySelector(sel); const t = el.data[0];
  return {x: t.x, y: t.y, colours: t.marker.color, range: el.layout.xaxis.range,
          shapes: (el.layout.shapes || []).map(s => ({name: s.name, x0: s.x0, x1: s.x1}))}; }"""


LEVELS = ("negative", "green", "amber", "red")  # the import price levels, cheapest first


def level(pence: float) -> str:
    """The level a price's bar is drawn in: below zero, under 15p, under 25p, 25p and over."""
    return "negative" if pence < 0 else "green" if pence < 15 else "amber" if pence < 25 else "red"


def plot(page: Page) -> dict[str, Any]:
    page.page.wait_for_selector("#prices-chart[data-ready]", timeout=30_000)
    found: dict[str, Any] = page.page.evaluate(PLOT, "#prices-chart")
    return found


def window_rows(page: Page) -> list[dict[str, str]]:
    page.page.wait_for_selector("#cheapest-table[data-ready]", timeout=30_000)
    rows: list[dict[str, str]] = page.page.evaluate(
        """Array.from(document.querySelectorAll('#cheapest-table tbody tr'), tr => ({
             start: tr.dataset.start, end: tr.dataset.end,
             cells: Array.from(tr.cells, td => td.innerText.trim())}))"""
    )
    return rows


def shaded(shapes: list[dict[str, Any]], rank: int) -> list[tuple[str, str]]:
    return [(s["x0"], s["x1"]) for s in shapes if s["name"] == f"window-{rank}"]


def runs(slots: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Consecutive half-hours joined, as (UK wall-clock start, end)."""
    out: list[list[datetime]] = []
    for slot in slots:
        at = datetime.fromisoformat(slot["start"])
        if out and out[-1][1] == at:
            out[-1][1] = at + HALF_HOUR
        else:
            out.append([at, at + HALF_HOUR])
    return [(wall(a), wall(b)) for a, b in out]


def test_the_prices_chart_holds_the_points_of_api_prices_on_intelligent_go(browser: Any, demo: str) -> None:
    page = open_page(browser, f"{demo}/prices")
    chart = plot(page)
    shot(page.page, "prices-intelligent-go")
    rows = window_rows(page)
    tomorrow = page.page.locator("#tomorrow-note")
    tomorrow_text = tomorrow.inner_text() if tomorrow.is_visible() else ""
    tariff_line = page.page.locator("#prices-tariff").inner_text()
    page.page.context.close()
    prices = get(demo, "/api/prices", **{"from": "2026-11-21", "to": "2026-11-23"})
    assert len(prices["rates"]) == 48  # today to midnight: tomorrow's are not published at 09:00
    assert chart["x"] == [wall(r["start"]) for r in prices["rates"]]
    assert chart["y"] == [r["pence_inc_vat"] for r in prices["rates"]]
    assert chart["range"] == ["2026-11-21 00:00:00", "2026-11-23 00:00:00"]  # today and tomorrow, room left
    assert "Tomorrow's prices are not published yet (usually about 16:00)" in tomorrow_text
    assert tariff_line.startswith(f"{prices['name']} · E-1R-INTELLI-VAR-24-10-29-J (import)")
    # The cheapest windows shown (3 hours, 3 windows by default) are the route's, ranked, and shaded.
    cheapest = get(demo, "/api/cheapest", hours=3, top=3)
    assert [(r["start"], r["end"]) for r in rows] == [(w["start"], w["end"]) for w in cheapest["windows"]]
    assert [r["cells"][3] for r in rows] == [f"{w['average_pence_per_kwh']:.2f}" for w in cheapest["windows"]]
    assert rows[0]["cells"][1:3] == ["Sat 21 Nov 21:00", "Sun 22 Nov 00:00"]  # across midnight into Sunday
    for rank, window in enumerate(cheapest["windows"], 1):
        assert shaded(chart["shapes"], rank) == [(wall(window["start"]), wall(window["end"]))]
    unpublished = [(s["x0"], s["x1"]) for s in chart["shapes"] if s["name"] == "unpublished"]
    assert unpublished == [("2026-11-22 00:00:00", "2026-11-23 00:00:00")]  # greyed: tomorrow, still to come
    (now,) = [s for s in chart["shapes"] if s["name"] == "now"]
    assert now["x0"] == "2026-11-21 09:00:00"  # the app's clock, not the browser's
    assert page.errors == []


def test_the_window_form_asks_the_route_and_keeps_its_choices_in_the_address(browser: Any, demo: str) -> None:
    page = open_page(browser, f"{demo}/prices")
    window_rows(page)
    form = page.page.locator("#cheapest-form")
    form.locator("[name=hours]").fill("1.5")
    form.locator("[name=after]").fill("18:00")
    form.locator("[name=before]").fill("07:00")
    form.locator("[name=mode]").select_option("any")
    assert form.locator("[name=top]").is_disabled()  # the cheapest half-hours in any order are one set
    form.locator("[name=kw]").fill("7")
    page.page.evaluate("document.querySelector('#cheapest-table').removeAttribute('data-ready')")
    form.locator("button[type=submit]").click()
    rows = window_rows(page)
    chart = plot(page)
    shot(page.page, "prices-any-half-hours")
    address = page.page.url
    page.open(address)  # the same choices again from the address
    again = window_rows(page)
    kept = page.page.evaluate(
        "['hours','after','before','mode','kw'].map(n => document.forms['cheapest-form'][n].value)"
    )
    page.page.context.close()
    api = get(demo, "/api/cheapest", hours=1.5, after="18:00", before="07:00", mode="any", kw="7")
    (window,) = api["windows"]
    # Every half-hour ahead costs the standard price but 23:30, the off-peak start: it, then the earliest two.
    assert [s["start"][11:16] for s in window["slots"]] == ["18:00", "18:30", "23:30"]
    assert [(r["start"], r["end"]) for r in rows] == [(window["start"], window["end"])]
    assert rows[0]["cells"][4] == f"£{window['cost_pence'] / 100:.2f} for 10.5 kWh"
    assert rows[0]["cells"][5] == f"18:00{DASH}19:00, 23:30{DASH}00:00"
    assert shaded(chart["shapes"], 1) == runs(window["slots"])
    assert "hours=1.5" in address
    assert "mode=any" in address
    assert "top=" not in address
    assert again == rows
    assert kept == ["1.5", "18:00", "07:00", "any", "7"]
    assert page.errors == []


def test_the_overview_shows_the_cheapest_three_hours_the_route_finds(browser: Any, demo: str, agile: Agile) -> None:
    for base, name in ((demo, "demo"), (agile.url, "agile")):
        page = open_page(browser, f"{base}/")
        card = page.page.locator("#cheapest-window")
        shown = (card.get_attribute("data-start"), card.get_attribute("data-end"), card.inner_text())
        page.page.context.close()
        (window,) = get(base, "/api/cheapest", hours=3, top=1)["windows"]
        assert shown[:2] == (window["start"], window["end"]), name
        assert f"{window['average_pence_per_kwh']:.2f}p/kWh" in shown[2]
        start, end = (datetime.fromisoformat(window[k]).astimezone(UK) for k in ("start", "end"))
        assert f"{start:%H:%M}{DASH}{end:%H:%M}" in shown[2]
        assert page.errors == []


def test_negative_agile_prices_are_marked_and_tomorrow_appears_once_published(browser: Any, agile: Agile) -> None:
    page = open_page(browser, f"{agile.url}/prices?hours=2")
    chart = plot(page)
    rows = window_rows(page)
    colour = dict(
        zip(
            LEVELS,
            page.page.evaluate(
                "['--blue', '--green', '--amber', '--red'].map(v => "
                "getComputedStyle(document.documentElement).getPropertyValue(v).trim())"
            ),
            strict=True,
        )
    )
    legend = page.page.locator("#price-legend [data-level]").evaluate_all("els => els.map(e => e.dataset.level)")
    marked = page.page.locator("#negative-prices").inner_text()
    note = page.page.locator("#prices-note").inner_text()
    tomorrow_hidden = page.page.locator("#tomorrow-note").is_hidden()
    shot(page.page, "prices-agile-negative")
    page.page.context.close()
    prices = get(agile.url, "/api/prices")
    rates = prices["rates"]
    negative = [r for r in rates if r["pence_inc_vat"] < 0]
    assert prices["tariff"] == "E-1R-AGILE-24-10-01-C"
    assert len(rates) == 46  # midnight to 23:00, where Agile's published day ends
    assert chart["x"] == [wall(r["start"]) for r in rates]
    assert chart["y"] == [r["pence_inc_vat"] for r in rates]
    assert len(negative) == 18
    assert chart["colours"] == [colour[level(r["pence_inc_vat"])] for r in rates]  # by level, negatives apart
    assert {level(r["pence_inc_vat"]) for r in rates} == {"negative", "green", "amber", "red"}
    assert legend == list(LEVELS)  # each colour explained
    assert marked == "18 half-hours at a negative price"
    for stretch in ("00:00", "00:30"), ("01:00", "06:00"), ("11:00", "12:00"), ("12:30", "15:00"):
        assert f"Sun 8 Nov {stretch[0]}{DASH}{stretch[1]}" in note
    assert not tomorrow_hidden
    windows = get(agile.url, "/api/cheapest", hours=2, top=3)["windows"]
    assert [(r["start"], r["end"]) for r in rows] == [(w["start"], w["end"]) for w in windows]
    assert windows[0]["average_pence_per_kwh"] < 0  # paid to run the dishwasher at 13:00
    assert page.errors == []

    agile.move_to(AGILE_EVENING)
    try:
        page = open_page(browser, f"{agile.url}/prices")
        chart = plot(page)
        tomorrow_hidden = page.page.locator("#tomorrow-note").is_hidden()
        shot(page.page, "prices-agile-tomorrow")
        page.page.context.close()
        rates = get(agile.url, "/api/prices")["rates"]
    finally:
        agile.move_to(AGILE_MORNING)
    assert len(rates) == 48 + 46  # today, and tomorrow to 23:00
    assert chart["x"] == [wall(r["start"]) for r in rates]
    assert tomorrow_hidden
    assert page.errors == []


def test_the_prices_of_a_flat_tariff(browser: Any, demo: str) -> None:
    page = open_page(browser, f"{demo}/prices?fuel=gas")
    chart = plot(page)
    tariff_line = page.page.locator("#prices-tariff").inner_text()
    note = page.page.locator("#prices-note").inner_text()
    tomorrow_hidden = page.page.locator("#tomorrow-note").is_hidden()
    shot(page.page, "prices-flat-gas")
    page.page.context.close()
    gas = get(demo, "/api/prices", fuel="gas")
    assert len(chart["y"]) == len(gas["rates"]) == 96
    assert chart["y"] == [r["pence_inc_vat"] for r in gas["rates"]]
    assert "one price in force until further notice" in tariff_line
    assert f"one price all day: {gas['rates'][0]['pence_inc_vat']:.2f}p/kWh" in note
    assert tomorrow_hidden  # a price until further notice: nothing to wait for
    assert not [s for s in chart["shapes"] if s["name"].startswith("window-")]  # windows are for import
    assert page.errors == []


def test_the_tariff_comparison_on_demand_with_the_routes_totals(browser: Any, demo: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    asked: list[str] = []
    asked_methods: list[str] = []

    def seen(r: Any) -> None:
        if "/api/compare" in r.url:
            asked.append(r.url)
            asked_methods.append(r.method)

    page.page.on("request", seen)
    page.open(f"{demo}/costs")
    page.page.wait_for_load_state("networkidle")
    # Opening the Costs page starts nothing: it only reads (GET) the jobs and the comparison kept.
    assert asked
    assert all(m == "GET" and "/api/compare/kept?" in u for m, u in zip(asked_methods, asked, strict=True))
    page.page.select_option("#compare-form select[name=months]", "1")  # reads the answer kept for it, if any
    page.page.click("#compare-form button[type=submit]")
    page.page.wait_for_selector("#compare-result[data-ready]", timeout=180_000)
    posted = asked_methods.index("POST")  # what starting and following the job asked; later pages add more
    job_asked, job_methods = asked[posted:], asked_methods[posted:]
    shown = read_comparison(page)
    status = page.page.locator("#compare-status").inner_text()
    shot(page.page, "costs-comparison")
    page.open(f"{demo}/costs")  # the last comparison, kept in this browser, without asking again
    page.page.wait_for_selector("#compare-result[data-ready]", timeout=30_000)
    kept = read_comparison(page)
    page.page.set_viewport_size({"width": 390, "height": 844})
    page.open(f"{demo}/costs")
    page.page.wait_for_selector("#compare-result[data-ready]", timeout=30_000)
    width = page.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    shot(page.page, "costs-comparison-phone")
    context.close()
    assert width[0] <= width[1], f"the comparison is {width[0]} px wide on a {width[1]} px screen"
    assert job_asked[0].endswith("/api/compare?months=1")  # the job, started once with a POST, then followed
    assert job_methods[0] == "POST"
    assert all(m == "GET" and "/api/compare/" in u for m, u in zip(job_methods[1:], job_asked[1:], strict=True))
    job = compared(demo, months=1)
    assert job["status"] == "done"
    body = job["result"]
    assert body["requests"] == {"rest": 0, "graphql": 0}  # the page's comparison fetched every price
    expected = {
        fuel: [(mine["tariff"], mine["total_pence"])]
        + [(t["tariff"], t["total_pence"]) for t in body["tariffs"] if t["fuel"] == fuel]
        for fuel, mine in body["current"].items()
    }
    assert {f: [(t, float(p)) for t, p, _ in rows] for f, rows in shown.items()} == expected
    assert set(shown) == {"electricity", "gas", "export"}
    for fuel, rows in shown.items():
        for (_, _, text), (_, total) in zip(rows, expected[fuel], strict=True):
            assert f"£{total / 100:,.2f}" in text, (fuel, text)
    assert kept == shown
    assert "Compared" in status
    assert f"region {body['region']['letter']}" in status
    assert page.errors == []


def read_comparison(page: Page) -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = page.page.evaluate(
        """Object.fromEntries(Array.from(document.querySelectorAll('#compare-result [data-fuel]'), div =>
             [div.dataset.fuel, Array.from(div.querySelectorAll('tbody tr'),
               tr => [tr.dataset.tariff, tr.dataset.total, tr.innerText])]))"""
    )
    return found
