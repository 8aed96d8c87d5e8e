"""Intelligent Octopus dispatches, fetched politely and kept for good.

Octopus answers ``completedDispatches`` for the last 12 hours or so only: a history needs a refresh at least
that often, and more often while the car is plugged in, when plans change. Dispatch queries are limited on
top of the shared GraphQL budget: at most one a minute and twenty an hour per API key (the pace Octopus
asked of the community integrations), counted in the database like every other request; each query is one
try (a retry is another query, counted and scheduled like the first).

When to ask is driven by the device's state and its plan: never for a device whose account is not on an
Intelligent Octopus tariff; unplugged, hourly; just plugged in (CAPABLE) with nothing planned, a few quick
checks a minute apart until a plan appears; plugged in, every ten minutes and at each planned dispatch's
start and end; just unplugged, one final read.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from octoscope.domain.models import Account, Fuel, SmartDevice
from octoscope.domain.uktime import from_epoch
from octoscope.errors import NotFoundError, TooSoonError
from octoscope.store.ports import StoreProtocol
from octoscope.sync.session import Clients

LEDGER = "dispatches"  # the request ledger's name for dispatch queries
MIN_GAP = 60.0
PER_HOUR = 20
HOUR = 3600.0
PLUGGED_IN = frozenset({"SMART_CONTROL_CAPABLE", "SMART_CONTROL_IN_PROGRESS", "BOOSTING"})
# Driven by the device's state and its plan (as the Home Assistant integration's maintainer advises):
QUICK_EVERY = 60.0  # just plugged in with nothing planned yet: once a minute...
QUICK_CHECKS = 3  # ...this many times, until a plan appears
PLUGGED_IN_EVERY = 600.0  # plugged in: every ten minutes, and at each planned dispatch's start and end
EDGE_DELAY = 30.0  # after a planned dispatch starts or ends, when Octopus reports the change
FINAL_AFTER = 300.0  # unplugged: one last read a few minutes on, for the completed dispatches
# Unplugged: rarely, to see a plug-in; well inside the 12 hours completedDispatches remembers.
IDLE_EVERY = HOUR
INTELLIGENT = "INTELLI"  # Intelligent Octopus products' codes hold this; no other tariff dispatches


@dataclass
class Seen:
    """What the process saw of one device at its dispatch queries (kept in memory: a restart costs at most a
    few quick checks)."""

    state: str | None = None
    quick: int = 0  # queries since it was seen plugged in with nothing planned
    unplugged_at: float | None = None  # the query that first saw it unplugged after being plugged in
    final_done: bool = True


_SEEN: weakref.WeakKeyDictionary[StoreProtocol, dict[str, Seen]] = weakref.WeakKeyDictionary()


def _seen(store: StoreProtocol, device_id: str) -> Seen:
    return _SEEN.setdefault(store, {}).setdefault(device_id, Seen())


def intelligent(account: Account, now: datetime) -> bool:
    """Whether the account's current electricity import is on an Intelligent Octopus tariff: only then does
    Octopus plan dispatches (re-checked whenever the account's agreements change in the store)."""
    for prop in account.properties:
        if not prop.lived_in_at(now):
            continue
        for point in prop.meter_points:
            if point.fuel is not Fuel.ELECTRICITY or not point.series.startswith("electricity-import"):
                continue
            for agreement in point.agreements:
                if agreement.overlaps(now, now + timedelta(seconds=1)) and INTELLIGENT in agreement.tariff_code:
                    return True
    return False


def dispatch_devices(account: Account | None, now: datetime) -> list[SmartDevice]:
    """The devices worth asking about: EVs and charge points on an Intelligent Octopus tariff."""
    if account is None or not intelligent(account, now):
        return []
    return [d for d in account.devices if d.device_type == "ELECTRIC_VEHICLES"]


class RefreshTooSoon(TooSoonError):
    """A dispatch refresh now would break the limits; ``allowed_at`` says when one may go."""

    def __init__(self, allowed_at: float) -> None:
        when = datetime.fromtimestamp(allowed_at, UTC).strftime("%H:%M:%S UTC")
        super().__init__(
            f"dispatches were refreshed too recently: the next refresh is allowed at {when}"
            f" (at most one a minute and {PER_HOUR} an hour)"
        )
        self.allowed_at = allowed_at


class NoIntelligentDevice(NotFoundError):
    """The account has no Intelligent Octopus device to ask about."""


@dataclass(frozen=True)
class Refreshed:
    device_id: str
    state: str | None
    new: int
    updated: int


def _recent(store: StoreProtocol, key_id: str, now: float) -> list[float]:
    return sorted(t for t in store.requests_since(key_id, LEDGER, now - HOUR) if t > now - HOUR)


def next_allowed(store: StoreProtocol, key_id: str, now: float) -> float:
    """The earliest instant a dispatch query may be sent, by the limits above."""
    sent = _recent(store, key_id, now)
    at = now
    if sent:
        at = max(at, sent[-1] + MIN_GAP)
    if len(sent) >= PER_HOUR:
        at = max(at, sent[len(sent) - PER_HOUR] + HOUR)
    return at


async def refresh(clients: Clients, store: StoreProtocol, number: str, now: float) -> list[Refreshed]:
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
        # One try: a retry is another dispatch query, and the schedule (with its limits) decides when.
        state, records = await clients.graphql.dispatches(number, device.id, attempts=1)
        new, updated = store.save_dispatches(records, (device.id, state), from_epoch(now))
        _observe(store, device.id, state, _plan_ahead(store, device.id, now), now)
        done.append(Refreshed(device.id, state, new, updated))
    return done


def _observe(store: StoreProtocol, device_id: str, state: str | None, planned: bool, now: float) -> None:
    seen = _seen(store, device_id)
    plugged = state in PLUGGED_IN
    was_plugged = seen.state in PLUGGED_IN
    if plugged:
        # Quick checks only between a plug-in and the first plan: a plan that runs out later is no news.
        seen.quick = QUICK_CHECKS if planned else (seen.quick + 1 if was_plugged else 1)
        seen.unplugged_at, seen.final_done = None, True
    elif was_plugged:
        seen.unplugged_at, seen.final_done = now, False  # just unplugged: one more read to come
    elif seen.unplugged_at is not None and not seen.final_done:
        seen.final_done = True
    seen.state = state


def _plan_ahead(store: StoreProtocol, device_id: str, now: float) -> bool:
    return any(
        r.device_id == device_id and r.kind == "planned" and r.end.timestamp() > now
        for r in store.dispatches(from_epoch(now), None)
    )


def _next_for(store: StoreProtocol, device: SmartDevice, last: float, now: float) -> tuple[float, str]:
    """When the device next needs a query, after the last one at ``last``, and why."""
    seen = _seen(store, device.id)
    state = seen.state if seen.state is not None else device.state
    if state in PLUGGED_IN:
        # Planned dispatches whose end has not been looked at yet (the read just after it ends included).
        plan = [
            r
            for r in store.dispatches(from_epoch(last - EDGE_DELAY), None)
            if r.device_id == device.id and r.kind == "planned"
        ]
        if not plan and seen.state is not None and seen.quick < QUICK_CHECKS:
            return last + QUICK_EVERY, "plugged in, nothing planned yet: a quick check"
        edges = [
            t + EDGE_DELAY for r in plan for t in (r.start.timestamp(), r.end.timestamp()) if t + EDGE_DELAY > last
        ]
        at = min([last + PLUGGED_IN_EVERY, *edges])
        return at, "plugged in: at each planned dispatch's start and end" if plan else "plugged in"
    if seen.unplugged_at is not None and not seen.final_done:
        return seen.unplugged_at + FINAL_AFTER, "just unplugged: one last read"
    return last + IDLE_EVERY, "not plugged in"


def due(store: StoreProtocol, key_id: str, number: str, now: float) -> bool:
    """Whether a scheduled refresh should go now."""
    at = next_due(store, key_id, number, now)
    return at is not None and at <= now


def next_due(store: StoreProtocol, key_id: str, number: str, now: float) -> float | None:
    """When the next scheduled refresh should go (``now`` or earlier if one is due); None: never, as things
    stand (no device on an Intelligent tariff)."""
    return plan_next(store, key_id, number, now)[0]


def plan_next(store: StoreProtocol, key_id: str, number: str, now: float) -> tuple[float | None, str]:
    """(when the next scheduled refresh should go, why), by each device's state and plan, within the limits."""
    devices = dispatch_devices(store.load_account(number), from_epoch(now))
    if not devices:
        return None, "no device on an Intelligent Octopus tariff"
    sent = store.requests_since(key_id, LEDGER, now - 2 * 86400)
    read = store.account_read_at(number)
    if not sent and read is None:
        return next_allowed(store, key_id, now), "no dispatch query yet"
    # Reading the account (a sync does) brought the devices' states: the pace runs from the later of the two.
    last = max([*sent, read.timestamp() if read is not None else 0.0])
    at, why = min(_next_for(store, d, last, now) for d in devices)
    return max(at, next_allowed(store, key_id, now)), why


def listing(store: StoreProtocol, number: str, since: datetime) -> dict[str, object]:
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
