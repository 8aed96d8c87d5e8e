"""Stored rows to domain records and back, for both backends.

SQLite and PostgreSQL keep the same columns with the same encodings (instants as epoch seconds, dates as ISO
text, flags as 0/1), so the turning of a row into a record is written once, here; each backend keeps only its
SQL (the dialect, and PostgreSQL's ``account`` column). Rows are passed in the column order of the SELECTs
that both backends share.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from octoscope.domain.bills import Statement, statement_from_dict, statement_to_dict
from octoscope.domain.costs import PriceColumns, PriceSeconds
from octoscope.domain.models import (
    Account,
    Agreement,
    Charge,
    Direction,
    DispatchRecord,
    Fuel,
    Meter,
    MeterPoint,
    Property,
    Rate,
    SmartDevice,
    TelemetryReading,
)
from octoscope.domain.products import Product, ProductTariff
from octoscope.domain.uktime import epoch, from_epoch
from octoscope.store.ports import ExportCursor, RateWindow, ReadingColumns, TelemetryRow

__all__ = [
    "BUDGET_KEEP_SECONDS",
    "HALF_HOUR",
    "PRODUCT_COLUMNS",
    "UNIT_CODE",
    "UNIT_CODE_TEXT",
    "Instants",
    "account_from_rows",
    "agreement_from_row",
    "device_row",
    "dispatch_from_row",
    "dispatch_row",
    "export_cursor_from_row",
    "export_cursor_row",
    "meter_from_row",
    "meter_row",
    "opt_date",
    "opt_dt",
    "opt_epoch",
    "point_from_row",
    "price_columns_from_rows",
    "price_list_where",
    "price_seconds_from_rows",
    "product_from_row",
    "product_row",
    "product_tariff_from_row",
    "product_upsert",
    "property_from_row",
    "property_row",
    "rate_window_from_row",
    "rate_window_row",
    "rates_from_rows",
    "reading_columns_from_rows",
    "statement_from_row",
    "statement_row",
    "telemetry_from_row",
    "telemetry_row_from_row",
]

HALF_HOUR = 1800
BUDGET_KEEP_SECONDS = 2 * 86400
_HALF_HOUR = timedelta(seconds=HALF_HOUR)

# The SELECT column lists the decoders below expect, shared so that a column added to one backend's query is
# added to the other's.
PRODUCT_COLUMNS = (
    "code, direction, full_name, display_name, is_variable, is_green, is_tracker, is_prepay, is_business,"
    " is_restricted, term, brand, available_from, available_to"
)


def opt_epoch(value: datetime | None) -> int | None:
    return None if value is None else epoch(value)


def opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_epoch(value)


def opt_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


class Instants:
    """Epoch seconds to UTC datetimes for rows in time order: the next half-hour is one addition, not a
    conversion (a year of readings or Agile prices is 17,520 of them)."""

    __slots__ = ("last", "last_seconds")

    def __init__(self) -> None:
        self.last_seconds = -1
        self.last = from_epoch(0)

    def at(self, seconds: int) -> datetime:
        step = seconds - self.last_seconds
        if step == 0:
            return self.last
        value = self.last + _HALF_HOUR if step == HALF_HOUR else from_epoch(seconds)
        self.last_seconds, self.last = seconds, value
        return value


# The usual units as a NULL and a small integer, which the drivers hand over without making a str per row
# (a good part of reading a year of half-hours); any other unit as itself. PostgreSQL's CASE wants one type:
# there kWh alone is coded.
UNIT_CODE = "CASE unit WHEN 'kWh' THEN NULL WHEN 'm³' THEN 0 ELSE unit END"
UNIT_CODE_TEXT = "NULLIF(unit, 'kWh')"
_UNITS = {None: "kWh", 0: "m³"}


def reading_columns_from_rows(rows: Iterable[Sequence[Any]]) -> ReadingColumns:
    """From (interval_start, value, UNIT_CODE or UNIT_CODE_TEXT) rows in time order (a cursor's, as it steps):
    three columns, transposed in C. One flat list cut three ways: a third quicker than ``zip(*rows)``, which
    makes an iterator of each of a year's 17,520 rows."""
    flat = list(chain.from_iterable(rows))
    if not flat:
        return ReadingColumns((), (), ())
    starts, values, codes = flat[0::3], flat[1::3], flat[2::3]
    first = codes[0]
    if not isinstance(first, str) and codes.count(first) == len(codes):
        return ReadingColumns(starts, values, (_UNITS[first],) * len(codes))
    return ReadingColumns(starts, values, tuple(_UNITS.get(c, c) for c in codes))


# --- the account ----------------------------------------------------------------------------------------


def property_row(prop: Property) -> tuple[object, ...]:
    """(id, moved_in_at, moved_out_at, postcode, address)."""
    return (prop.id, opt_epoch(prop.moved_in_at), opt_epoch(prop.moved_out_at), prop.postcode, prop.address)


def device_row(device: SmartDevice) -> tuple[object, ...]:
    """(id, device_type, provider, status, state, make, model)."""
    return (device.id, device.device_type, device.provider, device.status, device.state, device.make, device.model)


def meter_row(point: str, meter: Meter) -> tuple[object, ...]:
    """(point, serial, registers, active_from, active_to, unit, meter_type, device_id)."""
    return (
        point,
        meter.serial,
        ",".join(meter.registers),
        meter.active_from.isoformat() if meter.active_from else None,
        meter.active_to.isoformat() if meter.active_to else None,
        meter.unit,
        meter.meter_type,
        meter.device_id,
    )


def property_from_row(row: Sequence[Any], points: tuple[MeterPoint, ...]) -> Property:
    """From (id, moved_in_at, moved_out_at, postcode, address) and the property's meter points."""
    pid, moved_in, moved_out, postcode, address = row
    return Property(pid, opt_dt(moved_in), opt_dt(moved_out), postcode, address, points)


def meter_from_row(row: Sequence[Any]) -> Meter:
    """From (serial, registers, active_from, active_to, unit, meter_type, device_id)."""
    serial, registers, active_from, active_to, unit, meter_type, device_id = row
    return Meter(
        serial,
        tuple(filter(None, registers.split(","))),
        opt_date(active_from),
        opt_date(active_to),
        unit,
        meter_type,
        device_id,
    )


def agreement_from_row(row: Sequence[Any]) -> Agreement:
    """From (valid_from, valid_to, tariff_code)."""
    start, end, code = row
    return Agreement(code, from_epoch(start), opt_dt(end))


def point_from_row(
    row: Sequence[Any], meters: Sequence[Sequence[Any]], agreements: Sequence[Sequence[Any]]
) -> MeterPoint:
    """From (identifier, fuel, direction, profile_class) and its meters' and agreements' rows."""
    identifier, fuel, direction, profile_class = row
    return MeterPoint(
        Fuel(fuel),
        identifier,
        Direction(direction),
        tuple(meter_from_row(m) for m in meters),
        tuple(agreement_from_row(a) for a in agreements),
        profile_class,
    )


def account_from_rows(
    number: str, properties: Sequence[tuple[Sequence[Any], tuple[MeterPoint, ...]]], devices: Sequence[Sequence[Any]]
) -> Account:
    """From each property's row with its meter points, and the devices' rows."""
    return Account(
        number,
        tuple(property_from_row(row, points) for row, points in properties),
        tuple(SmartDevice(*row) for row in devices),
    )


# --- prices -----------------------------------------------------------------------------------------------


def price_list_where(
    tariff_code: str,
    charge: Charge,
    start: datetime | None,
    end: datetime | None,
    payment_method: str | None,
    mark: str,
) -> tuple[str, str, list[object]]:
    """(table, WHERE clause, its arguments) selecting one price list's records overlapping [start, end) where
    given, and with ``payment_method`` only that method's and those naming none (Agile, Outgoing). ``mark`` is
    the driver's placeholder (``?`` or ``%s``): the one difference between the backends' queries."""
    table, register = ("standing_charges", None) if charge is Charge.STANDING else ("unit_rates", charge.value)
    where = [f"tariff_code = {mark}"]
    args: list[object] = [tariff_code]
    if register is not None:
        where.append(f"register = {mark}")
        args.append(register)
    if payment_method is not None:
        where.append(f"payment_method IN ('', {mark})")
        args.append(payment_method)
    if end is not None:
        where.append(f"valid_from < {mark}")
        args.append(epoch(end))
    if start is not None:
        where.append(f"(valid_to IS NULL OR valid_to > {mark})")
        args.append(epoch(start))
    return table, " AND ".join(where), args


def rate_window_row(tariff_code: str, charge: Charge, window: RateWindow) -> tuple[object, ...]:
    """(tariff_code, charge, window_from, window_to, settled_to, fresh_until)."""
    times = (window.start, window.end, window.settled_to, window.fresh_until)
    return (tariff_code, charge.value, *(epoch(t) for t in times))


def rate_window_from_row(row: Sequence[Any]) -> RateWindow:
    """From (window_from, window_to, settled_to, fresh_until)."""
    return RateWindow(*(from_epoch(v) for v in row))


def rates_from_rows(rows: Sequence[Sequence[Any]]) -> list[Rate]:
    """From (valid_from, valid_to, value_exc_vat, value_inc_vat, payment_method) rows in time order."""
    instants = Instants()
    out = []
    for start, end, exc, inc, method in rows:
        valid_from = instants.at(start)
        valid_to = None if end is None else valid_from + _HALF_HOUR if end - start == HALF_HOUR else from_epoch(end)
        out.append(Rate(valid_from, valid_to, exc, inc, method or None))
    return out


def price_columns_from_rows(rows: Sequence[Sequence[Any]]) -> PriceColumns:
    """From (valid_from, valid_to, value_exc_vat, value_inc_vat) rows in time order."""
    if not rows:
        return PriceColumns([], [], [], [])
    starts, ends, exc, inc = zip(*rows, strict=True)
    instants = Instants()
    begins = [instants.at(s) for s in starts]
    # A record usually ends where the next begins: reuse that instant rather than convert again.
    by_epoch = dict(zip(starts, begins, strict=True))
    finishes = [None if e is None else by_epoch.get(e) or from_epoch(e) for e in ends]
    return PriceColumns(begins, finishes, list(exc), list(inc))


def price_seconds_from_rows(rows: Iterable[Sequence[Any]]) -> PriceSeconds:
    """From (valid_from, valid_to, value_exc_vat, value_inc_vat) rows in time order: the columns as stored,
    instants in epoch seconds, cut from one flat list in C (no datetime per record)."""
    flat = list(chain.from_iterable(rows))
    return PriceSeconds(flat[0::4], flat[1::4], flat[2::4], flat[3::4])


# --- the tariff catalogue ---------------------------------------------------------------------------------


def product_row(p: Product, position: int) -> tuple[object, ...]:
    """The columns of PRODUCT_COLUMNS, then position; flags as 0/1 (PostgreSQL keeps them as integers)."""
    return (
        p.code,
        p.direction,
        p.full_name,
        p.display_name,
        int(p.is_variable),
        int(p.is_green),
        int(p.is_tracker),
        int(p.is_prepay),
        int(p.is_business),
        int(p.is_restricted),
        p.term,
        p.brand,
        opt_epoch(p.available_from),
        opt_epoch(p.available_to),
        position,
    )


def product_upsert(mark: str) -> str:
    """The upsert of one catalogue product from ``product_row``'s values, ``mark`` the driver's placeholder:
    the same ON CONFLICT statement serves SQLite and PostgreSQL."""
    names = [c.strip() for c in f"{PRODUCT_COLUMNS}, position".split(",")]
    # Column names are this module's own, never a caller's text
    return (
        f"INSERT INTO catalogue_products ({', '.join(names)}) VALUES ({', '.join(mark for _ in names)})"  # noqa: S608
        f" ON CONFLICT (code) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in names if c != 'code')}"
    )


def product_from_row(r: Sequence[Any]) -> Product:
    """From the columns of PRODUCT_COLUMNS."""
    return Product(
        code=r[0],
        direction=r[1],
        full_name=r[2],
        display_name=r[3],
        is_variable=bool(r[4]),
        is_green=bool(r[5]),
        is_tracker=bool(r[6]),
        is_prepay=bool(r[7]),
        is_business=bool(r[8]),
        is_restricted=bool(r[9]),
        term=r[10],
        brand=r[11],
        available_from=opt_dt(r[12]),
        available_to=opt_dt(r[13]),
    )


def product_tariff_from_row(row: Sequence[Any]) -> ProductTariff:
    """From (product, tariff_code, region, fuel, registers)."""
    product, code, region, fuel, registers = row
    return ProductTariff(product, code, region, Fuel(fuel), registers)


# --- dispatches, telemetry, export cursors, statements ------------------------------------------------------


def dispatch_row(r: DispatchRecord, seen_at: datetime) -> tuple[object, ...]:
    """(device_id, kind, start, end, charge_type, energy_kwh, source, location, seen_at)."""
    return (
        r.device_id,
        r.kind,
        epoch(r.start),
        epoch(r.end),
        r.charge_type,
        r.energy_kwh,
        r.source,
        r.location,
        epoch(seen_at),
    )


def dispatch_from_row(row: Sequence[Any]) -> DispatchRecord:
    """From (device_id, kind, start, end, charge_type, energy_kwh, source, location)."""
    d, k, a, b, t, e, s, loc = row
    return DispatchRecord(d, k, from_epoch(a), from_epoch(b), t, e, s, loc)


def telemetry_from_row(row: Sequence[Any]) -> TelemetryReading:
    """From (read_at, consumption_wh, delta_wh, demand_w, export_wh)."""
    at, *rest = row
    return TelemetryReading(from_epoch(at), *rest)


def telemetry_row_from_row(row: Sequence[Any]) -> TelemetryRow:
    """From (device_id, read_at, consumption_wh, delta_wh, demand_w, export_wh)."""
    d, at, *rest = row
    return TelemetryRow(d, from_epoch(at), *rest)


def export_cursor_row(cursor: ExportCursor) -> tuple[object, ...]:
    """(exported_from, exported_to, exported_at, points)."""
    return (epoch(cursor.start), epoch(cursor.end), epoch(cursor.at), cursor.points)


def export_cursor_from_row(row: Sequence[Any]) -> tuple[tuple[str, str], ExportCursor]:
    """From (measurement, series, exported_from, exported_to, exported_at, points): its key and the cursor."""
    m, s, lo, hi, at, n = row
    return (m, s), ExportCursor(from_epoch(lo), from_epoch(hi), from_epoch(at), n)


def statement_row(st: Statement, at: datetime) -> tuple[object, ...]:
    """(id, status, from_date, to_date, body, fetched_at)."""
    body = json.dumps(statement_to_dict(st), default=str)
    return (st.ident, st.status, st.first.isoformat(), st.last.isoformat(), body, epoch(at))


def statement_from_row(row: Sequence[Any]) -> tuple[Statement, datetime]:
    """From (body, fetched_at)."""
    body, at = row
    return statement_from_dict(json.loads(body)), from_epoch(at)
