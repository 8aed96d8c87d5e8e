"""The fan-out hub: each reading encoded once as a Server-Sent Event and handed to every subscriber, in order,
exactly once; the last two hours kept so that a client reconnecting with ``Last-Event-ID`` gets what it missed.

Publishing never waits for a subscriber: each has its own bounded queue of ready-made frames. One that falls
further behind than the bound (a stalled connection) is told with a ``resync`` event and closed; a browser's
EventSource then reconnects with the id of the last reading it got and resumes from the ring.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from octoscope.domain.live import STEP, LiveReading, level
from octoscope.domain.uktime import UK

KEEP = 720  # two hours of 10-second readings
BEHIND = 256  # frames a subscriber may leave unread before it is closed (about 40 minutes of readings)
RETRY_MS = 5000  # how long a browser waits before reconnecting


def local_iso(instant: datetime) -> str:
    """An instant as UK local time with its offset (``+01:00`` in summer, ``+00:00`` in winter)."""
    return instant.astimezone(UK).isoformat()


def reading_dict(reading: LiveReading) -> dict[str, Any]:
    return {
        "time": local_iso(reading.at),
        "demand_w": round(reading.demand_w, 1),
        "level": level(reading.demand_w),
        "kwh": round(reading.kwh, 6),
        "stale": reading.stale,
        "pence": None if reading.pence is None else round(reading.pence, 5),
    }


def frame(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    """One SSE event on the wire. JSON has no raw newlines, so ``data`` is one line."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + orjson.dumps(data) + b"\n\n"


class Subscription:
    """One client's queue of frames. ``floor``: the newest reading id it already has (nothing at or below it
    is queued again). ``closed``: the hub dropped it; the last frame says why."""

    __slots__ = ("_pending", "_wake", "closed", "floor")

    def __init__(self, frames: list[bytes], floor: int | None) -> None:
        self._pending: deque[bytes] = deque(frames)
        self._wake = asyncio.Event()
        self.closed = False
        self.floor = -1 if floor is None else floor
        if frames:
            self._wake.set()

    def push(self, items: list[tuple[int | None, bytes]]) -> None:
        """Queue frames (with their reading id, None for a status), skipping readings it already has."""
        for event_id, item in items:
            if event_id is not None:
                if event_id <= self.floor:
                    continue
                self.floor = event_id
            self._pending.append(item)
        if self._pending:
            self._wake.set()

    def close_with(self, item: bytes) -> None:
        self._pending.clear()
        self._pending.append(item)
        self.closed = True
        self._wake.set()

    @property
    def waiting(self) -> int:
        return len(self._pending)

    async def next(self, timeout: float) -> list[bytes]:
        """The frames waiting, oldest first, as soon as there are any; ``[]`` after ``timeout`` seconds."""
        if not self._pending:
            self._wake.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                return []
        out = list(self._pending)
        self._pending.clear()
        self._wake.clear()
        return out


class Hub:
    def __init__(self, keep: int = KEEP, behind: int = BEHIND) -> None:
        self._ring: deque[tuple[LiveReading, bytes]] = deque(maxlen=keep)
        self._subscribers: set[Subscription] = set()
        self._behind = behind
        self._status: dict[str, Any] = {
            "state": "starting",
            "message": "waiting for the first poll",
            "next_poll_at": None,
        }
        self._status_frame = frame("status", self._status)
        self.dropped = 0  # subscribers closed for falling behind, since start

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def newest(self) -> LiveReading | None:
        return self._ring[-1][0] if self._ring else None

    def readings(self, since: datetime | None = None) -> list[LiveReading]:
        """What the ring holds, oldest first; with ``since``, only readings starting at or after it."""
        if since is None:
            return [r for r, _ in self._ring]
        return [r for r, _ in self._ring if r.at >= since]

    def remember(self, readings: Iterable[LiveReading]) -> None:
        """Keep readings without sending them (the history a poller starting afresh fetches)."""
        for reading in readings:
            if self.newest is None or reading.id > self.newest.id:
                self._ring.append((reading, frame("reading", reading_dict(reading), reading.id)))

    def publish(self, readings: Iterable[LiveReading]) -> int:
        """Keep and send readings newer than the newest held, in order; returns how many went out."""
        batch: list[tuple[int | None, bytes]] = []
        for reading in readings:
            newest = self.newest
            if newest is not None and reading.id <= newest.id:
                continue  # already sent: exactly once
            item = frame("reading", reading_dict(reading), reading.id)
            self._ring.append((reading, item))
            batch.append((reading.id, item))
        self._send(batch)
        return len(batch)

    def set_status(self, status: dict[str, Any], announce: bool) -> None:
        """The feed's status, sent to every subscriber when ``announce``; always the first thing a new one gets."""
        self._status = status
        self._status_frame = frame("status", status)
        if announce:
            self._send([(None, self._status_frame)])

    @property
    def status(self) -> dict[str, Any]:
        return self._status

    def _send(self, batch: list[tuple[int | None, bytes]]) -> None:
        """Hand a batch to every subscriber; one still holding more than ``behind`` frames from before is
        closed instead (its connection is not being read: it must not grow without bound)."""
        if not batch:
            return
        for sub in list(self._subscribers):
            if sub.waiting > self._behind:
                self._subscribers.discard(sub)
                self.dropped += 1
                sub.close_with(
                    frame(
                        "resync",
                        {
                            "message": f"this connection fell more than {self._behind} events behind and is closed;"
                            " reconnect with Last-Event-ID to resume from the last reading received",
                        },
                    )
                )
            else:
                sub.push(batch)

    def subscribe(self, last_event_id: int | None = None) -> Subscription:
        """A new subscriber: the retry hint and the status first; then, reconnecting (``last_event_id``), every
        reading held after that id, else the newest reading, so that a fresh view shows a number at once."""
        frames = [f"retry: {RETRY_MS}\n\n".encode(), self._status_frame]
        floor = last_event_id
        if last_event_id is None:
            if self._ring:
                newest, item = self._ring[-1]
                frames.append(item)
                floor = newest.id
        else:
            held = [(r, f) for r, f in self._ring if r.id > last_event_id]
            if held and self._ring[0][0].id > last_event_id + STEP:  # what it missed is partly gone from the ring
                gone_from = datetime.fromtimestamp(last_event_id + STEP, UTC)
                gap = {
                    **self._status,
                    "message": f"readings from {local_iso(gone_from)} to before {local_iso(held[0][0].at)} are no"
                    " longer held here (the last two hours are); the stream goes on from there",
                }
                frames.append(frame("status", gap))
            frames.extend(f for _, f in held)
            if held:
                floor = held[-1][0].id
        sub = Subscription(frames, floor)
        self._subscribers.add(sub)
        return sub

    def close_all(self, message: str) -> None:
        """End every subscriber's stream with a status saying why (the server stopping)."""
        for sub in list(self._subscribers):
            sub.close_with(frame("status", {**self._status, "message": message}))
        self._subscribers.clear()

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
