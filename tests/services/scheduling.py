"""A scheduler for tests that tick it from synchronous code: one event loop for all its ticks, as in
``serve`` (the process's Octopus facade, and its connections, belong to the loop that uses them)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.octopus.facade import OctopusRegistry
from octoscope.services.scheduler import Scheduler
from octoscope.store.sqlite import Store
from octoscope.wiring import octopus_of


@contextlib.contextmanager
def scheduling(settings: Settings, store: Store, clock: Clock) -> Iterator[tuple[Scheduler, asyncio.Runner]]:
    """The scheduler on one facade, and the runner to run its ticks (``runner.run(scheduler.tick())``)."""
    with asyncio.Runner() as runner:
        registry = OctopusRegistry(store, clock)
        try:
            yield Scheduler(settings, store, clock, octopus_of(settings, registry)), runner
        finally:
            runner.run(registry.aclose())
