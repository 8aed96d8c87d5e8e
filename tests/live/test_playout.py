"""The play-out schedule: batches in, one reading every 10 seconds out, a stated delay behind the meter."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from octoscope.domain.live import LiveReading
from octoscope.live.hub import local_iso
from octoscope.live.playout import auto_delay, next_release, release_at, split


def readings(start: float, count: int) -> list[LiveReading]:
    return [LiveReading(datetime.fromtimestamp(start + 10 * i, UTC), 400.0 + i, 0.001) for i in range(count)]


def play(batches: list[tuple[float, list[LiveReading]]], delay: float, until: float) -> list[tuple[float, int]]:
    """(when shown, reading id) for batches arriving at their instants, the clock looked at every second."""
    pending: list[LiveReading] = []
    shown: list[tuple[float, int]] = []
    arrivals = sorted(batches, key=lambda b: b[0])
    now = arrivals[0][0]
    while now <= until:
        while arrivals and arrivals[0][0] <= now:
            pending.extend(arrivals.pop(0)[1])
        due, pending = split(pending, now, delay)
        shown.extend((now, r.id) for r in due)
        now += 1
    return shown


def test_auto_delay_bridges_a_poll_interval_on_the_ten_second_grid() -> None:
    assert auto_delay(90) == 100
    assert auto_delay(112.5) == 130
    assert auto_delay(10) == 20


def test_a_batch_is_held_back_and_released_at_its_own_cadence() -> None:
    start = 1_790_000_000.0
    batch = readings(start, 12)
    arrived = start + 122  # the newest ended 2 s before the poll
    due, later = split(batch, arrived, delay=130)
    assert due == []
    assert later == batch
    assert next_release(later, 130) == start + 140 == release_at(batch[0], 130)
    shown = play([(arrived, batch)], 130, start + 400)
    assert [i for _, i in shown] == [r.id for r in batch]
    assert [t for t, _ in shown] == [start + 140 + 10 * i for i in range(12)]


def test_batches_every_poll_interval_play_out_every_ten_seconds_without_a_gap() -> None:
    start = 1_790_000_000.0
    interval = 120  # polls on the 10-second grid, each asking for everything since the last reading
    batches = [(start + interval * (k + 1) + 2, readings(start + interval * k, 12)) for k in range(5)]
    shown = play(batches, auto_delay(112.5), start + 900)
    times = [t for t, _ in shown]
    assert all(b - a == 10 for a, b in itertools.pairwise(times))
    assert len(shown) == 5 * 12  # every reading, once


def test_a_late_reading_is_shown_at_once_and_none_twice() -> None:
    start = 1_790_000_000.0
    batch = readings(start, 3)
    due, later = split(batch, start + 500, delay=130)
    assert due == batch
    assert later == []
    assert next_release([], 130) is None


def test_the_night_the_clocks_go_back_plays_out_every_ten_seconds() -> None:
    # 2026-10-25: 01:59:50 BST is followed by 01:00:00 GMT; readings and their releases are epoch seconds.
    change = datetime(2026, 10, 25, 1, 0, tzinfo=UTC).timestamp()
    start = change - 60
    batch = readings(start, 12)
    shown = play([(start + 122, batch)], 130, start + 400)
    times = [t for t, _ in shown]
    assert all(b - a == 10 for a, b in itertools.pairwise(times))
    local = [local_iso(r.at) for r in batch]
    assert local[5] == "2026-10-25T01:59:50+01:00"
    assert local[6] == "2026-10-25T01:00:00+00:00"
