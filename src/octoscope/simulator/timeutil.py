"""UK time for the simulator.

The simulator keeps its own small time helpers rather than importing ``octoscope.domain``: it is the other
side of the API, and a mistake in our client's time handling must not be mirrored here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
UTC_ZONE = ZoneInfo("UTC")
SLOT = 1800  # seconds in a half-hour


class BadDateTime(ValueError):
    """A datetime string that the API would answer with 'Enter a valid date/time.'"""


def slot_of(ts: float) -> int:
    return int(ts // SLOT)


def local_midnight(day: date) -> datetime:
    """The UTC instant of local midnight starting ``day``."""
    return datetime.combine(day, time(0), UK).astimezone(UTC)


def day_slots(day: date) -> range:
    """Half-hour slot numbers of one UK local day: 46, 48 or 50 of them."""
    start = int(local_midnight(day).timestamp()) // SLOT
    end = int(local_midnight(day + timedelta(days=1)).timestamp()) // SLOT
    return range(start, end)


def local_date_of(ts: float) -> date:
    return datetime.fromtimestamp(ts, UK).date()


def local_hour(ts: float) -> float:
    """Hours since local midnight (wall clock), e.g. 17.5 for 17:30 local."""
    d = datetime.fromtimestamp(ts, UK)
    return d.hour + d.minute / 60 + d.second / 3600


def iso_local(ts: float) -> str:
    """Consumption style: UK local time, ``Z`` in GMT and ``+01:00`` in BST."""
    d = datetime.fromtimestamp(ts, UK)
    if d.utcoffset() == timedelta(0):
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")
    return d.isoformat()


def iso_z(ts: float) -> str:
    """Rates style: always UTC with ``Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc_offset(ts: float) -> str:
    """GraphQL DateTime style: ``2025-01-13T17:00:00+00:00``."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


_API_DATETIME_RE = re.compile(
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<m>\d{1,2})(?::(?P<s>\d{1,2})(?:[.,](?P<us>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def parse_api_datetime(value: str, default_tz: ZoneInfo = UK) -> datetime:
    """Parse a query-string datetime the way the API's Django stack does.

    ISO 8601 with ``T`` or a space, optional fraction (digits past microseconds ignored), optional offset;
    no offset means ``default_tz``; a bare date means local midnight. Raises BadDateTime for anything else,
    including a ``+`` offset turned into a space by an unencoded query string, and local times that do not
    exist (the spring-forward hour).
    """
    m = _API_DATETIME_RE.match(value or "")
    if not m:
        raise BadDateTime(value)
    try:
        y, mo, d = (int(p) for p in m.group("date").split("-"))
        us = (m.group("us") or "0").ljust(6, "0")
        fields = (y, mo, d, int(m.group("h") or 0), int(m.group("m") or 0), int(m.group("s") or 0), int(us))
        naive = datetime(*fields)  # noqa: DTZ001 (the zone is applied below: given offset or UK)
    except ValueError as err:
        raise BadDateTime(value) from err
    tz = m.group("tz")
    if tz is None:
        local = naive.replace(tzinfo=default_tz)
        # A wall time that does not exist locally does not survive a round trip through UTC.
        if local.astimezone(UTC).astimezone(default_tz).replace(tzinfo=None) != naive:
            raise BadDateTime(value)
        return local.astimezone(UTC)
    if tz == "Z":
        return naive.replace(tzinfo=UTC)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return (naive - sign * timedelta(minutes=minutes)).replace(tzinfo=UTC)


def parse_scenario_instant(value: str | date | datetime, anchor: datetime) -> datetime:
    """A scenario date: ISO date or datetime, or relative to the anchor day like ``-730d`` / ``+1d``.

    Dates and relative days mean local midnight.
    """
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UK)).astimezone(UTC)
    if isinstance(value, date):
        return local_midnight(value)
    m = re.fullmatch(r"([+-]\d+)d", value.strip())
    if m:
        return local_midnight(anchor.astimezone(UK).date() + timedelta(days=int(m.group(1))))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return local_midnight(date.fromisoformat(value.strip()))
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UK)).astimezone(UTC)


def parse_local_hhmm(value: str) -> float:
    """'23:30' -> 23.5."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return int(m.group(1)) + int(m.group(2)) / 60
