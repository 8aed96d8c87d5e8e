"""InfluxDB line protocol over HTTP: the 1.x write API (``/write``) and the 2.x one (``/api/v2/write``).

A point is a measurement, tags, fields and a time in epoch seconds (``precision=s``). InfluxDB keeps one
point per measurement, tag set and time: writing the same point again overwrites it, which is what makes a
repeated or resumed export harmless. Points go in batches of a few thousand lines, gzip'd unless the server
is on this machine.

Temporary trouble (no connection, a timeout, 5xx, 429) is retried with full-jitter exponential backoff,
``Retry-After`` honoured up to the cap; the rest fails at once. Every error is one line that names what to
fix, and never shows the password or the token (they travel in the ``Authorization`` header only, never in
the URL, which httpx logs)::

    InfluxError
     +-- InfluxUnreachable   no connection or no answer, still after the retries: is it running? the url?
     +-- InfluxAuthError     401 or 403: the username and password, or the token
     +-- InfluxNotFound      the database, retention policy, org or bucket does not exist
     +-- InfluxRejected      400, 413: a point or a batch it will not take, and its reason
     +-- InfluxServerError   5xx or 429, still after the retries
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import logging
import math
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import httpx

from octoscope import __version__
from octoscope.clock import Clock
from octoscope.domain.secret import Secret
from octoscope.errors import OctoscopeError
from octoscope.retry import Backoff, retry_after_seconds

log = logging.getLogger(__name__)

FieldValue = float | bool | str | None
# Level 1 costs a third of level 5's CPU; the lines repeat their tags, so even level 1 shrinks them 11 times
# (bench/influx.py): over a real network that is most of the time of sending them. On loopback the bytes
# cost nothing to move, and gzip is CPU on both sides (ours to compress, the server's to inflate), so none.
GZIP_LEVEL = 1
LOOPBACK_GZIP_LEVEL = 0


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (localhost, 127.0.0.0/8, ::1)."""
    host = httpx.URL(url).host
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InfluxError(OctoscopeError):
    """Writing to InfluxDB failed; the message says what to fix. Nothing written is lost by failing."""


class InfluxUnreachable(InfluxError):
    pass


class InfluxAuthError(InfluxError):
    pass


class InfluxNotFound(InfluxError):
    pass


class InfluxRejected(InfluxError):
    pass


class InfluxServerError(InfluxError):
    pass


@dataclass(frozen=True)
class InfluxTarget:
    """Where to write. Version 1: ``database`` (and ``retention_policy``), ``username`` and ``password``
    if the server asks for them. Version 2 (or any server that speaks its write API): ``org``, ``bucket`` and
    ``token``."""

    url: str
    version: int = 1
    database: str | None = None
    retention_policy: str | None = None
    org: str | None = None
    bucket: str | None = None
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    timeout_seconds: float = 30.0

    def describe(self) -> str:
        """Which server and where in it, for messages and for keying export cursors; no secret."""
        if self.version == 1:
            rp = f", retention policy {self.retention_policy}" if self.retention_policy else ""
            return f"InfluxDB at {self.url} (database {self.database}{rp})"
        return f"InfluxDB at {self.url} (org {self.org}, bucket {self.bucket})"

    def endpoint(self) -> tuple[str, dict[str, str]]:
        if self.version == 1:
            params = {"db": self.database or "", "precision": "s"}
            if self.retention_policy:
                params["rp"] = self.retention_policy
            return f"{self.url}/write", params
        return f"{self.url}/api/v2/write", {"org": self.org or "", "bucket": self.bucket or "", "precision": "s"}

    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Encoding": "gzip",
            "User-Agent": f"octoscope/{__version__}",
        }
        if self.version == 2 and self.token is not None:
            headers["Authorization"] = f"Token {self.token.reveal()}"
        elif self.username is not None and self.password is not None:
            pair = f"{self.username}:{self.password.reveal()}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
        return headers

    def credentials_hint(self) -> str:
        if self.version == 2:
            return f"check OCTOSCOPE_INFLUX_TOKEN (a token allowed to write to bucket {self.bucket} of org {self.org})"
        if self.username is None:
            return "it asks for a user: set [influx] username, and the password in OCTOSCOPE_INFLUX_PASSWORD"
        return f"check [influx] username ({self.username}) and OCTOSCOPE_INFLUX_PASSWORD, and that the user may write"


class Point(NamedTuple):
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, FieldValue], ...]
    time: int  # epoch seconds


_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})


def series_key(measurement: str, tags: Iterable[tuple[str, str]]) -> str:
    """``measurement,tag=value,...`` with the line protocol's escapes; tags sorted by name, as InfluxDB
    recommends. Tags with an empty value are left out (the protocol has no empty tag)."""
    parts = [measurement.translate(_MEASUREMENT_ESCAPES)]
    parts += [f"{k.translate(_KEY_ESCAPES)}={v.translate(_KEY_ESCAPES)}" for k, v in sorted(tags) if v]
    return ",".join(parts)


def field_set(fields: Iterable[tuple[str, FieldValue]]) -> str:
    """``name=value,...``: numbers always as floats (octograph writes floats, and a field's type is fixed
    once written), booleans, strings quoted. None, and a number that is not finite, are left out."""
    out = []
    for name, value in fields:
        if value is None:
            continue
        key = name.translate(_KEY_ESCAPES)
        if isinstance(value, bool):
            out.append(f"{key}={'true' if value else 'false'}")
        elif isinstance(value, str):
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            out.append(f'{key}="{escaped}"')
        elif math.isfinite(value):
            out.append(f"{key}={float(value)!r}")
    return ",".join(out)


class NumberFields:
    """A fixed list of number fields, formatted as :func:`field_set` does, with the names escaped once: the
    exports format a few hundred thousand points at a time."""

    def __init__(self, *names: str) -> None:
        self.keys = tuple(f"{name.translate(_KEY_ESCAPES)}=" for name in names)

    def __call__(self, *values: float | None) -> str:
        return ",".join(
            [k + repr(float(v)) for k, v in zip(self.keys, values, strict=True) if v is not None and math.isfinite(v)]
        )


def line(point: Point) -> str | None:
    """One point as a line of line protocol; None if it has no field to write."""
    fields = field_set(point.fields)
    if not fields:
        return None
    return f"{series_key(point.measurement, point.tags)} {fields} {point.time}"


def _reason(response: httpx.Response) -> str:
    """What the server said, on one line: 1.x answers {"error": ...}, 2.x {"code", "message"}."""
    text = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            text = str(body.get("error") or body.get("message") or "")
    except (ValueError, UnicodeDecodeError):
        text = response.headers.get("X-Influxdb-Error") or response.text
    text = " ".join(text.split())
    return (text[:300] + "...") if len(text) > 300 else text or response.reason_phrase


class InfluxWriter:
    """Writes points to one target over one HTTP connection pool. Use as a context manager.

    ``compress_level``: gzip's, 0 for none; by default none on loopback, else :data:`GZIP_LEVEL`.
    ``senders``: requests in flight at once. ``transport``, ``sleep`` and ``rng`` are seams for tests; by
    default the real network and clock.
    """

    def __init__(
        self,
        target: InfluxTarget,
        *,
        batch_size: int = 5000,
        compress_level: int | None = None,
        senders: int = 1,
        queue_batches: int = 8,
        attempts: int = 5,
        base_seconds: float = 0.5,
        cap_seconds: float = 15.0,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.target = target
        self.batch_size = batch_size
        if compress_level is None:
            compress_level = LOOPBACK_GZIP_LEVEL if is_loopback(target.url) else GZIP_LEVEL
        self.compress_level = compress_level
        self.attempts = attempts
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds
        self._clock = clock
        self._sleep = sleep or clock.sleep_blocking
        self._rng = rng or random.Random()
        self._backoff = Backoff(base_seconds, cap_seconds, jitter=1.0)  # full jitter: writers spread out
        self._url, self._params = target.endpoint()
        self._headers = target.headers()
        if not compress_level:
            del self._headers["Content-Encoding"]
        # A plain-http target never needs TLS: this client posts to that one URL and follows no redirect, so
        # it loads no CA bundle (about 20 ms of CPU, a thirtieth of a year's first export).
        plain = httpx.URL(target.url).scheme == "http"
        self._http = httpx.Client(timeout=target.timeout_seconds, transport=transport, verify=not plain)
        self.queue_batches = queue_batches
        self.senders = senders
        self._sender = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="influx-write")
        self._travelling: deque[Future[None]] = deque()  # handed to the worker, oldest first
        self._pending: list[tuple[Future[None], Callable[[], None]]] = []  # to run once that batch is written
        self._failed = False
        self._counting = threading.Lock()  # the senders count batches and retries
        self.batches = 0
        self.retries = 0

    def __enter__(self) -> InfluxWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Drops the batches still waiting, waits for the one travelling (its outcome no longer matters:
        callers that care flush first), then closes the connections."""
        self._failed = True  # a batch the worker has not started is not sent
        for travelling in self._travelling:
            travelling.cancel()
        self._travelling.clear()
        self._sender.shutdown(wait=True)
        self._pending.clear()
        self._http.close()

    def write(self, points: Iterable[Point]) -> int:
        """Write points in batches; returns how many lines were sent."""
        return self.write_lines(filter(None, map(line, points)))

    def write_lines(self, lines: Iterable[str]) -> int:
        """Send batches as the lines come and return once every one is written (the first failure is
        raised and stops the rest). Returns how many lines were sent."""
        sent = self.send_lines(lines)
        self.flush()
        return sent

    def send_lines(self, lines: Iterable[str]) -> int:
        """Send batches as the lines come: ``senders`` worker threads send them, oldest first, while the
        caller makes the next ones, up to ``queue_batches`` waiting, so that what the caller does between
        lines (costing the next meter, finding sessions) overlaps with the server storing the last. With two
        senders a batch can be stored before the one before it (points are keyed, so order does not matter
        to what is stored), and one already travelling is still sent after another fails; what waits for
        lines (:meth:`then`) still waits for every batch up to them. Some may still travel on return. A
        failure is raised here or by a later call. Returns how many lines were handed over."""
        sent = 0
        for batch in _batches(lines, self.batch_size):
            while len(self._travelling) >= self.queue_batches:
                self._settle_oldest()
            self._travelling.append(self._sender.submit(self._compress_and_send, batch))
            sent += len(batch)
        return sent

    def then(self, action: Callable[[], None]) -> None:
        """Run ``action`` (in the caller's thread) once every line handed over so far is written: at once if
        nothing is travelling, else when that is known, by a later call. Never if a write fails first."""
        if not self._travelling:
            action()
        else:
            self._pending.append((self._travelling[-1], action))

    def flush(self) -> None:
        """Wait until every line handed over is written, and run what waited for it."""
        while self._travelling:
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        oldest = self._travelling.popleft()
        try:
            oldest.result()
        except BaseException:
            self._failed = True
            self._pending.clear()
            raise
        # Batches are settled oldest first: what waited for this one has every batch before it written too.
        while self._pending and self._pending[0][0] is oldest:
            self._pending.pop(0)[1]()

    def _compress_and_send(self, batch: list[str]) -> None:
        # In the worker: zlib lets go of the GIL while it compresses, so the next batch is made meanwhile.
        if self._failed:
            return  # a batch before it failed: the error is on its way to the caller
        try:
            body = "\n".join(batch).encode()
            if self.compress_level:
                body = gzip.compress(body, compresslevel=self.compress_level)
            self._send(body, len(batch))
        except BaseException:
            self._failed = True
            raise

    def _send(self, body: bytes, count: int) -> None:
        where = self.target.describe()
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self._http.post(self._url, params=self._params, headers=self._headers, content=body)
            except httpx.TransportError as err:
                kind = type(err).__name__
                if last:
                    raise InfluxUnreachable(
                        f"cannot reach {where} ({kind}) after {self.attempts} tries: is it running? check [influx] url"
                    ) from None
                self._wait(attempt, None, f"{kind}")
                continue
            status = response.status_code
            if status in (200, 204):
                with self._counting:
                    self.batches += 1
                return
            reason = _reason(response)
            if status in (401, 403):
                raise InfluxAuthError(
                    f"{where} refused to let us write ({status}: {reason}): {self.target.credentials_hint()}"
                )
            if "retention policy not found" in reason:  # 1.x answers 500 for it
                raise InfluxNotFound(
                    f"{where}: {reason}; fix [influx] retention_policy, or leave it out for the database's default"
                )
            if status == 404:
                raise InfluxNotFound(f"{where}: {reason}; {self._missing_hint()}")
            if status == 413:
                raise InfluxRejected(f"{where} would not take {count} points at once (413): lower [influx] batch_size")
            if status == 429 or status >= 500:
                if last:
                    raise InfluxServerError(
                        f"{where} answered {status} ({reason}) {self.attempts} times: try again later;"
                        " nothing is lost, the next export writes it"
                    )
                self._wait(attempt, response.headers.get("Retry-After"), f"{status} {reason}")
                continue
            hint = ""
            if "field type conflict" in reason:
                hint = (
                    " (the measurement already holds one of these fields with another type:"
                    " write to a new database or bucket, or drop the measurement)"
                )
            raise InfluxRejected(f"{where} refused a batch of {count} points ({status}: {reason}){hint}")

    def _missing_hint(self) -> str:
        if self.target.version == 1:
            return f"create it (influx -execute 'CREATE DATABASE \"{self.target.database}\"') or fix [influx] database"
        return "check [influx] org and bucket"

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        # At least the server's Retry-After, but never parked longer than four caps.
        asked = retry_after_seconds(retry_after, self._clock())
        delay = self._backoff.delay(attempt, self._rng, asked, longest=self.cap_seconds * 4)
        with self._counting:
            self.retries += 1
        log.info("InfluxDB: %s; try %d of %d in %.1f s", why, attempt + 1, self.attempts, delay)
        self._sleep(delay)


def _batches(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for text in lines:
        batch.append(text)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
