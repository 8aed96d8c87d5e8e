"""The Live page moves every 10 seconds though Octopus hands readings over a batch a minute and more: the server
plays them out a stated delay behind the meter. The simulator's clock and the server's are stepped together
(ten seconds of theirs in a fraction of a real one), so two minutes of watching take seconds."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from tests.conftest import Cli, simulator
from tests.live.support import ManualClock, copy_synced, settings_for
from tests.web.test_browser import Page, browser, shot
from tests.web.test_browser_live import EVENING, epoch, live_server

__all__ = ["browser"]

FIGURE = """() => { const d = document.querySelector('#demand');
  const text = (f) => d.querySelector(`[data-field="${f}"]`).textContent;
  return {time: d.dataset.time || null, watts: text('watts'), asOf: text('as-of'), playout: text('playout'),
          delay: Number(d.dataset.playout)}; }"""


def figure(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.page.evaluate(FIGURE)
    return found


def test_the_live_figure_moves_every_ten_seconds_between_batches(
    browser: Any, synced_demo: Cli, tmp_path: Path
) -> None:
    start = epoch(EVENING)
    clock = ManualClock(start)
    db = copy_synced(synced_demo.db, tmp_path / "live.db")
    with simulator(now=EVENING) as sim, live_server(sim, settings_for(sim, db, playout=None), clock) as (base, drive):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = Page(context)
        page.open(f"{base}/live")
        drive.viewers(1)
        # The first view shows a reading at once: the first poll's hour, up to the play-out delay ago.
        first = figure(page)
        assert first["time"] is not None
        delay = first["delay"]
        status = drive.get("/api/live/status")
        assert delay == status["playout_seconds"] > 0
        assert f"Shown {round(delay)} s behind the meter" in first["playout"]
        assert epoch(first["time"]) + 10 + delay <= clock() < epoch(first["time"]) + 20 + delay
        shown = [(clock(), first["time"])]
        for _ in range(12):  # two minutes of the clocks, ten seconds a step: polls bring batches meanwhile
            before = shown[-1][1]
            drive.advance(10)
            page.page.wait_for_function(
                "t => document.querySelector('#demand').dataset.time !== t", arg=before, timeout=15_000
            )
            now = figure(page)
            shown.append((clock(), now["time"]))
            assert epoch(now["time"]) == epoch(before) + 10  # the next reading: one at a time, none skipped
            assert now["asOf"].endswith(" s ago")
            assert now["asOf"].startswith("as of ")
        calls = drive.get("/api/live/status")["polls"]
        shot(page.page, "live-playout")
        context.close()
    changes = [b - a for (a, _), (b, _) in itertools.pairwise(shown)]
    assert all(step <= 15 for step in changes), changes  # the figure changed at least every 15 s of the clocks
    assert shown[-1][0] - shown[0][0] >= 120
    assert 2 <= len(calls) <= 4  # polls went at their usual pace (a minute apart here), not faster
    assert page.errors == []
