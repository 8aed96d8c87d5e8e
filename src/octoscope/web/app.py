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

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from octoscope import __version__
from octoscope.clock import Clock
from octoscope.config import ConfigError, Settings
from octoscope.errors import NotFoundError
from octoscope.outputs.influx import push_after_sync
from octoscope.outputs.mqtt import Household
from octoscope.outputs.service import Outputs
from octoscope.services.scheduler import Schedulers
from octoscope.web import assets, bills, compare, costs, ev, live, metrics, overview, pages, prices, status, usage
from octoscope.web.auth import install_token_guard
from octoscope.web.cache import cache_of
from octoscope.web.errors import install_error_handler
from octoscope.web.security import HostPolicy, SecurityMiddleware, check_token
from octoscope.wiring import account_octopuses, open_account_store, open_live

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


def build_routes(app: FastAPI) -> None:
    """Build now, at start-up, what FastAPI would build on the first request that reaches each route: the
    included routers' routes (their dependants, parameter and response models: FastAPI makes them on the
    first match) and each endpoint's context for error messages (its source file read and tokenized). A
    process's first request then costs what any other does. Nothing of an answer is worked out here."""
    # FastAPI keeps the endpoint contexts in a private cache: without it (another version), only that is not warmed
    endpoint_context = getattr(fastapi.routing, "_extract_endpoint_context", None)
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and endpoint_context is not None:
            endpoint_context(route.dependant.call)
        if isinstance(route, Mount) and isinstance(route.app, FastAPI):
            build_routes(route.app)  # an account's own app, at /a/NUMBER


ROUTERS = (bills, costs, ev, live, overview, usage, prices, compare, status, metrics, pages)
UNBOUND = ("/static/", "/vendor/", "/docs", "/redoc", "/openapi.json")  # no account's: assets and the docs


def _account_app(prefix: str) -> FastAPI:
    """The pages and API of one account, mounted at ``/a/NUMBER``: the same routers on a state of its own
    (store, settings, facade, live, scheduler, cache), so that a route cannot reach another account's."""
    sub = FastAPI(title="octoscope", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    sub.add_exception_handler(RequestValidationError, one_line_validation_error)  # type: ignore[arg-type]
    install_error_handler(sub)
    for area in ROUTERS:
        sub.include_router(area.router)
    sub.state.prefix = prefix
    return sub


def create_app(
    settings: Settings,
    *,
    token: str | None = None,
    clock: Clock,
    schedule_every: float | None = None,
    allowed_hosts: Sequence[str] = (),
    session_secret: bytes | None = None,
    accounts: Sequence[Settings] = (),
) -> FastAPI:
    """``token``: if set, every page and route needs it (a bearer header, or the cookie ``?token=`` sets).
    ``allowed_hosts``: host names to answer to besides this machine's (see ``security``); ``session_secret``:
    what browsers' cookies are keyed by (``octoscope serve`` keeps one beside the database; else a new one).
    ``schedule_every``: if set (and an API key is configured), the scheduler looks this often for work due
    (consumption, prices, the account, dispatches: see ``sync.schedule``). ``clock``: the process's, which
    every route, the scheduler and live read "now" from.

    ``accounts``: several accounts' settings (``Settings.for_account``), each served under ``/a/NUMBER/``
    with its own store, its key's facade and live service, synced by one scheduler; the unprefixed routes
    answer for the first, and ``/`` lists them. Without it, ``settings``' one account, as always (it is also
    under ``/a/NUMBER/``)."""
    every = list(accounts) or [settings]
    settings = every[0]
    for one in every:
        one.require_account()  # fail at start-up, not on the first request
    numbers = [str(one.account) for one in every]
    if len(set(numbers)) != len(numbers):
        raise ConfigError(f"an account is given twice: {', '.join(numbers)}")
    several = len(every) > 1
    subs = {number: _account_app(f"/a/{number}") for number in numbers}
    listing = tuple((str(one.account), _name_of(one)) for one in every)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stores = []
            for one in every:
                stores.append(stack.enter_context(open_account_store(one, clock)))
            assets.warm()
            # In the thread pool, which starts it: anyio loads its backend and starts a worker thread then,
            # as the first request of a route that works in the pool (most do) would.
            await run_in_threadpool(build_routes, app)
            # One facade per key: every caller in the process shares its budget and Retry-After hold.
            octopuses = await stack.enter_async_context(account_octopuses(list(zip(every, stores, strict=True)), clock))
            keyed = [(one, store, o) for one, store, o in zip(every, stores, octopuses, strict=True) if o is not None]
            scheduler = None
            if schedule_every is not None and keyed:
                scheduler = Schedulers.spread(keyed, clock, after_sync=push_after_sync)
            app.state.schedulers = scheduler  # the one loop over every account's jobs
            by_number = {s.number: s for s in scheduler.accounts} if scheduler else {}
            lives = []
            households: list[Household] = []
            for one, store, octopus in zip(every, stores, octopuses, strict=True):
                number = str(one.account)
                job = by_number.get(number)
                refresh = None if job is None else (lambda job=job: job.run_job("dispatches"))
                service = await stack.enter_async_context(open_live(one, store, clock, octopus))
                lives.append(service)
                households.append(Household(one, store, refresh, service))
                bound = {
                    "store": store,
                    "settings": one,
                    "clock": clock,
                    "octopus": octopus,
                    "scheduler": job,
                    "live": service,
                    "accounts": listing,
                    "refresh": refresh,
                }
                targets = [subs[number].state] + ([app.state] if number == numbers[0] else [])
                for state in targets:
                    for name, value in bound.items():
                        setattr(state, name, value)
                subs[number].state.store_cache = cache_of(subs[number])
                if number == numbers[0]:
                    app.state.store_cache = subs[number].state.store_cache  # the same account: one cache
                    app.state.compare_jobs = subs[number].state.compare_jobs = compare.Jobs()

            def stop_streams() -> None:
                for service in lives:
                    service.stop_streams()

            app.state.stop_streams = stop_streams  # the server ends event streams first
            # MQTT and notifications speak for every account, read from its store.
            outputs = Outputs(households, clock)
            task = None if scheduler is None else asyncio.create_task(scheduler.run_forever(schedule_every or 60.0))
            try:
                yield
            finally:
                await outputs.stop()
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                for sub in subs.values():  # a comparison still running uses the store and the facade
                    await compare.stop(sub)
                await compare.stop(app)

    policy = HostPolicy.of([*settings.web.allowed_hosts, *allowed_hosts])  # a bad name fails here, at start-up
    app = FastAPI(title="octoscope", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    add_docs(app)
    app.add_exception_handler(RequestValidationError, one_line_validation_error)  # type: ignore[arg-type]
    install_error_handler(app)  # every error meant for users, as {"detail": message} with its kind's status
    app.state.prefix = ""

    def account_of(path: str) -> str | None:
        """The account a path shows: ``/a/NUMBER/...`` that one's; ``/`` with several accounts, the assets
        and the docs none; any other path the first account's (the unprefixed routes answer for it)."""
        if path.startswith("/a/"):
            return path.split("/")[2].upper()
        if (several and path == "/") or path.startswith(UNBOUND):
            return None
        return numbers[0]

    if token:
        secret = session_secret or secrets.token_bytes(32)
        install_token_guard(app, check_token(token), secret, clock, account_of)
    app.add_middleware(SecurityMiddleware, policy=policy)  # outermost: its headers are on every answer

    if several:
        app.add_api_route("/", pages.switcher, response_class=HTMLResponse, include_in_schema=False)
    for area in ROUTERS:
        app.include_router(area.router)
    app.include_router(assets.router)
    for number, sub in subs.items():
        app.mount(f"/a/{number}", sub)

    def unknown_account(number: str) -> RedirectResponse:
        """``/a/NUMBER`` of a served account is its overview; any other number is not here (one line)."""
        if number in subs:
            return RedirectResponse(f"/a/{number}/", status_code=307)
        raise NotFoundError(f"no account {number} on this server: see / for the accounts it serves")

    app.add_api_route("/a/{number}", unknown_account, include_in_schema=False)
    app.add_api_route("/a/{number}/{rest:path}", unknown_account, include_in_schema=False)

    return app


def _name_of(settings: Settings) -> str | None:
    for account in settings.accounts:
        if account.number == settings.account:
            return account.name
    return None
