"""``/api/live``: the Home Mini's demand, live, from one shared poller (the Agile dashboard's live API).

No route here calls Octopus: they read the device's feed, which one poller fills however many viewers there
are. A plain request keeps the poller running for a grace period; a stream for as long as it is open.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from octoscope.domain.live import GROUP_SECONDS, group
from octoscope.domain.uktime import from_epoch, local_date
from octoscope.live import views
from octoscope.live.hub import reading_dict
from octoscope.live.service import Feed, LiveService
from octoscope.web.deps import ClockDep

router = APIRouter(prefix="/api/live", tags=["live"])
KEEPALIVE_SECONDS = 15.0  # a comment this often on a quiet stream keeps proxies from closing it


def get_live(request: Request) -> LiveService:
    live: LiveService = request.app.state.live
    return live


LiveDep = Annotated[LiveService, Depends(get_live)]
Device = Annotated[str | None, Query(description="A smart meter's device id; default: the account's Home Mini")]


def _minutes(minutes: int) -> int:
    if not 1 <= minutes <= 60:
        raise HTTPException(400, f"minutes must be between 1 and 60, not {minutes}")
    return minutes


async def _feed(live: LiveService, device: str | None) -> Feed:
    return await live.touch(device)


@router.get("/status", summary="Whether live data flows, and if not why; the poller's pace and last polls")
async def status(live: LiveDep, device: Device = None) -> dict[str, Any]:
    return live.status(device)


@router.get("/current", summary="The newest reading")
async def current(live: LiveDep, device: Device = None) -> dict[str, Any]:
    feed = await _feed(live, device)
    newest = feed.hub.newest
    return {
        "reading": None if newest is None else reading_dict(newest),
        "current_demand_watts": None if newest is None else round(newest.demand_w),
        "current_demand_kw": None if newest is None else round(newest.demand_w / 1000, 3),
        "status": feed.status.as_dict(),
    }


@router.get("/telemetry", summary="Recent readings, every 10 seconds or grouped by minute or five minutes")
async def telemetry(
    live: LiveDep,
    clock: ClockDep,
    minutes: int = 5,
    grouping: str = "TEN_SECONDS",
    device: Device = None,
) -> dict[str, Any]:
    minutes = _minutes(minutes)
    if grouping not in GROUP_SECONDS:
        raise HTTPException(400, f"grouping must be one of {', '.join(GROUP_SECONDS)}, not {grouping!r}")
    feed = await _feed(live, device)
    end = from_epoch(clock())
    start = end - timedelta(minutes=minutes)
    readings = group(feed.hub.readings(start), GROUP_SECONDS[grouping])
    return {
        "device_id": feed.device,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "grouping": grouping,
        "count": len(readings),
        "readings": [reading_dict(r) for r in readings],
        "summary": views.summary(readings),
        "status": feed.status.as_dict(),
    }


@router.get("/dashboard", summary="Current reading, recent readings, their summary and what this pace costs")
async def dashboard(live: LiveDep, clock: ClockDep, minutes: int = 5, device: Device = None) -> dict[str, Any]:
    minutes = _minutes(minutes)
    feed = await _feed(live, device)
    now = from_epoch(clock())
    rates = None if feed.device is None else await live.day_rates(feed.device, local_date(now))
    return views.dashboard(feed, rates, now, minutes)


class EventStream(StreamingResponse):
    """``text/event-stream`` whose generator is closed as soon as the response ends (a disconnect included),
    so that the viewer is counted out at once rather than when the garbage collector gets to it."""

    media_type = "text/event-stream"

    def __init__(self, events: AsyncGenerator[bytes, None], status_code: int = 200) -> None:
        super().__init__(events, status_code, {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()


@router.get(
    "/stream",
    summary="Server-Sent Events: every 10-second reading once, in order, and status changes",
    response_class=EventStream,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    live: LiveDep,
    device: Device = None,
    last_event_id: Annotated[str | None, Header(description="Sent by a reconnecting browser")] = None,
    resume: Annotated[str | None, Query(description="Last-Event-ID, for clients that cannot set headers")] = None,
) -> EventStream:
    """``event: reading`` (``id``: the reading's epoch seconds), ``event: status`` when the state changes,
    ``event: resync`` before closing a connection that fell too far behind, a comment every 15 s when quiet.
    Reconnecting with ``Last-Event-ID`` delivers every reading held after it (the last two hours)."""
    given = last_event_id or resume
    after: int | None = None
    if given is not None:
        try:
            after = int(given.strip())
        except ValueError:
            raise HTTPException(400, f"Last-Event-ID {given!r} is not a reading id (epoch seconds)") from None
    live.feed(device)  # an unknown device is a 404 before the stream starts

    async def events() -> AsyncGenerator[bytes, None]:
        async with live.watch(device, after) as sub:
            while True:
                frames = await sub.next(KEEPALIVE_SECONDS)
                if not frames:
                    yield b": keep-alive\n\n"
                    continue
                yield b"".join(frames)
                if sub.closed:
                    return

    return EventStream(events())
