"""The tariff comparison as a job (issue 18), over real sockets, against a simulator whose price lists answer
0.3 s late (so that a twelve-month comparison on a fresh copy of the synced demo takes long enough to watch):
queued or running, then done, its progress counted up with an estimate of the time left; a second POST
joins it; its GETs ask Octopus nothing (the simulator's request log); its answer kept in the store, shown at
once by an app started again on the same database and reused by a POST there, until a reading changes;
failures said in one line on the job."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.config import Retry
from octoscope.domain.models import Reading
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from tests.conftest import Cli, SimServer, make_cli, simulator

# An hour after the demo's instant: the catalogue the fixture's CLI read (a moment after the demo's instant)
# is a day fresh, and the comparison's period is the same.
LATER = "2026-11-21T10:00:00Z"


def copy_for(synced: Cli | Path, sim: SimServer, home: Path) -> Cli:
    """A synced database copied, for an app against ``sim`` (the same scenario and seed)."""
    home.mkdir(exist_ok=True)
    cli = make_cli(sim, home)
    with (
        sqlite3.connect(synced if isinstance(synced, Path) else synced.db) as source,
        sqlite3.connect(cli.db) as target,
    ):
        source.backup(target)
    return cli


@pytest.fixture(scope="module")
def catalogued(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced demo with the tariff catalogue and a month of every tariff's prices (a one-month comparison
    by the CLI): the simulator takes a minute or more to serve the catalogue, the same for every test here."""
    cli = copy_for(synced_demo, synced_demo.sim, tmp_path_factory.mktemp("catalogued"))
    cli.ok("compare", "--months", "1")
    return cli.db


def requests_made(sim: SimServer) -> list[dict[str, Any]]:
    log = sim.requests_log()["requests"]
    assert isinstance(log, list)
    return log


def follow(base: str, job: dict[str, Any], views: list[dict[str, Any]]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = httpx.get(f"{base}/api/compare/{job['job']}", timeout=30).json()
        views.append(job)
    return job


def test_a_comparison_job_from_start_to_a_kept_answer_shown_after_a_restart(catalogued: Path, tmp_path: Path) -> None:
    with simulator(faults="latency:1:ms=300:route=rates") as sim:
        cli = copy_for(catalogued, sim, tmp_path / "job")
        settings = cli.settings()
        with serve_in_thread(create_app(settings, clock=frozen(LATER))) as base:
            sim.reset_log()
            started = httpx.post(f"{base}/api/compare", params={"months": 12}, timeout=30)
            assert started.status_code == 202, started.text
            first = started.json()
            assert first["status"] in ("queued", "running")
            again = httpx.post(f"{base}/api/compare", params={"months": 12}, timeout=30).json()
            assert again["job"] == first["job"]  # asked again while it runs: joined, not started twice
            listed = httpx.get(f"{base}/api/compare/kept", params={"months": 12}, timeout=30).json()
            assert [j["job"] for j in listed["active"]] == [first["job"]]
            assert listed["kept"] is None
            views: list[dict[str, Any]] = []
            done = follow(base, first, views)
            during = requests_made(sim)
            sim.reset_log()
            for _ in range(3):  # reading the job and the kept answer asks Octopus nothing
                assert httpx.get(f"{base}/api/compare/{first['job']}", timeout=30).json()["status"] == "done"
                httpx.get(f"{base}/api/compare/kept", params={"months": 12}, timeout=30).raise_for_status()
            assert requests_made(sim) == []
        result = done["result"]
        assert done["status"] == "done", done
        assert done["kept"]["reused"] is False
        assert done["kept"]["current"] is True
        # Every request was the comparison's own: however often the job was read, no GET asked Octopus.
        assert len(during) == sum(result["requests"].values()) > 20
        counted = [(v["progress"]["done"], v["progress"]["total"]) for v in views if v["status"] == "running"]
        totals = {t for _, t in counted if t}
        assert len(totals) == 1, counted  # the price lists to fetch, counted once
        dones = [d for d, t in counted if t]
        assert dones == sorted(dones), "progress never goes back"
        assert len(set(dones)) >= 3, f"progress was seen to move: {dones}"
        assert any(v["progress"]["seconds_left"] for v in views if v["status"] == "running"), "an estimate was given"

        # Started again on the same database: the answer is there at once, and a POST reuses it.
        sim.reset_log()
        with serve_in_thread(create_app(settings, clock=frozen(LATER))) as base:
            shown = httpx.get(f"{base}/api/compare/kept", params={"months": 12}, timeout=30).json()
            reused = httpx.post(f"{base}/api/compare", params={"months": 12}, timeout=30).json()
            assert requests_made(sim) == []
            # A revised reading in the period: the kept answer is no longer the answer.
            with Store.open(cli.db) as store:
                series, serial = next(k for k in store.cursors() if k[0].startswith("electricity-import"))
                (at, value, _) = store.readings(series, *a_day_in_the_period(store, series))[0]
                store.write_consumption(series, serial, "kWh", [Reading(at, value + 1.0)])
            stale = httpx.get(f"{base}/api/compare/kept", params={"months": 12}, timeout=30).json()["kept"]
    assert shown["active"] == []
    assert shown["kept"]["kept"]["current"] is True
    assert shown["kept"]["kept"]["computed_at"] == done["kept"]["computed_at"]
    assert shown["kept"]["result"]["tariffs"] == result["tariffs"]
    assert shown["kept"]["result"]["requests"] == {"rest": 0, "graphql": 0}
    assert reused["status"] == "done"
    assert reused["kept"]["reused"] is True
    assert reused["result"]["current"] == result["current"]
    assert stale["kept"]["current"] is False
    assert stale["kept"]["stale_because"] == "readings, prices or settings have changed since"


def a_day_in_the_period(store: Store, series: str) -> tuple[datetime, datetime]:
    extent = store.series_extent(series)
    assert extent is not None
    day = extent.last - timedelta(days=30)
    return day, day + timedelta(days=1)


def test_a_comparison_that_cannot_be_made_fails_in_one_line(catalogued: Path, tmp_path: Path) -> None:
    with simulator() as sim:
        cli = copy_for(catalogued, sim, tmp_path / "bad")
        with serve_in_thread(create_app(cli.settings(), clock=frozen(LATER))) as base:
            job = httpx.post(f"{base}/api/compare", params={"months": 1, "region": "Q"}, timeout=30).json()
            failed = follow(base, job, [])
    assert failed["status"] == "failed"
    assert failed["error_status"] == 400
    assert failed["detail"] == "region 'Q': write one of A, B, C, D, E, F, G, H, J, K, L, M, N, P"
    assert "result" not in failed


def test_octopus_not_answering_in_time_fails_the_job_in_one_line(synced_demo: Cli, tmp_path: Path) -> None:
    with simulator(faults="latency:1:ms=1000:route=rest") as slow:
        cli = copy_for(synced_demo, slow, tmp_path / "slow")
        settings = replace(cli.settings(), retry=Retry(attempts=1, timeout_seconds=0.2))
        with serve_in_thread(create_app(settings, clock=frozen(LATER))) as base:
            job = httpx.post(f"{base}/api/compare", params={"months": 1}, timeout=30).json()
            failed = follow(base, job, [])
            kept = httpx.get(f"{base}/api/compare/kept", params={"months": 1}, timeout=30).json()["kept"]
    assert failed["status"] == "failed", failed
    assert failed["detail"] == (
        "products: gave up after 1 attempt; the last answer was: products: Octopus did not answer in time"
    ), failed
    assert failed["error_status"] in (502, 503)
    assert kept is None


def test_a_price_list_not_answering_in_time_is_a_problem_and_the_answer_is_not_kept(
    catalogued: Path, tmp_path: Path
) -> None:
    with simulator(faults="latency:1:ms=1000:route=rates") as slow:
        cli = copy_for(catalogued, slow, tmp_path / "slow")
        settings = replace(cli.settings(), retry=Retry(attempts=1, timeout_seconds=0.2))
        with serve_in_thread(create_app(settings, clock=frozen(LATER))) as base:
            job = httpx.post(f"{base}/api/compare", params={"months": 2}, timeout=30).json()
            done = follow(base, job, [])
            kept = httpx.get(f"{base}/api/compare/kept", params={"months": 2}, timeout=30).json()["kept"]
    # A price list that timed out fails the job, said in one line (or, if the runner let the rest go on, is a
    # problem said with the answer); either way nothing missing prices is kept.
    if done["status"] == "failed":
        assert "did not answer in time" in done["detail"], done
        assert "\n" not in done["detail"]
    else:
        assert done["status"] == "done", done
        assert done["result"]["problems"], done
        assert done["kept"] is None
    assert kept is None
