"""One HTTP exchange classified: each failure mode of the API (shared/octopus-api/README.md §1, §7) as its error.

Only the transport is fake (``httpx.MockTransport``); the bodies are the sanitised payloads in tests/fixtures.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from octoscope import __version__
from octoscope.clock import Clock, frozen
from octoscope.octopus.errors import (
    CredentialsRejected,
    NotFound,
    OctopusError,
    RateLimited,
    RequestRejected,
    Retryable,
    TemporarilyUnavailable,
    UnexpectedResponse,
)
from octoscope.octopus.http import USER_AGENT, exchange, new_http_client, retry_after_seconds
from tests.conftest import load_fixture

NOW = 1_792_000_000.0  # any fixed instant: these tests read Retry-After against it

KEY = "sk_live_http0123456789abcdefTEST"
URL = "https://api.octopus.energy/v1/accounts/A-0000FEED/"
NGINX_403 = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
CLOUDFRONT_403 = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n'
    "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>\n"
    "<H1>403 ERROR</H1><H2>The request could not be satisfied.</H2></BODY></HTML>"
)
HTML_404 = "<!doctype html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body), headers={"content-type": "application/json", **headers})


def html_response(status: int, body: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, text=body, headers={"content-type": "text/html", **headers})


def basic_credentials() -> str:
    return base64.b64encode(f"{KEY}:".encode()).decode()


def assert_key_hidden(err: BaseException) -> None:
    """Neither the key nor its Basic-auth form shows in the error or anything chained to it."""
    basic = basic_credentials()
    seen: BaseException | None = err
    while seen is not None:
        for text in (str(seen), repr(seen), *map(str, seen.args)):
            assert KEY not in text
            assert basic not in text
        # What a traceback shows: the cause, or the context unless it was suppressed with ``from None``.
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


def exchange_with(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    """Run one ``exchange`` of a GET (with the key as Basic auth, as the REST client sends it)."""

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            request = http.build_request("GET", URL, headers={"Authorization": f"Basic {basic_credentials()}"})
            return await exchange(http, request, "account A-0000FEED", lambda: NOW)

    return asyncio.run(go())


def failure(handler: Callable[[httpx.Request], httpx.Response]) -> OctopusError:
    with pytest.raises(OctopusError) as caught:
        exchange_with(handler)
    err = caught.value
    assert_key_hidden(err)
    assert "\n" not in str(err), "messages are one line"
    return err


# --- success -------------------------------------------------------------------------------------------


def test_json_200_is_returned_as_parsed_body() -> None:
    body = load_fixture("account.json")
    assert exchange_with(lambda request: json_response(200, body)) == body


def test_json_200_without_content_type_is_still_json() -> None:
    body = load_fixture("consumption-empty.json")
    assert exchange_with(lambda request: httpx.Response(200, content=orjson.dumps(body))) == body


# --- credentials: fatal, and naming the setting to fix --------------------------------------------------


@pytest.mark.parametrize("fixture", ["error-401-invalid-api-key.json", "error-401-no-credentials.json"])
def test_json_401_rejects_the_api_key(fixture: str) -> None:
    err = failure(
        lambda request: json_response(401, load_fixture(fixture), **{"www-authenticate": 'Basic realm="api"'})
    )
    assert isinstance(err, CredentialsRejected)
    assert not isinstance(err, Retryable)
    assert err.credential == "api_key"
    assert "OCTOSCOPE_API_KEY" in str(err)
    detail = load_fixture(fixture)["detail"]  # type: ignore[index]
    assert detail in str(err)


def test_json_403_names_the_account_not_the_key() -> None:
    err = failure(lambda request: json_response(403, load_fixture("error-403-permission-denied.json")))
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "account"
    assert "OCTOSCOPE_ACCOUNT" in str(err)
    assert "You do not have permission to perform this action." in str(err)


@pytest.mark.parametrize("page", [NGINX_403, CLOUDFRONT_403], ids=["nginx", "cloudfront"])
def test_html_403_from_the_edge_is_a_temporary_block(page: str) -> None:
    err = failure(lambda request: html_response(403, page))
    assert isinstance(err, TemporarilyUnavailable)
    assert not isinstance(err, CredentialsRejected)
    assert "403" in str(err)


def test_html_403_without_content_type_is_still_the_edge_page() -> None:
    err = failure(lambda request: httpx.Response(403, text=NGINX_403))
    assert isinstance(err, TemporarilyUnavailable)


# --- not found, bad requests ------------------------------------------------------------------------------


def test_json_404_is_not_found() -> None:
    err = failure(lambda request: json_response(404, load_fixture("error-404-not-found.json")))
    assert isinstance(err, NotFound)
    assert not isinstance(err, Retryable)
    assert "Not found." in str(err)


def test_html_404_is_not_found() -> None:
    # A malformed account number gets Django's HTML 404 page, not JSON.
    err = failure(lambda request: html_response(404, HTML_404))
    assert isinstance(err, NotFound)
    assert not isinstance(err, Retryable)


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("error-400-period-from-after-period-to.json", "Must not be greater than `period_to`."),
        ("error-400-period-to-without-period-from.json", "This field is required when providing a `period_to`."),
        ("error-400-invalid-datetime.json", "Enter a valid date/time."),
    ],
)
def test_400_field_errors_are_named(fixture: str, words: str) -> None:
    err = failure(lambda request: json_response(400, load_fixture(fixture)))
    assert isinstance(err, RequestRejected)
    assert not isinstance(err, Retryable)
    assert "period_from" in str(err)
    assert words in str(err)


# --- rate limits and server trouble: worth retrying -------------------------------------------------------


def test_429_with_retry_after_in_seconds() -> None:
    err = failure(lambda request: json_response(429, {"detail": "Request was throttled."}, **{"retry-after": "120"}))
    assert isinstance(err, RateLimited)
    assert err.retry_after == 120.0


def test_429_with_retry_after_as_an_http_date() -> None:
    when = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=90)
    header = email.utils.format_datetime(when, usegmt=True)
    err = failure(lambda request: json_response(429, {"detail": "Request was throttled."}, **{"retry-after": header}))
    assert isinstance(err, RateLimited)
    assert err.retry_after is not None
    assert err.retry_after == 90.0


def test_429_without_retry_after_has_no_server_wait() -> None:
    err = failure(lambda request: json_response(429, {"detail": "Request was throttled."}))
    assert isinstance(err, RateLimited)
    assert err.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_temporary(status: int) -> None:
    err = failure(lambda request: html_response(status, f"<html><body>{status} Bad Gateway</body></html>"))
    assert isinstance(err, TemporarilyUnavailable)
    assert str(status) in str(err)


def test_503_keeps_its_retry_after() -> None:
    err = failure(lambda request: httpx.Response(503, text="down for maintenance", headers={"retry-after": "30"}))
    assert isinstance(err, TemporarilyUnavailable)
    assert err.retry_after == 30.0


def raiser(exc: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(f"simulated {exc.__name__} talking to {request.url.host}", request=request)

    return handler


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout])
def test_timeouts_are_temporary(exc: type[httpx.TransportError]) -> None:
    err = failure(raiser(exc))
    assert isinstance(err, TemporarilyUnavailable)
    assert "in time" in str(err)


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError])
def test_connection_errors_are_temporary(exc: type[httpx.TransportError]) -> None:
    err = failure(raiser(exc))
    assert isinstance(err, TemporarilyUnavailable)
    # Where it could not reach and which setting to look at; not the path or query (they carry the account).
    assert f"cannot reach https://api.octopus.energy ({exc.__name__}): is api_url" in str(err)
    assert "/v1/" not in str(err)


def test_truncated_json_on_200_is_temporary() -> None:
    whole = orjson.dumps(load_fixture("consumption-electricity-page1.json"))
    err = failure(lambda request: httpx.Response(200, content=whole[: len(whole) // 2]))
    assert isinstance(err, TemporarilyUnavailable)
    assert "truncated" in str(err)


# --- answers we cannot use: not retried -----------------------------------------------------------------


def test_html_200_where_json_was_due_is_unexpected_not_temporary() -> None:
    err = failure(lambda request: html_response(200, "<!doctype html><html><body>Octopus Energy</body></html>"))
    assert isinstance(err, UnexpectedResponse)
    assert not isinstance(err, Retryable)


def test_non_json_error_body_is_unexpected() -> None:
    err = failure(lambda request: httpx.Response(418, text="I'm a teapot"))
    assert isinstance(err, UnexpectedResponse)


def test_redirect_is_not_followed_and_is_unexpected() -> None:
    # Following a redirect elsewhere could carry the key away; the exchange must not return its body.
    err = failure(lambda request: json_response(302, {}, location="https://elsewhere.example/"))
    assert isinstance(err, UnexpectedResponse)


# --- Retry-After parsing ------------------------------------------------------------------------------


def test_retry_after_seconds_reads_delay_seconds() -> None:
    assert retry_after_seconds("120", NOW) == 120.0
    assert retry_after_seconds(" 7 ", NOW) == 7.0
    assert retry_after_seconds("0", NOW) == 0.0


def test_retry_after_seconds_reads_an_http_date_against_now() -> None:
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    header = email.utils.format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert header == "Wed, 21 Oct 2026 07:29:30 GMT"
    assert retry_after_seconds(header, now=now.timestamp()) == 90.0


def test_a_retry_after_date_is_read_on_the_callers_clock() -> None:
    header = "Wed, 21 Oct 2026 07:38:00 GMT"
    for clock in (frozen("2026-10-21T07:28:00Z"), frozen("2026-10-21T07:37:00Z")):

        def handler(request: httpx.Request, header: str = header) -> httpx.Response:
            return httpx.Response(429, headers={"Retry-After": header}, json={"detail": "throttled"})

        async def go(clock: Clock = clock) -> None:
            async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
                await exchange(http, http.build_request("GET", URL), "probe", clock)

        with pytest.raises(RateLimited) as caught:
            asyncio.run(go())
        assert caught.value.retry_after == clock.now().replace(minute=38).timestamp() - clock()


def test_retry_after_in_the_past_means_now() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5e3"])
def test_retry_after_that_cannot_be_read_is_none(value: str | None) -> None:
    assert retry_after_seconds(value, NOW) is None


# --- the HTTP pool --------------------------------------------------------------------------------------


def test_the_pool_identifies_itself_and_sends_it() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {})

    async def go() -> None:
        async with new_http_client(5.0) as http:
            assert http.headers["user-agent"] == f"octoscope/{__version__}"
            assert http.timeout.read == 5.0
            http._transport = httpx.MockTransport(handler)  # only the transport is swapped
            await exchange(http, http.build_request("GET", URL), "probe", lambda: NOW)

    asyncio.run(go())
    assert f"octoscope/{__version__}" == USER_AGENT
    assert seen[0].headers["user-agent"] == f"octoscope/{__version__}"
