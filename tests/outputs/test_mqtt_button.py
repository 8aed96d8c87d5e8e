"""The refresh button: a press asks for a dispatch refresh through the scheduler's job, inside the limits every
caller shares (one a minute, twenty an hour): two presses in a row make one query, the second is refused."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from pathlib import Path

from octoscope.config_outputs import MqttSettings
from octoscope.outputs.mqtt import Publisher
from octoscope.services.scheduler import Scheduler
from octoscope.store.sqlite import Store
from octoscope.wiring import open_octopus
from tests.conftest import Cli, simulator
from tests.outputs.conftest import Listener, copy_of
from tests.servers import Broker

BUTTON = "octoscope/a_de30de30/cmd/refresh_dispatches"


def test_two_presses_make_one_dispatch_query(synced_demo: Cli, broker: Broker, tmp_path: Path) -> None:
    with simulator() as sim:
        cli = copy_of(synced_demo, tmp_path / "home", sim=sim)
        settings = replace(cli.settings(), mqtt=MqttSettings(host=broker.host, port=broker.port))
        clock = cli.clock()
        listener = Listener(broker)
        sim.reset_log()

        async def run() -> list[str]:
            async with contextlib.AsyncExitStack() as stack:
                return await _run(stack)

        async def _run(stack: contextlib.AsyncExitStack) -> list[str]:
            with Store.open(cli.db, clock) as store:
                octopus = await stack.enter_async_context(open_octopus(settings, store, clock))
                scheduler = Scheduler(settings, store, clock, octopus)
                outcomes: list[str] = []

                async def refresh() -> str:
                    outcomes.append(await scheduler.run_job("dispatches"))
                    return outcomes[-1]

                publisher = Publisher(settings, store, clock, refresh=refresh)
                task = asyncio.create_task(publisher.session())
                try:
                    while not any(m.topic == "octoscope/status" and m.payload == "online" for m in listener.messages):
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(0.2)  # subscribed by now: it subscribes before it announces
                    for _ in range(2):
                        listener.publish(BUTTON, "PRESS")
                    deadline = time.monotonic() + 30
                    while len(outcomes) < 2 and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    listener.publish(BUTTON, "something else")  # not a press: ignored
                    await asyncio.sleep(0.3)
                    return outcomes
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

        try:
            outcomes = asyncio.run(run())
        finally:
            listener.close()
        log = sim.requests_log()
    assert len(outcomes) == 2
    assert outcomes[0].startswith("ok: ")
    assert outcomes[1].startswith("failed: dispatches were refreshed too recently")
    requests = log["requests"]
    assert isinstance(requests, list)
    assert sum("flexPlannedDispatches" in r.get("fields", []) for r in requests) == 1
