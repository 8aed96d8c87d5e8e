"""Wiring, at the top with the CLI: settings become the Octopus clients for one API key, sharing one HTTP
pool and one request policy. The store is the policy's budget ledger and the GraphQL client's token vault:
neither package imports the other, nor the settings; they meet here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.domain.live import DayRates
from octoscope.domain.uktime import from_epoch
from octoscope.live.service import LiveService
from octoscope.octopus.graphql import GraphQLClient
from octoscope.octopus.http import new_http_client
from octoscope.octopus.policy import RequestPolicy, key_fingerprint
from octoscope.octopus.rest import RestClient
from octoscope.services.costing import live_day_rates
from octoscope.store.ports import StoreProtocol
from octoscope.sync.discovery import discover
from octoscope.sync.session import Clients


def make_policy(settings: Settings, store: StoreProtocol, clock: Clock) -> RequestPolicy:
    key, _ = settings.require_credentials()
    retry = settings.retry
    return RequestPolicy(
        key_fingerprint(key.reveal()),
        store,
        {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour},
        attempts=retry.attempts,
        base_seconds=retry.base_seconds,
        cap_seconds=retry.cap_seconds,
        max_wait_seconds=retry.max_wait_seconds,
        rate_limit_floor_seconds=retry.rate_limit_floor_seconds,
        clock=clock,
        sleep=clock.sleep,
    )


@asynccontextmanager
async def open_clients(settings: Settings, store: StoreProtocol, clock: Clock) -> AsyncIterator[Clients]:
    """``clock``: the process's, what "now" is for the budget, ``Retry-After`` and the token's lifetime."""
    key, _ = settings.require_credentials()
    policy = make_policy(settings, store, clock)
    async with new_http_client(settings.retry.timeout_seconds) as http:
        yield Clients(
            RestClient(http, settings.api_url, key, policy),
            GraphQLClient(http, settings.graphql_url, key, policy, store, clock=clock),
            policy,
        )


@asynccontextmanager
async def open_live(settings: Settings, store: StoreProtocol, clock: Clock) -> AsyncIterator[LiveService]:
    """The live Home Mini service for the configured account, its pollers stopped on the way out. Without an
    API key it still answers, with a ``token_error`` status that says what to set."""
    if settings.api_key is None or settings.account is None:
        missing = "no API key" if settings.api_key is None else "no account number"
        service = LiveService(
            settings.live,
            store=store,
            account=settings.account,
            clock=clock,
            unavailable=f"{missing} configured: run `octoscope init`, or set OCTOSCOPE_API_KEY and OCTOSCOPE_ACCOUNT",
        )
        yield service
        return
    number = settings.account
    async with open_clients(settings, store, clock) as clients:

        async def rediscover() -> None:
            await discover(clients, store, number, from_epoch(clock()), refresh=True)

        def rates(device: str, day: date) -> DayRates | None:
            return live_day_rates(store, settings, device, day)

        service = LiveService(
            settings.live,
            graphql=clients.graphql,
            policy=clients.policy,
            store=store,
            account=number,
            clock=clock,
            rediscover=rediscover,
            rates=rates,
        )
        await service.start()
        try:
            yield service
        finally:
            await service.close()
