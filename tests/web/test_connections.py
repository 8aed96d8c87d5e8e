"""Connection exhaustion (issue 15): ``octoscope serve`` as a real process with an open-file limit of 1,024,
held down by 1,100 idle connections that never send a byte and a few that send their headers a byte at a
time. A normal client still gets its pages, and the server's log stays short.

Before the server bounded its connections, such a flood made every request fail until the idle connections
went away (they never did) and wrote a 'Too many open files' line per refused accept.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from octoscope.web.serving import HEADER_TIMEOUT
from tests.conftest import Cli
from tests.servers import stop
from tests.web.test_security import free_tcp_port

LIMIT = 1024
IDLE = 1100


def limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


@contextlib.contextmanager
def limited_server(cli: Cli, log: Path) -> Iterator[str]:
    port = free_tcp_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "octoscope", "serve", "--port", str(port)],
            env={**cli.env, **cli.clock_env(), "OCTOSCOPE_API_KEY": ""},  # nothing in the background asks Octopus
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_files,  # noqa: PLW1509 (the test is the limit; no threads started yet here)
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/api/status", timeout=5).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        stop(process)


@pytest.fixture
def more_files() -> Iterator[None]:
    """This process holds the attacker's sockets: it needs more than the server's 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096) if hard != resource.RLIM_INFINITY else 4096
    if want < IDLE + 200:
        pytest.skip(f"this process may open only {hard} files; the test needs {IDLE + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_flood_of_idle_connections_leaves_room_for_a_real_client(
    synced_demo: Cli, tmp_path: Path, more_files: None
) -> None:
    log = tmp_path / "serve.log"
    idle: list[socket.socket] = []
    slow: list[socket.socket] = []
    with limited_server(synced_demo, log) as base:
        port = int(base.rsplit(":", 1)[1])
        try:
            for _ in range(IDLE):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            for _ in range(20):  # slowloris: a request line, then nothing more
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
                slow.append(sock)
            started = time.monotonic()
            answers = []
            for path in ("/", "/api/status", "/costs", "/api/overview", "/static/app.js"):
                answers.append(httpx.get(f"{base}{path}", timeout=15).status_code)
            took = time.monotonic() - started
            # The slow ones are closed once their headers are late.
            time.sleep(HEADER_TIMEOUT + 1)
            closed = sum(_closed_by_server(s) for s in slow)
        finally:
            for sock in idle + slow:
                sock.close()
        after = httpx.get(f"{base}/api/status", timeout=15).status_code
    lines = log.read_text(errors="replace").splitlines()
    print(f"{IDLE} idle + 20 slow at RLIMIT_NOFILE {LIMIT}: 5 pages in {took:.2f} s, log {len(lines)} lines")
    assert answers == [200] * 5
    assert took < 15
    assert closed == 20
    assert after == 200
    assert len(lines) < 300, lines[-20:]
    assert not any("Traceback" in line for line in lines)


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(2)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_the_open_file_limit_sets_the_cap() -> None:
    from octoscope.web.serving import FD_HEADROOM, connection_cap

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, hard))
        assert connection_cap() == LIMIT - FD_HEADROOM
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert os.cpu_count()
