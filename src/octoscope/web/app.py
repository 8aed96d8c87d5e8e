"""The web app: a JSON API under ``/api`` (OpenAPI docs at ``/docs``), one router per area.

One store per app, opened at start-up and kept in ``app.state`` with the settings and the clock (see
``deps``); the answers are the same plain data the CLI prints with ``--json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from octoscope import __version__
from octoscope.config import Settings
from octoscope.octopus.errors import OctopusError
from octoscope.store.sqlite import Store
from octoscope.sync.dispatches import NoIntelligentDevice, RefreshTooSoon, due, refresh
from octoscope.web import costs, ev, live
from octoscope.wiring import open_clients, open_live

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
        app.state.settings = settings
        app.state.clock = now
        task = None
        if schedule_every is not None and settings.api_key is not None:
            task = asyncio.create_task(keep_dispatches_fresh(settings, app.state.store, schedule_every, now))
        try:
            async with open_live(settings, app.state.store, now) as app.state.live:  # the Home Mini pollers
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

    for area in (costs, ev, live):
        app.include_router(area.router)

    return app
