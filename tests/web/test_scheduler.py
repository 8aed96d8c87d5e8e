"""The scheduler doing what it decided, against the simulator: the account and dispatches on the demo, and
Agile prices for tomorrow fetched once they are published at 16:00, then left alone."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import httpx

from octoscope.clock import ManualClock
from octoscope.domain.models import Charge
from octoscope.store.sqlite import Store
from octoscope.web.scheduler import JobRun, Scheduler
from tests.conftest import DEMO_NOW, make_cli, simulator


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_started_right_after_a_sync_the_scheduler_asks_octopus_nothing(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        sim.reset_log()
        with Store.open(cli.db) as store:
            now = epoch(DEMO_NOW)
            clock = ManualClock(now + 30)
            scheduler = Scheduler(cli.settings(), store, clock)
            # The CLI's sync is taken as this morning's, and its reading of the account (with the car's state)
            # as today's: nothing is due 30 s later; the demo has no Agile tariff.
            at_start = asyncio.run(scheduler.tick())
            jobs = {j["job"]: j for j in scheduler.snapshot()}
            log = sim.requests_log()
            # The car is not plugged in: its dispatches are read an hour after the account was.
            clock.set(now + 3600)
            httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T10:00:00Z"}, timeout=30)
            an_hour_on = asyncio.run(scheduler.tick())
            again = asyncio.run(scheduler.tick())
        later = sim.requests_log()
    assert at_start == []
    assert log["requests"] == []
    assert jobs["account"]["last_run"]["outcome"] == "ok"
    assert jobs["account"]["next_run"] == "2026-11-22T09:00:00+00:00"
    assert jobs["dispatches"]["next_run"] == "2026-11-21T10:00:00+00:00"
    assert jobs["dispatches"]["why"] == "not plugged in"
    assert jobs["prices"]["next_run"] is None
    assert jobs["prices"]["why"] == "no tariff with day-ahead prices"
    assert jobs["consumption"]["last_run"]["outcome"] == "ok"
    assert not jobs["consumption"]["due"]
    assert an_hour_on == ["dispatches"]
    assert again == []
    fields = [f for r in later["requests"] for f in r.get("fields", [])]  # type: ignore[union-attr]
    assert fields.count("flexPlannedDispatches") == 1


def test_agile_prices_for_tomorrow_are_fetched_from_1600_until_stored(tmp_path: Path) -> None:
    key, account = "sk_live_octoscope_agile_test", "A-0000A61E"
    with simulator("agile") as sim:
        cli = make_cli(sim, tmp_path, key=key, account=account)
        cli.ok("sync", "--to", "2026-11-22")  # at 09:00: Agile prices known to 23:00 today
        clock = ManualClock(epoch("2026-11-21T15:00:00Z"))
        with Store.open(cli.db) as store:
            kinds = store.tariff_kinds().items()
            tariff = next(c for c, kind in kinds if kind == "HalfHourlyTariff" and "OUTGOING" not in c)
            scheduler = Scheduler(cli.settings(), store, clock)
            # As if the morning's sync and account reading were done, on the test's clock.
            scheduler.runs["consumption"] = JobRun(datetime.fromisoformat("2026-11-21T06:00:00+00:00"), None, True)
            scheduler.runs["account"] = JobRun(datetime.fromisoformat("2026-11-21T06:00:00+00:00"), None, True)
            before = asyncio.run(scheduler.tick())
            httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T16:05:00Z"}, timeout=30)
            clock.set(epoch("2026-11-21T16:05:00Z"))
            at_four = asyncio.run(scheduler.tick())
            after = asyncio.run(scheduler.tick())
            rates = store.rates(tariff, Charge.STANDARD, datetime.fromisoformat("2026-11-22T12:00:00+00:00"), None)
            jobs = {j["job"]: j for j in scheduler.snapshot()}
    assert "prices" not in before  # known to 23:00 today, and it is not 16:00 yet
    assert "prices" in at_four
    assert after == []
    assert max(r.valid_to for r in rates if r.valid_to) == datetime.fromisoformat("2026-11-22T23:00:00+00:00")
    assert jobs["prices"]["next_run"] == "2026-11-22T16:00:00+00:00"
    assert jobs["prices"]["why"] == "stored through tomorrow"
