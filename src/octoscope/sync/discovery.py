"""Finding what an account holds: REST for properties, meters and agreements; GraphQL for the rest.

GraphQL (meter dates, gas units, device ids, Intelligent devices, tariff types) is asked only when the
REST account shows a meter or a tariff the store does not know: its allowance is shared with the Octopus app.
"""

from __future__ import annotations

from datetime import datetime

from octoscope.domain.models import Account
from octoscope.octopus.parse import AccountDetails, MeterDetails, merge_details
from octoscope.store.ports import StoreProtocol
from octoscope.sync.session import Clients


def _known_details(stored: Account) -> AccountDetails:
    meters = {}
    directions = {}
    for prop in stored.properties:
        for point in prop.meter_points:
            directions[point.identifier] = point.direction
            for m in point.meters:
                meters[(point.identifier, m.serial)] = MeterDetails(
                    m.active_from, m.active_to, m.unit, m.meter_type, m.device_id
                )
    return AccountDetails(meters, directions, {}, stored.devices)


def _meter_keys(account: Account) -> set[tuple[str, str]]:
    return {(p.identifier, m.serial) for prop in account.properties for p in prop.meter_points for m in p.meters}


async def discover(
    clients: Clients, store: StoreProtocol, number: str, now: datetime, *, refresh: bool = False
) -> Account:
    """The account as Octopus has it now, with meter details, saved to the store."""
    account = await clients.rest.account(number)
    stored = store.load_account(number)
    kinds = store.tariff_kinds()
    agreements = [a for prop in account.properties for point in prop.meter_points for a in point.agreements]
    # A switch to a tariff not yet described (its type tells Agile-like prices from flat ones).
    tariffs_known = all(kinds.get(a.tariff_code) for a in agreements if a.overlaps(now, now))
    if stored is not None and not refresh and tariffs_known and _meter_keys(account) <= _meter_keys(stored):
        details = _known_details(stored)
    else:
        details = await clients.graphql.account_details(number)
    merged = merge_details(account, details)
    store.save_account(merged, details.tariffs.values(), now)
    loaded = store.load_account(number)
    assert loaded is not None
    return loaded
