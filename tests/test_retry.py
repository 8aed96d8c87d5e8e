"""The one backoff (octoscope.retry): bounded, doubling, jittered, Retry-After a floor, sleeping on the Clock."""

from __future__ import annotations

import asyncio
import random

from octoscope.clock import Clock
from octoscope.retry import Backoff, retry_after_seconds


class Top(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


class Bottom(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


class Recorded(Clock):
    """A clock whose sleeps are recorded, not slept: the helper must sleep through the Clock it is given."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_the_ceiling_doubles_up_to_the_cap() -> None:
    backoff = Backoff(1.0, 16.0)
    assert [backoff.delay(n, Top()) for n in range(1, 8)] == [1, 2, 4, 8, 16, 16, 16]


def test_jitter_is_the_fraction_of_the_ceiling_left_to_chance() -> None:
    assert [Backoff(2.0, 30.0, jitter=1.0).delay(n, Bottom()) for n in (1, 3)] == [0.0, 0.0]
    assert [Backoff(2.0, 30.0, jitter=0.5).delay(n, Bottom()) for n in (1, 3, 9)] == [1.0, 4.0, 15.0]
    assert Backoff(100.0, 900.0, jitter=0.1).delay(1, Bottom()) == 90.0
    rng = random.Random(4)
    samples = [Backoff(1.0, 8.0, jitter=0.5).delay(4, rng) for _ in range(500)]
    assert all(4.0 <= s <= 8.0 for s in samples)
    assert len(set(samples)) > 400, "jittered, not one fixed delay"


def test_retry_after_is_a_floor_and_longest_a_bound() -> None:
    backoff = Backoff(1.0, 4.0)
    assert backoff.delay(1, Top(), retry_after=30.0) == 30.0
    assert backoff.delay(3, Top(), retry_after=0.0) == 4.0
    assert backoff.delay(1, Top(), retry_after=3600.0, longest=16.0) == 16.0


def test_retry_after_reads_seconds_or_an_http_date() -> None:
    now = 1_792_000_000.0  # Fri, 15 Oct 2026 ...
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Thu, 15 Oct 2026 11:06:42 GMT", now) is not None
    date = "Wed, 21 Oct 2026 07:28:02 GMT"
    at = 1_792_567_680.0  # 2026-10-21T07:28:00Z
    assert retry_after_seconds(date, at) == 2.0, "a date is read against the caller's now, not 0"
    assert retry_after_seconds(date, at + 10) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_pause_sleeps_on_the_clock_it_is_given() -> None:
    clock = Recorded()
    slept = asyncio.run(Backoff(1.0, 60.0).pause(clock, 3, Top(), retry_after=None))
    assert slept == 4.0
    assert clock.slept == [4.0]
