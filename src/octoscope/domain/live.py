"""Live demand from a Home Mini, as pure functions: levels, groups, summaries and what it costs at this pace.

No I/O and no clock: callers pass ``now``. Instants are aware UTC datetimes; a reading's ``at`` is the start
of its 10 seconds. Europe/London appears only where a local day or month is meant (a projection for today
covers 23, 24 or 25 hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NamedTuple

from octoscope.domain.costs import next_month
from octoscope.domain.models import TelemetryReading
from octoscope.domain.uktime import HALF_HOUR, local_date, local_day_bounds, local_midnight

STEP = 10  # seconds between Home Mini readings
Level = Literal["green", "blue", "yellow", "orange", "red"]
Grouping = Literal["TEN_SECONDS", "ONE_MINUTE", "FIVE_MINUTES"]
GROUP_SECONDS: dict[str, int] = {"TEN_SECONDS": 10, "ONE_MINUTE": 60, "FIVE_MINUTES": 300}
HOUR = timedelta(hours=1)


def level(demand_w: float) -> Level:
    """The demand's colour: under 500 W green, 500 to under 1000 blue, 1000 to under 2000 yellow, 2000 to
    3000 orange, over 3000 red (exporting, a negative demand, is green)."""
    if demand_w < 500:
        return "green"
    if demand_w < 1000:
        return "blue"
    if demand_w < 2000:
        return "yellow"
    if demand_w <= 3000:
        return "orange"
    return "red"


class LiveReading(NamedTuple):
    """One reading as the live view shows it: demand in W, energy in kWh, its cost in pence where the unit
    rate is known, and whether it reached us later than the polling explains."""

    at: datetime
    demand_w: float
    kwh: float
    stale: bool = False
    pence: float | None = None

    @property
    def id(self) -> int:
        """The reading's event id: its start in epoch seconds."""
        return int(self.at.timestamp())


def from_telemetry(reading: TelemetryReading) -> LiveReading:
    """A Home Mini reading for the live view. A missing demand is worked out from the energy (the mean power
    over the 10 seconds); missing energy counts as none."""
    kwh = (reading.delta_wh or 0.0) / 1000
    demand = reading.demand_w if reading.demand_w is not None else kwh * 3_600_000 / STEP
    return LiveReading(reading.read_at, demand, kwh)


def group(readings: Iterable[LiveReading], seconds: int) -> list[LiveReading]:
    """Readings in groups of ``seconds`` (aligned to the clock: whole minutes, five minutes): the mean demand,
    the energy and cost summed (the cost unknown if any part's is), stale if any part was."""
    if seconds <= STEP:
        return list(readings)
    out: list[LiveReading] = []
    bucket: list[LiveReading] = []

    def flush() -> None:
        if not bucket:
            return
        start = bucket[0].id - bucket[0].id % seconds
        costs = [r.pence for r in bucket]
        out.append(
            LiveReading(
                datetime.fromtimestamp(start, UTC),
                sum(r.demand_w for r in bucket) / len(bucket),
                sum(r.kwh for r in bucket),
                any(r.stale for r in bucket),
                None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
            )
        )

    for reading in readings:
        if bucket and reading.id // seconds != bucket[0].id // seconds:
            flush()
            bucket = []
        bucket.append(reading)
    flush()
    return out


@dataclass(frozen=True)
class Summary:
    """Demand and energy over a stretch of readings."""

    current_w: float
    average_kw: float
    peak_kw: float
    min_kw: float
    kwh: float
    pence: float  # of the readings whose rate is known
    priced: bool  # every reading's rate was known


def summarise(readings: Sequence[LiveReading]) -> Summary | None:
    if not readings:
        return None
    demands = [r.demand_w for r in readings]
    return Summary(
        demands[-1],
        sum(demands) / len(demands) / 1000,
        max(demands) / 1000,
        min(demands) / 1000,
        sum(r.kwh for r in readings),
        sum(r.pence or 0.0 for r in readings),
        all(r.pence is not None for r in readings),
    )


@dataclass(frozen=True)
class DayRates:
    """The unit rate (p/kWh, VAT included) of each half-hour of one UK local day, keyed by the half-hour's
    start in UTC, as billed (dispatch-adjusted on Intelligent tariffs); half-hours without a known price are
    absent. ``standing_pence``: the day's standing charge, if known."""

    day: date
    rates: dict[datetime, float]
    standing_pence: float | None = None

    def rate_at(self, instant: datetime) -> float | None:
        seconds = int(instant.timestamp())
        return self.rates.get(datetime.fromtimestamp(seconds - seconds % 1800, UTC))


def half_hours(day: date) -> list[datetime]:
    """The starts of a UK local day's half-hours in UTC: 46, 48 or 50 of them."""
    start, end = local_day_bounds(day)
    out = []
    while start < end:
        out.append(start)
        start += HALF_HOUR
    return out


@dataclass(frozen=True)
class Projection:
    """What energy costs at this pace, in pence, VAT included; standing charges are not in it."""

    rate: float | None  # the unit rate in force now
    per_hour: float | None  # at the current demand and that rate
    day: float | None  # at the average demand, over today's half-hours at each one's rate
    month: float | None  # at the average demand, over this month's hours at today's mean rate


def project(current_w: float, average_w: float, rates: DayRates | None, now: datetime) -> Projection:
    """Cost per hour at the current demand; today and this month at the average demand.

    Today is the UK local day of ``now`` (23, 24 or 25 hours), each half-hour at its own rate (Agile, Go's
    off-peak, a dispatch), a half-hour with no known rate at the mean of those known. The month is its UK
    hours (743 in a March with the clock going forward, 745 in an October going back) at today's
    time-weighted mean rate.
    """
    if rates is None or not rates.rates or rates.day != local_date(now):
        return Projection(None, None, None, None)
    rate = rates.rate_at(now)
    per_hour = None if rate is None else current_w / 1000 * rate
    slots = half_hours(rates.day)
    known = [rates.rates[t] for t in slots if t in rates.rates]
    if not known:
        return Projection(rate, per_hour, None, None)
    mean = sum(known) / len(known)
    slot_hours = HALF_HOUR / HOUR
    day_rate_hours = sum(rates.rates.get(t, mean) * slot_hours for t in slots)  # p/kWh x h = p per kW
    day_hours = len(slots) * slot_hours
    first = rates.day.replace(day=1)
    month_hours = (local_midnight(next_month(first)) - local_midnight(first)) / HOUR
    average_kw = average_w / 1000
    return Projection(
        rate, per_hour, average_kw * day_rate_hours, average_kw * month_hours * day_rate_hours / day_hours
    )
