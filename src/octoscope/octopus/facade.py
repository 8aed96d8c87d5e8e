"""Octopus, as the rest of octoscope sees it: one :class:`Octopus` per API key and process.

It is made once, at start-up (``serve``, or a CLI command), and handed down. It owns the one request policy
of its key (the hourly budget, the ``Retry-After`` and rate-limit hold, the per-API queues) and the one HTTP
connection pool, and hands out the REST and GraphQL clients built on them. So a ``Retry-After`` answered to
the sync holds back the live poller and a dispatch refresh in the same process, and two callers never spend
the budget behind each other's back.

What must outlive the process (the budget's ledger, the GraphQL token) goes through :class:`OctopusStore`,
a protocol the store implements: this package never imports the store, nor the settings.

:class:`OctopusRegistry` keeps one facade per key, for the day one process serves many accounts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

import httpx

from octoscope.clock import Clock
from octoscope.domain.secret import Secret
from octoscope.octopus.graphql import GraphQLClient, TokenVault
from octoscope.octopus.http import new_http_client
from octoscope.octopus.policy import BudgetLedger, RequestPolicy, key_fingerprint
from octoscope.octopus.rest import RestClient


class OctopusStore(BudgetLedger, TokenVault, Protocol):
    """What the facade persists: requests counted per key (so a crash loop cannot exceed the budget) and
    the GraphQL token. The store implements it; tests may pass anything that does."""


@dataclass(frozen=True)
class OctopusOptions:
    """Where Octopus is and how politely to ask: plain values, so that this package needs no settings."""

    api_url: str
    graphql_url: str
    rest_per_hour: int = 300
    graphql_per_hour: int = 60
    attempts: int = 6
    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    max_wait_seconds: float = 900.0
    rate_limit_floor_seconds: float = 60.0
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Clients:
    """The clients of one key and their shared policy, as sync's functions take them."""

    rest: RestClient
    graphql: GraphQLClient
    policy: RequestPolicy


class Octopus:
    """The one way to Octopus for one API key in this process. Close it (``aclose``, or ``async with``)
    when the process is done with it: it holds a connection pool.

    ``transport``: for unit tests (``httpx.MockTransport``); by default the network. ``rng``: the backoff's
    jitter, for tests that want it pinned.
    """

    def __init__(
        self,
        api_key: Secret,
        options: OctopusOptions,
        store: OctopusStore,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.key_id = key_fingerprint(api_key.reveal())
        self.options = options
        self.clock = clock
        self.policy = RequestPolicy(
            self.key_id,
            store,
            {"rest": options.rest_per_hour, "graphql": options.graphql_per_hour},
            attempts=options.attempts,
            base_seconds=options.base_seconds,
            cap_seconds=options.cap_seconds,
            max_wait_seconds=options.max_wait_seconds,
            rate_limit_floor_seconds=options.rate_limit_floor_seconds,
            clock=clock,
            sleep=clock.sleep,
            rng=rng,
        )
        self._http = new_http_client(options.timeout_seconds, transport)
        self.rest = RestClient(self._http, options.api_url, api_key, self.policy)
        self.graphql = GraphQLClient(self._http, options.graphql_url, api_key, self.policy, store, clock=clock)
        self.clients = Clients(self.rest, self.graphql, self.policy)
        self.closed = False

    def held_until(self) -> float | None:
        """When a rate-limit hold on this key ends, if one holds it now."""
        return self.policy.held_until()

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self._http.aclose()

    async def __aenter__(self) -> Octopus:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:  # the key's fingerprint only, never the key
        return f"Octopus(key {self.key_id}, {self.options.api_url})"


class OctopusRegistry:
    """One :class:`Octopus` per API key in the process, all on one store and clock."""

    def __init__(self, store: OctopusStore, clock: Clock, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.store = store
        self.clock = clock
        self._transport = transport
        self._by_key: dict[str, Octopus] = {}

    def open(self, api_key: Secret, options: OctopusOptions) -> Octopus:
        """The facade of ``api_key``: made on first asking, the same one after (its options then stand)."""
        key_id = key_fingerprint(api_key.reveal())
        octopus = self._by_key.get(key_id)
        if octopus is None or octopus.closed:
            octopus = self._by_key[key_id] = Octopus(
                api_key, options, self.store, self.clock, transport=self._transport
            )
        return octopus

    def get(self, key_id: str) -> Octopus | None:
        """The facade of the key with this fingerprint, if one was opened."""
        return self._by_key.get(key_id)

    def __len__(self) -> int:
        return len(self._by_key)

    async def aclose(self) -> None:
        for octopus in self._by_key.values():
            await octopus.aclose()
        self._by_key.clear()

    async def __aenter__(self) -> OctopusRegistry:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
