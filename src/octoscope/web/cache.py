"""Answers worked out from the store, kept while the store is unchanged.

The dashboard asks the same questions over and over (every open page, every refresh), and the answers only
change when a sync writes. Two layers, both dropped as soon as :meth:`StoreProtocol.data_version` moves (a write by
this process or any other):

- per local day, each fuel's costed totals, worked out a month at a time: a year of usage by week, or this
  month against the last, is a sum of days already costed;
- whole JSON answers, encoded, keyed by the route's parameters and whatever the answer depends on (today,
  the half-hour now), so that twenty viewers of one page cost one computation; and by the query string as
  sent (``KeptFirstRoute``), so that asking again costs no parsing either.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from octoscope.config import Settings
from octoscope.domain.costs import Totals, next_month
from octoscope.domain.models import Account
from octoscope.domain.uktime import from_epoch, local_date
from octoscope.services.costing import FUELS, FuelName, daily_totals, load_account
from octoscope.store.ports import StoreProtocol

ANSWERS_KEPT = 256


class StoreCache:
    """One per app. Thread-safe: routes run in the server's thread pool."""

    def __init__(self, store: StoreProtocol, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._months: dict[tuple[date, date], dict[FuelName, dict[date, Totals]]] = {}
        self._account: Account | None = None

    def _current(self) -> tuple[int, int]:
        """Drop everything if the store changed since it was worked out; the version now."""
        version = self.store.data_version()
        if version != self._version:
            self._answers.clear()
            self._months.clear()
            self._account = None
            self._version = version
        return version

    def _still(self, version: tuple[int, int]) -> bool:
        """Whether an answer worked out at ``version`` may be kept (nothing was written meanwhile)."""
        return self._version == version and self.store.data_version() == version

    def account(self) -> Account:
        with self._lock:
            self._current()
            if self._account is None:
                self._account = load_account(self.store, self.settings.require_account())
            return self._account

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, worked out once per store version (kept for the last few hundred keys)."""
        with self._lock:
            version = self._current()
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        value = compute()
        with self._lock:
            if self._still(version):
                self._keep(key, value)
        return value

    def _keep(self, key: Hashable, value: Any) -> None:
        """Under the lock, at the current version."""
        self._answers[key] = value
        while len(self._answers) > ANSWERS_KEPT:
            self._answers.popitem(last=False)

    def answer(self, key: Hashable, compute: Callable[[], Any], asked: Hashable | None = None) -> Response:
        """The JSON answer for ``key``, encoded once per store version; kept under ``asked`` too (see
        :class:`KeptFirstRoute`)."""
        with self._lock:
            version = self._current()
        body: bytes = self.memo(("json", key), lambda: orjson.dumps(compute()))
        if asked is not None:
            with self._lock:
                if self._still(version):  # not an answer from before a write
                    self._keep(("json", asked), body)
        return Response(body, media_type="application/json")

    async def answer_async(self, key: Hashable, compute: Callable[[], Any], asked: Hashable | None = None) -> Response:
        """:meth:`answer` for ``async`` routes: a kept answer straight from the event loop (no thread hop,
        which is most of the cost of a kept answer); one to work out in the thread pool."""
        with self._lock:
            self._current()
            body = self._answers.get(("json", key))
            if body is not None and asked is not None:
                self._keep(("json", asked), body)
        if body is None:
            return await run_in_threadpool(self.answer, key, compute, asked)
        return Response(body, media_type="application/json")

    def kept(self, asked: Hashable) -> bytes | None:
        """The encoded answer kept under ``asked``, if the store has not changed since."""
        with self._lock:
            self._current()
            body: bytes | None = self._answers.get(("json", asked))
            if body is not None:
                self._answers.move_to_end(("json", asked))
            return body

    def days(self, fuel: FuelName, first: date, end: date, today: date) -> dict[date, Totals]:
        """Each local day of [first, end) up to today, costed (inc VAT, the user's payment method and
        settings); days without data are absent or empty."""
        out: dict[date, Totals] = {}
        month = first.replace(day=1)
        while month < end:
            held = self._month(month, today)
            for day, totals in held.get(fuel, {}).items():
                if first <= day < end:
                    out[day] = totals
            month = next_month(month)
        return out

    def _month(self, month: date, today: date) -> dict[FuelName, dict[date, Totals]]:
        key = (month, today)
        with self._lock:
            version = self._current()
            held = self._months.get(key)
        if held is not None:
            return held
        account = self.account()
        end = min(next_month(month), today + timedelta(days=1))  # days ahead have no standing charge yet
        computed: dict[FuelName, dict[date, Totals]] = {}
        if month < end:
            computed = daily_totals(
                self.store,
                account,
                month,
                end,
                FUELS,
                True,
                self.settings.payment_method,
                self.settings.costs,
            ).days
        with self._lock:
            if self._still(version):
                self._months[key] = computed
        return computed

    def part_of_day(self, fuel: FuelName, day: date, until: datetime) -> Totals:
        """One local day's totals for the half-hours before ``until`` (not cached: it is a day)."""
        found = daily_totals(
            self.store,
            self.account(),
            day,
            day + timedelta(days=1),
            (fuel,),
            True,
            self.settings.payment_method,
            self.settings.costs,
            until=until,
        ).days
        return found.get(fuel, {}).get(day) or Totals()


class KeptFirstRoute(APIRoute):
    """A route whose answer depends only on its query string, today and the store (an ``answer_async``
    route that passes :func:`request_key`): a request asked before is answered with the bytes kept for it
    before FastAPI parses and validates the parameters, which was most of what a kept answer cost (190 µs
    of the app's CPU, now under 60)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()

        async def handler(request: Request) -> Response:
            body = cache_of(request.app).kept(request_key(request))
            if body is not None:
                return Response(body, media_type="application/json")
            return await full(request)

        return handler


def request_key(request: Request) -> Hashable:
    """The request as asked: path, query string as sent, and today (which ends every range)."""
    scope = request.scope
    return ("request", scope["path"], scope["query_string"], local_date(from_epoch(request.app.state.clock())))


def get_cache(request: Request) -> StoreCache:
    return cache_of(request.app)


def cache_of(app: Any) -> StoreCache:
    """The app's cache (made on first use). Plain, not a dependency: ``async`` routes call it directly."""
    state = app.state
    cache: StoreCache | None = getattr(state, "store_cache", None)
    if cache is None or cache.store is not state.store:
        with _made:
            cache = getattr(state, "store_cache", None)
            if cache is None or cache.store is not state.store:
                cache = StoreCache(state.store, state.settings)
                state.store_cache = cache
    return cache


_made = threading.Lock()
