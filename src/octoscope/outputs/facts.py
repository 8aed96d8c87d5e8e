"""What MQTT and the notifications tell, read from the store at one instant: the prices in force and next,
the cheapest window ahead, tomorrow's prices, yesterday's and today's energy and cost, the Intelligent
Octopus device and its dispatches, and the sync's health.

Every figure comes from the function the CLI and the API use for the same question (``costs_as_asked``,
``prices_view``, ``cheapest``, ``dispatches.listing``), so that Home Assistant shows what ``octoscope costs``,
``cheapest`` and ``dispatches`` print. Nothing here talks to Octopus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from octoscope.config import Settings
from octoscope.domain.models import Account
from octoscope.domain.uktime import UK, local_date, local_midnight
from octoscope.services.costing import CostError, FuelName, costs_as_asked, fuel_of, load_account
from octoscope.services.pricing import WindowQuery, cheapest, current_property, prices_view
from octoscope.services.status import budget_used, key_id_of
from octoscope.store.ports import StoreProtocol
from octoscope.sync import DISPATCH_LEDGER as LEDGER
from octoscope.sync import DISPATCHES_PER_HOUR as PER_HOUR
from octoscope.sync import day_ahead_tariffs, listing

FUEL_KEYS = {"electricity": "import", "export": "export", "gas": "gas"}


@dataclass(frozen=True)
class Point:
    """A meter point of the current property, as Home Assistant's device for it."""

    fuel: str  # electricity (import), export or gas
    id: str  # MPAN or MPRN
    serial: str | None


@dataclass(frozen=True)
class Facts:
    account: str
    now: datetime
    points: tuple[Point, ...]
    devices: tuple[str, ...]  # Intelligent Octopus device ids
    prices: dict[str, Any] | None  # the import tariff's: current, next, standing, cheapest, tomorrow
    energy: dict[str, dict[str, Any]]  # fuel -> {"yesterday": {...}, "today": {...}}
    dispatches: dict[str, Any]  # device -> {"state", "dispatching", "planned"}
    health: dict[str, Any]
    problems: list[str] = field(default_factory=list)  # what could not be read (no prices stored yet, ...)
    # The statements kept, reconciled (``services.bills.report_json``'s), read only for the bill_difference rule.
    statements: tuple[dict[str, Any], ...] = ()


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UK).isoformat()


def _gbp(pence: float | None, places: int = 4) -> float | None:
    return None if pence is None else round(pence / 100, places)


def _prices(
    store: StoreProtocol, settings: Settings, account: Account, now: datetime, hours: float, problems: list[str]
) -> dict[str, Any]:
    today = local_date(now)
    out: dict[str, Any] = {}
    try:  # from yesterday: a cheap run that began before midnight is known by its real start
        view = prices_view(store, settings, today - timedelta(days=1), today + timedelta(days=2), "electricity", now)
    except CostError as err:
        problems.append(f"prices: {err}")
        return {}
    out["tariff"] = view.tariff
    out["day_ahead"] = view.tariff in day_ahead_tariffs(store, account, now)  # Agile-like: tomorrow at ~16:00
    rates = view.rates
    current = view.now
    out["current"] = None
    out["next"] = None
    if current is not None:
        out["current"] = {**current.to_json(), "gbp_per_kwh": _gbp(current.pence_inc_vat, 6)}
        following = [r for r in rates if r.start == current.end]
        if following:
            r = following[0]
            out["next"] = {"start": _iso(r.start), "end": _iso(r.end), "gbp_per_kwh": _gbp(r.pence_inc_vat, 6)}
    out["rates"] = [(_iso(r.start), _iso(r.end), r.pence_inc_vat) for r in rates]  # yesterday to tomorrow
    tomorrow_start, tomorrow_end = local_midnight(today + timedelta(days=1)), local_midnight(today + timedelta(days=2))
    tomorrow = [r for r in rates if tomorrow_start <= r.start < tomorrow_end]
    whole = len(tomorrow) == round((tomorrow_end - tomorrow_start).total_seconds() / 1800)
    out["tomorrow"] = (
        {"date": (today + timedelta(days=1)).isoformat(), "rates": [(_iso(r.start), r.pence_inc_vat) for r in tomorrow]}
        if whole
        else None
    )
    try:
        found = cheapest(store, settings, WindowQuery(hours=hours), now)
        window = found.windows[0]
        out["cheapest"] = {
            "hours": found.hours,
            "start": _iso(window.start),
            "end": _iso(window.end),
            "average_pence": window.average_pence_per_kwh,
            "average_gbp_per_kwh": _gbp(window.average_pence_per_kwh, 6),
        }
    except CostError as err:
        problems.append(f"cheapest: {err}")
        out["cheapest"] = None
    return out


def _energy(store: StoreProtocol, settings: Settings, now: datetime) -> tuple[dict[str, dict[str, Any]], float | None]:
    """Per fuel, yesterday's and today's kWh and cost as ``octoscope costs --by day`` gives them; and today's
    electricity standing charge (pence)."""
    today = local_date(now)
    report = costs_as_asked(
        store,
        settings,
        today - timedelta(days=1),
        today + timedelta(days=1),
        by="day",
        fuel=None,
        exc_vat=False,
        rounding=None,
        today=today,
    )
    out: dict[str, dict[str, Any]] = {}
    standing = None
    fuel: FuelName
    for fuel in ("electricity", "export", "gas"):
        costs = report.fuel(fuel)
        buckets = {b.first: b.figures for b in costs.buckets} if costs else {}
        days = {}
        for name, day in (("yesterday", today - timedelta(days=1)), ("today", today)):
            bucket = buckets.get(day)
            days[name] = {
                "date": day.isoformat(),
                "kwh": 0.0 if bucket is None else bucket.kwh,
                "cost_gbp": 0.0 if bucket is None else _gbp(bucket.money_pence),
                "last_reset": _iso(local_midnight(day)),
            }
            if fuel == "electricity" and name == "today" and bucket is not None:
                standing = bucket.standing_charge_pence
        out[fuel] = days
    return out, standing


def _dispatches(store: StoreProtocol, number: str, now: datetime) -> dict[str, Any]:
    listed = listing(store, number, now - timedelta(days=1))
    rows: list[dict[str, Any]] = listed["dispatches"]  # type: ignore[assignment]
    devices: dict[str, str | None] = listed["devices"]  # type: ignore[assignment]
    out = {}
    for device, state in devices.items():
        mine = [r for r in rows if r["device_id"] == device]
        active = [r for r in mine if datetime.fromisoformat(r["start"]) <= now < datetime.fromisoformat(r["end"])]
        planned = [r for r in mine if r["kind"] == "planned" and datetime.fromisoformat(r["end"]) > now]
        out[device] = {
            "state": state,
            "dispatching": bool(active),
            "planned": [{"start": r["start"], "end": r["end"], "type": r["type"], "kwh": r["kwh"]} for r in planned],
        }
    return out


def _health(store: StoreProtocol, settings: Settings, now: datetime, ledger_now: float) -> dict[str, Any]:
    ok = store.last_successful_run()
    last = store.last_run()
    ends = [hi for _, hi in store.meter_extents().values()]
    newest = max(ends) + timedelta(minutes=30) if ends else None
    health: dict[str, Any] = {
        "last_sync": _iso(ok[1]) if ok else None,
        "last_outcome": None if last is None else last[2],
        "last_run_started": None if last is None else _iso(last[0]),
        "data_until": _iso(newest),
        "data_age_hours": None if newest is None else round((now - newest).total_seconds() / 3600, 2),
        "graphql_used": None,
        "graphql_limit": None,
        "rest_used": None,
        "rest_limit": None,
        "dispatch_queries_used": None,
    }  # every key always there: Home Assistant's templates read them by name
    if settings.api_key is not None:
        limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour, LEDGER: PER_HOUR}
        used = budget_used(store, key_id_of(settings.api_key), limits, ledger_now)
        health["graphql_used"] = used["graphql"].used
        health["graphql_limit"] = used["graphql"].limit
        health["rest_used"] = used["rest"].used
        health["rest_limit"] = used["rest"].limit
        health["dispatch_queries_used"] = used[LEDGER].used
    return health


def read_facts(
    store: StoreProtocol, settings: Settings, now: datetime, ledger_now: float, cheapest_hours: float
) -> Facts:
    """Everything published at ``now`` (``ledger_now``: the clock's epoch seconds, as the request ledger keeps
    them). Raises ``CostError`` only when nothing is stored for the account yet."""
    number = settings.require_account()
    account = load_account(store, number)
    problems: list[str] = []
    points = []
    try:
        prop = current_property(account)
        for point in prop.meter_points:
            serials = [m.serial for m in point.meters]
            points.append(Point(fuel_of(point), point.identifier, serials[-1] if serials else None))
    except CostError as err:
        problems.append(str(err))
    energy, standing = _energy(store, settings, now)
    prices = _prices(store, settings, account, now, cheapest_hours, problems)
    if prices:
        prices["standing_today_gbp"] = _gbp(standing)
    return Facts(
        account=number,
        now=now,
        points=tuple(points),
        devices=tuple(d.id for d in account.devices if d.device_type == "ELECTRIC_VEHICLES"),
        prices=prices or None,
        energy=energy,
        dispatches=_dispatches(store, number, now),
        health=_health(store, settings, now, ledger_now),
        problems=problems,
    )
