"""Wiring, at the top with the CLI: settings become the Octopus clients for one API key, sharing one HTTP
pool and one request policy. The store is the policy's budget ledger and the GraphQL client's token vault:
neither package imports the other, nor the settings; they meet here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from octoscope.config import Settings
from octoscope.octopus.graphql import GraphQLClient
from octoscope.octopus.http import new_http_client
from octoscope.octopus.policy import RequestPolicy, key_fingerprint
from octoscope.octopus.rest import RestClient
from octoscope.store.sqlite import Store
from octoscope.sync.session import Clients


def make_policy(settings: Settings, store: Store) -> RequestPolicy:
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
    )


@asynccontextmanager
async def open_clients(settings: Settings, store: Store) -> AsyncIterator[Clients]:
    key, _ = settings.require_credentials()
    policy = make_policy(settings, store)
    async with new_http_client(settings.retry.timeout_seconds) as http:
        yield Clients(
            RestClient(http, settings.api_url, key, policy),
            GraphQLClient(http, settings.graphql_url, key, policy, store),
            policy,
        )
