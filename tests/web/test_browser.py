"""The dashboard in a real browser: Playwright driving Debian's Chromium (``make test`` installs it).

Every page loads with no console error; charts hold the points the store holds for a known range (read from
plotly's data in the page); the token guard in a browser; a phone's width; light and dark. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.domain.models import DispatchRecord
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from octoscope.web.pages import PAGES
from tests.conftest import DEMO_NOW, Cli
from tests.live.support import copy_synced
from tests.servers import in_ci

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "a-browser-token-for-the-tests-91c2"

# Outside CI a missing browser skips these tests, with the reason; in CI (CI=true, 1 or yes) nothing may
# skip: a missing Chromium or Playwright fails, so that a green run means the browser tests ran.
if not in_ci():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs it)", allow_module_level=True)
    pytest.importorskip("playwright.sync_api")
from playwright import sync_api  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def base(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A copy: the Live page's poller keeps its token and request ledger in the database.
    db = copy_synced(synced_demo.db, tmp_path_factory.mktemp("browser") / "octoscope.db")
    with serve_in_thread(create_app(synced_demo.settings(db), clock=frozen(DEMO_NOW))) as url:
        yield url


@pytest.fixture(scope="module")
def base_with_history(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo as a household that has kept its dispatch history all along (one dispatch a year back): its
    charges outside the off-peak window that no dispatch covers are peak, none estimated (issue 18)."""
    db = copy_synced(synced_demo.db, tmp_path_factory.mktemp("history") / "octoscope.db")
    with Store.open(db) as store:
        first = datetime(2025, 11, 1, 0, 30, tzinfo=UTC)
        device = "00000000-0000-4000-8000-00000000d301"
        store.save_dispatches(
            [DispatchRecord(device, "completed", first, first + timedelta(hours=1), None, -7.0, None, None)],
            None,
            first,
        )
    with serve_in_thread(create_app(synced_demo.settings(db), clock=frozen(DEMO_NOW))) as url:
        yield url


class Page:
    """A page that records console errors and uncaught exceptions."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready]", timeout=30_000)
        return self.page

    def chart(self, selector: str) -> list[dict[str, Any]]:
        """The traces plotly holds in the page for the chart at ``selector``."""
        self.page.wait_for_selector(f"{selector}[data-ready]", timeout=30_000)
        data: list[dict[str, Any]] = self.page.evaluate(
            f"Array.from(document.querySelector('{selector}').data, t => ({{x: t.x, y: t.y, name: t.name}}))"
        )
        return data


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("name", "href"), [(name, href) for name, href, _ in PAGES])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_loads_with_no_console_error(browser: Any, base: str, name: str, href: str, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = Page(context)
    opened = page.open(base + href)
    assert opened.locator("#error").is_hidden(), opened.locator("#error").inner_text()
    assert opened.locator(f'nav a[href="{href}"]').get_attribute("aria-current") == "page"
    background = opened.evaluate("getComputedStyle(document.body).backgroundColor")
    shot(opened, f"{name}-{scheme}")
    context.close()
    assert page.errors == []
    dark = background in ("rgb(20, 20, 26)",)
    assert dark is (scheme == "dark"), background


@pytest.mark.parametrize(
    ("day", "following", "half_hours"), [("2026-03-29", "2026-03-30", 46), ("2026-10-25", "2026-10-26", 50)]
)
def test_usage_chart_holds_each_half_hour_of_a_clock_change_day(
    browser: Any, base: str, day: str, following: str, half_hours: int
) -> None:
    api = httpx.get(f"{base}/api/usage", params={"from": day, "to": following, "resolution": "halfhour"}, timeout=60)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    page.open(f"{base}/usage?from={day}&to={following}&resolution=halfhour")
    bars, price = page.chart("#usage-chart")
    shot(page.page, f"usage-{day}")
    summary = page.page.locator("#usage-summary").inner_text()
    context.close()
    assert len(bars["x"]) == len(bars["y"]) == len(price["y"]) == half_hours
    assert bars["y"] == api.json()["points"]["kwh"]
    assert price["y"] == api.json()["points"]["pence_per_kwh"]
    assert bars["x"][0] == f"{day} 00:00:00"  # UK local wall-clock time
    assert f"{half_hours} half-hours" in summary
    assert page.errors == []


def test_a_year_of_daily_usage_and_the_fuel_toggle(browser: Any, base: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    opened = page.open(f"{base}/usage?from=2025-11-01&to=2026-11-01&resolution=day")
    bars, _ = page.chart("#usage-chart")
    assert len(bars["x"]) == 365
    assert bars["x"][0] == "2025-11-01"
    opened.evaluate("document.querySelector('#usage-chart').removeAttribute('data-ready')")
    opened.select_option("select[name=fuel]", "gas")
    gas, _ = page.chart("#usage-chart")
    expected = httpx.get(
        f"{base}/api/usage", params={"from": "2025-11-01", "to": "2026-11-01", "resolution": "day", "fuel": "gas"}
    ).json()
    assert gas["y"] == expected["points"]["kwh"]
    assert "fuel=gas" in opened.url
    context.close()
    assert page.errors == []


def test_overview_costs_and_ev_charts_hold_what_the_api_answers(browser: Any, base: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    page.open(f"{base}/")
    (recent,) = page.chart("#recent-chart")
    assert len(recent["x"]) == 14
    rows = page.page.locator("#fuels [data-fuel=electricity] tbody tr").count()
    assert rows == 5  # today, yesterday, this week, this month, last month
    page.open(f"{base}/costs?from=2025-12-01&to=2026-12-01")
    costs = page.chart("#costs-chart")
    assert [t["name"] for t in costs] == ["Electricity", "Gas", "Export"]
    # 12 months asked; November 2026 runs to today, which still counts as a month bucket.
    assert all(len(t["x"]) == 12 for t in costs)
    statement = httpx.get(f"{base}/api/costs", params={"from": "2025-12-01", "to": "2026-12-01"}).json()
    assert costs[0]["y"] == pytest.approx([b["total_pence"] / 100 for b in statement["electricity"]["buckets"]])
    page.open(f"{base}/ev")
    sessions = page.chart("#sessions-chart")
    listed = httpx.get(f"{base}/api/sessions", params={"days": 30}, timeout=60).json()
    assert sum(len(t["x"]) for t in sessions) == len(listed) > 0
    assert page.page.locator("#sessions-table tbody tr").count() == len(listed)
    context.close()
    assert page.errors == []


def test_the_ev_and_costs_pages_mark_estimated_smart_charging(browser: Any, base: str) -> None:
    """Issue 18: with no dispatch history, evening charges on Intelligent Octopus Go are probable smart charges:
    each such session's cost carries an "estimated" badge with the amount at stake, and the Costs page says
    how much of the total is estimated."""
    listed = httpx.get(f"{base}/api/sessions", params={"days": 30}, timeout=60).json()
    estimated = [s for s in listed if s["estimated"]]
    assert estimated
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    opened = page.open(f"{base}/ev")
    opened.wait_for_selector("#sessions-table[data-ready]", timeout=30_000)
    badges = opened.locator("#sessions-table tbody .flag.estimated").all_inner_texts()
    assert sorted(badges) == sorted(f"estimated ±£{s['at_stake_pence'] / 100:,.2f}" for s in estimated)
    assert "estimated smart charge" in opened.locator("#sessions-summary").inner_text()
    shot(opened, "ev-estimated")
    month = httpx.get(f"{base}/api/costs", params={"from": "2026-11-01", "to": "2026-12-01"}, timeout=60).json()
    guess = month["electricity"]["estimated_smart_charging"]
    opened = page.open(f"{base}/costs?from=2026-11-01&to=2026-12-01")
    opened.wait_for_selector("#statements[data-ready]", timeout=30_000)
    line = opened.locator("[data-fuel=electricity] .estimated").inner_text()
    assert line.startswith(
        f"Includes £{guess['pence'] / 100:,.2f} estimated smart charging (±£{guess['at_stake_pence'] / 100:,.2f})"
    )
    context.close()
    assert page.errors == []


def test_vs_before_compares_energy_and_cost_each_with_its_own_arrow_and_meaning(
    browser: Any, base_with_history: str
) -> None:
    """Issue 18: "this week ▼7 %" in green beside a cost that rose 25.7 % told the wrong story. Each row says
    how the kWh and how the £ changed, each arrow its own direction, each colour what it means to the
    household: more used or paid is worse, more exported (earned) is better. (With the dispatch history kept,
    the evening charges of the week before are peak: its cost falls while its energy rises.)"""
    base = base_with_history
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    page.open(f"{base}/")
    page.page.wait_for_selector("#fuels[data-ready]", timeout=30_000)
    shown = page.page.evaluate(
        """() => Array.from(document.querySelectorAll('#fuels [data-fuel] tbody tr[data-period]'), tr => ({
             fuel: tr.closest('[data-fuel]').dataset.fuel, period: tr.dataset.period,
             changes: Array.from(tr.querySelectorAll('[data-change]'),
                                 s => [s.dataset.change, s.className, s.textContent]) }))"""
    )
    context.close()
    overview = httpx.get(f"{base}/api/overview", timeout=60).json()
    expected = {}
    for fuel, v in overview["fuels"].items():
        for p in v["periods"]:  # a period with no readings yet still has its standing charge to compare
            expected[(fuel, p["name"])] = (p["change_pct"]["kwh"], p["change_pct"]["pence"])
    seen = {(row["fuel"], row["period"]): row["changes"] for row in shown if row["changes"]}
    assert seen.keys() == expected.keys()
    moved_apart = 0
    for key, changes in seen.items():
        assert [what for what, _, _ in changes] == ["kWh", "£"], changes
        for (what, cls, text), pct in zip(changes, expected[key], strict=True):
            if pct is None:
                assert cls == "sub", (key, what, cls)
                assert text == f"{what} —", (key, what, text)
                continue
            arrow = "▲" if pct > 0 else "▼" if pct < 0 else "\uff1d"  # a full-width equals sign
            assert text == f"{what} {arrow} {abs(pct):.0f}%", (key, what, text)
            worse = pct > 0 if key[0] != "export" else pct < 0
            assert cls == ("" if pct == 0 else "worse" if worse else "better"), (key, what, cls, pct)
        kwh_pct, pence_pct = expected[key]
        moved_apart += kwh_pct is not None and pence_pct is not None and (kwh_pct > 0) != (pence_pct > 0)
    # The demo has rows where energy and cost move apart (a tariff change, a dearer mix): the case at issue.
    assert moved_apart > 0, expected
    assert page.errors == []


def test_phone_width_has_no_sideways_scrolling(browser: Any, base: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = Page(context)
    for name, href, _ in PAGES:
        opened = page.open(base + href)
        width = opened.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{href} is {width[0]} px wide on a {width[1]} px screen"
        shot(opened, f"{name}-phone")
    context.close()
    assert page.errors == []


def test_the_token_guard_in_a_browser(browser: Any, synced_demo: Cli) -> None:
    app = create_app(synced_demo.settings(), token=TOKEN, clock=frozen(DEMO_NOW))
    with serve_in_thread(app) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/usage")
        assert page.locator("input[name=token]").is_visible()
        assert "needs its access token" in page.content()
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-ready]", timeout=30_000)
        assert page.url == f"{url}/usage" or page.url.startswith(f"{url}/usage?")
        assert TOKEN not in page.url
        assert page.locator("#usage-chart[data-ready]").count() == 1
        cookies = context.cookies()
        assert [c["httpOnly"] for c in cookies] == [True]
        assert TOKEN not in cookies[0]["value"]
        context.close()
