"""The scheduler doing what it decided, against the simulator: the account, statements and dispatches on the
demo, Agile prices for tomorrow fetched once they are published at 16:00, then left alone, and the statements
fetched once a day."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from octoscope.clock import ManualClock
from octoscope.domain.models import Charge
from octoscope.services.scheduler import JobRun
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from tests.conftest import DEMO_NOW, make_cli, simulator
from tests.services.scheduling import scheduling


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
            with scheduling(cli.settings(), store, clock) as (scheduler, runner):
                # The CLI's sync is taken as this morning's, and its reading of the account (with the car's state)
                # as today's: nothing is due 30 s later; the demo has no Agile tariff.
                at_start = runner.run(scheduler.tick())
                jobs = {j.job: j.to_json() for j in scheduler.snapshot()}
                log = sim.requests_log()
                # The car is not plugged in: its dispatches are read an hour after the account was.
                clock.set(now + 3600)
                httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T10:00:00Z"}, timeout=30)
                an_hour_on = runner.run(scheduler.tick())
                again = runner.run(scheduler.tick())
                jobs_later = {j.job: j.to_json() for j in scheduler.snapshot()}
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
    # An hour after the account was read, the statements too (never read yet), in one request.
    assert an_hour_on == ["bills", "dispatches"]
    assert again == []
    assert jobs_later["bills"]["last_run"]["message"] == "7 statements read in 1 GraphQL request; 7 kept"
    assert jobs_later["bills"]["next_run"] == "2026-11-22T10:00:00+00:00"
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
            with scheduling(cli.settings(), store, clock) as (scheduler, runner):
                # As if the morning's sync and account reading were done, on the test's clock.
                scheduler.runs["consumption"] = JobRun(datetime.fromisoformat("2026-11-21T06:00:00+00:00"), None, True)
                scheduler.runs["account"] = JobRun(datetime.fromisoformat("2026-11-21T06:00:00+00:00"), None, True)
                before = runner.run(scheduler.tick())
                httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T16:05:00Z"}, timeout=30)
                clock.set(epoch("2026-11-21T16:05:00Z"))
                at_four = runner.run(scheduler.tick())
                after = runner.run(scheduler.tick())
                rates = store.rates(tariff, Charge.STANDARD, datetime.fromisoformat("2026-11-22T12:00:00+00:00"), None)
                jobs = {j.job: j.to_json() for j in scheduler.snapshot()}
    assert "prices" not in before  # known to 23:00 today, and it is not 16:00 yet
    assert "prices" in at_four
    assert after == []
    assert max(r.valid_to for r in rates if r.valid_to) == datetime.fromisoformat("2026-11-22T23:00:00+00:00")
    assert jobs["prices"]["next_run"] == "2026-11-22T16:00:00+00:00"
    assert jobs["prices"]["why"] == "stored through tomorrow"


def statement_calls(log: dict[str, Any]) -> list[dict[str, Any]]:
    """The GraphQL calls sync.bills makes (the account's statements, from a date), not the account's own."""
    requests: list[dict[str, Any]] = log["requests"]
    return [r for r in requests if r.get("fields") == ["account"] and "fromDate" in r.get("variables", {})]


def test_statements_are_fetched_once_a_day_within_the_graphql_budget(tmp_path: Path) -> None:
    with simulator("bills", now="2026-11-21T09:00:00Z") as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        sim.reset_log()
        # Statements never read are asked for an hour after the account was (by the sync, at 09:00).
        httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T10:00:00Z"}, timeout=30)
        clock = ManualClock(epoch("2026-11-21T10:00:00Z"))

        def ledger() -> int:
            with contextlib.closing(sqlite3.connect(cli.db)) as db:
                return int(db.execute("SELECT count(*) FROM request_budget WHERE api = 'graphql'").fetchone()[0])

        with Store.open(cli.db) as store, scheduling(cli.settings(), store, clock) as (scheduler, runner):
            scheduler.runs["account"] = JobRun(datetime.fromisoformat("2026-11-21T08:00:00+00:00"), None, True)
            counted = ledger()
            first = runner.run(scheduler.tick())
            first_calls = statement_calls(sim.requests_log())
            assert ledger() > counted  # the policy counted it
            kept = len(store.statements(cli.settings().require_account()))
            for later in ("2026-11-21T10:01:00Z", "2026-11-21T15:00:00Z", "2026-11-22T09:59:00Z"):
                httpx.post(f"{sim.url}/_sim/clock", json={"now": later}, timeout=30)  # in step with octoscope's
                clock.set(epoch(later))
                assert "bills" not in runner.run(scheduler.tick()), later
            assert len(statement_calls(sim.requests_log())) == 1  # not again the same day
            jobs = {j.job: j.to_json() for j in scheduler.snapshot()}
            httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-22T10:00:00Z"}, timeout=30)
            clock.set(epoch("2026-11-22T10:00:00Z"))
            next_day = runner.run(scheduler.tick())
            calls = statement_calls(sim.requests_log())
    assert "bills" in first
    assert [c["variables"]["fromDate"] for c in first_calls] == [None]  # everything, the first time
    assert kept == 6
    assert jobs["bills"]["last_run"]["outcome"] == "ok"
    assert jobs["bills"]["next_run"] == "2026-11-22T10:00:00+00:00"
    assert jobs["bills"]["what"] == "the account's statements: the open one daily, each closed one once"
    assert "bills" in next_day
    assert [c["variables"]["fromDate"] for c in calls] == [None, "2026-11-01"]  # then only the open month


def test_serve_shows_the_statements_job_on_the_status_page_and_fetches_them_once(tmp_path: Path) -> None:
    with simulator("bills", now="2026-11-21T09:00:00Z") as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        sim.reset_log()
        # An hour after the sync read the account: the statements, never read, are due.
        httpx.post(f"{sim.url}/_sim/clock", json={"now": "2026-11-21T10:00:00Z"}, timeout=30)
        app = create_app(cli.settings(), clock=cli.clock(), schedule_every=0.1)
        with serve_in_thread(app) as base:
            deadline, bills = time.monotonic() + 30, None
            while time.monotonic() < deadline:
                jobs = {j["job"]: j for j in httpx.get(f"{base}/api/status", timeout=30).json()["scheduler"]["jobs"]}
                bills = jobs["bills"]
                if bills["last_run"] and bills["last_run"]["outcome"] != "running":
                    break
                time.sleep(0.2)
            time.sleep(1)  # ten more rounds of the scheduler
            calls = statement_calls(sim.requests_log())
            # Read again: the answer above may come between the job's end and the decisions made after it.
            after = {j["job"]: j for j in httpx.get(f"{base}/api/status", timeout=30).json()["scheduler"]["jobs"]}
    assert list(jobs) == ["consumption", "prices", "account", "bills", "dispatches"]
    assert bills is not None
    assert bills["last_run"]["outcome"] == "ok", bills
    assert bills["last_run"]["message"] == "6 statements read in 1 GraphQL request; 6 kept"
    assert not after["bills"]["due"], after["bills"]
    assert len(calls) == 1
