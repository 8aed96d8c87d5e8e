"""Consumption rows must be half-hours (issue 15): a row whose ``interval_end`` is not 30 minutes after its
``interval_start`` (readings grouped by hour or day) is refused in one line naming the field, and nothing of
that series is stored as if it were a half-hour. Driven for real: ``octoscope sync`` against the simulator,
through a proxy that groups the first row of every consumption page into an hour."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from octoscope.octopus.errors import UnexpectedResponse
from octoscope.octopus.parse import consumption_page
from octoscope.simulator.threaded import serve_in_thread
from tests.conftest import SimServer, make_cli


def grouping_proxy(sim: SimServer) -> Starlette:
    async def forward(request: Request) -> Response:
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.request(
                request.method,
                f"{sim.url}{request.url.path}",
                params=request.query_params,
                headers={k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")},
                content=await request.body(),
            )
        if "/consumption/" in request.url.path and answer.status_code == 200:
            body = answer.json()
            if body["results"]:
                first = body["results"][0]
                start = datetime.fromisoformat(first["interval_start"])
                first["interval_end"] = (start + timedelta(hours=1)).isoformat()
            return JSONResponse(body)
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])


@pytest.fixture
def proxy(fresh_sim: SimServer) -> Iterator[str]:
    with serve_in_thread(grouping_proxy(fresh_sim)) as base:
        yield base


def test_a_grouped_row_is_refused_naming_the_field(fresh_sim: SimServer, proxy: str, tmp_path: Path) -> None:
    cli = make_cli(fresh_sim, tmp_path)
    done = cli.run(
        "sync", "--from", "2026-11-18", "--to", "2026-11-20", env={"OCTOSCOPE_API_URL": f"{proxy}/v1"}, timeout=120
    )
    said = done.stdout + done.stderr
    assert "Traceback" not in said
    assert ".results[0].interval_end = " in said, said
    assert "is 60 minutes after interval_start, not 30" in said
    lines = [line for line in said.splitlines() if "interval_end" in line]
    assert all(len(line) < 400 for line in lines)
    with sqlite3.connect(cli.db) as db:
        stored = db.execute("SELECT COUNT(*) FROM consumption").fetchone()[0]
    assert stored == 0  # no page with a grouped row was stored as half-hours


def test_a_half_hour_row_passes_and_an_hour_does_not() -> None:
    row = {"consumption": 0.5, "interval_start": "2026-03-29T00:30:00Z", "interval_end": "2026-03-29T01:00:00Z"}
    assert len(consumption_page({"count": 1, "next": None, "results": [row]}, "x").items) == 1
    # the clock change: 00:30 GMT to 02:00 BST is one half-hour
    change = {**row, "interval_start": "2026-03-29T00:30:00+00:00", "interval_end": "2026-03-29T02:00:00+01:00"}
    assert len(consumption_page({"count": 1, "next": None, "results": [change]}, "x").items) == 1
    hour = {**row, "interval_end": "2026-03-29T01:30:00Z"}
    with pytest.raises(UnexpectedResponse, match=r"x\.results\[0\]\.interval_end = '2026-03-29T01:30:00Z' is 60"):
        consumption_page({"count": 1, "next": None, "results": [hour]}, "x")
    missing = {k: v for k, v in row.items() if k != "interval_end"}
    with pytest.raises(UnexpectedResponse, match=r"x\.results\[0\]\.interval_end is missing"):
        consumption_page({"count": 1, "next": None, "results": [missing]}, "x")
