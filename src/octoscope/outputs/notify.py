"""Notifications through Apprise (any of its services: ntfy, Pushover, Telegram, email, a JSON webhook...),
for the rules the user turns on in ``[notify]``:

- ``tomorrow_prices``: a day-ahead tariff's (Agile's) prices for tomorrow are stored, with the cheapest window;
- ``price_below``: a run of half-hours ahead at or below ``price_below_pence`` (0: negative prices);
- ``dispatch_planned``: an Intelligent Octopus plan appears or changes;
- ``stale``: no new consumption for ``stale_hours``;
- ``sync_failed``: the last sync failed;
- ``bill_difference_pence`` (set to turn it on): a closed statement's fuel differs from octoscope's costs of the
  same days by more than that many pence, for a reason other than rounding (once the readings it was compared
  with are settled: while Octopus may still revise them, the comparison is not final and waits).

Each event has a key made of what it is about (the day, the run, the plan), kept in the store once sent, so it
goes once whatever restarts; at most ``max_per_hour`` go in any hour (the rest wait). Rules read the store
(``facts``) and ask Octopus nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.config_outputs import NotifySettings
from octoscope.domain.uktime import UK, local_date
from octoscope.outputs.facts import Facts, read_facts
from octoscope.services.bills import bills_report, report_json
from octoscope.services.costing import CostError
from octoscope.store.ports import StoreProtocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    key: str  # the same event always has the same key
    rule: str
    title: str
    body: str


def _hhmm(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UK).strftime("%a %H:%M")


def _window_text(facts: Facts) -> str:
    window = (facts.prices or {}).get("cheapest")
    if not window:
        return ""
    return (
        f" Cheapest {window['hours']:g} h: {_hhmm(window['start'])} to {_hhmm(window['end'])},"
        f" {window['average_pence']:.2f}p/kWh on average."
    )


def _money(pence: int) -> str:
    return f"{'-' if pence < 0 else ''}£{abs(pence) / 100:,.2f}"


BENIGN = frozenset({"rounding"})  # a difference only this explains is not told
NOT_YET = "provisional_readings"  # octoscope's side may still change: told once it is settled


def bill_events(account: str, statements: tuple[dict[str, Any], ...], threshold: int) -> list[Event]:
    """One event per closed statement and fuel whose difference exceeds ``threshold`` pence, oldest first."""
    out = []
    for st in statements:
        if st["status"] != "CLOSED":
            continue  # charges are added when it closes
        for line in st["fuels"]:
            difference = line["difference_pence"]
            causes = {r["cause"] for r in line["reasons"]}
            if abs(difference) <= threshold or not causes - BENIGN or NOT_YET in causes:
                continue
            why = "; ".join(r["text"] for r in line["reasons"] if r["cause"] not in BENIGN)
            out.append(
                Event(
                    f"bill_difference:{account}:{st['id']}:{line['fuel']}",
                    "bill_difference",
                    f"Your bill differs: {line['fuel']}, {st['from']} to {st['to']}",
                    f"Statement {st['from']} to {st['to']}, {line['fuel']}: Octopus charged"
                    f" {_money(line['octopus_pence'])}, octoscope's costs are {_money(line['octoscope_pence'])},"
                    f" a difference of {difference:+d}p. Reason: {why}.",
                )
            )
    return out


def events(facts: Facts, options: NotifySettings) -> list[Event]:
    """What the rules turned on have to say at ``facts.now``, oldest concern first."""
    out: list[Event] = []
    rules = set(options.rules)
    prices = facts.prices or {}
    tariff = prices.get("tariff", "")
    if "sync_failed" in rules and facts.health.get("last_outcome") == "failed":
        started = facts.health.get("last_run_started") or ""
        out.append(
            Event(
                f"sync_failed:{started}",
                "sync_failed",
                "octoscope: a sync failed",
                f"The sync started {_hhmm(started)} failed; the Status page says why.",
            )
        )
    age, until = facts.health.get("data_age_hours"), facts.health.get("data_until")
    if "stale" in rules and age is not None and until and age >= options.stale_hours:
        out.append(
            Event(
                f"stale:{until}",
                "stale",
                "octoscope: no new data",
                f"No consumption newer than {_hhmm(until)} ({age:.0f} hours ago).",
            )
        )
    tomorrow = prices.get("tomorrow")
    if "tomorrow_prices" in rules and tomorrow and prices.get("day_ahead"):
        values = [p for _, p in tomorrow["rates"]]
        out.append(
            Event(
                f"tomorrow_prices:{tariff}:{tomorrow['date']}",
                "tomorrow_prices",
                f"Tomorrow's prices are out ({tomorrow['date']})",
                f"{tariff}: {min(values):.2f}p to {max(values):.2f}p/kWh.{_window_text(facts)}",
            )
        )
    if "price_below" in rules:
        threshold = options.price_below_pence
        # Runs of half-hours at or below the threshold, from yesterday's prices on (so that a run keeps the
        # key of its real start while it goes on), told until they end.
        run: list[tuple[str, str, float]] = []
        for slot in [*prices.get("rates", []), None]:
            if slot is not None and slot[2] <= threshold and (not run or run[-1][1] == slot[0]):
                run.append(slot)
                continue
            if run and datetime.fromisoformat(run[-1][1]) > facts.now:
                lowest = min(p for _, _, p in run)
                out.append(
                    Event(
                        f"price_below:{tariff}:{threshold:g}:{run[0][0]}",
                        "price_below",
                        "Negative prices ahead" if lowest < 0 else f"Electricity at or below {threshold:g}p",
                        f"{_hhmm(run[0][0])} to {_hhmm(run[-1][1])}: down to {lowest:.2f}p/kWh ({tariff}).",
                    )
                )
            run = [slot] if slot is not None and slot[2] <= threshold else []
    if "dispatch_planned" in rules:
        for device, d in sorted(facts.dispatches.items()):
            planned = d["planned"]
            if not planned:
                continue
            plan = ";".join(f"{p['start']}/{p['end']}/{p['type']}" for p in planned)
            digest = hashlib.sha256(plan.encode()).hexdigest()[:16]
            lines = ", ".join(f"{_hhmm(p['start'])}-{datetime.fromisoformat(p['end']):%H:%M}" for p in planned)
            out.append(
                Event(
                    f"dispatch:{device}:{digest}",
                    "dispatch_planned",
                    "Intelligent Octopus: charging planned",
                    f"{len(planned)} planned dispatch{'es' if len(planned) != 1 else ''}: {lines}.",
                )
            )
    if options.bill_difference_pence is not None:
        out += bill_events(facts.account, facts.statements, options.bill_difference_pence)
    return out


def deliver(options: NotifySettings, event: Event) -> bool:
    """Send one event to every URL; True if Apprise delivered it to all of them."""
    import apprise  # noqa: PLC0415 (heavy: only when there is something to send)

    # Apprise's debug lines show the URLs it loads, tokens and passwords included: never below INFO.
    quiet = logging.getLogger("apprise")
    if quiet.getEffectiveLevel() < logging.INFO:
        quiet.setLevel(logging.INFO)
    sender = apprise.Apprise()
    for url in options.urls:
        if not sender.add(url.reveal()):
            log.warning("notify: one of the [notify] urls is not one Apprise knows; it is skipped")
    return bool(sender.notify(body=event.body, title=event.title))


@dataclass
class _Reconciled:
    """The statements reconciled for the last store asked about, while it and the day are unchanged: ``serve``
    asks each minute, and reconciling costs every statement's days."""

    store: StoreProtocol | None = None
    settings: Settings | None = None
    key: tuple[tuple[int, int], date] | None = None
    statements: tuple[dict[str, Any], ...] = ()


_RECONCILED = _Reconciled()


def reconciled_statements(store: StoreProtocol, settings: Settings, now: datetime) -> tuple[dict[str, Any], ...]:
    today = local_date(now)
    held, key = _RECONCILED, (store.data_version(), today)
    if held.store is store and held.settings is settings and held.key == key:
        return held.statements
    found = tuple(report_json(bills_report(store, settings, today))["statements"])
    held.store, held.settings, held.key, held.statements = store, settings, key, found
    return found


@dataclass(frozen=True)
class Outcome:
    sent: list[str]
    held: list[str]  # over the hourly limit: they go in a later round
    failed: list[str]


async def notify_round(settings: Settings, store: StoreProtocol, clock: Clock, label: str | None = None) -> Outcome:
    """Send each new event once (then kept in the store), at most ``max_per_hour`` an hour. ``label``: the
    account, before each title, when one process speaks for several."""
    options = settings.notify
    assert options is not None
    now = clock.now()
    try:
        facts = read_facts(store, settings, now, clock(), options.cheapest_hours)
        if options.bill_difference_pence is not None:  # reconciling costs each statement's days: only when asked
            facts = replace(facts, statements=reconciled_statements(store, settings, now))
    except CostError as err:
        log.info("notify: nothing to look at yet (%s)", err)
        return Outcome([], [], [])
    sent: list[str] = []
    held: list[str] = []
    failed: list[str] = []
    for event in events(facts, options):
        if label is not None:
            event = replace(event, title=f"{label}: {event.title}")  # noqa: PLW2901 (the event as sent)
        if store.notification_sent(event.key):
            continue
        if store.notifications_since(now - timedelta(hours=1)) >= options.max_per_hour:
            held.append(event.key)
            continue
        if await asyncio.to_thread(deliver, options, event):
            store.record_notification(event.key, event.rule, now)
            sent.append(event.key)
        else:
            log.warning("notify: %s was not delivered; it is tried again next round", event.rule)
            failed.append(event.key)
    return Outcome(sent, held, failed)


async def run_forever(
    settings: Settings, store: StoreProtocol, clock: Clock, every: float = 60.0, label: str | None = None
) -> None:
    while True:
        try:
            await notify_round(settings, store, clock, label)
        except Exception:  # a bug must not stop serve; logged in full
            log.exception("notification round failed")
        await clock.sleep(every)
