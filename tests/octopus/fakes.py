"""Test doubles for the request policy: a clock that moves only when the code sleeps, and an in-memory ledger."""

from __future__ import annotations

import asyncio

from octoscope.store.sqlite import BUDGET_KEEP_SECONDS

T0 = 1_760_000_000.0


class FakeTime:
    """A clock that moves only when the code sleeps; every sleep is recorded, none is real. A sleep yields
    once before the clock moves, so that other tasks run "during" it, as they would in real time."""

    def __init__(self, now: float = T0) -> None:
        self.now = float(now)
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)


class MemoryLedger:
    """The budget ledger the store implements, in memory, pruned as the store prunes it (per key and API,
    on the clock that wrote the row), so that a test cannot pass here and fail on the real store."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float]] = []

    def requests_since(self, key_id: str, api: str, since: float) -> list[float]:
        return sorted(at for k, a, at in self.rows if k == key_id and a == api and at >= since)

    def record_request(self, key_id: str, api: str, at: float) -> None:
        self.rows.append((key_id, api, at))
        self.rows = [r for r in self.rows if (r[0], r[1]) != (key_id, api) or r[2] >= at - BUDGET_KEEP_SECONDS]
