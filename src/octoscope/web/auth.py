"""The access token that guards every page and route when ``octoscope serve`` listens beyond this machine.

Two ways in: ``Authorization: Bearer <token>`` (scripts, the API), or a browser's session cookie, set by
opening any page once with ``?token=<token>`` (the address is then cleaned of it by a redirect to the same
path on this server, never to another). The cookie holds when it was issued and a digest of that, keyed by
the token and by a secret kept on the server (``security.session_secret``): it expires after ``COOKIE_DAYS``,
and every cookie ever issued stops working when the token or the secret changes
(``octoscope serve --sign-out-everyone``). Nothing ever echoes the token back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from html import escape
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

ACCOUNT_PREFIX = re.compile(r"^A-[0-9A-F]{8}$")
COOKIE = "octoscope_session"
COOKIE_DAYS = 30
NEEDED = "an access token is required: Authorization: Bearer <token>, or open the page with ?token=<token>"


def _session_key(token: str, secret: bytes) -> bytes:
    return hmac.new(secret, b"octoscope web session\0" + token.encode(), hashlib.sha256).digest()


def account_token(token: str, number: str) -> str:
    """The token that opens one account only (``octoscope serve --account-token NUMBER``): its number and a
    digest of it keyed by the server's token, so that nothing is stored, it cannot be turned into the server's
    token nor another account's, and a new server token withdraws every account token with it."""
    digest = hmac.new(token.encode(), b"octoscope account token\0" + number.encode(), hashlib.sha256).hexdigest()
    return f"{number}.{digest}"


def token_account(given: str, token: str) -> tuple[bool, str | None]:
    """Whether ``given`` opens this server, and if so the one account it is restricted to (None: every one)."""
    if _same(given, token):
        return True, None
    number, dot, _ = given.partition(".")
    if dot and ACCOUNT_PREFIX.match(number) and _same(given, account_token(token, number)):
        return True, number
    return False, None


def session_value(token: str, secret: bytes, issued: int, account: str | None = None) -> str:
    """What the cookie holds: when it was issued (and the account an account token was for), and a digest of
    that keyed by the token and the server's secret (neither can be had back from it)."""
    stamp = f"{issued}" if account is None else f"{issued}.{account}"
    digest = hmac.new(_session_key(token, secret), stamp.encode(), hashlib.sha256).hexdigest()
    return f"{stamp}.{digest}"


def session_account(value: str, token: str, secret: bytes, now: float) -> tuple[bool, str | None]:
    """:func:`session_valid` for a cookie that may be an account token's: whether it holds, and its account."""
    parts = value.split(".")
    if len(parts) == 3 and ACCOUNT_PREFIX.match(parts[1]):
        if not parts[0].isdigit() or len(parts[0]) > 12:
            return False, None
        issued = int(parts[0])
        if not issued - 300 <= now < issued + COOKIE_DAYS * 86400:
            return False, None
        expected = session_value(account_token(token, parts[1]), secret, issued, parts[1])
        return (True, parts[1]) if _same(value, expected) else (False, None)
    return session_valid(value, token, secret, now), None


def session_valid(value: str, token: str, secret: bytes, now: float) -> bool:
    """Whether a cookie was issued by this server, with this token and secret, less than ``COOKIE_DAYS`` ago."""
    issued_text, _, _ = value.partition(".")
    if not issued_text.isdigit() or len(issued_text) > 12:
        return False
    issued = int(issued_text)
    if not issued - 300 <= now < issued + COOKIE_DAYS * 86400:  # five minutes' grace for a clock set back
        return False
    return _same(value, session_value(token, secret, issued))


def local_path(path: str) -> str:
    """A path on this server whatever the request's path was: ``//evil.example/x`` as an address (or a form
    action) would be another site, so leading slashes and backslashes are folded into one slash."""
    return "/" + path.lstrip("/\\")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _wants_html(request: Request) -> bool:
    path = re.sub(r"^/a/[^/]+", "", request.url.path)  # an account's API is an API too
    if path.startswith(("/api/", "/openapi.json", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><link rel="icon" href="data:,"><title>octoscope: access token</title>
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
input,button{{font:inherit;padding:.5rem;margin:.25rem 0;width:100%;box-sizing:border-box}}</style></head>
<body><h1>octoscope</h1><p>{message}</p>
<form method="get" action="{action}"><label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open</button></form></body></html>"""


def install_token_guard(
    app: FastAPI,
    token: str,
    secret: bytes,
    clock: Callable[[], float],
    account_of: Callable[[str], str | None] = lambda path: None,
) -> None:
    """Every request must carry the token (header or cookie); ``?token=`` logs a browser in. ``secret``: the
    server's session secret; ``clock``: the app's, for when cookies are issued and expire. An account token
    (:func:`account_token`) opens only the paths ``account_of`` says are its account's (or no account's:
    the switcher, assets, the docs); any other account's answer 403."""

    async def enter(
        request: Request, account: str | None, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if account is not None:
            wanted = account_of(request.url.path)
            if wanted is not None and wanted != account:
                return _forbidden(request, account)
        request.state.token_account = account  # the switcher lists only this account
        return await call_next(request)

    @app.middleware("http")
    async def require_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            ok, account = token_account(header.removeprefix("Bearer ").strip(), token)
            if ok:
                return await enter(request, account, call_next)
        given = request.query_params.get("token")
        if given is not None:
            ok, account = token_account(given, token)
            if not ok:
                return _refused(request, "That access token is not the right one.")
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = local_path(request.url.path) + (f"?{urlencode(rest)}" if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            value = session_value(given, secret, int(clock()), account)
            redirect.set_cookie(COOKIE, value, max_age=COOKIE_DAYS * 86400, httponly=True, samesite="lax", path="/")
            return redirect
        ok, account = session_account(request.cookies.get(COOKIE, ""), token, secret, clock())
        if ok:
            return await enter(request, account, call_next)
        return _refused(request, "This octoscope needs its access token.")


def _forbidden(request: Request, account: str) -> Response:
    message = f"this access token is for account {account} only: open /a/{account}/"
    if _wants_html(request):
        return HTMLResponse(f"<!doctype html><title>octoscope</title><p>{escape(message)}</p>", status_code=403)
    return JSONResponse({"detail": message}, status_code=403)


def _refused(request: Request, message: str) -> Response:
    if _wants_html(request):
        page = LOGIN_PAGE.format(message=escape(message), action=escape(local_path(request.url.path)))
        return HTMLResponse(page, status_code=401)
    return JSONResponse({"detail": NEEDED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
