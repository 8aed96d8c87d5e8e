"""The request policy every call to Octopus goes through: a persisted hourly budget and polite retries.

One policy per API key, shared by REST and GraphQL and by every task in the process. A rate-limit answer
(429, KT-CT-1199, KT-GB-4042, the edge's HTML 403) or a ``Retry-After`` holds back every request under the
key, not only the one that got it: the hold is one per key and ledger in the process (:func:`hold_of`), so
that every ``RequestPolicy`` built on it, for a sync, a dispatch refresh or the live poller, shares it, and its
backoff grows with each rate-limited answer in a row, across runs, until one answer gets through.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol, TypeVar

from octoscope.octopus.errors import BudgetExhausted, GaveUp, KeyHeld, RateLimited, Retryable
from octoscope.retry import Backoff

Api = Literal["rest", "graphql"]
WINDOW = 3600.0
T = TypeVar("T")


class BudgetLedger(Protocol):
    """Where requests are counted so that a restart, or a crash loop, cannot exceed the budget."""

    def requests_since(self, key_id: str, api: str, since: float) -> list[float]: ...

    def record_request(self, key_id: str, api: str, at: float) -> None: ...


HOLD_CAP = 900.0  # the longest a rate-limit hold grows to, without a Retry-After saying more


@dataclass
class Hold:
    """Whether a key may be used now, shared by every caller of the key in the process.

    ``strikes``: rate-limit answers in a row (a success clears them); each one holds the key for the server's
    ``Retry-After`` if it gave one, else ``floor * 2 ** (strikes - 1)`` seconds (at most ``HOLD_CAP``).
    While a hold runs out, one request probes: the others wait for its answer instead of all going at once.
    """

    not_before: float = 0.0
    strikes: int = 0
    probing: bool = False
    limited_at: float | None = None  # the last rate-limit answer
    reason: str = ""
    live_share: int = 0  # GraphQL calls an hour kept for a watched live view (0: nobody watching)

    def until(self) -> float:
        return self.not_before

    def limited(self, now: float, floor: float, retry_after: float | None, reason: str) -> None:
        """A rate-limit answer at ``now``. Answers to requests sent together count once: only one that
        arrives after the hold ran out (a probe) makes it longer."""
        if now >= self.not_before or self.strikes == 0:
            self.strikes += 1
        # The server's own wait when it gives one; else one that doubles with each rate limit in a row.
        wait = retry_after if retry_after is not None else min(HOLD_CAP, floor * 2 ** (self.strikes - 1))
        self.not_before = max(self.not_before, now + wait)
        self.limited_at = now
        self.reason = reason

    def answered(self) -> None:
        """An answer that is not a rate limit: the key is usable again."""
        self.strikes = 0
        self.reason = ""


@dataclass
class Meter:
    """Requests made (and retried) by one piece of work, whatever else shares the policy meanwhile: with one
    policy per key and process, the sync's count must not include the live poller's calls."""

    made: dict[str, int] = field(default_factory=lambda: {"rest": 0, "graphql": 0})
    retries: int = 0


# The meters of the work running in this context; tasks it starts (a sync's downloads) inherit them.
_METERS: ContextVar[tuple[Meter, ...]] = ContextVar("octopus_meters", default=())


_HOLDS: weakref.WeakKeyDictionary[object, dict[str, Hold]] = weakref.WeakKeyDictionary()


def hold_of(ledger: object, key_id: str) -> Hold:
    """The one hold of ``key_id`` in this process, for callers sharing ``ledger`` (the store: two tests,
    each with a store of its own, do not share a hold)."""
    try:
        holds = _HOLDS.setdefault(ledger, {})
    except TypeError:  # a ledger that cannot be weakly referenced: a hold of its own
        return Hold()
    return holds.setdefault(key_id, Hold())


def key_fingerprint(api_key: str) -> str:
    """A stable id for a key that does not reveal it: budgets and tokens are filed under this."""
    return hashlib.sha256(b"octoscope:" + api_key.encode()).hexdigest()[:16]


class RequestPolicy:
    def __init__(
        self,
        key_id: str,
        ledger: BudgetLedger,
        per_hour: dict[Api, int],
        *,
        attempts: int = 6,
        base_seconds: float = 1.0,
        cap_seconds: float = 60.0,
        max_wait_seconds: float = 900.0,
        rate_limit_floor_seconds: float = 60.0,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random | None = None,
    ) -> None:
        self.key_id = key_id
        self.ledger = ledger
        self.per_hour = per_hour
        self.attempts = max(1, attempts)
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds
        self._backoff = Backoff(base_seconds, cap_seconds, jitter=0.5)
        self.max_wait_seconds = max_wait_seconds
        self.rate_limit_floor_seconds = rate_limit_floor_seconds
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.hold = hold_of(ledger, key_id)  # shared by every policy of this key and ledger in the process
        self.made: dict[Api, int] = {"rest": 0, "graphql": 0}
        self.retries = 0
        self._locks: dict[Api, asyncio.Lock] = {"rest": asyncio.Lock(), "graphql": asyncio.Lock()}

    @property
    def not_before(self) -> float:
        """No request under this key before this instant (a rate limit's hold, a Retry-After)."""
        return self.hold.not_before

    @not_before.setter
    def not_before(self, at: float) -> None:
        self.hold.not_before = at

    def held_until(self) -> float | None:
        """When a rate-limit hold on the key ends, if one holds it now."""
        return self.hold.not_before if self.hold.not_before > self.clock() else None

    @contextlib.contextmanager
    def meter(self) -> Iterator[Meter]:
        """Count the requests made inside the block (and in the tasks it starts), and only those."""
        meter = Meter()
        token = _METERS.set((*_METERS.get(), meter))
        try:
            yield meter
        finally:
            _METERS.reset(token)

    def _window(self, api: Api, now: float) -> list[float]:
        # Read from the ledger every time: another process on the same database (the scheduler, a CLI sync)
        # spends the same budget.
        # A rolling hour excludes its first instant: a request sent exactly an hour ago no longer counts.
        return [at for at in self.ledger.requests_since(self.key_id, api, now - WINDOW) if at > now - WINDOW]

    def _held_for_live(self, now: float) -> int:
        """GraphQL calls of this rolling hour still owed to a watched live view (ledger ``live``): other work
        is held to the rest of the budget, so that a viewer keeps a steady pace however busy it is."""
        share = self.hold.live_share
        if share <= 0:
            return 0
        polls = [at for at in self.ledger.requests_since(self.key_id, "live", now - WINDOW) if at > now - WINDOW]
        return max(0, share - len(polls))

    def used(self, api: Api) -> int:
        """Requests under this key in the last hour, by any process that shares the database."""
        return len(self._window(api, self.clock()))

    async def _take_turn(self, api: Api, what: str, priority: bool = False, wait_for_hold: bool = True) -> None:
        """Wait for any Retry-After and for room in the budget, then count the request. ``priority``: a
        watched live view's poll (or a token everyone needs), which may use the share kept for live."""
        async with self._locks[api]:  # one queue per API: a REST wait does not hold back GraphQL
            while True:
                now = self.clock()
                limit = self.per_hour[api]
                if limit <= 0:
                    raise BudgetExhausted(f"the {api.upper()} budget is 0 an hour; raise budget.{api}_per_hour")
                # The ledger is the store: off the event loop, so that waiting for the store's writer (a page
                # being committed) does not stall every other download.
                sent = sorted(await asyncio.to_thread(self._window, api, now))
                if api == "graphql" and not priority and self.hold.live_share > 0:
                    kept = await asyncio.to_thread(self._held_for_live, now)
                    if kept and limit - kept > 0:
                        limit -= kept
                wait = self.hold.not_before - now
                if wait <= 0 and self.hold.probing:
                    wait = min(10.0, self.max_wait_seconds)  # another caller is probing the limit: its answer first
                limited = RateLimited(self.hold.reason or "a rate limit holds the key")
                if wait > 0 and not wait_for_hold:
                    raise KeyHeld(f"{what}: a rate limit holds the key for {wait:.0f} s more", limited, now + wait)
                if wait > self.max_wait_seconds:
                    cause = limited if self.hold.strikes else None
                    raise GaveUp(
                        f"{what}: Octopus asked us to wait {wait:.0f} s, longer than retry.max_wait_seconds", cause
                    )
                if len(sent) >= limit:
                    frees_at = sent[len(sent) - limit] + WINDOW  # when the window again holds fewer than limit
                    if frees_at - now > self.max_wait_seconds:
                        frees = datetime.fromtimestamp(frees_at, UTC).strftime("%H:%M UTC")
                        raise BudgetExhausted(
                            f"the {api.upper()} budget of {limit} requests an hour is spent (next free at {frees});"
                            f" wait, or raise budget.{api}_per_hour in the config"
                        )
                    wait = max(wait, frees_at - now)
                if wait <= 0:
                    break
                await self.sleep(wait)
                if self.clock() == now:  # a frozen clock (a replay at speed 0) never gets there
                    raise GaveUp(f"{what}: would wait {wait:.0f} s, but the clock is frozen; give it a speed")
            if self.hold.strikes:
                self.hold.probing = True  # the first request after a hold: the others wait for its answer
            self.made[api] += 1
            for meter in _METERS.get():
                meter.made[api] += 1
            await asyncio.to_thread(self.ledger.record_request, self.key_id, api, now)

    def backoff(self, attempt: int) -> float:
        """The process's one backoff (:class:`octoscope.retry.Backoff`): at least half of a ceiling that
        doubles from ``base_seconds`` up to ``cap_seconds``."""
        return self._backoff.delay(attempt, self.rng)

    async def call(
        self,
        api: Api,
        what: str,
        send: Callable[[], Awaitable[T]],
        *,
        attempts: int | None = None,
        priority: bool = False,
        wait_for_hold: bool = True,
    ) -> T:
        """Run ``send`` under the budget, retrying what is worth retrying, at most ``attempts`` times (the
        policy's own number unless a caller that keeps its own schedule, like the live poller, asks fewer).
        ``priority``: may use the GraphQL share kept for a watched live view. ``wait_for_hold=False``: raise
        :class:`KeyHeld` rather than wait while a rate limit holds the key (a caller that says so itself)."""
        last: Retryable | None = None
        made = 0
        tries = max(1, attempts) if attempts is not None else self.attempts
        for attempt in range(1, tries + 1):
            await self._take_turn(api, what, priority, wait_for_hold)
            made = attempt
            probe = self.hold.probing
            try:
                answer = await send()
            except Retryable as err:
                last = err
            except BaseException:
                if probe:
                    self.hold.probing = False
                    self.hold.answered()  # answered, if not as hoped: not a rate limit
                raise
            else:
                if probe or self.hold.strikes:
                    self.hold.probing = False
                    self.hold.answered()
                return answer
            if probe:
                self.hold.probing = False
            if isinstance(last, RateLimited) or last.blocked:
                # Throttled: everyone under this key waits, longer with each rate limit in a row, even if this
                # request gives up (the next run, or another caller, does not start the count again).
                self.hold.limited(self.clock(), self.rate_limit_floor_seconds, last.retry_after, str(last))
            elif last.retry_after is not None:
                # The server's wait is a floor for everyone under this key, even if this request gives up.
                self.hold.not_before = max(self.hold.not_before, self.clock() + last.retry_after)
            if attempt == tries:
                break
            self.retries += 1
            for meter in _METERS.get():
                meter.retries += 1
            delay = self.backoff(attempt)
            if last.retry_after is not None:
                delay = max(delay, last.retry_after)
            elif isinstance(last, RateLimited) or last.blocked:
                # Throttled with no word on how long (KT-CT-1199, the edge's 403 page): asking again within
                # seconds spends an allowance the Octopus app shares, or prolongs a block. The hold says when.
                delay = max(delay, self.rate_limit_floor_seconds, self.hold.not_before - self.clock())
            if delay > self.max_wait_seconds:
                break
            await self.sleep(delay)
        count = f"{made} attempt{'s' if made != 1 else ''}"
        raise GaveUp(f"{what}: gave up after {count}; the last answer was: {last}", last)
