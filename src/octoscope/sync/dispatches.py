"""Intelligent Octopus dispatches, fetched politely and kept for good.

Octopus answers ``completedDispatches`` for the last 12 hours or so only: a history needs a refresh at least
that often, and more often while the car is plugged in, when plans change. Dispatch queries are limited on
top of the shared GraphQL budget: at most one a minute and twenty an hour per API key (the pace Octopus
asked of the community integrations), counted in the database like every other request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from octoscope.domain.uktime import from_epoch
from octoscope.store.sqlite import Store
from octoscope.sync.session import Clients

LEDGER = "dispatches"  # the request ledger's name for dispatch queries
MIN_GAP = 60.0
PER_HOUR = 20
HOUR = 3600.0
PLUGGED_IN = frozenset({"SMART_CONTROL_CAPABLE", "SMART_CONTROL_IN_PROGRESS", "BOOSTING"})
PLUGGED_IN_EVERY = 180.0  # twenty an hour: the limit, spent only while plans can change
# Unplugged: often enough to see a plug-in (and a boost as planned, which the completed list does not tell
# from a smart charge) within half an hour, two calls an hour; well inside what completedDispatches remembers.
IDLE_EVERY = HOUR / 2


class RefreshTooSoon(Exception):
    """A dispatch refresh now would break the limits; ``allowed_at`` says when one may go."""

    def __init__(self, allowed_at: float) -> None:
        when = datetime.fromtimestamp(allowed_at, UTC).strftime("%H:%M:%S UTC")
        super().__init__(
            f"dispatches were refreshed too recently: the next refresh is allowed at {when}"
            f" (at most one a minute and {PER_HOUR} an hour)"
        )
        self.allowed_at = allowed_at


class NoIntelligentDevice(Exception):
    """The account has no Intelligent Octopus device to ask about."""


@dataclass(frozen=True)
class Refreshed:
    device_id: str
    state: str | None
    new: int
    updated: int


def _recent(store: Store, key_id: str, now: float) -> list[float]:
    return sorted(t for t in store.requests_since(key_id, LEDGER, now - HOUR) if t > now - HOUR)


def next_allowed(store: Store, key_id: str, now: float) -> float:
    """The earliest instant a dispatch query may be sent, by the limits above."""
    sent = _recent(store, key_id, now)
    at = now
    if sent:
        at = max(at, sent[-1] + MIN_GAP)
    if len(sent) >= PER_HOUR:
        at = max(at, sent[len(sent) - PER_HOUR] + HOUR)
    return at


async def refresh(clients: Clients, store: Store, number: str, now: float) -> list[Refreshed]:
    """Ask Octopus for each Intelligent device's state and dispatches, within the limits, and keep them."""
    key_id = clients.policy.key_id
    allowed = next_allowed(store, key_id, now)
    if allowed > now:
        raise RefreshTooSoon(allowed)
    account = store.load_account(number)
    devices = [d for d in (account.devices if account else ()) if d.device_type == "ELECTRIC_VEHICLES"]
    if not devices:
        raise NoIntelligentDevice(f"account {number} has no Intelligent Octopus device (run `octoscope sync` if new)")
    done = []
    for device in devices:
        store.record_request(key_id, LEDGER, now)  # counted before it goes: a failure still spends it
        state, records = await clients.graphql.dispatches(number, device.id)
        new, updated = store.save_dispatches(records, (device.id, state), from_epoch(now))
        done.append(Refreshed(device.id, state, new, updated))
    return done


def due(store: Store, key_id: str, number: str, now: float) -> bool:
    """Whether a scheduled refresh should go now: often while a car is plugged in, rarely otherwise."""
    return next_due(store, key_id, number, now) <= now


def next_due(store: Store, key_id: str, number: str, now: float) -> float:
    """When the next scheduled refresh should go (``now`` or earlier if one is due)."""
    sent = _recent(store, key_id, now)
    account = store.load_account(number)
    states = {d.state for d in (account.devices if account else ())}
    every = PLUGGED_IN_EVERY if states & PLUGGED_IN else IDLE_EVERY
    last = sent[-1] if sent else None
    if last is None:
        last = max(store.requests_since(key_id, LEDGER, now - 2 * IDLE_EVERY), default=None)
    at = now if last is None else last + every
    return max(at, next_allowed(store, key_id, now))


def listing(store: Store, number: str, since: datetime) -> dict[str, object]:
    """What is kept since ``since``, as plain data: the devices' states and the dispatches, kWh positive."""
    account = store.load_account(number)
    return {
        "devices": {d.id: d.state for d in (account.devices if account else ())},
        "dispatches": [
            {
                "device_id": r.device_id,
                "kind": r.kind,
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "type": r.charge_type,
                "kwh": None if r.energy_kwh is None else abs(r.energy_kwh),
                "location": r.location,
            }
            for r in store.dispatches(since, None)
        ],
    }
