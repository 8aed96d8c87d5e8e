"""Two accounts in one ``serve`` (issue 19's must-show): every page and API route of one, enumerated from the
app's own routes so that a new route is covered without touching this file, answers nothing of the other
(its number, MPANs, MPRN, meter serials, postcode, address, devices); a token restricted to one account is
refused (403) on every route of the other; the switcher lists only what a token may see.

Both accounts come from the simulator's ``two_accounts`` scenario, each with its own key, synced by one
``octoscope sync`` (each in turn): on SQLite into a file each, on PostgreSQL into one shared database.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from octoscope.clock import ManualClock
from octoscope.config import Settings, load_settings
from octoscope.services.scheduler import spread_offset
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from octoscope.web.auth import account_token
from tests.conftest import Cli, machine_env, simulator

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC).timestamp()  # the simulator's morning, after the sync
TOKEN = "a-long-secret-for-the-isolation-tests-19"
ONE, TWO = "A-0000AAA1", "A-0000BBB2"
KEYS = {ONE: "sk_live_octoscope_accounts_one", TWO: "sk_live_octoscope_accounts_two"}
# What identifies each household in two_accounts.toml; none of it may show on the other's pages.
MARKS = {
    ONE: [ONE, "1911111111101", "19A1111101", "LS1 1AA", "11 Firstly Row", "LEEDS", "00-00-00-FF-FE-00-19-01"],
    TWO: [
        TWO,
        "1922222222202",
        "3922222202",
        "19B2222202",
        "G4S2222202",
        "EX2 2BB",
        "22 Secondly Close",
        "EXETER",
        "00-00-00-FF-FE-00-19-02",
        "00-00-00-FF-FE-00-19-03",
    ],
}
OTHER = {ONE: TWO, TWO: ONE}
STREAM_SECONDS = 3.0
# Query parameters a route cannot answer without (a new required one fails the test until added here).
REQUIRED = {"/api/cheapest": "?hours=3"}
COMPARE_WAIT = 120.0  # seconds for the comparison POST /api/compare started to finish


@dataclass
class Served:
    base: str
    app: FastAPI
    settings: list[Settings]


def config_text(home: Path, shared: str | None = None) -> str:
    """SQLite: the first account in its default file, the second in one named here. PostgreSQL (``shared``, a
    DSN): both accounts in the one database, told apart only by the account column of every row."""
    first = f'db = "{shared}"\n' if shared else ""
    second = shared or f"{home}/two.db"
    return (
        "# two households\n"
        f'[[accounts]]\nnumber = "{ONE}"\nname = "Flat"\napi_key_env = "KEY_ONE"\n{first}\n'
        f'[[accounts]]\nnumber = "{TWO}"\nname = "House"\napi_key_env = "KEY_TWO"\ndb = "{second}"\n'
    )


@pytest.fixture(scope="module")
def served(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("two-accounts")
    shared = None
    if store_backend == "postgres":
        from tests.servers import fresh_database

        shared = fresh_database("isolation")
    (home / "config.toml").write_text(config_text(home, shared))
    with simulator("two_accounts") as sim:
        env = {
            **machine_env(),
            "HOME": str(home),
            "OCTOSCOPE_CONFIG": str(home / "config.toml"),
            "OCTOSCOPE_API_URL": f"{sim.url}/v1",
            "OCTOSCOPE_GRAPHQL_URL": f"{sim.url}/v1/graphql/",
            "KEY_ONE": KEYS[ONE],
            "KEY_TWO": KEYS[TWO],
        }
        cli = Cli(sim, home, env)
        out = cli.ok("sync", "--to", "2026-11-22")
        assert f"Account {ONE}:" in out
        assert f"Account {TWO}:" in out
        settings = load_settings(env=env, config_path=home / "config.toml")
        every = [settings.for_account(a) for a in settings.all_accounts()]
        if shared:
            assert [s.store_location() for s in every] == [shared, shared]
        else:
            assert [s.db for s in every] == [home / ".local/share/octoscope/accounts" / f"{ONE}.db", home / "two.db"]
        app = create_app(every[0], accounts=every, clock=cli.clock(), token=TOKEN)
        with serve_in_thread(app) as base:
            yield Served(base, app, every)


def account_routes(app: FastAPI, number: str) -> list[tuple[str, str]]:
    """(method, path) of every route mounted for the account, from the app itself."""
    mounts = [r for r in app.routes if isinstance(r, Mount) and r.path == f"/a/{number}"]
    assert len(mounts) == 1
    out: list[tuple[str, str]] = []
    for route in mounts[0].app.routes:  # type: ignore[attr-defined]
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            out += [(method, context.path) for method in sorted(context.methods or ()) if method != "HEAD"]
    assert len(out) > 20, out  # the pages and the API, not an empty mount
    return out


def fetch(client: httpx.Client, method: str, path: str) -> tuple[int, str]:
    """One answer's status and text (its headers too); an event stream is read for a few seconds (it never
    ends)."""
    if path.endswith("/stream"):
        got = b""
        with contextlib.suppress(httpx.ReadTimeout), client.stream(method, path, timeout=STREAM_SECONDS) as response:
            status = response.status_code
            started = time.monotonic()
            for chunk in response.iter_bytes():
                got += chunk
                if time.monotonic() - started > STREAM_SECONDS:
                    break
        return status, got.decode(errors="replace")
    response = client.request(method, path)
    return response.status_code, response.text + str(response.headers)


def answers(served: Served, number: str, token: str) -> Iterator[tuple[str, int, str]]:
    """Every route of the account's, as the given token sees it: (route, status, text)."""
    jobs: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=served.base, headers=headers, timeout=60) as client:
        for method, path in account_routes(served.app, number):
            if "{job}" in path:  # the comparison started by POST /api/compare (once done), and one not there
                for job in [*jobs, "0000000000000000"]:
                    url = f"/a/{number}{path.replace('{job}', job)}"
                    status, text = fetch(client, method, url)
                    deadline = time.monotonic() + COMPARE_WAIT
                    while status == 200 and '"status":"running"' in text and time.monotonic() < deadline:
                        time.sleep(1)
                        status, text = fetch(client, method, url)
                    yield url, status, text
                continue
            url = f"/a/{number}{path}{REQUIRED.get(path, '')}"
            status, text = fetch(client, method, url)
            assert status != 422 or token != TOKEN, f"{url}: give its required parameters in REQUIRED: {text[:200]}"
            if method == "POST" and path == "/api/compare" and status < 300:
                jobs.append(_job_of(text))
            yield url, status, text


def _job_of(text: str) -> str:
    """The job id in POST /api/compare's answer (the text ends with its headers)."""

    body, _, _ = text.partition("Headers(")
    return str(json.loads(body)["job"])


@pytest.mark.parametrize("number", [ONE, TWO])
def test_every_page_and_api_route_of_one_account_holds_nothing_of_the_other(served: Served, number: str) -> None:
    own_seen: set[str] = set()
    for url, status, text in answers(served, number, TOKEN):
        assert status < 500, f"{url}: {status} {text[:300]}"
        folded = text.lower()
        for mark in MARKS[OTHER[number]]:
            assert mark.lower() not in folded, f"{url} shows {mark} of {OTHER[number]}"
        own_seen |= {mark for mark in MARKS[number] if mark.lower() in folded}
    # Not vacuous: the account's own number and meter point are on its pages.
    assert {number, MARKS[number][1]} <= own_seen


@pytest.mark.parametrize("number", [ONE, TWO])
def test_an_account_token_is_refused_on_every_route_of_the_other(served: Served, number: str) -> None:
    restricted = account_token(TOKEN, number)
    other = OTHER[number]
    for url, status, text in answers(served, other, restricted):
        assert status == 403, f"{url} answered {status} to {number}'s token"
        assert MARKS[other][1] not in text
        assert restricted not in text
        assert TOKEN not in text
    # Its own account opens with it.
    own = httpx.get(f"{served.base}/a/{number}/api/status", headers={"Authorization": f"Bearer {restricted}"})
    assert own.status_code == 200
    assert own.json()["account"] == number


def test_the_switcher_lists_the_accounts_a_token_may_see(served: Served) -> None:
    def switcher(token: str) -> str:
        response = httpx.get(f"{served.base}/", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200
        return response.text

    everything = switcher(TOKEN)
    assert f'href="/a/{ONE}/"' in everything
    assert f'href="/a/{TWO}/"' in everything
    assert "Flat" in everything
    assert "House" in everything
    only_two = switcher(account_token(TOKEN, TWO))
    assert f'href="/a/{TWO}/"' in only_two
    assert ONE not in only_two
    assert "Flat" not in only_two


def test_the_unprefixed_routes_answer_for_the_first_account(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    plain = httpx.get(f"{served.base}/api/overview", headers=headers, timeout=30).json()
    prefixed = httpx.get(f"{served.base}/a/{ONE}/api/overview", headers=headers, timeout=30).json()
    assert plain == prefixed
    two = account_token(TOKEN, TWO)
    refused = httpx.get(f"{served.base}/api/overview", headers={"Authorization": f"Bearer {two}"}, timeout=30)
    assert refused.status_code == 403  # they are the first account's


def test_a_page_keeps_its_links_and_calls_inside_the_account(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "text/html"}
    page = httpx.get(f"{served.base}/a/{TWO}/usage", headers=headers, timeout=30).text
    assert f'data-base="/a/{TWO}"' in page  # app.js prefixes every API call and the live stream with it
    assert f'href="/a/{TWO}/prices"' in page
    assert 'href="/prices"' not in page


def test_an_unknown_account_is_a_404_in_one_line(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/a/A-0000FFFF/api/overview", "/a/A-0000FFFF", "/a/nonsense/usage"):
        response = httpx.get(f"{served.base}{path}", headers=headers, timeout=30)
        assert response.status_code == 404, path
        detail: Any = response.json()["detail"]
        assert detail.startswith("no account ")
        assert "\n" not in detail
    known = httpx.get(f"{served.base}/a/{TWO}", headers=headers, timeout=30, follow_redirects=False)
    assert known.status_code == 307
    assert known.headers["location"] == f"/a/{TWO}/"


def test_one_scheduler_runs_each_account_on_its_own_store_and_key(served: Served) -> None:
    app = create_app(served.settings[0], accounts=served.settings, clock=ManualClock(NOW), schedule_every=3600)
    with serve_in_thread(app) as base:
        assert httpx.get(f"{base}/a/{TWO}/api/status", timeout=30).status_code == 200
        schedulers = app.state.schedulers.accounts
        numbers = [s.number for s in schedulers]
        stores = {id(s.store) for s in schedulers}
        keys = {s.key_id for s in schedulers}
        offsets = [s.offset for s in schedulers]
        status = httpx.get(f"{base}/a/{TWO}/api/status", timeout=30).json()
    assert numbers == [ONE, TWO]
    assert len(stores) == 2  # a store each
    assert len(keys) == 2  # a facade (and budget) per key
    assert offsets == [spread_offset(ONE), spread_offset(TWO)]
    assert offsets[0] != offsets[1]
    assert status["account"] == TWO
    assert status["scheduler"] is not None  # the account's own jobs on its Status page


def test_another_sites_script_is_refused_on_an_accounts_api_too(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}
    for path in ("/api/overview", f"/a/{TWO}/api/overview"):
        response = httpx.get(f"{served.base}{path}", headers=headers, timeout=30)
        assert response.status_code == 403, path
        assert MARKS[TWO][1] not in response.text
