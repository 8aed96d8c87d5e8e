"""``/api/bills`` and the Bills section of the Costs page, over the simulator's 'bills' household after
``octoscope bills`` kept its statements: the API answers what the CLI prints and spends no request; the
page shows each statement's fuels, the flagged ones marked, and the balance chart (screenshot)."""

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
from tests.conftest import Cli, make_cli, simulator
from tests.web.test_browser import Page, browser, shot  # noqa: F401 (browser is a fixture)

NOW = "2026-11-21T09:00:00Z"


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, dict[str, Any], str]]:
    with simulator("bills", now=NOW) as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("bills-web"))
        cli.ok("sync")
        cli.ok("bills")
        printed = json.loads(cli.ok("bills", "--json", "--offline"))
        sim.reset_log()
        with serve_in_thread(create_app(cli.settings(), clock=frozen(NOW))) as url:
            yield cli, printed, url
        assert sim.requests_log()["requests"] == []  # nothing on the page or the API asked Octopus


def test_the_api_answers_what_the_cli_prints(kept: tuple[Cli, dict[str, Any], str]) -> None:
    _, printed, url = kept
    answer = httpx.get(f"{url}/api/bills", timeout=60)
    assert answer.status_code == 200
    assert answer.json() == printed
    assert answer.json()["flagged"] == 4
    bad = httpx.get(f"{url}/api/bills", params={"tolerance": "lots"}, timeout=60)
    assert bad.status_code == 422
    assert "tolerance" in bad.text


def test_the_bills_section_of_the_costs_page(browser: Any, kept: tuple[Cli, dict[str, Any], str]) -> None:  # noqa: F811
    _, printed, url = kept
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = Page(context)
    opened = page.open(f"{url}/costs#bills")
    opened.wait_for_selector("#bills-result[data-ready]", timeout=30_000)
    rows = opened.locator("#bills-table tbody tr[data-fuel]")
    assert rows.count() == sum(len(s["fuels"]) for s in printed["statements"])
    differs = opened.locator("#bills-table tr.differs")
    assert differs.count() == sum(not f["matches"] for s in printed["statements"] for f in s["fuels"])
    assert "4 statements differ by more than 1p" in opened.locator("#bills-flagged").inner_text()
    (balance,) = page.chart("#bills-chart")
    assert balance["y"] == [b["pence"] / 100 for b in printed["balance"]]
    opened.locator("#bills").scroll_into_view_if_needed()
    opened.locator("#bills").screenshot(
        path=str(Path(__file__).resolve().parents[2] / "test-artifacts" / "bills-tab.png")
    )
    shot(opened, "costs-with-bills")
    context.close()
    assert page.errors == []
