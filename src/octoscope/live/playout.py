"""When a reading is shown to viewers: Octopus hands the Home Mini's 10-second readings over in batches (one
per poll, about every 90 to 120 s), so viewers get each reading ``delay`` seconds after it ended instead, one
every 10 seconds, and the figure moves at the meter's own cadence rather than in jumps.

Pure: readings and ``now`` (epoch seconds) in, what is due and when the next one is out. Instants are epoch
seconds, so a clock-change night plays out like any other (the local times shown step back, the cadence not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from octoscope.domain.live import STEP, LiveReading


def auto_delay(poll_interval: float) -> float:
    """The delay that keeps the play-out fed between polls: a poll interval rounded up to the 10-second grid
    polls go on, and one reading more (the newest of a batch ended up to 10 s before the poll)."""
    return math.ceil(poll_interval / STEP) * STEP + STEP


def release_at(reading: LiveReading, delay: float) -> float:
    """When a reading is shown: ``delay`` seconds after its 10 seconds end."""
    return reading.id + STEP + delay


def split(readings: Sequence[LiveReading], now: float, delay: float) -> tuple[list[LiveReading], list[LiveReading]]:
    """(due now, held back), each oldest first. A reading that arrives after its release time is due at once."""
    due = [r for r in readings if release_at(r, delay) <= now]
    later = [r for r in readings if release_at(r, delay) > now]
    return due, later


def next_release(readings: Sequence[LiveReading], delay: float) -> float | None:
    """When the first held-back reading is due, if any is held."""
    return min((release_at(r, delay) for r in readings), default=None)
