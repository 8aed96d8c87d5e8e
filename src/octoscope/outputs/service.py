"""The outputs ``serve`` runs beside the scheduler: the MQTT publisher when ``[mqtt]`` is set, the notifier
when ``[notify]`` is; each a task reading the stores on the one clock, stopped with the app. With several
accounts, one MQTT connection speaks for them all and each account's notifications are sent from its own
store (each event once, ``max_per_hour`` each), titled with the account."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from octoscope.clock import Clock
from octoscope.outputs import notify
from octoscope.outputs.mqtt import Household, Publisher


class Outputs:
    def __init__(self, households: Sequence[Household], clock: Clock) -> None:
        """``households``: each account's settings, store, button action (the scheduler's dispatch job) and
        Home Mini service, which ``[mqtt] live = true`` watches as one more viewer."""
        first, *others = households
        settings = first.settings
        self.publisher = (
            None
            if settings.mqtt is None
            else Publisher(settings, first.store, clock, first.refresh, first.live, others=others)
        )
        self._tasks: list[asyncio.Task[None]] = []
        if self.publisher is not None:
            self._tasks.append(asyncio.create_task(self.publisher.run_forever()))
        if settings.notify is not None:
            several = len(households) > 1
            for h in households:
                label = _label(h) if several else None
                self._tasks.append(asyncio.create_task(notify.run_forever(h.settings, h.store, clock, label=label)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _label(household: Household) -> str:
    """How a notification names its account when there are several: the number, and its name if it has one."""
    number = household.settings.require_account()
    names = {a.number: a.name for a in household.settings.all_accounts()}
    return f"{number} ({names[number]})" if names.get(number) else number
