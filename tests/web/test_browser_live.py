"""The Live page in a real browser against the real ``/api/live`` routes and the simulator's Home Mini.

The test moves time: the simulator's clock and the server's together, ten seconds a step, each step once the
server's one poller has done what was due (``tests/live/support.Session``, on an event loop in a thread of its
own, since Playwright's sync API holds this one's). What the page shows is read from the page (plotly's data,
the DOM, computed colours) and compared with what the server sent: the test watches the same stream as a
viewer of its own. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import threading
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from octoscope.config import Settings
from octoscope.simulator.threaded import free_port, serve_in_thread
from octoscope.web.app import create_app
from octoscope.web.auth import COOKIE
from tests.conftest import DEMO_NOW, Cli, SimServer, simulator
from tests.live.support import ManualClock, Session, Viewer, copy_synced, set_sim_clock, settings_for
from tests.web.test_browser import TOKEN, Page, browser, shot

__all__ = ["browser"]  # the Chromium of test_browser, a fixture

T = TypeVar("T")
# An afternoon of the demo whose next minutes have every level: a kettle (yellow), then the oven (red, orange).
EVENING = "2026-11-20T16:24:00Z"
WINDOW = 300  # the chart's five minutes
LEVELS = ("green", "blue", "yellow", "orange", "red")


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def level_of(watts: float) -> str:
    """The issue's levels: under 500 W green, 500-1000 blue, 1000-2000 yellow, 2000-3000 orange, over 3000 red."""
    if watts < 500:
        return "green"
    if watts < 1000:
        return "blue"
    if watts < 2000:
        return "yellow"
    if watts <= 3000:
        return "orange"
    return "red"


def wall(time: str, at_offset_of: str) -> str:
    """A reading's instant as wall-clock time at the offset of another (the newest) reading's time."""
    zone = datetime.fromisoformat(at_offset_of).tzinfo
    return datetime.fromisoformat(time).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def pence_text(pence: float) -> str:
    """A sum as the page writes it: "0.42p", "12.3p", "£1.23"."""
    if abs(pence) < 100:
        return f"{pence:.{2 if abs(pence) < 10 else 1}f}p"
    return f"£{pence / 100:,.2f}"


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


class Driver:
    """The test's hand on time and its own viewer of the stream, on an event loop in a thread of its own."""

    def __init__(self, sim: SimServer, base: str, clock: ManualClock, token: str | None = None) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.viewer = Viewer()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-driver", daemon=True)
        self.thread.start()
        self.session = self.run(self._session(sim, base, clock))

    async def _session(self, sim: SimServer, base: str, clock: ManualClock) -> Session:
        session = Session(sim, base, clock)
        session.http.headers.update(self.headers)
        return session

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=300)

    def watch(self, last_event_id: int | None = None) -> None:
        """Connect the test's viewer (resuming after ``last_event_id``) and wait until the server counts it."""
        headers = {**self.headers, **({"Last-Event-ID": str(last_event_id)} if last_event_id else {})}

        async def go() -> None:
            self.session.watch(self.viewer, headers=headers)
            await self.session.viewers(1)

        self.run(go())

    def viewers(self, count: int) -> None:
        self.run(self.session.viewers(count))

    def advance(self, seconds: float) -> None:
        self.run(self.session.advance(seconds))

    def next_poll(self) -> list[dict[str, Any]]:
        """Step the clocks until a poll brings readings (two minutes at most); the readings it brought."""
        count = len(self.viewer.data)
        for _ in range(12):
            self.advance(10)
            if len(self.viewer.data) > count:
                return self.viewer.data[count:]
        raise AssertionError("no reading came in two minutes")

    def get(self, path: str, **params: Any) -> Any:
        async def go() -> Any:
            answer = await self.session.http.get(f"{self.base}{path}", params=params)
            answer.raise_for_status()
            return answer.json()

        return self.run(go())

    def close(self) -> None:
        self.run(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@contextlib.contextmanager
def live_server(
    sim: SimServer, settings: Settings, clock: ManualClock, token: str | None = None, port: int | None = None
) -> Iterator[tuple[str, Driver]]:
    """The web app on a real socket, on the stepped clock; open streams get a second when it stops."""
    app = create_app(settings, token=token, clock=clock)
    with serve_in_thread(app, graceful_seconds=1, port=port) as base:
        driver = Driver(sim, base, clock, token)
        try:
            yield base, driver
        finally:
            driver.close()


SHOWN = """() => {
  const chart = document.querySelector('#live-chart'), t = chart.data[0];
  const demand = document.querySelector('#demand'), level = demand.querySelector('[data-field=level]');
  const cost = document.querySelector('#live-cost'), status = document.querySelector('#live-status');
  const text = (root, f) => root.querySelector(`[data-field="${f}"]`).textContent;
  const css = (n) => getComputedStyle(document.documentElement).getPropertyValue(n).trim();
  return {
    x: t.x, y: t.y, hover: t.customdata, markers: t.marker.color, range: chart.layout.xaxis.range,
    annotations: (chart.layout.annotations || []).map(a => a.text), updates: Number(chart.dataset.updates || 0),
    time: demand.dataset.time || null, watts: text(demand, 'watts'), kw: text(demand, 'kw'), at: text(demand, 'at'),
    level: level.hidden ? null : level.textContent, levelClass: level.className,
    levelBackground: getComputedStyle(level).backgroundColor, edge: getComputedStyle(demand).borderLeftColor,
    palette: Object.fromEntries(['green', 'blue', 'yellow', 'orange', 'red'].map(l => [l, css('--' + l)])),
    perHour: cost.dataset.perHour, day: cost.dataset.day, month: cost.dataset.month,
    sincePence: Number(cost.dataset.sincePence), sinceReadings: Number(cost.dataset.sinceReadings),
    perHourText: text(cost, 'per-hour'), sinceText: text(cost, 'since'),
    dayText: text(cost, 'day'), monthText: text(cost, 'month'),
    state: status.dataset.state, label: text(status, 'state'), message: text(status, 'message'),
    connection: status.dataset.connection || null, connectionText: text(status, 'connection'),
  };
}"""


def shown(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.page.evaluate(SHOWN)
    return found


def until_showing(page: Page, time: str) -> dict[str, Any]:
    """What the page shows once its newest reading is the one at ``time`` (the stream's doing, not a timer's)."""
    page.page.wait_for_function("t => document.querySelector('#demand').dataset.time === t", arg=time, timeout=30_000)
    return shown(page)


def until_costed(page: Page, dashboard: dict[str, Any]) -> dict[str, Any]:
    """What the page shows once its cost figures are the dashboard's (asked by the test at the same instant)."""
    page.page.wait_for_function(
        """c => { const d = document.querySelector('#live-cost').dataset;
                  return Number(d.perHour) === c.cost_per_hour_pence && Number(d.day) === c.projected_day_pence
                      && Number(d.month) === c.projected_month_pence; }""",
        arg=dashboard["cost"],
        timeout=30_000,
    )
    return shown(page)


def assert_costed(seen: dict[str, Any], dashboard: dict[str, Any], newest: dict[str, Any]) -> dict[str, Any]:
    cost = dashboard["cost"]
    assert cost["cost_per_hour_pence"] == pytest.approx(
        newest["demand_w"] / 1000 * cost["rate_pence_per_kwh"], rel=1e-3
    )
    assert seen["perHourText"] == f"{pence_text(cost['cost_per_hour_pence'])} an hour"
    assert seen["dayText"] == f"~{pence_text(cost['projected_day_pence'])}"
    assert seen["monthText"] == f"~{pence_text(cost['projected_month_pence'])}"
    assert (seen["state"], seen["label"], seen["message"]) == ("ok", "Live", dashboard["status"]["message"])
    return seen


def window(readings: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The five minutes up to the newest of the readings sent (by time), oldest first."""
    ordered = [readings[t] for t in sorted(readings, key=epoch)]
    newest = epoch(ordered[-1]["time"])
    return [r for r in ordered if epoch(r["time"]) > newest - WINDOW]


def assert_chart_shows(seen: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    newest = expected[-1]
    assert len(seen["x"]) == len(seen["y"]) == len(expected) == 30
    assert seen["y"] == [r["demand_w"] for r in expected]
    assert seen["x"] == [wall(r["time"], newest["time"]) for r in expected]
    end = datetime.fromisoformat(newest["time"]) + timedelta(seconds=10)
    assert seen["range"] == [
        wall((end - timedelta(seconds=WINDOW)).isoformat(), newest["time"]),
        wall(end.isoformat(), newest["time"]),
    ]
    assert seen["markers"] == [seen["palette"][level_of(r["demand_w"])] for r in expected]
    assert [r["level"] for r in expected] == [level_of(r["demand_w"]) for r in expected]  # the server's own levels


def assert_demand_shows(seen: dict[str, Any], reading: dict[str, Any]) -> None:
    watts = reading["demand_w"]
    level = level_of(watts)
    assert seen["time"] == reading["time"]
    assert seen["watts"] == f"{round(watts):,} W"
    assert seen["kw"] == f"{watts / 1000:.3f} kW"
    assert seen["level"] == level
    assert seen["levelClass"] == f"level level-{level}"
    assert seen["levelBackground"] == seen["edge"] == rgb(seen["palette"][level])
    local = datetime.fromisoformat(reading["time"]).strftime("%H:%M:%S")  # the time as sent is UK local
    assert seen["at"].startswith(f"at {local}")


def test_the_live_page_follows_the_stream_as_the_clocks_move(browser: Any, synced_demo: Cli, tmp_path: Path) -> None:
    start = epoch(EVENING)
    clock = ManualClock(start)
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    with simulator(now=EVENING) as sim, live_server(sim, settings_for(sim, db), clock) as (base, drive):
        drive.watch()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = Page(context)
        asked: list[str] = []
        page.page.on("request", lambda r: asked.append(r.url.removeprefix(base)))
        page.open(f"{base}/live")
        drive.viewers(2)  # the page's stream too
        sent = {r["time"]: r for r in drive.get("/api/live/telemetry", minutes=5)["readings"]}
        first = window(sent)
        seen = until_showing(page, first[-1]["time"])
        assert_chart_shows(seen, first)
        assert_demand_shows(seen, first[-1])
        assert seen["updates"] == 0
        assert_costed(until_costed(page, drive.get("/api/live/dashboard")), drive.get("/api/live/dashboard"), first[-1])
        levels_seen: set[str] = set()
        polls = 0
        for _ in range(42):  # seven minutes, ten seconds a step; each step that brought readings is checked
            count = len(drive.viewer.data)
            drive.advance(10)
            if len(drive.viewer.data) == count:
                continue
            polls += 1
            sent.update({r["time"]: r for r in drive.viewer.data})
            expected = window(sent)
            newest = expected[-1]
            assert newest == drive.get("/api/live/current")["reading"]  # the server's newest
            seen = until_showing(page, newest["time"])
            assert_chart_shows(seen, expected)
            assert_demand_shows(seen, newest)
            after_open = [r for t, r in sent.items() if epoch(t) > epoch(first[-1]["time"])]
            assert seen["updates"] == len(after_open)  # every reading once, from the stream
            since = [r for t, r in sent.items() if epoch(t) >= start]  # the page opened at the start
            assert seen["sinceReadings"] == len(since)
            assert seen["sincePence"] == pytest.approx(sum(r["pence"] for r in since), abs=1e-9)
            assert seen["sinceText"] == pence_text(seen["sincePence"])
            # New readings: the page asks again for the cost at this demand, as the test does at the same instant.
            dashboard = drive.get("/api/live/dashboard")
            seen = assert_costed(until_costed(page, dashboard), dashboard, newest)
            assert seen["connection"] == "open"
            levels_seen |= {level_of(w) for w in seen["y"]}
            if polls == 3:
                shot(page.page, "live-oven-on")
        shot(page.page, "live-following")
        context.close()
    assert polls >= 6  # a poll a minute
    assert seen["updates"] >= 36  # six readings each
    assert levels_seen == set(LEVELS)  # the scenario's minutes went through every colour
    streams = [u for u in asked if u.startswith("/api/live/stream")]
    assert streams == [f"/api/live/stream?resume={int(epoch(first[-1]['time']))}"]  # one stream, from the newest shown
    assert not [u for u in asked if u.startswith("/api/live/telemetry")]  # the chart is fed by the stream
    assert page.errors == []


def test_a_reconnect_after_a_server_restart_resumes_with_no_gap(browser: Any, synced_demo: Cli, tmp_path: Path) -> None:
    start = epoch(DEMO_NOW)
    clock = ManualClock(start)
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    port = free_port()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    with simulator() as sim:
        settings = settings_for(sim, db)
        with live_server(sim, settings, clock, port=port) as (base, drive):
            drive.watch()
            page.open(f"{base}/live")
            drive.viewers(2)
            sent = {r["time"]: r for r in drive.get("/api/live/telemetry", minutes=5)["readings"]}
            opened_at = epoch(window(sent)[-1]["time"])
            drive.advance(120)
            sent.update({r["time"]: r for r in drive.viewer.data})
            before = until_showing(page, window(sent)[-1]["time"])
            last = int(epoch(before["time"]))
        page.page.wait_for_function("() => document.querySelector('#live-status').dataset.connection !== 'open'")
        assert "reconnecting" in shown(page)["connectionText"]
        set_sim_clock(sim, now=datetime.fromtimestamp(clock() + 60, UTC).isoformat(), speed=0)
        clock.advance(60)  # a minute down
        back = clock()
        with live_server(sim, settings, clock, port=port) as (base, drive):
            drive.watch(last_event_id=last)  # the test's viewer resumes as the page's EventSource does
            drive.advance(120)
            sent.update({r["time"]: r for r in drive.viewer.data})
            expected = window(sent)
            assert expected[-1] == drive.get("/api/live/current")["reading"]
            until_showing(page, expected[-1]["time"])
            page.page.wait_for_function("() => document.querySelector('#live-status').dataset.connection === 'open'")
            shot(page.page, "live-after-restart")
            seen = shown(page)
            context.close()
    assert_chart_shows(seen, expected)  # thirty readings, ten seconds apart
    missed = [t for t in sent if last < epoch(t) < back - 10]  # what came to be while the server was away
    assert len(missed) >= 6
    assert set(missed) <= {r["time"] for r in expected}
    assert seen["updates"] == len([t for t in sent if epoch(t) > opened_at])  # every reading once
    assert seen["connectionText"] == ""
    # The only complaint is the browser's, of the stream cut off when the server stopped.
    assert set(page.errors) <= {
        "Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING",
        "Failed to load resource: net::ERR_CONNECTION_REFUSED",
    }, page.errors


def test_an_account_without_a_home_mini_is_shown_plainly(browser: Any, tmp_path: Path) -> None:
    clock = ManualClock(epoch(DEMO_NOW))
    with simulator("no_home_mini", now=DEMO_NOW) as sim:
        settings = settings_for(sim, tmp_path / "nomini.db", key="sk_live_octoscope_nomini_test", account="A-00000000")
        with live_server(sim, settings, clock) as (base, drive):
            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page = Page(context)
            page.open(f"{base}/live")
            drive.viewers(1)
            drive.advance(120)
            page.page.wait_for_function("() => document.querySelector('#live-status').dataset.connection === 'open'")
            seen = shown(page)
            status = drive.get("/api/live/status")
            width = page.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            shot(page.page, "live-no-home-mini-phone")
            context.close()
    assert status["state"] == "no_device"
    assert (seen["state"], seen["label"]) == ("no_device", "No Home Mini")
    assert seen["message"] == status["message"]
    assert seen["message"].startswith("no Home Mini on the account")
    assert (seen["watts"], seen["level"], seen["at"]) == ("—", None, "no Home Mini to read")
    assert seen["x"] == seen["y"] == []
    assert seen["annotations"] == ["No Home Mini on this account"]
    assert seen["perHourText"] == seen["sinceText"] == "—"
    assert width[0] <= width[1]
    assert page.errors == []


def test_the_token_guard_with_the_stream(browser: Any, synced_demo: Cli, tmp_path: Path) -> None:
    clock = ManualClock(epoch(DEMO_NOW))
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    with simulator() as sim, live_server(sim, settings_for(sim, db), clock, token=TOKEN) as (base, drive):
        drive.watch()
        with httpx.Client(base_url=base, timeout=10) as other:
            bare = other.get("/api/live/stream")
            forged = other.get("/api/live/stream", headers={"Cookie": f"{COOKIE}={TOKEN}"})
        context = browser.new_context()
        page = Page(context)
        refused = page.page.goto(f"{base}/live")
        assert refused is not None
        assert refused.status == 401
        streams: list[int] = []
        page.page.on("response", lambda r: streams.append(r.status) if "/api/live/stream" in r.url else None)
        page.open(f"{base}/live?token={TOKEN}")  # logs in: the cookie, and the address cleaned of the token
        assert page.page.url == f"{base}/live"
        drive.viewers(2)
        opened_at = epoch(drive.viewer.data[-1]["time"])
        newest = drive.next_poll()[-1]
        seen = until_showing(page, newest["time"])
        cookies = context.cookies()
        content = page.page.content()
        context.close()
    assert bare.status_code == forged.status_code == 401
    assert bare.json()["detail"].startswith("an access token is required")
    assert streams == [200]  # the page's EventSource, let in by the login's cookie
    assert seen["updates"] == len([r for r in drive.viewer.data if epoch(r["time"]) > opened_at]) >= 6
    assert_demand_shows(seen, newest)
    assert [(c["name"], c["httpOnly"]) for c in cookies] == [(COOKIE, True)]
    issued, _, digest = cookies[0]["value"].partition(".")  # when, on the app's clock, and a keyed digest
    assert epoch(DEMO_NOW) <= int(issued) <= clock()
    assert re.fullmatch("[0-9a-f]{64}", digest)
    assert TOKEN not in cookies[0]["value"]
    assert TOKEN not in content
    assert all("status of 401" in e for e in page.errors), page.errors  # the refused first visit only


@pytest.mark.parametrize(
    ("start", "before", "after"),
    [
        ("2026-10-25T00:58:00Z", "+01:00", "+00:00"),  # 01:59:50 BST, then 01:00:00 GMT
        ("2026-03-29T00:58:00Z", "+00:00", "+01:00"),  # 00:59:50 GMT, then 02:00:00 BST
    ],
)
def test_the_chart_runs_straight_through_a_clock_change(
    browser: Any, synced_demo: Cli, tmp_path: Path, start: str, before: str, after: str
) -> None:
    clock = ManualClock(epoch(start))
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    with simulator(now=start) as sim, live_server(sim, settings_for(sim, db), clock) as (base, drive):
        drive.watch()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = Page(context)
        page.open(f"{base}/live")
        drive.viewers(2)
        sent = {r["time"]: r for r in drive.get("/api/live/telemetry", minutes=5)["readings"]}
        first = until_showing(page, window(sent)[-1]["time"])
        drive.advance(240)
        sent.update({r["time"]: r for r in drive.viewer.data})
        expected = window(sent)
        seen = until_showing(page, expected[-1]["time"])
        shot(page.page, f"live-clock-change-{start[:10]}")
        context.close()
    assert first["time"].endswith(before)
    assert expected[-1]["time"].endswith(after)
    assert any(r["time"].endswith(before) for r in expected)  # the five minutes straddle the change
    assert_chart_shows(seen, expected)
    steps = [datetime.fromisoformat(x).timestamp() for x in seen["x"]]
    assert all(b - a == 10 for a, b in itertools.pairwise(steps))  # no jump of an hour either way
    assert seen["hover"] == [datetime.fromisoformat(r["time"]).strftime("%H:%M:%S") for r in expected]
    assert_demand_shows(seen, expected[-1])
    assert page.errors == []
