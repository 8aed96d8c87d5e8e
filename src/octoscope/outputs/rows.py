"""Half-hourly rows, each with its rates and costs as the cost engine worked them out (never recomputed
here): what the CSV and Parquet exports write; the InfluxDB export takes its lines from ``point_days``.

A local day's standing charge is spread evenly over the half-hours stored that day, so that a day's rows add
up to what ``octoscope costs`` says for it (a day of 46, 48 or 50 half-hours, or one still arriving). A day
with no half-hour stored has no row, so its standing charge shows once its first half-hour does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple

from octoscope.config import Settings
from octoscope.domain.costs import HalfHourColumns, midnights
from octoscope.domain.models import Account, MeterPoint
from octoscope.services.costing import FuelName, M3ByHalfHour, PointPasses, fuel_of
from octoscope.store.ports import StoreProtocol


class CostedDay(NamedTuple):
    day: date  # UK local
    begin: int  # its first half-hour's index in the point's costed half-hours (the columns)
    end: int  # one past its last
    standing_exc_vat: float  # pence: the day's standing charge shared by each of its half-hours stored
    standing_inc_vat: float


class HalfHourRow(NamedTuple):
    start: datetime  # UTC
    local_day: date  # the UK local day it belongs to
    fuel: FuelName
    point: str  # MPAN or MPRN
    tariff_code: str | None
    band: str | None
    kwh: float
    m3: float | None  # as read, on a meter that reads m³
    rate_exc_vat: float | None  # p/kWh applied; None where no price is stored
    rate_inc_vat: float | None
    cost_exc_vat: float | None  # pence: energy cost, or what an export earned
    cost_inc_vat: float | None
    standing_exc_vat: float  # pence: this half-hour's share of the day's standing charge (none on export)
    standing_inc_vat: float


def point_days(
    passes: PointPasses, point: MeterPoint, first: date, end: date
) -> tuple[HalfHourColumns, HalfHourColumns, M3ByHalfHour, list[CostedDay]]:
    """The point's half-hours as costed exc and inc VAT (one pass of the engine, as columns), its m³ per
    half-hour, and its local days in [first, end) that hold a half-hour: where each starts and ends in those
    columns, and the day's standing charge spread over them. Rows are made from this, the InfluxDB lines
    straight from it."""
    exc, inc = passes.get(point, first, end)
    exc_days, inc_days = exc.report.days, inc.report.days
    starts = inc.priced.starts  # epoch seconds: a day's bounds found by comparing numbers, not instants
    bounds = [m.timestamp() for m in midnights(first, end)]  # the local midnights, as the pass worked them out
    days: list[CostedDay] = []
    n = bisect_left(starts, bounds[0]) if bounds else 0  # the pass may have been made over more days than asked
    for i, next_midnight in enumerate(bounds[1:]):
        after = bisect_left(starts, next_midnight, n)
        if after > n:
            day, count = first + timedelta(days=i), after - n
            days.append(
                CostedDay(day, n, after, exc_days[day].standing_charge / count, inc_days[day].standing_charge / count)
            )
            n = after
    return exc.priced, inc.priced, inc.m3, days


def point_rows(
    settings: Settings,
    store: StoreProtocol,
    point: MeterPoint,
    first: date,
    end: date,
    passes: PointPasses | None = None,
) -> list[HalfHourRow]:
    """The half-hours of one meter point stored in local days [first, end) that its agreements cover.
    ``passes``: points already costed (an export's), to take the half-hours from."""
    passes = passes or PointPasses(store, settings.payment_method, settings.costs)
    exc_columns, inc_columns, m3, days = point_days(passes, point, first, end)
    exc_halves, inc_halves = exc_columns.rows(), inc_columns.rows()
    fuel = fuel_of(point)
    identifier = point.identifier
    rows = []
    for day, begin, after, share_exc, share_inc in days:
        for e, i in zip(exc_halves[begin:after], inc_halves[begin:after], strict=True):
            start = i.start
            rows.append(
                HalfHourRow(
                    start,
                    day,
                    fuel,
                    identifier,
                    i.tariff_code,
                    i.band,
                    i.kwh,
                    m3.get(start),
                    e.rate,
                    i.rate,
                    e.pence,
                    i.pence,
                    share_exc,
                    share_inc,
                )
            )
    return rows


def account_rows(
    settings: Settings, store: StoreProtocol, account: Account, first: date, end: date, fuels: tuple[FuelName, ...]
) -> Iterator[HalfHourRow]:
    """Every meter point's rows of the chosen fuels, point by point, each in time order."""
    for prop in account.properties:
        for point in prop.meter_points:
            if fuel_of(point) in fuels:
                yield from point_rows(settings, store, point, first, end)
