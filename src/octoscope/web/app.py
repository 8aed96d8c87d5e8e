"""The web app: a JSON API under ``/api`` (OpenAPI docs at ``/docs``); the dashboard joins it later.

One store per app, opened at start-up; the answers are the same plain data the CLI prints with ``--json``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from octoscope import __version__
from octoscope.config import Settings
from octoscope.costing import CostError, costs_as_asked, resolve_days
from octoscope.domain.uktime import BadDate, from_epoch, local_date
from octoscope.store.sqlite import Store


def create_app(settings: Settings, *, token: str | None = None, clock: Callable[[], float] | None = None) -> FastAPI:
    """``token``: if set, every request must carry it (``Authorization: Bearer <token>``)."""
    now = clock or time.time
    settings.require_account()  # fail at start-up, not on the first request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store.open(settings.db)
        try:
            yield
        finally:
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

    return app
