"""One HTTP exchange with Octopus, classified: the JSON body, or the error that says what to do.

Shared by the REST and GraphQL clients, which differ only in how they ask and what a 200 can mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from octoscope import __version__
from octoscope.octopus.errors import (
    CredentialsRejected,
    NotFound,
    RateLimited,
    RequestRejected,
    TemporarilyUnavailable,
    UnexpectedResponse,
)
from octoscope.retry import retry_after_seconds

__all__ = ["USER_AGENT", "exchange", "new_http_client", "retry_after_seconds"]

USER_AGENT = f"octoscope/{__version__}"
KEY_HINT = "check OCTOSCOPE_API_KEY (or run `octoscope init`); the key is on your Octopus account's API access page"


def new_http_client(timeout_seconds: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """``transport``: a unit test's ``httpx.MockTransport``; by default the network."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        transport=transport,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
    )


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        parts = [f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items()]
        return "; ".join(parts)
    return str(body)[:200]


def _is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return "html" in kind or response.content.lstrip()[:1] == b"<"


async def exchange(http: httpx.AsyncClient, request: httpx.Request, what: str, clock: Callable[[], float]) -> Any:
    """Send ``request`` and return its JSON body, or raise the error that names the way forward; ``clock``
    reads a ``Retry-After`` given as a date."""
    try:
        response = await http.send(request)
    except httpx.TimeoutException:
        raise TemporarilyUnavailable(f"{what}: Octopus did not answer in time") from None
    except httpx.TransportError as err:
        # Where, not the whole URL: its query may carry an account number, never more; no credential is in it.
        where = f"{request.url.scheme}://{request.url.netloc.decode()}"
        hint = "is api_url (or graphql_url) right, and is the network up?"
        raise TemporarilyUnavailable(f"{what}: cannot reach {where} ({type(err).__name__}): {hint}") from None
    status = response.status_code
    wait = retry_after_seconds(response.headers.get("retry-after"), clock())
    if status == 429:
        raise RateLimited(f"{what}: HTTP 429, too many requests", wait)
    if status >= 500:
        raise TemporarilyUnavailable(f"{what}: HTTP {status} from Octopus", wait)
    html = _is_html(response)
    if status == 403 and html:
        # The edge's HTML page: a temporary block of this address, not a verdict on the key.
        raise TemporarilyUnavailable(
            f"{what}: HTTP 403 page from Octopus's edge (a temporary block)", wait, blocked=True
        )
    if html:
        if status == 404:
            raise NotFound(f"{what}: not found (HTTP 404 page); check the account number and OCTOSCOPE_API_URL")
        raise UnexpectedResponse(
            f"{what}: got an HTML page (HTTP {status}) where JSON was due; check OCTOSCOPE_API_URL / graphql_url"
        )
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        if status == 200:
            # A body cut short in transit; asking again gets the whole of it.
            raise TemporarilyUnavailable(f"{what}: the answer was cut short (truncated JSON)") from None
        raise UnexpectedResponse(f"{what}: HTTP {status} with a body that is not JSON") from None
    if status == 401:
        raise CredentialsRejected(f"{what}: the API key was refused ({_detail(body)}); {KEY_HINT}", "api_key")
    if status == 403:
        raise CredentialsRejected(
            f"{what}: the API key may not read this ({_detail(body)}); check that OCTOSCOPE_ACCOUNT is the account"
            " the key belongs to",
            "account",
        )
    if status == 404:
        raise NotFound(f"{what}: not found ({_detail(body)})")
    if status == 400:
        raise RequestRejected(f"{what}: Octopus refused the request ({_detail(body)})")
    if status >= 300:
        raise UnexpectedResponse(f"{what}: unexpected HTTP {status}")
    return body
