"""Faults, rate limits, budgets, outages and crashes: the store ends as one clean run would leave it."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import Cli, make_cli, simulator, table_rows

TO = "2026-11-22"
# The mix, plus one sure case of each kind so that every kind is exercised whatever the dice say.
FAULTS = (
    "503:0.2,429:0.1:retry_after=1,kt-ct-1199:0.3:route=graphql,truncated:0.03,"
    "503:1:times=1:route=account,429:1:times=1:route=rates:retry_after=1,kt-ct-1199:1:times=1:route=graphql,"
    "truncated:1:times=1:route=consumption"
)


def configure(cli: Cli, retry: str, budget: str = "") -> None:
    (cli.home / "config.toml").write_text(f"[retry]\n{retry}\n" + (f"[budget]\n{budget}\n" if budget else ""))


def clean_rows(tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path / "clean")
        cli.home.mkdir()
        cli.ok("sync", "--to", TO)
        return table_rows(cli.db)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[object, ...]]]:
    return clean_rows(tmp_path_factory.mktemp("clean"))


def test_faults_change_nothing_in_the_end(tmp_path: Path, clean: dict[str, list[tuple[object, ...]]]) -> None:
    with simulator(faults=FAULTS, seed=None) as sim:
        cli = make_cli(sim, tmp_path)
        retry = "attempts = 12\nbase_seconds = 0.05\ncap_seconds = 0.5\nrate_limit_floor_seconds = 0.1"
        configure(cli, retry, "rest_per_hour = 100")
        summary = json.loads(cli.ok("sync", "--to", TO, "--json"))
        log = sim.requests_log()["requests"]
    assert table_rows(cli.db) == clean  # row by row
    faults = [e for e in log if e.get("fault")]
    assert {e["fault"] for e in faults} == {"503", "429", "kt-ct-1199", "truncated"}
    assert summary["retries"] >= len(faults)
    # Every request counted against the budget, and the budget held.
    rest = [e for e in log if not str(e["path"]).startswith("/v1/graphql")]
    assert summary["requests"]["rest"] == len(rest) <= 100
    assert summary["requests"]["graphql"] == len(log) - len(rest)


def test_no_request_is_sent_before_a_retry_after_has_passed(tmp_path: Path) -> None:
    # One request at a time, so that every request after a 429 was sent after its answer arrived. (The
    # policy holds back concurrent requests too: see tests/octopus/test_policy.py.)
    # Two sure 429s (the account, a price list), then the dice.
    sure = "429:1:times=1:route=account:retry_after=1,429:1:times=1:route=rates:retry_after=1"
    with simulator(faults=f"{sure},429:0.3:retry_after=1") as sim:
        cli = make_cli(sim, tmp_path)
        (cli.home / "config.toml").write_text("[retry]\nattempts = 12\nbase_seconds = 0.05\n[sync]\nconcurrency = 1\n")
        cli.ok("sync", "--to", TO)
        log = sim.requests_log()["requests"]
    arrivals = [datetime.fromisoformat(str(e["at"])).timestamp() for e in log]
    throttled = [i for i, e in enumerate(log) if e.get("fault") == "429"]
    assert len(throttled) >= 2
    for i in throttled:
        if i + 1 < len(log):
            assert arrivals[i + 1] - arrivals[i] >= 1.0, (
                f"request {i + 1} came {arrivals[i + 1] - arrivals[i]:.2f} s after a 429"
            )


def test_retry_after_as_an_http_date_is_honoured(tmp_path: Path) -> None:
    # The date is on the simulator's clock: running, so that the CLI's (set to it at start, then moving at the
    # same pace) agrees with it however long the CLI takes to start. Frozen, a slow start ate into the wait.
    with simulator(faults="429:1:times=1:route=account:retry_after=date:date_seconds=2", speed=1.0) as sim:
        cli = make_cli(sim, tmp_path)
        configure(cli, "attempts = 3\nbase_seconds = 0.05")
        cli.ok("sync", "--to", TO, "--dry-run")
        log = sim.requests_log()["requests"]
    first, second = (datetime.fromisoformat(str(e["at"])).timestamp() for e in log[:2])
    assert log[0]["fault"] == "429"
    assert second - first >= 1.9  # the date is whole seconds: at least the 2 s asked, give or take rounding


def test_a_spent_budget_stops_the_run_and_keeps_what_it_stored(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        configure(cli, "max_wait_seconds = 5", "rest_per_hour = 6")
        done = cli.run("sync", "--to", TO)
        log = sim.requests_log()["requests"]
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("Error: the REST budget of 6 requests an hour is spent")
    assert "Traceback" not in done.stderr
    assert len([e for e in log if not str(e["path"]).startswith("/v1/graphql")]) == 6
    # A second run within the hour may not spend what the first one spent.
    done = cli.run("sync", "--to", TO)
    assert done.returncode == 1
    assert "budget" in done.stderr


def test_a_lasting_outage_stops_with_one_line_and_loses_nothing(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        configure(cli, "attempts = 3\nbase_seconds = 0.05\ncap_seconds = 0.1")
        cli.ok("sync", "--to", TO)
        before = table_rows(cli.db)
        httpx.post(f"{sim.url}/_sim/faults", content="503:1:route=consumption", timeout=10).raise_for_status()
        done = cli.run("sync", "--to", TO)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ")
    assert "gave up after 3 attempts" in lines[-1]
    assert "HTTP 503" in lines[-1]
    assert "Traceback" not in done.stderr
    assert table_rows(cli.db) == before


def test_sigkill_at_random_moments_then_one_more_sync_equals_a_clean_run(
    tmp_path: Path, clean: dict[str, list[tuple[object, ...]]]
) -> None:
    rng = random.Random(20261121)
    # Slow answers stretch the back-fill over several runs, so that the kills land inside it.
    with simulator(faults="latency:1:ms=250") as sim:
        cli = make_cli(sim, tmp_path)
        (cli.home / "config.toml").write_text("[sync]\nconcurrency = 2\n")
        killed = 0
        for _ in range(10):
            process = subprocess.Popen(
                [sys.executable, "-m", "octoscope", "sync", "--to", TO],
                env={**cli.env, **cli.clock_env()},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.3, 1.6))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait(timeout=60)
        cli.ok("sync", "--to", TO)
    assert killed >= 5, "the back-fill finished before most kills: kill earlier"
    # The run log, the request ledger and the record of which price windows were fetched when describe how
    # the runs went; the data must be identical.
    skip = ("request_budget", "sync_runs", "tokens", "rate_windows")
    expected = {k: v for k, v in clean.items() if k not in skip}
    assert table_rows(cli.db, skip=skip) == expected
