"""Fault injection: the spec parser's errors, and each kind of fault as a client sees it over a real socket."""

from __future__ import annotations

import json
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from octoscope.simulator import FaultSpecError, parse_fault_spec
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, SimServer, simulator

PRODUCTS = "/v1/products/"
CONSUMPTION = "/v1/electricity-meter-points/1900000000101/meters/21L0000101/consumption/"
GSP = "/v1/industry/grid-supply-points/"
ACCOUNT_QUERY = f'query {{ account(accountNumber: "{DEMO_ACCOUNT}") {{ number }} }}'
TOKEN_MUTATION = f'mutation {{ obtainKrakenToken(input: {{APIKey: "{DEMO_KEY}"}}) {{ token }} }}'


# --- the spec parser -----------------------------------------------------------------------------------


def test_valid_specs_parse() -> None:
    faults = parse_fault_spec(
        "503:0.2, 429:1:retry_after=date:date_seconds=9:times=2,"
        "kt-ct-1199:0.5:route=graphql:obtainKrakenToken, latency:1:ms=250"
    )
    assert [(f.kind, f.probability, f.route, f.params, f.times) for f in faults] == [
        ("503", 0.2, "*", {}, None),
        ("429", 1.0, "*", {"retry_after": "date", "date_seconds": "9"}, 2),
        ("kt-ct-1199", 0.5, "graphql:obtainKrakenToken", {}, None),
        ("latency", 1.0, "*", {"ms": "250"}, None),
    ]
    assert parse_fault_spec("") == ()
    assert parse_fault_spec("drop")[0].probability == 1.0


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("bogus:0.5", ["'bogus'"]),
        ("503:0.1,teapot", ["'teapot'"]),
        ("503:often", ["'often'", "probability"]),
        ("503:1.5", ["'503:1.5'", "probability"]),
        ("503:-0.1", ["'503:-0.1'", "probability"]),
        ("503:1:route=billing", ["'billing'", "route"]),
        ("503:1:times=two", ["'503:1:times=two'", "times"]),
        ("503:1:ms", ["'ms'", "key=value"]),
        ("latency:0.5:0.5", ["'0.5'", "key=value"]),
    ],
)
def test_bad_spec_errors_are_one_line_naming_the_bad_part(spec: str, names: list[str]) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_fault_spec(spec)
    message = str(caught.value)
    assert "\n" not in message
    for name in names:
        assert name in message, message


def test_unknown_fault_parameter_is_an_error() -> None:
    """A misspelt key (``tims=3`` for ``times=3``) must not silently make a bounded fault unbounded."""
    with pytest.raises(FaultSpecError) as caught:
        parse_fault_spec("503:1:tims=3")
    assert "\n" not in str(caught.value)
    assert "'tims'" in str(caught.value)


def test_posting_a_bad_spec_is_a_400_naming_it(fresh_sim: SimServer) -> None:
    response = httpx.post(f"{fresh_sim.url}/_sim/faults", content=b"503:1,bogus:1", timeout=30)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "'bogus'" in detail
    assert "\n" not in detail
    # The faults in force are unchanged.
    assert httpx.get(f"{fresh_sim.url}/_sim/faults", timeout=30).json() == {"faults": []}


# --- each kind over real sockets -----------------------------------------------------------------------


def set_faults(sim: SimServer, spec: str) -> None:
    response = httpx.post(f"{sim.url}/_sim/faults", content=spec.encode(), timeout=30)
    assert response.status_code == 200, response.text


def last_logged(sim: SimServer) -> dict[str, Any]:
    log = sim.requests_log()
    requests = log["requests"]
    assert isinstance(requests, list)
    assert requests
    entry: dict[str, Any] = requests[-1]
    return entry


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_answer_html(fresh_sim: SimServer, status: int) -> None:
    set_faults(fresh_sim, f"{status}:1:times=1")
    with fresh_sim.client() as client:
        failed = client.get(PRODUCTS)
        assert failed.status_code == status
        assert failed.headers["content-type"].startswith("text/html")
        assert str(status).encode() in failed.content
        with pytest.raises(json.JSONDecodeError):
            json.loads(failed.content)
        assert last_logged(fresh_sim)["fault"] == str(status)
        assert last_logged(fresh_sim)["status"] == status
        recovered = client.get(PRODUCTS)
    assert recovered.status_code == 200
    assert "fault" not in last_logged(fresh_sim)


def test_429_with_retry_after_seconds(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "429:1:retry_after=7:times=1")
    with fresh_sim.client() as client:
        response = client.get(PRODUCTS)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert "detail" in response.json()
    assert last_logged(fresh_sim)["fault"] == "429"


def test_429_with_retry_after_as_an_http_date(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "429:1:retry_after=date:date_seconds=30:times=1")
    with fresh_sim.client() as client:
        response = client.get(PRODUCTS)
    assert response.status_code == 429
    when = parsedate_to_datetime(response.headers["retry-after"])
    assert when.tzinfo is not None
    ahead = (when - datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))).total_seconds()
    assert ahead == 31, response.headers["retry-after"]  # on the simulated clock (frozen), not the machine's


@pytest.mark.parametrize(
    ("kind", "query", "field"),
    [
        ("kt-ct-1199", ACCOUNT_QUERY, "account"),
        (
            "kt-gb-4042",
            'query { smartMeterTelemetry(deviceId: "00-00-00-FF-FE-00-01-01") { readAt demand } }',
            "smartMeterTelemetry",
        ),
    ],
)
def test_graphql_throttling_inside_http_200(fresh_sim: SimServer, kind: str, query: str, field: str) -> None:
    set_faults(fresh_sim, f"{kind}:1:times=1")
    with fresh_sim.client() as client:
        rest = client.get(PRODUCTS)  # a GraphQL-only fault leaves REST alone
        response = client.post("/v1/graphql/", json={"query": query})
    assert rest.status_code == 200
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {field: None}
    (error,) = body["errors"]
    assert error["path"] == [field]
    assert error["extensions"]["errorCode"] == kind.upper()
    assert set(error["extensions"]) == {"errorType", "errorCode", "errorDescription"}
    assert last_logged(fresh_sim)["fault"] == kind


def test_latency_delays_a_normal_answer(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "latency:1:ms=300")
    with fresh_sim.client() as client:
        client.get(GSP)  # warm the connection
        started = time.monotonic()
        response = client.get(GSP)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["count"] == 14
    assert elapsed >= 0.3
    assert response.elapsed.total_seconds() >= 0.3


def test_latency_adds_to_another_fault(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "latency:1:ms=200,503:1")
    with fresh_sim.client() as client:
        started = time.monotonic()
        response = client.get(GSP)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert elapsed >= 0.2


def test_truncated_body_has_a_matching_content_length_and_broken_json(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "truncated:1:times=1")
    with fresh_sim.client() as client:
        response = client.get(PRODUCTS)
        whole = client.get(PRODUCTS)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content) > 0
    assert whole.content.startswith(response.content)
    assert len(response.content) < len(whole.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert whole.json()["count"] > 0


def test_html403_is_the_edge_page(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "html403:1:times=1")
    with fresh_sim.client(auth=(DEMO_KEY, "")) as client:
        response = client.get(f"/v1/accounts/{DEMO_ACCOUNT}/")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert b"403" in response.content
    assert last_logged(fresh_sim)["fault"] == "html403"


def test_drop_closes_the_connection_mid_response(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "drop:1:times=1")
    with fresh_sim.client() as client:
        with pytest.raises(httpx.TransportError):
            client.get(PRODUCTS)
        recovered = client.get(PRODUCTS)
    assert recovered.status_code == 200
    dropped = [e for e in fresh_sim.requests_log()["requests"] if e.get("fault") == "drop"]  # type: ignore[union-attr]
    assert len(dropped) == 1


# --- route filters, times, seeding, the log ------------------------------------------------------------


def test_a_consumption_fault_leaves_other_routes_alone(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "503:1:route=consumption")
    with fresh_sim.client(auth=(DEMO_KEY, "")) as client:
        assert client.get(CONSUMPTION, params={"page_size": 1}).status_code == 503
        assert client.get(PRODUCTS).status_code == 200
        assert client.get(f"/v1/accounts/{DEMO_ACCOUNT}/").status_code == 200
        assert client.post("/v1/graphql/", json={"query": TOKEN_MUTATION}).status_code == 200
        assert client.get(CONSUMPTION, params={"page_size": 1}).status_code == 503


def test_a_graphql_field_fault_applies_to_that_field_only(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "kt-ct-1199:1:route=graphql:obtainKrakenToken")
    with fresh_sim.client() as client:
        throttled = client.post("/v1/graphql/", json={"query": TOKEN_MUTATION}).json()
        other = client.post("/v1/graphql/", json={"query": ACCOUNT_QUERY}).json()
    assert throttled["errors"][0]["extensions"]["errorCode"] == "KT-CT-1199"
    assert other["errors"][0]["extensions"]["errorCode"] == "KT-CT-1112"  # no token: answered normally


def test_rest_route_filter_leaves_graphql_alone(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "502:1:route=rest")
    with fresh_sim.client() as client:
        assert client.get(GSP).status_code == 502
        assert client.post("/v1/graphql/", json={"query": TOKEN_MUTATION}).status_code == 200


def test_times_stops_after_n_injections(fresh_sim: SimServer) -> None:
    set_faults(fresh_sim, "503:1:times=3")
    with fresh_sim.client() as client:
        statuses = [client.get(GSP).status_code for _ in range(8)]
    assert statuses == [503, 503, 503, 200, 200, 200, 200, 200]


def _statuses(sim: SimServer, n: int = 50) -> list[int]:
    with sim.client() as client:
        return [client.get(GSP).status_code for _ in range(n)]


def test_seeded_faults_repeat_the_same_sequence() -> None:
    with simulator(faults="503:0.3,429:0.2", seed=99) as one, simulator(faults="503:0.3,429:0.2", seed=99) as two:
        first, second = _statuses(one), _statuses(two)
    with simulator(faults="503:0.3,429:0.2", seed=100) as three:
        third = _statuses(three)
    assert first == second
    assert {200, 429, 503} <= set(first)
    assert third != first


def test_the_request_log_records_faults(fresh_sim: SimServer) -> None:
    fresh_sim.reset_log()
    set_faults(fresh_sim, "503:1:route=products:times=1")
    with fresh_sim.client() as client:
        client.get(PRODUCTS)
        client.get(PRODUCTS)
        client.get(GSP)
    log = fresh_sim.requests_log()
    requests = log["requests"]
    assert isinstance(requests, list)
    assert [(e["path"], e["status"], e.get("fault")) for e in requests] == [
        (PRODUCTS, 503, "503"),
        (PRODUCTS, 200, None),
        (GSP, 200, None),
    ]
    assert requests[0]["route"] == "GET /v1/products/"
    assert log["counts"] == {"GET /v1/products/": 2, "GET /v1/industry/grid-supply-points/": 1}
