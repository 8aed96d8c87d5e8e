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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from octoscope.simulator.threaded import free_port

T = TypeVar("T")

INFLUXD = "influxd"
VICTORIA = "victoria-metrics"
ADMIN = ("octoscope", "influx-test-password")  # the test server's own admin user


class ServerMissing(RuntimeError):
    """The server's binary is not installed (``make test`` installs it: Makefile APT_PACKAGES)."""


class PortTaken(RuntimeError):
    """The server exited because a port picked free was taken before it could bind it."""


def _exited(name: str, process: subprocess.Popen[bytes], log: Path) -> RuntimeError:
    text = log.read_text(errors="replace")[-2000:]
    kind = PortTaken if "address already in use" in text.lower() else RuntimeError
    return kind(f"{name} exited with {process.returncode}: {text}")


_TRIES = 5


@contextlib.contextmanager
def _on_free_ports(start: Callable[[], contextlib.AbstractContextManager[T]]) -> Iterator[T]:
    """``start()`` (which picks free ports and starts a server on them) again while the ports it picked are
    taken: a port free when picked can be bound by another process before the server binds it, and CI starts
    servers in several pytest runs at once."""
    for attempt in range(1, _TRIES + 1):
        with contextlib.ExitStack() as stack:
            try:
                running = stack.enter_context(start())
            except PortTaken:
                if attempt == _TRIES:
                    raise
                continue
            yield running
            return


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
            raise _exited("the server", process, log)
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
    """:func:`_influx1` on free ports."""
    with _on_free_ports(_influx1) as running:
        yield running


@contextlib.contextmanager
def _influx1() -> Iterator[Influx1]:
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
    """:func:`_victoria` on free ports."""
    with _on_free_ports(_victoria) as running:
        yield running


@contextlib.contextmanager
def _victoria() -> Iterator[Victoria]:
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
            raise _exited("mosquitto", process, log)
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
    if port is not None:
        with _mosquitto(password, port) as broker:
            yield broker
        return
    with _on_free_ports(lambda: _mosquitto(password, free_port())) as broker:
        yield broker


@contextlib.contextmanager
def _mosquitto(password: str | None, port: int) -> Iterator[Broker]:
    binary = mosquitto_binary()
    with tempfile.TemporaryDirectory(prefix="octoscope-mosquitto-") as tmp:
        folder = Path(tmp)
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


# --- PostgreSQL: Debian's postgresql-15 -----------------------------------------------------------------------

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class Postgres:
    """A throwaway cluster: ``dsn(name)`` is a database on it (``postgres`` exists from the start); the
    superuser ``octoscope`` has a password, so that tests can check it never shows."""

    host: str
    port: int
    password: str

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://octoscope:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    """The prefix that runs a command as an unprivileged user when we are root (postgres refuses root)."""
    if os.geteuid() != 0:
        return [], None, None
    import pwd

    nobody = pwd.getpwnam("nobody")
    prefix = [
        shutil.which("setpriv") or "/usr/bin/setpriv",
        f"--reuid={nobody.pw_uid}",
        f"--regid={nobody.pw_gid}",
        "--clear-groups",
    ]
    return prefix, nobody.pw_uid, nobody.pw_gid


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """:func:`_postgres` on free ports."""
    with _on_free_ports(_postgres) as running:
        yield running


@contextlib.contextmanager
def _postgres() -> Iterator[Postgres]:
    """A cluster of its own: initdb in a temporary folder, a free loopback port, its socket in the folder, run
    as ``nobody`` when the tests run as root; stopped and removed after."""
    initdb, server = POSTGRES_BIN / "initdb", POSTGRES_BIN / "postgres"
    if not initdb.exists() or not server.exists():
        raise ServerMissing(f"PostgreSQL 15 is not installed ({POSTGRES_BIN}; apt-get install postgresql-15)")
    import secrets

    prefix, uid, gid = _as_server_user()
    # Not LD_PRELOAD/FAKETIME: a server on a moved clock is not what the moved-clock runs test.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    password = secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="octoscope-postgres-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        pwfile = folder / "pw"
        pwfile.write_text(password + "\n")
        if uid is not None and gid is not None:
            os.chown(folder, uid, gid)
            os.chown(pwfile, uid, gid)
        subprocess.run(
            [
                *prefix,
                str(initdb),
                "-D",
                str(data),
                "-U",
                "octoscope",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        port = free_port()
        log = folder / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    *prefix,
                    str(server),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={folder}",
                    "-c",
                    "fsync=off",  # a throwaway cluster: durability buys nothing here
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=folder,
            )
        try:
            running = Postgres("127.0.0.1", port, password)
            _wait_postgres(running, process, log)
            yield running
        finally:
            stop(process)


def _wait_postgres(running: Postgres, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _exited("postgres", process, log)
        try:
            psycopg.connect(running.dsn(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(f"postgres did not answer within {timeout} s: {log.read_text()[-2000:]}")


_SHARED: list[Postgres] = []
_SHARED_STACK = contextlib.ExitStack()


def shared_postgres() -> Postgres:
    """This process's one cluster (one per xdist worker), started on first use and stopped at exit. Outside CI a
    missing PostgreSQL skips the test asking; under CI=true it fails it."""
    import atexit

    import pytest

    if not _SHARED:
        try:
            _SHARED.append(_SHARED_STACK.enter_context(postgres()))
        except ServerMissing as err:
            if in_ci():
                pytest.fail(f"{err}; CI=true, so the test must run")
            pytest.skip(str(err))
        atexit.register(_SHARED_STACK.close)
    return _SHARED[0]


def fresh_database(prefix: str = "t") -> str:
    """A new empty database on this process's cluster; its DSN."""
    import uuid

    return shared_postgres().create_database(f"{prefix}_{uuid.uuid4().hex[:16]}")
