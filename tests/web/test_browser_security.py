"""Issue 15 in a real browser (Chromium, with ``evil.example`` resolved to this machine as a DNS rebinding
would): the login form on a crafted path sends the token nowhere but this server; a page on another site
cannot read the API through its own name, nor make the server act with a cross-site POST (a script's
no-preflight ``text/plain`` POST, or a plain HTML form), with or without a signed-in cookie.

What reached the server, and what it answered, is recorded by a wrapper around the app: the browser cannot
read a cross-site answer, the server's side is the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from octoscope.clock import frozen
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import Cli
from tests.web.test_browser import ARGS as BROWSER_ARGS
from tests.web.test_browser import CHROMIUM, sync_api
from tests.web.test_security import NOW, keyless

TOKEN = "a-browser-token-for-the-security-tests-3a9d"
ARGS = [
    *BROWSER_ARGS,
    "--host-resolver-rules=MAP evil.example 127.0.0.1",  # the rebinding: another site's name, this machine
]


class Recorder:
    """Every request the app sees and the status it answered with."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((scope["method"], scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, recording)

    def posts(self) -> list[tuple[str, int]]:
        return [(path, status) for method, path, status in self.seen if method == "POST"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


ATTACK = """<!doctype html><html><body>
<form id="f" method="post" action="{target}/api/dispatches/refresh" enctype="text/plain">
<input name="x" value="y"></form>
<script>
fetch("{target}/api/dispatches/refresh", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}}, body: "x"}})
  .catch(() => null)
  .then(() => document.getElementById("f").submit());
</script></body></html>"""


@pytest.fixture(scope="module")
def attacker() -> Iterator[str]:
    """Another web site's page (``http://evil.example:PORT``) that attacks ``?target=``."""

    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(ATTACK.format(target=request.query_params["target"]))

    with serve_in_thread(Starlette(routes=[Route("/", page)])) as base:
        yield base.replace("127.0.0.1", "evil.example")


def test_the_login_form_on_a_crafted_path_sends_the_token_only_here(browser: Any, synced_demo: Cli) -> None:
    with serve_in_thread(create_app(keyless(synced_demo), token=TOKEN, clock=frozen(NOW))) as base:
        context = browser.new_context()
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(f"{base}//evil.example/steal")
        page.fill("#token", TOKEN)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{base}/status")  # signed in by the form
        signed_in = page.title()
        context.close()
    port = base.rsplit(":", 1)[1]
    assert all(url.startswith(f"http://127.0.0.1:{port}/") for url in asked), asked
    assert not [url for url in asked if httpx.URL(url).host == "evil.example"]
    assert any(f"token={TOKEN}" in url for url in asked)  # the form was sent: here
    assert signed_in == "Status · octoscope"


def test_a_rebound_name_reads_nothing(browser: Any, synced_demo: Cli) -> None:
    with serve_in_thread(create_app(keyless(synced_demo), clock=frozen(NOW))) as base:
        port = base.rsplit(":", 1)[1]
        context = browser.new_context()
        page = context.new_page()
        first = page.goto(f"http://evil.example:{port}/")  # the attacker's name, now this machine
        read = page.evaluate("fetch('/api/overview').then(r => r.status + ' ' + r.headers.get('content-type'))")
        text = page.evaluate("fetch('/api/overview').then(r => r.text())")
        context.close()
    assert first.status == 400
    assert read == "400 application/json"
    assert "does not answer to the host name" in text
    assert "kwh" not in text


@pytest.mark.parametrize("tokened", [False, True])
def test_another_site_cannot_make_the_server_act(browser: Any, synced_demo: Cli, attacker: str, tokened: bool) -> None:
    app = Recorder(create_app(keyless(synced_demo), token=TOKEN if tokened else None, clock=frozen(NOW)))
    with serve_in_thread(app) as base:
        context = browser.new_context()
        page = context.new_page()
        if tokened:
            page.goto(f"{base}/?token={TOKEN}")  # signed in: the browser holds the session cookie
        with page.expect_navigation(url=f"{base}/api/dispatches/refresh", timeout=15_000):
            page.goto(f"{attacker}/?target={base}")  # its script POSTs, then its form does (a navigation)
        own = page.goto(f"{base}/costs")
        posted = page.evaluate(
            "fetch('/api/dispatches/refresh', {method: 'POST'}).then(r => r.status)"
        )  # the dashboard's own page still can
        context.close()
    attacks = app.posts()[:-1]
    assert len(attacks) == 2, app.seen  # the script's POST and the form's
    assert all(status == 403 for _, status in attacks), attacks
    assert own.status == 200
    assert posted == 409  # reached the route (no API key here), as the dashboard's button does


def test_the_api_docs_render_offline_under_the_policy(browser: Any, synced_demo: Cli) -> None:
    path, ready = "/docs", ".swagger-ui .opblock"
    with serve_in_thread(create_app(keyless(synced_demo), clock=frozen(NOW))) as base:
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        outside: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else outside.append(r.url))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
        page.goto(f"{base}{path}")
        page.wait_for_selector(ready, timeout=30_000)
        operations = page.locator(ready).count()
        context.close()
    assert operations >= 5
    assert outside == []  # nothing from a CDN: the page works offline
    assert errors == []  # and nothing it needs is blocked by the Content-Security-Policy
