"""MQTT and notifications add no Octopus request: a simulated day of the scheduler, twice from the same start
(the same simulator scenario and instant, copies of one database), once alone and once with the MQTT
publisher and the notifier after every step, leaves the same requests in the simulator's log."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from octoscope.clock import ManualClock
from octoscope.config_outputs import NOTIFY_RULES, MqttSettings, NotifySettings
from octoscope.domain.secret import Secret
from octoscope.outputs.mqtt import publish_once
from octoscope.outputs.notify import notify_round
from octoscope.store.sqlite import Store
from tests.conftest import DEMO_NOW, Cli, simulator
from tests.outputs.conftest import Listener, copy_of, receiver
from tests.servers import Broker
from tests.services.scheduling import scheduling

STEP = timedelta(hours=2)


def _day(synced: Cli, home: Path, outputs: tuple[Broker, str] | None) -> tuple[Counter[str], int]:
    """The requests of one simulated day, by method, path and GraphQL fields; and the outputs' messages."""
    start = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
    sent = 0
    with simulator() as sim:
        cli = copy_of(synced, home, sim=sim)
        settings = cli.settings()
        if outputs is not None:
            broker, url = outputs
            settings = replace(
                settings,
                mqtt=MqttSettings(host=broker.host, port=broker.port),
                notify=NotifySettings(urls=(Secret(url),), rules=NOTIFY_RULES, price_below_pence=10, stale_hours=6),
            )
        clock = ManualClock(start.timestamp())
        sim.reset_log()
        with Store.open(cli.db, clock) as store, scheduling(settings, store, clock) as (scheduler, runner):
            at = start
            while at < start + timedelta(days=1):
                httpx.post(f"{sim.url}/_sim/clock", json={"now": at.isoformat()}, timeout=30).raise_for_status()
                clock.set(at.timestamp())
                runner.run(scheduler.tick())
                if outputs is not None:
                    sent += asyncio.run(publish_once(settings, store, clock))
                    sent += len(asyncio.run(notify_round(settings, store, clock)).sent)
                at += STEP
        log = sim.requests_log()
    requests = log["requests"]
    assert isinstance(requests, list)
    kinds = Counter(f"{r['method']} {r['path']} {','.join(r.get('fields', []))}" for r in requests)
    return kinds, sent


def test_mqtt_and_notifications_add_no_octopus_request_over_a_day(
    synced_demo: Cli, broker: Broker, tmp_path: Path
) -> None:
    alone, _ = _day(synced_demo, tmp_path / "alone", None)
    listener = Listener(broker)
    try:
        with receiver() as (url, got):
            with_outputs, messages = _day(synced_demo, tmp_path / "outputs", (broker, url))
        published = len(listener.messages)
    finally:
        listener.close()
    assert with_outputs == alone
    assert sum(alone.values()) > 12  # the scheduler did talk to Octopus: syncs, the account, dispatches
    assert published >= 12 * 20  # every step published its states (and the configs)
    assert got  # and notifications went
    assert messages >= published
