"""``/api/sessions`` and ``/api/dispatches``: EV charging as found in consumption, and what Octopus scheduled."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from octoscope.domain.uktime import BadDate, from_epoch
from octoscope.domain.validation import MAX_DISPATCH_DAYS
from octoscope.octopus.errors import OctopusError
from octoscope.services.costing import CostError, ev_sessions, resolve_days
from octoscope.store.sqlite import Store
from octoscope.sync.dispatches import NoIntelligentDevice, RefreshTooSoon, listing, refresh
from octoscope.web.deps import ClockDep, FromDay, LastDays, SettingsDep, StoreDep, ToDay, TodayDep, bad_query
from octoscope.wiring import open_clients

router = APIRouter(tags=["ev"])


@router.get("/api/sessions", summary="EV charging sessions, costed and matched with dispatches")
def sessions(
    store: StoreDep,
    settings: SettingsDep,
    today: TodayDep,
    from_: FromDay = None,
    to: ToDay = None,
    days: LastDays = None,
    charger_kw: Annotated[float | None, Query(ge=1, le=50)] = None,
) -> list[dict[str, Any]]:
    try:
        first, end = resolve_days(from_, to, None, days, today)
        return ev_sessions(store, settings, first, end, today=today, charger_kw=charger_kw)
    except BadDate as err:
        raise bad_query(err) from None
    except CostError as err:
        raise HTTPException(404, str(err)) from None


@router.get("/api/dispatches", summary="Intelligent Octopus dispatches kept: planned and completed")
def dispatches(
    store: StoreDep, settings: SettingsDep, clock: ClockDep, days: Annotated[int, Query(ge=1, le=MAX_DISPATCH_DAYS)] = 2
) -> dict[str, Any]:
    since = from_epoch(clock()) - timedelta(days=days)
    number = settings.require_account()
    return {**listing(store, number, since), "device_names": device_names(store, number)}


def device_names(store: Store, number: str) -> dict[str, str]:
    """Each Intelligent device as Octopus describes it ("Ohme Home Pro (charger)"), for people: the raw id
    means nothing to them. What the store lacks falls back to the kind of device, then to its provider."""
    account = store.load_account(number)
    names = {}
    for d in account.devices if account else ():
        kind = KINDS.get(d.device_type, d.device_type.replace("_", " ").lower())
        made = " ".join(x for x in (d.make, d.model) if x)
        names[d.id] = f"{made} ({kind})" if made else f"{d.provider.title()} {kind}" if d.provider else kind
    return names


KINDS = {"ELECTRIC_VEHICLES": "electric vehicle", "CHARGE_POINTS": "charger"}


@router.post("/api/dispatches/refresh", summary="Ask Octopus for dispatches now, within the limits")
async def refresh_now(store: StoreDep, settings: SettingsDep, clock: ClockDep) -> Any:
    if settings.api_key is None:
        raise HTTPException(409, "no API key configured: run `octoscope init`")
    try:
        async with open_clients(settings, store, clock) as clients:
            done = await refresh(clients, store, settings.require_account(), clock())
    except RefreshTooSoon as err:
        wait = max(1, math.ceil(err.allowed_at - clock()))
        return JSONResponse({"detail": str(err), "allowed_at": err.allowed_at}, 429, {"Retry-After": str(wait)})
    except NoIntelligentDevice as err:
        raise HTTPException(404, str(err)) from None
    except OctopusError as err:
        raise HTTPException(502, str(err)) from None
    return {
        "refreshed": [{"device_id": d.device_id, "state": d.state, "new": d.new, "updated": d.updated} for d in done]
    }
