"""The REST client under its request policy, against a scripted Octopus behind ``httpx.MockTransport``.

One test per failure mode; every error is checked for the API key (raw and as Basic credentials).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from octoscope import __version__
from octoscope.domain.models import Charge, Direction, Fuel, Reading, TariffCode
from octoscope.domain.secret import Secret
from octoscope.octopus.errors import (
    CredentialsRejected,
    GaveUp,
    NotFound,
    OctopusError,
    RequestRejected,
    UnexpectedResponse,
)
from octoscope.octopus.http import new_http_client
from octoscope.octopus.policy import RequestPolicy, key_fingerprint
from octoscope.octopus.rest import RestClient
from tests.conftest import load_fixture
from tests.octopus.fakes import T0, FakeTime, MemoryLedger

KEY = "sk_live_rest0123456789abcdefTEST"
BASIC = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
BASE = "https://api.octopus.energy/v1"
ACCOUNT = "A-0000FEED"
MPAN, SERIAL = "1900000000001", "99L0000001"
AGILE = TariffCode.parse("E-1R-AGILE-24-10-01-J")
T = TypeVar("T")

Answer = Callable[[httpx.Request], httpx.Response]


def json_(status: int, body: Any, **headers: str) -> Answer:
    return lambda request: httpx.Response(
        status, content=orjson.dumps(body), headers={"content-type": "application/json", **headers}
    )


def fixture(name: str, status: int = 200, **headers: str) -> Answer:
    return json_(status, load_fixture(name), **headers)


def html(status: int, page: str = "<html><head><title>403 Forbidden</title></head><body>nginx</body></html>") -> Answer:
    return lambda request: httpx.Response(status, text=page, headers={"content-type": "text/html"})


def fail_with(exc: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc(f"simulated {exc.__name__}", request=request)

    return answer


class Octopus:
    """A scripted server: answers in turn (the last one repeats), and keeps every request it got."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request)


def make_policy(fake: FakeTime, attempts: int = 3) -> RequestPolicy:
    return RequestPolicy(
        key_fingerprint(KEY),
        MemoryLedger(),
        {"rest": 1000, "graphql": 1000},
        attempts=attempts,
        base_seconds=1.0,
        cap_seconds=8.0,
        max_wait_seconds=900.0,
        clock=fake.clock,
        sleep=fake.sleep,
        rng=random.Random(7),
    )


def run(
    server: Octopus, use: Callable[[RestClient], Awaitable[T]], *, attempts: int = 3, fake: FakeTime | None = None
) -> T:
    fake = fake or FakeTime()

    async def go() -> T:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            return await use(RestClient(http, BASE, Secret(KEY), make_policy(fake, attempts)))

    return asyncio.run(go())


async def gather(pages: AsyncIterator[Any]) -> list[Any]:
    return [page async for page in pages]


def readings_of(start: datetime, end: datetime) -> Callable[[RestClient], Awaitable[list[Reading]]]:
    async def use(client: RestClient) -> list[Reading]:
        pages = await gather(client.consumption(Fuel.ELECTRICITY, MPAN, SERIAL, start, end))
        return [r for page in pages for r in page.items]

    return use


async def get_account(client: RestClient) -> Any:
    return await client.account(ACCOUNT)


def assert_key_hidden(err: BaseException) -> None:
    seen: BaseException | None = err
    while seen is not None:
        for text in (str(seen), repr(seen), *map(str, seen.args)):
            assert KEY not in text
            assert BASIC.split()[1] not in text
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


def failure(server: Octopus, use: Callable[[RestClient], Awaitable[Any]], **kwargs: Any) -> OctopusError:
    with pytest.raises(OctopusError) as caught:
        run(server, use, **kwargs)
    assert_key_hidden(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


WINTER_FROM, WINTER_TO = utc("2025-01-12T21:00:00Z"), utc("2025-01-13T01:30:00Z")


# --- what goes on the wire ------------------------------------------------------------------------------


def test_account_uses_basic_auth_with_the_key_and_an_empty_password() -> None:
    server = Octopus(fixture("account.json"))
    account = run(server, get_account)
    assert account.number == ACCOUNT
    (request,) = server.requests
    assert request.url == f"{BASE}/accounts/{ACCOUNT}/"
    assert request.headers["authorization"] == BASIC
    assert base64.b64decode(request.headers["authorization"].split()[1]).decode() == f"{KEY}:"


def test_account_parses_properties_points_meters_and_agreements() -> None:
    account = run(Octopus(fixture("account.json")), get_account)
    current = account.current_property()
    assert current is not None
    assert current.id == "9000002"
    points = {p.identifier: p for p in current.meter_points}
    assert points["1900000000025"].direction is Direction.EXPORT
    assert points["9000000001"].fuel is Fuel.GAS
    assert [m.serial for m in points[MPAN].meters] == ["98L0000002", SERIAL]
    assert [a.tariff_code for a in points[MPAN].agreements][-1] == AGILE.code
    assert points[MPAN].agreements[0].valid_from == utc("2023-06-14T23:00:00Z")  # +01:00 read as an instant


def test_account_that_is_not_the_one_asked_for_is_refused() -> None:
    body = load_fixture("account.json")
    body["number"] = "A-0000BEEF"  # type: ignore[index]
    err = failure(Octopus(json_(200, body)), get_account)
    assert isinstance(err, UnexpectedResponse)


def test_user_agent_names_octoscope_and_its_version() -> None:
    server = Octopus(fixture("account.json"))

    async def go() -> None:
        async with new_http_client(10.0) as http:
            http._transport = httpx.MockTransport(server)  # only the transport is fake
            fake = FakeTime()
            await RestClient(http, BASE, Secret(KEY), make_policy(fake)).account(ACCOUNT)

    asyncio.run(go())
    assert server.requests[0].headers["user-agent"] == f"octoscope/{__version__}"


def test_consumption_asks_for_the_largest_page_in_period_order_with_utc_bounds() -> None:
    server = Octopus(fixture("consumption-empty.json"))
    assert run(server, readings_of(utc("2025-07-01T00:00:00+01:00"), utc("2025-07-02T00:00:00+01:00"))) == []
    (request,) = server.requests
    assert request.url.path == f"/v1/electricity-meter-points/{MPAN}/meters/{SERIAL}/consumption/"
    assert query(request) == {
        "period_from": ["2025-06-30T23:00:00Z"],  # never a raw `+01:00`, which the API reads as a space
        "period_to": ["2025-07-01T23:00:00Z"],
        "page_size": ["25000"],
        "order_by": ["period"],
    }
    assert request.headers["authorization"] == BASIC


def test_gas_consumption_uses_the_gas_path() -> None:
    server = Octopus(fixture("consumption-empty.json"))

    async def use(client: RestClient) -> list[Any]:
        return await gather(client.consumption(Fuel.GAS, "9000000001", "E6S99999999901", WINTER_FROM, WINTER_TO))

    run(server, use)
    assert server.requests[0].url.path == "/v1/gas-meter-points/9000000001/meters/E6S99999999901/consumption/"


def test_consumption_follows_next_until_it_is_null() -> None:
    server = Octopus(
        fixture("consumption-electricity-page1.json"),
        fixture("consumption-electricity-page2.json"),
        fixture("consumption-electricity-page3.json"),
    )
    readings = run(server, readings_of(WINTER_FROM, WINTER_TO))
    assert len(server.requests) == 3
    page1 = load_fixture("consumption-electricity-page1.json")
    page2 = load_fixture("consumption-electricity-page2.json")
    assert str(server.requests[1].url) == page1["next"]  # type: ignore[index]
    assert str(server.requests[2].url) == page2["next"]  # type: ignore[index]
    assert all(r.headers["authorization"] == BASIC for r in server.requests)
    assert len(readings) == 9
    assert {r.start for r in readings} == {WINTER_FROM + timedelta(minutes=30 * i) for i in range(9)}
    assert sum(r.value for r in readings) == pytest.approx(
        sum(
            row["consumption"]
            for name in ("page1", "page2", "page3")
            for row in load_fixture(f"consumption-electricity-{name}.json")["results"]  # type: ignore[index]
        )
    )


def test_consumption_is_filtered_to_from_inclusive_to_exclusive() -> None:
    # The fixture holds 23:00Z, 23:30Z, 00:00Z, 00:30Z (BST local times); ask for [23:30Z, 00:30Z).
    server = Octopus(fixture("consumption-electricity-bst-ascending.json"))
    readings = run(server, readings_of(utc("2025-06-30T23:30:00Z"), utc("2025-07-01T00:30:00Z")))
    assert readings == [
        Reading(utc("2025-06-30T23:30:00Z"), 0.58),
        Reading(utc("2025-07-01T00:00:00Z"), 0.201),
    ]
    assert all(r.start.utcoffset() == timedelta(0) for r in readings)


def test_a_next_link_to_another_host_is_refused_before_the_key_goes_there() -> None:
    page = load_fixture("consumption-electricity-page1.json")
    page["next"] = page["next"].replace("https://api.octopus.energy", "https://octopus.example.net")  # type: ignore[index]
    server = Octopus(json_(200, page), fixture("consumption-electricity-page2.json"))
    err = failure(server, readings_of(WINTER_FROM, WINTER_TO))
    assert isinstance(err, UnexpectedResponse)
    assert [r.url.host for r in server.requests] == ["api.octopus.energy"]


def test_a_next_link_downgraded_to_http_is_refused() -> None:
    page = load_fixture("consumption-electricity-page1.json")
    page["next"] = page["next"].replace("https://", "http://")  # type: ignore[index]
    server = Octopus(json_(200, page), fixture("consumption-electricity-page2.json"))
    err = failure(server, readings_of(WINTER_FROM, WINTER_TO))
    assert isinstance(err, UnexpectedResponse)
    assert len(server.requests) == 1


def test_charges_are_fetched_without_auth_per_page_of_1500() -> None:
    server = Octopus(fixture("agile-standard-unit-rates.json"), fixture("agile-standard-unit-rates-bst.json"))

    async def use(client: RestClient) -> list[Any]:
        start, end = utc("2025-01-12T23:00:00Z"), utc("2025-01-13T23:00:00Z")
        return await gather(client.charges(AGILE, Charge.STANDARD, start, end))

    pages = run(server, use)
    assert len(server.requests) == 2  # the second page's `next` is null
    first = server.requests[0]
    assert first.url.path == f"/v1/products/AGILE-24-10-01/electricity-tariffs/{AGILE.code}/standard-unit-rates/"
    assert query(first) == {
        "period_from": ["2025-01-12T23:00:00Z"],
        "period_to": ["2025-01-13T23:00:00Z"],
        "page_size": ["1500"],
    }
    assert all("authorization" not in r.headers for r in server.requests)
    assert str(server.requests[1].url) == load_fixture("agile-standard-unit-rates.json")["next"]  # type: ignore[index]
    rates = [r for page in pages for r in page.items]
    assert len(rates) == 6
    assert rates[0].valid_from == utc("2025-01-13T22:30:00Z")
    assert rates[0].payment_method is None


@pytest.mark.parametrize(
    ("charge", "path", "name"),
    [
        (Charge.STANDING, "standing-charges", "standing-charges.json"),
        (Charge.DAY, "day-unit-rates", "day-unit-rates.json"),
        (Charge.NIGHT, "night-unit-rates", "night-unit-rates.json"),
    ],
)
def test_each_charge_has_its_endpoint_and_no_auth(charge: Charge, path: str, name: str) -> None:
    server = Octopus(fixture(name))
    tariff = TariffCode.parse("E-2R-VAR-22-11-01-J")

    async def use(client: RestClient) -> list[Any]:
        return await gather(client.charges(tariff, charge, WINTER_FROM, WINTER_TO))

    (page,) = run(server, use)
    assert server.requests[0].url.path == f"/v1/products/VAR-22-11-01/electricity-tariffs/{tariff.code}/{path}/"
    assert "authorization" not in server.requests[0].headers
    assert {r.payment_method for r in page.items} <= {"DIRECT_DEBIT", "NON_DIRECT_DEBIT"}


def test_gas_charges_use_the_gas_tariff_path() -> None:
    server = Octopus(fixture("gas-standard-unit-rates.json"))
    tariff = TariffCode.parse("G-1R-VAR-22-11-01-J")

    async def use(client: RestClient) -> list[Any]:
        return await gather(client.charges(tariff, Charge.STANDARD, WINTER_FROM, WINTER_TO))

    run(server, use)
    assert server.requests[0].url.path == f"/v1/products/VAR-22-11-01/gas-tariffs/{tariff.code}/standard-unit-rates/"


# --- failure modes: fatal ones at once, temporary ones retried ------------------------------------------


def test_401_json_rejects_the_api_key_without_retrying() -> None:
    server = Octopus(fixture("error-401-invalid-api-key.json", 401))
    err = failure(server, get_account)
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "api_key"
    assert len(server.requests) == 1


def test_403_json_names_the_account_without_retrying() -> None:
    server = Octopus(fixture("error-403-permission-denied.json", 403))
    err = failure(server, get_account)
    assert isinstance(err, CredentialsRejected)
    assert err.credential == "account"
    assert len(server.requests) == 1


def test_403_html_edge_page_is_retried_as_temporary() -> None:
    server = Octopus(html(403), fixture("account.json"))
    fake = FakeTime()
    account = run(server, get_account, fake=fake)
    assert account.number == ACCOUNT
    assert len(server.requests) == 2
    assert len(fake.sleeps) == 1


def test_403_html_edge_page_that_lasts_gives_up_without_blaming_the_key() -> None:
    server = Octopus(html(403))
    err = failure(server, get_account, attempts=3)
    assert isinstance(err, GaveUp)
    assert not isinstance(err, CredentialsRejected)
    assert len(server.requests) == 3


def test_404_json_is_not_found_without_retrying() -> None:
    server = Octopus(fixture("error-404-not-found.json", 404))
    err = failure(server, get_account)
    assert isinstance(err, NotFound)
    assert len(server.requests) == 1


def test_404_html_is_not_found_without_retrying() -> None:
    server = Octopus(html(404, "<!doctype html><html><body><h1>Not Found</h1></body></html>"))
    err = failure(server, get_account)
    assert isinstance(err, NotFound)
    assert len(server.requests) == 1


def test_400_with_field_errors_is_rejected_naming_the_field() -> None:
    server = Octopus(fixture("error-400-period-from-after-period-to.json", 400))
    err = failure(server, readings_of(WINTER_FROM, WINTER_TO))
    assert isinstance(err, RequestRejected)
    assert "period_from" in str(err)
    assert "Must not be greater than `period_to`." in str(err)
    assert len(server.requests) == 1


def test_429_with_retry_after_seconds_waits_that_long_then_retries() -> None:
    server = Octopus(
        json_(429, {"detail": "Request was throttled."}, **{"retry-after": "120"}), fixture("account.json")
    )
    fake = FakeTime()
    run(server, get_account, fake=fake)
    assert len(server.requests) == 2
    assert fake.sleeps == [120.0]


def test_429_with_retry_after_as_http_date_waits_until_then() -> None:
    header = email.utils.format_datetime(datetime.fromtimestamp(T0, UTC) + timedelta(seconds=300), usegmt=True)
    server = Octopus(
        json_(429, {"detail": "Request was throttled."}, **{"retry-after": header}), fixture("account.json")
    )
    fake = FakeTime()
    run(server, get_account, fake=fake)
    assert len(server.requests) == 2
    assert fake.sleeps == [300.0]  # read on the policy's clock, not the machine's


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_give_up_after_the_configured_attempts(status: int) -> None:
    server = Octopus(html(status, f"<html><body>{status}</body></html>"))
    fake = FakeTime()
    err = failure(server, get_account, attempts=4, fake=fake)
    assert isinstance(err, GaveUp)
    assert len(server.requests) == 4
    assert len(fake.sleeps) == 3
    assert str(status) in str(err)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_once_is_survived(status: int) -> None:
    server = Octopus(html(status, "<html>oops</html>"), fixture("account.json"))
    assert run(server, get_account).number == ACCOUNT
    assert len(server.requests) == 2


def test_timeouts_are_retried_then_give_up() -> None:
    server = Octopus(fail_with(httpx.ReadTimeout))
    err = failure(server, get_account, attempts=3)
    assert isinstance(err, GaveUp)
    assert len(server.requests) == 3


def test_connection_errors_are_retried() -> None:
    server = Octopus(fail_with(httpx.ConnectError), fail_with(httpx.RemoteProtocolError), fixture("account.json"))
    assert run(server, get_account, attempts=3).number == ACCOUNT
    assert len(server.requests) == 3


def test_truncated_json_is_retried() -> None:
    whole = orjson.dumps(load_fixture("consumption-electricity-page3.json"))
    server = Octopus(
        lambda request: httpx.Response(200, content=whole[:-40]), fixture("consumption-electricity-page3.json")
    )
    readings = run(server, readings_of(WINTER_FROM, WINTER_TO))
    assert len(readings) == 3
    assert len(server.requests) == 2


def test_html_with_200_where_json_was_due_is_unexpected_and_not_retried() -> None:
    server = Octopus(html(200, "<!doctype html><html><body>Welcome to Octopus Energy</body></html>"))
    err = failure(server, get_account)
    assert isinstance(err, UnexpectedResponse)
    assert len(server.requests) == 1


# --- payloads with missing fields: one clear error naming the path ----------------------------------------


def test_consumption_row_missing_its_value_names_the_field() -> None:
    page = load_fixture("consumption-electricity-page3.json")
    del page["results"][1]["consumption"]  # type: ignore[index]
    server = Octopus(json_(200, page))
    err = failure(server, readings_of(WINTER_FROM, WINTER_TO))
    assert isinstance(err, UnexpectedResponse)
    assert "results[1].consumption" in str(err)
    assert "missing" in str(err)
    assert len(server.requests) == 1


def test_consumption_row_with_a_bad_timestamp_names_the_field() -> None:
    page = load_fixture("consumption-electricity-page3.json")
    page["results"][2]["interval_start"] = "yesterday"  # type: ignore[index]
    err = failure(Octopus(json_(200, page)), readings_of(WINTER_FROM, WINTER_TO))
    assert isinstance(err, UnexpectedResponse)
    assert "results[2].interval_start" in str(err)


def test_consumption_page_missing_next_names_the_field() -> None:
    page = load_fixture("consumption-electricity-page3.json")
    del page["next"]  # type: ignore[attr-defined]
    err = failure(Octopus(json_(200, page)), readings_of(WINTER_FROM, WINTER_TO))
    assert isinstance(err, UnexpectedResponse)
    assert "next is missing" in str(err)


def test_rate_missing_value_inc_vat_names_the_field() -> None:
    page = load_fixture("standing-charges.json")
    del page["results"][3]["value_inc_vat"]  # type: ignore[index]
    server = Octopus(json_(200, page))

    async def use(client: RestClient) -> list[Any]:
        return await gather(client.charges(AGILE, Charge.STANDING, WINTER_FROM, WINTER_TO))

    err = failure(server, use)
    assert isinstance(err, UnexpectedResponse)
    assert "results[3].value_inc_vat" in str(err)


def test_account_point_missing_its_mpan_names_the_path() -> None:
    body = load_fixture("account.json")
    del body["properties"][1]["electricity_meter_points"][1]["mpan"]  # type: ignore[index]
    err = failure(Octopus(json_(200, body)), get_account)
    assert isinstance(err, UnexpectedResponse)
    assert "properties[1].electricity_meter_points[1].mpan" in str(err)


def test_account_agreement_missing_valid_from_names_the_path() -> None:
    body = load_fixture("account.json")
    del body["properties"][1]["gas_meter_points"][0]["agreements"][0]["valid_from"]  # type: ignore[index]
    err = failure(Octopus(json_(200, body)), get_account)
    assert isinstance(err, UnexpectedResponse)
    assert "gas_meter_points[0].agreements[0].valid_from" in str(err)


def test_results_that_are_not_a_list_are_unexpected() -> None:
    err = failure(
        Octopus(json_(200, {"count": 1, "next": None, "results": {"0": 1}})), readings_of(WINTER_FROM, WINTER_TO)
    )
    assert isinstance(err, UnexpectedResponse)
    assert "results" in str(err)
