"""GraphQL contract: the simulator answers each documented query in the shape of its fixture.

Every ``tests/fixtures/graphql-*.json`` is either answered here (same keys, nesting, JSON types, Decimals as
strings, DateTimes ending ``+00:00``, the Kraken error envelope, always HTTP 200) or listed in UNSUPPORTED
with the reason; ``test_fixture_lists_are_complete`` keeps that list explicit.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import pytest

from octoscope.simulator import builtin_scenarios
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, FIXTURES, SimServer, load_fixture, simulator

HOME_MINI = "00-00-00-FF-FE-00-01-01"
EV_DEVICE = "00000000-0000-4000-8000-00000000d301"
IMPORT_MPAN = "1900000000101"
EXPORT_MPAN = "1900000000125"
DEMO_NOW_EPOCH = int(datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00")).timestamp())
ANOTHER_ACCOUNT = "A-0000FEED"

# --- the shape comparer --------------------------------------------------------------------------------

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DECIMAL_RE = re.compile(r"^-?(\d+(\.\d+)?|\d(\.\d+)?E[+-]\d+)$")


def string_kind(value: str) -> str:
    """What a JSON string stands for in the API: a DateTime, a Date, a Decimal or plain text."""
    if DATETIME_RE.match(value):
        return "DateTime(+00:00)"
    if DATE_RE.match(value):
        return "Date"
    if DECIMAL_RE.match(value):
        return "Decimal-string"
    return "String"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return f"{string_kind(value)} {value!r}"
    return type(value).__name__


def shape_errors(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """Differences in keys, nesting and JSON types between a response and a fixture (values are ignored).

    Lists: each element of ``actual`` is compared with the fixture's first element; if that fails it may
    match another fixture element instead (fixtures show import and export meter points side by side).
    Strings must be of the same kind (DateTime with ``+00:00``, Date, Decimal string or text); an empty
    fixture list accepts any list, so callers assert non-empty results separately.
    """
    if expected is None:
        return [] if actual is None else [f"{path}: expected null, got {_describe(actual)}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {_describe(actual)}"]
        errors = []
        missing, extra = sorted(expected.keys() - actual.keys()), sorted(actual.keys() - expected.keys())
        if missing:
            errors.append(f"{path}: missing keys {missing}")
        if extra:
            errors.append(f"{path}: unexpected keys {extra}")
        for key in expected.keys() & actual.keys():
            errors += shape_errors(actual[key], expected[key], f"{path}.{key}")
        return errors
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {_describe(actual)}"]
        errors = []
        for i, item in enumerate(actual):
            first = shape_errors(item, expected[0], f"{path}[{i}]") if expected else []
            if first:
                others = [shape_errors(item, other, f"{path}[{i}]") for other in expected[1:]]
                if not others:
                    errors += first
                elif all(others):  # report the differences from each fixture element
                    errors += [f"{e} (vs fixture element {n})" for n, es in enumerate([first, *others]) for e in es]
        return errors
    if isinstance(expected, bool):
        return [] if isinstance(actual, bool) else [f"{path}: expected bool, got {_describe(actual)}"]
    if isinstance(expected, int):
        ok = isinstance(actual, int) and not isinstance(actual, bool)
        return [] if ok else [f"{path}: expected int, got {_describe(actual)}"]
    if isinstance(expected, float):
        return [] if isinstance(actual, float) else [f"{path}: expected float, got {_describe(actual)}"]
    if isinstance(expected, str):
        if not isinstance(actual, str) or string_kind(actual) != string_kind(expected):
            return [f"{path}: expected {string_kind(expected)} like {expected!r}, got {_describe(actual)}"]
        return []
    raise AssertionError(f"{path}: unexpected fixture value {expected!r}")


def assert_shape(actual: Any, fixture_name: str) -> dict[str, Any]:
    fixture = load_fixture(fixture_name)
    assert isinstance(fixture, dict)
    errors = shape_errors(actual, fixture)
    assert not errors, f"{fixture_name}:\n" + "\n".join(errors)
    return fixture


def test_shape_comparer_catches_differences() -> None:
    fixture = {"a": [{"at": "2025-01-13T17:00:00+00:00", "kwh": "-3.25", "n": 1, "ok": True, "x": None}]}
    good = {"a": [{"at": "2026-11-20T23:30:00+00:00", "kwh": "0E+1", "n": 7, "ok": False, "x": None}]}
    assert shape_errors(good, fixture) == []
    assert shape_errors({"a": []}, fixture) == []
    bad = [
        ({"a": [{**good["a"][0], "at": "2026-11-20T23:30:00Z"}]}, "$.a[0].at: expected DateTime(+00:00)"),
        ({"a": [{**good["a"][0], "kwh": -3.25}]}, "$.a[0].kwh: expected Decimal-string"),
        ({"a": [{**good["a"][0], "n": "7"}]}, "$.a[0].n: expected int"),
        ({"a": [{**good["a"][0], "n": 7.0}]}, "$.a[0].n: expected int"),
        ({"a": [{**good["a"][0], "ok": 1}]}, "$.a[0].ok: expected bool"),
        ({"a": [{**good["a"][0], "x": "y"}]}, "$.a[0].x: expected null"),
        ({"a": [{k: v for k, v in good["a"][0].items() if k != "n"}]}, "$.a[0]: missing keys ['n']"),
        ({"a": [{**good["a"][0], "extra": 1}]}, "$.a[0]: unexpected keys ['extra']"),
        ({"a": {"at": "x"}}, "$.a: expected a list"),
    ]
    for actual, message in bad:
        errors = shape_errors(actual, fixture)
        assert len(errors) == 1, (actual, errors)
        assert errors[0].startswith(message), errors


# --- helpers ------------------------------------------------------------------------------------------


def fill(template: str, **values: str) -> str:
    """Put values into a GraphQL text at ``<<name>>`` (GraphQL's own braces need no escaping)."""
    for name, value in values.items():
        template = template.replace(f"<<{name}>>", value)
    assert "<<" not in template, template
    return template


def post(
    client: httpx.Client,
    query: str,
    token: str | None = None,
    variables: dict[str, Any] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    headers = {"Authorization": f"{prefix}{token}"} if token is not None else {}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = client.post("/v1/graphql/", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()
    assert isinstance(result, dict)
    return result


TOKEN_MUTATION = (
    'mutation {\n  obtainKrakenToken(input: {APIKey: "<<key>>"}) { token refreshToken refreshExpiresIn payload }\n}'
)
REFRESH_MUTATION = (
    "mutation Refresh($refresh: String!) {\n"
    "  obtainKrakenToken(input: {refreshToken: $refresh}) { token refreshToken refreshExpiresIn payload }\n}"
)


def obtain(client: httpx.Client, key: str = DEMO_KEY) -> dict[str, Any]:
    result = post(client, fill(TOKEN_MUTATION, key=key))
    assert "errors" not in result, result
    token: dict[str, Any] = result["data"]["obtainKrakenToken"]
    return token


def set_clock(sim: SimServer, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{sim.url}/_sim/clock", json=body, timeout=30)
    assert response.status_code == 200, response.text
    clock: dict[str, Any] = response.json()
    return clock


def assert_kraken_error(result: dict[str, Any], fixture_name: str, field: str) -> None:
    """The Kraken error envelope, compared with the fixture: shape and the code's exact texts.

    The fixture's failed root field is replaced by ``field`` when the same error is expected elsewhere.
    """
    fixture = load_fixture(fixture_name)
    assert isinstance(fixture, dict)
    fixture = {**fixture, "data": {field: None}}
    errors = shape_errors(result, fixture)
    assert not errors, f"{fixture_name}:\n" + "\n".join(errors)
    assert len(result["errors"]) == 1, result
    error, expected = result["errors"][0], fixture["errors"][0]
    assert error["message"] == expected["message"]
    assert error["extensions"] == expected["extensions"]
    assert error["path"] == [field]
    assert error["locations"]
    assert all(loc["line"] >= 1 and loc["column"] >= 1 for loc in error["locations"])
    assert result["data"] == {field: None}


def jwt_claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return claims


@pytest.fixture(scope="module")
def demo_token(demo_sim: SimServer) -> str:
    """One token for this module's read-only queries (each token has an hourly allowance of 100 calls)."""
    with demo_sim.client() as client:
        token: str = obtain(client)["token"]
    return token


@pytest.fixture
def demo_client(demo_sim: SimServer) -> Iterator[httpx.Client]:
    with demo_sim.client() as client:
        yield client


# --- which fixtures are covered ------------------------------------------------------------------------

SUPPORTED = {
    "graphql-account-balance.json",
    "graphql-account-meters.json",
    "graphql-authorization-header-missing.json",
    "graphql-authorization-invalid.json",
    "graphql-home-mini-device-id-none.json",
    "graphql-home-mini-device-id.json",
    "graphql-intelligent-devices.json",
    "graphql-obtain-token-invalid-api-key.json",
    "graphql-obtain-token.json",
    "graphql-planned-dispatches-legacy.json",
    "graphql-planned-dispatches-none.json",
    "graphql-planned-dispatches.json",
    "graphql-rate-limited.json",
    "graphql-refresh-token-expired.json",
    "graphql-telemetry-empty.json",
    "graphql-telemetry-half-hourly.json",
    "graphql-telemetry-rate-limited.json",
    "graphql-telemetry.json",
    "graphql-token-expired.json",
    "graphql-unauthorized.json",
}
# Features the simulator does not have: (reason, the fixture's query, the root field it lacks).
UNSUPPORTED = {
    "graphql-saving-sessions.json": (
        "the simulator has no saving sessions",
        "query { savingSessions { events(includeDev: false) { id code } } }",
        "savingSessions",
    ),
    "graphql-octoplus-points.json": (
        "the simulator has no Octoplus loyalty points",
        "query { loyaltyPointLedgers { balanceCarriedForward } }",
        "loyaltyPointLedgers",
    ),
    "graphql-intelligent-settings.json": (
        "the simulator's devices have no charging preferences (intelligent settings)",
        fill(
            'query { devices(accountNumber: "<<a>>", deviceId: "<<d>>") { id preferences { mode } } }',
            a=DEMO_ACCOUNT,
            d=EV_DEVICE,
        ),
        "preferences",
    ),
}


def test_fixture_lists_are_complete() -> None:
    on_disk = {p.name for p in FIXTURES.glob("graphql-*.json")}
    assert SUPPORTED | set(UNSUPPORTED) == on_disk
    assert not SUPPORTED & set(UNSUPPORTED)
    assert set(UNSUPPORTED) == {
        "graphql-saving-sessions.json",
        "graphql-octoplus-points.json",
        "graphql-intelligent-settings.json",
    }


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_fixture_is_skipped(name: str) -> None:
    reason = UNSUPPORTED[name][0]
    pytest.skip(f"{name}: {reason}")


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_features_are_really_absent(demo_client: httpx.Client, demo_token: str, name: str) -> None:
    """If the simulator gains one of these, this fails: move the fixture to SUPPORTED and test it."""
    _, query, missing = UNSUPPORTED[name]
    result = post(demo_client, query, demo_token)
    assert "data" not in result
    assert [e["extensions"]["errorCode"] for e in result["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert f"Cannot query field '{missing}'" in result["errors"][0]["message"]


# --- obtainKrakenToken ---------------------------------------------------------------------------------


def test_obtain_token(demo_client: httpx.Client) -> None:
    result = post(demo_client, fill(TOKEN_MUTATION, key=DEMO_KEY))
    assert_shape(result, "graphql-obtain-token.json")
    data = result["data"]["obtainKrakenToken"]
    payload = data["payload"]
    assert payload == {
        "sub": "kraken|account-user:3000001",
        "gty": "API-KEY",
        "email": "demo.customer@example.invalid",
        "tokenUse": "access",
        "iss": "https://api.octopus.energy/v1/graphql/",
        "iat": DEMO_NOW_EPOCH,
        "exp": DEMO_NOW_EPOCH + 3600,
        "origIat": DEMO_NOW_EPOCH,
    }
    assert payload["exp"] - payload["iat"] == 3600
    # refreshExpiresIn is an absolute Unix time seven days after iat, not a duration.
    assert data["refreshExpiresIn"] == payload["iat"] + 7 * 86400
    claims = jwt_claims(data["token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] == DEMO_NOW_EPOCH


def test_obtain_token_invalid_api_key(demo_client: httpx.Client) -> None:
    result = post(demo_client, fill(TOKEN_MUTATION, key="sk_live_not_a_real_key_0000"))
    assert_kraken_error(result, "graphql-obtain-token-invalid-api-key.json", "obtainKrakenToken")


def test_refresh_token_gives_a_working_token(fresh_sim: SimServer) -> None:
    with fresh_sim.client() as client:
        first = obtain(client)
        set_clock(fresh_sim, advance_seconds=600)
        result = post(client, REFRESH_MUTATION, variables={"refresh": first["refreshToken"]})
        assert_shape(result, "graphql-obtain-token.json")
        second = result["data"]["obtainKrakenToken"]
        assert second["token"] != first["token"]
        assert second["payload"]["iat"] == DEMO_NOW_EPOCH + 600
        assert second["payload"]["exp"] - second["payload"]["iat"] == 3600
        assert second["refreshExpiresIn"] == DEMO_NOW_EPOCH + 600 + 7 * 86400
        account = post(client, ACCOUNT_NUMBER_QUERY, second["token"])
        assert account == {"data": {"account": {"number": DEMO_ACCOUNT}}}


def test_refresh_token_expired(fresh_sim: SimServer) -> None:
    with fresh_sim.client() as client:
        first = obtain(client)
        set_clock(fresh_sim, advance_seconds=7 * 86400 - 1)
        still_valid = post(client, REFRESH_MUTATION, variables={"refresh": first["refreshToken"]})
        assert "errors" not in still_valid, still_valid
        set_clock(fresh_sim, advance_seconds=2)
        result = post(client, REFRESH_MUTATION, variables={"refresh": first["refreshToken"]})
    assert_kraken_error(result, "graphql-refresh-token-expired.json", "obtainKrakenToken")


def test_unknown_refresh_token_is_invalid(demo_client: httpx.Client) -> None:
    result = post(demo_client, REFRESH_MUTATION, variables={"refresh": "0" * 64})
    assert result["data"] == {"obtainKrakenToken": None}
    assert result["errors"][0]["extensions"]["errorCode"] == "KT-CT-1135"


def test_token_expired(fresh_sim: SimServer) -> None:
    query = ACCOUNT_NUMBER_QUERY
    with fresh_sim.client() as client:
        token = obtain(client)["token"]
        set_clock(fresh_sim, advance_seconds=3599)
        assert post(client, query, token) == {"data": {"account": {"number": DEMO_ACCOUNT}}}
        set_clock(fresh_sim, advance_seconds=2)
        result = post(client, query, token)
    assert_kraken_error(result, "graphql-token-expired.json", "account")


# --- the Authorization header --------------------------------------------------------------------------

ACCOUNT_NUMBER_QUERY = fill('query {\n  account(accountNumber: "<<a>>") { number }\n}', a=DEMO_ACCOUNT)
TEN_SECOND_MINUTE_QUERY = fill(
    'query {\n  smartMeterTelemetry(deviceId: "<<d>>", grouping: TEN_SECONDS, start: "2026-11-20T17:00:00+00:00",'
    ' end: "2026-11-20T17:01:00+00:00") { readAt consumptionDelta demand }\n}',
    d=HOME_MINI,
)


@pytest.mark.parametrize("prefix", ["", "JWT "])
def test_raw_token_and_jwt_prefix_both_work(demo_client: httpx.Client, demo_token: str, prefix: str) -> None:
    result = post(demo_client, ACCOUNT_NUMBER_QUERY, demo_token, prefix=prefix)
    assert result == {"data": {"account": {"number": DEMO_ACCOUNT}}}


def test_authorization_header_missing(demo_client: httpx.Client) -> None:
    result = post(demo_client, ACCOUNT_NUMBER_QUERY)
    assert_kraken_error(result, "graphql-authorization-header-missing.json", "account")


@pytest.mark.parametrize("value", ["not-a-token", "aaa.bbb.ccc"])
def test_authorization_invalid(demo_client: httpx.Client, value: str) -> None:
    result = post(demo_client, TEN_SECOND_MINUTE_QUERY, value)
    assert_kraken_error(result, "graphql-authorization-invalid.json", "smartMeterTelemetry")


def test_tampered_token_is_invalid(demo_client: httpx.Client, demo_token: str) -> None:
    header, _, signature = demo_token.split(".")
    claims = jwt_claims(demo_token)
    claims["exp"] += 86400
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    result = post(demo_client, ACCOUNT_NUMBER_QUERY, f"{header}.{forged}.{signature}")
    assert result["errors"][0]["extensions"]["errorCode"] == "KT-CT-1143"
    assert result["data"] == {"account": None}


def test_unauthorized_for_another_account(demo_client: httpx.Client, demo_token: str) -> None:
    result = post(demo_client, ACCOUNT_NUMBER_QUERY.replace(DEMO_ACCOUNT, ANOTHER_ACCOUNT), demo_token)
    assert_kraken_error(result, "graphql-unauthorized.json", "account")


# --- malformed queries ---------------------------------------------------------------------------------


def _assert_engine_error(result: dict[str, Any], message_start: str) -> None:
    assert "data" not in result, result  # the request never reached execution
    assert len(result["errors"]) == 1
    error = result["errors"][0]
    assert error["message"].startswith(message_start), error
    assert error["locations"]
    assert set(error["locations"][0]) == {"line", "column"}
    assert set(error["extensions"]) >= {"errorType", "errorCode", "errorDescription"}
    assert error["extensions"]["errorType"] == "VALIDATION"
    assert error["extensions"]["errorCode"] == "GRAPHQL_VALIDATION_FAILED"
    assert isinstance(error["extensions"]["errorDescription"], str)


def test_malformed_query_is_a_graphql_error_with_http_200(demo_client: httpx.Client, demo_token: str) -> None:
    result = post(demo_client, fill('query { account(accountNumber: "<<a>>") { number ', a=DEMO_ACCOUNT), demo_token)
    _assert_engine_error(result, "Syntax Error")


def test_unknown_field_is_a_graphql_error_with_http_200(demo_client: httpx.Client, demo_token: str) -> None:
    query = fill('query { account(accountNumber: "<<a>>") { number colour } }', a=DEMO_ACCOUNT)
    result = post(demo_client, query, demo_token)
    _assert_engine_error(result, "Cannot query field 'colour' on type 'AccountType'.")


def test_body_without_a_query_is_a_graphql_error_with_http_200(demo_client: httpx.Client) -> None:
    response = demo_client.post("/v1/graphql/", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 200
    result = response.json()
    assert "data" not in result
    assert result["errors"][0]["extensions"]["errorCode"] == "GRAPHQL_VALIDATION_FAILED"


# --- rate limits ---------------------------------------------------------------------------------------


def test_rate_limited_after_the_hourly_allowance_of_token_requests(fresh_sim: SimServer) -> None:
    with fresh_sim.client() as client:
        for _ in range(100):
            obtain(client)
        result = post(client, fill(TOKEN_MUTATION, key=DEMO_KEY))
    assert_kraken_error(result, "graphql-rate-limited.json", "obtainKrakenToken")


def test_per_token_allowance_gives_kt_ct_1199_then_kt_gb_4042_for_telemetry(fresh_sim: SimServer) -> None:
    telemetry = TEN_SECOND_MINUTE_QUERY
    with fresh_sim.client() as client:
        token = obtain(client)["token"]
        answers = [post(client, ACCOUNT_NUMBER_QUERY, token) for _ in range(100)]
        assert all(a == {"data": {"account": {"number": DEMO_ACCOUNT}}} for a in answers)
        over = post(client, ACCOUNT_NUMBER_QUERY, token)
        over_telemetry = post(client, telemetry, token)
        other_token = obtain(client)["token"]
        fresh = post(client, ACCOUNT_NUMBER_QUERY, other_token)
    assert_kraken_error(over, "graphql-rate-limited.json", "account")
    assert_kraken_error(over_telemetry, "graphql-telemetry-rate-limited.json", "smartMeterTelemetry")
    assert fresh == {"data": {"account": {"number": DEMO_ACCOUNT}}}


# --- account and Home Mini -----------------------------------------------------------------------------

ACCOUNT_METERS_QUERY = """
query {
  octoplusAccountInfo(accountNumber: "<<a>>") { isOctoplusEnrolled }
  properties(accountNumber: "<<a>>") { id occupancyPeriods { effectiveTo } }
  account(accountNumber: "<<a>>") {
    electricityAgreements(active: true) {
      meterPoint {
        mpan
        direction
        meters(includeInactive: false) {
          activeFrom activeTo makeAndType serialNumber meterType
          smartExportElectricityMeter { deviceId manufacturer model firmwareVersion }
          smartImportElectricityMeter { deviceId manufacturer model firmwareVersion }
        }
        agreements(includeInactive: true) { validFrom validTo tariff { productCode tariffCode } }
      }
    }
    gasAgreements(active: true) {
      meterPoint {
        mprn
        meters(includeInactive: false) {
          activeFrom activeTo serialNumber consumptionUnits modelName mechanism
          smartGasMeter { deviceId manufacturer model firmwareVersion }
        }
        agreements(includeInactive: true) { validFrom validTo tariff { tariffCode productCode } }
      }
    }
  }
}
"""
ACCOUNT_METERS_QUERY = fill(ACCOUNT_METERS_QUERY, a=DEMO_ACCOUNT)


def test_account_meters(demo_client: httpx.Client, demo_token: str) -> None:
    result = post(demo_client, ACCOUNT_METERS_QUERY, demo_token)
    assert "errors" not in result, result
    data = result["data"]
    points = [a["meterPoint"] for a in data["account"]["electricityAgreements"]]
    assert [(p["mpan"], p["direction"]) for p in points] == [(IMPORT_MPAN, "IMPORT"), (EXPORT_MPAN, "EXPORT")]
    imported = points[0]
    assert [m["serialNumber"] for m in imported["meters"]] == ["21L0000101"]
    assert imported["meters"][0]["smartImportElectricityMeter"]["deviceId"] == HOME_MINI
    assert [
        (a["validFrom"], a["validTo"], a["tariff"]["tariffCode"], a["tariff"]["productCode"])
        for a in imported["agreements"]
    ] == [
        ("2024-11-21T00:00:00+00:00", "2025-11-21T00:00:00+00:00", "E-1R-VAR-22-11-01-J", "VAR-22-11-01"),
        ("2025-11-21T00:00:00+00:00", None, "E-1R-INTELLI-VAR-24-10-29-J", "INTELLI-VAR-24-10-29"),
    ]
    gas = data["account"]["gasAgreements"][0]["meterPoint"]
    assert gas["mprn"] == "3000000101"
    assert [(m["serialNumber"], m["consumptionUnits"], m["mechanism"]) for m in gas["meters"]] == [
        ("G4S0000101", "m³", "S2")
    ]
    assert [p["id"] for p in data["properties"]] == ["3100001"]
    assert data["octoplusAccountInfo"] == {"isOctoplusEnrolled": True}
    assert_shape(result, "graphql-account-meters.json")


HOME_MINI_QUERY = (
    'query { account(accountNumber: "<<a>>") { electricityAgreements(active: true) '
    "{ meterPoint { meters(includeInactive: false) { smartDevices { deviceId } } } } } }"
)


def test_home_mini_device_id(demo_client: httpx.Client, demo_token: str) -> None:
    result = post(demo_client, fill(HOME_MINI_QUERY, a=DEMO_ACCOUNT), demo_token)
    assert_shape(result, "graphql-home-mini-device-id.json")
    devices = [
        d["deviceId"]
        for a in result["data"]["account"]["electricityAgreements"]
        for m in a["meterPoint"]["meters"]
        for d in m["smartDevices"]
    ]
    assert HOME_MINI in devices
    assert set(devices) == {HOME_MINI}


def test_home_mini_device_id_none() -> None:
    if "no_home_mini" not in builtin_scenarios():
        pytest.skip("no 'no_home_mini' scenario is shipped")
    with simulator("no_home_mini") as sim, sim.client() as client:
        token = obtain(client, "sk_live_octoscope_nomini_test")["token"]
        result = post(client, fill(HOME_MINI_QUERY, a="A-00000000"), token)
    assert_shape(result, "graphql-home-mini-device-id-none.json")
    meters = [m for a in result["data"]["account"]["electricityAgreements"] for m in a["meterPoint"]["meters"]]
    assert meters
    assert all(m["smartDevices"] == [] for m in meters)


def test_account_balance(demo_client: httpx.Client, demo_token: str) -> None:
    query = fill('query { account(accountNumber: "<<a>>") { number balance overdueBalance } }', a=DEMO_ACCOUNT)
    result = post(demo_client, query, demo_token)
    assert_shape(result, "graphql-account-balance.json")
    assert result["data"]["account"]["number"] == DEMO_ACCOUNT


# --- telemetry -----------------------------------------------------------------------------------------

TELEMETRY_QUERY = (
    'query { smartMeterTelemetry(deviceId: "<<device>>", grouping: <<grouping>>, start: "<<start>>", end: "<<end>>")'
    " { <<fields>> } }"
)


def telemetry_query(grouping: str, start: str, end: str, fields: str) -> str:
    return fill(TELEMETRY_QUERY, device=HOME_MINI, grouping=grouping, start=start, end=end, fields=fields)


def test_telemetry_ten_seconds(demo_client: httpx.Client, demo_token: str) -> None:
    query = telemetry_query(
        "TEN_SECONDS", "2026-11-20T17:00:00+00:00", "2026-11-20T17:01:00+00:00", "readAt consumptionDelta demand"
    )
    result = post(demo_client, query, demo_token)
    assert_shape(result, "graphql-telemetry.json")
    rows = result["data"]["smartMeterTelemetry"]
    assert [r["readAt"] for r in rows] == [f"2026-11-20T17:00:{s:02d}+00:00" for s in range(0, 60, 10)]
    assert all(Decimal(r["consumptionDelta"]) >= 0 and Decimal(r["demand"]) > 0 for r in rows)


def test_telemetry_half_hourly(demo_client: httpx.Client, demo_token: str) -> None:
    fields = "readAt consumption consumptionDelta demand costDelta costDeltaWithTax export"
    query = telemetry_query("HALF_HOURLY", "2026-11-20T00:00:00+00:00", "2026-11-20T02:00:00+00:00", fields)
    result = post(demo_client, query, demo_token)
    assert_shape(result, "graphql-telemetry-half-hourly.json")
    rows = result["data"]["smartMeterTelemetry"]
    assert [r["readAt"] for r in rows] == [
        "2026-11-20T00:00:00+00:00",
        "2026-11-20T00:30:00+00:00",
        "2026-11-20T01:00:00+00:00",
        "2026-11-20T01:30:00+00:00",
    ]
    for row in rows:
        for name in fields.split()[1:]:
            try:
                Decimal(row[name])
            except InvalidOperation:
                pytest.fail(f"{name}={row[name]!r} is not a Decimal string")
        # costDeltaWithTax is costDelta plus 5% VAT.
        assert abs(Decimal(row["costDeltaWithTax"]) - Decimal(row["costDelta"]) * Decimal("1.05")) < Decimal("0.0002")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-22T00:00:00+00:00", "2026-11-22T01:00:00+00:00"),  # tomorrow
        ("2026-11-21T09:00:00+00:00", "2026-11-21T10:00:00+00:00"),  # from now on
    ],
)
def test_telemetry_empty(demo_client: httpx.Client, demo_token: str, start: str, end: str) -> None:
    query = telemetry_query("TEN_SECONDS", start, end, "readAt consumptionDelta demand")
    result = post(demo_client, query, demo_token)
    assert_shape(result, "graphql-telemetry-empty.json")
    assert result == {"data": {"smartMeterTelemetry": []}}


# --- Intelligent Octopus -------------------------------------------------------------------------------

DISPATCHES_QUERY = """
query {
  devices(accountNumber: "<<a>>", deviceId: "<<d>>") { id status { currentState } }
  flexPlannedDispatches(deviceId: "<<d>>") { start end type energyAddedKwh }
  completedDispatches(accountNumber: "<<a>>") { start end delta meta { source location } }
}
"""
DISPATCHES_QUERY = fill(DISPATCHES_QUERY, a=DEMO_ACCOUNT, d=EV_DEVICE)
LEGACY_DISPATCHES_QUERY = """
query {
  plannedDispatches(accountNumber: "<<a>>") { start end delta meta { source location } }
  completedDispatches(accountNumber: "<<a>>") { start end delta meta { source location } }
}
"""
LEGACY_DISPATCHES_QUERY = fill(LEGACY_DISPATCHES_QUERY, a=DEMO_ACCOUNT)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


@pytest.fixture(scope="module")
def long_dispatch(demo_sim: SimServer) -> dict[str, Any]:
    """The latest SMART dispatch of at least an hour before the demo clock, from the simulator's truth."""
    truth = httpx.get(f"{demo_sim.url}/_sim/truth", timeout=30).json()
    smart = [d for d in truth["dispatches"] if d["type"] == "SMART" and _ts(d["end"]) - _ts(d["start"]) >= 3600]
    assert smart, "the demo has no SMART dispatch of an hour or more"
    return max(smart, key=lambda d: _ts(d["start"]))


def test_planned_dispatches_during_a_dispatch(fresh_sim: SimServer, long_dispatch: dict[str, Any]) -> None:
    start, end = _ts(long_dispatch["start"]), _ts(long_dispatch["end"])
    set_clock(fresh_sim, now=_iso(start + 1800 + 60))  # inside the dispatch's second half-hour
    with fresh_sim.client() as client:
        token = obtain(client)["token"]
        result = post(client, DISPATCHES_QUERY, token)
    assert_shape(result, "graphql-planned-dispatches.json")
    data = result["data"]
    assert data["devices"] == [{"id": EV_DEVICE, "status": {"currentState": "SMART_CONTROL_IN_PROGRESS"}}]
    planned = data["flexPlannedDispatches"]
    assert [(p["start"], p["end"], p["type"]) for p in planned][:1] == [(_iso(start), _iso(end), "SMART")]
    assert abs(Decimal(planned[0]["energyAddedKwh"]) + Decimal(str(long_dispatch["kwh"]))) <= Decimal("0.0005")
    completed = data["completedDispatches"]
    assert completed, "the dispatch's first half-hour has ended"
    assert (completed[0]["start"], completed[0]["end"]) == (_iso(start), _iso(start + 1800))
    assert completed[0]["meta"] == {"source": None, "location": "AT_HOME"}
    assert Decimal(completed[0]["delta"]) < 0  # import is negative


def test_planned_dispatches_legacy(fresh_sim: SimServer, long_dispatch: dict[str, Any]) -> None:
    start, end = _ts(long_dispatch["start"]), _ts(long_dispatch["end"])
    set_clock(fresh_sim, now=_iso(start + 1800 + 60))
    with fresh_sim.client() as client:
        token = obtain(client)["token"]
        result = post(client, LEGACY_DISPATCHES_QUERY, token)
    assert_shape(result, "graphql-planned-dispatches-legacy.json")
    planned = result["data"]["plannedDispatches"]
    assert [(p["start"], p["end"], p["meta"]) for p in planned][:1] == [
        (_iso(start), _iso(end), {"source": "smart-charge", "location": None})
    ]
    assert result["data"]["completedDispatches"]


def test_planned_dispatches_none(fresh_sim: SimServer) -> None:
    """Walk forward day by day at 16:00 UTC until nothing is planned and nothing completed in 12 hours."""
    with fresh_sim.client() as client:
        for day in range(1, 21):
            set_clock(fresh_sim, now=f"2026-11-{day:02d}T16:00:00Z")
            token = obtain(client)["token"]
            result = post(client, DISPATCHES_QUERY, token)
            assert "errors" not in result, result
            if not result["data"]["flexPlannedDispatches"] and not result["data"]["completedDispatches"]:
                break
        else:
            pytest.fail("no quiet afternoon in November 2026")
    assert_shape(result, "graphql-planned-dispatches-none.json")
    assert result["data"]["devices"][0]["id"] == EV_DEVICE


def test_intelligent_devices(demo_client: httpx.Client, demo_token: str) -> None:
    query = """
    query {
      electricVehicles { make models { model batterySize } }
      chargePointVariants { make models { model powerInKw } }
      devices(accountNumber: "<<a>>") {
        id provider deviceType status { current } __typename
        ... on SmartFlexVehicle { make model }
        ... on SmartFlexChargePoint { make model }
      }
    }
    """
    query = fill(query, a=DEMO_ACCOUNT)
    result = post(demo_client, query, demo_token)
    assert_shape(result, "graphql-intelligent-devices.json")
    data = result["data"]
    assert data["devices"] == [
        {
            "id": EV_DEVICE,
            "provider": "OHME",
            "deviceType": "ELECTRIC_VEHICLES",
            "status": {"current": "LIVE"},
            "__typename": "SmartFlexChargePoint",
            "make": "Ohme",
            "model": "Home Pro",
        }
    ]
    assert data["chargePointVariants"] == [{"make": "Ohme", "models": [{"model": "Home Pro", "powerInKw": "7.0"}]}]
    assert [m["batterySize"] for v in data["electricVehicles"] for m in v["models"]] == ["64.0"]


def test_flex_planned_dispatches_allow_five_calls_a_minute(fresh_sim: SimServer) -> None:
    query = fill('query { flexPlannedDispatches(deviceId: "<<d>>") { start end type energyAddedKwh } }', d=EV_DEVICE)
    with fresh_sim.client() as client:
        token = obtain(client)["token"]
        answers = [post(client, query, token) for _ in range(5)]
        assert all("errors" not in a for a in answers), answers
        over = post(client, query, token)
        set_clock(fresh_sim, advance_seconds=61)
        again = post(client, query, token)
    assert_kraken_error(over, "graphql-rate-limited.json", "flexPlannedDispatches")
    assert "errors" not in again, again


def test_telemetry_history_window(demo_client: httpx.Client, demo_token: str) -> None:
    """Telemetry reaches back 90 days (the scenario default); further back is KT-GB-4051."""
    day = 86400
    inside = DEMO_NOW_EPOCH - 89 * day
    outside = DEMO_NOW_EPOCH - 91 * day
    ok = post(demo_client, telemetry_query("HALF_HOURLY", _iso(inside), _iso(inside + 1800), "readAt"), demo_token)
    assert ok == {"data": {"smartMeterTelemetry": [{"readAt": _iso(inside)}]}}
    too_old = post(
        demo_client, telemetry_query("HALF_HOURLY", _iso(outside), _iso(outside + 1800), "readAt"), demo_token
    )
    assert too_old["data"] == {"smartMeterTelemetry": None}
    assert too_old["errors"][0]["extensions"]["errorCode"] == "KT-GB-4051"
    assert too_old["errors"][0]["path"] == ["smartMeterTelemetry"]


def test_viewer_finds_the_account_number(demo_client: httpx.Client, demo_token: str) -> None:
    result = post(demo_client, "query { viewer { accounts { number } } }", demo_token)
    assert result == {"data": {"viewer": {"accounts": [{"number": DEMO_ACCOUNT}]}}}
