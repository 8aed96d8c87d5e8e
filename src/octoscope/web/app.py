"""The web app: a JSON API under ``/api`` (OpenAPI docs at ``/docs``); the dashboard joins it later.

One store per app, opened at start-up; the answers are the same plain data the CLI prints with ``--json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from octoscope import __version__
from octoscope.config import Settings
from octoscope.costing import CostError, costs_as_asked, ev_sessions, resolve_days
from octoscope.domain.uktime import BadDate, from_epoch, local_date
from octoscope.octopus.errors import OctopusError
from octoscope.store.sqlite import Store
from octoscope.sync.dispatches import NoIntelligentDevice, RefreshTooSoon, due, listing, refresh
from octoscope.wiring import open_clients

log = logging.getLogger(__name__)


async def keep_dispatches_fresh(settings: Settings, store: Store, every: float, clock: Callable[[], float]) -> None:
    """The scheduler's dispatch part: look every ``every`` seconds whether a refresh is due (often while a
    car is plugged in, rarely otherwise, always within the limits) and make it. Errors are logged, not fatal:
    the next look tries again."""
    _, number = settings.require_credentials()
    async with open_clients(settings, store) as clients:
        while True:
            try:
                if due(store, clients.policy.key_id, number, clock()):
                    await refresh(clients, store, number, clock())
            except (OctopusError, NoIntelligentDevice, RefreshTooSoon) as err:
                log.warning("dispatch refresh: %s", err)
            await asyncio.sleep(every)


def create_app(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Callable[[], float] | None = None,
    schedule_every: float | None = None,
) -> FastAPI:
    """``token``: if set, every request must carry it (``Authorization: Bearer <token>``).
    ``schedule_every``: if set (and an API key is configured), keep dispatches fresh in the background."""
    now = clock or time.time
    settings.require_account()  # fail at start-up, not on the first request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store.open(settings.db)
        task = None
        if schedule_every is not None and settings.api_key is not None:
            task = asyncio.create_task(keep_dispatches_fresh(settings, app.state.store, schedule_every, now))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            app.state.store.close()

    app = FastAPI(title="octoscope", version=__version__, lifespan=lifespan)

    if token:

        @app.middleware("http")
        async def require_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"detail": "an access token is required: Authorization: Bearer <token>"}, 401)
            return await call_next(request)

    @app.get("/api/costs", summary="What energy cost, per fuel, with buckets")
    def costs(
        request: Request,
        from_: Annotated[str | None, Query(alias="from", description="First local day, YYYY-MM-DD")] = None,
        to: Annotated[str | None, Query(description="Day after the last, YYYY-MM-DD (exclusive)")] = None,
        period: Annotated[str | None, Query(description="A month, YYYY-MM, or a year, YYYY")] = None,
        days: Annotated[int | None, Query(description="The N whole days before today")] = None,
        by: Literal["day", "week", "month"] = "month",
        fuel: Literal["electricity", "gas", "export"] | None = None,
        exc_vat: bool = False,
        rounding: Literal["exact", "billing"] | None = None,
    ) -> dict[str, Any]:
        store: Store = request.app.state.store
        try:
            today = local_date(from_epoch(now()))
            first, end = resolve_days(from_, to, period, days, today)
            return costs_as_asked(
                store, settings, first, end, by=by, fuel=fuel, exc_vat=exc_vat, rounding=rounding, today=today
            )
        except BadDate as err:
            raise HTTPException(400, str(err).replace("--", "")) from None  # query names, not CLI flags
        except CostError as err:
            raise HTTPException(404, str(err)) from None

    @app.get("/api/sessions", summary="EV charging sessions, costed and matched with dispatches")
    def sessions(
        request: Request,
        from_: Annotated[str | None, Query(alias="from", description="First local day, YYYY-MM-DD")] = None,
        to: Annotated[str | None, Query(description="Day after the last, YYYY-MM-DD (exclusive)")] = None,
        days: Annotated[int | None, Query(description="The N whole days before today")] = None,
        charger_kw: Annotated[float | None, Query(ge=1, le=50)] = None,
    ) -> list[dict[str, Any]]:
        try:
            today = local_date(from_epoch(now()))
            first, end = resolve_days(from_, to, None, days, today)
            return ev_sessions(request.app.state.store, settings, first, end, today=today, charger_kw=charger_kw)
        except BadDate as err:
            raise HTTPException(400, str(err).replace("--", "")) from None
        except CostError as err:
            raise HTTPException(404, str(err)) from None

    @app.get("/api/dispatches", summary="Intelligent Octopus dispatches kept: planned and completed")
    def dispatches(request: Request, days: Annotated[int, Query(ge=1, le=3660)] = 2) -> dict[str, Any]:
        since = from_epoch(now()) - timedelta(days=days)
        return listing(request.app.state.store, settings.require_account(), since)

    @app.post("/api/dispatches/refresh", summary="Ask Octopus for dispatches now, within the limits")
    async def refresh_now(request: Request) -> Any:
        store: Store = request.app.state.store
        if settings.api_key is None:
            raise HTTPException(409, "no API key configured: run `octoscope init`")
        try:
            async with open_clients(settings, store) as clients:
                done = await refresh(clients, store, settings.require_account(), now())
        except RefreshTooSoon as err:
            wait = max(1, math.ceil(err.allowed_at - now()))
            return JSONResponse({"detail": str(err), "allowed_at": err.allowed_at}, 429, {"Retry-After": str(wait)})
        except NoIntelligentDevice as err:
            raise HTTPException(404, str(err)) from None
        except OctopusError as err:
            raise HTTPException(502, str(err)) from None
        return {
            "refreshed": [
                {"device_id": d.device_id, "state": d.state, "new": d.new, "updated": d.updated} for d in done
            ]
        }

    return app
