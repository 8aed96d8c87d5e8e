"""`octoscope compare` on the demo account after a real sync: one month on three tariffs worked out here
independently from what the simulator's REST API serves; the fewest requests the page caps allow for eight
tariffs over twelve months, then none; bad input, one line each."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import Cli, SimServer, make_cli, simulator
from tests.sync.test_backfill import sim_count
from tests.test_costs_cli import get_all

UK = ZoneInfo("Europe/London")
MPAN, SERIAL = "1900000000101", "21L0000101"  # the demo's import meter
CURRENT = "E-1R-INTELLI-VAR-24-10-29-J"


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UK)


def copy_of(synced: Cli, home: Path) -> Cli:
    """The session's synced demo database copied, so that this test's fetches change nothing shared."""
    home.mkdir(exist_ok=True)
    cli = make_cli(synced.sim, home)
    with sqlite3.connect(synced.db) as source, sqlite3.connect(cli.db) as target:
        source.backup(target)
    return cli


def by_hand(sim: SimServer, tariff: str, first: date, end: date) -> tuple[float, float]:
    """(energy pence, standing pence) of the demo's import over the local days [first, end) on ``tariff``:
    each half-hour's kWh times the Direct Debit unit rate in force at its start (Economy 7: the night rate
    from 00:30 to 07:30 UTC, else the day rate), and each local day's standing charge at its midnight."""
    start, stop = midnight(first), midnight(end)
    window = {"period_from": start.astimezone(UTC).isoformat(), "period_to": stop.astimezone(UTC).isoformat()}
    product = tariff.split("-", 2)[2].rsplit("-", 1)[0]
    base = f"products/{product}/electricity-tariffs/{tariff}"
    readings = get_all(
        sim, f"electricity-meter-points/{MPAN}/meters/{SERIAL}/consumption/", {**window, "page_size": "25000"}, True
    )

    def direct_debit(path: str) -> list[dict[str, Any]]:
        rows = get_all(sim, f"{base}/{path}/", {**window, "page_size": "1500"}, False)
        return [r for r in rows if r["payment_method"] in (None, "DIRECT_DEBIT")]

    def price(records: list[dict[str, Any]], at: datetime) -> float:
        for r in records:
            lo = datetime.fromisoformat(r["valid_from"])
            hi = datetime.fromisoformat(r["valid_to"]) if r["valid_to"] else None
            if lo <= at and (hi is None or at < hi):
                return float(r["value_inc_vat"])
        raise AssertionError(f"no price at {at}")

    if tariff.startswith("E-2R"):
        day, night = direct_debit("day-unit-rates"), direct_debit("night-unit-rates")

        def unit(at: datetime) -> float:
            clock = at.astimezone(UTC).time()
            return price(night if time(0, 30) <= clock < time(7, 30) else day, at)
    else:
        rates = direct_debit("standard-unit-rates")

        def unit(at: datetime) -> float:
            return price(rates, at)

    energy = sum(float(r["consumption"]) * unit(datetime.fromisoformat(r["interval_start"])) for r in readings)
    standing = direct_debit("standing-charges")
    days = (end - first).days
    return energy, sum(price(standing, midnight(first + timedelta(days=i))) for i in range(days))


def test_one_month_on_three_tariffs_matches_the_sums_worked_out_by_hand(synced_demo: Cli, tmp_path: Path) -> None:
    cli = copy_of(synced_demo, tmp_path / "copy")
    report = json.loads(cli.ok("compare", "--months", "1", "--fuel", "electricity", "--json"))
    # A month back from the last whole day of readings (20 November): it holds 25 October, 50 half-hours.
    assert (report["from"], report["to"], report["days"]) == ("2026-10-21", "2026-11-21", 31)
    assert report["region"] == {"letter": "J", "name": "South Eastern England", "from": "MPAN distributor 19"}
    first, end = date(2026, 10, 21), date(2026, 11, 21)
    rows = {r["tariff"]: r for r in report["tariffs"]}
    current = report["current"]["electricity"]
    assert current["tariff"] == CURRENT
    for tariff in ("E-1R-AGILE-24-10-01-J", "E-1R-GO-VAR-22-10-14-J", "E-2R-VAR-22-11-01-J"):
        energy, standing = by_hand(cli.sim, tariff, first, end)
        row = rows[tariff]
        assert row["energy_pence"] == pytest.approx(energy, abs=0.006), tariff
        assert row["standing_pence"] == pytest.approx(standing, abs=0.006), tariff
        assert row["total_pence"] == pytest.approx(energy + standing, abs=0.006), tariff
        assert row["saving_pence"] == pytest.approx(current["total_pence"] - row["total_pence"], abs=0.011), tariff
        assert row["days_compared"] == 31
    # The same as text: a line per tariff, its total and its saving (+ cheaper, - dearer).
    text = cli.ok("compare", "--months", "1", "--fuel", "electricity").splitlines()
    assert text[0].startswith("Tariff comparison 2026-10-21 to 2026-11-21 (31 days, to exclusive), region J")
    agile = rows["E-1R-AGILE-24-10-01-J"]
    total = f"£{agile['total_pence'] / 100:,.2f}"
    saved = ("-" if agile["saving_pence"] < 0 else "+") + f"£{abs(agile['saving_pence']) / 100:,.2f}"
    assert f"  {'Agile Octopus':<36}{total:>11}{saved:>11}" in text
    # The baseline is what `octoscope costs` says the month cost on the current tariff (in force all month).
    costs = json.loads(cli.ok("costs", "--from", "2026-10-21", "--to", "2026-11-21", "--fuel", "electricity", "--json"))
    assert current["total_pence"] == pytest.approx(costs["electricity"]["total_pence"], abs=0.006)
    assert current["energy_pence"] == pytest.approx(costs["electricity"]["energy_cost_pence"], abs=0.006)


def expected_candidates(sim: SimServer) -> set[str]:
    """The region's import tariffs the simulator's catalogue offers, less the current one: read here from
    the product list and each product's detail."""
    codes: set[str] = set()
    for product in httpx.get(f"{sim.url}/v1/products/", timeout=30).json()["results"]:
        if product["direction"] != "IMPORT":
            continue
        detail = httpx.get(f"{sim.url}/v1/products/{product['code']}/", timeout=30).json()
        for key in ("single_register_electricity_tariffs", "dual_register_electricity_tariffs"):
            for payment in detail[key].get("_J", {}).values():
                codes.add(payment["code"])
    return codes - {CURRENT}


def test_comparing_eight_tariffs_over_twelve_months_makes_the_fewest_requests_then_none(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        sim.reset_log()
        report = json.loads(cli.ok("compare", "--fuel", "electricity", "--json"))
        log = sim.requests_log()["requests"]
        sim.reset_log()
        again = json.loads(cli.ok("compare", "--fuel", "electricity", "--json"))
        second = sim.requests_log()["requests"]

        # The current tariff began on 21 November 2025, where the period begins: the sync holds its prices.
        assert (report["from"], report["to"]) == ("2025-11-21", "2026-11-21")
        candidates = {r["tariff"] for r in report["tariffs"]}
        assert candidates == expected_candidates(sim)
        assert len(candidates) == 8
        # 1 product list (9 products: one page of 100) + 1 detail per import product + for each candidate and
        # each of its price lists, ceil(records over the year / 1500) pages (at least one).
        products = httpx.get(f"{sim.url}/v1/products/", timeout=30).json()
        imports = sum(p["direction"] == "IMPORT" for p in products["results"])
        start = datetime(2025, 11, 21, tzinfo=UK)
        end = datetime(2026, 11, 21, tzinfo=UK)
        pages = {}
        for code in candidates:
            product = code.split("-", 2)[2].rsplit("-", 1)[0]
            lists = ["day-unit-rates", "night-unit-rates"] if code.startswith("E-2R") else ["standard-unit-rates"]
            for name in [*lists, "standing-charges"]:
                records = sim_count(sim, f"products/{product}/electricity-tariffs/{code}/{name}/", start, end, None)
                pages[(code, name)] = max(1, math.ceil(records / 1500))
    assert products["count"] <= 100
    expected = 1 + imports + sum(pages.values())
    assert pages[("E-1R-AGILE-24-10-01-J", "standard-unit-rates")] == 12  # 17,520 half-hours
    assert len(log) == expected, sorted(str(e["route"]) for e in log)
    assert report["requests"] == {"rest": expected, "graphql": 0}
    assert len({(e["path"], e["query"]) for e in log}) == expected  # nothing asked twice
    assert second == []
    assert again["requests"] == {"rest": 0, "graphql": 0}
    assert again["tariffs"] == report["tariffs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--months", "0"), "Error: --months 0: compare 1 to 36 months"),
        (("--fuel", "oil"), "Error: --fuel 'oil': write electricity, gas or export"),
        (("--region", "Q"), "Error: --region 'Q': write one of A, B, C, D, E, F, G, H, J, K, L, M, N, P"),
    ],
)
def test_bad_input_is_one_line(synced_demo: Cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    cli = copy_of(synced_demo, tmp_path / "copy")
    done = cli.run("compare", *args)
    assert done.returncode == 1
    assert done.stderr.strip() == message


def test_no_database_yet_says_what_to_do(tmp_path: Path, synced_demo: Cli) -> None:
    done = make_cli(synced_demo.sim, tmp_path).run("compare")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error: no database at ")
    assert "run `octoscope sync` first" in done.stderr


def test_progress_goes_to_stderr_and_the_answer_is_kept_in_the_store(synced_demo: Cli, tmp_path: Path) -> None:
    cli = copy_of(synced_demo, tmp_path / "copy")
    done = cli.run("compare", "--months", "2", "--fuel", "electricity", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is the JSON alone
    lines = done.stderr.splitlines()
    assert lines, "the price lists fetched are counted on stderr"
    assert all(line.startswith("[") and "/" in line.split("]")[0] for line in lines), lines
    assert lines[-1].startswith(f"[{len(lines)}/{len(lines)}]")
    with sqlite3.connect(cli.db) as db:
        # the sync keeps its detected charging there too
        (key, body) = db.execute("SELECT key, body FROM kept_results WHERE key LIKE 'compare:%'").fetchone()
    assert key == "compare:A-DE30DE30:2:electricity:"
    assert json.loads(body)["tariffs"] == report["tariffs"]


@pytest.mark.parametrize("route", ["rest", "rates"])
def test_octopus_not_answering_in_time_is_one_line(synced_demo: Cli, tmp_path: Path, route: str) -> None:
    # Its own simulator: REST requests (or only the price lists') a second late, a timeout of 0.2 s, no retry.
    with simulator(faults=f"latency:1:ms=1000:route={route}") as slow:
        home = tmp_path / "slow"
        cli = copy_of(synced_demo, home)
        cli = make_cli(slow, home)
        (home / "config.toml").write_text("[retry]\nattempts = 1\ntimeout_seconds = 0.2\n")
        done = cli.run("compare", "--months", "1", "--fuel", "electricity")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("[")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("Error: "), errors
    assert "did not answer in time" in errors[0], errors
