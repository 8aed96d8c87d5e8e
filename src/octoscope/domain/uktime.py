"""UK time at the edges: local days of 46, 48 or 50 half-hours, user dates, API timestamps.

Inside the program every instant is an aware UTC ``datetime``; Europe/London is used only to turn local
dates into instants and back. Nothing here reads the clock: callers pass ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from octoscope.errors import InputError

UK = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)
DAY_WORDS = ("yesterday", "today", "tomorrow")
# The days a user may name: smart meters, tariffs and this program all live well inside them, and every
# date sum the program does (a day plus a few years, a local midnight in UTC) stays a date. Year 9999 or
# year 1 would overflow those sums: they are refused where they are read, in one line.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


class BadDate(InputError):
    """A date or instant that cannot be used; the message says what to write instead."""


def utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive value is refused rather than guessed."""
    if value.tzinfo is None:
        raise BadDate(f"{value.isoformat()} has no UTC offset")
    return value.astimezone(UTC)


def local_date(instant: datetime) -> date:
    return instant.astimezone(UK).date()


def local_midnight(day: date) -> datetime:
    """The UTC instant at which the UK local ``day`` begins (midnight exists on every UK day)."""
    return datetime(day.year, day.month, day.day, tzinfo=UK).astimezone(UTC)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a UK local day in UTC: 23, 24 or 25 hours."""
    return local_midnight(day), local_midnight(day + timedelta(days=1))


def half_hours_in(day: date) -> int:
    start, end = local_day_bounds(day)
    return int((end - start) / HALF_HOUR)


def parse_date(text: str, what: str = "date") -> date:
    """A calendar date written YYYY-MM-DD; anything else, including 2026-02-30, is one clear error."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadDate(f"{what} {text!r} is not a date that exists; write it as YYYY-MM-DD") from None
    return in_range(day, what)


def in_range(day: date, what: str = "date") -> date:
    """``day`` if it lies between :data:`FIRST_DAY` and :data:`LAST_DAY`, else one clear error."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadDate(f"{what} {day.isoformat()} is out of range: give a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def day_word(text: str, now: datetime) -> date | None:
    """``yesterday``/``today``/``tomorrow`` as a UK local date, or None for any other text."""
    word = text.strip().lower()
    if word not in DAY_WORDS:
        return None
    return local_date(now) + timedelta(days=DAY_WORDS.index(word) - 1)


def parse_api_instant(text: str) -> datetime:
    """An API timestamp (``Z``, ``+01:00`` or the old ``+0100``) as an aware UTC datetime."""
    value = datetime.fromisoformat(text)  # Python 3.11 reads Z, +01:00 and +0100
    if value.tzinfo is UTC:
        return value  # "...Z": already UTC (the hot path: every rate, winter consumption)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UK)  # the API's rule: no offset means Europe/London
    return value.astimezone(UTC)


def epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso_z(instant: datetime) -> str:
    """An instant as the API likes it in a query string: UTC with ``Z`` (a raw ``+`` reads as a space)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
