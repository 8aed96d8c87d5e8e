"""What the scheduler should do now: a pure decision from the clock and a few facts about the store.

Jobs, each within the shared request budget (the runner goes through the same clients and policy as a sync):

- ``consumption``: a sync from the morning (06:00 UK) on, once a day at least and again every three hours
  while yesterday is not yet complete (Octopus publishes a day's half-hours the next morning, sometimes in
  parts), until 22:00; when only a few half-hours are missing (``LATE_ONLY``: those that arrive a day late),
  at gaps that grow (twice the time since the morning, six hours at least) instead; a sync also fetches the
  prices the new half-hours need.
- ``prices``: on a tariff with day-ahead prices (Agile, whose days run 23:00 to 23:00 UK), from 16:00 UK every
  half-hour until the prices up to 23:00 tomorrow are stored (and the next morning, today's if they never came).
- ``account``: the account once a day (tariff switches, new meters, devices).
- ``dispatches``: Intelligent Octopus dispatches at the pace ``sync.dispatches`` keeps by the device's state
  and plan (none at all off an Intelligent tariff), within one a minute and twenty an hour.
- ``bills``: the account's statements (``sync.bills``), once the account is stored: when ``sync.bills`` would
  ask again (a closed statement never; the open one a day after it was read), and at most once a day.

A failed job is tried again no sooner than ``RETRY_AFTER_FAILURE``; a failed dispatch refresh after
``DISPATCH_RETRY`` counted from the failed run's end, doubling with each failure in a row. While a rate limit
holds the API key (``octopus.policy.Hold``), no job is due before it ends. Local times are UK local: on the day
the clocks change, 06:00 and 16:00 are still the local hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from octoscope.domain.models import Account, Charge, Fuel
from octoscope.domain.uktime import UK, half_hours_in, local_date, local_day_bounds
from octoscope.store.ports import StoreProtocol

MORNING = time(6, 0)
EVENING = time(22, 0)  # no more tries for yesterday's consumption after this; tomorrow morning again
CONSUMPTION_EVERY = timedelta(hours=3)
LATE_ONLY = 4  # at most this many of yesterday's half-hours missing from a series: the late ones
LATE_EVERY = timedelta(hours=6)
PRICES_FROM = time(16, 0)  # Agile prices for tomorrow are published around 16:00 UK
PRICES_EVERY = timedelta(minutes=30)
AGILE_DAY_ENDS = time(23, 0)  # an Agile day's prices run from 23:00 to 23:00 UK
ACCOUNT_EVERY = timedelta(days=1)
RETRY_AFTER_FAILURE = timedelta(minutes=30)
BILLS_EVERY = timedelta(days=1)
BILLS_RETRY_AFTER_FAILURE = timedelta(hours=3)  # statements are not urgent: a failing query is not hammered
DISPATCH_RETRY = timedelta(minutes=5)
DISPATCH_RETRY_CAP = timedelta(hours=1)
HALF_HOURLY_KINDS = frozenset({"HalfHourlyTariff"})

JOBS = ("consumption", "prices", "account", "bills", "dispatches")
DESCRIPTIONS = {
    "consumption": "consumption and the prices it needs: from 06:00 until yesterday is complete",
    "prices": "day-ahead (Agile) prices for tomorrow: from 16:00 until published",
    "account": "the account: tariffs, meters and devices, daily",
    "bills": "the account's statements: the open one daily, each closed one once",
    "dispatches": "Intelligent Octopus dispatches: often while plugged in",
}


@dataclass(frozen=True)
class LastRun:
    started: datetime
    ok: bool
    finished: datetime | None = None
    failures: int = 0  # failed runs in a row, this one included


@dataclass(frozen=True)
class Facts:
    """What the decision needs to know besides the clock."""

    last: dict[str, LastRun]  # job -> its last run, if any
    yesterday_complete: bool  # every series with data holds all of yesterday's half-hours
    day_ahead_prices: bool  # a current tariff publishes a price per half-hour a day ahead
    prices_until: datetime | None  # how far those prices are stored
    dispatches_at: datetime | None  # when the next dispatch refresh is due; None: no Intelligent device
    statements_at: datetime | None = None  # when sync.bills would ask for statements again; None: no account
    dispatches_why: str = "within the dispatch limits"
    held_until: datetime | None = None  # a rate limit holds the API key until then
    yesterday_missing: int | None = None  # the most half-hours of yesterday any series lacks (None: unknown)


@dataclass(frozen=True)
class Decision:
    job: str
    due: bool
    next_at: datetime | None  # None: never, as things stand (no Agile tariff, no device)
    why: str


def _at(day: date, clock: time) -> datetime:
    """A UK local wall-clock time on ``day`` as a UTC instant."""
    return datetime.combine(day, clock, tzinfo=UK).astimezone(UTC)


def next_publication(now: datetime) -> datetime:
    """The next 16:00 UK after ``now``: a price list whose last price is open-ended cannot change before the
    next publication, so it is not read again until then (a switch of tariff is a new list, read at once)."""
    at = _at(local_date(now), PRICES_FROM)
    return at if at > now else _at(local_date(now) + timedelta(days=1), PRICES_FROM)


def _retry(last: LastRun | None, every: timedelta) -> datetime | None:
    """The earliest next try after ``last``: ``every`` after a success, the failure back-off after a failure."""
    if last is None:
        return None
    return last.started + (every if last.ok else min(every, RETRY_AFTER_FAILURE))


def _consumption(now: datetime, facts: Facts) -> Decision:
    today = local_date(now)
    morning, evening = _at(today, MORNING), _at(today, EVENING)
    next_morning = morning if now < morning else _at(today + timedelta(days=1), MORNING)
    last = facts.last.get("consumption")
    if last is None:
        return Decision("consumption", True, now, "not synced since the server started")
    if not last.ok:
        at = last.started + RETRY_AFTER_FAILURE
        return Decision("consumption", at <= now, max(at, now), "trying again after a failure")
    since = morning if now >= morning else _at(today - timedelta(days=1), MORNING)  # the latest morning
    if last.started < since:
        return Decision("consumption", True, now, "no sync since this morning")
    if facts.yesterday_complete:
        return Decision("consumption", False, next_morning, "yesterday is complete")
    if now < morning:
        return Decision("consumption", False, morning, "yesterday is not complete; waiting for the morning")
    at = last.started + CONSUMPTION_EVERY
    why = "yesterday is not complete yet"
    if facts.yesterday_missing is not None and facts.yesterday_missing <= LATE_ONLY:
        # Only the half-hours that arrive a day late: asking every three hours brings nothing new.
        at = last.started + max(LATE_EVERY, 2 * (last.started - morning))
        why = (
            f"yesterday lacks only {facts.yesterday_missing} late half-hour{'s' if facts.yesterday_missing > 1 else ''}"
        )
    if at > evening:
        return Decision("consumption", False, next_morning, "yesterday is not complete; again tomorrow morning")
    return Decision("consumption", at <= now, max(at, now), why)


def _prices(now: datetime, facts: Facts) -> Decision:
    if not facts.day_ahead_prices:
        return Decision("prices", False, None, "no tariff with day-ahead prices")
    today = local_date(now)
    published = _at(today, PRICES_FROM)
    after = now >= published
    wanted_to = _at(today + timedelta(days=1 if after else 0), AGILE_DAY_ENDS)
    if facts.prices_until is not None and facts.prices_until >= wanted_to:
        at = _at(today + timedelta(days=1), PRICES_FROM) if after else published
        return Decision("prices", False, at, f"stored through {'tomorrow' if after else 'today'}")
    at = _retry(facts.last.get("prices"), PRICES_EVERY) or now
    why = "tomorrow's prices are not stored yet" if after else "today's prices are not stored"
    return Decision("prices", at <= now, max(at, now), why)


def _account(now: datetime, facts: Facts) -> Decision:
    at = _retry(facts.last.get("account"), ACCOUNT_EVERY) or now
    return Decision("account", at <= now, max(at, now), "daily")


def _bills(now: datetime, facts: Facts) -> Decision:
    if facts.statements_at is None:
        return Decision("bills", False, None, "no account stored yet")
    at = facts.statements_at
    why = "the open statement daily" if at > now else "statements not read within the day"
    last = facts.last.get("bills")
    if last is not None:
        again = last.started + (BILLS_EVERY if last.ok else BILLS_RETRY_AFTER_FAILURE)
        if again > at:
            at, why = again, "at most once a day" if last.ok else "trying again after a failure"
    return Decision("bills", at <= now, max(at, now), why)


def _dispatches(now: datetime, facts: Facts) -> Decision:
    if facts.dispatches_at is None:
        return Decision("dispatches", False, None, "no device on an Intelligent Octopus tariff")
    at = facts.dispatches_at
    why = facts.dispatches_why
    last = facts.last.get("dispatches")
    if last is not None and not last.ok:
        # From the failed run's end (it may have waited), longer with each failure in a row.
        wait = min(DISPATCH_RETRY_CAP, DISPATCH_RETRY * 2 ** max(0, last.failures - 1))
        at = max(at, (last.finished or last.started) + wait)
        why = f"trying again after {last.failures or 1} failure{'s' if last.failures > 1 else ''}"
    return Decision("dispatches", at <= now, max(at, now), why)


def _held(decision: Decision, now: datetime, until: datetime | None) -> Decision:
    if until is None or until <= now or decision.next_at is None:
        return decision
    at = max(decision.next_at, until)
    return Decision(decision.job, False, at, f"{decision.why}; Octopus rate-limits the key until then")


def decide(now: datetime, facts: Facts) -> list[Decision]:
    """Each job: whether it is due at ``now``, and when it will next be."""
    decisions = [
        _consumption(now, facts),
        _prices(now, facts),
        _account(now, facts),
        _bills(now, facts),
        _dispatches(now, facts),
    ]
    return [_held(d, now, facts.held_until) for d in decisions]


# --- facts from the store ---------------------------------------------------------------------------------


def yesterday_complete(store: StoreProtocol, account: Account, now: datetime) -> bool:
    """Whether every current series that has data holds each half-hour of yesterday (46, 48 or 50)."""
    return yesterday_missing(store, account, now) == 0


def yesterday_missing(store: StoreProtocol, account: Account, now: datetime) -> int:
    """The most half-hours of yesterday that any current series with data lacks."""
    yesterday = local_date(now) - timedelta(days=1)
    lo, hi = local_day_bounds(yesterday)
    missing = 0
    for prop in account.properties:
        if not prop.lived_in_at(now):
            continue
        for point in prop.meter_points:
            if store.series_extent(point.series) is None:
                continue  # a meter that reports nothing (a traditional gas meter) is not waited for
            missing = max(missing, half_hours_in(yesterday) - len(store.readings(point.series, lo, hi)))
    return missing


def day_ahead_tariffs(store: StoreProtocol, account: Account, now: datetime) -> list[str]:
    """The current electricity tariffs with a price per half-hour published a day ahead (Agile)."""
    kinds = store.tariff_kinds()
    codes = []
    for prop in account.properties:
        if not prop.lived_in_at(now):
            continue
        for point in prop.meter_points:
            if point.fuel is not Fuel.ELECTRICITY:
                continue
            for agreement in point.agreements:
                if agreement.overlaps(now, now + timedelta(days=1)) and (
                    kinds.get(agreement.tariff_code) in HALF_HOURLY_KINDS or "AGILE" in agreement.tariff.product
                ):
                    codes.append(agreement.tariff_code)
    return sorted(set(codes))


def prices_stored_until(store: StoreProtocol, codes: list[str], now: datetime) -> datetime | None:
    """How far every one of ``codes`` has its unit rates stored, from now on (the least of them)."""
    ends = []
    for code in codes:
        rates = store.rates(code, Charge.STANDARD, now - timedelta(hours=1), None)
        ends.append(max((r.valid_to or r.valid_from for r in rates), default=None))
    known = [e for e in ends if e is not None]
    if not ends or len(known) < len(ends):
        return None
    return min(known)
