"""Public prices beyond the account's own agreements: other tariffs' rates (for a comparison), the product
catalogue, a postcode's region, and the prices ahead.

Everything goes through the account sync's pieces: the same planner (only stretches of a price list not
held), the same runner (pages upserted as they come, the window recorded with the last page), the same
store tables and the same request budget. A tariff's rates fetched for a comparison are the rates a later
switch to it would need, and the other way round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from octoscope.domain.compare import eligible
from octoscope.domain.models import Charge, TariffCode
from octoscope.domain.products import Product, ProductTariff
from octoscope.domain.uktime import UK, local_date, local_midnight
from octoscope.domain.windows import wall_time
from octoscope.octopus.errors import NotFound
from octoscope.store.ports import StoreProtocol
from octoscope.sync.plan import ChargeTask, Plan, Window, charge_tasks
from octoscope.sync.run import HALF_HOURLY_KINDS, Progress, Runner, SyncResult, held_windows
from octoscope.sync.session import Clients

CATALOGUE_FRESH_FOR = timedelta(days=1)  # products and their tariffs change rarely: read them once a day
AGILE_DAY_ENDS = time(23)  # UK local: Agile's day-ahead prices run 23:00 to 23:00


async def fetch_rates(
    clients: Clients,
    store: StoreProtocol,
    needs: Iterable[tuple[str, datetime, datetime]],
    now: datetime,
    *,
    charges: frozenset[Charge] | None = None,
    half_hourly: frozenset[str] = frozenset(),
    concurrency: int = 4,
    progress: Progress | None = None,
) -> SyncResult:
    """Bring the store's prices up to ``needs`` (tariff code, start, end): each price list (or only
    ``charges``) of each tariff over the stretches not already held, one task per stretch. A tariff Octopus
    does not have is a problem reported in the result, not a failure of the rest."""
    wanted: dict[tuple[str, Charge], list[Window]] = {}
    for code, start, end in needs:
        for charge in TariffCode.parse(code).charges:
            if charges is None or charge in charges:
                wanted.setdefault((code, charge), []).append(Window(start, end))
    covered = {key: held_windows(store, *key, now) for key in wanted}
    kinds = store.tariff_kinds()
    dense = half_hourly | {code for code, _ in wanted if kinds.get(code) in HALF_HOURLY_KINDS}
    tasks = charge_tasks(wanted, covered, frozenset(dense))
    starts = [w.start for ws in wanted.values() for w in ws]
    ends = [w.end for ws in wanted.values() for w in ws]
    result = SyncResult(Plan(Window(min(starts, default=now), max(ends, default=now)), (), tuple(tasks)))
    with clients.policy.meter() as meter:  # these requests only, not others' sharing the policy
        progress = progress or Progress()
        progress.start(len(tasks))
        runner = Runner(clients, store, now, progress)
        limit = asyncio.Semaphore(max(1, concurrency))

        async def bounded(task: ChargeTask) -> None:
            async with limit:
                await runner.guarded(runner.charge(task, result), f"{task.tariff.code}/{task.charge}", result)

        try:
            async with asyncio.TaskGroup() as group:
                for task in tasks:
                    group.create_task(bounded(task))
        except* Exception as failure:
            raise failure.exceptions[0] from None
        finally:
            runner.close()
            result.count(meter)
        return result


async def catalogue(
    clients: Clients,
    store: StoreProtocol,
    now: datetime,
    directions: Iterable[str],
    *,
    concurrency: int = 4,
) -> tuple[list[Product], list[ProductTariff]]:
    """The products on sale and the tariffs of those that could be compared in ``directions`` (IMPORT,
    EXPORT): from the store while fresh (a day), else one request for the list (a page per 100 products)
    and one per product for its tariffs."""
    products, listed_at = store.products()
    if listed_at is None or not timedelta(0) <= now - listed_at < CATALOGUE_FRESH_FOR:
        products = [p async for page in clients.rest.products() for p in page.items]
        store.save_products(products, now)
    _, read = store.product_tariffs()
    wanted = set(directions)
    stale = [
        p
        for p in products
        if eligible(p)
        and p.direction in wanted
        and (p.code not in read or not timedelta(0) <= now - read[p.code] < CATALOGUE_FRESH_FOR)
    ]
    limit = asyncio.Semaphore(max(1, concurrency))

    async def detail(code: str) -> None:
        async with limit:
            try:
                tariffs = await clients.rest.product_tariffs(code)
            except NotFound:
                tariffs = []  # withdrawn between the list and now: nothing to compare
            store.save_product_tariffs(code, tariffs, now)

    try:
        async with asyncio.TaskGroup() as group:
            for p in stale:
                group.create_task(detail(p.code))
    except* Exception as failure:  # the first failure as itself (one line for the user), not a group
        raise failure.exceptions[0] from None
    tariffs, _ = store.product_tariffs()
    return products, tariffs


def _postcode_key(postcode: str) -> str:
    return "gsp:" + "".join(postcode.upper().split())


async def regions_of_postcode(clients: Clients, store: StoreProtocol, postcode: str, now: datetime) -> list[str]:
    """The region letters of a postcode's grid supply point, asked once and kept (regions do not move)."""
    key = _postcode_key(postcode)
    kept = store.lookup(key)
    if kept is not None:
        return [r for r in kept[0].split(",") if r]
    regions = await clients.rest.grid_supply_points(postcode)
    store.save_lookup(key, ",".join(regions), now)
    return regions


def ahead_window(now: datetime) -> tuple[datetime, datetime]:
    """[today's local midnight, 23:00 UK tomorrow): today's prices, and tomorrow's once published (Agile's
    day ends at 23:00, so nothing further is ever published before tomorrow afternoon)."""
    today = local_date(now)
    return local_midnight(today), wall_time(today + timedelta(days=1), AGILE_DAY_ENDS, UK)


async def fetch_prices_ahead(
    clients: Clients, store: StoreProtocol, tariff_codes: Iterable[str], now: datetime, *, concurrency: int = 4
) -> SyncResult:
    """The unit rates of ``tariff_codes`` for today and tomorrow, as far as published, only where not held
    (standing charges do not decide when to run anything). Agile's next day appears about 16:00 UK: a call
    before costs one request per tariff that finds nothing new; once tomorrow is in, none."""
    start, end = ahead_window(now)
    return await fetch_rates(
        clients,
        store,
        [(code, start, end) for code in tariff_codes],
        now,
        charges=frozenset({Charge.STANDARD, Charge.DAY, Charge.NIGHT}),
        concurrency=concurrency,
    )
