"""The named periods (today, this week, last month, ...) as half-open ranges of whole UK local days, the one
rule for where a period still running ends, and the label every figure over a period carries.

The rule, used by the Overview, Costs, Usage, the CLI, the API and the exports alike:

    A period runs over whole UK local days, and a period still running ends with today: its first day to
    today inclusive. Every one of those days pays its standing charge (Octopus bills a day's standing
    charge from the day's first moment, so "this month so far" is what a bill for those days would say),
    and its energy is every half-hour stored for them, which is up to the last complete half-hour Octopus
    has published (usually the end of yesterday). Days after today are never counted: a day that has not
    begun owes nothing.

So "this month" on the 5th is the 1st to the 5th, five standing charges, energy as far as the data goes;
on the 1st just after midnight it is the 1st alone: one standing charge, no energy yet. A day is 46, 48 or
50 half-hours: nothing here counts hours, only dates, and instants come from :func:`local_midnight`.

Pure: nothing here reads the clock; callers pass ``today`` (the UK local date now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from octoscope.domain.costs import next_month
from octoscope.domain.uktime import UK, BadDate, local_midnight

DAY = timedelta(days=1)

# name -> title; the order is the order they are offered in.
NAMED = {
    "today": "Today",
    "yesterday": "Yesterday",
    "this-week": "This week",
    "last-week": "Last week",
    "this-month": "This month",
    "last-month": "Last month",
    "this-year": "This year",
    "last-year": "Last year",
    "last-7-days": "Last 7 days",
    "last-30-days": "Last 30 days",
}
STANDING_INCLUDED = "standing charge included"
ENERGY_ONLY = "energy only"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month_before(first: date) -> date:
    return (first - DAY).replace(day=1)


def clip(first: date, end: date, today: date) -> date:
    """The end of [first, end) under the rule: at most the day after today, never before ``first``."""
    return max(first, min(end, today + DAY))


@dataclass(frozen=True)
class Period:
    """Whole UK local days [first, end), ``end`` already clipped by the rule; ``whole_end`` is where the
    period ends on the calendar (the same as ``end`` once it is over)."""

    name: str  # one of NAMED, or "custom"
    title: str
    first: date
    end: date
    whole_end: date

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    @property
    def running(self) -> bool:
        """Still going on: today is one of its days and days of it are still to come."""
        return self.end < self.whole_end

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def stop(self) -> datetime:
        return local_midnight(self.end)

    def label(self, standing: bool) -> str:
        return label(self.first, self.end, standing)


def _calendar(name: str, today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    year = date(today.year, 1, 1)
    spans = {
        "today": (today, today + DAY),
        "yesterday": (today - DAY, today),
        "this-week": (monday, monday + 7 * DAY),
        "last-week": (monday - 7 * DAY, monday),
        "this-month": (month, next_month(month)),
        "last-month": (_month_before(month), month),
        "this-year": (year, date(today.year + 1, 1, 1)),
        "last-year": (date(today.year - 1, 1, 1), year),
        # whole days before today, as --days N has always meant
        "last-7-days": (today - 7 * DAY, today),
        "last-30-days": (today - 30 * DAY, today),
    }
    return spans[name]


def named(name: str, today: date) -> Period:
    """The period called ``name`` (see :data:`NAMED`; ``this_month`` and ``This month`` are read too)."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in NAMED:
        raise BadDate(f"{name!r} is not a period; write one of {', '.join(NAMED)}")
    first, whole_end = _calendar(key, today)
    return Period(key, NAMED[key], first, clip(first, whole_end, today), whole_end)


def custom(first: date, end: date, today: date) -> Period:
    """Days [first, end) as asked, clipped by the rule."""
    return Period("custom", "", first, clip(first, end, today), end)


def before(period: Period) -> Period:
    """What ``period`` is compared with: the period of the same kind just before it (the month before, the
    week before, as many days before). A running period is compared with as many days of the one before
    (at most all of it: 31 days of March against February's 28), so that like is compared with like; a
    period that is over, with the whole of the one before (last month's 30 days against October's 31)."""
    first, whole_end = _before_span(period)
    end = min(whole_end, first + period.days * DAY) if period.running else whole_end
    return Period(f"before-{period.name}", "The period before", first, end, whole_end)


def _before_span(period: Period) -> tuple[date, date]:
    name, first = period.name, period.first
    if name in ("this-month", "last-month"):
        return _month_before(first), first
    if name in ("this-year", "last-year"):
        return date(first.year - 1, 1, 1), first
    length = (period.whole_end - first).days
    return first - length * DAY, first


def same_point(instant: datetime, period: Period, earlier: Period) -> datetime:
    """The instant as far into ``earlier`` as ``instant`` is into ``period`` (the same number of local days,
    the same local time of day), at most ``earlier``'s end: where to cut the energy of the period before
    when the current one's data stops mid-way. Local times that a clock change skips are read as UK
    ``zoneinfo`` reads them (the later offset)."""
    local = instant.astimezone(UK)
    day = earlier.first + (local.date() - period.first)
    if day >= earlier.end:
        return earlier.stop
    if day < earlier.first:
        return earlier.start
    return datetime.combine(day, local.time(), tzinfo=UK).astimezone(UTC)


def label(first: date, end: date, standing: bool) -> str:
    """``1-5 Dec 2026, standing charge included``; ``28 Nov - 5 Dec 2026, energy only``; ``28 Dec 2026 -
    3 Jan 2027, ...``: the days [first, end) said as a person says them, and whether standing charges are
    in the figure."""
    return f"{days_text(first, end)}, {STANDING_INCLUDED if standing else ENERGY_ONLY}"


def days_text(first: date, end: date) -> str:
    if end <= first:
        return f"no days yet (from {first.day} {_MONTHS[first.month - 1]} {first.year})"
    last = end - DAY
    tail = f"{last.day} {_MONTHS[last.month - 1]} {last.year}"
    if first == last:
        return tail
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}-{tail}"
    if first.year == last.year:
        return f"{first.day} {_MONTHS[first.month - 1]} - {tail}"
    return f"{first.day} {_MONTHS[first.month - 1]} {first.year} - {tail}"
