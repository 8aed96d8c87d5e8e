"""``/api/sessions`` and ``/api/dispatches``: EV charging as found in consumption, and what Octopus scheduled."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from octoscope.domain.uktime import from_epoch, local_date
from octoscope.domain.validation import MAX_DISPATCH_DAYS
from octoscope.services.cost_results import sessions_json
from octoscope.services.costing import ev_sessions, resolve_days
from octoscope.store.ports import StoreProtocol
from octoscope.sync import RefreshTooSoon, listing, refresh
from octoscope.web.cache import KeptFirstRoute, cache_of, request_key
from octoscope.web.deps import (
    ClockDep,
    FromDay,
    LastDays,
    OctopusDep,
    SettingsDep,
    StoreDep,
    ToDay,
)

# KeptFirstRoute: /api/sessions asked again is its kept bytes; the other routes keep nothing, so it passes them on.
router = APIRouter(tags=["ev"], route_class=KeptFirstRoute)


class SessionOut(BaseModel):
    """For /docs only: the route answers with ``EvSession.as_json``, as ``octoscope sessions --json``."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="UK local time")
    end: datetime
    kwh: float
    cost_pence: float
    average_pence_per_kwh: float | None
    dispatch: Literal["boost", "smart", "none"] = Field(description="Whether Octopus dispatched the charge")
    charger_kw: float
    priced: bool = Field(description="Every half-hour of it found a price")
    estimated: bool = Field(description="Costed in part as probable smart charging, before the dispatch history")
    at_stake_pence: float = Field(description="What it would cost more if the estimated part was not smart charging")


@router.get(
    "/api/sessions",
    summary="EV charging sessions, costed and matched with dispatches",
    response_model=list[SessionOut],
)
async def sessions(
    request: Request,
    from_: FromDay = None,
    to: ToDay = None,
    days: LastDays = None,
    charger_kw: Annotated[float | None, Query(ge=1, le=50)] = None,
) -> Response:
    # As /api/costs: worked out once per store version and today (detection and costing of every session in
    # the range), then its encoded bytes for every viewer of the EV page until a sync writes.
    cache = cache_of(request.app)
    today = local_date(from_epoch(request.app.state.clock()))
    first, end = resolve_days(from_, to, None, days, today)
    key = ("sessions", first, end, charger_kw, today)

    def compute() -> list[dict[str, Any]]:
        return sessions_json(ev_sessions(cache.store, cache.settings, first, end, today=today, charger_kw=charger_kw))

    return await cache.answer_async(key, compute, request_key(request))


@router.get("/api/dispatches", summary="Intelligent Octopus dispatches kept: planned and completed")
def dispatches(
    store: StoreDep, settings: SettingsDep, clock: ClockDep, days: Annotated[int, Query(ge=1, le=MAX_DISPATCH_DAYS)] = 2
) -> dict[str, Any]:
    since = from_epoch(clock()) - timedelta(days=days)
    number = settings.require_account()
    return {**listing(store, number, since), "device_names": device_names(store, number)}


def device_names(store: StoreProtocol, number: str) -> dict[str, str]:
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
async def refresh_now(store: StoreDep, settings: SettingsDep, clock: ClockDep, octopus: OctopusDep) -> Any:
    # The process's facade (see ``deps``): this refresh waits out a Retry-After the sync or live was given.
    try:
        done = await refresh(octopus.clients, store, settings.require_account(), clock())
    except RefreshTooSoon as err:
        wait = max(1, math.ceil(err.allowed_at - clock()))
        return JSONResponse({"detail": str(err), "allowed_at": err.allowed_at}, 429, {"Retry-After": str(wait)})
    return {
        "refreshed": [{"device_id": d.device_id, "state": d.state, "new": d.new, "updated": d.updated} for d in done]
    }
