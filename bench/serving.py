"""Servers a benchmark runs in processes of their own, as users run them, so that the benchmark's own work
does not share their interpreter."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str] | None, log: Path, ready: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a command; yield it once ``ready`` (a URL) answers; stop it after."""
    with open(log, "wb") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{command[3]} exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[3]} did not start within 60 s")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(ready, timeout=2).status_code == 200:
                    break
            time.sleep(0.05)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
