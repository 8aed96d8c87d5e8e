"""`octoscope bills` against the simulator's statements: every statement octoscope holds complete data for
matches within 1p per fuel, every planted discrepancy is found and attributed, nothing else is flagged;
closed statements are never asked for twice; odd accounts give clear lines."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.simulator.scenario import read_scenario_text
from tests.conftest import Cli, SimServer, make_cli, simulator

# The same household at two instants: the autumn one's statements cross 25 October (50 half-hours), the
# spring one's 29 March (46); the planted discrepancies move with the scenario's relative dates.
INSTANTS = ["2026-11-21T09:00:00Z", "2027-04-12T09:00:00Z"]


@pytest.fixture(scope="module", params=INSTANTS)
def bills_cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    with simulator("bills", now=request.param) as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("bills"))
        cli.ok("sync")
        cli.ok("bills")  # the statements fetched once, so that each test (--offline ones too) stands alone
        yield cli


def truth(sim: SimServer) -> list[dict[str, Any]]:
    return httpx.get(f"{sim.url}/_sim/truth", timeout=60).json()["statements"]  # type: ignore[no-any-return]


def graphql_calls(sim: SimServer) -> list[dict[str, Any]]:
    log = sim.requests_log()["requests"]
    return [r for r in log if r.get("fields") == ["account"]]  # type: ignore[union-attr]


def graphql_ledger(cli: Cli) -> int:
    """GraphQL calls the request policy has counted against the key's budget."""
    with contextlib.closing(sqlite3.connect(cli.db)) as db:
        return int(db.execute("SELECT count(*) FROM request_budget WHERE api = 'graphql'").fetchone()[0])


def test_every_planted_discrepancy_is_found_and_attributed_and_nothing_else(bills_cli: Cli) -> None:
    bills_cli.sim.reset_log()
    report = json.loads(bills_cli.ok("bills", "--json"))
    expected = {t["id"]: t for t in truth(bills_cli.sim)}
    assert [s["id"] for s in report["statements"]] == list(expected)  # oldest first, every one
    planted_seen: set[tuple[str, str, str]] = set()
    for st in report["statements"]:
        t = expected[st["id"]]
        planted = {(p["fuel"], p["cause"]) for p in t["planted"]}
        allowed = set(planted)
        if t["smart_off_peak_kwh"] > 0:  # octoscope keeps only the last hours' dispatches
            allowed.add(("electricity", "dispatch_pricing"))
        for line in st["fuels"]:
            causes = {r["cause"] for r in line["reasons"]}
            if not line["matches"]:
                assert {(line["fuel"], c) for c in causes} & allowed, (st["from"], line)
                assert causes - {"rounding", "outside_data"} <= {c for f, c in allowed if f == line["fuel"]}, (
                    st["from"],
                    line,
                )
            elif not {(line["fuel"], c) for c in causes} & planted:
                assert abs(line["difference_pence"]) <= 1, (st["from"], line)
            planted_seen |= {(st["id"], line["fuel"], c) for c in causes if (line["fuel"], c) in planted}
        assert st["closing_balance"] == t["closing_balance"]
    every_planted = {(t["id"], p["fuel"], p["cause"]) for t in expected.values() for p in t["planted"]}
    assert every_planted == planted_seen
    assert len(every_planted) == 4  # standing charge, estimate, its correction, missed export
    clean = [
        s
        for s in report["statements"]
        if not expected[s["id"]]["planted"] and not expected[s["id"]]["smart_off_peak_kwh"]
    ]
    assert clean, "no statement without a planted discrepancy to check the match on"
    changed = [s for s in report["statements"] if expected[s["id"]]["tariff_change"]]
    assert len(changed) == 1  # Flexible to Intelligent Octopus Go part-way through a month
    assert all(line["matches"] for line in changed[0]["fuels"] if line["fuel"] != "electricity")
    for st in clean:
        assert not st["flagged"]
        assert all(abs(line["difference_pence"]) <= 1 for line in st["fuels"])


def test_the_estimated_read_is_corrected_on_the_next_statement_to_the_penny(bills_cli: Cli) -> None:
    report = json.loads(bills_cli.ok("bills", "--json", "--offline"))
    expected = {t["id"]: t for t in truth(bills_cli.sim)}

    def line(cause: str) -> dict[str, Any]:
        st = next(
            s for s in report["statements"] if {"fuel": "electricity", "cause": cause} in expected[s["id"]]["planted"]
        )
        return next(x for x in st["fuels"] if x["fuel"] == "electricity")

    over, back = line("estimated_read"), line("estimate_correction")
    assert over["difference_pence"] > 100
    # the correction gives back what the estimate overcharged, give or take each charge's rounding
    assert abs(over["difference_pence"] + back["difference_pence"]) <= 2


def test_a_second_run_asks_nothing_and_a_later_one_never_asks_for_closed_statements(
    tmp_path: Path,
) -> None:
    with simulator("bills", now=INSTANTS[0]) as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync")
        sim.reset_log()
        ledger = graphql_ledger(cli)
        first = json.loads(cli.ok("bills", "--json"))
        assert graphql_ledger(cli) == ledger + 1  # counted against the key's GraphQL budget
        calls = graphql_calls(sim)
        assert len(calls) == 1  # every statement and its transactions in one call
        assert calls[0]["variables"]["fromDate"] is None
        assert first["fetch"] == {"requests": 1, "fetched": 6, "kept": 6, "skipped": None}
        sim.reset_log()
        second = json.loads(cli.ok("bills", "--json"))
        assert graphql_calls(sim) == []
        assert second["fetch"]["requests"] == 0
        assert second["statements"] == first["statements"]
    with simulator("bills", now="2026-11-23T09:00:00Z") as later:  # two days on: the open one is stale
        cli.sim = later
        cli.env = make_cli(later, tmp_path).env
        third = json.loads(cli.ok("bills", "--json"))
        calls = graphql_calls(later)
        assert [c["variables"]["fromDate"] for c in calls] == ["2026-11-01"]  # only the open month again
        assert third["fetch"] == {"requests": 1, "fetched": 1, "kept": 6, "skipped": None}


def test_smart_charging_at_the_off_peak_rate_matches_once_the_dispatches_are_kept(tmp_path: Path) -> None:
    """On 1 March with a month of completed dispatches kept (from 30 January), February's smart charging billed
    at the off-peak rate matches to the penny; January's, before the dispatches kept, is dispatch pricing."""
    _, text = read_scenario_text("bills")
    final = text.replace("probability = 0.03", "probability = 0").replace(
        "late_probability = 0.02", "late_probability = 0"
    )
    scenario = tmp_path / "month-of-dispatches.toml"
    scenario.write_text(final + "\n[graphql]\ncompleted_dispatch_hours = 720\n")
    with simulator(str(scenario), now="2027-03-01T09:00:00Z") as sim:
        cli = make_cli(sim, tmp_path / "home")
        cli.home.mkdir()
        cli.ok("sync")
        cli.ok("dispatches", "--refresh")
        report = json.loads(cli.ok("bills", "--json"))
        smart = {t["from"]: t["smart_off_peak_kwh"] for t in truth(sim)}
    lines = {(s["from"], f["fuel"]): f for s in report["statements"] for f in s["fuels"]}
    assert smart["2027-02-01"] > 5
    assert smart["2027-01-01"] > 5
    february = lines[("2027-02-01", "electricity")]
    assert (february["difference_pence"], february["reasons"]) == (0, [])
    january = lines[("2027-01-01", "electricity")]
    assert not january["matches"]
    assert [r["cause"] for r in january["reasons"]] == ["dispatch_pricing"]


def test_a_statement_that_straddles_a_move_out(tmp_path: Path) -> None:
    """Moved out on 25 January 2026: until the old property is synced, its months are octoscope's missing
    readings; once it is, every statement matches, the move-out's day outside both homes said so."""
    _, text = read_scenario_text("moved_house")
    scenario = tmp_path / "moved.toml"
    scenario.write_text(text + "\n[statements]\nmonths = 11\n")
    with simulator(str(scenario), now="2026-11-21T09:00:00Z") as sim:
        cli = make_cli(sim, tmp_path / "home", key="sk_live_octoscope_moved_test", account="A-0000B0B5")
        cli.home.mkdir()
        cli.ok("sync")  # the current home only
        before = json.loads(cli.ok("bills", "--json"))
        cli.ok("sync", "--past-properties")
        after = json.loads(cli.ok("bills", "--json", "--offline"))
    flagged = {s["from"]: s for s in before["statements"] if s["flagged"]}
    assert sorted(flagged) == ["2025-12-01", "2026-01-01"]
    for st in flagged.values():
        line = next(x for x in st["fuels"] if x["fuel"] == "electricity")
        assert "missing_readings" in {r["cause"] for r in line["reasons"]}
    assert not any(s["flagged"] for s in after["statements"]), after["statements"]
    straddling = [
        s for s in after["statements"] if any(r["cause"] == "outside_data" for f in s["fuels"] for r in f["reasons"])
    ]
    assert [s["from"] for s in straddling] == ["2026-01-01"]


def test_bills_before_a_sync_is_one_line(tmp_path: Path) -> None:
    with simulator("bills", now=INSTANTS[0]) as sim:
        cli = make_cli(sim, tmp_path)
        done = cli.run("bills")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no database at ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_the_table_and_a_broken_answer_from_octopus(tmp_path: Path) -> None:
    with simulator("bills", now=INSTANTS[0]) as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync")
        (tmp_path / "config.toml").write_text("[retry]\nattempts = 2\nbase_seconds = 0.1\n")  # give up soon
        httpx.post(f"{sim.url}/_sim/faults", content="truncated:1:route=graphql:account", timeout=30)
        broken = cli.run("bills")
        httpx.post(f"{sim.url}/_sim/faults", content="", timeout=30)
        nothing = cli.ok("bills", "--offline")
        table = cli.ok("bills")
    assert broken.returncode == 1
    assert broken.stderr.startswith("Error: statements of A-DE30DE30")
    assert broken.stderr.count("\n") == 1
    assert nothing == "No statements kept yet.\n"
    lines = table.splitlines()
    assert lines[0].split() == ["Statement", "Fuel", "Octopus", "octoscope", "Diff", "Reason"]
    export = "export            £0.00    -£24.67  +2467p  ! no export credit: octoscope has 24.67 earned"
    assert " " * 25 + export in lines
    assert lines[-2:] == [
        "4 statement(s) differ by more than 1p on a fuel.",
        "Balance on 2026-11-15: £302.08 (in credit)",
    ]
