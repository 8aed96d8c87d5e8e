"""The command line, run as a user runs it: a real process, real sockets."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_ACCOUNT, DEMO_KEY


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "octoscope", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_every_command_has_help_with_an_example() -> None:
    for command in ("simulate", "demo", "version"):
        result = run(command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Example: octoscope" in " ".join(result.stdout.split()), command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--scenario", "nope"], "Error: no scenario named 'nope'"),
        (["simulate", "--faults", "418:0.5"], "Error: fault '418:0.5': unknown kind '418'"),
        (["simulate", "--faults", "503:2"], "Error: fault '503:2': probability must be between 0 and 1"),
        (["simulate", "--now", "2026-02-30T00:00:00Z"], "Error: --now: expected an ISO 8601 datetime"),
        (["simulate", "--speed", "-1"], "Error: --speed must be 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert "Traceback" not in result.stderr


def test_bad_scenario_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[products]]\ncode = 'flexible'\n")
    result = run("simulate", "--scenario", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: broken.toml: products[0].code: expected an upper-case product code like VAR-22-11-01, got 'flexible'"
    )


def get_when_up(url: str, **kwargs: object) -> httpx.Response:
    """GET a URL from a server that is still starting: retry refused connections for up to 20 s."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "octoscope", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def test_simulate_serves_the_api_over_a_socket() -> None:
    with start("simulate", "--port", "0", "--now", "2026-11-21T09:00:00Z", "--speed", "0") as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)/v1/", line)
            assert match, line
            response = get_when_up(f"{match.group(1)}/v1/accounts/{DEMO_ACCOUNT}/", auth=(DEMO_KEY, ""))
            assert response.status_code == 200
            assert response.json()["number"] == DEMO_ACCOUNT
        finally:
            process.terminate()


def test_demo_prints_what_it_serves_and_the_url() -> None:
    with start("demo") as process:
        try:
            assert process.stdout is not None
            text = "".join(process.stdout.readline() for _ in range(6))
            assert "A-DE30DE30" in text
            match = re.search(r"REST API:\s+(http://127\.0\.0\.1:\d+)/v1/", text)
            assert match, text
            response = get_when_up(f"{match.group(1)}/v1/products/")
            assert response.status_code == 200
            assert response.json()["count"] >= 9
        finally:
            process.terminate()
