"""The access token on every page and route (bearer header, or the cookie a ?token= login sets; never echoed),
the pages' HTML and plotly.js served from the installed package, and `octoscope serve --token`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from octoscope.web.auth import COOKIE
from octoscope.web.pages import PAGES, PLOTLY_JS
from tests.conftest import DEMO_KEY, Cli

TOKEN = "a-long-secret-for-the-tests-7f3e"


PATHS = [href for _, href, _ in PAGES] + ["/api/overview", "/api/status", "/static/app.js", "/vendor/plotly.min.js"]


@pytest.mark.parametrize("path", PATHS)
def test_every_page_and_route_needs_the_token(synced_demo: Cli, path: str) -> None:
    with serve_in_thread(create_app(synced_demo.settings(), clock=synced_demo.clock(), token=TOKEN)) as base:
        bare = httpx.get(f"{base}{path}", timeout=30)
        html = httpx.get(f"{base}{path}", headers={"Accept": "text/html"}, timeout=30)
        wrong = httpx.get(f"{base}{path}", headers={"Authorization": "Bearer nope"}, timeout=30)
        right = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert bare.status_code == html.status_code == wrong.status_code == 401
    assert right.status_code == 200
    if path.startswith("/api/"):
        assert bare.json()["detail"].startswith("an access token is required")
    else:
        assert 'name="token"' in html.text  # a browser gets a form to give it
    for response in (bare, html, wrong, right):
        assert TOKEN not in response.text
        assert TOKEN not in str(response.headers)


def test_a_token_in_the_address_logs_a_browser_in_with_a_cookie_and_is_cleaned_away(synced_demo: Cli) -> None:
    with serve_in_thread(create_app(synced_demo.settings(), clock=synced_demo.clock(), token=TOKEN)) as base:
        with httpx.Client(base_url=base, timeout=30) as browser:
            login = browser.get("/usage", params={"token": TOKEN, "fuel": "gas"})
            page = browser.get("/usage")
            api = browser.get("/api/usage", params={"days": 2})
        with httpx.Client(base_url=base, timeout=30) as other:
            refused = other.get("/usage", params={"token": "not-it"}, headers={"Accept": "text/html"})
            forged = other.get("/api/overview", headers={"Cookie": f"{COOKIE}={TOKEN}"})
    assert login.status_code == 303
    assert login.headers["location"] == "/usage?fuel=gas"  # the token is gone from the address
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert TOKEN not in cookie  # a digest of it, not the token
    assert page.status_code == 200
    assert api.status_code == 200
    assert refused.status_code == 401
    assert "not the right one" in refused.text
    assert TOKEN not in refused.text
    assert forged.status_code == 401


def test_without_a_token_everything_is_open_on_this_machine(synced_demo: Cli) -> None:
    with serve_in_thread(create_app(synced_demo.settings(), clock=synced_demo.clock())) as base:
        responses = {path: httpx.get(f"{base}{path}", timeout=30) for path in PATHS}
    for path, response in responses.items():
        assert response.status_code == 200, path
    for _, href, label in PAGES:
        page = responses[href].text
        assert f"<title>{label} · octoscope</title>" in page
        if href != "/status":  # the one page without a chart
            assert '<script src="/vendor/plotly.min.js">' in page
        else:
            assert "plotly" not in page
        assert 'name="viewport"' in page
        assert DEMO_KEY not in page
    plotly = responses["/vendor/plotly.min.js"]
    assert PLOTLY_JS is not None
    assert plotly.content == PLOTLY_JS.read_bytes()
    assert plotly.headers["content-type"].startswith("text/javascript")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_takes_a_token_option_and_guards_with_it(synced_demo: Cli) -> None:
    port = _free_port()
    # No API key: the app serves the database without a scheduler reaching out to the simulator.
    env = {k: v for k, v in synced_demo.env.items() if k != "OCTOSCOPE_API_KEY"}
    process = subprocess.Popen(
        [sys.executable, "-m", "octoscope", "serve", "--port", str(port), "--token", TOKEN],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                refused = httpx.get(f"http://127.0.0.1:{port}/api/overview", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, process.stderr.read() if process.poll() is not None else ""
                time.sleep(0.2)
        allowed = httpx.get(
            f"http://127.0.0.1:{port}/api/overview", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert refused.status_code == 401
    assert allowed.status_code == 200
    assert f"octoscope dashboard on http://127.0.0.1:{port}/" in out
    assert TOKEN not in out + err


def test_serve_off_this_machine_needs_a_token(tmp_path: Path, synced_demo: Cli) -> None:
    done = synced_demo.run("serve", "--host", "0.0.0.0")  # noqa: S104 (the refusal is the test)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: listening on 0.0.0.0 opens your data to the network: give --token")
