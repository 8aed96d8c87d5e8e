"""Serve an ASGI app with uvicorn in a background thread, on a free loopback port.

Tests and benchmarks use it to talk to the simulator over real sockets from the same process.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from octoscope.clock import SYSTEM


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    start_timeout: float = 20,
    graceful_seconds: int | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) once the server accepts connections; stop it after.
    ``graceful_seconds``: how long open responses (event streams never end by themselves) may run on when
    it stops. ``port``: a given one (a server restarted where its clients expect it), else a free one."""
    port = port or free_port(host)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=graceful_seconds
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = SYSTEM.monotonic() + start_timeout
    while not server.started:
        if SYSTEM.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the server on {host}:{port} did not start")
        SYSTEM.sleep_blocking(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
