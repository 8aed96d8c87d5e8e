"""The GraphQL client: tokens obtained, kept, renewed and replaced; Kraken error codes inside HTTP 200 classified.

A scripted Kraken sits behind ``httpx.MockTransport``; token mutations and queries are answered from separate
scripts so that a test reads as the conversation it expects.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from octoscope import __version__
from octoscope.domain.models import IssuedToken
from octoscope.domain.secret import Secret
from octoscope.octopus.errors import (
    CredentialsRejected,
    GaveUp,
    NotFound,
    OctopusError,
    UnexpectedResponse,
)
from octoscope.octopus.graphql import GraphQLClient, GraphQLError, TokenVault
from octoscope.octopus.http import new_http_client
from octoscope.octopus.policy import RequestPolicy, key_fingerprint
from octoscope.store.sqlite import Store
from tests.conftest import load_fixture
from tests.octopus.fakes import FakeTime, MemoryLedger

KEY = "sk_live_gql0123456789abcdefTEST"
KEY_ID = key_fingerprint(KEY)
URL = "https://api.octopus.energy/v1/graphql/"
VIEWER = "query Viewer { viewer { accounts { number } } }"
VIEWER_DATA = {"data": {"viewer": {"accounts": [{"number": "A-0000FEED"}]}}}

TOKEN_BODY: dict[str, Any] = load_fixture("graphql-obtain-token.json")  # type: ignore[assignment]
FIRST_TOKEN = TOKEN_BODY["data"]["obtainKrakenToken"]["token"]
FIRST_REFRESH = TOKEN_BODY["data"]["obtainKrakenToken"]["refreshToken"]
ISSUED_AT = TOKEN_BODY["data"]["obtainKrakenToken"]["payload"]["iat"]
EXPIRES_AT = TOKEN_BODY["data"]["obtainKrakenToken"]["payload"]["exp"]
REFRESH_EXPIRES_AT = TOKEN_BODY["data"]["obtainKrakenToken"]["refreshExpiresIn"]
T = TypeVar("T")

Answer = Callable[[httpx.Request], httpx.Response]


def json_(body: Any, status: int = 200) -> Answer:
    return lambda request: httpx.Response(
        status, content=orjson.dumps(body), headers={"content-type": "application/json"}
    )


def fixture(name: str) -> Answer:
    return json_(load_fixture(name))


def token_answer(token: str, refresh: str, issued: int) -> Answer:
    body = copy.deepcopy(TOKEN_BODY)
    issued_token = body["data"]["obtainKrakenToken"]
    issued_token["token"] = token
    issued_token["refreshToken"] = refresh
    issued_token["payload"]["iat"] = issued
    issued_token["payload"]["exp"] = issued + 3600
    issued_token["refreshExpiresIn"] = issued + 7 * 86400
    return json_(body)


def html(status: int, page: str) -> Answer:
    return lambda request: httpx.Response(status, text=page, headers={"content-type": "text/html"})


class Kraken:
    """Answers token mutations and queries from two scripts (the last answer of each repeats)."""

    def __init__(self, tokens: list[Answer] | None = None, answers: list[Answer] | None = None) -> None:
        self.tokens = tokens or [fixture("graphql-obtain-token.json")]
        self.answers = answers or [json_(VIEWER_DATA)]
        self.token_inputs: list[dict[str, Any]] = []
        self.token_requests: list[httpx.Request] = []
        self.queries: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        if "obtainKrakenToken" in body["query"]:
            self.token_requests.append(request)
            self.token_inputs.append(body["variables"]["input"])
            script = self.tokens
        else:
            self.queries.append(request)
            script = self.answers
        answer = script.pop(0) if len(script) > 1 else script[0]
        return answer(request)

    def authorizations(self) -> list[str | None]:
        return [r.headers.get("authorization") for r in self.queries]


class MemoryVault:
    def __init__(self, token: IssuedToken | None = None) -> None:
        self.tokens: dict[str, IssuedToken] = {KEY_ID: token} if token else {}
        self.saves = 0

    def load_token(self, key_id: str) -> IssuedToken | None:
        return self.tokens.get(key_id)

    def save_token(self, key_id: str, token: IssuedToken) -> None:
        self.saves += 1
        self.tokens[key_id] = token

    def forget_token(self, key_id: str) -> None:
        self.tokens.pop(key_id, None)


def make_policy(fake: FakeTime, attempts: int) -> RequestPolicy:
    return RequestPolicy(
        KEY_ID,
        MemoryLedger(),
        {"rest": 1000, "graphql": 1000},
        attempts=attempts,
        cap_seconds=8.0,
        clock=fake.clock,
        sleep=fake.sleep,
        rng=random.Random(3),
    )


def run(
    kraken: Kraken,
    use: Callable[[GraphQLClient], Awaitable[T]],
    *,
    vault: TokenVault | None = None,
    fake: FakeTime | None = None,
    attempts: int = 3,
) -> T:
    fake = fake or FakeTime(ISSUED_AT + 60)
    vault = vault if vault is not None else MemoryVault()

    async def go() -> T:
        async with httpx.AsyncClient(transport=httpx.MockTransport(kraken)) as http:
            client = GraphQLClient(http, URL, Secret(KEY), make_policy(fake, attempts), vault, clock=fake.clock)
            return await use(client)

    return asyncio.run(go())


async def viewer(client: GraphQLClient) -> dict[str, Any]:
    return await client.query(VIEWER, {}, "viewer")


def assert_key_hidden(err: BaseException) -> None:
    seen: BaseException | None = err
    while seen is not None:
        for text in (str(seen), repr(seen), *map(str, seen.args)):
            assert KEY not in text
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


def failure(kraken: Kraken, use: Callable[[GraphQLClient], Awaitable[Any]], **kwargs: Any) -> OctopusError:
    with pytest.raises(OctopusError) as caught:
        run(kraken, use, **kwargs)
    assert_key_hidden(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


# --- tokens ------------------------------------------------------------------------------------------------


def test_a_token_is_obtained_with_the_key_and_sent_raw_on_queries() -> None:
    kraken = Kraken()
    assert run(kraken, viewer) == VIEWER_DATA["data"]
    assert kraken.token_inputs == [{"APIKey": KEY}]
    assert "authorization" not in kraken.token_requests[0].headers
    assert kraken.authorizations() == [FIRST_TOKEN]  # the raw token: no Bearer, no JWT prefix
    (request,) = kraken.queries
    assert request.method == "POST"
    assert str(request.url) == URL
    assert KEY not in request.content.decode()
    assert KEY not in str(request.headers)


def test_the_query_travels_as_json_with_variables() -> None:
    kraken = Kraken()

    async def use(client: GraphQLClient) -> dict[str, Any]:
        return await client.query("query Q($n: String!) { account(accountNumber: $n) { number } }", {"n": "X"}, "q")

    run(kraken, use)
    body = orjson.loads(kraken.queries[0].content)
    assert body["variables"] == {"n": "X"}
    assert kraken.queries[0].headers["content-type"] == "application/json"


def test_the_token_is_kept_in_the_vault_and_reused_while_valid(tmp_path: Path) -> None:
    kraken = Kraken()
    fake = FakeTime(ISSUED_AT + 60)
    with Store.open(tmp_path / "octoscope.db") as store:

        async def twice(client: GraphQLClient) -> None:
            await viewer(client)
            await viewer(client)

        obtained_at = fake.now
        run(kraken, twice, vault=store, fake=fake)
        stored = store.load_token(KEY_ID)
        assert stored == IssuedToken(
            FIRST_TOKEN,
            obtained_at + EXPIRES_AT - ISSUED_AT,
            FIRST_REFRESH,
            obtained_at + REFRESH_EXPIRES_AT - ISSUED_AT,
        )

        fake.now += 1800  # half an hour later, a new process: the stored token is still good
        run(kraken, viewer, vault=store, fake=fake)

    assert len(kraken.token_inputs) == 1, "no new obtainKrakenToken while the stored token is valid"
    assert kraken.authorizations() == [FIRST_TOKEN] * 3


def test_concurrent_queries_share_one_new_token() -> None:
    kraken = Kraken()

    async def together(client: GraphQLClient) -> list[dict[str, Any]]:
        return await asyncio.gather(*(viewer(client) for _ in range(4)))

    assert run(kraken, together) == [VIEWER_DATA["data"]] * 4
    assert len(kraken.token_inputs) == 1
    assert kraken.authorizations() == [FIRST_TOKEN] * 4


def test_a_token_about_to_expire_is_renewed_with_the_refresh_token() -> None:
    fake = FakeTime(ISSUED_AT + 60)
    vault = MemoryVault(IssuedToken("old-token", fake.now + 200, "refresh-1", fake.now + 86400))
    kraken = Kraken(tokens=[token_answer("new-token", "refresh-2", int(fake.now))])
    run(kraken, viewer, vault=vault, fake=fake)
    assert kraken.token_inputs == [{"refreshToken": "refresh-1"}]
    assert kraken.authorizations() == ["new-token"]
    assert vault.tokens[KEY_ID].token == "new-token"
    assert vault.tokens[KEY_ID].refresh_token == "refresh-2"


def test_a_stored_token_with_an_expired_refresh_token_is_replaced_using_the_key() -> None:
    fake = FakeTime(ISSUED_AT + 60)
    vault = MemoryVault(IssuedToken("old-token", fake.now - 10, "refresh-1", fake.now - 5))
    kraken = Kraken()
    run(kraken, viewer, vault=vault, fake=fake)
    assert kraken.token_inputs == [{"APIKey": KEY}]
    assert kraken.authorizations() == [FIRST_TOKEN]


def test_expired_token_kt_ct_1124_is_renewed_and_the_query_retried() -> None:
    fake = FakeTime(ISSUED_AT + 60)
    kraken = Kraken(
        tokens=[fixture("graphql-obtain-token.json"), token_answer("renewed-token", "refresh-2", int(fake.now))],
        answers=[fixture("graphql-token-expired.json"), json_(VIEWER_DATA)],
    )
    vault = MemoryVault()
    assert run(kraken, viewer, vault=vault, fake=fake) == VIEWER_DATA["data"]
    assert kraken.token_inputs == [{"APIKey": KEY}, {"refreshToken": FIRST_REFRESH}]
    assert kraken.authorizations() == [FIRST_TOKEN, "renewed-token"]
    assert vault.tokens[KEY_ID].token == "renewed-token"


def test_refresh_token_refused_kt_ct_1134_falls_back_to_the_api_key() -> None:
    fake = FakeTime(ISSUED_AT + 60)
    vault = MemoryVault(IssuedToken("stale-token", fake.now - 60, "refresh-old", fake.now + 3600))
    kraken = Kraken(
        tokens=[
            fixture("graphql-refresh-token-expired.json"),
            token_answer("fresh-token", "refresh-new", int(fake.now)),
        ]
    )
    assert run(kraken, viewer, vault=vault, fake=fake) == VIEWER_DATA["data"]
    assert kraken.token_inputs == [{"refreshToken": "refresh-old"}, {"APIKey": KEY}]
    assert kraken.authorizations() == ["fresh-token"]
    assert vault.tokens[KEY_ID].refresh_token == "refresh-new"


def test_refresh_refused_and_key_refused_is_a_rejected_key() -> None:
    fake = FakeTime(ISSUED_AT + 60)
    vault = MemoryVault(IssuedToken("stale-token", fake.now - 60, "refresh-old", fake.now + 3600))
    kraken = Kraken(
        tokens=[fixture("graphql-refresh-token-expired.json"), fixture("graphql-obtain-token-invalid-api-key.json")]
    )
    err = failure(kraken, viewer, vault=vault, fake=fake)
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "api_key"
    assert kraken.queries == []


def test_invalid_api_key_kt_ct_1139_is_fatal_and_not_retried() -> None:
    kraken = Kraken(tokens=[fixture("graphql-obtain-token-invalid-api-key.json")])
    fake = FakeTime(ISSUED_AT + 60)
    err = failure(kraken, viewer, fake=fake)
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "api_key"
    assert "OCTOSCOPE_API_KEY" in str(err)
    assert len(kraken.token_requests) == 1
    assert fake.sleeps == []
    assert kraken.queries == []


def test_token_lifetimes_are_measured_on_our_clock() -> None:
    # exp - iat is the lifetime (an hour); refreshExpiresIn is an instant on Octopus's clock, not a duration.
    fake = FakeTime(now=ISSUED_AT + 2 * 86400)  # a local clock two days ahead of Octopus's
    vault = MemoryVault()

    async def twice(client: GraphQLClient) -> None:
        await viewer(client)
        fake.now += 1800
        await viewer(client)

    kraken = Kraken()
    run(kraken, twice, vault=vault, fake=fake)
    token = vault.tokens[KEY_ID]
    assert token.expires_at == ISSUED_AT + 2 * 86400 + 3600
    assert token.refresh_expires_at == ISSUED_AT + 2 * 86400 + (REFRESH_EXPIRES_AT - ISSUED_AT)
    assert len(kraken.token_inputs) == 1, "a skewed clock must not make a fresh token look expired"


def test_token_response_missing_the_token_names_the_field() -> None:
    body = copy.deepcopy(TOKEN_BODY)
    del body["data"]["obtainKrakenToken"]["token"]
    err = failure(Kraken(tokens=[json_(body)]), viewer)
    assert isinstance(err, UnexpectedResponse)
    assert "obtainKrakenToken.token" in str(err)


# --- rate limits inside HTTP 200 ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["graphql-rate-limited.json", "graphql-telemetry-rate-limited.json"])
def test_rate_limit_codes_inside_http_200_are_retried_after_a_pause(name: str) -> None:
    fake = FakeTime(ISSUED_AT + 60)
    kraken = Kraken(answers=[fixture(name), json_(VIEWER_DATA)])
    assert run(kraken, viewer, fake=fake) == VIEWER_DATA["data"]
    assert len(kraken.queries) == 2
    assert len(fake.sleeps) == 1
    assert fake.sleeps[0] > 0


@pytest.mark.parametrize("name", ["graphql-rate-limited.json", "graphql-telemetry-rate-limited.json"])
def test_a_lasting_rate_limit_gives_up_after_the_configured_attempts(name: str) -> None:
    kraken = Kraken(answers=[fixture(name)])
    err = failure(kraken, viewer, attempts=4)
    assert isinstance(err, GaveUp)
    assert not isinstance(err, CredentialsRejected)
    assert len(kraken.queries) == 4


def test_a_rate_limit_on_obtaining_the_token_is_not_a_bad_key() -> None:
    kraken = Kraken(tokens=[fixture("graphql-rate-limited.json"), fixture("graphql-obtain-token.json")])
    assert run(kraken, viewer) == VIEWER_DATA["data"]
    assert kraken.token_inputs == [{"APIKey": KEY}, {"APIKey": KEY}]


# --- other errors --------------------------------------------------------------------------------------------


def test_a_token_no_longer_accepted_is_renewed_once_then_the_key_is_blamed() -> None:
    # KT-CT-1143: the stored token is not a valid credential (say, it was revoked). A fresh one is asked for;
    # if that is refused too, the key is at fault.
    kraken = Kraken(answers=[fixture("graphql-authorization-invalid.json")] * 2)
    err = failure(kraken, viewer)
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "api_key"
    assert len(kraken.queries) == 2


@pytest.mark.parametrize("name", ["graphql-unauthorized.json", "graphql-authorization-header-missing.json"])
def test_authorization_errors_in_a_query_reject_the_credentials(name: str) -> None:
    kraken = Kraken(answers=[fixture(name)])
    err = failure(kraken, viewer)
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "api_key"
    assert len(kraken.queries) == 1


def test_unknown_device_is_not_found() -> None:
    error = {
        "errors": [
            {
                "message": "Unable to find device for given account.",
                "path": ["devices"],
                "extensions": {"errorType": "NOT_FOUND", "errorCode": "KT-CT-4301", "errorDescription": ""},
            }
        ],
        "data": {"devices": None},
    }
    err = failure(Kraken(answers=[json_(error)]), viewer)
    assert isinstance(err, NotFound)


def test_an_unknown_error_code_is_a_graphql_error_carrying_the_code() -> None:
    error = {
        "errors": [{"message": "Query complexity too high.", "extensions": {"errorCode": "KT-CT-1188"}}],
        "data": None,
    }
    err = failure(Kraken(answers=[json_(error)]), viewer)
    assert isinstance(err, GraphQLError)
    assert err.code == "KT-CT-1188"


def test_html_with_200_where_json_was_due_is_unexpected_and_not_retried() -> None:
    kraken = Kraken(answers=[html(200, "<!doctype html><html><body>Kraken</body></html>")])
    err = failure(kraken, viewer)
    assert isinstance(err, UnexpectedResponse)
    assert len(kraken.queries) == 1


def test_html_403_from_the_edge_is_retried() -> None:
    page = "<html><head><title>403 Forbidden</title></head><body><center>nginx</center></body></html>"
    kraken = Kraken(answers=[html(403, page), json_(VIEWER_DATA)])
    assert run(kraken, viewer) == VIEWER_DATA["data"]
    assert len(kraken.queries) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_give_up(status: int) -> None:
    kraken = Kraken(answers=[html(status, "<html>bad gateway</html>")])
    err = failure(kraken, viewer, attempts=3)
    assert isinstance(err, GaveUp)
    assert len(kraken.queries) == 3


def test_a_timeout_is_retried() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("simulated", request=request)

    kraken = Kraken(answers=[timeout, json_(VIEWER_DATA)])
    assert run(kraken, viewer) == VIEWER_DATA["data"]
    assert len(kraken.queries) == 2


def test_json_that_is_not_a_graphql_answer_is_unexpected() -> None:
    err = failure(Kraken(answers=[json_({"detail": "Not found."})]), viewer)
    assert isinstance(err, UnexpectedResponse)


def test_an_answer_without_data_is_unexpected() -> None:
    err = failure(Kraken(answers=[json_({"data": None})]), viewer)
    assert isinstance(err, UnexpectedResponse)


# --- account details: parsed at the boundary ----------------------------------------------------------------


def account_details_body() -> dict[str, Any]:
    return {
        "data": {
            "account": {
                "properties": [
                    {
                        "id": "9000002",
                        "electricityMeterPoints": [
                            {
                                "mpan": "1900000000001",
                                "direction": "IMPORT",
                                "meters": [
                                    {
                                        "serialNumber": "98L0000002",
                                        "activeFrom": "2023-06-15",
                                        "activeTo": "2026-03-28",
                                        "meterType": "S1",
                                        "smartImportElectricityMeter": None,
                                        "smartExportElectricityMeter": None,
                                    },
                                    {
                                        "serialNumber": "99L0000001",
                                        "activeFrom": "2026-03-29",
                                        "activeTo": None,
                                        "meterType": "S2AD",
                                        "smartImportElectricityMeter": {"deviceId": "00-00-00-FF-FE-00-00-01"},
                                        "smartExportElectricityMeter": None,
                                    },
                                ],
                                "agreements": [
                                    {
                                        "validFrom": "2024-10-14T23:00:00+00:00",
                                        "validTo": None,
                                        "tariff": {
                                            "__typename": "HalfHourlyTariff",
                                            "tariffCode": "E-1R-AGILE-24-10-01-J",
                                            "productCode": "AGILE-24-10-01",
                                            "fullName": "Agile Octopus October 2024 v1",
                                            "displayName": "Agile Octopus",
                                        },
                                    }
                                ],
                            }
                        ],
                        "gasMeterPoints": [
                            {
                                "mprn": "9000000001",
                                "meters": [
                                    {
                                        "serialNumber": "E6S99999999901",
                                        "activeFrom": "2023-06-15",
                                        "activeTo": None,
                                        "consumptionUnits": "m³",
                                        "mechanism": "S2",
                                        "smartGasMeter": {"deviceId": "00-00-00-FF-FE-00-00-02"},
                                    }
                                ],
                                "agreements": [],
                            }
                        ],
                    }
                ]
            },
            "devices": [],
        }
    }


async def details(client: GraphQLClient) -> Any:
    return await client.account_details("A-0000FEED")


def test_account_details_give_meter_dates_units_devices_and_tariff_kinds() -> None:
    found = run(Kraken(answers=[json_(account_details_body())]), details)
    old = found.meters[("1900000000001", "98L0000002")]
    new = found.meters[("1900000000001", "99L0000001")]
    assert (old.active_from, old.active_to) == (date(2023, 6, 15), date(2026, 3, 28))
    assert (new.active_from, new.active_to, new.device_id) == (date(2026, 3, 29), None, "00-00-00-FF-FE-00-00-01")
    gas = found.meters[("9000000001", "E6S99999999901")]
    assert gas.unit == "m³"
    assert gas.device_id == "00-00-00-FF-FE-00-00-02"
    assert found.tariffs["E-1R-AGILE-24-10-01-J"].kind == "HalfHourlyTariff"


def test_account_details_tolerate_a_missing_intelligent_device() -> None:
    body = account_details_body()
    body["data"]["devices"] = None
    body["errors"] = [
        {
            "message": "Unable to find device for given account.",
            "path": ["devices"],
            "extensions": {"errorType": "NOT_FOUND", "errorCode": "KT-CT-4301", "errorDescription": ""},
        }
    ]
    found = run(Kraken(answers=[json_(body)]), details)
    assert found.devices == ()
    assert ("9000000001", "E6S99999999901") in found.meters


def test_account_details_missing_a_serial_names_the_path() -> None:
    body = account_details_body()
    del body["data"]["account"]["properties"][0]["electricityMeterPoints"][0]["meters"][1]["serialNumber"]
    err = failure(Kraken(answers=[json_(body)]), details)
    assert isinstance(err, UnexpectedResponse)
    assert "account.properties[0].electricityMeterPoints[0].meters[1].serialNumber" in str(err)


def test_graphql_requests_carry_the_user_agent() -> None:
    kraken = Kraken()

    async def go() -> None:
        async with new_http_client(10.0) as http:
            http._transport = httpx.MockTransport(kraken)  # only the transport is fake
            fake = FakeTime(ISSUED_AT + 60)
            client = GraphQLClient(http, URL, Secret(KEY), make_policy(fake, 3), MemoryVault(), clock=fake.clock)
            await viewer(client)

    asyncio.run(go())
    assert {r.headers["user-agent"] for r in [*kraken.token_requests, *kraken.queries]} == {f"octoscope/{__version__}"}
