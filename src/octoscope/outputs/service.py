"""The outputs ``serve`` runs beside the scheduler: the MQTT publisher when ``[mqtt]`` is set, the notifier
when ``[notify]`` is; each a task reading the one store on the one clock, stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.live.service import LiveService
from octoscope.outputs import notify
from octoscope.outputs.mqtt import Publisher
from octoscope.store.ports import StoreProtocol


class Outputs:
    def __init__(
        self,
        settings: Settings,
        store: StoreProtocol,
        clock: Clock,
        refresh: Callable[[], Awaitable[str]] | None = None,
        live: LiveService | None = None,
    ) -> None:
        """``refresh``: what the MQTT button runs (the scheduler's dispatch job, within its limits); ``live``:
        the app's Home Mini service, which ``[mqtt] live = true`` watches as one more viewer."""
        self.publisher = None if settings.mqtt is None else Publisher(settings, store, clock, refresh, live)
        self._tasks: list[asyncio.Task[None]] = []
        if self.publisher is not None:
            self._tasks.append(asyncio.create_task(self.publisher.run_forever()))
        if settings.notify is not None:
            self._tasks.append(asyncio.create_task(notify.run_forever(settings, store, clock)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
