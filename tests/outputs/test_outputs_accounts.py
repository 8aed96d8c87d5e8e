"""One ``serve`` for two accounts publishes both to Home Assistant and notifies for both: one MQTT connection
(one availability topic), each account's entities and states under its own number and holding nothing of the
other's, and each account's notifications from its own store, titled with the account.

The accounts are the simulator's ``two_accounts`` households, synced by one ``octoscope sync``; the app runs
in this process without a scheduler, so nothing here asks Octopus anything."""

from __future__ import annotations

import json
from pathlib import Path

from octoscope.config import load_settings
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import Cli, machine_env, simulator
from tests.outputs.conftest import Listener, Received, mqtt_env, receiver
from tests.servers import Broker

ONE, TWO = "A-0000AAA1", "A-0000BBB2"
MPANS = {ONE: "1911111111101", TWO: "1922222222202"}
CONFIG = (
    f'[[accounts]]\nnumber = "{ONE}"\nname = "Flat"\napi_key_env = "KEY_ONE"\n\n'
    f'[[accounts]]\nnumber = "{TWO}"\nname = "House"\napi_key_env = "KEY_TWO"\n\n'
    '[notify]\nrules = ["stale"]\nstale_hours = 1\n'
)


def test_one_serve_publishes_and_notifies_for_every_account(broker: Broker, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG)
    with simulator("two_accounts") as sim, receiver() as (url, got):
        env = {
            **machine_env(),
            "HOME": str(tmp_path),
            "OCTOSCOPE_CONFIG": str(tmp_path / "config.toml"),
            "OCTOSCOPE_API_URL": f"{sim.url}/v1",
            "OCTOSCOPE_GRAPHQL_URL": f"{sim.url}/v1/graphql/",
            "KEY_ONE": "sk_live_octoscope_accounts_one",
            "KEY_TWO": "sk_live_octoscope_accounts_two",
            "OCTOSCOPE_NOTIFY_URLS": url,
            **mqtt_env(broker),
        }
        cli = Cli(sim, tmp_path, env)
        cli.ok("sync", "--to", "2026-11-22")
        settings = load_settings(env=env, config_path=tmp_path / "config.toml")
        every = [settings.for_account(a) for a in settings.all_accounts()]
        listener = Listener(broker)
        try:
            with serve_in_thread(create_app(every[0], accounts=every, clock=cli.clock())):
                slugs = {ONE: "a_0000aaa1", TWO: "a_0000bbb2"}

                def both_published(messages: list[Received]) -> bool:
                    topics = {m.topic for m in messages}
                    return all(f"octoscope/{s}/health" in topics for s in slugs.values()) and len(got) >= 2

                listener.wait(both_published, 60, "both accounts' states and notifications")
                latest = listener.latest()
                configs = listener.configs()
        finally:
            listener.close()
    assert latest["octoscope/status"] == "online"  # one availability for the process
    for number, own in slugs.items():
        other = TWO if number == ONE else ONE
        states = {t: p for t, p in latest.items() if t.startswith(f"octoscope/{own}/")}
        text = json.dumps(states)
        assert MPANS[number] in text, f"{number}'s meter point is not in its states"
        assert MPANS[other] not in text
        assert other not in text
        entities = [c for c in configs.values() if str(c["uniq_id"]).startswith(f"octoscope_{own}_")]
        assert entities, f"no entity of {number}"
        for config in entities:
            assert slugs[other] not in json.dumps(config)
            assert config["avty_t"] == "octoscope/status"
    titles = sorted(g["title"] for g in got)
    assert titles == [f"{ONE} (Flat): octoscope: no new data", f"{TWO} (House): octoscope: no new data"]
