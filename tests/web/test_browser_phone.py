"""The dashboard people live with, in a real browser (Playwright on Debian's Chromium, as ``test_browser``):

- every page at 390 px, light and dark, with no sideways scroll (the page's nor a table's), every page's link
  on screen, and the columns that matter on a phone (Standing, Total, p/kWh; the windows' price) in view;
- the clock-change days with every half-hour its own bar (50 on 25 October 2026, 46 on 29 March 2026), on the
  Usage page, the Overview's energy-and-cost chart and the Prices page;
- price bars in their level's colour with a legend, and a flat price drawn on an axis from zero;
- the Overview's energy-and-cost chart stepping ◀ ▶ through days, weeks, months and years;
- empty, failed and loading states: a fresh database draws no axes, a refused range clears the old chart;
- ``/docs`` and ``/redoc`` with every request to another host refused;
- the EV page naming the charger, with no "none" down its Dispatch column.

Screenshots of every page at 1,400 px and 390 px, light and dark, go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.config import Settings
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from octoscope.web.pages import PAGES
from tests.conftest import DEMO_ACCOUNT, DEMO_NOW, Cli
from tests.live.support import copy_synced
from tests.web.test_browser import Page, browser, shot

__all__ = ["browser"]  # the module's Chromium, a fixture

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
# The last two clock changes the demo holds: 2 of the 50 half-hours are a repeated 01:00 and 01:30.
AUTUMN, SPRING = "2026-10-25", "2026-03-29"

# Everything a page has to fill in, done: its charts drawn (or saying why not) and its tables filled.
SETTLED = """() => document.body.dataset.ready === '1'
  && !document.querySelector('.chart[data-state="loading"]')
  && !Array.from(document.querySelectorAll('td.empty')).some(td => td.textContent === 'Loading…')
  && !document.querySelector('#bills-result:not([data-ready])')"""

# What scrolls sideways at this width: the page itself, or any element inside <main> that scrolls or clips
# its content (a table in an overflow box), leaving plotly's own drawing out (it is sized to its box).
SIDEWAYS = """() => {
  const root = document.documentElement;
  const found = [];
  if (root.scrollWidth > root.clientWidth) found.push(`the page: ${root.scrollWidth} px in ${root.clientWidth}`);
  for (const el of document.querySelectorAll('main *, header *')) {
    if (el.closest('.chart')) continue;
    const r = el.getBoundingClientRect();
    const name = `${el.tagName}#${el.id}.${el.className}`;
    if (r.width && (r.right > root.clientWidth + 0.5 || r.left < -0.5))
      found.push(`${name}: ${Math.round(r.left)} to ${Math.round(r.right)} px`);
    const style = getComputedStyle(el);
    if (['auto', 'scroll', 'hidden'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
      found.push(`${name} scrolls: ${el.scrollWidth} px in ${el.clientWidth}`);
  }
  return found.slice(0, 8);
}"""

# A cell's column name as the phone shows it beside the value, if it is on screen.
SHOWN = """label => Array.from(document.querySelectorAll(`td[data-label="${label}"]`)).filter(td => {
  const r = td.getBoundingClientRect();
  return r.width > 0 && r.right <= document.documentElement.clientWidth
    && getComputedStyle(td, '::before').content.includes(label);
}).length"""


@pytest.fixture(scope="module")
def base(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = copy_synced(synced_demo.db, tmp_path_factory.mktemp("phone") / "octoscope.db")
    with serve_in_thread(create_app(synced_demo.settings(db), clock=frozen(DEMO_NOW))) as url:
        yield url


@pytest.fixture(scope="module")
def autumn(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The synced demo on the morning of the autumn clock change, without an API key (nothing polls)."""
    db = copy_synced(synced_demo.db, tmp_path_factory.mktemp("autumn") / "octoscope.db")
    settings = Settings(account=DEMO_ACCOUNT, db=db, config_path=synced_demo.home / "none.toml")
    with serve_in_thread(create_app(settings, clock=frozen(f"{AUTUMN}T09:00:00Z"))) as url:
        yield url


@pytest.fixture(scope="module")
def fresh(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database nothing has been synced into yet, as after `octoscope init`."""
    folder = tmp_path_factory.mktemp("fresh")
    settings = Settings(account=DEMO_ACCOUNT, db=folder / "octoscope.db", config_path=folder / "none.toml")
    with serve_in_thread(create_app(settings, clock=frozen(DEMO_NOW))) as url:
        yield url


@dataclass
class Opened:
    page: Page

    @property
    def p(self) -> Any:
        return self.page.page

    def settle(self) -> None:
        self.p.wait_for_function(SETTLED, timeout=60_000)

    def traces(self, selector: str) -> list[dict[str, Any]]:
        self.p.wait_for_selector(f"{selector}[data-ready]", timeout=60_000)
        found: list[dict[str, Any]] = self.p.evaluate(
            """sel => { const el = document.querySelector(sel);
                 return Array.from(el.data || [], t => ({x: t.x, y: t.y, name: t.name,
                   colours: t.marker && t.marker.color, ticks: el.layout.xaxis.ticktext || null,
                   yrange: el._fullLayout.yaxis.range})); }""",
            selector,
        )
        return found


def open_page(browser: Any, url: str, scheme: str = "light", viewport: dict[str, int] = WIDE) -> Opened:
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = Page(context)
    page.open(url)
    return Opened(page)


def own_errors(errors: list[str]) -> list[str]:
    """Console errors less the browser's line for each 4xx answer a page asked for and then explained."""
    return [e for e in errors if not e.startswith("Failed to load resource: the server responded with a status of 4")]


@pytest.mark.parametrize(("name", "href"), [(name, href) for name, href, _ in PAGES])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_fits_a_phone_and_a_desktop_in_light_and_dark(
    browser: Any, base: str, name: str, href: str, scheme: str
) -> None:
    wide = open_page(browser, base + href, scheme)
    wide.settle()
    shot(wide.p, f"{name}-{scheme}-1400")
    wide_overflow = wide.p.evaluate(SIDEWAYS)
    wide.p.context.close()

    phone = open_page(browser, base + href, scheme, PHONE)
    phone.settle()
    overflow = phone.p.evaluate(SIDEWAYS)
    nav = phone.p.evaluate(
        """() => Array.from(document.querySelectorAll('header nav a'), a => {
             const r = a.getBoundingClientRect(), width = document.documentElement.clientWidth;
             return [a.textContent, r.left >= 0 && r.right <= width && r.height > 0]; })"""
    )
    shown = {label: phone.p.evaluate(SHOWN, label) for label in ("Standing", "Total", "p/kWh", "Average p/kWh")}
    vs_before = phone.p.evaluate(
        """() => Array.from(document.querySelectorAll('#fuels td:last-child'), td => {
             const r = td.getBoundingClientRect();
             return r.right <= document.documentElement.clientWidth && r.width > 0; })"""
    )
    shot(phone.p, f"{name}-{scheme}-390")
    phone.p.context.close()

    assert overflow == [], overflow
    assert wide_overflow == [], wide_overflow
    assert [label for label, on_screen in nav if not on_screen] == []  # every page's link, none hidden
    assert [label for label, _ in nav] == [title for _, _, title in PAGES]
    if name == "costs":  # the monthly statements: each month a card with its Standing, Total and p/kWh
        assert min(shown["Standing"], shown["Total"], shown["p/kWh"]) >= 12, shown
    if name == "ev":
        assert shown["p/kWh"] > 0, shown
    if name == "prices":
        assert shown["Average p/kWh"] == 3, shown  # each window's price, on screen
    if name == "overview":
        assert vs_before, "no 'vs before' column"
        assert all(vs_before), vs_before
    assert own_errors(wide.page.errors) == []
    assert own_errors(phone.page.errors) == []


@pytest.mark.parametrize(("day", "half_hours"), [(AUTUMN, 50), (SPRING, 46)])
def test_a_clock_change_day_has_every_half_hour_its_own_bar(browser: Any, base: str, day: str, half_hours: int) -> None:
    usage = open_page(browser, f"{base}/usage?from={day}&to={next_day(day)}&resolution=halfhour")
    bars, price = usage.traces("#usage-chart")
    shot(usage.p, f"usage-clock-change-{day}")
    usage.p.context.close()
    overview = open_page(browser, f"{base}/?span=day&at={day}")
    overview.settle()
    energy = overview.traces("#energy-chart")
    shot(overview.p, f"overview-clock-change-{day}")
    overview.p.context.close()

    assert len(set(bars["x"])) == len(bars["x"]) == half_hours  # none drawn over another
    assert len(set(price["x"])) == half_hours
    steps = {b - a for a, b in zip(instants(bars["x"]), instants(bars["x"])[1:], strict=False)}
    assert steps == {1800}  # evenly spaced: no gap at the missing hour, no overlap at the repeated one
    if half_hours == 50:
        assert {"01:00 BST", "01:00 GMT"} <= set(bars["ticks"]), bars["ticks"]  # the repeated hour, told apart
    for fuel in energy[:-1]:  # each fuel's half-hours, then the cost line
        assert len(set(fuel["x"])) == half_hours, fuel["name"]
    assert usage.page.errors == []
    assert overview.page.errors == []


def test_the_prices_of_a_clock_change_day(browser: Any, autumn: str) -> None:
    opened = open_page(browser, f"{autumn}/prices")
    (bars,) = opened.traces("#prices-chart")
    opened.p.context.close()
    rates = httpx.get(f"{autumn}/api/prices", timeout=60).json()["rates"]
    assert len(rates) == 50 + 48  # the 25-hour day and the next
    assert len(set(bars["x"])) == len(bars["x"]) == len(rates)
    assert opened.page.errors == []


def test_price_bars_are_coloured_by_level_with_a_legend_and_a_flat_price_starts_at_zero(
    browser: Any, base: str
) -> None:
    opened = open_page(browser, f"{base}/prices")
    (bars,) = opened.traces("#prices-chart")
    legend = opened.p.evaluate(
        "Array.from(document.querySelectorAll('#price-legend [data-level]'),"
        " s => [s.dataset.level, s.dataset.colour, s.innerText])"
    )
    shot(opened.p, "prices-levels")
    opened.p.context.close()
    gas_page = open_page(browser, f"{base}/prices?fuel=gas")
    (gas,) = gas_page.traces("#prices-chart")
    gas_page.p.context.close()

    colour = {name: rgb for name, rgb, _ in legend}
    assert [name for name, _, _ in legend] == ["green", "amber", "red"]  # no negative price: not in the legend
    assert "under 15p" in legend[0][2]
    expected = ["green" if y < 15 else "amber" if y < 25 else "red" for y in bars["y"]]
    assert bars["colours"] == [colour[level] for level in expected]
    assert {"green", "red"} <= set(expected)  # Intelligent Octopus Go: the off-peak night and the peak day
    assert gas["yrange"][0] == 0  # one flat price: drawn from zero, not zoomed into its own value
    assert len(set(gas["y"])) == 1


def test_the_overview_steps_through_days_weeks_months_and_years(browser: Any, base: str) -> None:
    opened = open_page(browser, f"{base}/")
    opened.settle()
    p = opened.p

    def period() -> tuple[str, str, str, list[dict[str, Any]]]:
        p.wait_for_selector("#energy-chart[data-ready]", timeout=60_000)
        box = p.locator("#energy")
        traces = opened.traces("#energy-chart")
        return box.get_attribute("data-span"), box.get_attribute("data-from"), box.get_attribute("data-to"), traces

    def electricity(first: str, end: str, resolution: str) -> list[float]:
        params = {"from": first, "to": end, "resolution": resolution}
        kwh: list[float] = httpx.get(f"{base}/api/usage", params=params, timeout=60).json()["points"]["kwh"]
        return kwh

    span, first, end, traces = period()
    assert (span, first, end) == ("week", "2026-11-16", "2026-11-23")  # the week of yesterday, Friday 20th
    assert [t["name"] for t in traces] == ["Electricity", "Gas", "Export (below zero)", "Cost, £"]
    assert traces[0]["y"] == electricity(first, end, "day")
    assert all(v is None or v <= 0 for v in traces[2]["y"])  # export below zero
    assert p.locator('#energy [data-step="1"]').is_disabled()  # nothing after yesterday's week
    p.click('#energy [data-step="-1"]')
    _, first, end, traces = period()
    assert (first, end, len(traces[0]["x"])) == ("2026-11-09", "2026-11-16", 7)
    assert p.locator('#energy [data-step="1"]').is_enabled()
    p.click('#energy [data-span="month"]')
    assert period()[1:3] == ("2026-11-01", "2026-12-01")
    p.click('#energy [data-step="-1"]')
    _, first, end, traces = period()
    assert (first, end, len(traces[0]["x"])) == ("2026-10-01", "2026-11-01", 31)
    assert traces[0]["y"] == electricity(first, end, "day")
    p.click('#energy [data-span="year"]')
    _, first, end, traces = period()
    assert (first, end) == ("2026-01-01", "2027-01-01")
    assert traces[0]["y"] == electricity(first, end, "month")
    p.click('#energy [data-span="day"]')  # the year holds yesterday: the day shown is yesterday
    _, first, end, traces = period()
    assert (first, end) == ("2026-11-20", "2026-11-21")
    assert traces[0]["y"] == electricity(first, end, "halfhour")
    summary = p.locator("#energy-summary").inner_text()
    shot(p, "overview-energy-day")
    p.context.close()
    assert summary.startswith("20 Nov 2026, standing charge included: electricity")
    assert opened.page.errors == []


def test_a_fresh_database_shows_empty_states_not_empty_axes(browser: Any, fresh: str) -> None:
    usage = open_page(browser, f"{fresh}/usage")
    usage.settle()
    usage.p.click("button[data-range=yesterday]")
    usage.p.wait_for_selector("#usage-chart[data-ready]", timeout=30_000)
    state = usage.p.locator("#usage-chart").get_attribute("data-state")
    note = usage.p.locator("#usage-chart .chart-note").inner_text()
    axes = usage.p.locator("#usage-chart .xtick").count()
    shot(usage.p, "usage-fresh-yesterday")
    usage.p.context.close()
    assert state in ("empty", "error")  # nothing stored: not even the account's tariff
    assert note.strip(), "a chart with nothing to draw says why"
    assert axes == 0  # no 2000-2001 axes
    for href in ("/", "/ev", "/costs", "/status", "/prices"):
        opened = open_page(browser, fresh + href)
        opened.settle()
        states = opened.p.evaluate("Array.from(document.querySelectorAll('.chart'), c => [c.id, c.dataset.state])")
        empty_rows = opened.p.locator("td.empty").count()
        ticks = opened.p.locator(".xtick").count()
        shot(opened.p, f"fresh{href.replace('/', '-') if href != '/' else '-overview'}")
        opened.p.context.close()
        assert all(state in ("empty", "error") for _, state in states), (href, states)
        assert ticks == 0, href
        if href in ("/ev", "/status"):
            assert empty_rows > 0, href
        assert [e for e in opened.page.errors if e.startswith("uncaught")] == [], (href, opened.page.errors)


def test_a_refused_range_clears_the_old_chart_and_says_why(browser: Any, base: str) -> None:
    opened = open_page(browser, f"{base}/usage?from=2026-11-13&to=2026-11-20&resolution=halfhour")
    (bars, _) = opened.traces("#usage-chart")
    assert len(bars["x"]) == 7 * 48
    p = opened.p
    p.evaluate("document.querySelector('#usage-chart').removeAttribute('data-ready')")
    p.fill("input[name=from]", "2025-01-01")
    p.fill("input[name=to]", "2026-11-01")
    p.click("#usage-form button[type=submit]")
    p.wait_for_selector("#usage-chart[data-ready]", timeout=30_000)
    state = p.locator("#usage-chart").get_attribute("data-state")
    note = p.locator("#usage-chart").inner_text()
    bars_left = p.locator("#usage-chart .bars .point").count()
    summary = p.locator("#usage-summary").inner_text()
    shot(p, "usage-refused-range")
    p.context.close()
    assert state == "error"
    assert bars_left == 0  # the old week's bars are gone
    assert "half-hourly usage is served for at most" in note
    assert "at most" in summary
    assert own_errors(opened.page.errors) == []


@pytest.mark.parametrize(("path", "ready"), [("/docs", ".swagger-ui .opblock"), ("/redoc", "li[data-item-id]")])
def test_the_api_docs_render_with_the_outside_network_blocked(browser: Any, base: str, path: str, ready: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def only_this_machine(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_machine)
    page.goto(base + path)
    page.wait_for_selector(ready, timeout=60_000)
    operations = page.locator(ready).count()
    title = page.title()
    shot(page, f"api-docs{path.replace('/', '-')}")
    context.close()
    assert operations >= 5
    assert "octoscope" in title
    assert outside == []  # asked nothing of another host: every file is this server's own
    # ReDoc's menu links to redocly.com with its logo, which the page's policy refuses (the logo hides itself).
    assert [e for e in errors if "cdn.redoc.ly" not in e] == []


def test_assets_are_served_compressed_and_cached(base: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        plotly = client.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
        again = client.get(
            "/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip", "If-None-Match": plotly.headers["etag"]}
        )
        plain = client.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
        css = client.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
    assert plotly.headers["content-encoding"] == "gzip"
    assert plotly.num_bytes_downloaded < len(plotly.content) / 3  # 4.8 MB sent as about 1.4 MB
    assert "max-age" in plotly.headers["cache-control"]
    assert again.status_code == 304
    assert again.content == b""
    assert plain.content == plotly.content
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] != plotly.headers["etag"]  # two representations, two strong ETags
    assert css.headers["content-encoding"] == "gzip"
    assert css.headers["cache-control"] == "no-cache"


def test_the_ev_page_names_the_charger_and_leaves_undispatched_sessions_blank(browser: Any, base: str) -> None:
    opened = open_page(browser, f"{base}/ev")
    opened.settle()
    devices = opened.p.locator("#devices").inner_text()
    column = opened.p.evaluate(
        "Array.from(document.querySelectorAll('#sessions-table tbody td:last-child'), td => td.innerText)"
    )
    opened.p.context.close()
    names = httpx.get(f"{base}/api/dispatches", params={"days": 30}, timeout=60).json()["device_names"]
    assert names == {"00000000-0000-4000-8000-00000000d301": "Ohme Home Pro (electric vehicle)"}
    assert devices.startswith("Ohme Home Pro")
    assert "00000000" not in devices
    assert column
    assert "none" not in column
    assert opened.page.errors == []


def next_day(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def instants(walls: list[str]) -> list[int]:
    """The chart's x values (wall-clock times at one offset) as seconds: equal steps mean equal time."""
    from datetime import UTC, datetime

    return [int(datetime.fromisoformat(w).replace(tzinfo=UTC).timestamp()) for w in walls]
