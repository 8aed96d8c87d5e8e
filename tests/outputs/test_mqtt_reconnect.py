"""The broker goes away (a restart, an upgrade): ``serve``'s publisher tries again with a growing pause and,
once connected to the new broker (which has kept nothing), publishes ``online``, every config and every state."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from octoscope.clock import frozen
from octoscope.config_outputs import MqttSettings
from octoscope.outputs.mqtt import Publisher
from octoscope.simulator.threaded import free_port
from octoscope.store.sqlite import Store
from tests.conftest import DEMO_NOW, Cli
from tests.outputs.conftest import Listener, require_mosquitto
from tests.outputs.test_mqtt_discovery import EXPECTED
from tests.servers import mosquitto


async def _until(test: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_the_publisher_reconnects_to_a_restarted_broker_and_announces_everything(synced_demo: Cli) -> None:
    require_mosquitto()
    port = free_port()
    settings = replace(synced_demo.settings(), mqtt=MqttSettings(port=port), api_key=None)

    def configs(listener: Listener) -> int:
        return sum(1 for m in listener.messages if m.topic.endswith("/config"))

    async def scenario() -> tuple[int, int]:
        with Store.open(synced_demo.db) as store:
            publisher = Publisher(settings, store, frozen(DEMO_NOW))  # frozen: its pauses are real seconds
            task = asyncio.create_task(publisher.run_forever())
            try:
                with mosquitto(port=port) as first:
                    listener = Listener(first)
                    await _until(lambda: configs(listener) >= len(EXPECTED), "the first announcement")
                    before = configs(listener)
                    listener.close()
                with mosquitto(port=port) as second:  # the same address, nothing retained
                    listener = Listener(second)
                    await _until(lambda: configs(listener) >= len(EXPECTED), "the announcement after reconnecting")
                    await _until(lambda: listener.latest().get("octoscope/status") == "online", "online")
                    after = configs(listener)
                    listener.close()
                return before, after
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    before, after = asyncio.run(scenario())
    assert before == after == len(EXPECTED)
