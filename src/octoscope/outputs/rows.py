"""Half-hourly rows, each with its rates and costs as the cost engine worked them out (never recomputed
here): what the CSV, Parquet and InfluxDB exports write.

A local day's standing charge is spread evenly over the half-hours stored that day, so that a day's rows add
up to what ``octoscope costs`` says for it (a day of 46, 48 or 50 half-hours, or one still arriving). A day
with no half-hour stored has no row, so its standing charge shows once its first half-hour does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple

from octoscope.config import Settings
from octoscope.domain.models import Account, MeterPoint
from octoscope.domain.uktime import local_date, local_midnight
from octoscope.services.costing import FuelName, PointPasses, fuel_of, price_list
from octoscope.store.ports import StoreProtocol


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
    exc, inc = passes.get(point, first, end)
    lo, hi = local_midnight(first), local_midnight(end)
    fuel = fuel_of(point)
    identifier = point.identifier
    m3 = inc.m3
    exc_days, inc_days = exc.report.days, inc.report.days
    rows = []
    day_end = lo
    day: date = first
    count = 0
    share_exc = share_inc = 0.0
    halves = inc.half_hours
    for n, (e, i) in enumerate(zip(exc.half_hours, halves, strict=True)):
        start = i.start
        if start < lo or start >= hi:
            continue  # the pass was made over more days than asked
        if start >= day_end:
            # a new local day: its standing charge is spread over its half-hours stored
            day = local_date(start)
            day_end = local_midnight(day + timedelta(days=1))
            count = 1
            while n + count < len(halves) and halves[n + count].start < day_end:
                count += 1
            share_exc = exc_days[day].standing_charge / count
            share_inc = inc_days[day].standing_charge / count
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


class PriceRow(NamedTuple):
    start: datetime
    tariff_code: str
    rate_exc_vat: float
    rate_inc_vat: float
    standing_exc_vat: float | None  # p/day, of the local day the half-hour is in
    standing_inc_vat: float | None


def price_rows(settings: Settings, store: StoreProtocol, point: MeterPoint, first: date, end: date) -> list[PriceRow]:
    """The unit rate in force at each half-hour of local days [first, end) (a smart dispatch's off-peak price
    on Intelligent tariffs, as costs bill it) and the day's standing charge. Half-hours without a stored
    price have no row."""
    listed = price_list(store, point, first, end, payment_method=settings.payment_method, settings=settings.costs)
    return [
        PriceRow(start, code, exc, inc, *((None, None) if standing is None else standing))
        for start, code, exc, inc, standing in listed
    ]
