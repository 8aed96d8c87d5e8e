"""The HTTP server's own limits, so that idle or slow connections cannot take it away from real clients.

uvicorn closes a connection that stays idle after a response (``timeout_keep_alive``) but never one that
opens and sends nothing, or sends its headers a byte at a time: a thousand of those used to fill the process's
file descriptors, after which every real request failed and the event loop logged each refused ``accept``.
Here, each connection is bounded three ways:

- **time to send a request**: ``HEADER_TIMEOUT`` seconds from the connection (or from the end of its last
  response) to the end of the next request's headers, else it is closed;
- **size**: a request's headers in at most ``MAX_HEADER_BYTES`` (h11's incomplete-event limit; a 400 past it);
- **number**: at most :func:`connection_cap` open at once, below the process's open-file limit; past it, the
  oldest connection that is not in the middle of a request is closed to make room, so a new client always
  gets in while idle ones are shed (one busy with a request, an event stream for instance, is never shed).

Repeated log lines (a refused ``accept``, a bad request) are rate-limited: a flood leaves a few lines a
minute, not one per event.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from octoscope.clock import SYSTEM

HEADER_TIMEOUT = 10.0  # seconds to send a request's line and headers
KEEP_ALIVE = 5.0  # seconds an idle connection is kept after a response
MAX_HEADER_BYTES = 16 * 1024
MAX_CONNECTIONS = 1000
# The event loop accepts up to BACKLOG connections in a row before any of them is counted here, and a shed
# connection's descriptor is released a moment after: the cap leaves room for that burst, and for the
# database, the log and the pollers' own connections.
BACKLOG = 128
FD_HEADROOM = BACKLOG + 128
LOG_BURST = 5  # lines of one kind a minute before the rest are counted, not written


def connection_cap() -> int:
    """How many connections may be open at once: ``MAX_CONNECTIONS``, less if the open-file limit is low."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, soft - FD_HEADROOM))


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits in the module docstring."""

    cap = MAX_CONNECTIONS
    header_timeout = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._opened = SYSTEM.monotonic()  # real seconds: connections idle in real time, whatever --now says

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.cap:
            self._shed()
        self._arm()

    def _busy(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _shed(self) -> None:
        """Close the oldest idle connection (never this one, never one serving a request); if every other
        connection is busy, this one goes."""
        idle = [c for c in self.connections if c is not self and isinstance(c, BoundedH11Protocol) and not c._busy()]
        if idle:
            min(idle, key=lambda c: c._opened).close_idle()
        else:
            self.close_idle()

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if not self._busy():
            self.close_idle()

    def close_idle(self) -> None:
        self._disarm()
        self.connections.discard(self)  # its place is free now, whenever the socket's close completes
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._busy():  # a whole request's headers have come: the app's time is not limited here
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._busy():
            self._arm()  # the next request's headers are due within the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class RateLimitedLog(logging.Filter):
    """Lets ``LOG_BURST`` records of one kind (logger and message template) through a minute; then one line
    says how many were left out, when the minute is over and another of the kind arrives."""

    def __init__(self, burst: int = LOG_BURST, window: float = 60.0) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], OSError):  # 'Too many open files': one line
            record.msg = f"{record.getMessage().splitlines()[0]}: {record.exc_info[1]}"
            record.args = None
            record.exc_info = None
        key = (record.name, str(record.msg)[:200])
        now = SYSTEM.monotonic()
        start, count = self.seen.get(key, (now, 0))
        if now - start >= self.window:
            if count > self.burst:
                record.msg = f"{record.msg} ({count - self.burst} more like this in the last minute not logged)"
            start, count = now, 0
        if len(self.seen) > 1000:
            self.seen.clear()
        self.seen[key] = (start, count + 1)
        if count >= self.burst:
            return False
        if count == self.burst - 1:
            record.msg = f"{record.msg} (more like this in the next minute are counted, not logged)"
        return True


LIMITED_LOGGERS = ("asyncio", "uvicorn.error", "uvicorn")


def server_config(app: Any, host: str, port: int, **kwargs: Any) -> uvicorn.Config:
    """A uvicorn configuration with the limits above (``kwargs`` go to ``uvicorn.Config``)."""
    protocol = type("BoundedH11", (BoundedH11Protocol,), {"cap": connection_cap()})
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        backlog=BACKLOG,
        timeout_keep_alive=int(KEEP_ALIVE),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        **kwargs,
    )
    limiter = RateLimitedLog()  # after uvicorn.Config, which sets up its loggers
    for name in LIMITED_LOGGERS:
        logging.getLogger(name).addFilter(limiter)
    return config
