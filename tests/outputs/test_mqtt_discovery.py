"""Home Assistant's view of octoscope over a real broker: every discovery config it would read, checked
against the rules it applies (required keys, ids, device class / state class / unit pairs, what the Energy
dashboard accepts), a value for every entity, ids stable across restarts, the last will when ``serve`` dies,
and configs sent again when Home Assistant announces itself."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from octoscope.simulator.threaded import free_port
from tests.conftest import Cli
from tests.outputs.conftest import Listener, copy_of, mqtt_env, receiver, require_mosquitto
from tests.servers import Broker, mosquitto

# homeassistant/components/sensor/const.py (DEVICE_CLASS_STATE_CLASSES, DEVICE_CLASS_UNITS), for the classes
# octoscope uses: monetary takes any currency (and BCD's GBP/kWh), timestamp is not numeric (no unit).
STATE_CLASSES = {
    "energy": {"total", "total_increasing"},
    "monetary": {"total"},
    "duration": {"measurement", "total", "total_increasing"},
    "timestamp": set(),
    "power": {"measurement"},
    None: {"measurement", "total", "total_increasing"},
}
UNITS: dict[str | None, set[str] | None] = {
    "energy": {"Wh", "kWh", "MWh", "GJ", "MJ"},
    "duration": {"d", "h", "min", "s", "ms"},
    "power": {"W", "kW"},
    "timestamp": set(),
    "monetary": None,  # any
    None: None,
}
BINARY_CLASSES = {"running", "problem", "power", "connectivity", "plug", None}
ACCOUNT = "a_de30de30"
IMPORT, EXPORT, GAS = "1900000000101", "1900000000125", "3000000101"
DEVICE = "00000000_0000_4000_8000_00000000d301"
EXPECTED = {
    *(f"octoscope_{ACCOUNT}_{p}_{d}_kwh" for p in (IMPORT, EXPORT, GAS) for d in ("today", "yesterday")),
    *(f"octoscope_{ACCOUNT}_{p}_{d}_cost" for p in (IMPORT, GAS) for d in ("today", "yesterday")),
    *(f"octoscope_{ACCOUNT}_{EXPORT}_{d}_earnings" for d in ("today", "yesterday")),
    *(
        f"octoscope_{ACCOUNT}_{IMPORT}_{k}"
        for k in ("current_rate", "next_rate", "standing_charge_today", "cheapest_start", "cheapest_average")
    ),
    f"octoscope_{ACCOUNT}_{IMPORT}_tomorrow_rates",
    *(f"octoscope_{ACCOUNT}_{DEVICE}_{k}" for k in ("dispatching", "state", "refresh")),
    *(f"octoscope_{ACCOUNT}_{k}" for k in ("last_sync", "data_age", "graphql_used", "sync_problem")),
}
TEMPLATES = jinja2.Environment(autoescape=False)  # noqa: S701 (rendering JSON values, as Home Assistant does)


def render(template: str, payload: str) -> str:
    return TEMPLATES.from_string(template).render(value_json=json.loads(payload), value=payload)


def check_config(topic: str, config: dict[str, Any], retained: dict[str, str]) -> None:
    """One entity as Home Assistant's discovery and its sensor platform would judge it."""
    match = re.fullmatch(r"homeassistant/(sensor|binary_sensor|button)/([a-zA-Z0-9_-]+)/config", topic)
    assert match, topic
    component, object_id = match.groups()
    assert config["uniq_id"] == object_id == config["obj_id"], topic
    assert config["dev"]["ids"], topic
    assert config["dev"]["name"], topic
    assert config["o"]["name"] == "octoscope", topic
    assert (config["avty_t"], config["pl_avail"], config["pl_not_avail"]) == ("octoscope/status", "online", "offline")
    if component == "button":
        assert config["cmd_t"] == f"octoscope/{ACCOUNT}/cmd/refresh_dispatches"
        assert config.get("ent_cat") == "config"
        return
    state = retained.get(config["stat_t"])
    assert state is not None, f"{topic}: nothing retained on {config['stat_t']}"
    value = render(config["val_tpl"], state)
    if "json_attr_tpl" in config:
        assert isinstance(json.loads(render(config["json_attr_tpl"], retained[config["json_attr_t"]])), dict)
    if component == "binary_sensor":
        assert config.get("dev_cla") in BINARY_CLASSES, topic
        assert value in ("ON", "OFF"), (topic, value)
        return
    device_class, state_class, unit = config.get("dev_cla"), config.get("stat_cla"), config.get("unit_of_meas")
    assert device_class in STATE_CLASSES, topic
    if state_class is not None:
        assert state_class in STATE_CLASSES[device_class], f"{topic}: {state_class} with {device_class}"
    allowed = UNITS[device_class]
    if allowed is not None:
        assert (unit or None) is None if not allowed else unit in allowed, f"{topic}: {unit} with {device_class}"
    if "lrst_val_tpl" in config:
        assert state_class == "total", f"{topic}: last_reset needs state_class total"
        datetime.fromisoformat(render(config["lrst_val_tpl"], state))
    if entity_cat := config.get("ent_cat"):
        assert entity_cat == "diagnostic", topic  # the only category a sensor may have
    if value == "None":  # Home Assistant's "unknown"
        return
    if device_class == "timestamp":
        assert datetime.fromisoformat(value).tzinfo is not None, (topic, value)
    elif unit is not None:
        float(value)  # a sensor with a unit must be numeric
    assert len(value) <= 255


def test_every_discovery_config_is_one_home_assistant_accepts(synced_demo: Cli, broker: Broker) -> None:
    published = synced_demo.run("mqtt", "publish", "--once", env=mqtt_env(broker))
    assert published.returncode == 0, published.stderr
    listener = Listener(broker)  # as Home Assistant after a restart: everything it needs is retained
    try:
        seen = listener.wait(lambda m: len([x for x in m if x.topic.endswith("/config")]) >= len(EXPECTED))
        retained = {m.topic: m.payload for m in seen if m.retained}
    finally:
        listener.close()
    assert retained["octoscope/status"] == "online"
    configs = {t: json.loads(p) for t, p in retained.items() if t.endswith("/config")}
    assert {c["uniq_id"] for c in configs.values()} == EXPECTED
    assert len(configs) == len(EXPECTED)  # one config per id
    for topic, config in configs.items():
        check_config(topic, config, retained)
    # The Energy dashboard: grid import, export and gas in kWh; their costs in GBP (monetary, total).
    for point in (IMPORT, EXPORT, GAS):
        for day in ("today", "yesterday"):
            c = configs[f"homeassistant/sensor/octoscope_{ACCOUNT}_{point}_{day}_kwh/config"]
            assert (c["dev_cla"], c["unit_of_meas"]) == ("energy", "kWh")
            assert c["stat_cla"] == ("total_increasing" if day == "today" else "total")
    for uid in (f"{IMPORT}_today_cost", f"{GAS}_yesterday_cost", f"{EXPORT}_today_earnings"):
        c = configs[f"homeassistant/sensor/octoscope_{ACCOUNT}_{uid}/config"]
        assert (c["dev_cla"], c["stat_cla"], c["unit_of_meas"]) == ("monetary", "total", "GBP")
    rate = configs[f"homeassistant/sensor/octoscope_{ACCOUNT}_{IMPORT}_current_rate/config"]
    assert rate["unit_of_meas"].endswith("/kWh")  # what the Energy dashboard asks of a price entity
    everything = json.dumps(retained)
    assert "sk_live" not in everything  # the API key is never published
    yesterday = json.loads(retained[f"octoscope/{ACCOUNT}/{IMPORT}/energy"])["yesterday"]
    assert yesterday["date"] == "2026-11-20"
    assert yesterday["kwh"] > 0


def _serve(cli: Cli, broker: Broker, port: int) -> subprocess.Popen[bytes]:
    env = {**cli.env, **cli.clock_env(), **mqtt_env(broker)}
    with (cli.home / f"serve-{port}.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "octoscope", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def test_serve_dies_offline_by_the_last_will_and_answers_home_assistant_online(
    synced_demo: Cli, broker: Broker, tmp_path: Path
) -> None:
    cli = copy_of(synced_demo, tmp_path / "home", keyless=True)  # no key: no scheduler, no Octopus request
    listener = Listener(broker)
    notifications = receiver()
    url, got = notifications.__enter__()
    (cli.home / "config.toml").write_text(
        f'[notify]\nurls = ["{url}"]\nrules = ["price_below", "stale"]\nprice_below_pence = 10\nstale_hours = 6\n'
    )
    first = _serve(cli, broker, free_port())
    try:
        listener.wait(lambda _: len(got) == 2, 60, "serve's notifications")
        listener.wait(lambda m: len([x for x in m if x.topic.endswith("/config")]) >= len(EXPECTED), 60, "configs")
        listener.wait(lambda m: any(x.topic == "octoscope/status" and x.payload == "online" for x in m))
        before = listener.configs()
        # Home Assistant restarts and announces itself: every config comes again (not from the retained store).
        count = len(listener.messages)
        listener.publish("homeassistant/status", "online")
        again = listener.wait(
            lambda m: len({x.topic for x in m[count:] if x.topic.endswith("/config")}) >= len(EXPECTED), 30, "re-sent"
        )
        assert {x.topic for x in again[count:] if x.topic.endswith("/config")} == set(before)
        # kill -9: no goodbye; the broker publishes the last will.
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        listener.wait(lambda m: m[-1].topic == "octoscope/status" and m[-1].payload == "offline", 30, "last will")
        # A restart: the same ids and the same configs; online again.
        count = len(listener.messages)
        second = _serve(cli, broker, free_port())
        try:
            listener.wait(
                lambda m: len({x.topic for x in m[count:] if x.topic.endswith("/config")}) >= len(EXPECTED), 60
            )
            listener.wait(lambda m: any(x.payload == "online" for x in m[count:] if x.topic == "octoscope/status"))
            after = listener.configs()
            time.sleep(1.0)  # the notifier's first round runs at start-up, beside the publisher's
            sent_again = len(got)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    finally:
        if first.poll() is None:
            first.kill()
        listener.close()
        notifications.__exit__(None, None, None)
    assert after == before
    assert sent_again == 2  # the restarted serve sent neither event again
    assert sorted(g["title"] for g in got) == ["Electricity at or below 10p", "octoscope: no new data"]
    assert {c["uniq_id"] for c in after.values()} == EXPECTED
    # A clean stop says goodbye itself.
    assert listener.latest()["octoscope/status"] == "offline"


def test_a_broker_password_is_used_and_never_shown(synced_demo: Cli, tmp_path: Path) -> None:
    secret = "mqtt-pass-Zq81"
    require_mosquitto()
    with mosquitto(password=secret) as broker:
        env = {**mqtt_env(broker), "OCTOSCOPE_MQTT_USERNAME": "octoscope"}
        wrong = synced_demo.run("-vv", "mqtt", "publish", "--once", env={**env, "OCTOSCOPE_MQTT_PASSWORD": "nope-nope"})
        right = synced_demo.run("-vv", "mqtt", "publish", "--once", env={**env, "OCTOSCOPE_MQTT_PASSWORD": secret})
        nobody = synced_demo.run("mqtt", "publish", "--once", env=mqtt_env(broker))
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1].startswith("Error: the MQTT broker: ")
    assert "nope-nope" not in wrong.stderr + wrong.stdout
    assert right.returncode == 0, right.stderr
    assert secret not in right.stderr + right.stdout
    assert nobody.returncode == 1
    assert "Traceback" not in wrong.stderr + nobody.stderr
    assert os.environ.get("OCTOSCOPE_MQTT_PASSWORD") is None
