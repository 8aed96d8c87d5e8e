"""Payloads into typed models, at the boundary: a missing or mistyped field is one clear error here.

Each function raises :class:`UnexpectedResponse` naming the field's path, so that a payload Octopus
changed never turns into a ``KeyError`` deep inside the sync.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from octoscope.domain.bills import Statement, Transaction
from octoscope.domain.models import (
    Account,
    Agreement,
    Direction,
    DispatchRecord,
    Fuel,
    IssuedToken,
    Meter,
    MeterPoint,
    Property,
    Rate,
    Reading,
    SmartDevice,
    TariffCode,
    TariffInfo,
    TelemetryReading,
)
from octoscope.domain.products import Product, ProductTariff
from octoscope.domain.uktime import HALF_HOUR, parse_api_instant
from octoscope.octopus.errors import UnexpectedResponse

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a price record with no start has been in force since ever

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    count: int
    next_url: str | None
    items: list[T]


def _field(obj: Any, key: str, path: str) -> Any:
    if not isinstance(obj, dict):
        raise UnexpectedResponse(f"{path} is not an object")
    if key not in obj:
        raise UnexpectedResponse(f"{path}.{key} is missing")
    return obj[key]


def _text(obj: Any, key: str, path: str, *, optional: bool = False) -> str | None:
    value = obj.get(key) if optional and isinstance(obj, dict) else _field(obj, key, path)
    if value is None and optional:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise UnexpectedResponse(f"{path}.{key} should be text, not {type(value).__name__}")
    return str(value)


def _required_text(obj: Any, key: str, path: str) -> str:
    value = _text(obj, key, path)
    assert value is not None
    return value


def _instant(obj: Any, key: str, path: str, *, optional: bool = False) -> datetime | None:
    raw = _text(obj, key, path, optional=optional)
    if raw is None:
        return None
    try:
        return parse_api_instant(raw)
    except ValueError:
        raise UnexpectedResponse(f"{path}.{key} = {raw!r} is not a date and time") from None


def _required_instant(obj: Any, key: str, path: str) -> datetime:
    value = _instant(obj, key, path)
    if value is None:
        raise UnexpectedResponse(f"{path}.{key} is missing")
    return value


def _list(obj: Any, key: str, path: str) -> list[Any]:
    value = _field(obj, key, path)
    if not isinstance(value, list):
        raise UnexpectedResponse(f"{path}.{key} should be a list")
    return value


def _page_header(payload: Any, what: str) -> tuple[int, str | None, list[Any]]:
    count = _field(payload, "count", what)
    next_url = _field(payload, "next", what)
    results = _list(payload, "results", what)
    if not isinstance(count, int) or (next_url is not None and not isinstance(next_url, str)):
        raise UnexpectedResponse(f"{what}: count or next has the wrong type")
    return count, next_url, results


def consumption_page(payload: Any, what: str) -> Page[Reading]:
    """A consumption page; the hot path, so the happy case is one comprehension. Each row must be one
    half-hour: a row of another length (readings grouped by hour or day) is refused, naming the row,
    rather than stored as a half-hour."""
    count, next_url, results = _page_header(payload, what)
    try:
        spans = [(parse_api_instant(r["interval_start"]), parse_api_instant(r["interval_end"])) for r in results]
        readings = [Reading(start, float(r["consumption"])) for (start, _), r in zip(spans, results, strict=True)]
    except (KeyError, TypeError, ValueError):
        for i, r in enumerate(results):  # find the culprit for the message
            _instant(r, "interval_start", f"{what}.results[{i}]")
            _instant(r, "interval_end", f"{what}.results[{i}]")
            value = _field(r, "consumption", f"{what}.results[{i}]")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UnexpectedResponse(f"{what}.results[{i}].consumption should be a number") from None
        raise
    for i, (start, end) in enumerate(spans):
        if end - start != HALF_HOUR:
            minutes = (end - start).total_seconds() / 60
            raise UnexpectedResponse(
                f"{what}.results[{i}].interval_end = {results[i]['interval_end']!r} is {minutes:g} minutes after"
                " interval_start, not 30: octoscope stores half-hours only (readings grouped by hour or day,"
                " group_by, are refused)"
            )
    for i, reading in enumerate(readings):
        if not math.isfinite(reading.value):
            raise UnexpectedResponse(f"{what}.results[{i}].consumption = {reading.value!r} is not a finite number")
    return Page(count, next_url, readings)


def rates_page(payload: Any, what: str) -> Page[Rate]:
    """A page of prices; the hot path for Agile (1,500 a page), so the happy case is one comprehension."""
    count, next_url, results = _page_header(payload, what)
    try:
        rates = [
            Rate(
                EPOCH if r["valid_from"] is None else parse_api_instant(r["valid_from"]),  # Outgoing: no start
                None if r["valid_to"] is None else parse_api_instant(r["valid_to"]),
                _number(r["value_exc_vat"]),
                _number(r["value_inc_vat"]),
                _payment_method(r.get("payment_method")),  # absent in 2020-21 answers
            )
            for r in results
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        _check_rates(results, what)  # raises UnexpectedResponse naming the field
        raise
    return Page(count, next_url, rates)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError
    return float(value)


def _payment_method(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError


def _check_rates(results: list[Any], what: str) -> None:
    for i, r in enumerate(results):
        path = f"{what}.results[{i}]"
        exc, inc = _field(r, "value_exc_vat", path), _field(r, "value_inc_vat", path)
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (exc, inc)):
            raise UnexpectedResponse(f"{path}: value_exc_vat and value_inc_vat should be numbers")
        _instant(r, "valid_from", path, optional=True)
        _instant(r, "valid_to", path, optional=True)
        _text(r, "payment_method", path, optional=True)


def _agreements(raw: list[Any], path: str) -> tuple[Agreement, ...]:
    out = []
    for i, a in enumerate(raw):
        where = f"{path}[{i}]"
        code = _required_text(a, "tariff_code", where)
        try:
            TariffCode.parse(code)
        except ValueError as err:
            raise UnexpectedResponse(f"{where}: {err}") from None
        start = _instant(a, "valid_from", where)
        assert start is not None
        out.append(Agreement(code, start, _instant(a, "valid_to", where, optional=True)))
    return tuple(sorted(out, key=lambda a: a.valid_from))


def rest_account(payload: Any, number: str) -> Account:
    """The REST account: properties (past ones too), meter points, serials and agreements over time."""
    path = "account"
    properties = []
    for i, p in enumerate(_list(payload, "properties", path)):
        where = f"{path}.properties[{i}]"
        points: list[MeterPoint] = []
        for j, e in enumerate(_list(p, "electricity_meter_points", where)):
            at = f"{where}.electricity_meter_points[{j}]"
            mpan = _required_text(e, "mpan", at)
            meters = tuple(
                Meter(
                    _required_text(m, "serial_number", f"{at}.meters[{k}]"),
                    tuple(str(r.get("rate", "")) for r in m.get("registers") or [] if isinstance(r, dict)),
                )
                for k, m in enumerate(_list(e, "meters", at))
            )
            profile = e.get("profile_class")
            points.append(
                MeterPoint(
                    Fuel.ELECTRICITY,
                    mpan,
                    Direction.EXPORT if e.get("is_export") else Direction.IMPORT,
                    meters,
                    _agreements(_list(e, "agreements", at), f"{at}.agreements"),
                    profile if isinstance(profile, int) else None,
                )
            )
        for j, g in enumerate(p.get("gas_meter_points") or []):
            at = f"{where}.gas_meter_points[{j}]"
            mprn = _required_text(g, "mprn", at)
            meters = tuple(
                Meter(_required_text(m, "serial_number", f"{at}.meters[{k}]"))
                for k, m in enumerate(_list(g, "meters", at))
            )
            points.append(
                MeterPoint(
                    Fuel.GAS,
                    mprn,
                    Direction.IMPORT,
                    meters,
                    _agreements(_list(g, "agreements", at), f"{at}.agreements"),
                )
            )
        address = ", ".join(
            str(p[k]) for k in ("address_line_1", "address_line_2", "address_line_3", "town") if p.get(k)
        )
        properties.append(
            Property(
                _required_text(p, "id", where),
                _instant(p, "moved_in_at", where, optional=True),
                _instant(p, "moved_out_at", where, optional=True),
                str(p.get("postcode") or ""),
                address,
                tuple(points),
            )
        )
    got = _required_text(payload, "number", path)
    if got != number:
        raise UnexpectedResponse(f"asked for account {number} and got {got}")
    return Account(number, tuple(properties))


@dataclass(frozen=True)
class MeterDetails:
    """What GraphQL adds to a REST meter: dates, unit, type, device id."""

    active_from: date | None
    active_to: date | None
    unit: str | None
    meter_type: str | None
    device_id: str | None


@dataclass(frozen=True)
class AccountDetails:
    meters: dict[tuple[str, str], MeterDetails]
    directions: dict[str, Direction]
    tariffs: dict[str, TariffInfo]
    devices: tuple[SmartDevice, ...]


def _date(raw: Any, path: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise UnexpectedResponse(f"{path} = {raw!r} is not a date") from None


def _device_id(*candidates: Any) -> str | None:
    for c in candidates:
        if isinstance(c, dict) and isinstance(c.get("deviceId"), str):
            return str(c["deviceId"])
    return None


def _tariff_info(agreement: Any, path: str) -> TariffInfo | None:
    tariff = agreement.get("tariff") if isinstance(agreement, dict) else None
    if not isinstance(tariff, dict) or not isinstance(tariff.get("tariffCode"), str):
        return None
    code = tariff["tariffCode"]
    try:
        product = tariff.get("productCode") or TariffCode.parse(code).product
    except ValueError as err:
        raise UnexpectedResponse(f"{path}: {err}") from None
    return TariffInfo(code, product, tariff.get("fullName"), tariff.get("displayName"), tariff.get("__typename"))


def graphql_account_details(data: Any) -> AccountDetails:
    account = _field(data, "account", "data")
    meters: dict[tuple[str, str], MeterDetails] = {}
    directions: dict[str, Direction] = {}
    tariffs: dict[str, TariffInfo] = {}
    for i, prop in enumerate(_list(account, "properties", "account")):
        where = f"account.properties[{i}]"
        for kind, ident in (("electricityMeterPoints", "mpan"), ("gasMeterPoints", "mprn")):
            for j, point in enumerate(prop.get(kind) or []):
                at = f"{where}.{kind}[{j}]"
                identifier = _required_text(point, ident, at)
                if point.get("direction") in ("IMPORT", "EXPORT"):
                    directions[identifier] = Direction(point["direction"].lower())
                for k, m in enumerate(point.get("meters") or []):
                    mat = f"{at}.meters[{k}]"
                    meters[(identifier, _required_text(m, "serialNumber", mat))] = MeterDetails(
                        _date(m.get("activeFrom"), f"{mat}.activeFrom"),
                        _date(m.get("activeTo"), f"{mat}.activeTo"),
                        m.get("consumptionUnits"),
                        m.get("meterType") or m.get("mechanism"),
                        _device_id(
                            m.get("smartImportElectricityMeter"),
                            m.get("smartExportElectricityMeter"),
                            m.get("smartGasMeter"),
                        ),
                    )
                for k, a in enumerate(point.get("agreements") or []):
                    info = _tariff_info(a, f"{at}.agreements[{k}]")
                    if info is not None:
                        tariffs[info.code] = info
    devices = []
    for i, d in enumerate(data.get("devices") or []):
        at = f"devices[{i}]"
        status = d.get("status") if isinstance(d.get("status"), dict) else {}
        devices.append(
            SmartDevice(
                _required_text(d, "id", at),
                _required_text(d, "deviceType", at),
                _required_text(d, "provider", at),
                status.get("current"),
                status.get("currentState"),
                d.get("make"),
                d.get("model"),
            )
        )
    return AccountDetails(meters, directions, tariffs, tuple(devices))


def merge_details(account: Account, details: AccountDetails) -> Account:
    """The REST account with GraphQL's meter dates, units, device ids, directions and devices."""
    properties = []
    for prop in account.properties:
        points = []
        for point in prop.meter_points:
            meters = []
            for known in point.meters:
                extra = details.meters.get((point.identifier, known.serial))
                meter = known
                if extra is not None:
                    meter = replace(
                        known,
                        active_from=extra.active_from,
                        active_to=extra.active_to,
                        unit=extra.unit if point.fuel is Fuel.GAS else "kWh",
                        meter_type=extra.meter_type,
                        device_id=extra.device_id,
                    )
                meters.append(meter)
            direction = details.directions.get(point.identifier, point.direction)
            points.append(replace(point, meters=tuple(meters), direction=direction))
        properties.append(replace(prop, meter_points=tuple(points)))
    return replace(account, properties=tuple(properties), devices=details.devices)


def issued_token(data: Any, now: float) -> IssuedToken:
    """The token with its lifetimes on our clock: Octopus's ``exp`` and ``refreshExpiresIn`` are instants on
    its clock, so only their distance from ``iat`` is used (a skewed local clock cannot make a fresh token
    look expired, nor an expired one fresh)."""
    body = _field(data, "obtainKrakenToken", "data")
    token = _required_text(body, "token", "obtainKrakenToken")
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    issued, expires = payload.get("iat"), payload.get("exp")
    numbers = isinstance(issued, int | float) and isinstance(expires, int | float)
    lifetime = float(expires) - float(issued) if numbers else 3600.0  # type: ignore[arg-type]
    refresh = body.get("refreshToken")
    refresh_expires = body.get("refreshExpiresIn")  # an absolute Unix time, despite its name
    refresh_at = None
    if isinstance(refresh_expires, int | float):
        refresh_at = now + float(refresh_expires) - (float(issued) if numbers else now)  # type: ignore[arg-type]
    return IssuedToken(token, now + lifetime, refresh if isinstance(refresh, str) else None, refresh_at)


def _decimal(value: Any, path: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)  # GraphQL Decimals arrive as strings, "0E+1" included
    except (TypeError, ValueError):
        raise UnexpectedResponse(f"{path} = {value!r} is not a number") from None


SOURCE_TYPES = {"smart-charge": "SMART", "bump-charge": "BOOST", "test-charge": "TEST"}


def dispatches(data: Any, device_id: str) -> tuple[str | None, list[DispatchRecord]]:
    """(the device's current state, its planned and completed dispatches) from a dispatch query."""
    devices = data.get("devices") or [] if isinstance(data, dict) else []
    state = None
    for i, d in enumerate(devices):
        if isinstance(d, dict) and d.get("id") == device_id and isinstance(d.get("status"), dict):
            state = d["status"].get("currentState")
        elif not isinstance(d, dict):
            raise UnexpectedResponse(f"devices[{i}] is not an object")
    out: list[DispatchRecord] = []
    for i, p in enumerate(data.get("flexPlannedDispatches") or []):
        at = f"flexPlannedDispatches[{i}]"
        start, end = _required_instant(p, "start", at), _required_instant(p, "end", at)
        out.append(
            DispatchRecord(
                device_id,
                "planned",
                start,
                end,
                _text(p, "type", at, optional=True),
                _decimal(p.get("energyAddedKwh"), f"{at}.energyAddedKwh"),
                None,
                None,
            )
        )
    for field_name, kind in (("plannedDispatches", "planned"), ("completedDispatches", "completed")):
        for i, c in enumerate(data.get(field_name) or []):
            at = f"{field_name}[{i}]"
            start, end = _required_instant(c, "start", at), _required_instant(c, "end", at)
            meta = c.get("meta") if isinstance(c.get("meta"), dict) else {}
            source = meta.get("source")
            out.append(
                DispatchRecord(
                    device_id,
                    kind,
                    start,
                    end,
                    SOURCE_TYPES.get(source or ""),
                    _decimal(c.get("delta"), f"{at}.delta"),
                    source,
                    meta.get("location"),
                )
            )
    return state, out


# --- the product catalogue -----------------------------------------------------------------------------

_PRODUCT_FLAGS = ("is_variable", "is_green", "is_tracker", "is_prepay", "is_business", "is_restricted")
_TARIFF_MAPS = (
    ("single_register_electricity_tariffs", Fuel.ELECTRICITY, 1),
    ("dual_register_electricity_tariffs", Fuel.ELECTRICITY, 2),
    ("single_register_gas_tariffs", Fuel.GAS, 1),
)
_PAYMENT_KEYS = ("direct_debit_monthly", "varying")  # the keys clients read, in this order


def _flag(obj: Any, key: str, path: str) -> bool:
    value = obj.get(key, False) if isinstance(obj, dict) else None
    if not isinstance(value, bool):
        raise UnexpectedResponse(f"{path}.{key} should be true or false")
    return value


def product(raw: Any, path: str) -> Product:
    """One product of ``/v1/products/`` (or the top of a product's detail)."""
    term = raw.get("term") if isinstance(raw, dict) else None
    if term is not None and (isinstance(term, bool) or not isinstance(term, int)):
        raise UnexpectedResponse(f"{path}.term should be whole months or null")
    code = _required_text(raw, "code", path)
    flags = {key: _flag(raw, key, path) for key in _PRODUCT_FLAGS}
    return Product(
        code=code,
        direction=_text(raw, "direction", path, optional=True) or "IMPORT",
        full_name=_text(raw, "full_name", path, optional=True) or code,
        display_name=_text(raw, "display_name", path, optional=True) or code,
        term=term,
        brand=_text(raw, "brand", path, optional=True) or "",
        available_from=_instant(raw, "available_from", path, optional=True),
        available_to=_instant(raw, "available_to", path, optional=True),
        **flags,
    )


def products_page(payload: Any, what: str) -> Page[Product]:
    count, next_url, results = _page_header(payload, what)
    return Page(count, next_url, [product(r, f"{what}.results[{i}]") for i, r in enumerate(results)])


def product_tariffs(payload: Any, code: str, what: str) -> list[ProductTariff]:
    """Every tariff a product's detail lists: per region, fuel and register count, one code (the same for
    every payment method)."""
    got = _required_text(payload, "code", what)
    if got != code:
        raise UnexpectedResponse(f"{what}: asked for product {code} and got {got}")
    out: list[ProductTariff] = []
    for key, fuel, registers in _TARIFF_MAPS:
        regions = payload.get(key) or {}
        if not isinstance(regions, dict):
            raise UnexpectedResponse(f"{what}.{key} should be an object keyed by region")
        for region_key, by_payment in sorted(regions.items()):
            where = f"{what}.{key}.{region_key}"
            if not isinstance(by_payment, dict) or not by_payment:
                continue
            chosen = next((by_payment[k] for k in _PAYMENT_KEYS if k in by_payment), next(iter(by_payment.values())))
            tariff_code = _required_text(chosen, "code", where)
            try:
                parsed = TariffCode.parse(tariff_code)
            except ValueError as err:
                raise UnexpectedResponse(f"{where}: {err}") from None
            if parsed.fuel is not fuel or parsed.registers != registers:
                raise UnexpectedResponse(f"{where}: {tariff_code} is not a {registers}-register {fuel} tariff")
            out.append(ProductTariff(code, tariff_code, parsed.region, fuel, registers))
    return out


def grid_supply_points(payload: Any, what: str) -> list[str]:
    """Region letters (``_J`` -> ``J``) of a grid-supply-points answer: one for a known postcode, none for
    an unknown one, several where a postcode straddles regions."""
    _, _, results = _page_header(payload, what)
    out = []
    for i, r in enumerate(results):
        group = _required_text(r, "group_id", f"{what}.results[{i}]")
        out.append(group.removeprefix("_"))
    return out


def telemetry(data: Any) -> list[TelemetryReading]:
    """Home Mini readings, oldest first. Decimals arrive as strings (``"0E+1"`` is zero); a missing field is
    None; an empty list (no readings in the range) is an answer, not an error."""
    rows = data.get("smartMeterTelemetry") if isinstance(data, dict) else None
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise UnexpectedResponse("smartMeterTelemetry should be a list")
    out = []
    for i, r in enumerate(rows):
        at = f"smartMeterTelemetry[{i}]"
        out.append(
            TelemetryReading(
                _required_instant(r, "readAt", at),
                _decimal(r.get("consumption"), f"{at}.consumption"),
                _decimal(r.get("consumptionDelta"), f"{at}.consumptionDelta"),
                _decimal(r.get("demand"), f"{at}.demand"),
                _decimal(r.get("export"), f"{at}.export"),
            )
        )
    out.sort(key=lambda r: r.read_at)
    return out


# --- bills and statements (issue 21) -----------------------------------------------------------------
# Shapes in shared/octopus-api/bills.md. A statement that cannot be read at all (no id or period) is one
# clear error; odd content inside a readable statement (an unknown transaction type, a charge with no
# window) is kept as a problem line on the statement, so that one odd line does not hide the rest.

_TX_KINDS = {"Charge": "charge", "Credit": "credit", "Payment": "payment", "Refund": "refund"}


@dataclass(frozen=True)
class StatementsPage:
    statements: list[Statement]
    next_cursor: str | None  # of the bills list, when it has more
    more_transactions: dict[str, str]  # statement id -> cursor after its last transaction read


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(obj: Any, key: str, path: str) -> int | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnexpectedResponse(f"{path}.{key} is not a whole number: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise UnexpectedResponse(f"{path}.{key} is not a whole number: {value!r}") from None


def _transaction(raw: Any, path: str, problems: list[str]) -> Transaction:
    if not isinstance(raw, dict):
        raise UnexpectedResponse(f"{path} is not an object")
    typename = str(raw.get("__typename") or "")
    kind = _TX_KINDS.get(typename, "unknown")
    amounts = _object(raw.get("amounts"))
    net = _int(amounts, "net", f"{path}.amounts") or 0
    tax = _int(amounts, "tax", f"{path}.amounts") or 0
    gross = _int(amounts, "gross", f"{path}.amounts")
    if kind == "payment" or gross is None:
        gross = net + tax  # payments carry only net (bills.md §3)
    title = str(raw.get("title") or "")
    ident = str(raw.get("id") or "")
    if kind == "unknown":
        problems.append(f"transaction {ident or '?'} is of an unknown type {typename or '(none)'!r}: not counted")
    consumption = _object(raw.get("consumption"))
    start = _date(consumption.get("startDate"), f"{path}.consumption.startDate")
    end = _date(consumption.get("endDate"), f"{path}.consumption.endDate")
    kwh = _decimal(consumption.get("quantity"), f"{path}.consumption.quantity") if consumption else None
    if kind == "charge" and (start is None or end is None):
        problems.append(f"charge {ident or '?'} ({title}) has no consumption window: counted, not compared")
    elif kind == "charge" and start and end and end < start:
        problems.append(f"charge {ident or '?'} ({title}) ends before it starts ({start}..{end})")
    tx = Transaction(
        kind=kind,
        ident=ident,
        typename=typename,
        posted=_date(raw.get("postedDate"), f"{path}.postedDate"),
        title=title,
        net=net,
        tax=tax,
        gross=gross,
        balance_after=_int(raw, "balanceCarriedForward", path),
        is_export=raw.get("isExport") is True,
        start=start,
        end=end,
        kwh=kwh,
        usage=_int(consumption, "usageCost", f"{path}.consumption"),
        supply=_int(consumption, "supplyCharge", f"{path}.consumption"),
    )
    if kind == "charge" and tx.fuel is None:
        problems.append(f"charge {ident or '?'} has a title of no known fuel ({title!r}): not compared")
    return tx


def statements_page(data: Any) -> StatementsPage:
    """``account.bills`` with each statement's transactions, into statements (newest first, as sent)."""
    account = data.get("account") if isinstance(data, dict) else None
    if not isinstance(account, dict):
        raise UnexpectedResponse("bills: the answer has no account")
    connection = account.get("bills")
    if not isinstance(connection, dict):
        raise UnexpectedResponse("bills: account.bills is missing")
    out: list[Statement] = []
    more: dict[str, str] = {}
    for i, edge in enumerate(_list(connection, "edges", "account.bills")):
        node = edge.get("node") if isinstance(edge, dict) else None
        path = f"account.bills.edges[{i}].node"
        if not isinstance(node, dict):
            raise UnexpectedResponse(f"{path} is not an object")
        st, cursor = statement(node, path)
        out.append(st)
        if cursor is not None:
            more[st.ident] = cursor
    info = _object(connection.get("pageInfo"))
    next_cursor = info.get("endCursor") if info.get("hasNextPage") is True else None
    return StatementsPage(out, next_cursor if isinstance(next_cursor, str) else None, more)


def statement(node: Any, path: str) -> tuple[Statement, str | None]:
    """One bill node and, when its transactions go on past this page, the cursor to ask after."""
    ident = _required_text(node, "id", path)
    first = _date(node.get("fromDate"), f"{path}.fromDate")
    last = _date(node.get("toDate"), f"{path}.toDate")
    if first is None or last is None:
        raise UnexpectedResponse(f"{path}: statement {ident} has no period (fromDate/toDate)")
    problems: list[str] = []
    if last < first:
        raise UnexpectedResponse(f"{path}: statement {ident} ends ({last}) before it starts ({first})")
    if node.get("__typename") not in (None, "StatementType"):
        problems.append(f"a {node.get('__typename')} ({node.get('billType')}), not a statement: no transactions")
    txs: list[Transaction] = []
    cursor = None
    connection = node.get("transactions")
    if isinstance(connection, dict):
        for j, edge in enumerate(_list(connection, "edges", f"{path}.transactions")):
            raw = edge.get("node") if isinstance(edge, dict) else None
            txs.append(_transaction(raw, f"{path}.transactions.edges[{j}].node", problems))
        info = _object(connection.get("pageInfo"))
        if info.get("hasNextPage") is True and isinstance(info.get("endCursor"), str):
            cursor = info["endCursor"]
    status = node.get("status")
    return (
        Statement(
            ident=ident,
            bill_type=str(node.get("billType") or ""),
            first=first,
            last=last,
            issued=_date(node.get("issuedDate"), f"{path}.issuedDate"),
            status=status if isinstance(status, str) else None,
            opening=_int(node, "openingBalance", path),
            closing=_int(node, "closingBalance", path),
            transactions=tuple(txs),
            problems=tuple(problems),
        ),
        cursor,
    )


def more_transactions(data: Any, ident: str) -> tuple[list[Transaction], list[str], str | None]:
    """A further page of one statement's transactions (``account.bill``): them, problems, next cursor."""
    account = data.get("account") if isinstance(data, dict) else None
    node = account.get("bill") if isinstance(account, dict) else None
    if not isinstance(node, dict):
        raise UnexpectedResponse(f"bill {ident}: the answer has no bill")
    st, cursor = statement(node, f"account.bill({ident})")
    return list(st.transactions), list(st.problems), cursor
