"""``octoscope live`` as a real process against the simulator running in real time: one view, a plain
stream of readings for a pipe, Ctrl-C, and bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from octoscope.cli.live import sparkline
from tests.conftest import Cli, make_cli, simulator

# A winter evening: the house draws from the grid (at noon the demo's solar panels can make the day's
# projection negative), whatever the machine's date and time.
EVENING = "2026-11-21T18:30:00Z"


@pytest.fixture
def now_cli(tmp_path: Path) -> Iterator[Cli]:
    """The demo account on a simulator whose clock runs in real time from a winter evening (the CLI's runs
    on the same instant and pace), the last few days synced."""
    with simulator(now=EVENING, speed=1.0) as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--from", "2026-11-19", "--to", "tomorrow")
        yield cli


def test_once_as_json_is_the_dashboard_after_one_poll(now_cli: Cli) -> None:
    snapshot = json.loads(now_cli.ok("live", "--once", "--json", timeout=120))
    assert snapshot["device_id"] == "00-00-00-FF-FE-00-01-01"
    assert snapshot["status"]["state"] == "ok"
    current = snapshot["current"]
    assert current["level"] in ("green", "blue", "yellow", "orange", "red")
    assert datetime.fromisoformat(current["time"]).timestamp() > now_cli.sim.clock()() - 60
    assert len(snapshot["recent"]) >= 55  # ten minutes of the hour the first poll brought
    assert snapshot["cost"]["rate_pence_per_kwh"] > 0
    assert snapshot["cost"]["projected_day_pence"] > 0
    counts = now_cli.sim.requests_log()["counts"]
    assert counts["graphql:smartMeterTelemetry"] == 1


def test_once_shows_demand_its_level_a_sparkline_and_cost(now_cli: Cli) -> None:
    out = now_cli.ok("live", "--once", "--minutes", "5", timeout=120)
    assert "Home Mini 00-00-00-FF-FE-00-01-01  ok" in out
    assert " W " in out
    assert any(c in out for c in "▁▂▃▄▅▆▇█")
    assert "p/kWh" in out
    assert "today ~" in out


def test_piped_it_prints_each_reading_and_stops_when_told(now_cli: Cli) -> None:
    out = now_cli.ok("live", "--seconds", "4", timeout=120)
    lines = out.strip().splitlines()
    assert lines[0].startswith("status ok: polling every")
    readings = [line for line in lines if " W " in line]
    assert readings
    assert datetime.fromisoformat(readings[0].split()[0]).tzinfo is not None


def test_ctrl_c_stops_cleanly(now_cli: Cli) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "octoscope", "live"],
        env={**now_cli.env, **now_cli.clock_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # the status line: the first poll has been made
            assert first.startswith("status ok"), first
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0
    assert err.strip() == "Stopped."


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--minutes", "0"), "Error: --minutes 0: give 1 to 60"),
        (("--seconds", "-1"), "Error: --seconds -1.0: give a number of seconds above 0"),
        (("--json",), "Error: --json goes with --once"),
        (("--once", "--device", "00-11"), "Error: device '00-11' is not a smart meter on the account"),
    ],
)
def test_bad_input_is_one_line(now_cli: Cli, args: tuple[str, ...], words: str) -> None:
    done = now_cli.run("live", *args, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().startswith(words)
    assert len(done.stderr.strip().splitlines()) == 1


def test_without_a_key_it_says_what_to_set(now_cli: Cli) -> None:
    done = now_cli.run("live", "--once", env={"OCTOSCOPE_API_KEY": ""}, timeout=60)
    assert done.returncode == 1
    assert "Error: no API key" in done.stderr


def test_a_sparkline_fits_its_width_and_spans_least_to_most() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([5.0] * 3, 10) == "▁▁▁"
    assert len(sparkline(list(range(360)), 60)) == 60
    assert sparkline([], 10) == ""


def test_once_on_an_account_without_a_home_mini_says_so(tmp_path: Path) -> None:
    with simulator("no_home_mini", now=EVENING, speed=1.0) as sim:
        cli = make_cli(sim, tmp_path, key="sk_live_octoscope_nomini_test", account="A-00000000")
        done = cli.run("live", "--once", timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error: no Home Mini on the account")
    assert len(done.stderr.strip().splitlines()) == 1


def test_once_answers_at_once_after_another_poll_took_the_slot(now_cli: Cli) -> None:
    """A poll a moment ago puts the next slot a minute and more away; ``--once`` polls at once all the same
    (the rolling hour has room), rather than waiting for it."""
    now_cli.ok("live", "--once", "--json", timeout=120)
    began = time.monotonic()
    snapshot = json.loads(now_cli.ok("live", "--once", "--json", timeout=120))
    took = time.monotonic() - began
    assert snapshot["status"]["state"] == "ok"
    assert took < 20, f"live --once took {took:.1f} s"
    assert now_cli.sim.requests_log()["counts"]["graphql:smartMeterTelemetry"] == 2


@pytest.fixture
def recording_cli(store_backend: str, tmp_path: Path) -> Iterator[Cli]:
    """``now_cli`` on each store backend: the recorded readings land in SQLite, or in PostgreSQL."""
    with simulator(now=EVENING, speed=1.0) as sim:
        cli = make_cli(sim, tmp_path, backend=store_backend)
        cli.ok("sync", "--from", "2026-11-19", "--to", "tomorrow")
        yield cli


def test_once_answers_from_recorded_readings_without_a_call(recording_cli: Cli) -> None:
    now_cli = recording_cli
    config = Path(now_cli.env["OCTOSCOPE_CONFIG"])
    config.write_text((config.read_text() if config.exists() else "") + "\n[live]\nrecord = true\n")
    now_cli.ok("live", "--once", "--json", timeout=120)  # records the hour the first poll brings
    began = time.monotonic()
    snapshot = json.loads(now_cli.ok("live", "--once", "--json", timeout=120))
    took = time.monotonic() - began
    assert took < 20, f"live --once took {took:.1f} s"
    assert snapshot["current"] is not None
    assert "from the database" in snapshot["status"]["message"]
    assert now_cli.sim.requests_log()["counts"]["graphql:smartMeterTelemetry"] == 1
