"""A sync asks only for what can have changed: a price list whose last price is open-ended is not read again
until the next 16:00 UK publication; the scheduler's sync takes the account from the store when it was read
within the day."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from octoscope.sync.schedule import next_publication
from tests.conftest import make_cli, simulator


def price_requests(log: dict[str, object]) -> list[str]:
    requests = log["requests"]
    assert isinstance(requests, list)
    return [str(r["path"]) for r in requests if "-tariffs/" in str(r["path"])]


def test_open_ended_price_lists_are_read_again_only_after_the_next_publication(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")  # 09:00: every price list read
        sim.reset_log()
        httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T11:00:00Z"}, timeout=30).raise_for_status()
        cli.ok("sync", "--to", "2026-11-22")
        before_publication = price_requests(sim.requests_log())
        sim.reset_log()
        httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T16:30:00Z"}, timeout=30).raise_for_status()
        cli.ok("sync", "--to", "2026-11-22")
        after_publication = price_requests(sim.requests_log())
    assert before_publication == [], before_publication
    assert after_publication  # the open-ended lists, once a change could have been published


def test_the_next_publication_is_16_00_uk_time_in_summer_and_winter() -> None:
    winter = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert next_publication(winter) == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert next_publication(datetime(2026, 11, 21, 16, 0, tzinfo=UTC)) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)  # 16:30 BST
    assert next_publication(summer) == datetime(2026, 7, 2, 15, 0, tzinfo=UTC)
