"""Scenarios: the TOML description of a simulated Octopus world.

A scenario names the accounts, their properties, meter points, meters, agreements and households, and a
product catalogue. Loading validates everything and reports the first problem in one line that names the
field, e.g. ``demo.toml: accounts[0].properties[1].electricity[0].mpan: expected 13 digits, got '19x'``.

Dates may be absolute (``2025-03-30``, ``2025-03-30T01:00:00Z``) or relative to the day the simulated
clock starts (``-730d``, ``+1d``), so the shipped scenarios always hold the same amount of history.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from octoscope.simulator.timeutil import parse_local_hhmm, parse_scenario_instant

REGIONS = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P")
PRODUCT_KINDS = (
    "flexible",
    "fixed",
    "agile",
    "go",
    "intelligent",
    "tracker",
    "cosy",
    "outgoing",
    "agile_outgoing",
)
MAX_FLEET = 10_000_000  # fleet identifiers encode the account's index in 7 decimal digits
_ACCOUNT_RE = re.compile(r"A-[0-9A-F]{8}")
_DEVICE_RE = re.compile(r"[0-9A-F]{2}(-[0-9A-F]{2}){7}")


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message is one line naming the file and the field."""


# --- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A daily local-time window, e.g. 23:30-05:30 (may cross midnight)."""

    start: float  # local hours
    end: float

    def contains(self, hour: float) -> bool:
        if self.start <= self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


@dataclass(frozen=True)
class ProductSpec:
    code: str
    kind: str
    display_name: str
    full_name: str
    description: str
    direction: str
    is_variable: bool
    is_green: bool
    is_tracker: bool
    is_prepay: bool
    is_business: bool
    is_restricted: bool
    term: int | None
    brand: str
    available_from: datetime
    available_to: datetime | None
    payment_key: str  # "direct_debit_monthly" or "varying"
    dual_payment: bool  # DIRECT_DEBIT and NON_DIRECT_DEBIT rows, or payment_method null
    electricity_1r: bool
    electricity_2r: bool
    gas: bool
    # Base prices for region _A, p/kWh and p/day, exclusive of VAT.
    unit_rate: float
    day_rate: float
    night_rate: float
    off_peak_rate: float
    peak_rate: float
    standing_charge: float
    gas_unit_rate: float
    gas_standing_charge: float
    price_changes: str  # "quarterly" or "none"
    off_peak: tuple[Window, ...]
    peak: tuple[Window, ...]


@dataclass(frozen=True)
class RegisterSpec:
    identifier: str
    rate: str
    is_settlement_register: bool = True


@dataclass(frozen=True)
class MeterSpec:
    serial: str
    installed: datetime | None
    removed: datetime | None
    registers: tuple[RegisterSpec, ...] | None  # None for gas meters (no "registers" key)
    make_and_type: str = "SIM-MAKE-1"


@dataclass(frozen=True)
class AgreementSpec:
    tariff_code: str
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True)
class ElectricityPointSpec:
    mpan: str
    profile_class: int
    is_export: bool
    smart: bool
    meter_type: str
    home_mini: str | None
    consumption_standard: int
    meters: tuple[MeterSpec, ...]
    agreements: tuple[AgreementSpec, ...]


@dataclass(frozen=True)
class GasPointSpec:
    mprn: str
    smets: int  # 1: kWh, 2: m³
    smart: bool
    device_id: str | None
    consumption_standard: int
    meters: tuple[MeterSpec, ...]
    agreements: tuple[AgreementSpec, ...]


@dataclass(frozen=True)
class ApplianceSpec:
    name: str
    kw: float
    minutes: float
    per_week: float
    window: Window


@dataclass(frozen=True)
class EVSpec:
    device_id: str
    provider: str
    make: str
    model: str
    charger_kw: float
    battery_kwh: float
    plug_in_probability: float
    mean_session_kwh: float
    arrival: float
    ready_by: float
    timer: float | None
    boost_probability: float
    top_up_probability: float
    onboarded: datetime | None


@dataclass(frozen=True)
class HouseholdSpec:
    baseload_w: float
    activity: float  # scales occupancy peaks
    solar_kwp: float
    gas_heating_kwh_per_degree: float
    gas_hot_water_kwh: float
    calorific_value: float
    appliances: tuple[ApplianceSpec, ...]
    ev: EVSpec | None


@dataclass(frozen=True)
class PropertySpec:
    id: int
    moved_in: datetime
    moved_out: datetime | None
    address_line_1: str
    address_line_2: str
    address_line_3: str
    town: str
    county: str
    postcode: str
    region: str
    electricity: tuple[ElectricityPointSpec, ...]
    gas: tuple[GasPointSpec, ...]
    household: HouseholdSpec


@dataclass(frozen=True)
class AccountSpec:
    number: str
    api_key: str
    user_id: int
    email: str
    properties: tuple[PropertySpec, ...]


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    probability: float
    route: str = "*"
    params: dict[str, str] = field(default_factory=dict)
    times: int | None = None


@dataclass(frozen=True)
class RevisionsSpec:
    """Late and revised consumption, as the real API delivers it. All zero: published values never change."""

    days: int = 0  # a half-hour may still change until this many whole local days after its own day ends
    probability: float = 0.0  # share of half-hours in that window first served with a provisional value
    late_probability: float = 0.0  # share of the newest published day's half-hours missing for 24 h

    @property
    def enabled(self) -> bool:
        return (self.days > 0 and self.probability > 0) or self.late_probability > 0


@dataclass(frozen=True)
class StatementsSpec:
    """Monthly statements (``simulator/statements.py``) and the discrepancies planted in them. A planted one
    names a statement by how many months before the current one it covers (1: last month)."""

    months: int = 6  # closed monthly statements, the newest for last month; 0: none
    opening_balance: int = 0  # pence, positive in credit, before the oldest statement
    direct_debit: int = 10000  # pence paid on the 15th of each month
    estimated_read: int | None = None  # billed on an estimate, corrected on the next statement
    standing_charge_error: int | None = None  # an electricity standing charge above the published one
    missed_export: int | None = None  # no export credit at all


@dataclass(frozen=True)
class FleetSpec:
    """``[fleet]``: this many extra accounts generated from ``seed`` (simulator/fleet.py), each only when a
    request first names it, so a fleet of thousands costs nothing until it is synced."""

    accounts: int
    seed: int


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    anchor: datetime  # the clock's start: relative dates count from its local day
    consumption_ready_hour: float  # local hour on the next day when a day's consumption appears
    agile_publish_hour: float
    graphql_hourly_allowance: int
    token_ttl_seconds: int
    refresh_ttl_seconds: int
    telemetry_history_days: int
    completed_dispatch_hours: int
    products: tuple[ProductSpec, ...]
    accounts: tuple[AccountSpec, ...]
    faults: tuple[FaultSpec, ...]
    revisions: RevisionsSpec = RevisionsSpec()
    statements: StatementsSpec = StatementsSpec()
    fleet: FleetSpec | None = None


# --- parsing -----------------------------------------------------------------------------------------

_KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "flexible": {
        "display_name": "Flexible Octopus",
        "is_variable": True,
        "term": None,
        "payment_key": "varying",
        "dual_payment": True,
        "electricity_2r": True,
        "gas": True,
        "price_changes": "quarterly",
    },
    "fixed": {
        "display_name": "Octopus 12M Fixed",
        "is_variable": False,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": True,
        "electricity_2r": True,
        "gas": True,
        "unit_rate": 23.1,
        "standing_charge": 43.0,
        "price_changes": "none",
    },
    "agile": {
        "display_name": "Agile Octopus",
        "is_variable": True,
        "is_green": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": False,
    },
    "go": {
        "display_name": "Octopus Go",
        "is_variable": True,
        "is_green": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": True,
        "off_peak_rate": 8.1,
        "unit_rate": 26.5,
        "off_peak": "23:30-05:30",
        "price_changes": "quarterly",
    },
    "intelligent": {
        "display_name": "Intelligent Octopus Go",
        "is_variable": True,
        "is_green": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": True,
        "off_peak_rate": 6.7,
        "unit_rate": 26.0,
        "off_peak": "23:30-05:30",
        "price_changes": "quarterly",
    },
    "tracker": {
        "display_name": "Octopus Tracker",
        "is_variable": True,
        "is_tracker": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": False,
        "gas": True,
    },
    "cosy": {
        "display_name": "Cosy Octopus",
        "is_variable": True,
        "is_green": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": True,
        "unit_rate": 25.0,
        "off_peak_rate": 12.5,
        "peak_rate": 37.5,
        "off_peak": "04:00-07:00,13:00-16:00,22:00-24:00",
        "peak": "16:00-19:00",
        "price_changes": "quarterly",
    },
    "outgoing": {
        "display_name": "Outgoing Octopus",
        "direction": "EXPORT",
        "is_variable": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": False,
        "unit_rate": 15.0,
        "standing_charge": 0.0,
    },
    "agile_outgoing": {
        "display_name": "Agile Outgoing Octopus",
        "direction": "EXPORT",
        "is_variable": True,
        "is_green": True,
        "term": 12,
        "payment_key": "direct_debit_monthly",
        "dual_payment": False,
        "standing_charge": 0.0,
    },
}


class _Reader:
    """Walks the parsed TOML keeping a path for error messages."""

    def __init__(self, source: str, anchor: datetime) -> None:
        self.source = source
        self.anchor = anchor

    def fail(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {path}: {message}")

    def table(self, data: Any, path: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(path, "expected a table")
        return data

    def tables(self, data: dict[str, Any], key: str, path: str, *, required: bool = False) -> list[dict[str, Any]]:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{path}{key}", "is required")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{path}{key}", "expected an array of tables ([[...]])")
        return value

    def get(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(f"{path}{key}", "is required")
            return default
        value = data[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(f"{path}{key}", f"expected a number, got {value!r}")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{path}{key}", f"expected {names}, got {value!r}")
        return value

    def number(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        default: float | None = None,
        low: float | None = None,
        high: float | None = None,
    ) -> float:
        value = float(self.get(data, key, path, (int, float), ... if default is None else default))
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(f"{path}{key}", f"must be between {low} and {high}, got {value}")
        return value

    def instant(self, data: dict[str, Any], key: str, path: str, default: Any = ...) -> datetime | None:
        value = self.get(data, key, path, (str, date, datetime), default)
        if value is None:
            return None
        try:
            return parse_scenario_instant(value, self.anchor)
        except ValueError:
            raise self.fail(
                f"{path}{key}", f"expected a date, a datetime or a relative day like -30d, got {value!r}"
            ) from None

    def hhmm(self, data: dict[str, Any], key: str, path: str, default: str | None) -> float | None:
        value = self.get(data, key, path, str, default)
        if value is None:
            return None
        try:
            return parse_local_hhmm(value)
        except ValueError as err:
            raise self.fail(f"{path}{key}", str(err)) from None

    def windows(self, text: str, path: str) -> tuple[Window, ...]:
        out = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            m = re.fullmatch(r"(\d{1,2}:\d{2})-(\d{1,2}:\d{2})", part)
            if not m:
                raise self.fail(path, f"expected windows like 23:30-05:30, got {text!r}")
            out.append(Window(parse_local_hhmm(m.group(1)), parse_local_hhmm(m.group(2)) % 24 or 24.0))
        return tuple(out)


def _product(r: _Reader, d: dict[str, Any], path: str) -> ProductSpec:
    code = r.get(d, "code", path, str)
    if not re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", code):
        raise r.fail(f"{path}code", f"expected an upper-case product code like VAR-22-11-01, got {code!r}")
    kind = r.get(d, "kind", path, str)
    if kind not in PRODUCT_KINDS:
        raise r.fail(f"{path}kind", f"expected one of {', '.join(PRODUCT_KINDS)}, got {kind!r}")
    defaults: dict[str, Any] = {
        "direction": "IMPORT",
        "is_green": False,
        "is_tracker": False,
        "term": 12,
        "electricity_1r": True,
        "electricity_2r": False,
        "gas": False,
        "unit_rate": 24.5,
        "day_rate": 30.0,
        "night_rate": 12.6,
        "off_peak_rate": 7.5,
        "peak_rate": 36.0,
        "standing_charge": 45.0,
        "gas_unit_rate": 5.7,
        "gas_standing_charge": 27.6,
        "price_changes": "none",
        "off_peak": "",
        "peak": "",
    } | _KIND_DEFAULTS[kind]

    def opt(key: str, kind_: type | tuple[type, ...]) -> Any:
        return r.get(d, key, path, kind_, defaults.get(key))

    term = d.get("term", defaults["term"])
    if term is not None and (not isinstance(term, int) or isinstance(term, bool)):
        raise r.fail(f"{path}term", f"expected whole months or omitted, got {term!r}")
    changes = opt("price_changes", str)
    if changes not in ("quarterly", "none"):
        raise r.fail(f"{path}price_changes", f"expected 'quarterly' or 'none', got {changes!r}")
    direction = opt("direction", str)
    if direction not in ("IMPORT", "EXPORT"):
        raise r.fail(f"{path}direction", f"expected IMPORT or EXPORT, got {direction!r}")
    available_from = r.instant(d, "available_from", path, "-1500d")
    assert available_from is not None
    return ProductSpec(
        code=code,
        kind=kind,
        display_name=opt("display_name", str),
        full_name=r.get(d, "full_name", path, str, f"{defaults['display_name']} {code}"),
        description=r.get(d, "description", path, str, f"Simulated {defaults['display_name']} tariff."),
        direction=direction,
        is_variable=bool(opt("is_variable", bool)),
        is_green=bool(opt("is_green", bool)),
        is_tracker=bool(opt("is_tracker", bool)),
        is_prepay=bool(r.get(d, "is_prepay", path, bool, False)),
        is_business=bool(r.get(d, "is_business", path, bool, False)),
        is_restricted=bool(r.get(d, "is_restricted", path, bool, kind == "intelligent")),
        term=term,
        brand=r.get(d, "brand", path, str, "OCTOPUS_ENERGY"),
        available_from=available_from,
        available_to=r.instant(d, "available_to", path, None),
        payment_key=opt("payment_key", str),
        dual_payment=bool(opt("dual_payment", bool)),
        electricity_1r=bool(opt("electricity_1r", bool)),
        electricity_2r=bool(opt("electricity_2r", bool)),
        gas=bool(opt("gas", bool)),
        unit_rate=r.number(d, "unit_rate", path, defaults["unit_rate"], -100, 500),
        day_rate=r.number(d, "day_rate", path, defaults["day_rate"], 0, 500),
        night_rate=r.number(d, "night_rate", path, defaults["night_rate"], 0, 500),
        off_peak_rate=r.number(d, "off_peak_rate", path, defaults["off_peak_rate"], 0, 500),
        peak_rate=r.number(d, "peak_rate", path, defaults["peak_rate"], 0, 500),
        standing_charge=r.number(d, "standing_charge", path, defaults["standing_charge"], 0, 500),
        gas_unit_rate=r.number(d, "gas_unit_rate", path, defaults["gas_unit_rate"], 0, 100),
        gas_standing_charge=r.number(d, "gas_standing_charge", path, defaults["gas_standing_charge"], 0, 500),
        price_changes=changes,
        off_peak=r.windows(opt("off_peak", str), f"{path}off_peak"),
        peak=r.windows(opt("peak", str), f"{path}peak"),
    )


def _meters(r: _Reader, d: dict[str, Any], path: str, *, gas: bool) -> tuple[MeterSpec, ...]:
    out = []
    for i, m in enumerate(r.tables(d, "meters", path, required=True)):
        p = f"{path}meters[{i}]."
        serial = r.get(m, "serial", p, str)
        if not serial or len(serial) > 20:
            raise r.fail(f"{p}serial", f"expected a meter serial number, got {serial!r}")
        registers: tuple[RegisterSpec, ...] | None = None
        if not gas:
            regs = m.get("registers", ["1:STANDARD"])
            if not isinstance(regs, list) or not all(isinstance(x, str) and ":" in x for x in regs):
                raise r.fail(f"{p}registers", 'expected a list like ["1:STANDARD"] or ["DY:DAY", "NT:NIGHT"]')
            registers = tuple(RegisterSpec(*x.split(":", 1)) for x in regs)
        out.append(
            MeterSpec(
                serial=serial,
                installed=r.instant(m, "installed", p, None),
                removed=r.instant(m, "removed", p, None),
                registers=registers,
                make_and_type=r.get(m, "make_and_type", p, str, "SIM-MAKE-1"),
            )
        )
    return tuple(out)


def _agreements(r: _Reader, d: dict[str, Any], path: str, prefix: str) -> tuple[AgreementSpec, ...]:
    out = []
    for i, a in enumerate(r.tables(d, "agreements", path, required=True)):
        p = f"{path}agreements[{i}]."
        code = r.get(a, "tariff", p, str)
        if not re.fullmatch(rf"{prefix}-[12]R-[A-Z0-9-]+-[A-P]", code):
            raise r.fail(f"{p}tariff", f"expected a tariff code like {prefix}-1R-VAR-22-11-01-J, got {code!r}")
        start = r.instant(a, "from", p)
        assert start is not None
        end = r.instant(a, "to", p, None)
        if end is not None and end <= start:
            raise r.fail(f"{p}to", "must be after 'from'")
        out.append(AgreementSpec(code, start, end))
    return tuple(sorted(out, key=lambda a: a.valid_from))


def _device_id(r: _Reader, d: dict[str, Any], key: str, path: str) -> str | None:
    value = r.get(d, key, path, str, None)
    if value is not None and not _DEVICE_RE.fullmatch(value):
        raise r.fail(f"{path}{key}", f"expected an EUI-64 like 00-00-00-FF-FE-00-00-01, got {value!r}")
    return str(value) if value is not None else None


def _household(r: _Reader, d: dict[str, Any], path: str) -> HouseholdSpec:
    appliances = []
    for i, a in enumerate(r.tables(d, "appliances", path)):
        p = f"{path}appliances[{i}]."
        appliances.append(
            ApplianceSpec(
                name=r.get(a, "name", p, str),
                kw=r.number(a, "kw", p, None, 0.1, 15),
                minutes=r.number(a, "minutes", p, None, 1, 600),
                per_week=r.number(a, "per_week", p, None, 0, 70),
                window=r.windows(r.get(a, "window", p, str, "07:00-22:00"), f"{p}window")[0],
            )
        )
    ev = None
    if "ev" in d:
        e = r.table(d["ev"], f"{path}ev")
        p = f"{path}ev."
        device_id = r.get(e, "device_id", p, str, "00000000-0000-4000-8000-000000000001")
        ev = EVSpec(
            device_id=device_id,
            provider=r.get(e, "provider", p, str, "OHME"),
            make=r.get(e, "make", p, str, "SimCharge"),
            model=r.get(e, "model", p, str, "Home 7"),
            charger_kw=r.number(e, "charger_kw", p, 7.0, 1.4, 22),
            battery_kwh=r.number(e, "battery_kwh", p, 64.0, 10, 200),
            plug_in_probability=r.number(e, "plug_in_probability", p, 0.45, 0, 1),
            mean_session_kwh=r.number(e, "mean_session_kwh", p, 18.0, 1, 150),
            arrival=r.hhmm(e, "arrival", p, "18:00") or 18.0,
            ready_by=r.hhmm(e, "ready_by", p, "07:00") or 7.0,
            timer=r.hhmm(e, "timer", p, None),
            boost_probability=r.number(e, "boost_probability", p, 0.05, 0, 1),
            top_up_probability=r.number(e, "top_up_probability", p, 0.03, 0, 1),
            onboarded=r.instant(e, "onboarded", p, None),
        )
    return HouseholdSpec(
        baseload_w=r.number(d, "baseload_w", path, 180.0, 10, 5000),
        activity=r.number(d, "activity", path, 1.0, 0, 10),
        solar_kwp=r.number(d, "solar_kwp", path, 0.0, 0, 50),
        gas_heating_kwh_per_degree=r.number(d, "gas_heating_kwh_per_degree", path, 3.2, 0, 50),
        gas_hot_water_kwh=r.number(d, "gas_hot_water_kwh", path, 6.0, 0, 100),
        calorific_value=r.number(d, "calorific_value", path, 39.5, 30, 45),
        appliances=tuple(appliances),
        ev=ev,
    )


def _property(r: _Reader, d: dict[str, Any], path: str) -> PropertySpec:
    region = r.get(d, "region", path, str)
    if region not in REGIONS:
        raise r.fail(f"{path}region", f"expected a region letter {'/'.join(REGIONS)}, got {region!r}")
    moved_in = r.instant(d, "moved_in", path)
    assert moved_in is not None
    electricity = []
    for i, e in enumerate(r.tables(d, "electricity", path)):
        p = f"{path}electricity[{i}]."
        mpan = r.get(e, "mpan", p, str)
        if not re.fullmatch(r"\d{13}", mpan):
            raise r.fail(f"{p}mpan", f"expected 13 digits, got {mpan!r}")
        profile_class = int(r.number(e, "profile_class", p, 1, 0, 8))
        electricity.append(
            ElectricityPointSpec(
                mpan=mpan,
                profile_class=profile_class,
                is_export=bool(r.get(e, "export", p, bool, False)),
                smart=bool(r.get(e, "smart", p, bool, True)),
                meter_type=r.get(e, "meter_type", p, str, "S2AD"),
                home_mini=_device_id(r, e, "home_mini", p),
                consumption_standard=int(r.number(e, "consumption_standard", p, 2700, 0, 1e6)),
                meters=_meters(r, e, p, gas=False),
                agreements=_agreements(r, e, p, "E"),
            )
        )
    gas = []
    for i, g in enumerate(r.tables(d, "gas", path)):
        p = f"{path}gas[{i}]."
        mprn = r.get(g, "mprn", p, str)
        if not re.fullmatch(r"\d{6,11}", mprn):
            raise r.fail(f"{p}mprn", f"expected 6 to 11 digits, got {mprn!r}")
        smets = int(r.number(g, "smets", p, 2, 1, 2))
        gas.append(
            GasPointSpec(
                mprn=mprn,
                smets=smets,
                smart=bool(r.get(g, "smart", p, bool, True)),
                device_id=_device_id(r, g, "device_id", p),
                consumption_standard=int(r.number(g, "consumption_standard", p, 11500, 0, 1e6)),
                meters=_meters(r, g, p, gas=True),
                agreements=_agreements(r, g, p, "G"),
            )
        )
    household = r.table(d.get("household", {}), f"{path}household")
    return PropertySpec(
        id=int(r.number(d, "id", path, None, 1, 1e12)),
        moved_in=moved_in,
        moved_out=r.instant(d, "moved_out", path, None),
        address_line_1=r.get(d, "address_line_1", path, str, "1 Simulated Street"),
        address_line_2=r.get(d, "address_line_2", path, str, ""),
        address_line_3=r.get(d, "address_line_3", path, str, ""),
        town=r.get(d, "town", path, str, "SIMTOWN"),
        county=r.get(d, "county", path, str, ""),
        postcode=r.get(d, "postcode", path, str, "ZZ1 1ZZ"),
        region=region,
        electricity=tuple(electricity),
        gas=tuple(gas),
        household=_household(r, household, f"{path}household."),
    )


def _account(r: _Reader, d: dict[str, Any], path: str) -> AccountSpec:
    number = r.get(d, "number", path, str)
    if not _ACCOUNT_RE.fullmatch(number):
        raise r.fail(f"{path}number", f"expected A- and 8 upper-case hex digits, got {number!r}")
    api_key = r.get(d, "api_key", path, str)
    if not re.fullmatch(r"sk_(live|test)_[A-Za-z0-9_]{8,}", api_key):
        raise r.fail(f"{path}api_key", "expected an API key like sk_live_ followed by 8 or more letters/digits")
    props = tuple(
        _property(r, p, f"{path}properties[{i}].") for i, p in enumerate(r.tables(d, "properties", path, required=True))
    )
    return AccountSpec(
        number=number,
        api_key=api_key,
        user_id=int(r.number(d, "user_id", path, 9000001, 1, 1e12)),
        email=r.get(d, "email", path, str, "customer@example.invalid"),
        properties=props,
    )


def _fault(r: _Reader, d: dict[str, Any], path: str) -> FaultSpec:
    from octoscope.simulator.faults import KINDS  # noqa: PLC0415 (faults imports this module)

    kind = r.get(d, "kind", path, str)
    if kind not in KINDS:
        raise r.fail(f"{path}kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    params = {k: str(v) for k, v in d.items() if k not in ("kind", "probability", "route", "times")}
    times = d.get("times")
    return FaultSpec(
        kind=kind,
        probability=r.number(d, "probability", path, 1.0, 0, 1),
        route=r.get(d, "route", path, str, "*"),
        params=params,
        times=int(times) if isinstance(times, int) else None,
    )


def _revisions(r: _Reader, d: dict[str, Any], path: str) -> RevisionsSpec:
    for key in d:
        if key not in ("days", "probability", "late_probability"):
            raise r.fail(f"{path}{key}", "unknown key; expected one of days, late_probability, probability")
    days = r.number(d, "days", path, 0, 0, 365)
    if not days.is_integer():
        raise r.fail(f"{path}days", f"expected whole days, got {days}")
    return RevisionsSpec(
        days=int(days),
        probability=r.number(d, "probability", path, 0.0, 0, 1),
        late_probability=r.number(d, "late_probability", path, 0.0, 0, 1),
    )


def _statements(r: _Reader, d: dict[str, Any], path: str) -> StatementsSpec:
    planted = ("estimated_read", "standing_charge_error", "missed_export")
    allowed = ("months", "opening_balance", "direct_debit", *planted)
    for key in d:
        if key not in allowed:
            raise r.fail(f"{path}{key}", f"unknown key; expected one of {', '.join(sorted(allowed))}")
    months = int(r.number(d, "months", path, 6, 0, 120))
    back = {k: int(r.number(d, k, path, 0, 1, 120)) if k in d else None for k in planted}
    return StatementsSpec(
        months=months,
        opening_balance=int(r.number(d, "opening_balance", path, 0, -1e7, 1e7)),
        direct_debit=int(r.number(d, "direct_debit", path, 10000, 0, 1e7)),
        estimated_read=back["estimated_read"],
        standing_charge_error=back["standing_charge_error"],
        missed_export=back["missed_export"],
    )


def _fleet(r: _Reader, d: dict[str, Any], path: str, seed: int) -> FleetSpec:
    for key in d:
        if key not in ("accounts", "seed"):
            raise r.fail(f"{path}{key}", "unknown key; expected one of accounts, seed")
    return FleetSpec(
        accounts=int(r.number(d, "accounts", path, None, 1, MAX_FLEET)),
        seed=int(r.number(d, "seed", path, seed, 0, 2**62)),
    )


def parse_scenario(data: dict[str, Any], source: str, anchor: datetime) -> Scenario:
    r = _Reader(source, anchor)
    known = {
        "name",
        "description",
        "seed",
        "now",
        "consumption_ready_at",
        "agile_publish_at",
        "graphql",
        "products",
        "accounts",
        "faults",
        "revisions",
        "statements",
        "fleet",
    }
    for key in data:
        if key not in known:
            raise r.fail(key, f"unknown key; expected one of {', '.join(sorted(known))}")
    gql = r.table(data.get("graphql", {}), "graphql")
    products = tuple(
        _product(r, p, f"products[{i}].") for i, p in enumerate(r.tables(data, "products", "", required=True))
    )
    codes = {p.code for p in products}
    if len(codes) != len(products):
        raise r.fail("products", "two products share a code")
    seed = int(r.number(data, "seed", "", 1, 0, 2**62))
    fleet = _fleet(r, r.table(data["fleet"], "fleet"), "fleet.", seed) if "fleet" in data else None
    if fleet is not None and not any(p.kind == "flexible" for p in products):
        raise r.fail("fleet", "a fleet needs a [[products]] entry of kind flexible (its default tariff)")
    accounts = tuple(
        _account(r, a, f"accounts[{i}].") for i, a in enumerate(r.tables(data, "accounts", "", required=fleet is None))
    )
    for i, account in enumerate(accounts):
        for j, prop in enumerate(account.properties):
            points_by_fuel: tuple[tuple[str, tuple[ElectricityPointSpec | GasPointSpec, ...]], ...] = (
                ("electricity", prop.electricity),
                ("gas", prop.gas),
            )
            for kind, points in points_by_fuel:
                for k, point in enumerate(points):
                    for n, agreement in enumerate(point.agreements):
                        product = agreement.tariff_code[5:-2]
                        if product not in codes:
                            raise r.fail(
                                f"accounts[{i}].properties[{j}].{kind}[{k}].agreements[{n}].tariff",
                                f"product {product} is not in [[products]]",
                            )
    ready = r.hhmm(data, "consumption_ready_at", "", "06:00")
    publish = r.hhmm(data, "agile_publish_at", "", "16:00")
    return Scenario(
        name=r.get(data, "name", "", str, Path(source).stem),
        description=r.get(data, "description", "", str, ""),
        seed=seed,
        anchor=anchor,
        consumption_ready_hour=ready if ready is not None else 6.0,
        agile_publish_hour=publish if publish is not None else 16.0,
        graphql_hourly_allowance=int(r.number(gql, "hourly_allowance", "graphql.", 100, 1, 1e6)),
        token_ttl_seconds=int(r.number(gql, "token_ttl_seconds", "graphql.", 3600, 10, 1e6)),
        refresh_ttl_seconds=int(r.number(gql, "refresh_ttl_days", "graphql.", 7, 0.001, 365) * 86400),
        telemetry_history_days=int(r.number(gql, "telemetry_history_days", "graphql.", 90, 1, 3650)),
        completed_dispatch_hours=int(r.number(gql, "completed_dispatch_hours", "graphql.", 12, 1, 720)),
        products=products,
        accounts=accounts,
        faults=tuple(_fault(r, f, f"faults[{i}].") for i, f in enumerate(r.tables(data, "faults", ""))),
        revisions=_revisions(r, r.table(data.get("revisions", {}), "revisions"), "revisions."),
        statements=_statements(r, r.table(data.get("statements", {}), "statements"), "statements."),
        fleet=fleet,
    )


def builtin_scenarios() -> list[str]:
    folder = resources.files("octoscope.simulator") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def read_scenario_text(name_or_path: str) -> tuple[str, str]:
    """Return (source name, TOML text) for a built-in scenario name or a file path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            return path.name, path.read_text(encoding="utf-8")
        except OSError as err:
            raise ScenarioError(f"{name_or_path}: cannot read the scenario file ({err.strerror})") from None
    if name_or_path not in builtin_scenarios():
        raise ScenarioError(
            f"no scenario named {name_or_path!r}; built-in ones are {', '.join(builtin_scenarios())}, "
            "or give a path to a .toml file"
        )
    text = (resources.files("octoscope.simulator") / "scenarios" / f"{name_or_path}.toml").read_text("utf-8")
    return f"{name_or_path}.toml", text


def scenario_default_now(text: str, source: str) -> datetime | None:
    """The scenario's own fixed clock start (``now = ...``), if it sets one."""
    data = _parse_toml(text, source)
    value = data.get("now")
    if value is None:
        return None
    try:
        return parse_scenario_instant(value, datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
    except (ValueError, TypeError):
        raise ScenarioError(f"{source}: now: expected an ISO datetime, got {value!r}") from None


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{source}: not valid TOML ({err})") from None


def load_scenario(name_or_path: str, anchor: datetime) -> Scenario:
    source, text = read_scenario_text(name_or_path)
    return parse_scenario(_parse_toml(text, source), source, anchor)
