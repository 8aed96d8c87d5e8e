"""What keeps ``octoscope serve`` safe on a home network, around the access token (``auth``): one Host
allow-list, one Origin / Sec-Fetch-Site policy, and the security headers on every answer.

- **Host**: a page on another web site can point its own name at 127.0.0.1 (DNS rebinding) and then read
  the API as if it were the same site; the browser still sends that name as ``Host``. Only names this
  server is known by are answered: ``localhost`` (and ``*.localhost``), any IP address (a rebinding needs a
  name), this machine's host name (and ``<name>.local``), and the names given with ``--allow-host`` or
  ``[web] allowed_hosts`` (a name behind a reverse proxy). Anything else gets a 400 that says how to add it.
- **Origin**: a browser sends ``Origin`` and ``Sec-Fetch-Site`` with every request a page makes. A request
  that changes state or spends the Octopus budget (every method but GET, HEAD and OPTIONS), and any script's
  request to ``/api``, must come from this server's own pages: a foreign ``Origin``, ``Origin: null``, or
  ``Sec-Fetch-Site`` other than ``same-origin``/``none`` is refused with a 403 (the live stream starts a
  poller that spends budget: a link from another site to ``/api`` is refused too). Following a link to a
  dashboard page is not refused. A client that is not a browser (curl, a script) sends neither header and
  is judged by the token alone.
- **Headers**: a Content-Security-Policy that allows only this server's own scripts and no framing
  (``frame-ancestors 'none'``), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (an
  address may hold ``?token=``), and the same-origin opener and resource policies.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import math
import os
import re
import secrets
import socket
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from octoscope.config import ALLOWED_HOST_CHARS
from octoscope.domain.validation import BadValue

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MIN_TOKEN_CHARS = 16
MIN_TOKEN_BITS = 64.0  # of Shannon entropy over the token's own characters
SECRET_BYTES = 32

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The API docs page (Swagger UI) starts itself with an inline script; its files are still ours.
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
DOCS_PATHS = ("/docs",)
# ReDoc (/redoc) searches in a worker it starts from a blob: of its own script.
REDOC_CSP = PAGE_CSP + "; worker-src 'self' blob:"
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def check_token(token: str) -> str:
    """An access token worth the name: no spaces around it, 16 characters or more, and not guessable from a
    few repeated characters (at least 64 bits by the count of its own characters)."""
    if not token.strip():
        raise BadValue("the access token is empty or only spaces; `octoscope serve --new-token` makes one")
    if token != token.strip() or any(c.isspace() or ord(c) < 32 for c in token):
        raise BadValue("the access token has spaces or control characters in it; give it without them")
    if len(token) < MIN_TOKEN_CHARS:
        raise BadValue(
            f"an access token needs {MIN_TOKEN_CHARS} characters or more (this one has {len(token)});"
            " `octoscope serve --new-token` makes one"
        )
    counts = Counter(token)
    bits = -sum(n * math.log2(n / len(token)) for n in counts.values())
    if bits < MIN_TOKEN_BITS:
        raise BadValue(
            "the access token is too easy to guess (too few different characters);"
            " `octoscope serve --new-token` makes a random one"
        )
    return token


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or an allow-list entry, lower case, without its port."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8000
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check_allowed_host(entry: str) -> str:
    """An ``--allow-host`` entry: a host name (``octo.example``), a domain and its subdomains
    (``.home.arpa``) or ``*`` (every name: only behind a proxy that checks the name itself)."""
    name = entry.strip().lower()
    bare = name.removeprefix(".")
    if name == "*":
        return name
    if not bare or any(c not in ALLOWED_HOST_CHARS for c in bare) or ".." in bare:
        raise BadValue(
            f"allowed host {entry!r} is not a host name; give a name like octo.example or .home.arpa, no port"
        )
    return name


@dataclass(frozen=True)
class HostPolicy:
    """The names this server answers to (see the module docstring)."""

    allowed: tuple[str, ...] = ()  # checked entries: names, ".domain" suffixes, or "*"
    own: frozenset[str] = frozenset({"localhost"})  # this machine's names, found once at start-up

    @classmethod
    def of(cls, allowed: Iterable[str]) -> HostPolicy:
        name = socket.gethostname().lower()
        own = frozenset({"localhost", name, f"{name}.local", socket.getfqdn().lower()})
        return cls(tuple(check_allowed_host(h) for h in allowed), own)

    def explicitly_allowed(self, name: str) -> bool:
        return any(name == h or (h.startswith(".") and (name.endswith(h) or name == h[1:])) for h in self.allowed)

    def allows(self, name: str) -> bool:
        if "*" in self.allowed or _is_ip(name) or name.endswith(".localhost"):
            return True
        return name in self.own or self.explicitly_allowed(name)


def _origin_is_own(origin: str, host: str, policy: HostPolicy) -> bool:
    """Whether a browser's ``Origin`` is this server: the same host and port the request was sent to, or a
    name given with ``--allow-host`` (a reverse proxy that rewrites ``Host``)."""
    if origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if parts.netloc.lower() == host.strip().lower():
        return True
    return bool(parts.hostname) and policy.explicitly_allowed(parts.hostname or "")


class SecurityMiddleware:
    """The Host allow-list, the Origin policy and the security headers, in front of everything else (the
    token guard included, so that its answers carry the headers too)."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        path: str = scope.get("path", "")
        csp = (DOCS_CSP if path in DOCS_PATHS else REDOC_CSP if path == "/redoc" else PAGE_CSP).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in have]
                if b"content-security-policy" not in have:
                    extra.append((b"content-security-policy", csp))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if refusal is None:
            await self.app(scope, receive, with_headers)
            return
        status, detail = refusal
        body = json.dumps({"detail": detail}).encode()
        await with_headers(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await with_headers({"type": "http.response.body", "body": body})

    def refusal(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        host = headers.get("host", "")
        name = host_name(host)
        if not name or not self.policy.allows(name):
            shown = host[:100]
            return 400, (
                f"this octoscope does not answer to the host name {shown!r}; if it is yours, start it with"
                f" --allow-host {name or 'NAME'} (or [web] allowed_hosts in the config file)"
            )
        method = scope.get("method", "GET")
        path: str = scope.get("path", "")
        origin = headers.get("origin")
        site = headers.get("sec-fetch-site")
        # An account's API (/a/NUMBER/api/...) is the API too.
        guarded = method not in SAFE_METHODS or path.startswith("/api/") or ACCOUNT_API.match(path) is not None
        if not guarded:
            return None
        if origin is not None and not _origin_is_own(origin, host, self.policy):
            return 403, (
                f"a request from another site ({origin[:100]}) is refused: octoscope's API answers its own pages"
                " only (behind a proxy, give its name with --allow-host)"
            )
        if site is not None and site not in ("same-origin", "none"):
            return 403, f"a {site} request is refused: octoscope's API answers its own pages only"
        return None


ACCOUNT_API = re.compile(r"^/a/[^/]+/api/")


def session_secret(path: Path, *, rotate: bool = False) -> bytes:
    """The server's session secret, kept in ``path`` (readable by its owner only) so that browsers stay
    signed in across restarts; made on first use, and made anew with ``rotate``, which signs out every
    browser at once (the cookies are keyed by it)."""
    if not rotate:
        with contextlib.suppress(FileNotFoundError):
            secret = bytes.fromhex(path.read_text().strip())
            if len(secret) >= SECRET_BYTES:
                return secret
    secret = secrets.token_bytes(SECRET_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret.hex())
    temp.replace(path)
    return secret
