"""The states Home Assistant receives over a simulated day equal what ``octoscope costs``, ``cheapest`` and
``dispatches`` print for the same instants: on the clock-change days (46 and 50 half-hours) and on a day with
Intelligent Octopus dispatches."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from octoscope.cli import app
from octoscope.clock import frozen
from octoscope.config_outputs import MqttSettings
from octoscope.domain.uktime import UK, local_midnight
from octoscope.outputs.mqtt import publish_once
from octoscope.store.sqlite import Store
from tests.conftest import Cli
from tests.outputs.conftest import Listener, copy_of
from tests.servers import Broker

ACCOUNT = "a_de30de30"
POINTS = {"electricity": "1900000000101", "export": "1900000000125", "gas": "3000000101"}
DEVICE = "00000000_0000_4000_8000_00000000d301"


def instants(day: date) -> list[datetime]:
    """Every three hours of the local day, plus 01:30 (which happens twice in October, never in March)."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    out = []
    at = start
    while at < end:
        out.append(at)
        at += timedelta(hours=3)
    out += [start + timedelta(hours=1, minutes=30), start + timedelta(hours=2, minutes=30)]
    return sorted(set(out))


def cli_json(cli: Cli, now: datetime, *args: str) -> Any:
    env = {k: v for k, v in cli.env.items() if k.startswith("OCTOSCOPE_")}
    done = CliRunner().invoke(app, ["--now", now.isoformat(), "--clock-speed", "0", *args, "--json"], env=env)
    if done.exit_code != 0:
        return None
    return json.loads(done.stdout)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 21)])
def test_states_equal_what_costs_cheapest_and_dispatches_say(
    synced_demo: Cli, broker: Broker, day: date, tmp_path: Path
) -> None:
    cli = synced_demo
    if day == date(2026, 11, 21):  # last night's charging, as a dispatch refresh at 09:00 finds it
        cli = copy_of(synced_demo, tmp_path / "home")
        cli.ok("dispatches", "--refresh")
    options = MqttSettings(host=broker.host, port=broker.port, cheapest_hours=3.0)
    settings = replace(cli.settings(), mqtt=options, api_key=None)
    listener = Listener(broker)
    checked = 0
    dispatching: list[str] = []
    try:
        with Store.open(cli.db) as store:
            for now in instants(day):
                before = len(listener.messages)
                sent = asyncio.run(publish_once(settings, store, frozen(now)))
                seen = listener.wait(lambda m, n=before + sent: len(m) >= n, what=f"the states at {now}")
                states = {
                    m.topic: json.loads(m.payload) for m in seen[before:] if m.topic.startswith(f"octoscope/{ACCOUNT}/")
                }
                checked += _compare(cli, now, states)
                dispatching.append(states[f"octoscope/{ACCOUNT}/intelligent/{DEVICE}"]["dispatching"])
    finally:
        listener.close()
    assert checked >= 8 * len(instants(day))
    if day == date(2026, 11, 21):
        assert "ON" in dispatching  # the night's charge is seen where it happened
        assert "OFF" in dispatching


def _compare(cli: Cli, now: datetime, states: dict[str, Any]) -> int:
    today = now.astimezone(UK).date()
    yesterday = today - timedelta(days=1)
    costs = cli_json(
        cli,
        now,
        "costs",
        "--from",
        yesterday.isoformat(),
        "--to",
        (today + timedelta(days=1)).isoformat(),
        "--by",
        "day",
    )
    assert costs is not None
    n = 0
    for fuel, point in POINTS.items():
        energy = states[f"octoscope/{ACCOUNT}/{point}/energy"]
        buckets = {b["from"]: b for b in costs[fuel]["buckets"]}
        for name, d in (("yesterday", yesterday), ("today", today)):
            bucket = buckets[d.isoformat()]
            pence = bucket["earnings_pence"] if fuel == "export" else bucket["total_pence"]
            assert energy[name]["date"] == d.isoformat()
            assert energy[name]["kwh"] == bucket["kwh"], (now, fuel, name)
            assert energy[name]["cost_gbp"] == round(pence / 100, 4), (now, fuel, name)
            assert datetime.fromisoformat(energy[name]["last_reset"]) == local_midnight(d)
            n += 2
    prices = states[f"octoscope/{ACCOUNT}/prices"]
    assert prices["standing_today_gbp"] == round(costs["electricity"]["buckets"][1]["standing_charge_pence"] / 100, 4)
    found = cli_json(cli, now, "cheapest", "--hours", "3", "--offline")
    if found is None:
        assert prices["cheapest_start"] is None
    else:
        window = found["windows"][0]
        assert datetime.fromisoformat(prices["cheapest_start"]) == datetime.fromisoformat(window["start"])
        assert datetime.fromisoformat(prices["cheapest_end"]) == datetime.fromisoformat(window["end"])
        assert prices["cheapest_gbp_per_kwh"] == round(window["average_pence_per_kwh"] / 100, 6)
    n += 1
    listed = cli_json(cli, now, "dispatches", "--days", "1")
    device = states[f"octoscope/{ACCOUNT}/intelligent/{DEVICE}"]
    (state,) = listed["devices"].values()
    assert device["state"] == state
    planned = [
        {"start": r["start"], "end": r["end"], "type": r["type"], "kwh": r["kwh"]}
        for r in listed["dispatches"]
        if r["kind"] == "planned" and datetime.fromisoformat(r["end"]) > now
    ]
    assert device["planned"] == planned
    active = any(
        datetime.fromisoformat(r["start"]) <= now < datetime.fromisoformat(r["end"]) for r in listed["dispatches"]
    )
    assert device["dispatching"] == ("ON" if active else "OFF")
    return n + 1
