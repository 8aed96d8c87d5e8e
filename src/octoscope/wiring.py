"""The composition root, at the top with the CLI and the web app: settings become one Octopus facade per API
key, on the process's one clock and one store, made once (``serve``'s start-up, or a CLI command) and handed
down. The store is the facade's budget ledger and token vault: neither package imports the other, nor the
settings; they meet here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from octoscope.store import open_store

# What talks to Octopus (httpx), the live service and the sync are imported where they are wired: a command
# that only reads the store (costs, status, export) opens it here without loading them.
if TYPE_CHECKING:
    from datetime import date

    from octoscope.clock import Clock
    from octoscope.config import Settings
    from octoscope.domain.live import DayRates
    from octoscope.domain.secret import Secret
    from octoscope.live.service import LiveService
    from octoscope.octopus.facade import Octopus, OctopusOptions, OctopusRegistry
    from octoscope.store.ports import StoreProtocol


def open_account_store(settings: Settings, clock: Clock, account: str | None = None) -> StoreProtocol:
    """The store of one account: its SQLite file, or the PostgreSQL database (``db`` a ``postgresql://`` URL)
    bound to it. Every command opens its store here. ``account``: the number, if not ``settings.account``."""
    return open_store(settings.store_location(), clock, account=account or settings.account)


def octopus_options(settings: Settings) -> OctopusOptions:
    from octoscope.octopus.facade import OctopusOptions  # noqa: PLC0415

    retry = settings.retry
    return OctopusOptions(
        api_url=settings.api_url,
        graphql_url=settings.graphql_url,
        rest_per_hour=settings.budget.rest_per_hour,
        graphql_per_hour=settings.budget.graphql_per_hour,
        attempts=retry.attempts,
        base_seconds=retry.base_seconds,
        cap_seconds=retry.cap_seconds,
        max_wait_seconds=retry.max_wait_seconds,
        rate_limit_floor_seconds=retry.rate_limit_floor_seconds,
        timeout_seconds=retry.timeout_seconds,
    )


def octopus_of(settings: Settings, registry: OctopusRegistry) -> Octopus:
    """The facade of the configured key in ``registry`` (made on first asking). Raises the settings' own
    error when no key or account is configured."""
    key, _ = settings.require_credentials()
    return registry.open(key, octopus_options(settings))


@asynccontextmanager
async def open_octopus(settings: Settings, store: StoreProtocol, clock: Clock) -> AsyncIterator[Octopus]:
    """A CLI command's one facade for the configured key, its connections closed on the way out.
    ``clock``: the process's, what "now" is for the budget, ``Retry-After`` and the token's lifetime."""
    from octoscope.octopus.facade import OctopusRegistry  # noqa: PLC0415

    async with OctopusRegistry(store, clock) as registry:
        yield octopus_of(settings, registry)


@asynccontextmanager
async def configured_octopus(settings: Settings, store: StoreProtocol, clock: Clock) -> AsyncIterator[Octopus | None]:
    """``serve``'s (or ``live``'s) facade for the configured key, or None while no key and account are set
    (what needs Octopus then says so); closed on the way out."""
    from octoscope.octopus.facade import OctopusRegistry  # noqa: PLC0415

    async with OctopusRegistry(store, clock) as registry:
        configured = settings.api_key is not None and settings.account is not None
        yield octopus_of(settings, registry) if configured else None


@asynccontextmanager
async def account_octopuses(
    accounts: Sequence[tuple[Settings, StoreProtocol]], clock: Clock
) -> AsyncIterator[list[Octopus | None]]:
    """``serve``'s facades for several accounts, in their order (None for one with no key): one per API key,
    so that accounts sharing a key share its budget and ``Retry-After`` hold. A key's budget ledger and token
    are kept in the store of the first account that has it. All closed on the way out."""
    from octoscope.octopus.facade import OctopusRegistry  # noqa: PLC0415

    async with AsyncExitStack() as stack:
        by_key: dict[Secret, Octopus] = {}
        out: list[Octopus | None] = []
        for settings, store in accounts:
            if settings.api_key is None or settings.account is None:
                out.append(None)
                continue
            octopus = by_key.get(settings.api_key)
            if octopus is None:
                registry = await stack.enter_async_context(OctopusRegistry(store, clock))
                octopus = by_key[settings.api_key] = octopus_of(settings, registry)
            out.append(octopus)
        yield out


@asynccontextmanager
async def open_live(
    settings: Settings, store: StoreProtocol, clock: Clock, octopus: Octopus | None
) -> AsyncIterator[LiveService]:
    """The live Home Mini service for the configured account, on the process's facade, its pollers stopped
    on the way out. Without an API key (``octopus`` None) it still answers, with a ``token_error`` status that
    says what to set."""
    from octoscope.domain.uktime import from_epoch  # noqa: PLC0415
    from octoscope.live.service import LiveService  # noqa: PLC0415
    from octoscope.services.costing import live_day_rates  # noqa: PLC0415
    from octoscope.sync.discovery import discover  # noqa: PLC0415

    if octopus is None or settings.account is None:
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

    async def rediscover() -> None:
        await discover(octopus.clients, store, number, from_epoch(clock()), refresh=True)

    def rates(device: str, day: date) -> DayRates | None:
        return live_day_rates(store, settings, device, day)

    service = LiveService(
        settings.live,
        graphql=octopus.graphql,
        policy=octopus.policy,
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
