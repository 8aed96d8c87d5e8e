"""Clocks the live poller can run on: the real one, or one running faster (the simulator's, in tests, demos
and benchmarks), whose sleeps are shortened to match."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@runtime_checkable
class SleepingClock(Protocol):
    """A clock that knows how to wait its own seconds (one that runs fast, or one a test moves by hand)."""

    def __call__(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class ScaledClock:
    """Epoch seconds that start at ``start`` and run ``speed`` times faster than real time, like the
    simulator's clock; ``sleep`` waits clock seconds. Callable, so it serves wherever a clock is asked."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("a scaled clock must run forwards: speed > 0")
        self.start = start
        self.speed = speed
        self._real0 = time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self._real0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


def sleeper(clock: Clock) -> Sleep:
    """How to wait ``seconds`` of ``clock``: its own way if it has one, real seconds otherwise."""
    return clock.sleep if isinstance(clock, SleepingClock) else asyncio.sleep
