"""The one place that reads the time.

A process makes one ``Clock`` at start-up and hands it to everything that needs the time: "now" in UTC,
monotonic time for durations, and sleeping. The real one by default; ``--now`` / ``OCTOSCOPE_NOW`` (and a
speed, ``OCTOSCOPE_SPEED``) set an instant that then moves at that speed, for replays, demos and tests; a
``ManualClock`` moves only when told (tests step it in time with the simulator's). Nothing outside this
module reads the wall clock, sleeps or times itself (a test walks ``src/`` to keep it so), and ``domain``
takes ``now`` as an argument.

It imports nothing of ours, so the simulator can use it too.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from octoscope.errors import InputError

if TYPE_CHECKING:  # imported where a clock sleeps on a loop: a CLI command that never does need not load it
    import asyncio


class ClockError(InputError):
    """A clock setting that cannot be used (says which, and what to write)."""


class Clock:
    """Now, monotonic time and sleep, as the real clock gives them; subclasses set "now" otherwise."""

    speed = 1.0  # seconds of this clock per real second

    def __call__(self) -> float:
        """Now, in seconds since the epoch (UTC)."""
        return time.time()

    def now(self) -> datetime:
        """Now, a timezone-aware UTC datetime."""
        return datetime.fromtimestamp(self(), UTC)

    def monotonic(self) -> float:
        """Seconds for measuring a duration: never goes back, whatever "now" is set to."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        import asyncio  # noqa: PLC0415

        await asyncio.sleep(max(0.0, seconds))

    def sleep_blocking(self, seconds: float) -> None:
        """The same for code that is not on an event loop (a worker thread)."""
        time.sleep(max(0.0, seconds))

    def describe(self) -> str:
        return "the machine's clock"


class SetClock(Clock):
    """An instant set by hand that moves at ``speed`` times real time (0 freezes it). A frozen clock still
    lets the program wait: its sleeps take real seconds."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        if speed < 0:
            raise ClockError(f"speed {speed}: write 0 (frozen) or more")
        self._start = start
        self._real0 = time.monotonic()
        self.speed = speed

    def __call__(self) -> float:
        return self._start + (time.monotonic() - self._real0) * self.speed

    def set(self, start: float, speed: float | None = None) -> None:
        if speed is not None and speed < 0:
            raise ClockError(f"speed {speed}: write 0 (frozen) or more")
        self._start = start
        self._real0 = time.monotonic()
        if speed is not None:
            self.speed = speed

    def _real_seconds(self, seconds: float) -> float:
        return seconds / self.speed if self.speed > 0 else seconds

    async def sleep(self, seconds: float) -> None:
        import asyncio  # noqa: PLC0415

        await asyncio.sleep(max(0.0, self._real_seconds(seconds)))

    def sleep_blocking(self, seconds: float) -> None:
        time.sleep(max(0.0, self._real_seconds(seconds)))

    def describe(self) -> str:
        pace = "frozen" if self.speed == 0 else f"moving at {self.speed:g}x"
        return f"set to {self.now().isoformat(timespec='seconds')} ({pace})"


class ManualClock(Clock):
    """Time that moves only when ``advance`` or ``set`` moves it. A sleeper, on whatever event loop or
    thread, wakes when the clock passes its instant: an hour of polling runs in seconds, at the same
    instants every run."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._blocked = threading.Condition(self._lock)

    def __call__(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        import asyncio  # noqa: PLC0415

        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._sleepers.append((self._now + seconds, loop, wake))
        await wake

    def sleep_blocking(self, seconds: float) -> None:
        with self._blocked:
            until = self._now + seconds
            self._blocked.wait_for(lambda: self._now >= until)

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)

    def set(self, instant: float) -> None:
        with self._lock:
            self._now = instant
            due = [s for s in self._sleepers if s[0] <= instant]
            self._sleepers = [s for s in self._sleepers if s[0] > instant]
            self._blocked.notify_all()
        for _, loop, wake in due:
            with contextlib.suppress(RuntimeError):  # a loop closed since (a server stopped)
                loop.call_soon_threadsafe(_wake, wake)

    def describe(self) -> str:
        return f"stepped by hand, at {self.now().isoformat(timespec='seconds')}"


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


SYSTEM = Clock()


def parse_instant(text: str, what: str = "--now") -> float:
    """An ISO 8601 instant with its offset (``2027-03-28T00:45:00Z``), as epoch seconds."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ClockError(f"{what} {text!r}: write an ISO 8601 instant like 2026-12-06T09:00:00Z") from None
    if parsed.tzinfo is None:
        raise ClockError(f"{what} {text!r}: give its offset too, like 2026-12-06T09:00:00Z or +01:00")
    if not 2000 <= parsed.year <= 2100:
        raise ClockError(f"{what} {text!r}: the year must be between 2000 and 2100")
    return parsed.timestamp()


def parse_speed(text: str, what: str = "OCTOSCOPE_SPEED") -> float:
    try:
        speed = float(text)
    except ValueError:
        raise ClockError(f"{what} {text!r}: write a number of simulated seconds per real second, like 1") from None
    if not 0 <= speed <= 1_000_000:
        raise ClockError(f"{what} {text!r}: write 0 (frozen) to 1000000")
    return speed


def make_clock(now: str | None, speed: str | float | None = None) -> Clock:
    """The process's clock: the real one unless an instant is given (``--now``, ``OCTOSCOPE_NOW``), which
    then moves at ``speed`` (1 by default; 0 freezes it)."""
    if speed is not None and not isinstance(speed, float | int):
        speed = parse_speed(speed)
    if not now:
        if speed not in (None, 1, 1.0):
            raise ClockError("a speed other than 1 needs an instant to start from: set OCTOSCOPE_NOW or --now")
        return SYSTEM
    return SetClock(parse_instant(now), 1.0 if speed is None else float(speed))


def frozen(at: datetime | float | str) -> SetClock:
    """A clock stopped at ``at`` (an aware datetime, epoch seconds or ISO 8601 text)."""
    if isinstance(at, str):
        return SetClock(parse_instant(at, "instant"), 0.0)
    return SetClock(at.timestamp() if isinstance(at, datetime) else float(at), 0.0)
