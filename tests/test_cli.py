"""The command line, run as a user runs it: a real process, real sockets."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, machine_env

UK = ZoneInfo("Europe/London")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "octoscope", *args], capture_output=True, text=True, timeout=60, check=False
    )


def all_commands() -> list[list[str]]:
    """Every command and sub-command's words, from the app itself (a new command cannot be forgotten)."""
    import typer

    from octoscope.cli import app

    def walk(group: object, prefix: list[str]) -> list[list[str]]:
        out = []
        for name, command in sorted(getattr(group, "commands", {}).items()):
            out += walk(command, [*prefix, name]) if hasattr(command, "commands") else [[*prefix, name]]
        return out

    return walk(typer.main.get_command(app), [])


def test_every_command_has_help_with_an_example() -> None:
    commands = all_commands()
    assert len(commands) >= 15
    assert ["export", "influx"] in commands
    for words in commands:
        result = run(*words, "--help")
        assert result.returncode == 0, result.stderr
        assert f"Example: octoscope {words[0]}" in " ".join(result.stdout.split()), words


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dispatches", "--days", "0"], "Error: Invalid value for '--days'"),
        (["cheapest", "--hours", "abc"], "Error: Invalid value for '--hours'"),
        (["export", "xml"], "Error: No such command 'xml'"),
        (["serve", "--port", "99999"], "Error: Invalid value for '--port'"),
        (["costs", "--nope"], "Error: No such option: --nope"),
        (["nosuch"], "Error: No such command 'nosuch'"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_1(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(message)
    assert result.stderr.rstrip().endswith("--help`)")


def test_no_command_shows_the_help() -> None:
    result = run()
    assert result.returncode == 0
    assert "Usage: python -m octoscope" in result.stdout
    assert "Error" not in result.stdout + result.stderr


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'api_key = "\xff"\n')
    result = subprocess.run(
        [sys.executable, "-m", "octoscope", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "OCTOSCOPE_CONFIG": str(path)},
    )
    assert result.returncode == 1
    assert (
        result.stderr == f"Error: {path} is not UTF-8 text: save it as UTF-8, or remove it and run `octoscope init`\n"
    )


def test_a_short_token_does_not_guard_the_network() -> None:
    result = run("serve", "--host", "0.0.0.0", "--token", "short")  # noqa: S104 (refused before it binds)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: an access token needs 16 characters or more")
    assert "short" not in result.stderr


def test_a_port_in_use_is_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run("simulate", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_fails_before_the_sync_and_before_the_url(command: str, tmp_path: Path) -> None:
    """The port is tried first: no sync to sit through, no dashboard URL printed that will never answer."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        began = time.monotonic()
        result = run(command, "--port", str(port), *(["--db", str(tmp_path / "demo.db")] if command == "demo" else []))
        took = time.monotonic() - began
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: port {port} on 127.0.0.1 cannot be used (Address already in use): stop what is using it, or"
        " choose another with --port\n"
    )
    assert "http://" not in result.stdout
    assert "Syncing" not in result.stdout
    assert took < 30, f"{command} took {took:.1f} s to refuse a busy port"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--scenario", "nope"], "Error: no scenario named 'nope'"),
        (["simulate", "--faults", "418:0.5"], "Error: fault '418:0.5': unknown kind '418'"),
        (["simulate", "--faults", "503:2"], "Error: fault '503:2': probability must be between 0 and 1"),
        (["simulate", "--fleet", "0"], "Error: --fleet: expected a number of accounts from 1 to"),
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


class Printed:
    """What a running process prints, read line by line in a thread so that a wait can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process, self.stdout = process, process.stdout
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=lambda: [self.lines.put(line) for line in self.stdout], daemon=True)
        self.reader.start()
        self.text = ""

    def until(self, marker: str, seconds: float) -> str:
        """Everything printed, up to and including the first line holding ``marker``."""
        deadline = time.monotonic() + seconds
        while marker not in self.text:
            try:
                self.text += self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} within {seconds} s; printed:\n{self.text}") from None
        return self.text

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.reader.join(30)  # the pipe's end reached: the reader is done with the file
        self.stdout.close()


@pytest.mark.parametrize("now", [None, "2027-10-31T12:00:00Z"], ids=["machine-date", "set-instant"])
def test_demo_syncs_up_to_yesterday_on_its_date_and_serves_it(tmp_path: Path, now: str | None) -> None:
    """The demo runs on the machine's date (or the instant --now sets), in a home of its own: never the
    user's demo database. Its data ends where the simulator's published consumption does: yesterday, or
    the day before when run before the morning's publication."""
    env = {**machine_env(), "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    args = ["--now", now] if now else []
    began = datetime.now(UTC)  # the machine's date: what a newcomer's demo must follow
    process = subprocess.Popen(
        [sys.executable, "-m", "octoscope", *args, "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed = Printed(process)
    try:
        text = printed.until("Dashboard: http://", 240)
        assert "A-DE30DE30" in text
        sim = re.search(r"REST API:\s+(http://127\.0\.0\.1:\d+)/v1/", text)
        web = re.search(r"Dashboard: (http://127\.0\.0\.1:\d+)/", text)
        assert sim, text
        assert web, text
        clock = httpx.get(f"{sim.group(1)}/_sim/clock", timeout=30).json()
        sim_now = datetime.fromisoformat(clock["now"])
        published = datetime.fromisoformat(clock["consumption_published_until"])
        expected_now = datetime.fromisoformat(now.replace("Z", "+00:00")) if now else began
        assert abs((sim_now - expected_now).total_seconds()) < 600, (sim_now, expected_now)
        today = sim_now.astimezone(UK).date()
        assert published.astimezone(UK).date() in (today, today - timedelta(days=1))  # midnight ending the data
        overview = get_when_up(f"{web.group(1)}/api/overview").json()
        until = datetime.fromisoformat(overview["fuels"]["electricity"]["data_until"])
        assert published - timedelta(hours=2) <= until <= published  # a late half-hour or two may be missing
        app_now = datetime.fromisoformat(overview["now"])  # the half-hour under way, on the app's clock
        assert 0 <= (sim_now - app_now).total_seconds() < 1800 + 120  # the app's clock is the simulator's
        assert (tmp_path / "data" / "octoscope" / "demo.db").exists()
        assert "UK time" in text  # the sync says when, as a UK reader reads it
        assert f" {until.astimezone(UK).day} {until.astimezone(UK):%b %Y %H:%M} (kWh)" in text
        assert process.poll() is None
    finally:
        printed.stop()
