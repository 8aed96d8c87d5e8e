"""Back-fill against the simulator over real sockets: the fewest requests, then only the re-reads; the data
stored exactly as the API serves it (clock changes, meter exchanges, export, gas units)."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import DEMO_KEY, Cli, SimServer, make_cli, simulator

UK = ZoneInfo("Europe/London")
TO = "2026-11-22"  # --to: the sync's window ends at this local midnight
TO_INSTANT = datetime(2026, 11, 22, tzinfo=UK)


def sim_count(sim: SimServer, path: str, start: datetime, end: datetime, key: str | None = DEMO_KEY) -> int:
    """How many records the simulator holds for [start, end) on one endpoint (one tiny page)."""
    params = {
        "period_from": start.astimezone(UTC).isoformat(),
        "period_to": end.astimezone(UTC).isoformat(),
        "page_size": "1",
    }
    auth = (key, "") if key else None
    response = httpx.get(f"{sim.url}/v1/{path}", params=params, auth=auth, timeout=60)
    response.raise_for_status()
    return int(response.json()["count"])


def fewest_requests(sim: SimServer, account_number: str, key: str = DEMO_KEY) -> int:
    """The fewest requests the API allows for a back-fill of the current property up to TO.

    1 REST account + 2 GraphQL (a token, the account's meters) + for each meter serial
    ceil(rows / 25000) consumption pages (at least 1) + for each tariff in force and each of its price
    lists, ceil(records overlapping its agreements / 1500) pages (at least 1).
    """
    account = httpx.get(f"{sim.url}/v1/accounts/{account_number}/", auth=(key, ""), timeout=30).json()
    prop = next(p for p in account["properties"] if p["moved_out_at"] is None)
    total = 1 + 2
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    points = [("electricity", p["mpan"], p) for p in prop["electricity_meter_points"]]
    points += [("gas", p["mprn"], p) for p in prop["gas_meter_points"]]
    moved_in = datetime.fromisoformat(prop["moved_in_at"])
    for fuel, ident, point in points:
        for meter in point["meters"]:
            rows = sim_count(
                sim, f"{fuel}-meter-points/{ident}/meters/{meter['serial_number']}/consumption/", moved_in, TO_INSTANT
            )
            total += max(1, math.ceil(rows / 25_000))
        for agreement in point["agreements"]:
            start = max(datetime.fromisoformat(agreement["valid_from"]), moved_in)
            end = (
                min(datetime.fromisoformat(agreement["valid_to"]), TO_INSTANT) if agreement["valid_to"] else TO_INSTANT
            )
            windows.setdefault(agreement["tariff_code"], []).append((start, end))
    for code, spans in windows.items():
        product = code.split("-", 2)[2].rsplit("-", 1)[0]
        fuel = "electricity" if code.startswith("E") else "gas"
        lists = ["day-unit-rates", "night-unit-rates"] if code.startswith("E-2R") else ["standard-unit-rates"]
        for charge in [*lists, "standing-charges"]:
            start, end = min(s for s, _ in spans), max(e for _, e in spans)
            records = sim_count(sim, f"products/{product}/{fuel}-tariffs/{code}/{charge}/", start, end, None)
            total += max(1, math.ceil(records / 1_500))
    return total


def logged(sim: SimServer) -> list[dict[str, object]]:
    return sim.requests_log()["requests"]  # type: ignore[return-value]


def sync_json(cli: Cli, *args: str) -> dict[str, object]:
    return json.loads(cli.ok("sync", "--to", TO, "--json", *args))  # type: ignore[no-any-return]


@pytest.fixture
def demo(tmp_path: Path, store_backend: str) -> Cli:
    """The demo account, to sync into SQLite and into PostgreSQL: the tests taking it run on both."""
    with simulator() as sim:
        yield make_cli(sim, tmp_path, backend=store_backend)


def test_backfill_makes_the_fewest_requests_then_only_rereads(demo: Cli) -> None:
    expected = fewest_requests(demo.sim, "A-DE30DE30")
    demo.sim.reset_log()
    summary = sync_json(demo)
    log = logged(demo.sim)
    assert len(log) == expected, Counter(str(e["route"]) for e in log)
    assert summary["requests"] == {"rest": expected - 2, "graphql": 2}
    # Each tariff's prices, and each page, asked for once.
    assert len({(e["path"], e["query"]) for e in log if e["method"] == "GET"}) == expected - 2

    demo.sim.reset_log()
    again = sync_json(demo)
    routes = Counter(str(e["route"]) for e in logged(demo.sim))
    series = again["series"]
    assert isinstance(series, dict)
    # The account (tariff switches) and one re-read per series; nothing else, no GraphQL.
    assert sum(routes.values()) == 1 + len(series), routes
    assert again["requests"] == {"rest": 1 + len(series), "graphql": 0}
    assert all(s["rows_new"] == 0 and s["rows_updated"] == 0 for s in series.values())


def test_dry_run_plans_without_fetching(demo: Cli) -> None:
    plan = json.loads(demo.ok("sync", "--to", TO, "--dry-run", "--json"))
    assert plan["planned_requests"] == fewest_requests(demo.sim, "A-DE30DE30")
    assert consumption_rows(demo) == 0
    text = demo.ok("sync", "--to", TO, "--dry-run")
    # The first dry run stored the meters it found and the token: this one needs no GraphQL.
    assert f"{plan['planned_requests'] - 2} requests" in text


def consumption_rows(cli: Cli) -> int:
    """How many half-hours the CLI's database holds, whichever the backend."""
    if cli.db_url is not None:
        import psycopg

        with psycopg.connect(cli.db_url) as pg:
            found = pg.execute("SELECT COUNT(*) FROM consumption").fetchone()
    else:
        with sqlite3.connect(cli.db) as conn:
            found = conn.execute("SELECT COUNT(*) FROM consumption").fetchone()
    assert found is not None
    return int(found[0])


def stored(db: Path | Cli, series: str) -> dict[int, tuple[float, str, str]]:
    """A series' rows as the database holds them: a SQLite file, or a CLI's database (either backend)."""
    if isinstance(db, Cli) and db.db_url is not None:
        import psycopg

        with psycopg.connect(db.db_url) as pg:
            found = pg.execute(
                "SELECT interval_start, value, unit, serial FROM consumption c JOIN series s"
                " ON s.account = c.account AND s.id = c.series_id WHERE s.name = %s",
                (series,),
            ).fetchall()
        return {start: (value, unit, serial) for start, value, unit, serial in found}
    with sqlite3.connect(db.db if isinstance(db, Cli) else db) as conn:
        rows = conn.execute(
            "SELECT interval_start, value, unit, serial FROM consumption JOIN series ON series.id = series_id"
            " WHERE series.name = ?",
            (series,),
        ).fetchall()
    return {start: (value, unit, serial) for start, value, unit, serial in rows}


def served(sim: SimServer, fuel: str, point: str, serial: str, start: datetime, end: datetime) -> dict[int, float]:
    params = {
        "period_from": start.astimezone(UTC).isoformat(),
        "period_to": end.astimezone(UTC).isoformat(),
        "page_size": "25000",
    }
    body = httpx.get(
        f"{sim.url}/v1/{fuel}-meter-points/{point}/meters/{serial}/consumption/",
        params=params,
        auth=(DEMO_KEY, ""),
        timeout=60,
    ).json()
    return {int(datetime.fromisoformat(r["interval_start"]).timestamp()): r["consumption"] for r in body["results"]}


def local_day(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UK)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UK)


@pytest.mark.parametrize(
    ("day", "half_hours"),
    [(date(2026, 3, 29), 46), (date(2025, 10, 26), 50), (date(2026, 10, 25), 50), (date(2026, 3, 30), 48)],
)
def test_clock_change_days_are_stored_whole(demo: Cli, day: date, half_hours: int) -> None:
    demo.ok("sync", "--to", TO)
    start, end = local_day(day)
    lo, hi = int(start.timestamp()), int(end.timestamp())
    for fuel, series, point, serial in [
        ("electricity", "electricity-import:1900000000101", "1900000000101", "21L0000101"),
        ("electricity", "electricity-export:1900000000125", "1900000000125", "21L0000101"),
        ("gas", "gas:3000000101", "3000000101", "G4S0000101"),
    ]:
        rows = {k: v for k, v in stored(demo, series).items() if lo <= k < hi}
        truth = served(demo.sim, fuel, point, serial, start, end)
        if not truth:
            continue  # the export meter was not yet fitted on the earliest of these days
        assert len(rows) == half_hours == len(truth)
        assert {k: v[0] for k, v in rows.items()} == truth


def test_export_apart_from_import_and_gas_kept_in_its_unit(demo: Cli) -> None:
    demo.ok("sync", "--to", TO)
    start, end = local_day(date(2026, 6, 21))  # a sunny day: export is not zero
    lo, hi = int(start.timestamp()), int(end.timestamp())

    def day_of(series: str) -> dict[int, float]:
        return {k: v[0] for k, v in stored(demo, series).items() if lo <= k < hi}

    exports = day_of("electricity-export:1900000000125")
    assert exports == served(demo.sim, "electricity", "1900000000125", "21L0000101", start, end)
    assert day_of("electricity-import:1900000000101") == served(
        demo.sim, "electricity", "1900000000101", "21L0000101", start, end
    )
    assert sum(exports.values()) > 1.0
    assert {v[1] for v in stored(demo, "gas:3000000101").values()} == {"m³"}  # SMETS2: volumes, unconverted
    assert day_of("gas:3000000101") == served(demo.sim, "gas", "3000000101", "G4S0000101", start, end)


def test_meter_exchange_is_one_series(tmp_path: Path) -> None:
    with simulator("meter_exchange") as sim:
        cli = make_cli(sim, tmp_path, key="sk_live_octoscope_exchange_test", account="A-0000EC4A")
        summary = json.loads(cli.ok("sync", "--to", TO, "--json"))
        series = summary["series"]
        assert list(series) == ["electricity-import:2300000001101"]
        assert series["electricity-import:2300000001101"]["gaps"] == []
        rows = stored(cli.db, "electricity-import:2300000001101")
        exchange = int(datetime(2026, 6, 17, 14, 30, tzinfo=UK).timestamp())
        assert {v[2] for k, v in rows.items() if k < exchange} == {"S1M0001101"}
        assert {v[2] for k, v in rows.items() if k >= exchange} == {"S2M0001102"}
        first, last = min(rows), max(rows)
        assert len(rows) == (last - first) // 1800 + 1  # no half-hour missing across the exchange


def test_late_and_revised_values_are_picked_up_by_the_reread(demo: Cli) -> None:
    # The demo delivers some half-hours a day late and first serves some as estimates (see [revisions]).
    to = "2026-11-21"  # a fixed end, whatever the real clock says
    first = json.loads(demo.ok("sync", "--to", to, "--json"))
    assert first["series"]["electricity-import:1900000000101"]["gaps"], "the demo should have late half-hours"
    start, end = local_day(date(2026, 11, 17))[0], local_day(date(2026, 11, 20))[1]
    provisional = served(demo.sim, "electricity", "1900000000101", "21L0000101", start, end)
    httpx.post(f"{demo.sim.url}/_sim/clock", json={"advance_seconds": 86400}, timeout=10).raise_for_status()
    final = served(demo.sim, "electricity", "1900000000101", "21L0000101", start, end)
    assert final != provisional

    again = json.loads(demo.ok("sync", "--to", to, "--json"))
    imports = again["series"]["electricity-import:1900000000101"]
    assert imports["gaps"] == []
    assert imports["rows_new"] == len(set(final) - set(provisional))
    assert imports["rows_updated"] == sum(1 for k in provisional if final[k] != provisional[k])
    rows = stored(demo, "electricity-import:1900000000101")
    assert {k: rows[k][0] for k in final} == final


def test_past_homes_on_request_with_economy_7_day_and_night_prices(tmp_path: Path) -> None:
    with simulator("moved_house") as sim:
        cli = make_cli(sim, tmp_path, key="sk_live_octoscope_moved_test", account="A-0000B0B5")
        current = json.loads(cli.ok("sync", "--to", TO, "--json"))
        assert sorted(current["series"]) == ["electricity-import:2000000002201", "gas:3000002201"]
        both = json.loads(cli.ok("sync", "--to", TO, "--json", "--past-properties"))
        old = both["series"]["electricity-import:1000000002101"]
        assert old["rows_new"] == old["rows"] > 0
        moved_out = datetime.fromisoformat(
            httpx.get(
                f"{sim.url}/v1/accounts/A-0000B0B5/", auth=("sk_live_octoscope_moved_test", ""), timeout=30
            ).json()["properties"][0]["moved_out_at"]
        )
        assert datetime.fromisoformat(old["last_interval"]) < moved_out
        # An Economy 7 tariff has day and night unit rates, and no standard ones.
        assert {"E-2R-VAR-22-11-01-A/day", "E-2R-VAR-22-11-01-A/night"} <= set(both["charges"])
        assert "E-2R-VAR-22-11-01-A/standard" not in both["charges"]
        with sqlite3.connect(cli.db) as db:
            registers = {r[0] for r in db.execute("SELECT register FROM unit_rates WHERE tariff_code LIKE 'E-2R-%'")}
        assert registers == {"day", "night"}
