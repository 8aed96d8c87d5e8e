"""The web app: a JSON API under ``/api`` (OpenAPI docs at ``/docs``), one router per area.

One store per app, opened at start-up and kept in ``app.state`` with the settings, the clock and the one
Octopus facade of the configured key (see ``deps``), which the scheduler, live and the dispatch refresh all
share; the answers are the same plain data the CLI prints with ``--json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse

from octoscope import __version__
from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.outputs.influx import push_after_sync
from octoscope.outputs.service import Outputs
from octoscope.services.scheduler import Scheduler
from octoscope.web import assets, bills, compare, costs, ev, live, metrics, overview, pages, prices, status, usage
from octoscope.web.auth import install_token_guard
from octoscope.web.errors import install_error_handler
from octoscope.web.security import HostPolicy, SecurityMiddleware, check_token
from octoscope.wiring import configured_octopus, open_account_store, open_live

log = logging.getLogger(__name__)


async def one_line_validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
    """A query FastAPI cannot parse, said as our other 4xx are: one ``detail`` line naming the parameter
    (the structured list stays under ``errors`` for programs)."""
    parts = []
    for e in err.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path", "header"))
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return JSONResponse({"detail": "; ".join(parts), "errors": jsonable_encoder(err.errors())}, 422)


def add_docs(app: FastAPI) -> None:
    """The API docs, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, from the files of the installed
    fastapi-offline package (served compressed under ``/vendor``): no CDN, they work offline. ReDoc's one
    outside address, the logo in its menu, is refused by the page's Content-Security-Policy and hidden."""
    title, openapi = app.title, str(app.openapi_url)
    oauth2 = str(app.swagger_ui_oauth2_redirect_url)

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{title} API",
            oauth2_redirect_url=oauth2,
            swagger_js_url="/vendor/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui.css",
            swagger_favicon_url="/vendor/docs-favicon.png",
        )

    @app.get(oauth2, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi,
            title=f"{title} API",
            redoc_js_url="/vendor/redoc.standalone.js",
            redoc_favicon_url="/vendor/docs-favicon.png",
            with_google_fonts=False,
        )


def create_app(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Clock,
    schedule_every: float | None = None,
    allowed_hosts: Sequence[str] = (),
    session_secret: bytes | None = None,
) -> FastAPI:
    """``token``: if set, every page and route needs it (a bearer header, or the cookie ``?token=`` sets).
    ``allowed_hosts``: host names to answer to besides this machine's (see ``security``); ``session_secret``:
    what browsers' cookies are keyed by (``octoscope serve`` keeps one beside the database; else a new one).
    ``schedule_every``: if set (and an API key is configured), the scheduler looks this often for work due
    (consumption, prices, the account, dispatches: see ``sync.schedule``). ``clock``: the process's, which
    every route, the scheduler and live read "now" from."""
    settings.require_account()  # fail at start-up, not on the first request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = open_account_store(settings, clock)
        app.state.settings = settings
        app.state.clock = clock
        assets.warm()
        task = app.state.scheduler = None
        try:
            # The one facade of the key: every caller in the process shares its budget and Retry-After hold.
            async with configured_octopus(settings, app.state.store, clock) as app.state.octopus:
                octopus = app.state.octopus
                if schedule_every is not None and octopus is not None:
                    app.state.scheduler = Scheduler(
                        settings, app.state.store, clock, octopus, after_sync=push_after_sync
                    )
                    task = asyncio.create_task(app.state.scheduler.run_forever(schedule_every))
                scheduler = app.state.scheduler
                refresh = None if scheduler is None else (lambda: scheduler.run_job("dispatches"))
                try:
                    async with open_live(settings, app.state.store, clock, octopus) as app.state.live:
                        app.state.stop_streams = app.state.live.stop_streams  # the server ends event streams first
                        outputs = Outputs(settings, app.state.store, clock, refresh, app.state.live)  # MQTT, notify
                        try:
                            yield
                        finally:
                            await outputs.stop()
                finally:
                    if task is not None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                    await compare.stop(app)  # a comparison still running uses the store and the facade
        finally:
            app.state.store.close()

    policy = HostPolicy.of([*settings.web.allowed_hosts, *allowed_hosts])  # a bad name fails here, at start-up
    app = FastAPI(title="octoscope", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    add_docs(app)
    app.add_exception_handler(RequestValidationError, one_line_validation_error)  # type: ignore[arg-type]
    install_error_handler(app)  # every error meant for users, as {"detail": message} with its kind's status

    if token:
        install_token_guard(app, check_token(token), session_secret or secrets.token_bytes(32), clock)
    app.add_middleware(SecurityMiddleware, policy=policy)  # outermost: its headers are on every answer

    for area in (bills, costs, ev, live, overview, usage, prices, compare, status, metrics, pages):
        app.include_router(area.router)
    app.include_router(assets.router)

    return app
