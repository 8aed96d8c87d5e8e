"""The dashboard's JSON routes over a real socket, on the synced demo database, checked against the store and
against /api/costs: usage (half-hours on the 46- and 50-half-hour days, bars), the overview's periods, the
status page's coverage, answers kept only while the store is unchanged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.config import Settings
from octoscope.domain.uktime import local_day_bounds, local_midnight
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from tests.conftest import DEMO_ACCOUNT, DEMO_NOW, Cli
from tests.live.support import copy_synced

IMPORT = "electricity-import:1900000000101"
GAS = "gas:3000000101"


@contextmanager
def served(cli: Cli, now: str = DEMO_NOW, **kwargs: object) -> Iterator[httpx.Client]:
    app = create_app(cli.settings(), clock=frozen(now), **kwargs)  # type: ignore[arg-type]
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def api(synced_demo: Cli) -> Iterator[httpx.Client]:
    with served(synced_demo) as client:
        yield client


def stored(cli: Cli, series: str, day: str) -> list[tuple[int, float]]:
    lo, hi = local_day_bounds(date.fromisoformat(day))
    with sqlite3.connect(cli.db) as db:
        return db.execute(
            "SELECT interval_start, value FROM consumption WHERE series_id = (SELECT id FROM series WHERE name = ?)"
            " AND interval_start >= ? AND interval_start < ? ORDER BY interval_start",
            (series, lo.timestamp(), hi.timestamp()),
        ).fetchall()


@pytest.mark.parametrize(("day", "half_hours"), [("2026-03-29", 46), ("2026-10-25", 50), ("2026-11-19", 48)])
def test_half_hourly_usage_holds_every_stored_half_hour_of_the_day(
    api: httpx.Client, synced_demo: Cli, day: str, half_hours: int
) -> None:
    following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    got = api.get("/api/usage", params={"from": day, "to": following, "resolution": "halfhour"}).json()
    rows = stored(synced_demo, IMPORT, day)
    assert len(rows) == half_hours
    points = got["points"]
    assert len(points["start"]) == len(points["kwh"]) == len(points["pence_per_kwh"]) == half_hours
    instants = [datetime.fromisoformat(s).timestamp() for s in points["start"]]
    assert instants == [t for t, _ in rows]  # UK local times with their offsets, one per real half-hour
    assert points["kwh"] == [round(v, 4) for _, v in rows]
    assert all(p is not None and p > 0 for p in points["pence_per_kwh"])
    assert got["totals"]["half_hours"] == half_hours
    assert got["totals"]["kwh"] == pytest.approx(sum(v for _, v in rows), abs=1e-3)


def test_autumn_clock_change_shows_the_repeated_hour_twice_with_its_offsets(api: httpx.Client) -> None:
    got = api.get("/api/usage", params={"from": "2026-10-25", "to": "2026-10-26", "resolution": "halfhour"}).json()
    starts = got["points"]["start"]
    assert starts[2:6] == [
        "2026-10-25T01:00:00+01:00",
        "2026-10-25T01:30:00+01:00",
        "2026-10-25T01:00:00+00:00",
        "2026-10-25T01:30:00+00:00",
    ]


@pytest.mark.parametrize("fuel", ["electricity", "gas", "export"])
def test_daily_bars_are_what_costs_says_for_each_day(api: httpx.Client, fuel: str) -> None:
    bars = api.get("/api/usage", params={"period": "2026-10", "fuel": fuel, "resolution": "day"}).json()
    costs = api.get("/api/costs", params={"period": "2026-10", "by": "day", "fuel": fuel}).json()[fuel]
    assert bars["points"]["start"] == [b["from"] for b in costs["buckets"]]
    assert len(bars["points"]["start"]) == 31
    assert bars["points"]["kwh"] == [b["kwh"] for b in costs["buckets"]]
    money = "earnings_pence" if fuel == "export" else "total_pence"
    assert bars["points"]["pence"] == pytest.approx([b[money] for b in costs["buckets"]], abs=1e-3)
    assert bars["totals"]["pence"] == pytest.approx(costs[money], abs=1e-3)


@pytest.mark.parametrize(("resolution", "count"), [("week", 53), ("month", 12)])
def test_a_year_in_weekly_or_monthly_bars(api: httpx.Client, resolution: str, count: int) -> None:
    bars = api.get("/api/usage", params={"from": "2025-11-01", "to": "2026-11-01", "resolution": resolution}).json()
    costs = api.get("/api/costs", params={"from": "2025-11-01", "to": "2026-11-01", "by": resolution}).json()
    assert len(bars["points"]["start"]) == count == len(costs["electricity"]["buckets"])
    assert bars["totals"]["kwh"] == costs["electricity"]["kwh"]


def test_auto_resolution_and_bad_queries(api: httpx.Client) -> None:
    assert api.get("/api/usage", params={"days": 7}).json()["resolution"] == "halfhour"
    assert api.get("/api/usage", params={"days": 90}).json()["resolution"] == "day"
    assert api.get("/api/usage", params={"days": 700}).json()["resolution"] == "week"
    too_long = api.get("/api/usage", params={"days": 60, "resolution": "halfhour"})
    assert too_long.status_code == 400
    assert "at most 31 days" in too_long.json()["detail"]
    bad = api.get("/api/usage", params={"from": "2026-02-30"})
    assert bad.status_code == 400
    assert "is not a date that exists" in bad.json()["detail"]
    assert api.get("/api/usage", params={"fuel": "water"}).status_code == 422


def test_overview_periods_match_the_store_and_costs(api: httpx.Client, synced_demo: Cli) -> None:
    got = api.get("/api/overview").json()
    electricity = {p["name"]: p for p in got["fuels"]["electricity"]["periods"]}
    # Consumption is published through yesterday: today has nothing yet but its standing charge, and so no
    # change in kWh to show.
    assert got["fuels"]["electricity"]["data_until"] == "2026-11-21T00:00:00+00:00"
    today = electricity["today"]
    assert today["kwh"] is None
    assert today["change_pct"]["kwh"] is None
    standing = api.get("/api/costs", params={"from": "2026-11-21", "to": "2026-11-22"}).json()["electricity"]
    assert standing["standing_charge_pence"] > 0
    assert today["pence"] == pytest.approx(standing["standing_charge_pence"], abs=0.01)
    assert today["label"] == "21 Nov 2026, standing charge included"
    yesterday = electricity["yesterday"]
    assert yesterday["kwh"] == pytest.approx(sum(v for _, v in stored(synced_demo, IMPORT, "2026-11-20")), abs=1e-3)
    costs = api.get("/api/costs", params={"from": "2026-11-20", "to": "2026-11-21", "fuel": "electricity"}).json()
    assert yesterday["pence"] == pytest.approx(costs["electricity"]["total_pence"], abs=0.01)
    before = api.get("/api/costs", params={"from": "2026-11-19", "to": "2026-11-20"}).json()["electricity"]
    assert yesterday["previous"]["pence"] == pytest.approx(before["total_pence"], abs=0.01)
    # This week: Monday 16th to today, the 21st, each day with its standing charge (domain.periods' rule),
    # against Monday 9th to Saturday 14th, its energy cut where this week's data stops (the end of the 20th
    # there, the end of the 13th here).
    week = electricity["week"]
    assert (week["from"], week["to"]) == ("2026-11-16T00:00:00+00:00", "2026-11-22T00:00:00+00:00")
    assert week["data_to"] == "2026-11-21T00:00:00+00:00"
    previous = (week["previous"]["from"], week["previous"]["to"], week["previous"]["data_to"])
    assert previous == ("2026-11-09T00:00:00+00:00", "2026-11-15T00:00:00+00:00", "2026-11-14T00:00:00+00:00")
    last_week = api.get("/api/costs", params={"from": "2026-11-09", "to": "2026-11-14"}).json()["electricity"]
    assert week["previous"]["kwh"] == pytest.approx(last_week["kwh"], abs=1e-3)
    saturday = api.get("/api/costs", params={"from": "2026-11-14", "to": "2026-11-15"}).json()["electricity"]
    assert week["previous"]["pence"] == pytest.approx(
        last_week["total_pence"] + saturday["standing_charge_pence"], abs=0.01
    )
    month = electricity["month"]
    assert month["previous"]["to"] == "2026-10-22T00:00:00+01:00"  # as many days of October as of November
    assert month["previous"]["data_to"] == "2026-10-21T00:00:00+01:00"  # as far as November's data goes
    assert month["change_pct"]["kwh"] == pytest.approx(
        round((month["kwh"] - month["previous"]["kwh"]) / month["previous"]["kwh"] * 100, 1), abs=0.2
    )
    assert set(got["fuels"]) == {"electricity", "gas", "export"}
    # Intelligent Octopus Go at 09:00: the peak price until the 23:30 off-peak.
    assert got["price_now"]["tariff"] == "E-1R-INTELLI-VAR-24-10-29-J"
    assert got["next_cheap"]["from"] == "2026-11-21T23:30:00+00:00"
    assert got["next_cheap"]["pence_per_kwh"] < got["price_now"]["pence_per_kwh"]


def test_overview_mid_afternoon_compares_today_so_far_with_yesterday_to_the_same_time(
    synced_demo: Cli, tmp_path: Path
) -> None:
    # A copy whose data stops at 15:00 on the 20th, as a real one would at 15:10 that day.
    db = copy_synced(synced_demo.db, tmp_path / "octoscope.db")
    cut = datetime.fromisoformat("2026-11-20T15:00:00+00:00").timestamp()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM consumption WHERE interval_start >= ?", (cut,))
    app = create_app(synced_demo.settings(db), clock=frozen("2026-11-20T15:10:00Z"))
    with serve_in_thread(app) as base:
        got = httpx.get(f"{base}/api/overview", timeout=60).json()
    today = {p["name"]: p for p in got["fuels"]["electricity"]["periods"]}["today"]
    assert (today["from"], today["to"]) == ("2026-11-20T00:00:00+00:00", "2026-11-21T00:00:00+00:00")
    assert today["data_to"] == "2026-11-20T15:00:00+00:00"
    expected = sum(v for t, v in stored(synced_demo, IMPORT, "2026-11-20") if t < cut)
    assert today["kwh"] == pytest.approx(expected, abs=1e-3)
    assert today["previous"]["data_to"] == "2026-11-19T15:00:00+00:00"
    cut_before = cut - 86400
    assert today["previous"]["kwh"] == pytest.approx(
        sum(v for t, v in stored(synced_demo, IMPORT, "2026-11-19") if t < cut_before), abs=1e-3
    )


def test_status_lists_coverage_and_gaps_from_the_store(api: httpx.Client, synced_demo: Cli) -> None:
    got = api.get("/api/status").json()
    series = {s["series"]: s for s in got["series"]}
    assert set(series) == {IMPORT, GAS, "electricity-export:1900000000125"}
    with Store.open(synced_demo.db) as store:
        for name, s in series.items():
            gaps = store.series_gaps(name)
            extent = store.series_extent(name)
            assert extent is not None
            assert s["rows"] == extent.rows
            assert s["gap_count"] == len(gaps)
            assert [[datetime.fromisoformat(a), datetime.fromisoformat(b)] for a, b in s["gaps"]] == [
                [a, b] for a, b in gaps
            ]
            missing = sum(int((b - a).total_seconds() // 1800) for a, b in gaps)
            assert s["coverage_pct"] == pytest.approx(100 * extent.rows / (extent.rows + missing), abs=1e-3)
    assert got["scheduler"] is None  # not scheduling in this app
    assert got["budget_this_hour"]["rest"]["limit"] == 300


def test_answers_follow_the_store_when_another_process_writes(synced_demo: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    app = create_app(synced_demo.settings(copy), clock=frozen(DEMO_NOW))
    params = {"from": "2026-11-19", "to": "2026-11-20", "resolution": "day"}
    with serve_in_thread(app) as base:
        first = httpx.get(f"{base}/api/usage", params=params, timeout=60).json()["totals"]["kwh"]
        again = httpx.get(f"{base}/api/usage", params=params, timeout=60).json()["totals"]["kwh"]
        lo = local_midnight(date(2026, 11, 19)).timestamp()
        with sqlite3.connect(copy) as other:  # another process, as `octoscope sync` would be
            other.execute(
                "UPDATE consumption SET value = value + 10 WHERE interval_start = ?"
                " AND series_id = (SELECT id FROM series WHERE name = ?)",
                (lo, IMPORT),
            )
        after = httpx.get(f"{base}/api/usage", params=params, timeout=60).json()["totals"]["kwh"]
    assert first == again
    assert after == pytest.approx(first + 10, abs=1e-3)


def test_status_shows_the_schedulers_jobs(synced_demo: Cli) -> None:
    # A scheduler looking once an hour: it decides at start and runs nothing the test waits for.
    settings = Settings(account=DEMO_ACCOUNT, db=synced_demo.db, config_path=synced_demo.home / "none.toml")
    app = create_app(settings, clock=frozen(DEMO_NOW), schedule_every=3600)
    with serve_in_thread(app) as base:
        got = httpx.get(f"{base}/api/status", timeout=60).json()
    assert got["scheduler"] is None  # no API key: nothing can be fetched, so nothing is scheduled
    assert got["budget_this_hour"] is None


def test_the_docs_show_the_status_and_bills_answers_as_they_are_sent(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, model in (("/api/status", "StatusAnswer"), ("/api/bills", "BillsAnswer")):
        declared = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert declared == {"$ref": f"#/components/schemas/{model}"}
        assert list(api.get(path).json()) == list(schemas[model]["properties"])  # every key, in the order sent
    series = api.get("/api/status").json()["series"][0]
    assert list(series) == list(schemas["SeriesAnswer"]["properties"])
    assert list(schemas["StatementAnswer"]["properties"])[:3] == ["id", "from", "to"]
