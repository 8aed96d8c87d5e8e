"""The tariff comparison on the Costs page as a job (issue 18), in Chromium, against a simulator whose price
lists answer 0.3 s late: a progress bar appears and moves with an estimate of the time left, a reload
reattaches to the job still running (no second POST), and the result is drawn and, on the next visit, shown
at once from the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from octoscope.clock import frozen
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import simulator
from tests.web.test_browser import Page, browser, shot
from tests.web.test_browser_prices import read_comparison
from tests.web.test_compare_job import LATER, catalogued, copy_for

__all__ = ["browser", "catalogued"]  # fixtures: the module's Chromium, the demo with its catalogue


@pytest.fixture
def slow(catalogued: Path, tmp_path: Path) -> Iterator[str]:
    with simulator(faults="latency:1:ms=300:route=rates") as sim:
        cli = copy_for(catalogued, sim, tmp_path / "browser-job")
        with serve_in_thread(create_app(cli.settings(), clock=frozen(LATER))) as url:
            yield url


def bar_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.page.evaluate(
        """(() => { const bar = document.querySelector('#compare-progress');
             return { hidden: bar.hidden, value: bar.hasAttribute('value') ? bar.value : null, max: bar.max,
                      status: document.querySelector('#compare-status').textContent,
                      ready: document.querySelector('#compare-result').dataset.ready || null }; })()"""
    )
    return state


def watch_bar(page: Page, until: float, stop: Any) -> list[dict[str, Any]]:
    seen = []
    while time.monotonic() < until:
        state = bar_state(page)
        seen.append(state)
        if stop(state):
            break
        page.page.wait_for_timeout(150)
    return seen


def test_the_progress_bar_moves_a_reload_reattaches_and_the_result_is_drawn(browser: Any, slow: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    posts: list[str] = []
    page.page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.open(f"{slow}/costs")
    page.page.click("#compare-form button[type=submit]")  # 12 months: every candidate's year of prices to fetch
    before = watch_bar(page, time.monotonic() + 120, lambda s: s["value"] is not None and s["value"] >= 3)
    shot(page.page, "costs-comparison-progress")
    page.open(f"{slow}/costs")  # a reload while it runs: the page finds the job and follows it again
    after = watch_bar(page, time.monotonic() + 300, lambda s: s["ready"] is not None)
    page.page.wait_for_selector("#compare-result[data-ready]", timeout=60_000)
    drawn = read_comparison(page)
    status = page.page.locator("#compare-status").inner_text()
    page.open(f"{slow}/costs")  # the next visit: the answer kept on the server, at once
    page.page.wait_for_selector("#compare-result[data-ready]", timeout=10_000)
    again = read_comparison(page)
    kept_status = page.page.locator("#compare-status").inner_text()
    context.close()

    moving = [s for s in before + after if not s["hidden"] and s["value"] is not None]
    assert moving, "the progress bar was shown with a value"
    values = [s["value"] for s in moving]
    assert len(set(values)) >= 3, f"the bar moved: {values}"
    assert any(" left" in s["status"] for s in moving), "an estimate of the time left was shown"
    assert any("price lists fetched" in s["status"] for s in moving)
    reattached = [s["value"] for s in after if not s["hidden"] and s["value"] is not None]
    assert reattached, "after the reload the bar came back without a click"
    assert min(reattached) >= max(s["value"] for s in before if s["value"] is not None), "it went on from there"
    assert len(posts) == 1, posts  # one job, started once
    assert set(drawn) == {"electricity", "gas", "export"}
    assert all(rows for rows in drawn.values())
    assert status.startswith("Compared ")
    assert again == drawn
    assert "Kept on the server: Octopus was not asked." in kept_status
    assert page.errors == []
