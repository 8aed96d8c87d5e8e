"""The REST face of the simulator: ``/v1/...`` as ``shared/octopus-api/README.md`` documents it.

Django REST Framework conventions throughout: ``{"detail": ...}`` errors, field-keyed 400s, page-number
pagination with absolute ``next``/``previous`` links whose query parameters are sorted and encoded, and
``Invalid page.`` past the end.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from octoscope.simulator.catalogue import RATE_TYPES, Tariff
from octoscope.simulator.scenario import REGIONS, AccountSpec, ElectricityPointSpec, ProductSpec
from octoscope.simulator.timeutil import (
    SLOT,
    BadDateTime,
    iso_local,
    iso_z,
    local_date_of,
    local_midnight,
    parse_api_datetime,
)
from octoscope.simulator.world import World

CONSUMPTION_PAGE_DEFAULT = 100
CONSUMPTION_PAGE_CAP = 25_000
RATES_PAGE_DEFAULT = 100
RATES_PAGE_CAP = 1_500
PRODUCTS_PAGE = 100
ACCOUNT_RE = re.compile(r"A-[0-9A-F]{8}")
GROUPINGS = ("hour", "day", "week", "month", "quarter")

NO_CREDENTIALS = "Authentication credentials were not provided."
INVALID_KEY = "Invalid API key."
PERMISSION_DENIED = "You do not have permission to perform this action."
NOT_FOUND = "Not found."

HTML_404 = (
    b'<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    b"  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def detail(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return json_response({"detail": message}, status, headers)


def world_of(request: Request) -> World:
    world: World = request.app.state.world
    return world


# --- auth --------------------------------------------------------------------------------------------


def authenticate(request: Request) -> AccountSpec | Response:
    """HTTP Basic with the API key as user name and an empty password; nothing else is recognised."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return detail(NO_CREDENTIALS, 401, {"WWW-Authenticate": 'Basic realm="api"'})
    try:
        user, _, _password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return detail(
            "Invalid basic header. Credentials not correctly base64 encoded.",
            401,
            {"WWW-Authenticate": 'Basic realm="api"'},
        )
    account = world_of(request).account_by_key(user)
    if account is None or _password:  # the key is the user name; the password must be empty
        return detail(INVALID_KEY, 401, {"WWW-Authenticate": 'Basic realm="api"'})
    return account


# --- pagination --------------------------------------------------------------------------------------


def _page_url(request: Request, page: int | None) -> str:
    """DRF's replace_query_param / remove_query_param: parameters sorted and urlencoded."""
    params = parse_qs(request.url.query, keep_blank_values=True)
    if page is None:
        params.pop("page", None)
    else:
        params["page"] = [str(page)]
    query = urlencode(sorted(params.items()), doseq=True)
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    return f"{base}?{query}" if query else base


def page_size_of(request: Request, default: int, cap: int) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        return default
    return min(size, cap) if size > 0 else default


def paginate(request: Request, count: int, size: int) -> tuple[int, int, dict[str, Any]] | Response:
    """Return (offset, limit, envelope without results), or the 404 DRF gives for a bad page."""
    raw = request.query_params.get("page", "1")
    pages = max(1, -(-count // size))
    if raw == "last":
        number = pages
    else:
        try:
            number = int(raw)
        except ValueError:
            return detail("Invalid page.", 404)
    if number < 1 or number > pages:
        return detail("Invalid page.", 404)
    envelope = {
        "count": count,
        "next": _page_url(request, number + 1) if number < pages else None,
        "previous": None if number == 1 else _page_url(request, None if number == 2 else number - 1),
    }
    return (number - 1) * size, size, envelope


def page_response(
    request: Request, rows: list[Any], size: int, render: Any, headers: dict[str, str] | None = None
) -> Response:
    paged = paginate(request, len(rows), size)
    if isinstance(paged, Response):
        return paged
    offset, limit, envelope = paged
    envelope["results"] = [render(r) for r in rows[offset : offset + limit]]
    return json_response(envelope, headers=headers)


def period_params(request: Request) -> tuple[float | None, float | None] | Response:
    """``period_from`` inclusive, ``period_to`` exclusive; errors keyed by field as the API gives them."""
    values: dict[str, float | None] = {}
    for name in ("period_from", "period_to"):
        raw = request.query_params.get(name)
        if raw is None:
            values[name] = None
            continue
        try:
            values[name] = parse_api_datetime(raw).timestamp()
        except BadDateTime:
            return json_response({name: ["Enter a valid date/time."]}, 400)
    start, end = values["period_from"], values["period_to"]
    if end is not None and start is None:
        return json_response({"period_from": ["This field is required when providing a `period_to`."]}, 400)
    if start is not None and end is not None and start > end:
        return json_response({"period_from": ["Must not be greater than `period_to`."]}, 400)
    return start, end


# --- consumption -------------------------------------------------------------------------------------

_local = lru_cache(maxsize=400_000)(iso_local)
_z = lru_cache(maxsize=400_000)(iso_z)


def _bucket_start(ts: float, group_by: str) -> float:
    """Start of the local bucket holding ``ts``: hours, local days, Monday weeks, calendar months/quarters."""
    if group_by == "hour":
        return ts - ts % 3600
    day = local_date_of(ts)
    if group_by == "week":
        day = day.fromordinal(day.toordinal() - day.weekday())
    elif group_by == "month":
        day = day.replace(day=1)
    elif group_by == "quarter":
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return local_midnight(day).timestamp()


def _next_bucket(start: float, group_by: str) -> float:
    if group_by == "hour":
        return start + 3600
    day = local_date_of(start)
    if group_by == "day":
        nxt = day.fromordinal(day.toordinal() + 1)
    elif group_by == "week":
        nxt = day.fromordinal(day.toordinal() + 7)
    else:
        months = 1 if group_by == "month" else 3
        month = day.month - 1 + months
        nxt = day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)
    return local_midnight(nxt).timestamp()


def grouped(
    rows: list[tuple[int, int]], group_by: str, start: float | None, end: float | None
) -> list[tuple[float, float, int]]:
    """Sum half-hours into local buckets, clipped to the requested range: (start, end, total)."""
    out: list[tuple[float, float, int]] = []
    for slot, value in rows:
        ts = slot * SLOT
        if out and out[-1][0] <= ts < out[-1][1]:
            a, b, total = out[-1]
            out[-1] = (a, b, total + value)
            continue
        a = _bucket_start(ts, group_by)
        b = _next_bucket(a, group_by)
        if start is not None:
            a = max(a, start)
        if end is not None:
            b = min(b, end)
        out.append((a, b, value))
    return out


async def consumption(request: Request) -> Response:
    world = world_of(request)
    account = authenticate(request)
    if isinstance(account, Response):
        return account
    fuel = "electricity" if request.url.path.startswith("/v1/electricity") else "gas"
    ident = request.path_params["point"]
    ref = world.point(fuel, ident)
    if ref is None:
        return detail(NOT_FOUND, 404)
    if ref.account.number != account.number:
        return detail(PERMISSION_DENIED, 403)
    meter = next((m for m in ref.point.meters if m.serial == request.path_params["serial"]), None)
    if meter is None:
        return detail(NOT_FOUND, 404)
    period = period_params(request)
    if isinstance(period, Response):
        return period
    start, end = period
    group_by = request.query_params.get("group_by")
    if group_by is not None and group_by not in GROUPINGS:
        return json_response(
            {"group_by": [f"Select a valid choice. {group_by} is not one of the available choices."]}, 400
        )
    size = page_size_of(request, CONSUMPTION_PAGE_DEFAULT, CONSUMPTION_PAGE_CAP)
    rows = world.consumption(ref, meter, start, end)
    ascending = request.query_params.get("order_by") == "period"
    if group_by:
        buckets = grouped(rows, group_by, start, end)
        if not ascending:
            buckets.reverse()
        return page_response(
            request,
            buckets,
            size,
            lambda b: {
                "consumption": round(b[2] / 1000, 3),
                "interval_start": _local(b[0]),
                "interval_end": _local(b[1]),
            },
        )
    if not ascending:
        rows.reverse()
    return page_response(
        request,
        rows,
        size,
        lambda r: {
            "consumption": r[1] / 1000,
            "interval_start": _local(r[0] * SLOT),
            "interval_end": _local((r[0] + 1) * SLOT),
        },
    )


# --- accounts and meter points -----------------------------------------------------------------------


def _account_json(world: World, account: AccountSpec) -> dict[str, Any]:
    properties = []
    for prop in account.properties:
        electricity = []
        for e in prop.electricity:
            point: dict[str, Any] = {"mpan": e.mpan, "profile_class": e.profile_class}
            if e.profile_class == 2:
                point["consumption_day"] = round(e.consumption_standard * 0.58)
                point["consumption_night"] = e.consumption_standard - point["consumption_day"]
            else:
                point["consumption_standard"] = e.consumption_standard
            point["meters"] = [
                {
                    "serial_number": m.serial,
                    "registers": [
                        {"identifier": r.identifier, "rate": r.rate, "is_settlement_register": r.is_settlement_register}
                        for r in (m.registers or ())
                    ],
                }
                for m in e.meters
            ]
            point["agreements"] = _agreements(e.agreements)
            point["is_export"] = e.is_export
            electricity.append(point)
        gas = [
            {
                "mprn": g.mprn,
                "consumption_standard": g.consumption_standard,
                "meters": [{"serial_number": m.serial} for m in g.meters],
                "agreements": _agreements(g.agreements),
            }
            for g in prop.gas
        ]
        properties.append(
            {
                "id": prop.id,
                "moved_in_at": _local(prop.moved_in.timestamp()),
                "moved_out_at": _local(prop.moved_out.timestamp()) if prop.moved_out else None,
                "address_line_1": prop.address_line_1,
                "address_line_2": prop.address_line_2,
                "address_line_3": prop.address_line_3,
                "town": prop.town,
                "county": prop.county,
                "postcode": prop.postcode,
                "electricity_meter_points": electricity,
                "gas_meter_points": gas,
            }
        )
    return {"number": account.number, "properties": properties}


def _agreements(agreements: Any) -> list[dict[str, Any]]:
    return [
        {
            "tariff_code": a.tariff_code,
            "valid_from": _local(a.valid_from.timestamp()),
            "valid_to": _local(a.valid_to.timestamp()) if a.valid_to else None,
        }
        for a in agreements
    ]


async def account_list(request: Request) -> Response:
    account = authenticate(request)
    if isinstance(account, Response):
        return account
    return detail(PERMISSION_DENIED, 403)


async def account_detail(request: Request) -> Response:
    number = request.path_params["number"]
    if not ACCOUNT_RE.fullmatch(number):
        return Response(HTML_404, 404, media_type="text/html")
    account = authenticate(request)
    if isinstance(account, Response):
        return account
    if number != account.number:
        return detail(PERMISSION_DENIED, 403)
    return json_response(_account_json(world_of(request), account))


async def meter_point(request: Request) -> Response:
    world = world_of(request)
    ref = world.point("electricity", request.path_params["point"])
    if ref is None:
        return detail(NOT_FOUND, 404)
    assert isinstance(ref.point, ElectricityPointSpec)
    return json_response(
        {"gsp": f"_{ref.prop.region}", "mpan": ref.point.mpan, "profile_class": ref.point.profile_class}
    )


# Postcode areas to GSP groups, for the lookup; scenario properties' own postcodes take precedence.
_AREA_REGION = {
    "AL": "A",
    "CB": "A",
    "CM": "A",
    "CO": "A",
    "IP": "A",
    "LU": "A",
    "NR": "A",
    "SG": "A",
    "MK": "A",
    "DE": "B",
    "LE": "B",
    "NG": "B",
    "NN": "B",
    "LN": "B",
    "E": "C",
    "EC": "C",
    "N": "C",
    "NW": "C",
    "SE": "C",
    "SW": "C",
    "W": "C",
    "WC": "C",
    "CH": "D",
    "L": "D",
    "LL": "D",
    "B": "E",
    "CV": "E",
    "WV": "E",
    "WS": "E",
    "DY": "E",
    "DH": "F",
    "NE": "F",
    "SR": "F",
    "TS": "F",
    "DL": "F",
    "M": "G",
    "BL": "G",
    "PR": "G",
    "WN": "G",
    "LA": "G",
    "OX": "H",
    "RG": "H",
    "SO": "H",
    "PO": "H",
    "BH": "H",
    "GU": "H",
    "SP": "H",
    "BN": "J",
    "CT": "J",
    "ME": "J",
    "TN": "J",
    "RH": "J",
    "CF": "K",
    "NP": "K",
    "SA": "K",
    "BS": "L",
    "EX": "L",
    "PL": "L",
    "TQ": "L",
    "TR": "L",
    "TA": "L",
    "LS": "M",
    "BD": "M",
    "HU": "M",
    "S": "M",
    "YO": "M",
    "WF": "M",
    "HX": "M",
    "EH": "N",
    "G": "N",
    "KA": "N",
    "ML": "N",
    "TD": "N",
    "DG": "N",
    "AB": "P",
    "IV": "P",
    "DD": "P",
    "PH": "P",
    "KW": "P",
}


async def grid_supply_points(request: Request) -> Response:
    postcode = request.query_params.get("postcode")
    if postcode is None:
        rows = list(REGIONS)
    else:
        wanted = re.sub(r"\s+", "", postcode.upper())
        known = {
            re.sub(r"\s+", "", p.postcode.upper()): p.region
            for a in world_of(request).scenario.accounts
            for p in a.properties
        }
        region = known.get(wanted)
        if region is None:
            m = re.match(r"([A-Z]{1,2})\d", wanted)
            region = _AREA_REGION.get(m.group(1)) if m and len(wanted) >= 5 else None
        rows = [region] if region else []
    return page_response(request, rows, 100, lambda r: {"group_id": f"_{r}"})


# --- products and rates ------------------------------------------------------------------------------


def _bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return raw.lower() in ("true", "1", "yes")


def _product_summary(request: Request, p: ProductSpec) -> dict[str, Any]:
    base = f"{request.url.scheme}://{request.url.netloc}/v1/products/{p.code}/"
    return {
        "code": p.code,
        "direction": p.direction,
        "full_name": p.full_name,
        "display_name": p.display_name,
        "description": p.description,
        "is_variable": p.is_variable,
        "is_green": p.is_green,
        "is_tracker": p.is_tracker,
        "is_prepay": p.is_prepay,
        "is_business": p.is_business,
        "is_restricted": p.is_restricted,
        "term": p.term,
        "available_from": _local(p.available_from.timestamp()),
        "available_to": _local(p.available_to.timestamp()) if p.available_to else None,
        "links": [{"href": base, "method": "GET", "rel": "self"}],
        "brand": p.brand,
    }


async def product_list(request: Request) -> Response:
    world = world_of(request)
    raw_at = request.query_params.get("available_at")
    try:
        at = parse_api_datetime(raw_at).timestamp() if raw_at else world.now()
    except BadDateTime:
        return json_response({"available_at": ["Enter a valid date/time."]}, 400)
    historical = _bool_param(request, "is_historical")
    rows = []
    for p in world.catalogue.products.values():
        on_sale = p.available_from.timestamp() <= at and (p.available_to is None or at < p.available_to.timestamp())
        if not on_sale and not (historical and p.available_from.timestamp() <= at):
            continue
        if any(
            _bool_param(request, flag) not in (None, getattr(p, flag))
            for flag in ("is_variable", "is_green", "is_tracker", "is_prepay", "is_business")
        ):
            continue
        brand = request.query_params.get("brand")
        if brand and brand != p.brand:
            continue
        rows.append(p)
    rows.sort(key=lambda p: p.code)
    return page_response(request, rows, PRODUCTS_PAGE, lambda p: _product_summary(request, p))


# Day-ahead products quote their nominal unit price in the product detail, time-of-use products the
# standard (day) price: neither is the published rate in force.
NOMINAL_IN_DETAIL = frozenset({"agile", "agile_outgoing", "tracker", "go", "intelligent", "cosy"})


def _tariff_json(request: Request, world: World, tariff: Tariff, at: float) -> dict[str, Any]:
    base = f"{request.url.scheme}://{request.url.netloc}/v1/products/{tariff.product.code}/{tariff.fuel}-tariffs/{tariff.code}/"
    cat = world.catalogue

    def price(rate_type: str) -> float:
        nominal = round(cat.base_price(tariff, rate_type), 4)
        if rate_type != "standing-charges" and tariff.product.kind in NOMINAL_IN_DETAIL:
            # Quoted without looking at the published rates: an Agile tariff's are every half-hour since
            # launch, and working them out for every region made this page take seconds.
            return nominal
        records = cat.records(tariff.code, rate_type, cat.horizon(tariff.product, world.now()))
        for r in records:
            if (
                r.valid_from <= at
                and (r.valid_to is None or at < r.valid_to)
                and r.payment_method in (None, "DIRECT_DEBIT")
            ):
                return r.value_exc_vat
        return nominal

    standing = price("standing-charges")
    out: dict[str, Any] = {
        "code": tariff.code,
        "standing_charge_exc_vat": standing,
        "standing_charge_inc_vat": round(standing * 1.05, 6),
        "online_discount_exc_vat": 0,
        "online_discount_inc_vat": 0,
        "dual_fuel_discount_exc_vat": 0,
        "dual_fuel_discount_inc_vat": 0,
        "exit_fees_exc_vat": 0,
        "exit_fees_inc_vat": 0,
        "exit_fees_type": "NONE",
        "links": [
            {"href": f"{base}{t}/", "method": "GET", "rel": t.replace("-", "_")}
            for t in ("standing-charges", *[t for t in tariff.rate_types if t != "standing-charges"])
        ],
    }
    for rate_type in tariff.rate_types:
        if rate_type == "standing-charges":
            continue
        name = rate_type.replace("-unit-rates", "_unit_rate")
        value = price(rate_type)
        out[f"{name}_exc_vat"] = value
        out[f"{name}_inc_vat"] = round(value * 1.05, 6)
    return out


async def product_detail(request: Request) -> Response:
    world = world_of(request)
    product = world.catalogue.product(request.path_params["code"])
    if product is None:
        return detail("No Product matches the given query.", 404)
    raw_at = request.query_params.get("tariffs_active_at")
    try:
        at = parse_api_datetime(raw_at).timestamp() if raw_at else world.now()
    except BadDateTime:
        return json_response({"tariffs_active_at": ["Enter a valid date/time."]}, 400)
    body = _product_summary(request, product)
    del body["direction"]
    links = body.pop("links")
    brand = body.pop("brand")
    body["tariffs_active_at"] = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    key = product.payment_key
    for field, fuel, registers in (
        ("single_register_electricity_tariffs", "electricity", "1R"),
        ("dual_register_electricity_tariffs", "electricity", "2R"),
        ("single_register_gas_tariffs", "gas", "1R"),
    ):
        tariffs = world.catalogue.tariffs_of(product, fuel, registers)
        body[field] = {f"_{region}": {key: _tariff_json(request, world, t, at)} for region, t in tariffs.items()}
    body["sample_quotes"] = _sample_quotes(world, product, at)
    body["sample_consumption"] = {
        "electricity_single_rate": {"electricity_standard": 2700},
        "electricity_dual_rate": {"electricity_day": 2262, "electricity_night": 1638},
        "dual_fuel_single_rate": {"electricity_standard": 2700, "gas_standard": 11500},
        "dual_fuel_dual_rate": {"electricity_day": 2262, "electricity_night": 1638, "gas_standard": 11500},
    }
    body["links"] = links
    body["brand"] = brand
    return json_response(body)


def _sample_quotes(world: World, product: ProductSpec, at: float) -> dict[str, Any]:
    cat = world.catalogue
    out: dict[str, Any] = {}
    for region in REGIONS:
        quotes: dict[str, Any] = {}
        single = cat.tariff(f"E-1R-{product.code}-{region}")
        dual = cat.tariff(f"E-2R-{product.code}-{region}")
        gas = cat.tariff(f"G-1R-{product.code}-{region}")

        def annual(t: Tariff | None, kwh: dict[str, int]) -> float:
            if t is None:
                return 0.0
            total = cat.base_price(t, "standing-charges") * 365
            for rate, amount in kwh.items():
                total += cat.base_price(t, rate) * amount
            return total

        e1 = annual(single, {"standard-unit-rates": 2700})
        e2 = annual(dual, {"day-unit-rates": 2262, "night-unit-rates": 1638})
        g = annual(gas, {"standard-unit-rates": 11500})
        for name, value, present in (
            ("electricity_single_rate", e1, single),
            ("electricity_dual_rate", e2, dual),
            ("dual_fuel_single_rate", e1 + g, single and gas),
            ("dual_fuel_dual_rate", e2 + g, dual and gas),
        ):
            if present:
                quotes[name] = {"annual_cost_inc_vat": round(value * 1.05), "annual_cost_exc_vat": round(value)}
        if quotes:
            out[f"_{region}"] = {product.payment_key: quotes}
    return out


async def rates(request: Request) -> Response:
    world = world_of(request)
    fuel = request.path_params["fuel"]
    rate_type = request.path_params["rate_type"]
    product = world.catalogue.product(request.path_params["code"])
    tariff = world.catalogue.tariff(request.path_params["tariff"])
    if (
        product is None
        or tariff is None
        or tariff.product.code != product.code
        or f"{tariff.fuel}" != fuel
        or rate_type not in RATE_TYPES
    ):
        return detail(NOT_FOUND, 404)
    if rate_type not in tariff.rate_types:
        return json_response(
            {
                "detail": f"{tariff.code} has no {rate_type}: a "
                f"{'dual' if tariff.registers == '2R' else 'single'}-register tariff publishes "
                f"{' and '.join(tariff.rate_types)}."
            },
            400,
        )
    period = period_params(request)
    if isinstance(period, Response):
        return period
    start, end = period
    size = page_size_of(request, RATES_PAGE_DEFAULT, RATES_PAGE_CAP)
    records = world.catalogue.records(tariff.code, rate_type, world.catalogue.horizon(product, world.now()))
    if start is not None or end is not None:
        lo = start if start is not None else float("-inf")
        hi = end if end is not None else float("inf")
        records = [r for r in records if r.valid_from < hi and (r.valid_to is None or r.valid_to > lo)]
    return page_response(
        request,
        records,
        size,
        lambda r: {
            "value_exc_vat": r.value_exc_vat,
            "value_inc_vat": r.value_inc_vat,
            "valid_from": _z(r.valid_from),
            "valid_to": _z(r.valid_to) if r.valid_to is not None else None,
            "payment_method": r.payment_method,
        },
        headers={"Cache-Control": "max-age=300"},
    )


async def not_found(request: Request) -> Response:
    return Response(HTML_404, 404, media_type="text/html")


ROUTES = [
    Route("/v1/accounts/", account_list, name="GET /v1/accounts/"),
    Route("/v1/accounts/{number}/", account_detail, name="GET /v1/accounts/{number}/"),
    Route("/v1/electricity-meter-points/{point}/", meter_point, name="GET /v1/electricity-meter-points/{mpan}/"),
    Route(
        "/v1/electricity-meter-points/{point}/meters/{serial}/consumption/",
        consumption,
        name="GET /v1/electricity-meter-points/{mpan}/meters/{serial}/consumption/",
    ),
    Route(
        "/v1/gas-meter-points/{point}/meters/{serial}/consumption/",
        consumption,
        name="GET /v1/gas-meter-points/{mprn}/meters/{serial}/consumption/",
    ),
    Route("/v1/industry/grid-supply-points/", grid_supply_points, name="GET /v1/industry/grid-supply-points/"),
    Route("/v1/products/", product_list, name="GET /v1/products/"),
    Route("/v1/products/{code}/", product_detail, name="GET /v1/products/{code}/"),
    Route(
        "/v1/products/{code}/{fuel}-tariffs/{tariff}/{rate_type}/",
        rates,
        name="GET /v1/products/{code}/{fuel}-tariffs/{tariff}/{rate_type}/",
    ),
]


def route_name(path: str, method: str = "GET") -> str:
    """The route template a path belongs to, for the request log's counts."""
    for route in ROUTES:
        match, _ = route.matches({"type": "http", "path": path, "method": method})
        if match.name != "NONE":
            return str(route.name).replace("GET ", f"{method} ", 1)
    return f"{method} {path}"
