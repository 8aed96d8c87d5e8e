"""What to fetch: the fewest requests that bring the store up to date for the window asked.

Pure: it reads nothing but its arguments. Consumption per meter serial over the part of the window the
meter was live, from the last stored half-hour less the re-read days; charges per tariff (not per meter),
only over stretches not already stored, once for every meter on that tariff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from octoscope.domain.models import Account, Charge, Fuel, Meter, MeterPoint, Property, TariffCode
from octoscope.domain.uktime import BadDate, day_word, iso_z, local_date, local_midnight, parse_date
from octoscope.octopus.rest import CONSUMPTION_PAGE, RATES_PAGE


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ConsumptionTask:
    series: str
    fuel: Fuel
    point: str
    serial: str
    unit: str | None
    start: datetime
    end: datetime

    @property
    def pages(self) -> int:
        half_hours = (self.end - self.start) / timedelta(minutes=30)
        return max(1, math.ceil(half_hours / CONSUMPTION_PAGE))


@dataclass(frozen=True)
class ChargeTask:
    tariff: TariffCode
    charge: Charge
    start: datetime
    end: datetime
    half_hourly: bool  # Agile-like: one record per half-hour, so many pages

    @property
    def pages(self) -> int:
        if not self.half_hourly or self.charge is Charge.STANDING:
            return 1
        return max(1, math.ceil((self.end - self.start) / timedelta(minutes=30) / RATES_PAGE))


@dataclass(frozen=True)
class Plan:
    window: Window
    consumption: tuple[ConsumptionTask, ...]
    charges: tuple[ChargeTask, ...]
    discovery: dict[str, int] = field(default_factory=dict)  # requests spent or due on finding the account

    def describe(self) -> dict[str, object]:
        """The plan as plain data, for ``--dry-run``."""
        return {
            "window": [iso_z(self.window.start), iso_z(self.window.end)],
            "planned_requests": self.requests,
            "consumption": [
                {
                    "series": t.series,
                    "serial": t.serial,
                    "from": iso_z(t.start),
                    "to": iso_z(t.end),
                    "requests": t.pages,
                }
                for t in self.consumption
            ],
            "charges": [
                {
                    "tariff": t.tariff.code,
                    "charge": t.charge.value,
                    "from": iso_z(t.start),
                    "to": iso_z(t.end),
                    "requests": t.pages,
                }
                for t in self.charges
            ],
        }

    @property
    def requests(self) -> int:
        """The least number of requests the plan needs (more only if pages are fuller than estimated)."""
        return (
            sum(t.pages for t in self.consumption) + sum(t.pages for t in self.charges) + sum(self.discovery.values())
        )


def resolve_window(from_text: str, to_text: str, now: datetime) -> tuple[datetime | None, datetime]:
    """``--from DATE|latest`` and ``--to DATE|yesterday|today|tomorrow`` as instants; None means latest.

    A date for ``--to`` is exclusive (sync up to its start); the words mean through the end of that day.
    """
    start: datetime | None = None
    if from_text.strip().lower() != "latest":
        start = local_midnight(day_word(from_text, now) or parse_date(from_text, "--from"))
    word = day_word(to_text, now)
    end = local_midnight(word + timedelta(days=1)) if word else local_midnight(parse_date(to_text, "--to"))
    if start is not None and start >= end:
        raise BadDate(f"--from {from_text} is not before --to {to_text}; the window would be empty")
    return start, end


def _clip(start: datetime, end: datetime, lo: datetime | None, hi: datetime | None) -> Window | None:
    start = max(start, lo) if lo else start
    end = min(end, hi) if hi else end
    return Window(start, end) if start < end else None


def _merge(windows: list[Window]) -> list[Window]:
    merged: list[Window] = []
    for w in sorted(windows, key=lambda w: w.start):
        if merged and w.start <= merged[-1].end:
            merged[-1] = Window(merged[-1].start, max(merged[-1].end, w.end))
        else:
            merged.append(w)
    return merged


def _subtract(window: Window, covered: list[Window]) -> list[Window]:
    gaps = [window]
    for c in covered:
        next_gaps = []
        for g in gaps:
            if c.end <= g.start or c.start >= g.end:
                next_gaps.append(g)
                continue
            if g.start < c.start:
                next_gaps.append(Window(g.start, c.start))
            if c.end < g.end:
                next_gaps.append(Window(c.end, g.end))
        gaps = next_gaps
    return gaps


@dataclass(frozen=True)
class StoredState:
    """What the store already holds, as the planner needs it."""

    meter_last: dict[tuple[str, str], datetime]  # (series, serial) -> start of its newest stored half-hour
    meter_synced_to: dict[tuple[str, str], datetime]  # (series, serial) -> end of its last window read whole
    first_interval: dict[str, datetime]  # series -> start of its oldest stored half-hour
    covered: dict[tuple[str, Charge], list[Window]]  # (tariff, charge) -> stretches that need no fetch
    half_hourly_tariffs: frozenset[str]


def points_in_scope(account: Account, past_properties: bool, now: datetime) -> list[tuple[Property, MeterPoint]]:
    chosen = [p for p in account.properties if past_properties or p.lived_in_at(now)]
    return [(prop, point) for prop in chosen for point in prop.meter_points]


def _meter_span(meter: Meter, home: Window, until: datetime) -> Window | None:
    """Where a meter can have data: its live days (GraphQL gives local dates, live through both end days)
    inside the home's occupancy, up to ``until``."""
    live_from = local_midnight(meter.active_from) if meter.active_from else home.start
    live_to = local_midnight(meter.active_to + timedelta(days=1)) if meter.active_to else None
    return _clip(max(live_from, home.start), min(until, home.end), None, live_to)


def make_plan(
    account: Account,
    stored: StoredState,
    start: datetime | None,
    end: datetime,
    now: datetime,
    reread_days: int,
    past_properties: bool = False,
) -> Plan:
    """The requests for [start, end), or, with ``start`` None, for what each meter lacks (``latest``)."""
    consumption_end = min(end, now)
    reread = timedelta(days=reread_days)
    tasks: list[ConsumptionTask] = []
    rate_needs: dict[tuple[str, Charge], list[Window]] = {}
    earliest: list[datetime] = []
    for prop, point in points_in_scope(account, past_properties, now):
        home = _clip(prop.moved_in_at or point_start(point, end), end, None, prop.moved_out_at)
        if home is None:
            continue
        begins: list[datetime] = []
        for meter in point.meters:
            span = _meter_span(meter, home, consumption_end)
            if span is None:
                continue
            key = (point.series, meter.serial)
            begin = start or span.start
            if start is None and key in stored.meter_last:
                done_to = stored.meter_synced_to.get(key)
                if done_to is not None and done_to >= span.end and span.end + reread <= now:
                    continue  # read whole, and settled: a replaced meter, a home moved out of
                last = stored.meter_last[key]
                begin = local_midnight(local_date(last + timedelta(minutes=30)) - reread)
            begins.append(begin)
            window = _clip(begin, span.end, span.start, None)
            if window is not None:
                # Each meter in its own unit: an old SMETS1 gas meter read kWh where its SMETS2 successor reads m³.
                unit = "kWh" if point.fuel is Fuel.ELECTRICITY else meter.unit
                tasks.append(
                    ConsumptionTask(point.series, point.fuel, point.identifier, meter.serial, unit, *_pair(window))
                )
        earliest.extend(begins)
        # Prices are wanted wherever consumption is stored or coming, not only over the re-read days: an
        # earlier run may have stored the consumption and stopped before its prices.
        firsts = [*begins, *([stored.first_interval[point.series]] if point.series in stored.first_interval else [])]
        if not firsts:
            continue
        for agreement in point.agreements:
            span = _clip(min(firsts), min(end, home.end), agreement.valid_from, agreement.valid_to)
            if span is None:
                continue
            for charge in agreement.tariff.charges:
                rate_needs.setdefault((agreement.tariff_code, charge), []).append(span)
    charges = charge_tasks(rate_needs, stored.covered, stored.half_hourly_tariffs)
    window = Window(min(earliest, default=start or end), end)
    return Plan(window, tuple(tasks), tuple(charges))


def charge_tasks(
    needs: dict[tuple[str, Charge], list[Window]],
    covered: dict[tuple[str, Charge], list[Window]],
    half_hourly: frozenset[str],
) -> list[ChargeTask]:
    """One task per stretch of a price list that is needed and not held: per tariff, not per meter."""
    charges = []
    for (code, charge), windows in sorted(needs.items()):
        held = _merge(covered.get((code, charge), []))
        for need in _merge(windows):
            for gap in _subtract(need, held):
                charges.append(ChargeTask(TariffCode.parse(code), charge, gap.start, gap.end, code in half_hourly))
    return charges


def _pair(window: Window) -> tuple[datetime, datetime]:
    return window.start, window.end


def point_start(point: MeterPoint, otherwise: datetime) -> datetime:
    """The first agreement's start: where history begins when the move-in date is unknown."""
    return min((a.valid_from for a in point.agreements), default=otherwise)
