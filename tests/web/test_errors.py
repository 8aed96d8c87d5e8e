"""The web app's one error handler: each kind of user error answers with its status and {"detail": message}."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from octoscope.domain.uktime import BadDate
from octoscope.errors import OctoscopeError
from octoscope.live.service import UnknownDevice
from octoscope.octopus.errors import BudgetExhausted, CredentialsRejected
from octoscope.services.costing import NothingToCost
from octoscope.services.pricing import CannotPrice, NothingToPrice, PriceError
from octoscope.store.sqlite import StoreError
from octoscope.sync.dispatches import RefreshTooSoon
from octoscope.web.errors import install_error_handler, status_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadDate("--from 2026-13-01: write YYYY-MM-DD"), 400),
        (PriceError("--top 99: ask for 1 to 48 windows"), 400),
        (NothingToPrice("no readings stored"), 404),
        (NothingToCost("nothing stored for A-1 yet"), 404),
        (UnknownDevice("no such device"), 404),
        (CannotPrice("the meter's unit is not known"), 409),
        (RefreshTooSoon(0.0), 429),
        (CredentialsRejected("the API key was refused", "api_key"), 502),
        (BudgetExhausted("this hour's budget is spent"), 502),
        (StoreError("not an octoscope database"), 503),
        (OctoscopeError("of no kind yet"), 500),
    ],
)
def test_each_kind_has_its_status(error: Exception, status: int) -> None:
    assert status_of(error) == status


def test_the_handler_answers_one_detail_line_naming_query_parameters() -> None:
    app = FastAPI()
    install_error_handler(app)

    @app.get("/input")
    def bad_input() -> None:
        raise PriceError("--kw 'x': write kW as a number")

    @app.get("/missing")
    def missing() -> None:
        raise NothingToPrice("run `octoscope sync --past-properties` first", hint="or wait")

    async def ask(path: str) -> tuple[int, object]:
        transport = httpx.ASGITransport(app=app)  # the app in process: no server needed for its error answers
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            answer = await client.get(path)
            return answer.status_code, answer.json()

    assert asyncio.run(ask("/input")) == (400, {"detail": "kw 'x': write kW as a number"})
    # only a question's mistakes have their flags said as query parameters
    assert asyncio.run(ask("/missing")) == (404, {"detail": "run `octoscope sync --past-properties` first (or wait)"})
