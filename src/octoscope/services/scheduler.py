"""The scheduler ``octoscope serve`` runs: each minute it asks ``sync.schedule.decide`` what is due and does it,
through the process's one Octopus facade (its clients, request policy and budget), as every other call to
Octopus in the process.

It remembers each job's last run (and takes the last sync, the last reading of the account and the last
dispatch query from the store at start, so a restart, or a start right after a sync, does not repeat them);
the Status page and ``/api/status`` show them with the next runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.domain.uktime import UK, from_epoch
from octoscope.octopus.errors import OctopusError
from octoscope.octopus.facade import Octopus
from octoscope.services.pricing import sync_prices_ahead
from octoscope.services.sync_run import record_sync
from octoscope.store.ports import StoreProtocol
from octoscope.sync.bills import fetch_statements, next_fetch
from octoscope.sync.discovery import discover
from octoscope.sync.dispatches import LEDGER, NoIntelligentDevice, RefreshTooSoon, plan_next, refresh
from octoscope.sync.plan import resolve_window
from octoscope.sync.run import run_sync
from octoscope.sync.schedule import (
    ACCOUNT_EVERY,
    DESCRIPTIONS,
    JOBS,
    Decision,
    Facts,
    LastRun,
    day_ahead_tariffs,
    decide,
    prices_stored_until,
    yesterday_missing,
)

log = logging.getLogger(__name__)


class AfterSync(Protocol):
    """Awaited after each successful sync (``outputs.influx.push_after_sync``): None, a summary, or
    ``{"error": ...}`` (logged; a failed push never stops the scheduler). Only the error is read."""

    def __call__(
        self, settings: Settings, store: StoreProtocol, *, clock: Clock
    ) -> Awaitable[Mapping[str, object] | None]: ...


FIRST_STATEMENTS_AFTER = timedelta(hours=1)
SPREAD = timedelta(hours=1)  # several accounts' syncs are spread over this much time after the scheduled one
SPREAD_JOBS = ("consumption", "prices", "account")


def spread_offset(number: str, spread: timedelta = SPREAD) -> timedelta:
    """An account's place in the spread: the same for the same number on every start (not random, so a
    restart does not move it), and different accounts' places scattered evenly over ``spread``."""
    digest = int.from_bytes(hashlib.sha256(number.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % max(1, int(spread.total_seconds())))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


@dataclass
class JobRun:
    started: datetime
    finished: datetime | None = None
    ok: bool | None = None  # None while running
    message: str = ""
    failures: int = 0  # failed runs of the job in a row, this one included


RunOutcome = Literal["running", "ok", "failed"]


def _uk(instant: datetime) -> str:
    return instant.astimezone(UK).isoformat()


@dataclass(frozen=True, slots=True)
class JobRunSeen:
    """A job's last run as the Status page shows it."""

    started: datetime
    finished: datetime | None
    outcome: RunOutcome
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "started": _uk(self.started),
            "finished": _uk(self.finished) if self.finished else None,
            "outcome": self.outcome,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class JobState:
    """One scheduled job: what it does, its last run, when it runs next and why (instants UK local in JSON)."""

    job: str
    what: str
    last_run: JobRunSeen | None
    next_run: datetime | None
    due: bool
    why: str

    def to_json(self) -> dict[str, object]:
        return {
            "job": self.job,
            "what": self.what,
            "last_run": None if self.last_run is None else self.last_run.to_json(),
            "next_run": _uk(self.next_run) if self.next_run else None,
            "due": self.due,
            "why": self.why,
        }


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        store: StoreProtocol,
        clock: Clock,
        octopus: Octopus,
        *,
        after_sync: AfterSync | None = None,
        offset: timedelta = timedelta(0),
    ) -> None:
        self.settings = settings
        self.offset = offset  # with several accounts: how much later than the schedule says its syncs start
        self.after_sync = after_sync  # the outputs' hook (InfluxDB), handed in: services do not import outputs
        self.store = store
        self.clock = clock
        self.octopus = octopus
        _, self.number = settings.require_credentials()
        self.key_id = octopus.key_id
        self.runs: dict[str, JobRun] = {}
        last = store.last_run()
        if last is not None and last[2] in ("ok", "failed"):
            self.runs["consumption"] = JobRun(last[0], last[1], last[2] == "ok", "the last sync, from the store")
        read = store.account_read_at(self.number)
        if read is not None:  # a sync reads the account too: serve started right after one does not again
            self.runs["account"] = JobRun(read, read, True, "the last reading of the account, from the store")
        sent = store.requests_since(self.key_id, LEDGER, 0)
        if sent:
            self.runs["dispatches"] = JobRun(from_epoch(sent[-1]), from_epoch(sent[-1]), True, "from the ledger")
        self.hold = octopus.policy.hold  # the rate-limit hold every caller of the key shares
        self.decisions: list[Decision] = []

    def now(self) -> datetime:
        return from_epoch(self.clock())

    def facts(self, now: datetime) -> Facts:
        account = self.store.load_account(self.number)
        last = {
            name: LastRun(r.started, bool(r.ok), r.finished, r.failures)
            for name, r in self.runs.items()
            if r.ok is not None
        }
        held = from_epoch(self.hold.not_before) if self.hold.not_before > now.timestamp() else None
        if account is None:
            return Facts(last, False, False, None, None, None, held_until=held)
        codes = day_ahead_tariffs(self.store, account, now)
        dispatch_at, why = plan_next(self.store, self.key_id, self.number, now.timestamp())
        missing = yesterday_missing(self.store, account, now)
        return Facts(
            last,
            missing == 0,
            bool(codes),
            prices_stored_until(self.store, codes, now) if codes else None,
            None if dispatch_at is None else from_epoch(dispatch_at),
            self._statements_at(now),
            why,
            held,
            missing,
        )

    def _statements_at(self, now: datetime) -> datetime:
        """When statements are next to be asked for. Never read: an hour after the account was (a serve started
        right after a sync asks nothing at start-up, and the day's calls are spread out), else ``sync.bills``."""
        due = next_fetch(self.store.statements(self.number))
        if due is not None:
            return due
        read = self.store.account_read_at(self.number)
        return now if read is None else read + FIRST_STATEMENTS_AFTER

    def decide(self, now: datetime) -> list[Decision]:
        """Each job's decision at ``now``, this account's syncs ``offset`` late (:func:`spread_decide`)."""
        return spread_decide(now, self.facts(now), self.offset)

    async def tick(self) -> list[str]:
        """Run every job due now, one after another; the names of those run."""
        now = self.now()
        self.decisions = self.decide(now)
        done = []
        for decision in self.decisions:
            if decision.due:
                await self.run(decision.job)
                done.append(decision.job)
        if done:
            self.decisions = self.decide(self.now())
        return done

    async def run(self, job: str) -> None:
        started = self.now()
        previous = self.runs.get(job)
        record = self.runs[job] = JobRun(started)
        try:
            record.message = await getattr(self, f"_{job}")(started)
            record.ok = True
        except (OctopusError, NoIntelligentDevice, RefreshTooSoon) as err:
            record.ok, record.message = False, str(err)
            log.warning("scheduled %s: %s", job, err)
        except Exception as err:  # a bug must not stop the scheduler; it is logged in full and shown
            record.ok, record.message = False, f"unexpected error: {type(err).__name__}"
            log.exception("scheduled %s failed", job)
        if not record.ok:
            record.failures = (previous.failures if previous is not None and previous.ok is False else 0) + 1
        record.finished = self.now()

    async def run_job(self, job: str) -> str:
        """Run one job now (the MQTT refresh button) and say how it went."""
        await self.run(job)
        record = self.runs[job]
        return f"{'ok' if record.ok else 'failed'}: {record.message}"

    async def _sync(self, now: datetime) -> str:
        _, end = resolve_window("latest", "tomorrow", now)
        summary = await record_sync(
            self.store,
            self.clock,
            now,
            lambda: run_sync(
                self.octopus.clients,
                self.store,
                self.number,
                start=None,
                end=end,
                now=now,
                reread_days=self.settings.sync.reread_days,
                concurrency=self.settings.sync.concurrency,
                account_fresh_for=ACCOUNT_EVERY,  # the account job reads it daily
            ),
        )
        pushed = None if self.after_sync is None else await self.after_sync(self.settings, self.store, clock=self.clock)
        if pushed and "error" in pushed:
            log.warning("pushing to InfluxDB after the sync: %s", pushed["error"])
        requests = summary.requests
        return (
            f"{summary.rows_new} new half-hours;"
            f" {requests.get('rest', 0)} REST, {requests.get('graphql', 0)} GraphQL requests"
        )

    async def _consumption(self, now: datetime) -> str:
        return await self._sync(now)

    async def _prices(self, now: datetime) -> str:
        done = await sync_prices_ahead(self.settings, self.store, self.clock, self.octopus)
        return f"tomorrow_published: {done.tomorrow_published}"

    async def _account(self, now: datetime) -> str:
        account = await discover(self.octopus.clients, self.store, self.number, now, refresh=True)
        points = sum(len(p.meter_points) for p in account.properties)
        return (
            f"{_count(len(account.properties), 'property', 'properties')}, {_count(points, 'meter point')},"
            f" {_count(len(account.devices), 'device')}"
        )

    async def _bills(self, now: datetime) -> str:
        done = await fetch_statements(self.octopus.graphql, self.store, self.number, now)
        if done.skipped:
            return f"{done.skipped}; {_count(done.kept, 'statement')} kept"
        return (
            f"{_count(done.fetched, 'statement')} read in {_count(done.requests, 'GraphQL request')}; {done.kept} kept"
        )

    async def _dispatches(self, now: datetime) -> str:
        done = await refresh(self.octopus.clients, self.store, self.number, now.timestamp())
        return "; ".join(f"{d.state or 'state unknown'}: {d.new} new, {d.updated} updated" for d in done)

    async def run_forever(self, every: float) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # the store or the account unreadable for a moment: try again next time
                log.exception("scheduler tick failed")
            await self.clock.sleep(every)

    def snapshot(self) -> list[JobState]:
        """Each job with its last and next runs, for the Status page."""
        decisions = {d.job: d for d in self.decisions or self.decide(self.now())}
        out = []
        for job in JOBS:
            run = self.runs.get(job)
            decision = decisions[job]
            last = None
            if run is not None:
                outcome: RunOutcome = "running" if run.ok is None else "ok" if run.ok else "failed"
                last = JobRunSeen(run.started, run.finished, outcome, run.message)
            out.append(JobState(job, DESCRIPTIONS[job], last, decision.next_at, decision.due, decision.why))
        return out


def spread_decide(now: datetime, facts: Facts, offset: timedelta) -> list[Decision]:
    """``decide``, with the syncs (consumption, prices, the account) ``offset`` later than the schedule says,
    so that many accounts do not all start at 06:00 or 16:00; dispatches and statements keep their own pace.
    Offsets are durations, so a local day of 46 or 50 half-hours moves nothing but the local hours."""
    decisions = decide(now, facts)
    if not offset:
        return decisions
    shifted = {d.job: d for d in decide(now - offset, facts)}
    out = []
    for d in decisions:
        later = shifted[d.job]
        if d.job in SPREAD_JOBS:
            at = None if later.next_at is None else max(later.next_at + offset, now)
            out.append(Decision(d.job, later.due, at, later.why))
        else:
            out.append(d)
    return out


class Schedulers:
    """The one scheduler of a process serving several accounts: each account's jobs (a :class:`Scheduler`
    with its own store and its key's facade, its syncs ``spread_offset`` late), looked at in one loop, one
    account after another, so that a thousand accounts never sync all at once."""

    def __init__(self, accounts: list[Scheduler]) -> None:
        self.accounts = accounts

    @classmethod
    def spread(
        cls,
        accounts: Sequence[tuple[Settings, StoreProtocol, Octopus]],
        clock: Clock,
        *,
        after_sync: AfterSync | None = None,
        spread: timedelta = SPREAD,
    ) -> Schedulers:
        """One :class:`Scheduler` per account; with one account, no offset (it syncs as it always did)."""
        several = len(accounts) > 1
        return cls(
            [
                Scheduler(
                    settings,
                    store,
                    clock,
                    octopus,
                    after_sync=after_sync,
                    offset=spread_offset(settings.require_account(), spread) if several else timedelta(0),
                )
                for settings, store, octopus in accounts
            ]
        )

    async def tick(self) -> dict[str, list[str]]:
        """Each account's jobs due now, in turn; the jobs run per account number."""
        done: dict[str, list[str]] = {}
        for scheduler in self.accounts:
            try:
                ran = await scheduler.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # one account's store unreadable for a moment must not stop the others
                log.exception("scheduler tick of %s failed", scheduler.number)
                continue
            if ran:
                done[scheduler.number] = ran
        return done

    async def run_forever(self, every: float) -> None:
        if not self.accounts:
            return
        clock = self.accounts[0].clock  # the process's one clock, which every account's scheduler shares
        while True:
            await self.tick()
            await clock.sleep(every)
