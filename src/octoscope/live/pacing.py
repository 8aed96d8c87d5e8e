"""When the next telemetry poll may go: the live budget, shrunk when the shared GraphQL budget is tight, but
never below live's share of it while someone watches.

Pure: the caller reads the ledgers and the clock. Every poll asks for everything since the last reading, so a
slower pace costs nothing but freshness: viewers still get every 10-second reading, in bigger batches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 3600.0
PHASE = 2.0  # seconds after a 10-second boundary: the reading that just ended is in the answer
RECHECK = 300.0  # with no room at all, look again this much later


@dataclass(frozen=True)
class Pace:
    at: float  # when the next poll is due, polls spread evenly (at or before now: at once)
    interval: float  # seconds between polls at the allowance below
    per_hour: int  # polls an hour allowed now (0: none until others' calls age out of the hour)
    reason: str | None  # why fewer than asked, or why none
    hard: float = float("-inf")  # no poll before this, whatever: the rolling hour would hold too many

    def when(self, align: bool) -> float:
        """The instant to poll: ``at`` (just after a reading ends, if ``align``), never before ``hard``."""
        return max(aligned(self.at) if align else self.at, self.hard)


def share(shared_limit: int) -> int:
    """Polls an hour a watched live view keeps however busy other work is: two thirds of the shared GraphQL
    budget (40 of 60). Dispatches (at most 20 an hour by their own limit, a handful as their state needs)
    and the rest (token renewals, the account) share the other third."""
    return shared_limit * 2 // 3


def headroom(shared_limit: int) -> int:
    """GraphQL calls left to other work (token renewal, discovery, dispatches) however busy live is."""
    return max(2, shared_limit // 10)


def pace(
    now: float,
    own: Sequence[float],
    shared_used: int,
    shared_limit: int,
    calls_per_hour: int,
    feeds: int = 1,
) -> Pace:
    """The next poll of one of ``feeds`` devices sharing the live budget.

    ``own``: when live polls went in the last hour (any device, oldest first); ``shared_used``: every GraphQL
    call under the key in the last hour, live's included. The live allowance is ``calls_per_hour``, less
    whatever the shared budget cannot spare after the others' calls and a headroom, but never below live's
    :func:`share` of the shared budget; polls are spread evenly over the hour and never more than the
    allowance in any rolling hour.
    """
    recent = [t for t in own if t > now - WINDOW]
    others = max(0, shared_used - len(recent))
    spare = shared_limit - headroom(shared_limit) - others
    # Other work is held to the rest of the budget while live is watched (``RequestPolicy.live_share``), so
    # live's share is there to take, but never past the hard limit of what the rolling hour still holds.
    allowed = min(calls_per_hour, max(spare, min(share(shared_limit), shared_limit - others)))
    reason = None
    if allowed < calls_per_hour:
        reason = (
            f"the shared GraphQL budget ({shared_limit} an hour, {others} used by other work, {headroom(shared_limit)}"
            f" kept spare, {share(shared_limit)} kept for live) leaves live polling"
            + (f" {max(allowed, 0)} an hour" if allowed > 0 else " nothing this hour")
        )
    if allowed < 1:
        return Pace(now + RECHECK, RECHECK, 0, reason)
    interval = WINDOW * max(1, feeds) / allowed
    at = recent[-1] + interval if recent else now
    hard = float("-inf")
    if len(recent) >= allowed:
        hard = recent[len(recent) - allowed] + WINDOW  # the rolling hour holds no more than allowed
    return Pace(max(at, hard), interval, allowed, reason, hard)


def aligned(at: float, slack: float = 2.0) -> float:
    """The first instant ``PHASE`` seconds past a 10-second boundary, at or after ``at`` less ``slack`` (a
    poll that went a moment late does not push every later one a whole 10 seconds on)."""
    return math.ceil((at - slack - PHASE) / 10) * 10 + PHASE
