"""Serve started right after a sync asks Octopus nothing at start-up; stopped with a viewer connected, it
ends the viewer's stream and exits cleanly, with no timeout and no traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

from octoscope.clock import ManualClock
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_NOW, Cli, make_cli, simulator

START = datetime.fromisoformat(DEMO_NOW).timestamp()


def test_serve_started_right_after_a_sync_makes_no_octopus_request_at_start_up(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", "2026-11-22")
        sim.reset_log()
        app = create_app(cli.settings(), clock=ManualClock(START + 30), schedule_every=60.0)
        with serve_in_thread(app) as base:
            deadline = time.monotonic() + 30
            while not (app.state.scheduler is not None and app.state.scheduler.decisions):
                assert time.monotonic() < deadline, "the scheduler made no decision"
                time.sleep(0.05)
            jobs = httpx.get(f"{base}/api/status", timeout=30).json()
            httpx.get(f"{base}/api/live/status", timeout=30).raise_for_status()
        log = sim.requests_log()
    assert log["requests"] == []
    assert not any(d.due for d in app.state.scheduler.decisions)
    assert jobs  # the Status page answered from the store


def test_stopping_serve_with_a_viewer_connected_is_clean(synced_demo: Cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "octoscope", "serve", "--port", str(port)],
        env={**synced_demo.env, **synced_demo.clock_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    received = b""
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                viewer = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline, process.stderr.read() if process.poll() is not None else ""
                time.sleep(0.2)
        with viewer:
            viewer.sendall(f"GET /api/live/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            received = viewer.recv(65536)
            assert b"text/event-stream" in received
            process.send_signal(signal.SIGINT)
            stopped_at = time.monotonic()
            while chunk := viewer.recv(65536):  # the stream ends, as the server stops
                received += chunk
            code = process.wait(timeout=30)
            took = time.monotonic() - stopped_at
    finally:
        if process.poll() is None:
            process.kill()
        _, err = process.communicate(timeout=30)
    assert code in (0, -signal.SIGINT, 128 + signal.SIGINT), err  # stopped by Ctrl-C, as uvicorn reports it
    assert "timeout graceful shutdown exceeded" not in err
    assert "Traceback" not in err
    assert b"the server is stopping" in received
    assert took < 3  # not the 3 seconds uvicorn gives open responses
