"""Half-hourly rows, each with its rates and costs as the cost engine worked them out (never recomputed
here): what the CSV, Parquet and InfluxDB exports write.

A local day's standing charge is spread evenly over the half-hours stored that day, so that a day's rows add
up to what ``octoscope costs`` says for it (a day of 46, 48 or 50 half-hours, or one still arriving). A day
with no half-hour stored has no row, so its standing charge shows once its first half-hour does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple

from octoscope.config import Settings
from octoscope.domain.models import Account, MeterPoint
from octoscope.domain.uktime import HALF_HOUR, local_date, local_midnight
from octoscope.services.costing import FuelName, PointCosts, cost_point, fuel_of
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


def _priced(
    settings: Settings,
    store: StoreProtocol,
    point: MeterPoint,
    first: date,
    end: date,
    readings: list[tuple[datetime, float]] | None = None,
) -> tuple[PointCosts, PointCosts]:
    """The engine's answer exc and inc VAT, each half-hour listed."""

    def priced(inc_vat: bool) -> PointCosts:
        return cost_point(
            store,
            point,
            first,
            end,
            inc_vat=inc_vat,
            payment_method=settings.payment_method,
            settings=settings.costs,
            half_hours=True,
            readings=readings,
        )

    return priced(False), priced(True)


def point_rows(
    settings: Settings, store: StoreProtocol, point: MeterPoint, first: date, end: date
) -> list[HalfHourRow]:
    """The half-hours of one meter point stored in local days [first, end) that its agreements cover."""
    exc, inc = _priced(settings, store, point, first, end)
    days = [local_date(h.start) for h in inc.half_hours]
    per_day = Counter(days)
    fuel = fuel_of(point)
    rows = []
    for day, e, i in zip(days, exc.half_hours, inc.half_hours, strict=True):
        count = per_day[day]
        totals_exc, totals_inc = exc.report.days[day], inc.report.days[day]
        rows.append(
            HalfHourRow(
                i.start,
                day,
                fuel,
                point.identifier,
                i.tariff_code,
                i.band,
                i.kwh,
                inc.m3.get(i.start),
                e.rate,
                i.rate,
                e.pence,
                i.pence,
                totals_exc.standing_charge / count,
                totals_inc.standing_charge / count,
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
    on Intelligent tariffs, as costs bill it) and the day's standing charge: the engine asked for the cost
    of nothing at every half-hour. Half-hours without a stored price have no row."""
    lo, hi = local_midnight(first), local_midnight(end)
    zeros = [(lo + i * HALF_HOUR, 0.0) for i in range(int((hi - lo) / HALF_HOUR))]
    exc, inc = _priced(settings, store, point, first, end, zeros)
    export = fuel_of(point) == "export"
    rows = []
    day, day_end = first, lo
    standing: tuple[float | None, float | None] = (None, None)
    for e, i in zip(exc.half_hours, inc.half_hours, strict=True):
        if i.rate is None or e.rate is None or i.tariff_code is None:
            continue
        if i.start >= day_end:
            day = local_date(i.start)
            day_end = local_midnight(day + timedelta(days=1))
            s_exc, s_inc = exc.report.days[day].standing_charge, inc.report.days[day].standing_charge
            standing = (None, None) if export or not s_inc else (s_exc, s_inc)
        rows.append(PriceRow(i.start, i.tariff_code, e.rate, i.rate, *standing))
    return rows
