"""The Octopus facade: one per key and process, its REST and GraphQL clients on one policy, so that a
Retry-After answered to one caller holds back every caller of the key (httpx.MockTransport only)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from octoscope.clock import SetClock
from octoscope.domain.models import IssuedToken
from octoscope.domain.secret import Secret
from octoscope.octopus.facade import Octopus, OctopusOptions, OctopusRegistry
from tests.octopus.fakes import T0, MemoryLedger

KEY = "sk_live_facade_test_key_0123456789"
OPTIONS = OctopusOptions(api_url="https://api.example/v1", graphql_url="https://api.example/v1/graphql/")


class MemoryStore(MemoryLedger):
    """What the store is to the facade: the budget's ledger and the token's vault."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, IssuedToken] = {}

    def load_token(self, key_id: str) -> IssuedToken | None:
        return self.tokens.get(key_id)

    def save_token(self, key_id: str, token: IssuedToken) -> None:
        self.tokens[key_id] = token


def test_a_retry_after_to_one_caller_holds_back_every_caller_of_the_key() -> None:
    clock = SetClock(T0, speed=1000.0)  # a minute's hold in 60 ms of real time
    sent: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, clock()))
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "60"}, json={"detail": "throttled"})
        return httpx.Response(200, json={"number": "A-1", "properties": []})

    async def go() -> None:
        async with Octopus(Secret(KEY), OPTIONS, MemoryStore(), clock, transport=httpx.MockTransport(handler)) as octo:
            assert octo.graphql.policy is octo.policy
            assert octo.rest.policy is octo.policy
            first = asyncio.create_task(octo.rest._get(f"{OPTIONS.api_url}/accounts/A-1/", None, "account"))
            while not sent:
                await asyncio.sleep(0.001)
            assert octo.held_until() is not None
            # Another caller (a GraphQL poll, say) under the same key waits for the hold too.
            other = await octo.policy.call("graphql", "a poll", lambda: _answer(sent, clock))
            await first
            assert other == "ok"

    asyncio.run(go())
    limited_at = sent[0][1]
    assert all(at >= limited_at + 60 for _, at in sent[1:]), sent
    assert len(sent) == 3


async def _answer(sent: list[tuple[str, float]], clock: SetClock) -> Any:
    sent.append(("graphql", clock()))
    return "ok"


def test_the_registry_keeps_one_facade_per_key_and_closes_them() -> None:
    async def go() -> None:
        registry = OctopusRegistry(MemoryStore(), SetClock(T0), transport=httpx.MockTransport(lambda r: None))  # type: ignore[arg-type,return-value]
        one = registry.open(Secret(KEY), OPTIONS)
        assert registry.open(Secret(KEY), OPTIONS) is one
        other = registry.open(Secret(KEY + "x"), OPTIONS)
        assert other is not one
        assert other.key_id != one.key_id
        assert registry.get(one.key_id) is one
        assert len(registry) == 2
        assert KEY not in repr(one)
        await registry.aclose()
        assert one.closed
        assert other.closed
        assert len(registry) == 0

    asyncio.run(go())


def test_a_meter_counts_its_own_work_only() -> None:
    clock = SetClock(T0, speed=1000.0)

    async def go() -> tuple[dict[str, int], dict[str, int]]:
        async with Octopus(Secret(KEY), OPTIONS, MemoryStore(), clock) as octo:

            async def ok() -> str:
                return "ok"

            with octo.policy.meter() as mine:
                await octo.policy.call("rest", "mine", ok)
                await asyncio.gather(octo.policy.call("rest", "mine too", ok), octo.policy.call("graphql", "m", ok))
            await octo.policy.call("graphql", "someone else's", ok)
            return mine.made, octo.policy.made

    mine, everyone = asyncio.run(go())
    assert mine == {"rest": 2, "graphql": 1}
    assert everyone == {"rest": 2, "graphql": 2}
