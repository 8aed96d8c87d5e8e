"""What an Octopus account is made of, as typed values: the octopus client builds them, the store keeps them.

Instants are aware UTC datetimes. Identifiers stay strings (MPANs have leading digits that matter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

TARIFF_CODE = re.compile(r"^(?P<fuel>[EG])-(?P<registers>\d)R-(?P<product>.+)-(?P<region>[A-P])$")


class Fuel(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"


class Direction(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class Charge(StrEnum):
    """The price lists a tariff publishes; each is one API endpoint."""

    STANDARD = "standard"
    DAY = "day"
    NIGHT = "night"
    STANDING = "standing"


@dataclass(frozen=True)
class TariffCode:
    code: str
    fuel: Fuel
    registers: int
    product: str
    region: str

    @classmethod
    def parse(cls, code: str) -> TariffCode:
        match = TARIFF_CODE.match(code)
        if match is None:
            raise ValueError(f"tariff code {code!r} is not of the form E-1R-PRODUCT-A")
        fuel = Fuel.ELECTRICITY if match["fuel"] == "E" else Fuel.GAS
        return cls(code, fuel, int(match["registers"]), match["product"], match["region"])

    @property
    def charges(self) -> tuple[Charge, ...]:
        """Economy 7 (2R) tariffs publish day and night rates; every other tariff one standard list."""
        if self.fuel is Fuel.ELECTRICITY and self.registers == 2:
            return (Charge.DAY, Charge.NIGHT, Charge.STANDING)
        return (Charge.STANDARD, Charge.STANDING)


@dataclass(frozen=True)
class Agreement:
    tariff_code: str
    valid_from: datetime
    valid_to: datetime | None

    @property
    def tariff(self) -> TariffCode:
        return TariffCode.parse(self.tariff_code)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.valid_from < end and (self.valid_to is None or self.valid_to > start)


@dataclass(frozen=True)
class Meter:
    serial: str
    registers: tuple[str, ...] = ()  # register rates as the account lists them: STANDARD, DAY, NIGHT
    active_from: date | None = None  # from GraphQL where known; the REST account does not say
    active_to: date | None = None
    unit: str | None = None  # consumption unit: kWh, or m³ for a SMETS2 gas meter (GraphQL consumptionUnits)
    meter_type: str | None = None
    device_id: str | None = None  # the smart meter's EUI-64 device id (a Home Mini reads it)


@dataclass(frozen=True)
class MeterPoint:
    fuel: Fuel
    identifier: str  # MPAN or MPRN
    direction: Direction
    meters: tuple[Meter, ...]
    agreements: tuple[Agreement, ...]
    profile_class: int | None = None

    @property
    def series(self) -> str:
        """The consumption series this point feeds: one per point, whatever meters it had."""
        if self.fuel is Fuel.GAS:
            return f"gas:{self.identifier}"
        return f"electricity-{self.direction}:{self.identifier}"

    @property
    def unit(self) -> str | None:
        """The unit of the newest meter that states one; electricity is always kWh."""
        if self.fuel is Fuel.ELECTRICITY:
            return "kWh"
        return next((m.unit for m in reversed(self.meters) if m.unit), None)


@dataclass(frozen=True)
class Property:
    id: str
    moved_in_at: datetime | None
    moved_out_at: datetime | None
    postcode: str
    address: str
    meter_points: tuple[MeterPoint, ...]

    def lived_in_at(self, now: datetime) -> bool:
        """Still home at ``now``: no move-out, or one Octopus recorded ahead of time."""
        return self.moved_out_at is None or self.moved_out_at > now


@dataclass(frozen=True)
class SmartDevice:
    """An Intelligent Octopus device (an EV or a charge point) Octopus can dispatch."""

    id: str
    device_type: str
    provider: str
    status: str | None
    state: str | None
    make: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Account:
    number: str
    properties: tuple[Property, ...]
    devices: tuple[SmartDevice, ...] = field(default=())

    def current_property(self) -> Property | None:
        """The home not moved out of (the latest move-in if several); None if every property is past."""
        current = [p for p in self.properties if p.moved_out_at is None]
        if not current:
            return None
        return max(current, key=lambda p: p.moved_in_at.timestamp() if p.moved_in_at else float("-inf"))


class Reading(NamedTuple):
    """One half-hour of consumption (or export) as the API gives it, in the meter's unit."""

    start: datetime
    value: float


class Rate(NamedTuple):
    """One price record: p/kWh for unit rates, p/day for standing charges."""

    valid_from: datetime
    valid_to: datetime | None
    value_exc_vat: float
    value_inc_vat: float
    payment_method: str | None


class IssuedToken(NamedTuple):
    """A GraphQL token and the refresh token that renews it; instants as epoch seconds."""

    token: str
    expires_at: float
    refresh_token: str | None
    refresh_expires_at: float | None


@dataclass(frozen=True)
class TariffInfo:
    """What GraphQL says about a tariff: its product and the shape of its prices."""

    code: str
    product: str
    full_name: str | None
    display_name: str | None
    kind: str | None  # StandardTariff, DayNightTariff, HalfHourlyTariff, GasTariffType...


class DispatchRecord(NamedTuple):
    """One Intelligent Octopus dispatch as Octopus reported it: planned (ahead) or completed (after).

    ``energy_kwh`` is as received: Octopus gives import as a negative number.
    """

    device_id: str
    kind: str  # "planned" or "completed"
    start: datetime
    end: datetime
    charge_type: str | None  # SMART, BOOST or TEST for planned; from meta.source where known
    energy_kwh: float | None
    source: str | None
    location: str | None


class TelemetryReading(NamedTuple):
    """One Home Mini reading (``TEN_SECONDS``) or group of them, as Octopus gives it: Wh and W; a field
    Octopus left out is None."""

    read_at: datetime  # the start of the reading's interval
    consumption_wh: float | None  # the meter's import register after it
    delta_wh: float | None  # energy imported during it
    demand_w: float | None  # instantaneous (for a group, the mean); negative when exporting
    export_wh: float | None  # the meter's export register after it
