"""GET /api/costs over a real socket: the same JSON as `octoscope costs --json`; bad queries are one clear 400."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import fastapi.routing
import httpx
import pytest

from octoscope.simulator.threaded import serve_in_thread
from octoscope.web import costs
from octoscope.web.app import create_app
from octoscope.web.costs import CostsOut
from tests.conftest import Cli, make_cli, simulator


@pytest.fixture
def synced(synced_on: Cli) -> Cli:
    """The synced demo on SQLite and on PostgreSQL: the API's answers are checked on both backends."""
    return synced_on


def test_the_api_answers_what_the_cli_prints(synced: Cli) -> None:
    expected = json.loads(synced.ok("costs", "--period", "2026-10", "--by", "week", "--json"))
    with serve_in_thread(create_app(synced.settings(), clock=synced.clock())) as base:
        got = httpx.get(f"{base}/api/costs", params={"period": "2026-10", "by": "week"}, timeout=30)
        one = httpx.get(
            f"{base}/api/costs", params={"from": "2026-10-01", "to": "2026-10-08", "fuel": "gas"}, timeout=30
        )
        docs = httpx.get(f"{base}/openapi.json", timeout=30)
    assert got.status_code == 200
    assert got.json() == expected
    assert set(one.json()) >= {"gas", "net_pence"}
    for answer in (got.json(), one.json()):  # the model /docs shows fits the answers, key for key
        assert CostsOut.model_validate(answer).model_dump(mode="json", by_alias=True, exclude_unset=True) == answer
    assert "electricity" not in one.json()
    assert "/api/costs" in docs.json()["paths"]


@pytest.mark.parametrize(
    ("params", "status", "expected"),
    [
        ({"period": "2026-13"}, 400, "is not a month"),
        ({"period": "next-month"}, 400, "or one of today, yesterday, this-week"),
        ({"from": "2026-10-10", "to": "2026-10-01"}, 400, "is not before to"),
        ({"from": "2026-02-30"}, 400, "is not a date that exists"),
        ({"by": "year"}, 422, "by: Input should be 'day', 'week' or 'month'"),
        ({"days": "many"}, 422, "days: Input should be a valid integer"),
    ],
)
def test_bad_queries(synced: Cli, params: dict[str, str], status: int, expected: str) -> None:
    with serve_in_thread(create_app(synced.settings(), clock=synced.clock())) as base:
        response = httpx.get(f"{base}/api/costs", params=params, timeout=30)
    assert response.status_code == status
    assert expected in json.dumps(response.json()["detail"])
    detail = response.json()["detail"]
    assert isinstance(detail, str), "every 4xx says what is wrong in one line"
    assert "\n" not in detail


def test_an_access_token_when_one_is_set(synced: Cli) -> None:
    token = "a-long-secret-for-costs-9c1d"
    with serve_in_thread(create_app(synced.settings(), clock=synced.clock(), token=token)) as base:
        refused = httpx.get(f"{base}/api/costs", timeout=30)
        allowed = httpx.get(f"{base}/api/costs", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert refused.status_code == 401
    assert allowed.status_code == 200


def test_serve_refuses_the_network_without_a_token(tmp_path: Path) -> None:
    with simulator() as sim:
        done = make_cli(sim, tmp_path).run("serve", "--host", "0.0.0.0")  # noqa: S104 (the refusal is the test)
    assert done.returncode == 1
    assert "OCTOSCOPE_WEB_TOKEN" in done.stderr


def test_no_data_yet_is_404(tmp_path: Path, synced: Cli) -> None:
    empty = replace(synced.settings(), db=tmp_path / "empty.db", db_url=None)
    with serve_in_thread(create_app(empty, clock=synced.clock())) as base:
        response = httpx.get(f"{base}/api/costs", timeout=30)
    assert response.status_code == 404
    assert "run `octoscope sync` first" in response.json()["detail"]


def test_a_query_asked_again_is_the_kept_answer_until_the_store_changes(synced_demo: Cli, tmp_path: Path) -> None:
    """The same query string is answered from the bytes kept for it (before its parameters are parsed), with
    the same bytes as the first time and as an equivalent query; a write by another process drops it."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    settings = replace(synced_demo.settings(), db=copy)
    october = {"from": "2026-10-01", "to": "2026-11-01", "by": "week", "fuel": "electricity"}
    with serve_in_thread(create_app(settings, clock=synced_demo.clock())) as base:
        first = httpx.get(f"{base}/api/costs", params=october, timeout=30)
        again = httpx.get(f"{base}/api/costs", params=october, timeout=30)
        same = httpx.get(
            f"{base}/api/costs", params={"period": "2026-10", "by": "week", "fuel": "electricity"}, timeout=30
        )
        bad = [httpx.get(f"{base}/api/costs", params={"period": "2026-13"}, timeout=30) for _ in range(2)]
        with sqlite3.connect(copy) as db:  # another process's write: a day's import doubled
            day = int(datetime(2026, 10, 14, tzinfo=UTC).timestamp())
            db.execute(
                "UPDATE consumption SET value = value * 2 WHERE interval_start >= ? AND interval_start < ?",
                (day, day + 86400),
            )
        after = httpx.get(f"{base}/api/costs", params=october, timeout=30)
    assert first.status_code == again.status_code == same.status_code == 200
    assert again.content == first.content == same.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert [r.status_code for r in bad] == [400, 400]
    assert after.json()["electricity"]["kwh"] > first.json()["electricity"]["kwh"]


def test_start_up_builds_what_a_first_request_would(synced_demo: Cli) -> None:
    """Before the server listens, FastAPI has built every route of the app and of each account's app (it
    builds them on a process's first request otherwise) and read each endpoint's source for its error
    context: the first request does only its own work. Checked on FastAPI's own records of both (private
    names: if a FastAPI upgrade moves them, this says the warm-up must follow)."""
    fastapi.routing._endpoint_context_cache.pop(id(costs.costs), None)
    app = create_app(synced_demo.settings(), clock=synced_demo.clock())
    included = [r for r in app.router.routes if isinstance(r, fastapi.routing._IncludedRouter)]
    assert included
    assert all(r._effective_candidates_version is None for r in included)
    with serve_in_thread(app) as base:
        assert all(r._effective_candidates_version is not None for r in included)
        assert id(costs.costs) in fastapi.routing._endpoint_context_cache
        assert httpx.get(f"{base}/api/costs", params={"period": "2026-10"}, timeout=30).status_code == 200
