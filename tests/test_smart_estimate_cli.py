"""Intelligent Octopus without dispatch history, on the demo after a real sync (issue 18, point 9).

The sync at 09:00 on 21 November finds only the dispatches Octopus still reports (about 12 hours): the month
before has none. The evening charges the car took in it, outside the 23:30-05:30 window, were costed at the
peak price; they are now probable smart charges at the off-peak price, marked estimated with the amount at
stake, the same in `octoscope sessions`, `octoscope costs`, the API and the comparison. Given the whole
dispatch history, known dispatches win: a smart dispatch is off-peak, a boost or a charge no dispatch
covers is peak, and nothing is estimated."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from octoscope.domain.models import DispatchRecord
from octoscope.domain.sessions import match_by_overlap
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store.sqlite import Store
from octoscope.web.app import create_app
from tests.conftest import Cli, make_cli, simulator

UK = ZoneInfo("Europe/London")
MONTH = ("--days", "30")  # 22 October to 20 November: the demo's clock stands at 21 November 09:00
OFF_PEAK_MAX = 10.0  # p/kWh: Intelligent Octopus Go's off-peak price is about 8 p, its peak about 30 p


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def outside_the_window(s: dict[str, Any]) -> bool:
    """Whether the session starts outside 23:30-05:30 local time."""
    start = datetime.fromisoformat(s["start"]).astimezone(UK)
    minutes = start.hour * 60 + start.minute
    return 5 * 60 + 30 <= minutes < 23 * 60 + 30


def api(cli: Cli, path: str, params: dict[str, str], db: Path | None = None) -> Any:
    with serve_in_thread(create_app(cli.settings(db), clock=cli.clock())) as base:
        return httpx.get(f"{base}{path}", params=params, timeout=120).json()


def test_charges_before_the_history_are_estimated_smart_charging(synced_demo: Cli) -> None:
    sessions = json.loads(synced_demo.ok("sessions", *MONTH, "--json"))
    estimated = [s for s in sessions if s["estimated"]]
    assert len(estimated) >= 3, sessions
    for s in sessions:
        if s["estimated"]:
            # Outside the window, at the off-peak price; at the peak price it would have cost the amount at stake
            # more.
            assert outside_the_window(s), s
            assert s["average_pence_per_kwh"] < OFF_PEAK_MAX
            assert s["at_stake_pence"] > 0
            assert (s["cost_pence"] + s["at_stake_pence"]) / s["kwh"] > 3 * OFF_PEAK_MAX
        else:
            assert s["at_stake_pence"] == 0
    # The month's EV cost drops from the peak-costed figure to the estimated one.
    peak_costed = sum(s["cost_pence"] + s["at_stake_pence"] for s in estimated)
    now = sum(s["cost_pence"] for s in estimated)
    stake = sum(s["at_stake_pence"] for s in estimated)
    assert now < peak_costed / 3
    assert now + stake == pytest.approx(peak_costed)
    # The same over the API; the text says which are estimated and the amount at stake.
    assert api(synced_demo, "/api/sessions", {"days": "30"}) == sessions
    text = synced_demo.ok("sessions", *MONTH)
    for s in estimated:
        line = next(line for line in text.splitlines() if line.startswith(s["start"][:16]))
        assert line.endswith(f"estimated (±£{s['at_stake_pence'] / 100:,.2f})"), line

    # Costs count the same half-hours (the whole half-hour, the house's share too, as a dispatch bills it) and
    # say so: the at-stake amount at least the sessions' own.
    costs = json.loads(synced_demo.ok("costs", *MONTH, "--fuel", "electricity", "--json"))
    guess = costs["electricity"]["estimated_smart_charging"]
    assert guess["at_stake_pence"] >= stake * 0.95
    assert guess["kwh"] >= sum(s["kwh"] for s in estimated) * 0.95
    assert guess["pence"] / guess["kwh"] < OFF_PEAK_MAX
    shown = synced_demo.ok("costs", *MONTH, "--fuel", "electricity")
    assert (
        f"includes £{guess['pence'] / 100:,.2f} estimated smart charging (±£{guess['at_stake_pence'] / 100:,.2f})"
        in shown
    )
    # A day's figure does not depend on the range it is asked in: the month's days inside a year are the same.
    days = json.loads(synced_demo.ok("costs", *MONTH, "--fuel", "electricity", "--by", "day", "--json"))
    year = json.loads(
        synced_demo.ok(
            "costs", "--from", "2025-11-21", "--to", "2026-11-21", "--fuel", "electricity", "--by", "day", "--json"
        )
    )
    in_year = {b["from"]: b for b in year["electricity"]["buckets"]}
    assert [b["total_pence"] for b in days["electricity"]["buckets"]] == [
        in_year[b["from"]]["total_pence"] for b in days["electricity"]["buckets"]
    ]
    # The Usage page's half-hours charge the same: a day with an estimated charge adds up to its cost.
    day = datetime.fromisoformat(estimated[0]["start"]).date().isoformat()
    following = (datetime.fromisoformat(estimated[0]["start"]).date() + timedelta(days=1)).isoformat()
    usage = api(synced_demo, "/api/usage", {"from": day, "to": following, "resolution": "halfhour"})
    that_day = json.loads(synced_demo.ok("costs", "--from", day, "--to", following, "--fuel", "electricity", "--json"))
    assert usage["totals"]["energy_pence"] == pytest.approx(that_day["electricity"]["energy_cost_pence"], abs=0.01)
    assert usage["totals"]["pence"] == pytest.approx(
        that_day["electricity"]["total_pence"], abs=0.01
    )  # with the standing charge
    assert that_day["electricity"]["estimated_smart_charging"]["at_stake_pence"] > 0
    over_api = api(synced_demo, "/api/costs", {"days": "30", "fuel": "electricity"})
    assert over_api["electricity"]["estimated_smart_charging"] == guess
    assert over_api["electricity"]["total_pence"] == costs["electricity"]["total_pence"]


def test_known_dispatches_win_over_the_estimate(synced_demo: Cli, tmp_path: Path) -> None:
    # A copy given the whole dispatch history of the month, as a store that polled all along keeps it: the
    # smart dispatches are off-peak and known (not estimated), the boosts and the charges no dispatch covers
    # are peak, and nothing is estimated any more.
    cli = make_cli(synced_demo.sim, tmp_path)
    shutil.copy(synced_demo.db, cli.db)
    before = json.loads(cli.ok("sessions", *MONTH, "--json"))
    truth = httpx.get(
        f"{cli.sim.url}/_sim/truth", params={"from": "2026-10-01T00:00:00Z", "to": "2026-11-22T00:00:00Z"}, timeout=30
    ).json()
    history = [
        DispatchRecord(d["device_id"], "planned", at(d["start"]), at(d["end"]), d["type"], -d["kwh"], None, None)
        for d in truth["dispatches"]
    ]
    with Store.open(cli.db) as store:
        store.save_dispatches(history, None, at("2026-11-21T09:00:00Z"))
    after = json.loads(cli.ok("sessions", *MONTH, "--json"))
    assert not any(s["estimated"] for s in after)
    smart = [(at(d["start"]), at(d["end"])) for d in truth["dispatches"] if d["type"] == "SMART"]
    guessed = [s for s in before if s["estimated"]]
    pairs = match_by_overlap(
        [(at(s["start"]), at(s["end"])) for s in guessed], [(at(s["start"]), at(s["end"])) for s in after]
    )
    assert len(pairs) == len(guessed)
    checked = {"smart": 0, "peak": 0}
    for i, j in pairs:
        was, now = guessed[i], after[j]
        a, b = at(now["start"]), at(now["end"])
        if any(lo < b and a < hi for lo, hi in smart):
            assert now["dispatch"] == "smart"
            assert now["average_pence_per_kwh"] < OFF_PEAK_MAX  # what the estimate said
            checked["smart"] += 1
        else:  # a boost, or a charge no dispatch covers (a top-up by day): the peak price, as the history says
            assert now["average_pence_per_kwh"] > 3 * OFF_PEAK_MAX
            assert now["cost_pence"] == pytest.approx(was["cost_pence"] + was["at_stake_pence"], rel=0.02)
            checked["peak"] += 1
    assert checked["smart"] >= 1
    assert checked["peak"] >= 1
    costs = json.loads(cli.ok("costs", *MONTH, "--fuel", "electricity", "--json"))
    assert "estimated_smart_charging" not in costs["electricity"]


def test_the_intelligent_candidate_costs_ev_charging_outside_its_window_as_smart(tmp_path: Path) -> None:
    # A household on Octopus Go with a car that tops up by day: compared with Intelligent Octopus Go, those
    # charges are what Octopus would have dispatched (no history can say otherwise: the household is not on
    # it), at its off-peak price and marked estimated; the other tariffs, and Go itself, cost them as they are.
    with simulator("ev_3kw_go") as sim:
        cli = make_cli(sim, tmp_path, key="sk_live_octoscope_ev3kw_test", account="A-0000E036")
        cli.ok("sync", "--to", "2026-11-22")
        report = json.loads(cli.ok("compare", "--months", "1", "--fuel", "electricity", "--json"))
        text = cli.ok("compare", "--months", "1", "--fuel", "electricity")
    assert "estimated_smart_charging" not in report["current"]["electricity"]
    intelligent = [r for r in report["tariffs"] if "INTELLI" in r["product"]]
    assert intelligent
    for row in report["tariffs"]:
        if row in intelligent:
            guess = row["estimated_smart_charging"]
            assert guess["kwh"] > 0
            assert guess["at_stake_pence"] > 0
            assert any(f"(±£{guess['at_stake_pence'] / 100:,.2f} if it was not)" in c for c in row["caveats"])
        else:
            assert "estimated_smart_charging" not in row
    assert "Intelligent Octopus" in text


def test_the_comparison_costs_the_current_intelligent_tariff_with_the_estimate(
    synced_demo: Cli, tmp_path: Path
) -> None:
    # The demo is on Intelligent Octopus Go with no dispatch history for the month: its baseline counts the
    # evening charges as estimated smart charging, as `octoscope costs` does, so every other tariff's saving is
    # measured against that and not against the charges at peak.
    cli = make_cli(synced_demo.sim, tmp_path)
    shutil.copy(synced_demo.db, cli.db)
    report = json.loads(cli.ok("compare", "--months", "1", "--fuel", "electricity", "--json"))
    current = report["current"]["electricity"]
    guess = current["estimated_smart_charging"]
    assert guess["at_stake_pence"] > 0
    assert any(f"(±£{guess['at_stake_pence'] / 100:,.2f} if it was not)" in c for c in current["caveats"])
    costs = json.loads(
        cli.ok("costs", "--from", report["from"], "--to", report["to"], "--fuel", "electricity", "--json")
    )
    assert current["total_pence"] == pytest.approx(costs["electricity"]["total_pence"], abs=0.006)
    assert costs["electricity"]["estimated_smart_charging"]["at_stake_pence"] == pytest.approx(
        guess["at_stake_pence"], abs=0.006
    )
    for row in report["tariffs"]:
        assert row["saving_pence"] == pytest.approx(current["total_pence"] - row["total_pence"], abs=0.011)
