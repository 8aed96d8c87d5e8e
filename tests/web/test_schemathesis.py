"""Every operation in the OpenAPI schema, fed generated queries by schemathesis over a real socket: no
server error (5xx) whatever is asked. Bounded: a few dozen examples per operation, well under a minute.

The app has no API key, so nothing here can reach Octopus (a dispatch refresh answers 409).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from octoscope.clock import frozen
from octoscope.config import Settings
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_ACCOUNT, DEMO_NOW, Cli

EXAMPLES = 20  # per operation and mode (valid and invalid queries)
# An event stream never ends, so a generated call would only wait for its timeout (4 minutes in all); its
# bad inputs (a Last-Event-ID that is not a reading id) are tested in test_api_live.
STREAMS = {"GET /api/live/stream"}


def fuzz(operation: Any, mode: GenerationMode, base: str, tried: dict[str, int]) -> None:
    """Send generated requests for one operation; fail on the first 5xx."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base, checks=[not_a_server_error], timeout=30)
        tried[operation.label] = tried.get(operation.label, 0) + 1

    try:
        check()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise  # an operation with no parameters has no invalid request to make, and that is all


def test_no_query_makes_a_server_error(synced_demo: Cli) -> None:
    settings = Settings(account=DEMO_ACCOUNT, db=synced_demo.db, config_path=synced_demo.home / "none.toml")
    tried: dict[str, int] = {}
    with serve_in_thread(create_app(settings, clock=frozen(DEMO_NOW))) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.label in STREAMS:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz(operation, mode, base, tried)
    assert set(tried) >= {"GET /api/usage", "GET /api/overview", "GET /api/costs", "GET /api/cheapest", "GET /metrics"}
    assert not set(tried) & STREAMS
    assert min(tried.values()) >= 1
