"""Extreme values into every route and every CLI date or number option (issue 15): each query and path
parameter of every operation in the OpenAPI schema, and each such option of every command, is given each of
a list of extremes (year 1 and 9999, NaN, infinities, 1e308, huge integers, empty text...). Whatever is
asked: no 5xx, no traceback in the server's log or on the terminal, and every refusal is one line.

Exhaustive rather than sampled: the list is short, and every pair is tried (the counts are printed).
The app has no API key, so nothing here can reach Octopus.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

from octoscope.cli import app as cli_app
from octoscope.clock import frozen
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import Cli
from tests.web.test_security import NOW, keyless

DATES = ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01", "99999-01-01", "2026-02-30", "9999-12", "0001"]
NUMBERS = ["nan", "NaN", "inf", "-inf", "1e308", "-1e308", "0", "-1", "99999999999999999999", "0.0000001"]
TEXTS = ["", " ", "\x00", "%", "x" * 2000]
EXTREMES = DATES + NUMBERS + TEXTS
STREAMS = {"/api/live/stream"}  # never ends by itself; its inputs are tested in test_api_live
REQUIRED = {"hours": "2", "job": "0123456789abcdef"}


def operations(base: str) -> list[tuple[str, str, list[str]]]:
    schema = httpx.get(f"{base}/openapi.json", timeout=30).json()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path in STREAMS:
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] in ("query", "path")]
            found.append((method.upper(), path, names))
    return found


def test_extreme_values_on_every_route(synced_demo: Cli, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    tried = 0
    statuses: dict[int, int] = {}
    problems: list[str] = []
    with (
        serve_in_thread(create_app(keyless(synced_demo), clock=frozen(NOW))) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        for method, path, names in operations(base):
            for name in names:
                for value in EXTREMES:
                    params = {n: REQUIRED[n] for n in names if n in REQUIRED and n != name}
                    params[name] = value
                    url = path
                    for key in list(params):
                        if "{" + key + "}" in url:
                            url = url.replace("{" + key + "}", quote(params.pop(key), safe="") or "%20")
                    response = client.request(method, url, params=params)
                    tried += 1
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    problem = _judge(response)
                    if problem:
                        problems.append(f"{method} {path} {name}={value!r}: {problem}")
    logged = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    print(f"{tried} requests with extreme values, by status {sorted(statuses.items())}: {len(problems)} problems,")
    print(f"{len(logged)} tracebacks logged")
    assert statuses.get(400, 0) > 100  # the extremes reached our own checks, not only FastAPI's types
    assert tried > 500
    assert problems == []
    assert logged == []


def _judge(response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:200]}"
    if response.status_code >= 400:
        try:
            detail = response.json()["detail"]
        except (ValueError, KeyError):
            return f"{response.status_code} without a JSON detail: {response.text[:200]}"
        if not isinstance(detail, str) or "\n" in detail or not detail:
            return f"{response.status_code} detail is not one line: {detail!r}"
    return None


# Every command with a date or number option, with what else it needs to run.
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "costs": (["--from", "--to", "--period", "--days"], []),
    "sessions": (["--from", "--to", "--days", "--charger-kw"], []),
    "dispatches": (["--days"], []),
    "cheapest": (["--hours", "--max-price", "--top", "--kw"], ["--hours", "2"]),
    "compare": (["--months"], []),
    "live": (["--minutes", "--seconds"], []),
    "sync": (["--from", "--to"], ["--dry-run"]),
    "export csv": (["--from", "--to", "--period", "--days"], ["--output", "/dev/null"]),
}
CLI_EXTREMES = ["9999-12-31", "0001-01-01", "99999-01-01", "nan", "inf", "-inf", "1e308", "-1", "0", "9" * 20]


def test_extreme_values_on_every_cli_option(synced_demo: Cli) -> None:
    runner = CliRunner()
    env = {**synced_demo.env, **synced_demo.clock_env(), "OCTOSCOPE_API_KEY": ""}  # nothing asks Octopus
    tried = 0
    problems: list[str] = []
    for command, (options, needs) in COMMANDS.items():
        for option in options:
            for value in CLI_EXTREMES:
                base = [a for i, a in enumerate(needs) if not (needs[i - 1 : i] == [option] or a == option)]
                args = [*command.split(), *base, option, value]
                if option == "--to":
                    args += ["--from", "2026-01-01"]
                result = runner.invoke(cli_app, args, env=env)
                tried += 1
                out = result.output
                if result.exception is not None and not isinstance(result.exception, SystemExit):
                    problems.append(f"{args}: {type(result.exception).__name__}: {result.exception}")
                elif "Traceback" in out or result.exit_code not in (0, 1, 2):
                    problems.append(f"{args}: exit {result.exit_code}: {out[-300:]}")
                elif result.exit_code == 1 and sum(line.startswith("Error:") for line in out.splitlines()) != 1:
                    problems.append(f"{args}: not one Error line: {out[-300:]}")
    print(f"{tried} CLI runs with extreme values: {len(problems)} problems")
    assert tried > 100
    assert problems == []
