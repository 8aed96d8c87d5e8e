"""The live poller's pace: the live budget spread over the hour, never exceeded in any rolling hour, and
shrunk when other work leaves the shared GraphQL budget tight."""

from __future__ import annotations

import pytest

from octoscope.live.pacing import RECHECK, aligned, headroom, pace, share

NOW = 1_795_251_600.0  # 2026-11-21 09:00:00 UTC


def test_the_first_poll_goes_at_once_at_the_asked_rate() -> None:
    found = pace(NOW, [], 0, 100, 60)
    assert found.at <= NOW
    assert found.interval == 60.0
    assert found.per_hour == 60
    assert found.reason is None


def test_polls_are_spread_evenly_over_the_hour() -> None:
    found = pace(NOW, [NOW - 20], 1, 100, 60)
    assert found.at == NOW + 40


def test_no_rolling_hour_holds_more_polls_than_the_allowance() -> None:
    own = [NOW - 3590 + i for i in range(60)]  # 60 polls bunched at the start of the hour (a restart loop)
    found = pace(NOW, own, 60, 100, 60)
    assert found.at == own[0] + 3600  # the oldest must leave the hour first
    assert found.when(align=True) >= own[0] + 3600  # aligning never brings it forward


def test_a_simulated_hour_of_polls_stays_within_the_budget() -> None:
    own: list[float] = []
    now = NOW
    while now < NOW + 3 * 3600:
        found = pace(now, own, len([t for t in own if t > now - 3600]), 100, 60)
        now = max(now, found.when(align=bool(own)))
        own.append(now + 0.4)  # each poll goes a little late
        now += 0.6
    assert all(sum(1 for t in own if a <= t < a + 3600) <= 60 for a in own)
    assert sum(1 for t in own if NOW <= t < NOW + 3600) == 60


def test_other_work_on_the_shared_budget_slows_live_polling() -> None:
    # 100 an hour shared, 10 kept spare, 20 spent on dispatches and a sync: live gets 70 of the 100 asked.
    found = pace(NOW, [NOW - 100], 21, 100, 100)
    assert headroom(100) == 10
    assert found.per_hour == 70
    assert found.reason is not None
    assert "100 an hour" in found.reason
    assert "70 an hour" in found.reason


def test_a_watched_view_keeps_its_share_however_busy_other_work_is() -> None:
    # Never fewer than its share, 40 of 60 (other work is held to the rest), while the hour still holds them.
    assert share(60) == 40
    found = pace(NOW, [NOW - 100], 21, 60, 60)
    assert found.per_hour == 40
    assert found.interval == 90.0
    assert found.at == NOW - 100 + 90
    assert pace(NOW, [], 50, 60, 60).per_hour == 10  # what the rolling hour still holds, no more
    assert pace(NOW, [], 0, 60, 30).per_hour == 30  # and never more than asked for


def test_with_the_shared_budget_spent_live_waits_and_says_why() -> None:
    found = pace(NOW, [], 60, 60, 60)
    assert found.per_hour == 0
    assert found.at == NOW + RECHECK
    assert found.reason is not None
    assert "nothing this hour" in found.reason


def test_two_devices_share_the_live_budget() -> None:
    assert pace(NOW, [NOW - 10], 1, 200, 60, feeds=2).interval == 120.0


@pytest.mark.parametrize(
    ("at", "expected"), [(NOW - 5, NOW + 2), (NOW + 2, NOW + 2), (NOW + 3.9, NOW + 2), (NOW + 4.5, NOW + 12)]
)
def test_polls_go_just_after_a_reading_ends_and_a_late_one_does_not_push_the_next(at: float, expected: float) -> None:
    assert aligned(at) == expected
