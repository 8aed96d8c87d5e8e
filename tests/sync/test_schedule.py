"""The scheduler's decisions on a fixed clock: what is due, when next, on ordinary and clock-change days.

2026-03-29 (BST from 01:00 UTC) has 46 half-hours; 2026-10-25 (GMT from 01:00 UTC) has 50. The morning
(06:00) and the Agile publication hour (16:00) are UK local hours, so their UTC instants move with the clocks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from octoscope.domain.bills import Statement
from octoscope.domain.models import Account, Agreement, Direction, Fuel, Meter, MeterPoint, Property, Reading
from octoscope.domain.uktime import local_midnight
from octoscope.store.sqlite import Store
from octoscope.sync.bills import next_fetch
from octoscope.sync.schedule import Decision, Facts, LastRun, decide, yesterday_complete


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def facts(
    *,
    last: dict[str, LastRun] | None = None,
    complete: bool = False,
    agile: bool = False,
    prices_until: str | None = None,
    dispatches_at: str | None = None,
    statements_at: str | None = None,
) -> Facts:
    return Facts(
        last or {},
        complete,
        agile,
        at(prices_until) if prices_until else None,
        at(dispatches_at) if dispatches_at else None,
        at(statements_at) if statements_at else None,
    )


def job(now: str, f: Facts, name: str) -> Decision:
    return next(d for d in decide(at(now), f) if d.job == name)


def ok(when: str) -> LastRun:
    return LastRun(at(when), True)


def failed(when: str) -> LastRun:
    return LastRun(at(when), False)


# --- consumption --------------------------------------------------------------------------------------------


def test_when_never_run_then_consumption_is_due_at_once_whatever_the_hour() -> None:
    d = job("2026-11-21T02:00:00Z", facts(), "consumption")
    assert d.due
    assert d.next_at == at("2026-11-21T02:00:00Z")


def test_when_synced_last_evening_then_nothing_until_the_morning() -> None:
    d = job("2026-11-21T05:59:00Z", facts(last={"consumption": ok("2026-11-20T21:00:00Z")}), "consumption")
    assert not d.due
    assert d.next_at == at("2026-11-21T06:00:00Z")  # GMT: 06:00 local is 06:00 UTC


def test_when_the_morning_comes_then_consumption_is_due() -> None:
    d = job("2026-11-21T06:00:00Z", facts(last={"consumption": ok("2026-11-20T21:00:00Z")}), "consumption")
    assert d.due


def test_when_yesterday_is_incomplete_then_again_every_three_hours_until_the_evening() -> None:
    f = facts(last={"consumption": ok("2026-11-21T06:00:00Z")}, complete=False)
    assert not job("2026-11-21T08:59:00Z", f, "consumption").due
    assert job("2026-11-21T08:59:00Z", f, "consumption").next_at == at("2026-11-21T09:00:00Z")
    assert job("2026-11-21T09:00:00Z", f, "consumption").due
    late = facts(last={"consumption": ok("2026-11-21T20:00:00Z")}, complete=False)
    d = job("2026-11-21T21:30:00Z", late, "consumption")
    assert not d.due
    assert d.next_at == at("2026-11-22T06:00:00Z")  # 23:00 would be past 22:00: tomorrow morning


def test_when_only_the_late_half_hours_are_missing_then_the_gaps_grow() -> None:
    def late(last: str, missing: int) -> Facts:
        return Facts({"consumption": ok(last)}, False, False, None, None, yesterday_missing=missing)

    # Two half-hours that arrive a day late: not every three hours, but six hours on, then tomorrow morning.
    first = job("2026-11-21T09:00:00Z", late("2026-11-21T06:00:00Z", 2), "consumption")
    assert not first.due
    assert first.next_at == at("2026-11-21T12:00:00Z")
    assert "late half-hours" in first.why
    second = job("2026-11-21T12:30:00Z", late("2026-11-21T12:00:00Z", 2), "consumption")
    assert second.next_at == at("2026-11-22T06:00:00Z")  # twelve hours on is past the evening
    # A day not yet published (most half-hours missing): every three hours, as before.
    assert job("2026-11-21T09:00:00Z", late("2026-11-21T06:00:00Z", 40), "consumption").due


def test_when_yesterday_is_complete_then_nothing_until_tomorrow_morning() -> None:
    f = facts(last={"consumption": ok("2026-11-21T06:00:00Z")}, complete=True)
    d = job("2026-11-21T09:00:00Z", f, "consumption")
    assert not d.due
    assert d.next_at == at("2026-11-22T06:00:00Z")


def test_when_a_sync_failed_then_it_is_tried_again_after_half_an_hour_only() -> None:
    f = facts(last={"consumption": failed("2026-11-21T07:00:00Z")})
    assert not job("2026-11-21T07:29:00Z", f, "consumption").due
    assert job("2026-11-21T07:30:00Z", f, "consumption").due


def test_on_the_spring_clock_change_the_morning_is_0600_bst() -> None:
    f = facts(last={"consumption": ok("2026-03-28T21:00:00Z")})
    before = job("2026-03-29T04:59:00Z", f, "consumption")  # 05:59 BST
    assert not before.due
    assert before.next_at == at("2026-03-29T05:00:00Z")  # 06:00 BST
    assert job("2026-03-29T05:00:00Z", f, "consumption").due


def test_on_the_autumn_clock_change_the_morning_is_0600_gmt() -> None:
    f = facts(last={"consumption": ok("2026-10-24T20:00:00Z")})
    before = job("2026-10-25T05:30:00Z", f, "consumption")  # 05:30 GMT (06:30 BST the day before's clock)
    assert not before.due
    assert before.next_at == at("2026-10-25T06:00:00Z")
    assert job("2026-10-25T06:00:00Z", f, "consumption").due


# --- Agile prices -------------------------------------------------------------------------------------------


def test_without_a_day_ahead_tariff_prices_never_run() -> None:
    d = job("2026-11-21T17:00:00Z", facts(agile=False), "prices")
    assert not d.due
    assert d.next_at is None


def test_before_1600_with_today_stored_prices_wait_for_1600() -> None:
    f = facts(agile=True, prices_until="2026-11-21T23:00:00Z", last={"prices": ok("2026-11-20T16:30:00Z")})
    d = job("2026-11-21T12:00:00Z", f, "prices")
    assert not d.due
    assert d.next_at == at("2026-11-21T16:00:00Z")


def test_from_1600_until_tomorrows_prices_are_stored_every_half_hour() -> None:
    f = facts(agile=True, prices_until="2026-11-21T23:00:00Z")
    assert job("2026-11-21T16:00:00Z", f, "prices").due
    tried = facts(agile=True, prices_until="2026-11-21T23:00:00Z", last={"prices": ok("2026-11-21T16:00:00Z")})
    d = job("2026-11-21T16:10:00Z", tried, "prices")
    assert not d.due
    assert d.next_at == at("2026-11-21T16:30:00Z")
    published = facts(agile=True, prices_until="2026-11-22T23:00:00Z", last={"prices": ok("2026-11-21T16:30:00Z")})
    d = job("2026-11-21T16:35:00Z", published, "prices")
    assert not d.due
    assert d.next_at == at("2026-11-22T16:00:00Z")


def test_the_next_morning_without_todays_prices_they_are_due() -> None:
    f = facts(agile=True, prices_until="2026-11-21T23:00:00Z", last={"prices": ok("2026-11-21T23:30:00Z")})
    assert job("2026-11-22T00:05:00Z", f, "prices").due


@pytest.mark.parametrize(
    ("now", "stored_to", "due"),
    [
        # 2026-03-29: 16:00 BST is 15:00 UTC; the Agile day to come ends at 23:00 BST on 03-30, 22:00 UTC.
        ("2026-03-29T14:59:00Z", "2026-03-29T22:00:00Z", False),
        ("2026-03-29T15:00:00Z", "2026-03-29T22:00:00Z", True),
        ("2026-03-29T15:00:00Z", "2026-03-30T21:30:00Z", True),
        ("2026-03-29T15:00:00Z", "2026-03-30T22:00:00Z", False),
        # 2026-10-25: 16:00 GMT is 16:00 UTC (it was 15:00 UTC the day before); 23:00 GMT on 10-26 is 23:00 UTC.
        ("2026-10-24T15:00:00Z", "2026-10-24T22:00:00Z", True),
        ("2026-10-25T15:30:00Z", "2026-10-25T23:00:00Z", False),
        ("2026-10-25T16:00:00Z", "2026-10-25T23:00:00Z", True),
        ("2026-10-25T16:00:00Z", "2026-10-26T22:00:00Z", True),  # to 23:00 BST would be an hour short
        ("2026-10-25T16:00:00Z", "2026-10-26T23:00:00Z", False),
    ],
)
def test_agile_hours_on_clock_change_days(now: str, stored_to: str, due: bool) -> None:
    assert job(now, facts(agile=True, prices_until=stored_to), "prices").due is due


# --- account and dispatches -------------------------------------------------------------------------------


def test_the_account_is_read_daily() -> None:
    assert job("2026-11-21T09:00:00Z", facts(), "account").due
    f = facts(last={"account": ok("2026-11-21T09:00:00Z")})
    d = job("2026-11-21T20:00:00Z", f, "account")
    assert not d.due
    assert d.next_at == at("2026-11-22T09:00:00Z")


def test_dispatches_follow_their_own_pace_and_back_off_after_a_failure() -> None:
    assert job("2026-11-21T09:00:00Z", facts(), "dispatches").next_at is None
    assert job("2026-11-21T09:00:00Z", facts(dispatches_at="2026-11-21T09:00:00Z"), "dispatches").due
    later = job("2026-11-21T09:00:00Z", facts(dispatches_at="2026-11-21T09:03:00Z"), "dispatches")
    assert not later.due
    assert later.next_at == at("2026-11-21T09:03:00Z")
    f = facts(dispatches_at="2026-11-21T09:00:00Z", last={"dispatches": failed("2026-11-21T08:58:00Z")})
    assert not job("2026-11-21T09:00:00Z", f, "dispatches").due


# --- statements ---------------------------------------------------------------------------------------------


def statement(ident: str, first: str, last: str, status: str) -> Statement:
    return Statement(ident, "MONTHLY", date.fromisoformat(first), date.fromisoformat(last), None, status, 0, 0, ())


def test_statements_wait_for_the_account_then_are_read_at_once() -> None:
    d = job("2026-11-21T09:00:00Z", facts(), "bills")
    assert (d.due, d.next_at, d.why) == (False, None, "no account stored yet")
    assert next_fetch([]) is None  # nothing kept: the scheduler asks now
    assert job("2026-11-21T09:00:00Z", facts(statements_at="2026-11-21T09:00:00Z"), "bills").due


def test_the_open_statement_is_read_again_a_day_after_and_closed_ones_never_count() -> None:
    kept = [
        (statement("s1", "2026-09-01", "2026-09-30", "CLOSED"), at("2026-10-02T07:00:00Z")),
        (statement("s2", "2026-10-01", "2026-10-31", "CLOSED"), at("2026-11-20T09:00:00Z")),
        (statement("s3", "2026-11-01", "2026-11-30", "OPEN"), at("2026-11-21T09:00:00Z")),
    ]
    due = next_fetch(kept)
    assert due == at("2026-11-22T09:00:00Z")
    f = facts(statements_at="2026-11-22T09:00:00Z", last={"bills": ok("2026-11-21T09:00:00Z")})
    before = job("2026-11-22T08:59:00Z", f, "bills")
    assert not before.due
    assert before.next_at == at("2026-11-22T09:00:00Z")
    assert job("2026-11-22T09:00:00Z", f, "bills").due
    only_closed = [(st, read) for st, read in kept if st.closed]
    assert next_fetch(only_closed) == at("2026-11-21T09:00:00Z")  # a day after the last read: has one begun?


def test_statements_are_asked_at_most_once_a_day_even_when_none_are_kept() -> None:
    # An account without statements keeps nothing, so sync.bills would ask every time: the last run holds it.
    f = facts(statements_at="2026-11-21T12:00:00Z", last={"bills": ok("2026-11-21T09:00:00Z")})
    d = job("2026-11-21T12:00:00Z", f, "bills")
    assert not d.due
    assert d.next_at == at("2026-11-22T09:00:00Z")
    assert d.why == "at most once a day"
    assert job("2026-11-22T09:00:00Z", facts(statements_at="2026-11-22T09:00:00Z", last=f.last), "bills").due


def test_after_a_failure_statements_are_tried_again_after_three_hours() -> None:
    f = facts(statements_at="2026-11-21T09:00:00Z", last={"bills": failed("2026-11-21T09:00:00Z")})
    assert not job("2026-11-21T11:59:00Z", f, "bills").due
    assert job("2026-11-21T12:00:00Z", f, "bills").due


@pytest.mark.parametrize(
    ("read", "not_yet", "due"),
    [
        # 2026-10-25 has 25 hours: read at 09:00 BST the day before, again 24 hours on, at 08:00 GMT.
        ("2026-10-24T08:00:00Z", "2026-10-25T07:59:00Z", "2026-10-25T08:00:00Z"),
        # 2026-03-29 has 23 hours: read at 09:00 GMT the day before, again at 10:00 BST.
        ("2026-03-28T09:00:00Z", "2026-03-29T08:59:00Z", "2026-03-29T09:00:00Z"),
    ],
)
def test_on_clock_change_days_the_open_statement_waits_24_hours_not_a_wall_clock_day(
    read: str, not_yet: str, due: str
) -> None:
    kept = [(statement("s9", read[:8] + "01", read[:8] + "28", "OPEN"), at(read))]
    statements_at = next_fetch(kept)
    assert statements_at == at(due)
    f = Facts({"bills": ok(read)}, True, False, None, None, statements_at)
    waiting = job(not_yet, f, "bills")
    assert not waiting.due
    assert waiting.next_at == at(due)
    assert job(due, f, "bills").due


# --- yesterday complete, from a real store ----------------------------------------------------------------


def _account() -> Account:
    start = at("2026-01-01T00:00:00Z")
    point = MeterPoint(
        Fuel.ELECTRICITY,
        "1900000000101",
        Direction.IMPORT,
        (Meter("S1"),),
        (Agreement("E-1R-VAR-22-11-01-J", start, None),),
    )
    return Account("A-DE30DE30", (Property("1", start, None, "BN1 1AA", "1 Lane", (point,)),))


@pytest.mark.parametrize(("day", "half_hours"), [("2026-03-29", 46), ("2026-10-25", 50), ("2026-11-20", 48)])
def test_yesterday_is_complete_with_every_half_hour_of_a_46_48_or_50_half_hour_day(
    tmp_path: Path, day: str, half_hours: int
) -> None:
    account = _account()
    series = account.properties[0].meter_points[0].series
    local_day = date.fromisoformat(day)
    start = local_midnight(local_day)
    next_morning = local_midnight(local_day + timedelta(days=1)) + timedelta(hours=9)
    with Store.open(tmp_path / "db.sqlite") as store:
        store.save_account(account, [], start)
        readings = [Reading(start + timedelta(minutes=30 * i), 0.2) for i in range(half_hours - 1)]
        store.write_consumption(series, "S1", "kWh", readings)
        assert not yesterday_complete(store, account, next_morning)
        store.write_consumption(series, "S1", "kWh", [Reading(start + timedelta(minutes=30 * (half_hours - 1)), 0.2)])
        assert yesterday_complete(store, account, next_morning)
