"""Home Mini telemetry through the GraphQL client: the query, the parsing, a single attempt that leaves the
retrying to the live poller, and an expired token whose refresh token has expired too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from octoscope.domain.models import IssuedToken
from octoscope.octopus.errors import GaveUp, NotFound, RateLimited, UnexpectedResponse
from octoscope.octopus.graphql import GraphQLClient
from octoscope.octopus.parse import telemetry
from tests.conftest import load_fixture
from tests.octopus.fakes import FakeTime
from tests.octopus.test_graphql_client import (
    ISSUED_AT,
    KEY,
    KEY_ID,
    Kraken,
    MemoryVault,
    failure,
    fixture,
    json_,
    run,
    token_answer,
)

START = datetime(2025, 1, 13, 17, 0, tzinfo=UTC)
END = datetime(2025, 1, 13, 17, 1, tzinfo=UTC)


async def ask(client: GraphQLClient) -> Any:
    return await client.telemetry("12-34-5A-FF-FF-6B-C7-89", START, END, attempts=1)


def test_telemetry_is_asked_with_variables_and_parsed_oldest_first() -> None:
    kraken = Kraken(answers=[fixture("graphql-telemetry.json")])
    readings = run(kraken, ask)
    body = orjson.loads(kraken.queries[0].content)
    assert body["variables"] == {
        "device": "12-34-5A-FF-FF-6B-C7-89",
        "start": "2025-01-13T17:00:00Z",
        "end": "2025-01-13T17:01:00Z",
        "grouping": "TEN_SECONDS",
    }
    assert "12-34-5A" not in body["query"]  # values travel as variables, never in the text
    assert [r.read_at.second for r in readings] == [0, 10, 20, 30, 50]  # 17:00:40 is missing, as captured
    assert readings[0].demand_w == 624.0
    assert readings[0].delta_wh == 0.0  # "0E+1"
    assert readings[0].consumption_wh is None  # not in the capture: None, not zero


def test_empty_telemetry_is_an_answer() -> None:
    assert run(Kraken(answers=[fixture("graphql-telemetry-empty.json")]), ask) == []


def test_one_attempt_at_a_rate_limit_gives_up_at_once_carrying_the_rate_limit() -> None:
    fake = FakeTime(ISSUED_AT + 60)
    kraken = Kraken(answers=[fixture("graphql-telemetry-rate-limited.json")])
    err = failure(kraken, ask, fake=fake)
    assert isinstance(err, GaveUp)
    assert isinstance(err.last, RateLimited)
    assert "KT-GB-4042" in str(err)
    assert len(kraken.queries) == 1
    assert fake.sleeps == []


def test_an_unknown_smart_meter_is_not_found() -> None:
    error = {
        "errors": [
            {
                "message": "Smart meter not found.",
                "path": ["smartMeterTelemetry"],
                "extensions": {"errorType": "NOT_FOUND", "errorCode": "KT-GB-4050", "errorDescription": ""},
            }
        ],
        "data": {"smartMeterTelemetry": None},
    }
    assert isinstance(failure(Kraken(answers=[json_(error)]), ask), NotFound)


def test_an_expired_token_whose_refresh_token_expired_too_is_replaced_with_the_key() -> None:
    # Our clock thinks both are good; Octopus says the token expired (KT-CT-1124), then that the refresh
    # token did (KT-CT-1134): the key mints a new pair and the query goes through.
    fake = FakeTime(ISSUED_AT + 60)
    vault = MemoryVault(IssuedToken("stale-token", fake.now + 3000, "refresh-old", fake.now + 86400))
    kraken = Kraken(
        tokens=[
            fixture("graphql-refresh-token-expired.json"),
            token_answer("fresh-token", "refresh-new", int(fake.now)),
        ],
        answers=[fixture("graphql-token-expired.json"), fixture("graphql-telemetry.json")],
    )
    readings = run(kraken, ask, vault=vault, fake=fake)
    assert len(readings) == 5
    assert kraken.token_inputs == [{"refreshToken": "refresh-old"}, {"APIKey": KEY}]
    assert kraken.authorizations() == ["stale-token", "fresh-token"]
    assert vault.tokens[KEY_ID].refresh_token == "refresh-new"


def test_a_reading_without_its_instant_names_the_field() -> None:
    body: Any = load_fixture("graphql-telemetry.json")
    del body["data"]["smartMeterTelemetry"][2]["readAt"]
    with pytest.raises(UnexpectedResponse, match=r"smartMeterTelemetry\[2\]\.readAt is missing"):
        telemetry(body["data"])


def test_a_demand_that_is_not_a_number_names_the_field() -> None:
    body: Any = load_fixture("graphql-telemetry.json")
    body["data"]["smartMeterTelemetry"][1]["demand"] = "lots"
    with pytest.raises(UnexpectedResponse, match=r"smartMeterTelemetry\[1\]\.demand"):
        telemetry(body["data"])
