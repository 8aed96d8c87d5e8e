"""The request policy: a persisted hourly budget per key, bounded jittered backoff, Retry-After for everyone.

Time is fake: the clock moves only when the policy sleeps, and every sleep is recorded. Where persistence
matters the ledger is a real ``Store`` on a file in tmp_path.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from octoscope.octopus.errors import (
    BudgetExhausted,
    CredentialsRejected,
    GaveUp,
    OctopusError,
    RateLimited,
    Retryable,
    TemporarilyUnavailable,
    UnexpectedResponse,
)
from octoscope.octopus.policy import WINDOW, Api, BudgetLedger, RequestPolicy, key_fingerprint
from octoscope.store.sqlite import Store
from tests.octopus.fakes import T0, FakeTime, MemoryLedger

KEY = "sk_live_policy0123456789abcdefTEST"
KEY_ID = key_fingerprint(KEY)
T = TypeVar("T")


class TopOfRange(random.Random):
    """Jitter pinned to the top of its range: backoff shows its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


class BottomOfRange(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


def make_policy(
    fake: FakeTime,
    *,
    ledger: BudgetLedger | None = None,
    rest: int = 1000,
    graphql: int = 1000,
    key_id: str = KEY_ID,
    **options: Any,
) -> RequestPolicy:
    options.setdefault("rng", random.Random(11))
    return RequestPolicy(
        key_id,
        ledger if ledger is not None else MemoryLedger(),
        {"rest": rest, "graphql": graphql},
        clock=fake.clock,
        sleep=fake.sleep,
        **options,
    )


class Send:
    """A request: raises the scripted errors in turn, then answers; records the clock at each try."""

    def __init__(self, fake: FakeTime, *errors: Exception, answer: object = "ok") -> None:
        self.fake = fake
        self.errors = list(errors)
        self.answer = answer
        self.at: list[float] = []

    async def __call__(self) -> object:
        self.at.append(self.fake.now)
        if self.errors:
            raise self.errors.pop(0)
        return self.answer


def run(coroutine: Awaitable[T]) -> T:
    async def go() -> T:
        return await coroutine

    return asyncio.run(go())


async def calls(policy: RequestPolicy, sends: list[Send], api: Api = "rest", gap: float = 0.0) -> list[object]:
    """Make the calls one after another, ``gap`` seconds of (fake) idle time apart."""
    out = []
    for send in sends:
        out.append(await policy.call(api, "a request", send))
        send.fake.now += gap
    return out


def max_in_any_hour(times: list[float]) -> int:
    return max(sum(1 for u in times if t - WINDOW < u <= t) for t in times)


def assert_one_line_without_key(err: BaseException) -> None:
    assert "\n" not in str(err)
    assert KEY not in str(err)
    assert KEY not in repr(err)


# --- the hourly budget ---------------------------------------------------------------------------------------


def test_the_budget_is_never_exceeded_in_any_rolling_hour() -> None:
    fake = FakeTime()
    policy = make_policy(fake, rest=3, max_wait_seconds=4000)
    sends = [Send(fake) for _ in range(10)]
    run(calls(policy, sends, gap=100))
    times = [s.at[0] for s in sends]
    assert max_in_any_hour(times) == 3
    # The fourth request waits for the first to leave the hour, and so on.
    assert [t - T0 for t in times] == [0, 100, 200, 3600, 3700, 3800, 7200, 7300, 7400, 10800]
    assert fake.sleeps == [3300, 3300, 3300]


def test_concurrent_callers_share_one_budget() -> None:
    fake = FakeTime()
    policy = make_policy(fake, rest=2, max_wait_seconds=8000)
    sends = [Send(fake) for _ in range(5)]

    async def together() -> list[object]:
        return await asyncio.gather(*(policy.call("rest", f"request {i}", s) for i, s in enumerate(sends)))

    assert run(together()) == ["ok"] * 5
    times = sorted(s.at[0] for s in sends)
    assert max_in_any_hour(times) == 2
    assert times[-1] - T0 == 2 * WINDOW


def test_a_wait_for_budget_longer_than_max_wait_raises_budget_exhausted() -> None:
    fake = FakeTime()
    policy = make_policy(fake, rest=2, max_wait_seconds=600)
    run(calls(policy, [Send(fake), Send(fake)], gap=10))
    third = Send(fake)
    with pytest.raises(BudgetExhausted) as caught:
        run(policy.call("rest", "a request", third))
    assert third.at == [], "no request is sent over budget"
    assert fake.sleeps == []
    assert "budget.rest_per_hour" in str(caught.value)
    assert_one_line_without_key(caught.value)


def test_rest_and_graphql_have_separate_budgets() -> None:
    fake = FakeTime()
    policy = make_policy(fake, rest=1, graphql=1, max_wait_seconds=60)
    run(calls(policy, [Send(fake)], api="rest"))
    assert run(policy.call("graphql", "a query", Send(fake))) == "ok"
    with pytest.raises(BudgetExhausted):
        run(policy.call("graphql", "a query", Send(fake)))
    assert policy.made == {"rest": 1, "graphql": 1}


def test_requests_older_than_an_hour_no_longer_count() -> None:
    fake = FakeTime()
    policy = make_policy(fake, rest=2)
    run(calls(policy, [Send(fake), Send(fake)]))
    assert policy.used("rest") == 2
    fake.now += WINDOW
    assert policy.used("rest") == 0


def test_every_attempt_counts_against_the_budget() -> None:
    fake = FakeTime()
    ledger = MemoryLedger()
    policy = make_policy(fake, ledger=ledger, rest=3, max_wait_seconds=60)
    flaky = Send(fake, TemporarilyUnavailable("HTTP 502"), TemporarilyUnavailable("HTTP 502"))
    assert run(policy.call("rest", "a request", flaky)) == "ok"
    assert len(ledger.rows) == 3
    assert policy.made["rest"] == 3
    with pytest.raises(BudgetExhausted):
        run(policy.call("rest", "a request", Send(fake)))


def test_the_budget_survives_a_restart(tmp_path: Path) -> None:
    fake = FakeTime()
    db = tmp_path / "octoscope.db"
    with Store.open(db) as store:
        before = make_policy(fake, ledger=store, rest=3)
        run(calls(before, [Send(fake) for _ in range(3)], gap=60))
    # A new process (a crash loop, say): a fresh policy over the same database.
    with Store.open(db) as store:
        after = make_policy(fake, ledger=store, rest=3, max_wait_seconds=60)
        assert after.used("rest") == 3
        blocked = Send(fake)
        with pytest.raises(BudgetExhausted):
            run(after.call("rest", "a request", blocked))
        assert blocked.at == []
        patient = make_policy(fake, ledger=store, rest=3, max_wait_seconds=WINDOW)
        waited = Send(fake)
        run(patient.call("rest", "a request", waited))
        assert waited.at == [T0 + WINDOW], "the oldest stored request frees the budget an hour after it was made"


def test_the_budget_is_per_key(tmp_path: Path) -> None:
    fake = FakeTime()
    with Store.open(tmp_path / "octoscope.db") as store:
        run(calls(make_policy(fake, ledger=store, rest=2), [Send(fake), Send(fake)]))
        other = make_policy(fake, ledger=store, rest=2, key_id=key_fingerprint("sk_live_another_key"))
        assert other.used("rest") == 0
        assert run(other.call("rest", "a request", Send(fake))) == "ok"


def test_used_counts_requests_of_another_policy_sharing_the_database(tmp_path: Path) -> None:
    # RequestPolicy.used: "Requests under this key in the last hour, by any process that shares the database."
    fake = FakeTime()
    with Store.open(tmp_path / "octoscope.db") as store:
        serve = make_policy(fake, ledger=store, rest=3, max_wait_seconds=60)
        sync = make_policy(fake, ledger=store, rest=3, max_wait_seconds=60)

        async def both() -> None:
            await serve.call("rest", "scheduler request", Send(fake))
            await sync.call("rest", "sync request", Send(fake))
            await sync.call("rest", "sync request", Send(fake))

        run(both())
        assert serve.used("rest") == 3
        late = Send(fake)
        with pytest.raises(BudgetExhausted):
            run(serve.call("rest", "scheduler request", late))
        assert late.at == []


# --- Retry-After ---------------------------------------------------------------------------------------------


def test_retry_after_is_a_floor_for_the_next_attempt() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=3, base_seconds=1.0, cap_seconds=8.0)
    send = Send(fake, RateLimited("HTTP 429", retry_after=30))
    assert run(policy.call("rest", "a request", send)) == "ok"
    assert fake.sleeps == [30]
    assert send.at == [T0, T0 + 30]


def test_a_retry_after_holds_back_every_later_request_under_the_key() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=3, cap_seconds=8.0)

    async def scene() -> list[object]:
        throttled = asyncio.Event()
        first = Send(fake, RateLimited("HTTP 429", retry_after=120), answer="first")
        second = Send(fake, answer="second")

        async def first_send() -> object:
            try:
                return await first()
            finally:
                throttled.set()

        async def later_request() -> object:
            await throttled.wait()  # starts while the first request waits out its Retry-After
            return await policy.call("graphql", "another request", second)

        answers = await asyncio.gather(policy.call("rest", "a request", first_send), later_request())
        assert second.at[0] >= T0 + 120, "the other request went out inside the server's Retry-After"
        return list(answers)

    assert run(scene()) == ["first", "second"]


def test_a_retry_after_on_the_last_attempt_still_holds_back_later_requests() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=2, cap_seconds=8.0)
    throttled = Send(fake, RateLimited("HTTP 429", retry_after=120), RateLimited("HTTP 429", retry_after=120))
    with pytest.raises(GaveUp):
        run(policy.call("rest", "a request", throttled))
    assert throttled.at == [T0, T0 + 120]
    following = Send(fake)
    run(policy.call("rest", "the next request", following))
    assert following.at[0] >= T0 + 240, "the last Retry-After was forgotten when the request gave up"


def test_a_retry_after_longer_than_max_wait_gives_up_at_once_and_holds_back_the_key() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=5, max_wait_seconds=300)
    send = Send(fake, RateLimited("HTTP 429", retry_after=3600))
    with pytest.raises(GaveUp) as caught:
        run(policy.call("rest", "a request", send))
    assert send.at == [T0]
    assert fake.sleeps == []
    assert_one_line_without_key(caught.value)
    following = Send(fake)
    with pytest.raises(GaveUp):
        run(policy.call("rest", "the next request", following))
    assert following.at == [], "an hour's Retry-After is not ignored by the next request"


def test_giving_up_early_does_not_claim_attempts_that_were_not_made() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=6, max_wait_seconds=300)
    send = Send(fake, RateLimited("HTTP 429", retry_after=3600))
    with pytest.raises(GaveUp) as caught:
        run(policy.call("rest", "a request", send))
    assert len(send.at) == 1
    assert "6 attempts" not in str(caught.value), str(caught.value)


# --- backoff and attempts -----------------------------------------------------------------------------------


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    policy = make_policy(FakeTime(), base_seconds=1.0, cap_seconds=16.0, rng=TopOfRange())
    assert [policy.backoff(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 16, 16, 16]


def test_backoff_floor_is_half_its_ceiling() -> None:
    # The one backoff (octoscope.retry): never less than half the ceiling, which doubles up to the cap.
    policy = make_policy(FakeTime(), base_seconds=2.0, cap_seconds=30.0, rng=BottomOfRange())
    assert [policy.backoff(n) for n in range(1, 9)] == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0]


def test_backoff_is_jittered_within_its_bounds_and_grows() -> None:
    policy = make_policy(FakeTime(), base_seconds=1.0, cap_seconds=20.0, rng=random.Random(5))
    samples = {n: [policy.backoff(n) for _ in range(300)] for n in range(1, 10)}
    for n, delays in samples.items():
        ceiling = min(20.0, 2.0 ** (n - 1))
        assert all(min(ceiling, 0.5) <= d <= ceiling for d in delays), n
    means = [sum(d) / len(d) for d in samples.values()]
    assert means[0] < means[2] < means[4] < means[5]
    assert len(set(samples[5])) > 250, "jittered, not a fixed delay"
    assert max(max(d) for d in samples.values()) <= 20.0


def test_attempts_are_bounded_and_each_pause_is_within_the_cap() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=5, base_seconds=1.0, cap_seconds=4.0, rng=TopOfRange())
    send = Send(fake, *(TemporarilyUnavailable(f"HTTP 503 #{i}") for i in range(10)))
    with pytest.raises(GaveUp) as caught:
        run(policy.call("rest", "a request", send))
    assert len(send.at) == 5
    assert fake.sleeps == [1, 2, 4, 4]
    assert policy.retries == 4
    assert policy.made["rest"] == 5
    assert "HTTP 503 #4" in str(caught.value), "the last answer is named"
    assert_one_line_without_key(caught.value)


def test_a_single_attempt_means_no_retry() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=1)
    send = Send(fake, TemporarilyUnavailable("HTTP 502"))
    with pytest.raises(GaveUp):
        run(policy.call("rest", "a request", send))
    assert len(send.at) == 1
    assert fake.sleeps == []


@pytest.mark.parametrize(
    "error",
    [CredentialsRejected("refused", "api_key"), UnexpectedResponse("HTML where JSON was due")],
    ids=["credentials", "unexpected"],
)
def test_errors_not_worth_retrying_pass_through_at_once(error: OctopusError) -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=5)
    send = Send(fake, error)
    with pytest.raises(type(error)):
        run(policy.call("rest", "a request", send))
    assert len(send.at) == 1
    assert fake.sleeps == []
    assert policy.retries == 0


def test_the_key_fingerprint_is_stable_and_does_not_reveal_the_key() -> None:
    assert key_fingerprint(KEY) == key_fingerprint(KEY)
    assert key_fingerprint(KEY) != key_fingerprint(KEY + "x")
    assert KEY not in key_fingerprint(KEY)
    assert KEY[8:20] not in key_fingerprint(KEY)


def test_a_callable_clock_is_used_not_the_wall_clock() -> None:
    fake = FakeTime(now=1_000.0)
    ledger = MemoryLedger()
    policy = make_policy(fake, ledger=ledger)
    run(policy.call("rest", "a request", Send(fake)))
    assert ledger.rows == [(KEY_ID, "rest", 1_000.0)]


# --- found in review ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [RateLimited("KT-CT-1199 Too many requests."), TemporarilyUnavailable("edge 403 page", blocked=True)],
)
def test_a_rate_limit_or_block_with_no_retry_after_waits_at_least_the_floor(error: Retryable) -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=2, base_seconds=1.0, cap_seconds=8.0, rate_limit_floor_seconds=60.0)
    send = Send(fake, error)
    assert run(policy.call("graphql", "a query", send)) == "ok"
    assert fake.sleeps == [60.0]


def test_a_plain_server_error_is_not_held_to_the_floor() -> None:
    fake = FakeTime()
    policy = make_policy(fake, attempts=2, base_seconds=1.0, cap_seconds=8.0, rate_limit_floor_seconds=60.0)
    run(policy.call("rest", "a request", Send(fake, TemporarilyUnavailable("HTTP 503"))))
    assert fake.sleeps[0] <= 1.0


def test_a_budget_of_zero_is_a_clear_error() -> None:
    fake = FakeTime()
    policy = make_policy(fake, rest=0)
    with pytest.raises(BudgetExhausted, match=r"budget\.rest_per_hour"):
        run(policy.call("rest", "a request", Send(fake)))


def test_when_over_the_limit_the_wait_is_until_enough_requests_leave_the_hour() -> None:
    # Another process made 3 requests while our limit is 2: the window holds fewer than 2 only once the
    # second of them is an hour old, not the first.
    fake = FakeTime()
    ledger = MemoryLedger()
    for offset in (0, 600, 1200):
        ledger.record_request(KEY_ID, "rest", T0 - 3000 + offset)
    policy = make_policy(fake, ledger=ledger, rest=2, max_wait_seconds=7200)
    send = Send(fake)
    run(policy.call("rest", "a request", send))
    assert send.at == [T0 - 3000 + 600 + WINDOW]


def test_a_rest_budget_wait_does_not_hold_back_graphql() -> None:
    fake = FakeTime()
    ledger = MemoryLedger()
    ledger.record_request(KEY_ID, "rest", T0 - 10)
    policy = make_policy(fake, ledger=ledger, rest=1, max_wait_seconds=7200)
    order: list[str] = []

    async def both() -> None:
        async def rest() -> None:
            await policy.call("rest", "rest", Send(fake))
            order.append("rest")

        async def graphql() -> None:
            await policy.call("graphql", "graphql", Send(fake))
            order.append("graphql")

        await asyncio.gather(rest(), graphql())

    run(both())
    assert order == ["graphql", "rest"]


def test_a_frozen_clock_gives_up_a_wait_it_could_never_finish() -> None:
    """A replay at speed 0: the budget full for the next hour, and the clock never moving, is one clear
    error after one real wait, not a loop for ever."""
    from octoscope.clock import frozen
    from octoscope.octopus.errors import GaveUp

    clock = frozen(T0)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    ledger = MemoryLedger()
    ledger.record_request(KEY_ID, "rest", T0 - 10)
    policy = RequestPolicy(KEY_ID, ledger, {"rest": 1, "graphql": 1}, clock=clock, sleep=sleep, max_wait_seconds=3600)
    with pytest.raises(GaveUp, match="the clock is frozen"):
        run(policy.call("rest", "a request", lambda: asyncio.sleep(0)))
    assert slept == [3590.0]


# --- one hold per key in the process ----------------------------------------------------------------------


def test_a_rate_limit_answer_holds_back_another_policy_of_the_same_key_and_ledger() -> None:
    fake, ledger = FakeTime(), MemoryLedger()
    dispatch_run = make_policy(fake, ledger=ledger, graphql=100, rate_limit_floor_seconds=60.0)
    live = make_policy(fake, ledger=ledger, graphql=100)
    with pytest.raises(GaveUp) as err:
        run(dispatch_run.call("graphql", "dispatches", Send(fake, RateLimited("KT-CT-1199")), attempts=1))
    assert isinstance(err.value.last, RateLimited)
    assert live.held_until() == T0 + 60
    send = Send(fake)
    assert run(live.call("graphql", "telemetry", send, attempts=1)) == "ok"
    assert send.at == [T0 + 60]  # a policy built afterwards, for another caller, waited for the same hold
    assert live.held_until() is None
    other = make_policy(fake, ledger=MemoryLedger())  # another store: another process's hold, not this one
    assert other.held_until() is None


def test_the_hold_grows_across_runs_until_an_answer_gets_through() -> None:
    fake, ledger = FakeTime(), MemoryLedger()
    sends: list[float] = []
    for _ in range(5):  # five runs, each a new policy making one try, as each scheduled run does
        policy = make_policy(fake, ledger=ledger, graphql=100, rate_limit_floor_seconds=60.0)
        send = Send(fake, RateLimited("KT-CT-1199"))
        with pytest.raises(GaveUp):
            run(policy.call("graphql", "dispatches", send, attempts=1))
        sends += send.at
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert gaps == [60, 120, 240, 480]
    policy = make_policy(fake, ledger=ledger, graphql=100, rate_limit_floor_seconds=60.0)
    run(policy.call("graphql", "dispatches", Send(fake), attempts=1))
    assert policy.hold.strikes == 0  # an answer that got through: the next rate limit starts again at the floor
    with pytest.raises(GaveUp):
        run(policy.call("graphql", "dispatches", Send(fake, RateLimited("KT-CT-1199")), attempts=1))
    assert policy.held_until() == fake.now + 60


def test_the_hold_is_capped_and_a_wait_past_max_wait_gives_up_without_a_request() -> None:
    fake, ledger = FakeTime(), MemoryLedger()
    policy = make_policy(fake, ledger=ledger, graphql=100, rate_limit_floor_seconds=600.0, max_wait_seconds=300.0)
    with pytest.raises(GaveUp):
        run(policy.call("graphql", "a", Send(fake, RateLimited("KT-CT-1199")), attempts=1))
    send = Send(fake)
    with pytest.raises(GaveUp) as err:
        run(policy.call("graphql", "b", send, attempts=1))
    assert send.at == []
    assert isinstance(err.value.last, RateLimited)  # callers see a rate limit, and say so
    assert len(ledger.rows) == 1


def test_requests_sent_together_into_a_rate_limit_count_as_one_strike() -> None:
    fake, ledger = FakeTime(), MemoryLedger()
    a = make_policy(fake, ledger=ledger, graphql=100, rate_limit_floor_seconds=60.0)
    b = make_policy(fake, ledger=ledger, graphql=100, rate_limit_floor_seconds=60.0)
    a.hold.limited(T0, 60.0, None, "KT-CT-1199")
    a.hold.limited(T0, 60.0, None, "KT-CT-1199")  # a second answer to a request already in flight
    assert b.hold.strikes == 1
    assert b.held_until() == T0 + 60


def test_while_live_is_watched_other_graphql_work_is_held_to_the_rest_of_the_budget() -> None:
    fake, ledger = FakeTime(), MemoryLedger()
    for i in range(20):
        ledger.record_request(KEY_ID, "graphql", T0 - 1000 + i)
    policy = make_policy(fake, ledger=ledger, graphql=60, max_wait_seconds=60.0)
    policy.hold.live_share = 40  # a viewer: 40 of the 60 kept for live, none polled yet this hour
    with pytest.raises(BudgetExhausted):
        run(policy.call("graphql", "dispatches", Send(fake)))
    assert run(policy.call("graphql", "telemetry", Send(fake), priority=True)) == "ok"  # live itself goes
    for i in range(10):  # as live polls, what it is still owed shrinks
        ledger.record_request(KEY_ID, "live", T0 + i)
    assert run(policy.call("graphql", "dispatches", Send(fake))) == "ok"
    policy.hold.live_share = 0  # nobody watching: the whole budget again
    assert run(policy.call("graphql", "account", Send(fake))) == "ok"
