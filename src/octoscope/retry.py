"""The one way octoscope waits before trying again: bounded exponential backoff with jitter, and the
server's ``Retry-After`` honoured, in seconds or as an HTTP date.

Every retry loop uses it (the Octopus request policy, the InfluxDB writer, the live poller), so there is one
formula to reason about. Sleeping is the caller's, through its Clock: this module only says how long.

It imports nothing of ours but the clock, so that every layer may use it.
"""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass

from octoscope.clock import Clock


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: a number of seconds or an HTTP date (RFC 9110); None for
    anything else, and 0 for a date already past."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class Backoff:
    """The wait before attempt ``n + 1`` after ``n`` failures in a row.

    The ceiling doubles from ``base`` with each failure, up to ``cap``; the wait is drawn uniformly from the
    top ``jitter`` fraction of it (1: anywhere from 0, "full jitter"; 0.5: at least half; 0.1: within 10%),
    so that callers failing together do not come back together. A ``Retry-After`` is a floor; ``longest``,
    if given, bounds the result (a server asking for a day does not park a writer for a day).
    """

    base: float
    cap: float
    jitter: float = 0.5

    def ceiling(self, failures: int) -> float:
        return min(self.cap, self.base * 2.0 ** (max(1, failures) - 1))

    def delay(
        self,
        failures: int,
        rng: random.Random,
        retry_after: float | None = None,
        longest: float | None = None,
    ) -> float:
        top = self.ceiling(failures)
        wait = rng.uniform(top * (1.0 - min(1.0, max(0.0, self.jitter))), top)
        if retry_after is not None:
            wait = max(wait, retry_after)
        if longest is not None:
            wait = min(wait, longest)
        return wait

    async def pause(self, clock: Clock, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Sleep the delay on ``clock`` (a set or stepped clock included); the seconds slept."""
        wait = self.delay(failures, rng, retry_after)
        await clock.sleep(wait)
        return wait
