"""Home Mini demand through MQTT comes from the app's one live poller: the publisher is one more viewer, so
MQTT and a dashboard together make the calls one viewer makes, within the same ``[live]`` budget."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path

from octoscope.config_outputs import MqttSettings
from octoscope.outputs.mqtt import Publisher
from octoscope.store.sqlite import Store
from octoscope.wiring import configured_octopus, open_live
from tests.conftest import Cli, simulator
from tests.outputs.conftest import Listener, copy_of
from tests.servers import Broker

LIVE = "octoscope/a_de30de30/live"
DEMAND = "homeassistant/sensor/octoscope_a_de30de30_1900000000101_demand/config"


def test_demand_is_published_from_the_one_shared_poller(synced_demo: Cli, broker: Broker, tmp_path: Path) -> None:
    with simulator() as sim:
        cli = copy_of(synced_demo, tmp_path / "home", sim=sim)
        settings = replace(cli.settings(), mqtt=MqttSettings(host=broker.host, port=broker.port, live=True))
        clock = cli.clock()
        listener = Listener(broker)
        sim.reset_log()

        def published() -> dict[str, object] | None:
            payload = listener.latest().get(LIVE)
            found = None if payload is None else json.loads(payload)
            return found if found and found.get("demand_w") is not None else None

        async def run() -> tuple[float, dict[str, object]]:
            with Store.open(cli.db, clock) as store:
                async with (
                    configured_octopus(settings, store, clock) as octopus,
                    open_live(settings, store, clock, octopus) as live,
                ):
                    publisher = Publisher(settings, store, clock, live=live)
                    task = asyncio.create_task(publisher.session())
                    try:
                        async with live.watch():  # a dashboard watching too
                            deadline = time.monotonic() + 30
                            while published() is None and time.monotonic() < deadline:
                                await asyncio.sleep(0.05)
                            newest = live.feed().hub.newest
                            assert newest is not None
                            got = published()
                            assert got is not None, "no demand was published"
                            return newest.demand_w, got
                    finally:
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)

        try:
            demand, state = asyncio.run(run())
            config = json.loads(listener.latest()[DEMAND])
        finally:
            listener.close()
        log = sim.requests_log()
    assert state["demand_w"] == round(demand, 1)
    assert state["state"] == "ok"
    assert state["today_kwh"] is None  # not recording: no day's telemetry to add up
    assert (config["dev_cla"], config["stat_cla"], config["unit_of_meas"]) == ("power", "measurement", "W")
    requests = log["requests"]
    assert isinstance(requests, list)
    telemetry = [r for r in requests if "smartMeterTelemetry" in r.get("fields", [])]
    assert len(telemetry) == 1  # one poll for two viewers (the next is a minute away at the least)
