"""One scheduler for several accounts: each account's syncs start at the scheduled hour plus an offset fixed by
its number (not random, not all at once), on ordinary days and on the clock-change days (29 Mar 2026: 46
half-hours; 25 Oct 2026: 50), where the morning's UTC instant moves but the offset does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from octoscope.services.scheduler import SPREAD, spread_decide, spread_offset
from octoscope.sync.schedule import Facts, LastRun


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def synced_yesterday_evening(day: str) -> Facts:
    evening = at(day) - timedelta(hours=3)  # 21:00 UTC the day before
    return Facts({"consumption": LastRun(evening, True), "account": LastRun(evening, True)}, False, False, None, None)


def test_offsets_are_fixed_by_the_number_and_spread_over_the_hour() -> None:
    numbers = [f"A-{n:08X}" for n in range(1000)]
    offsets = [spread_offset(n) for n in numbers]
    assert offsets == [spread_offset(n) for n in numbers]  # the same on every start
    assert all(timedelta(0) <= o < SPREAD for o in offsets)
    # Spread out: every ten-minute slice of the hour holds between a tenth and a quarter of a thousand accounts.
    slices = [sum(1 for o in offsets if k * 600 <= o.total_seconds() < (k + 1) * 600) for k in range(6)]
    assert all(100 <= n <= 250 for n in slices), slices


@pytest.mark.parametrize(
    ("day", "morning_utc"),
    [
        ("2026-11-21T00:00:00+00:00", "2026-11-21T06:00:00+00:00"),  # GMT
        ("2026-03-29T00:00:00+00:00", "2026-03-29T05:00:00+00:00"),  # 46 half-hours: BST from 01:00 UTC
        ("2026-10-25T00:00:00+00:00", "2026-10-25T06:00:00+00:00"),  # 50 half-hours: GMT from 01:00 UTC
    ],
)
def test_each_accounts_morning_sync_starts_its_offset_after_06_00_local(day: str, morning_utc: str) -> None:
    facts = synced_yesterday_evening(day)
    morning = at(morning_utc)
    for number in ("A-0000AAA1", "A-0000BBB2", "A-DE30DE30"):
        offset = spread_offset(number)
        assert timedelta(0) < offset < SPREAD

        def consumption(now: datetime, offset: timedelta = offset) -> tuple[bool, datetime | None]:
            d = next(d for d in spread_decide(now, facts, offset) if d.job == "consumption")
            return d.due, d.next_at

        assert consumption(morning - timedelta(minutes=1)) == (False, morning + offset)
        assert consumption(morning + offset - timedelta(seconds=1)) == (False, morning + offset)
        assert consumption(morning + offset)[0]
    # Without an offset (one account), the decision is the schedule's own: due at 06:00 sharp.
    plain = next(d for d in spread_decide(morning, facts, timedelta(0)) if d.job == "consumption")
    assert plain.due


def test_dispatches_keep_their_own_pace_whatever_the_offset() -> None:
    now = at("2026-11-21T10:00:00+00:00")
    facts = Facts({}, True, False, None, now)
    d = next(d for d in spread_decide(now, facts, timedelta(minutes=40)) if d.job == "dispatches")
    assert d.due
    assert d.next_at == now
