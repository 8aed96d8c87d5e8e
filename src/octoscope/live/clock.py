"""The clock the live poller runs on: the real one, or one that waits its own seconds (a test's, moved by
hand in step with the simulator's)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@runtime_checkable
class SleepingClock(Protocol):
    """A clock that knows how to wait its own seconds."""

    def __call__(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


def sleeper(clock: Clock) -> Sleep:
    """How to wait ``seconds`` of ``clock``: its own way if it has one, real seconds otherwise."""
    return clock.sleep if isinstance(clock, SleepingClock) else asyncio.sleep
