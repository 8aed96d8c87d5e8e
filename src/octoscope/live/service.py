"""Live Home Mini demand for every viewer from one poller per device.

A :class:`Feed` is one device's poller and hub. Its poller starts with the first viewer (or at start-up when
recording), asks ``smartMeterTelemetry`` for every 10-second reading since the last one it has, and stops a
grace period after the last viewer leaves (polling nothing meanwhile). However many viewers, the calls are the
same: the pace comes from the live budget (``[live] calls_per_hour``), shrunk when the shared GraphQL budget
is tight but never below live's share of it while someone watches (other work is held to the rest), and never
more than it in any rolling hour, counted in the database (ledger ``live``) so that restarts do not reset it.
While a rate limit holds the API key (any caller's), the poller waits for it without a call and says so.

Every failure becomes a status the viewers see (``rate_limited``, ``token_error``, ``no_device``, ``stale``,
``error``) and a backoff; the poller never dies of one, and viewers stay connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from octoscope.clock import SYSTEM, Clock
from octoscope.domain.live import STEP, DayRates, LiveReading, from_telemetry
from octoscope.domain.models import TelemetryReading
from octoscope.domain.uktime import UK, from_epoch, local_date
from octoscope.errors import NotFoundError
from octoscope.live.hub import Hub, Subscription, local_iso
from octoscope.live.pacing import Pace, aligned, pace, share
from octoscope.live.playout import auto_delay, next_release, split
from octoscope.octopus.errors import (
    BudgetExhausted,
    CredentialsRejected,
    GaveUp,
    KeyHeld,
    NotFound,
    OctopusError,
    RateLimited,
)
from octoscope.octopus.graphql import GraphQLClient
from octoscope.octopus.policy import RequestPolicy
from octoscope.retry import Backoff
from octoscope.store.ports import StoreProtocol

log = logging.getLogger(__name__)

LEDGER = "live"  # the request ledger's name for telemetry polls
HISTORY = 3600.0  # a poller starting afresh asks for the last hour: one call, whatever the range
CATCH_UP = 6 * 3600.0  # when recording, a restart asks back to the last recorded reading, this far at most
STALE_MARGIN = 30.0  # a reading later than the poll interval and this is stale
REDISCOVER_EVERY = 600.0  # ask Octopus for the account's devices at most this often
RATES_FRESH = 600.0  # re-read a day's unit rates (new Agile prices, dispatches) this often
NAP = 60.0  # the poller looks at least this often whether it is still wanted
STOPPING = "the server is stopping; reconnecting when it is back"
STATES = ("ok", "starting", "stale", "rate_limited", "no_device", "token_error", "error")


@dataclass(frozen=True)
class LiveStatus:
    state: str  # one of STATES, or "idle" (nobody watching: reported by /status only)
    message: str
    next_poll_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        when = None if self.next_poll_at is None else local_iso(from_epoch(math.ceil(self.next_poll_at)))
        return {"state": self.state, "message": self.message, "next_poll_at": when}


@dataclass(frozen=True)
class PollRecord:
    """One telemetry call: when (the service's clock), how long, what came of it."""

    at: float
    took_ms: float  # the call itself
    readings: int  # new readings it brought
    newest: int | None  # the newest reading's id after it
    outcome: str  # a state
    answered_unix: float  # real time of the answer, for measuring delivery to viewers

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": local_iso(from_epoch(round(self.at, 3))),
            "took_ms": round(self.took_ms, 1),
            "readings": self.readings,
            "newest": self.newest,
            "outcome": self.outcome,
            "answered_unix": round(self.answered_unix, 4),
        }


class UnknownDevice(NotFoundError, LookupError):
    """A device id that is not a smart meter on the account; the message lists those that are."""


class LiveOptions(Protocol):
    """The ``[live]`` settings (``config.LiveSettings``)."""

    @property
    def calls_per_hour(self) -> int: ...

    @property
    def record(self) -> bool: ...

    @property
    def retention_days(self) -> int: ...

    @property
    def grace_seconds(self) -> float: ...

    @property
    def playout(self) -> float | None: ...


def _clock_time(at: float) -> str:
    """An instant as UK wall-clock time, for messages."""
    return from_epoch(round(at)).astimezone(UK).strftime("%H:%M:%S")


class Feed:
    """One Home Mini: its poller, its hub, and who is watching. ``fixed`` is None for the account's Home Mini,
    whichever device that is now (it follows a replaced meter)."""

    def __init__(self, service: LiveService, fixed: str | None) -> None:
        self.service = service
        self.fixed = fixed
        self.device: str | None = fixed
        self.hub = Hub()
        self.viewers = 0
        self.holds = 0  # recording keeps the poller running
        self.lease_until = 0.0  # plain GET requests keep it running until then
        self.idle_since: float | None = None
        self.task: asyncio.Task[None] | None = None
        self.status = LiveStatus("starting", "waiting for the first poll")
        self.polls: deque[PollRecord] = deque(maxlen=60)
        self.polled = asyncio.Event()  # set after each poll attempt, whatever its outcome
        self.interval = 3600.0 / max(1, service.settings.calls_per_hour)
        self.pace_reason: str | None = None
        self.not_before = 0.0  # a backoff
        self.failures = 0
        self.resume_from: int | None = None  # the oldest Last-Event-ID the hub could not serve
        self.planned: float | None = None  # when the last poll was due
        self.pending: list[LiveReading] = []  # received, not yet shown (see live/playout.py), oldest first
        self.queued = asyncio.Event()  # wakes the play-out when readings are pending
        self.player: asyncio.Task[None] | None = None
        self.eager = False  # a one-off view (``live --once``): the first poll goes now if the hour allows, no slot

    # --- who wants it ----------------------------------------------------------------------------------

    def wanted(self, now: float) -> bool:
        grace = self.service.settings.grace_seconds
        return (
            self.viewers > 0
            or self.holds > 0
            or now < self.lease_until
            or (self.idle_since is not None and now < self.idle_since + grace)
        )

    def active(self, now: float) -> bool:
        """Whether a poll is wanted now: the grace period after the last viewer keeps the poller (a page
        reload finds it running) but makes no call."""
        return self.viewers > 0 or self.holds > 0 or now < self.lease_until

    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name=f"live poller {self.fixed or 'home mini'}")

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    # --- the play-out ----------------------------------------------------------------------------------

    def delay(self) -> float:
        """How far behind the Home Mini viewers are shown readings: ``[live] playout``, else enough to bridge
        the gap between two polls at the present pace."""
        setting = self.service.settings.playout
        return auto_delay(self.interval) if setting is None else setting

    @property
    def received(self) -> LiveReading | None:
        """The newest reading received from Octopus, shown or not: polls ask from after it."""
        return self.pending[-1] if self.pending else self.hub.newest

    async def recall(self, now: float) -> int:
        """The last hour's recorded readings (``[live] record``) into the ring, for a first view at once;
        returns how many. Nothing when the hub holds readings already or none are recorded for the hour."""
        service = self.service
        if self.hub.newest is not None or service.store is None:
            return 0
        devices = [self.device] if self.device is not None else await asyncio.to_thread(service.known_devices)
        if not devices:
            return 0
        rows = await asyncio.to_thread(service.store.telemetry, devices[0], from_epoch(now - HISTORY), from_epoch(now))
        readings = await service.priced(devices[0], [from_telemetry(r) for r in rows])
        self.hub.remember(readings)
        if readings:
            self.device = devices[0]
            self._set(
                LiveStatus("ok", f"recorded readings up to {_clock_time(readings[-1].id + STEP)}, from the database")
            )
        return len(readings)

    def _play(self, now: float, history: bool = False) -> None:
        """Show what is due. History (a first poll's last hour) goes into the ring and only its newest due
        reading is sent, as before play-out."""
        due, self.pending = split(self.pending, now, self.delay())
        if history:
            self.hub.remember(due[:-1])
            due = due[-1:]
        self.hub.publish(due)
        if self.pending:
            self.queued.set()
            if self.player is None or self.player.done():
                self.player = asyncio.create_task(self._play_out(), name=f"live play-out {self.fixed or 'home mini'}")

    async def _play_out(self) -> None:
        """Sends each pending reading at its release time, one every 10 seconds."""
        service = self.service
        while True:
            at = next_release(self.pending, self.delay())
            if at is None:
                self.queued.clear()
                await self.queued.wait()
                continue
            now = service.clock()
            if at > now:
                await service.sleep(min(at - now, NAP))
                continue
            self._play(now)

    # --- the poller ------------------------------------------------------------------------------------

    async def _run(self) -> None:
        service = self.service
        if service.graphql is None:
            self._set(LiveStatus("token_error", service.unavailable or "live telemetry is not configured"))
            self.polled.set()
            return
        try:
            while True:
                now = service.clock()
                if not self.wanted(now):
                    log.info("live: nobody watching %s; the poller stops", self.device)
                    return
                if not self.active(now):  # the grace period: waiting for a viewer to come back, no call
                    assert self.idle_since is not None
                    until = self.idle_since + service.settings.grace_seconds
                    self._next_at(until)
                    await service.sleep(min(until - service.clock(), NAP))
                    continue
                rhythm = await service.pace(now)
                self.interval, self.pace_reason = rhythm.interval, rhythm.reason
                held = service.held_until()
                at = max(self._due(rhythm, now), rhythm.hard, self.not_before, held or 0.0)
                if at > now:
                    if held is not None and held >= at:
                        self._set(self._held_status(at))
                    elif rhythm.per_hour == 0 and self.status.state != "rate_limited":
                        self._set(LiveStatus("rate_limited", f"{rhythm.reason}; next look at {_clock_time(at)}", at))
                    self._next_at(at)
                    # From the clock as it is now, not as it was before the awaits above: a stepped clock may have
                    # moved meanwhile, and a sleep counted from then would wake a step late.
                    await service.sleep(min(at - service.clock(), NAP))
                    continue
                self.planned = at
                await self._poll(now, rhythm)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not take the viewers down with it: say so, and let a viewer restart it
            log.exception("live: the poller of %s failed", self.device)
            self._set(LiveStatus("error", "the live poller stopped on an internal error (see the server log)"))
            self.polled.set()

    def _due(self, rhythm: Pace, now: float) -> float:
        """When the next poll is due: on a grid from the last one's planned instant (a poll that goes a
        moment late does not make every later one late), just after a reading ends; from the ledger (the
        previous process's polls included) when this poller has not polled yet."""
        if self.planned is None:
            return now if self.eager else rhythm.at
        due = aligned(self.planned + rhythm.interval)
        return due if due >= now - rhythm.interval else now  # far behind (a stall): no burst to catch up

    def _start_of(self, now: float, device: str) -> tuple[float, bool]:
        """(where to ask from, whether what comes is history). History goes into the ring, not to viewers:
        only its newest reading is sent. A viewer reconnecting after a restart is owed what it missed: that
        is asked from its last reading and sent."""
        newest = self.received
        resume, self.resume_from = self.resume_from, None
        if newest is not None and newest.id >= now - HISTORY:
            return newest.id + STEP, False
        if resume is not None and resume >= now - CATCH_UP and (newest is None or resume > newest.id):
            return resume + STEP, False
        start = now - HISTORY
        if self.service.settings.record and self.service.store is not None:
            last = self.service.store.last_telemetry(device)
            if last is not None:
                start = max(min(start, last.timestamp() + STEP), now - CATCH_UP)
        return start - start % STEP, True

    async def _poll(self, now: float, rhythm: Pace) -> None:
        service = self.service
        assert service.graphql is not None
        device = await self._resolve_device(now)
        if device is None:
            return
        start, history = self._start_of(now, device)
        if start > now - STEP:
            self.not_before = start + STEP  # nothing complete to ask for yet
            return
        # The call's real duration and the machine's time of its answer, whatever the service's clock is set
        # to: they measure delivery to viewers in other processes, and decide nothing.
        began = SYSTEM.monotonic()
        outcome, new, answered, took = "error", 0, SYSTEM(), 0.0
        try:
            rows = await service.graphql.telemetry(
                device, from_epoch(start), from_epoch(now), attempts=1, priority=self.viewers > 0, wait_for_hold=False
            )
            answered, took = SYSTEM(), SYSTEM.monotonic() - began
        except KeyHeld as held:  # another caller's rate limit since the poll was due: no call went; wait for it
            self.not_before = held.until
            self._set(self._held_status(held.until))
            self.polled.set()
            return
        except Exception as err:  # every failure is a status, none a crash
            answered, took = SYSTEM(), SYSTEM.monotonic() - began
            await service.count_poll(service.clock())
            outcome = self._failed(err, now, device)
        else:
            # Counted when answered (failures too): never earlier than Octopus saw it, so that no rolling hour
            # as Octopus measures it holds more than the allowance.
            await service.count_poll(service.clock())
            new, outcome = await self._received(device, rows, history, rhythm)
        finally:
            newest = self.hub.newest
            self.polls.append(
                PollRecord(
                    now,
                    took * 1000,
                    new,
                    newest.id if newest else None,
                    outcome,
                    answered,
                )
            )
            self.polled.set()

    async def _received(
        self, device: str, rows: list[TelemetryReading], history: bool, rhythm: Pace
    ) -> tuple[int, str]:
        service = self.service
        answered = service.clock()
        newest = self.received
        floor = newest.id if newest is not None else -1
        stale_after = self.interval + STALE_MARGIN
        readings = []
        for row in rows:
            reading = from_telemetry(row)
            if reading.id <= floor or reading.id + STEP > answered + 1:
                continue  # already held, or not over yet
            readings.append(reading._replace(stale=answered - (reading.id + STEP) > stale_after))
        if history and readings:  # history was never meant to arrive live: only the newest is judged
            readings = [r._replace(stale=False) for r in readings[:-1]] + readings[-1:]
        readings = await service.priced(device, readings)
        self.pending.extend(readings)
        self._play(answered, history)
        if service.settings.record and rows:
            await service.record(device, rows, answered)
        self.failures, self.not_before = 0, 0.0
        newest = self.received  # the play-out delay is chosen, not a sign of lateness
        if newest is None:
            state = LiveStatus(
                "stale",
                f"Octopus has no readings from the Home Mini {device} for the last hour; asking again at each poll",
            )
        elif answered - (newest.id + STEP) > stale_after:
            age = answered - (newest.id + STEP)
            state = LiveStatus(
                "stale",
                f"no new reading since {_clock_time(newest.id + STEP)} ({age / 60:.0f} min ago): the Home Mini"
                " or Octopus is behind; asking again at each poll",
            )
        else:
            pace_note = f"; {rhythm.reason}" if rhythm.reason else ""
            state = LiveStatus(
                "ok",
                f"polling every {self.interval:.0f} s ({rhythm.per_hour} calls an hour), every 10-second reading"
                f" delivered{pace_note}",
            )
        self._set(state)
        return len(readings), state.state

    def _failed(self, err: Exception, now: float, device: str | None) -> str:
        """The status an error means, and the backoff before the next poll."""
        self.failures += 1
        cause = err.last if isinstance(err, GaveUp) and err.last is not None else err
        if isinstance(cause, RateLimited):
            wait = max(self._backoff(max(60.0, self.interval), 900.0), cause.retry_after or 0.0)
            status = LiveStatus("rate_limited", f"Octopus says too many requests ({cause})", now + wait)
        elif isinstance(err, BudgetExhausted):
            wait = 300.0
            status = LiveStatus("rate_limited", f"{err}", now + wait)
        elif isinstance(err, CredentialsRejected):
            wait = self._backoff(300.0, 1800.0)
            status = LiveStatus("token_error", f"{err}", now + wait)
        elif isinstance(err, NotFound) and device is None:
            wait = self._backoff(600.0, 3600.0)
            status = LiveStatus("no_device", f"{err}", now + wait)
        elif isinstance(err, NotFound):
            wait = self._backoff(600.0, 3600.0)
            status = LiveStatus(
                "no_device",
                f"Octopus has no Home Mini readings for the smart meter {device} ({err}): is a Home Mini paired"
                " with it? The account is checked again before the next poll",
                now + wait,
            )
            self.device = self.fixed  # the account's Home Mini is looked up again
            self.service.devices_stale = True
        elif isinstance(err, OctopusError):
            wait = self._backoff(30.0, 600.0)
            status = LiveStatus("error", f"{err}", now + wait)
        else:
            log.error("live: telemetry of %s failed unexpectedly: %r", device, err)
            wait = self._backoff(30.0, 600.0)
            status = LiveStatus("error", f"telemetry failed unexpectedly ({type(err).__name__}); see the server log")
        self.not_before = aligned(now + wait, slack=0.0)  # no sooner than the wait, just after a reading ends
        status = LiveStatus(
            status.state, f"{status.message}; next poll at {_clock_time(self.not_before)}", self.not_before
        )
        self._set(status)
        return status.state

    def _held_status(self, at: float) -> LiveStatus:
        return LiveStatus(
            "rate_limited",
            f"Octopus is rate-limiting this API key ({self.service.hold_reason()}): every request under it"
            f" waits, live included; next poll at {_clock_time(at)}",
            at,
        )

    def _backoff(self, base: float, cap: float) -> float:
        """The one backoff (:mod:`octoscope.retry`): doubling from ``base`` with each failure in a row, at most
        ``cap``, within 10% below it (the poller keeps to a grid of readings: a narrow jitter is enough)."""
        return Backoff(base, cap, jitter=0.1).delay(self.failures, self.service.rng)

    async def _resolve_device(self, now: float) -> str | None:
        if self.device is not None:
            return self.device
        try:
            devices = await self.service.devices(now)
        except OctopusError as err:  # the account could not be read: a bad key is a token error, not "no device"
            self._failed(err, now, None)
            self.polled.set()
            return None
        if devices:
            self.device = devices[0]
            return self.device
        self.failures += 1
        self.not_before = aligned(now + self._backoff(REDISCOVER_EVERY, 3600.0), slack=0.0)
        self._set(
            LiveStatus(
                "no_device",
                "no Home Mini on the account: Octopus lists no smart meter with a Home Mini's readings (one"
                f" paired in the Octopus app shows up here); looking again at {_clock_time(self.not_before)}",
                self.not_before,
            )
        )
        self.polled.set()
        return None

    def _set(self, status: LiveStatus) -> None:
        changed = (status.state, status.message) != (self.status.state, self.status.message)
        self.status = status
        self.hub.set_status(status.as_dict(), announce=changed)

    def _next_at(self, at: float) -> None:
        if self.status.next_poll_at != at:
            self.status = LiveStatus(self.status.state, self.status.message, at)
            self.hub.set_status(self.status.as_dict(), announce=False)

    def describe(self, now: float) -> dict[str, Any]:
        status = self.status
        if not self.running and status.state in ("ok", "stale", "starting"):
            status = LiveStatus("idle", "nobody is watching: polling starts with the first viewer")
        return {
            **status.as_dict(),
            "available": self.device is not None and status.state not in ("no_device", "token_error"),
            "device_id": self.device,
            "viewers": self.viewers,
            "poll_interval_seconds": round(self.interval, 1),
            "playout_seconds": round(self.delay(), 1),
            "pace_reason": self.pace_reason,
            "newest": None if self.hub.newest is None else local_iso(self.hub.newest.at),
            "dropped_viewers": self.hub.dropped,
            "polls": [p.as_dict() for p in self.polls],
        }


DeviceLookup = Callable[[], Awaitable[None]]
RateLookup = Callable[[str, date], DayRates | None]


class LiveService:
    """Every feed of one account. ``graphql`` None: live is unavailable and ``unavailable`` says why."""

    def __init__(
        self,
        settings: LiveOptions,
        *,
        graphql: GraphQLClient | None = None,
        policy: RequestPolicy | None = None,
        store: StoreProtocol | None = None,
        account: str | None = None,
        clock: Clock,
        rediscover: DeviceLookup | None = None,
        rates: RateLookup | None = None,
        unavailable: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.graphql = graphql
        self.policy = policy
        self.store = store
        self.account = account
        self.clock = clock
        self.sleep = clock.sleep
        self.rediscover = rediscover
        self.rates = rates
        self.unavailable = unavailable
        self.rng = rng or random.Random()
        self.feeds: dict[str | None, Feed] = {}
        self.devices_stale = False
        self._last_rediscovery = -REDISCOVER_EVERY
        self._rates: dict[tuple[str, date], tuple[float, DayRates | None]] = {}
        self._pruned_at = -3600.0
        self.stopping = False

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.settings.record and self.graphql is not None:
            feed = self.feed()
            feed.holds += 1
            feed.ensure_running()

    def stop_streams(self) -> None:
        """The server is stopping: every viewer's stream ends now (its browser reconnects to the next one),
        so that shutdown does not wait on streams that never end by themselves."""
        self.stopping = True
        for feed in self.feeds.values():
            feed.hub.close_all(STOPPING)

    async def close(self) -> None:
        self.stop_streams()
        if self.policy is not None:
            self.policy.hold.live_share = 0
        tasks = [t for f in self.feeds.values() for t in (f.task, f.player) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- devices ---------------------------------------------------------------------------------------

    def known_devices(self) -> list[str]:
        """The account's smart electricity import meters a Home Mini can read, as the store has them."""
        if self.store is None or self.account is None:
            return []
        account = self.store.load_account(self.account)
        home = account.current_property() if account else None
        if home is None:
            return []
        return [
            m.device_id
            for p in home.meter_points
            if p.series.startswith("electricity-import")
            for m in p.meters[-1:]
            if m.device_id
        ]

    async def devices(self, now: float) -> list[str]:
        """The devices, asking Octopus again (at most every ten minutes) when none is known or one failed;
        an error asking is raised only when nothing is known."""
        known = await asyncio.to_thread(self.known_devices)
        lookup = self.rediscover
        due = now - self._last_rediscovery >= REDISCOVER_EVERY
        if (not known or self.devices_stale) and lookup is not None and due:
            try:
                await lookup()
            except OctopusError as err:
                if not known:
                    raise  # nothing to go on: the caller says what is wrong (and asks again after a backoff)
                log.warning("live: looking up the account's devices failed: %s", err)
            self._last_rediscovery = now
            self.devices_stale = False
            known = await asyncio.to_thread(self.known_devices)
        return known

    def feed(self, device: str | None = None) -> Feed:
        """The feed of ``device`` (None: the account's Home Mini). Raises :class:`UnknownDevice`."""
        key = device
        if device is not None:
            known = self.known_devices()
            if device not in known:
                listed = ", ".join(known) or "none yet (run `octoscope sync`)"
                raise UnknownDevice(f"device {device!r} is not a smart meter on the account; known: {listed}")
            if known and device == known[0]:
                key = None  # the account's Home Mini: one feed, whichever way it is asked for
        feed = self.feeds.get(key)
        if feed is None:
            feed = self.feeds[key] = Feed(self, key)
        return feed

    # --- viewers ---------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def watch(self, device: str | None = None, last_event_id: int | None = None) -> AsyncIterator[Subscription]:
        """A viewer for as long as the block runs: the poller runs meanwhile (and a grace period after)."""
        feed = self.feed(device)
        await self.first_view(feed)
        sub = feed.hub.subscribe(last_event_id)
        if self.stopping:  # the server began stopping while the first view was read: this stream ends too
            feed.hub.close_all(STOPPING)
        newest = feed.hub.newest
        if last_event_id is not None and (newest is None or newest.id < last_event_id):
            # The hub does not hold what it saw (a restart): the next poll asks from there.
            feed.resume_from = min(feed.resume_from or last_event_id, last_event_id)
        feed.viewers += 1
        feed.idle_since = None
        feed.ensure_running()
        try:
            yield sub
        finally:
            feed.hub.unsubscribe(sub)
            feed.viewers -= 1
            if feed.viewers == 0:
                feed.idle_since = self.clock()

    async def touch(self, device: str | None = None, wait: float = 10.0) -> Feed:
        """A plain request: keeps the poller running a grace period from now, and waits (``wait`` real
        seconds at most) for a first poll if none was made yet."""
        feed = self.feed(device)
        feed.lease_until = max(feed.lease_until, self.clock() + self.settings.grace_seconds)
        await self.first_view(feed)
        feed.ensure_running()
        if feed.hub.newest is None and not feed.polled.is_set() and self.graphql is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await feed.polled.wait()
        return feed

    async def first_view(self, feed: Feed) -> None:
        """Something to show a viewer at once: the last hour's readings stored in the database, if the ring
        holds none; failing those, the first poll goes now (within the hour's budget) rather than at its
        slot, which after a restart can be two minutes away."""
        if feed.hub.newest is not None or feed.planned is not None:
            return
        try:
            recalled = await feed.recall(self.clock())
        except Exception:  # the live view goes on from the first poll
            log.exception("live: reading the stored readings of %s failed", feed.device)
            recalled = 0
        if not recalled:
            feed.eager = True

    def status(self, device: str | None = None) -> dict[str, Any]:
        return self.feed(device).describe(self.clock())

    # --- shared by the feeds ---------------------------------------------------------------------------

    def held_until(self) -> float | None:
        """When a rate limit's hold on the API key ends (every caller of the key waits for it), if one holds."""
        return None if self.policy is None else self.policy.held_until()

    def hold_reason(self) -> str:
        reason = "" if self.policy is None else self.policy.hold.reason
        return reason or "too many requests"

    async def pace(self, now: float) -> Pace:
        assert self.policy is not None
        assert self.store is not None
        policy, store = self.policy, self.store
        watched = any(f.viewers > 0 for f in self.feeds.values())
        # While someone watches, other work leaves live its share of the GraphQL budget (see the policy).
        policy.hold.live_share = min(self.settings.calls_per_hour, share(policy.per_hour["graphql"])) if watched else 0
        own = await asyncio.to_thread(store.requests_since, policy.key_id, LEDGER, now - 3600)
        used = await asyncio.to_thread(policy.used, "graphql")
        feeds = sum(1 for f in self.feeds.values() if f.running) or 1
        return pace(now, own, used, policy.per_hour["graphql"], self.settings.calls_per_hour, feeds)

    async def count_poll(self, now: float) -> None:
        assert self.policy is not None
        assert self.store is not None
        await asyncio.to_thread(self.store.record_request, self.policy.key_id, LEDGER, now)

    async def day_rates(self, device: str, day: date) -> DayRates | None:
        """The day's unit rates for the device's meter point, re-read every ten minutes."""
        if self.rates is None:
            return None
        now = self.clock()
        cached = self._rates.get((device, day))
        if cached is not None and now - cached[0] < RATES_FRESH:
            return cached[1]
        try:
            found = await asyncio.to_thread(self.rates, device, day)
        except Exception:  # the live view goes on without prices
            log.exception("live: reading the unit rates of %s failed", day)
            found = None
        self._rates[(device, day)] = (now, found)
        return found

    async def priced(self, device: str, readings: list[LiveReading]) -> list[LiveReading]:
        """Readings with their cost at the unit rate of their half-hour."""
        out = []
        for reading in readings:
            rates = await self.day_rates(device, local_date(reading.at))
            rate = rates.rate_at(reading.at) if rates is not None else None
            out.append(reading if rate is None else reading._replace(pence=reading.kwh * rate))
        return out

    async def record(self, device: str, rows: list[TelemetryReading], now: float) -> None:
        store = self.store
        assert store is not None
        await asyncio.to_thread(store.write_telemetry, device, rows)
        if now - self._pruned_at >= 3600:
            self._pruned_at = now
            before = from_epoch(now) - timedelta(days=self.settings.retention_days)
            gone = await asyncio.to_thread(store.prune_telemetry, before)
            if gone:
                log.info("live: forgot %d recorded readings older than %s", gone, before)
