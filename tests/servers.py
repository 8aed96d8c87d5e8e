"""Real time-series servers for the export tests and the InfluxDB bench: Debian's ``influxd`` (InfluxDB 1.x)
and ``victoria-metrics`` (which speaks InfluxDB's ``/api/v2/write``), each started as a plain process on free
loopback ports with its data in a temporary folder, and stopped after.

A test that needs one is skipped, with the reason, when the binary is missing; under ``CI=true`` it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from octoscope.simulator.threaded import free_port

INFLUXD = "influxd"
VICTORIA = "victoria-metrics"
ADMIN = ("octoscope", "influx-test-password")  # the test server's own admin user


class ServerMissing(RuntimeError):
    """The server's binary is not installed (``make test`` installs it: Makefile APT_PACKAGES)."""


def require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise ServerMissing(
            f"{binary} is not installed (apt-get install {'influxdb' if binary == INFLUXD else binary})"
        )
    return path


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {url} within {timeout} s: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """Ask a server process to stop; kill it if it has not within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def _running(command: list[str], ready: str, folder: Path) -> Iterator[None]:
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    try:
        _wait(ready, process, log)
        yield
    finally:
        stop(process)


@dataclass
class Influx1:
    """InfluxDB 1.x with authentication on and an admin user, ``ADMIN``."""

    url: str
    folder: Path

    def query(self, q: str, db: str | None = None, auth: tuple[str, str] = ADMIN) -> dict[str, Any]:
        params = {"q": q, **({"db": db} if db else {})}
        response = httpx.post(f"{self.url}/query", params=params, auth=auth, timeout=60)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        for result in body.get("results", []):
            if "error" in result:
                raise AssertionError(f"InfluxQL {q!r}: {result['error']}")
        return body

    def series(self, q: str, db: str) -> list[dict[str, Any]]:
        """The series of the first statement's answer ([] when it has none)."""
        series: list[dict[str, Any]] = self.query(q, db)["results"][0].get("series", [])
        return series

    def create_database(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{name}"')


INFLUX_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"

[meta]
  dir = "{folder}/meta"

[data]
  dir = "{folder}/data"
  wal-dir = "{folder}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = "127.0.0.1:{http}"
  auth-enabled = true
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false
"""


@contextlib.contextmanager
def influx1() -> Iterator[Influx1]:
    """``influxd`` with a config file of our own: every port a free loopback one, reporting off, data in a
    temporary folder, authentication on (the first user, the admin, is created before any other request)."""
    binary = require(INFLUXD)
    with tempfile.TemporaryDirectory(prefix="octoscope-influxd-") as tmp:
        folder = Path(tmp)
        http = free_port()
        config = folder / "influxdb.conf"
        config.write_text(INFLUX_CONFIG.format(rpc=free_port(), http=http, folder=folder))
        url = f"http://127.0.0.1:{http}"
        with _running([binary, "-config", str(config)], f"{url}/ping", folder):
            created = httpx.post(
                f"{url}/query",
                params={"q": f"CREATE USER {ADMIN[0]} WITH PASSWORD '{ADMIN[1]}' WITH ALL PRIVILEGES"},
                timeout=30,
            )
            created.raise_for_status()
            yield Influx1(url, folder)


@dataclass
class Victoria:
    url: str

    def flush(self) -> None:
        httpx.get(f"{self.url}/internal/force_flush", timeout=30).raise_for_status()

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every sample of the series matching a selector, from ``/api/v1/export`` (one JSON object a line)."""
        self.flush()
        response = httpx.post(f"{self.url}/api/v1/export", data={"match[]": match}, timeout=60)
        response.raise_for_status()
        import json

        return [json.loads(line) for line in response.text.splitlines() if line.strip()]


@contextlib.contextmanager
def victoria() -> Iterator[Victoria]:
    """VictoriaMetrics keeping 100 years (the demo's data is dated; the default keeps one month), with
    deduplication on, as InfluxDB overwrites a point written again at the same time."""
    binary = require(VICTORIA)
    with tempfile.TemporaryDirectory(prefix="octoscope-victoria-") as tmp:
        folder = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            binary,
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={folder / 'data'}",
            "-retentionPeriod=100y",
            "-dedup.minScrapeInterval=1ms",
            "-loggerLevel=ERROR",
        ]
        with _running(command, f"{url}/health", folder):
            yield Victoria(url)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


# --- MQTT: Debian's mosquitto -------------------------------------------------------------------------------

MOSQUITTO = "mosquitto"


@dataclass
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None


def _wait_tcp(host: str, port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {host}:{port} within {timeout} s: {log.read_text()[-2000:]}")


def mosquitto_binary() -> str:
    """Debian installs it in /usr/sbin, often not on a user's PATH."""
    binary = shutil.which(MOSQUITTO) or next(
        (p for p in ("/usr/sbin/mosquitto", "/sbin/mosquitto") if Path(p).exists()), None
    )
    if binary is None:
        raise ServerMissing("mosquitto is not installed (apt-get install mosquitto)")
    return binary


@contextlib.contextmanager
def mosquitto(password: str | None = None, port: int | None = None) -> Iterator[Broker]:
    """A broker of its own on a free loopback port (or ``port``), with no persistence; with ``password``,
    anonymous clients are refused and the user ``octoscope`` has that password."""
    binary = mosquitto_binary()
    with tempfile.TemporaryDirectory(prefix="octoscope-mosquitto-") as tmp:
        folder = Path(tmp)
        port = port or free_port()
        # Run as whoever runs the tests (as root, mosquitto would drop to a user that cannot read this folder).
        import getpass

        lines = [f"listener {port} 127.0.0.1", f"user {getpass.getuser()}", "persistence false", "log_dest stderr"]
        lines.append("log_type error")
        if password is None:
            lines.append("allow_anonymous true")
        else:
            passwd = folder / "passwd"
            passwd.write_text("")
            passwd.chmod(0o600)
            subprocess.run(
                [
                    shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd",
                    "-b",
                    str(passwd),
                    "octoscope",
                    password,
                ],
                check=True,
                capture_output=True,
            )
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        config = folder / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        log = folder / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen([binary, "-c", str(config)], stdout=out, stderr=subprocess.STDOUT, cwd=folder)
        try:
            _wait_tcp("127.0.0.1", port, process, log)
            yield Broker("127.0.0.1", port, "octoscope" if password else None, password)
        finally:
            stop(process, grace=10)
