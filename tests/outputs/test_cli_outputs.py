"""``octoscope mqtt show|publish`` and ``octoscope notify send`` as a user meets them: the JSON of what would be
published, and one-line errors for what is missing."""

from __future__ import annotations

import json

from tests.conftest import Cli
from tests.outputs.test_mqtt_discovery import EXPECTED


def test_mqtt_show_prints_the_configs_and_states_without_a_broker(synced_demo: Cli) -> None:
    shown = json.loads(synced_demo.ok("mqtt", "show"))
    assert {c["uniq_id"] for c in shown["configs"].values()} == EXPECTED
    assert shown["problems"] == []
    health = shown["states"]["octoscope/a_de30de30/health"]
    assert health["graphql_used"] is not None
    keyless = synced_demo.run("mqtt", "show", env={"OCTOSCOPE_API_KEY": ""})
    assert set(json.loads(keyless.stdout)["states"]["octoscope/a_de30de30/health"]) == set(health)
    prices = shown["states"]["octoscope/a_de30de30/prices"]
    assert prices["tariff"] == "E-1R-INTELLI-VAR-24-10-29-J"
    assert prices["current_start"] == "2026-11-21T09:00:00+00:00"


def test_what_is_missing_is_one_line(synced_demo: Cli) -> None:
    no_once = synced_demo.run("mqtt", "publish")
    no_mqtt = synced_demo.run("mqtt", "publish", "--once")
    no_notify = synced_demo.run("notify", "send")
    bad_port = synced_demo.run("mqtt", "publish", "--once", env={"OCTOSCOPE_MQTT_PORT": "x"})
    for done in (no_once, no_mqtt, no_notify, bad_port):
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert no_once.stderr == "Error: add --once (`octoscope serve` is the publisher that stays on)\n"
    assert no_mqtt.stderr.startswith('Error: no [mqtt] settings: add [mqtt] host = "127.0.0.1"')
    assert no_notify.stderr.startswith("Error: no [notify] settings: add [notify] urls = ")
    assert bad_port.stderr == "Error: [mqtt] port must be a number from 1 to 65535, not 'x'\n"
