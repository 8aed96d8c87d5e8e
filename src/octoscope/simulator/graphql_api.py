"""The GraphQL face of the simulator: ``POST /v1/graphql/``, executed by graphql-core.

Always HTTP 200. Kraken errors carry ``extensions: {errorType, errorCode, errorDescription}`` and the
failed root field is ``null`` in ``data``. Tokens are signed JWT-shaped strings that live
``token_ttl_seconds`` of simulated time; refresh tokens live ``refresh_ttl_days``. Each token gets an
hourly allowance of calls; past it, fields answer KT-CT-1199 (KT-GB-4042 for telemetry). Per-field user
limits follow the docs: flexPlannedDispatches 5 a minute, completedDispatches and plannedDispatches 300
an hour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLResolveInfo, build_schema, graphql, parse
from graphql.language import OperationDefinitionNode

from octoscope.simulator.household import TELEMETRY_STEP, _stable_seed
from octoscope.simulator.scenario import AccountSpec, ElectricityPointSpec, GasPointSpec
from octoscope.simulator.statements import account_balance, bill, bills
from octoscope.simulator.timeutil import SLOT, UK, iso_utc_offset
from octoscope.simulator.world import EVRef, PointRef, World

SDL = """
scalar DateTime
scalar Date
scalar Decimal
scalar GenericScalar

type Query {
  account(accountNumber: String!): AccountType
  viewer: AccountUserType
  properties(accountNumber: String!): [PropertyType]
  smartMeterTelemetry(
    deviceId: String!, start: DateTime, end: DateTime, grouping: TelemetryGrouping
  ): [SmartMeterTelemetryType]
  devices(accountNumber: String!, propertyId: ID, deviceId: String): [SmartFlexDeviceInterface!]
  flexPlannedDispatches(deviceId: String!): [SmartFlexDispatch]
  completedDispatches(accountNumber: String!): [UpsideDispatchType]
  plannedDispatches(accountNumber: String!): [UpsideDispatchType]
    @deprecated(reason: "Use flexPlannedDispatches; scheduled for removal on or after 2026-01-16.")
  octoplusAccountInfo(accountNumber: String!): OctoplusAccountInfoType
  electricVehicles: [ElectricVehicleType]
  chargePointVariants: [ChargePointVariantType]
}

type Mutation {
  obtainKrakenToken(input: ObtainJSONWebTokenInput!): ObtainKrakenJSONWebToken
}

input ObtainJSONWebTokenInput {
  email: String
  password: String
  APIKey: String
  organizationSecretKey: String
  preSignedKey: String
  refreshToken: String
}

type ObtainKrakenJSONWebToken {
  token: String!
  payload: GenericScalar!
  refreshToken: String
  refreshExpiresIn: Int
}

type AccountUserType { id: ID, email: String, accounts: [AccountType] }

type AccountType {
  id: ID
  number: String
  balance(includeAllLedgers: Boolean): Int
  overdueBalance: Int
  properties(activeFrom: DateTime): [PropertyType]
  electricityAgreements(active: Boolean): [ElectricityAgreementType]
  gasAgreements(active: Boolean): [GasAgreementType]
  bills(
    first: Int, after: String, fromDate: Date, toDate: Date, includeOpenStatements: Boolean,
    includeBillsWithoutPDF: Boolean, includeHeldStatements: Boolean, includeHistoricStatements: Boolean,
    orderBy: BillsOrderBy
  ): BillConnectionTypeConnection
  bill(id: ID!, billType: BillTypeEnum): BillInterface
}

type PropertyType {
  id: ID
  address: String
  postcode: String
  occupancyPeriods: [OccupancyPeriodType]
  electricityMeterPoints: [ElectricityMeterPointType]
  gasMeterPoints: [GasMeterPointType]
}

type OccupancyPeriodType { effectiveFrom: DateTime, effectiveTo: DateTime }

interface TariffType {
  id: ID
  displayName: String
  fullName: String
  productCode: String
  tariffCode: String
  standingCharge: Float
}
type StandardTariff implements TariffType {
  id: ID, displayName: String, fullName: String, productCode: String, tariffCode: String, standingCharge: Float,
  unitRate: Float
}
type DayNightTariff implements TariffType {
  id: ID, displayName: String, fullName: String, productCode: String, tariffCode: String, standingCharge: Float,
  dayRate: Float, nightRate: Float
}
type HalfHourlyTariff implements TariffType {
  id: ID, displayName: String, fullName: String, productCode: String, tariffCode: String, standingCharge: Float
}
type GasTariffType implements TariffType {
  id: ID, displayName: String, fullName: String, productCode: String, tariffCode: String, standingCharge: Float,
  unitRate: Float
}

type ElectricityAgreementType {
  id: Int
  validFrom: DateTime
  validTo: DateTime
  isRevoked: Boolean
  tariff: TariffType
  meterPoint: ElectricityMeterPointType
}
type GasAgreementType {
  id: Int
  validFrom: DateTime
  validTo: DateTime
  isRevoked: Boolean
  tariff: TariffType
  meterPoint: GasMeterPointType
}

type ElectricityMeterPointType {
  id: ID
  mpan: String
  direction: String
  profileClass: Int
  gspGroupId: String
  meters(includeInactive: Boolean): [ElectricityMeterType]
  agreements(includeInactive: Boolean): [ElectricityAgreementType]
}
type ElectricityMeterType {
  id: ID
  serialNumber: String
  activeFrom: Date
  activeTo: Date
  makeAndType: String
  meterType: String
  smartDevices: [SmartMeterDeviceType]
  smartImportElectricityMeter: SmartMeterDeviceType
  smartExportElectricityMeter: SmartMeterDeviceType
}
type GasMeterPointType {
  id: ID
  mprn: String
  meters(includeInactive: Boolean): [GasMeterType]
  agreements(includeInactive: Boolean): [GasAgreementType]
}
type GasMeterType {
  id: ID
  serialNumber: String
  activeFrom: Date
  activeTo: Date
  consumptionUnits: String
  modelName: String
  mechanism: String
  smartGasMeter: SmartMeterDeviceType
  smartDevices: [SmartMeterDeviceType]
}
type SmartMeterDeviceType {
  id: ID
  deviceId: String
  serialNumber: String
  type: String
  status: String
  manufacturer: String
  model: String
  firmwareVersion: String
  paymentMode: String
}

enum TelemetryGrouping { TEN_SECONDS ONE_MINUTE FIVE_MINUTES HALF_HOURLY HOURLY }

type SmartMeterTelemetryType {
  readAt: DateTime!
  consumption: Decimal
  demand: Decimal
  consumptionDelta: Decimal
  costDelta: Decimal
  costDeltaWithTax: Decimal
  export: Decimal
}

enum KrakenFlexDeviceTypes { BATTERIES ELECTRIC_VEHICLES INVERTERS HEAT_PUMPS STORAGE_HEATERS THERMOSTATS }
enum SmartFlexDeviceLifecycleStatus {
  ONBOARDING PENDING_LIVE LIVE ONBOARDING_TEST_IN_PROGRESS FAILED_ONBOARDING_TEST RETIRED
}
enum SmartFlexDeviceState {
  AUTHENTICATION_PENDING AUTHENTICATION_FAILED AUTHENTICATION_COMPLETE TEST_CHARGE_IN_PROGRESS TEST_CHARGE_FAILED
  TEST_CHARGE_NOT_AVAILABLE SETUP_COMPLETE SMART_CONTROL_CAPABLE SMART_CONTROL_IN_PROGRESS BOOSTING
  SMART_CONTROL_OFF SMART_CONTROL_NOT_AVAILABLE LOST_CONNECTION RETIRED
}
enum SmartFlexChargingType { SMART BOOST TEST }

type SmartFlexDeviceStatus {
  current: SmartFlexDeviceLifecycleStatus
  isSuspended: Boolean
  currentState: SmartFlexDeviceState
}
interface SmartFlexDeviceInterface {
  id: ID!
  name: String
  deviceType: KrakenFlexDeviceTypes!
  provider: String!
  propertyId: ID
  status: SmartFlexDeviceStatus
}
type SmartFlexChargePoint implements SmartFlexDeviceInterface {
  id: ID!, name: String, deviceType: KrakenFlexDeviceTypes!, provider: String!, propertyId: ID,
  status: SmartFlexDeviceStatus, make: String, model: String, powerInKw: Decimal
}
type SmartFlexVehicle implements SmartFlexDeviceInterface {
  id: ID!, name: String, deviceType: KrakenFlexDeviceTypes!, provider: String!, propertyId: ID,
  status: SmartFlexDeviceStatus, make: String, model: String
}

type SmartFlexDispatch {
  start: DateTime!
  end: DateTime!
  type: SmartFlexChargingType!
  energyAddedKwh: Decimal
}
type UpsideDispatchMetaType { source: String, location: String }
type UpsideDispatchType {
  start: DateTime!
  end: DateTime!
  delta: Decimal
  meta: UpsideDispatchMetaType
}

# --- bills and statements (simulator/statements.py) ---
enum BillTypeEnum { STATEMENT INVOICE CREDIT_NOTE PRE_KRAKEN }
enum BillsOrderBy { FROM_DATE_DESC ISSUED_DATE_DESC }
enum AccountStatementStatus { OPEN CLOSED }
type PageInfo { hasNextPage: Boolean!, hasPreviousPage: Boolean!, startCursor: String, endCursor: String }
interface BillInterface { id: ID, billType: BillTypeEnum, fromDate: Date, toDate: Date, issuedDate: Date }
type BillTotalType { netTotal: Int, taxTotal: Int, grossTotal: Int }
type StatementType implements BillInterface {
  id: ID, billType: BillTypeEnum, fromDate: Date, toDate: Date, issuedDate: Date,
  status: AccountStatementStatus, openingBalance: Int, closingBalance: Int,
  totalCharges: BillTotalType, totalCredits: BillTotalType,
  transactions(first: Int, after: String): TransactionConnectionTypeConnection
}
type BillEdge { cursor: String!, node: BillInterface }
type BillConnectionTypeConnection { pageInfo: PageInfo!, edges: [BillEdge]!, totalCount: Int, edgeCount: Int }
type TransactionAmountType { net: Int, tax: Int, gross: Int }
type ConsumptionType {
  startDate: Date, endDate: Date, quantity: Decimal, unit: String, usageCost: Int, supplyCharge: Int
}
interface TransactionType {
  id: ID, postedDate: Date, title: String, note: String, amounts: TransactionAmountType,
  balanceCarriedForward: Int, isHeld: Boolean, isReversed: Boolean!
}
type Charge implements TransactionType {
  id: ID, postedDate: Date, title: String, note: String, amounts: TransactionAmountType,
  balanceCarriedForward: Int, isHeld: Boolean, isReversed: Boolean!, isExport: Boolean,
  consumption: ConsumptionType
}
type Credit implements TransactionType {
  id: ID, postedDate: Date, title: String, note: String, amounts: TransactionAmountType,
  balanceCarriedForward: Int, isHeld: Boolean, isReversed: Boolean!
}
type Payment implements TransactionType {
  id: ID, postedDate: Date, title: String, note: String, amounts: TransactionAmountType,
  balanceCarriedForward: Int, isHeld: Boolean, isReversed: Boolean!
}
type Refund implements TransactionType {
  id: ID, postedDate: Date, title: String, note: String, amounts: TransactionAmountType,
  balanceCarriedForward: Int, isHeld: Boolean, isReversed: Boolean!
}
type TransactionEdge { cursor: String!, node: TransactionType }
type TransactionConnectionTypeConnection {
  pageInfo: PageInfo!, edges: [TransactionEdge]!, totalCount: Int, edgeCount: Int
}

type OctoplusAccountInfoType { isOctoplusEnrolled: Boolean }
type ElectricVehicleModelType { model: String, batterySize: Decimal }
type ElectricVehicleType { make: String, models: [ElectricVehicleModelType] }
type ChargePointVariantModelType { model: String, powerInKw: Decimal }
type ChargePointVariantType { make: String, models: [ChargePointVariantModelType] }
"""

SCHEMA = build_schema(SDL)
Info = GraphQLResolveInfo[Any]
GROUP_SECONDS = {"TEN_SECONDS": 10, "ONE_MINUTE": 60, "FIVE_MINUTES": 300, "HALF_HOURLY": 1800, "HOURLY": 3600}
FIELD_LIMITS = {"flexPlannedDispatches": (5, 60), "completedDispatches": (300, 3600), "plannedDispatches": (300, 3600)}

_ERRORS = {
    "KT-CT-1111": (
        "AUTHORIZATION",
        "Unauthorized.",
        "The viewer is not authorized to execute the query/mutation. Check authentication or roles/permissions.",
    ),
    "KT-CT-1112": (
        "AUTHORIZATION",
        "'Authorization' header not provided.",
        "You must provide the AUTHORIZATION header while executing the query/mutation.",
    ),
    "KT-CT-1124": ("APPLICATION", "Signature of the JWT has expired.", ""),
    "KT-CT-1134": ("VALIDATION", "Invalid data.", "The refresh token has expired."),
    "KT-CT-1135": ("VALIDATION", "Invalid data.", "Invalid refresh token."),
    "KT-CT-1139": ("VALIDATION", "Invalid data.", "Authentication failed."),
    "KT-CT-1143": (
        "AUTHORIZATION",
        "Value of 'Authorization' header is not a valid credential.",
        "The value of the HTTP Authorization header is not recognized as a valid access credential for "
        "this API.  Valid credentials can be generated by calling the obtainKrakenToken mutation.",
    ),
    "KT-CT-1199": ("AUTHORIZATION", "Too many requests.", "There were too many requests. Please try again later."),
    "KT-CT-4301": ("NOT_FOUND", "Unable to find device for given account.", ""),
    "KT-GB-4040": ("VALIDATION", "The start, end and grouping arguments must all be given.", ""),
    "KT-GB-4041": ("VALIDATION", "The end must be later than the start.", ""),
    "KT-GB-4042": ("APPLICATION", "Too many requests. Please wait before trying again.", ""),
    "KT-GB-4050": ("NOT_FOUND", "Smart meter not found.", ""),
    "KT-GB-4051": ("VALIDATION", "The start of the range is too far in the past.", ""),
}


class KrakenError(GraphQLError):
    def __init__(self, code: str, **extra: Any) -> None:
        error_type, message, description = _ERRORS[code]
        super().__init__(
            message, extensions={"errorType": error_type, "errorCode": code, "errorDescription": description, **extra}
        )


def error_body(code: str, fields: list[str]) -> dict[str, Any]:
    """A whole-response Kraken error for ``fields`` (used by fault injection)."""
    error_type, message, description = _ERRORS[code]
    return {
        "errors": [
            {
                "message": message,
                "locations": [{"line": 2, "column": 3}],
                "path": [f],
                "extensions": {"errorType": error_type, "errorCode": code, "errorDescription": description},
            }
            for f in fields or ["unknown"]
        ],
        "data": {f: None for f in fields} if fields else None,
    }


# --- tokens ------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenService:
    world: World
    secret: bytes
    minted: int = 0
    refresh_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (account, expiry)
    calls: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def mint(self, account: AccountSpec, grant: str) -> dict[str, Any]:
        scenario = self.world.scenario
        now = int(self.world.now())
        self.minted += 1
        payload = {
            "sub": f"kraken|account-user:{account.user_id}",
            "gty": grant,
            "email": account.email,
            "tokenUse": "access",
            "iss": "https://api.octopus.energy/v1/graphql/",
            "iat": now,
            "exp": now + scenario.token_ttl_seconds,
            "origIat": now,
        }
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        body = _b64(json.dumps({**payload, "acc": account.number, "n": self.minted}, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self.secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
        refresh = hashlib.sha256(self.secret + f"refresh:{self.minted}:{now}".encode()).hexdigest()
        refresh_expires = now + scenario.refresh_ttl_seconds
        self.refresh_tokens[refresh] = (account.number, refresh_expires)
        return {
            "token": f"{header}.{body}.{signature}",
            "payload": payload,
            "refreshToken": refresh,
            "refreshExpiresIn": refresh_expires,
        }

    def verify(self, header_value: str | None) -> tuple[AccountSpec, str] | str:
        """(account, token id) for a valid token, or the Kraken error code to answer with."""
        if not header_value or not header_value.strip():
            return "KT-CT-1112"
        token = header_value.strip()
        if token.upper().startswith("JWT "):
            token = token[4:].strip()
        parts = token.split(".")
        if len(parts) != 3:
            return "KT-CT-1143"
        expected = _b64(hmac.new(self.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return "KT-CT-1143"
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return "KT-CT-1143"
        if claims["exp"] <= self.world.now():
            return "KT-CT-1124"
        account = self.world.account(claims["acc"])
        if account is None:
            return "KT-CT-1143"
        return account, parts[2][:16]

    def spend(self, key: str, limit: int, window: float) -> bool:
        """Count one call against a sliding window of simulated time; False once the limit is spent."""
        now = self.world.now()
        calls = self.calls[key]
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= limit:
            return False
        calls.append(now)
        return True


# --- execution ---------------------------------------------------------------------------------------


@dataclass
class Context:
    world: World
    tokens: TokenService
    authorization: str | None
    auth: tuple[AccountSpec, str] | str | None = None
    allowance_ok: bool | None = None

    def account(self, field_name: str, account_number: str | None = None) -> AccountSpec:
        """The authenticated account, checking the allowance once per request; raises Kraken errors."""
        if self.auth is None:
            self.auth = self.tokens.verify(self.authorization)
        if isinstance(self.auth, str):
            raise KrakenError(self.auth)
        account, token_id = self.auth
        if self.allowance_ok is None:
            self.allowance_ok = self.tokens.spend(
                f"token:{token_id}", self.world.scenario.graphql_hourly_allowance, 3600
            )
        if not self.allowance_ok:
            raise KrakenError("KT-GB-4042" if field_name == "smartMeterTelemetry" else "KT-CT-1199")
        if field_name in FIELD_LIMITS:
            limit, window = FIELD_LIMITS[field_name]
            if not self.tokens.spend(f"{field_name}:{account.user_id}", limit, window):
                raise KrakenError("KT-CT-1199")
        if account_number is not None and account_number != account.number:
            raise KrakenError("KT-CT-1111")
        return account


def _ctx(info: Info) -> Context:
    context: Context = info.context
    return context


def _dt(ts: float | None) -> str | None:
    return iso_utc_offset(ts) if ts is not None else None


def _decimal(value: float, places: int = 4) -> str:
    if value == 0:
        return "0E+1"
    return f"{value:.{places}f}"


def _tariff(world: World, code: str) -> dict[str, Any]:
    tariff = world.catalogue.tariff(code)
    if tariff is None:
        return {"__typename": "StandardTariff", "tariffCode": code}
    product = tariff.product
    cat = world.catalogue
    typename = (
        "GasTariffType"
        if tariff.fuel == "gas"
        else "DayNightTariff"
        if tariff.registers == "2R"
        else "HalfHourlyTariff"
        if product.kind in ("agile", "agile_outgoing", "tracker")
        else "StandardTariff"
    )
    return {
        "__typename": typename,
        "id": str(_stable_seed(code) % 10_000_000),
        "displayName": product.display_name,
        "fullName": product.full_name,
        "productCode": product.code,
        "tariffCode": code,
        "standingCharge": round(cat.base_price(tariff, "standing-charges") * 1.05, 4),
        "unitRate": round(cat.base_price(tariff, "standard-unit-rates") * 1.05, 4),
        "dayRate": round(cat.base_price(tariff, "day-unit-rates") * 1.05, 4),
        "nightRate": round(cat.base_price(tariff, "night-unit-rates") * 1.05, 4),
    }


def _agreements_of(world: World, point: ElectricityPointSpec | GasPointSpec, active_only: bool) -> list[dict[str, Any]]:
    now = world.now()
    out = []
    for a in point.agreements:
        if active_only and not (
            a.valid_from.timestamp() <= now and (a.valid_to is None or now < a.valid_to.timestamp())
        ):
            continue
        out.append(
            {
                "id": _stable_seed(point.agreements.index(a), a.tariff_code) % 10_000_000,
                "validFrom": _dt(a.valid_from.timestamp()),
                "validTo": _dt(a.valid_to.timestamp()) if a.valid_to else None,
                "isRevoked": False,
                "tariff": _tariff(world, a.tariff_code),
            }
        )
    return out


def _device(device_id: str | None, kind: str) -> dict[str, Any] | None:
    if device_id is None:
        return None
    return {
        "id": str(_stable_seed(device_id) % 10_000_000),
        "deviceId": device_id,
        "serialNumber": device_id[-8:],
        "type": kind,
        "status": "COMMISSIONED",
        "manufacturer": "0000 - Simulated Meter Co",
        "model": "SIM-ESME-1" if kind == "ESME" else "SIM-GSME-1",
        "firmwareVersion": "00010203",
        "paymentMode": "CREDIT",
    }


def _esme_id(point: ElectricityPointSpec) -> str | None:
    """The smart meter's device id: the Home Mini's on an import point; a stable derived one on a smart export point
    (it is the same physical meter, and has no Home Mini of its own)."""
    if point.home_mini or not point.is_export or not point.smart:
        return point.home_mini
    digits = f"{_stable_seed('esme', point.mpan) % 16**6:06X}"
    return f"00-00-00-FF-FE-{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"


def _meter_active(meter: Any, ref: PointRef, now: float) -> bool:
    end = meter.removed.timestamp() if meter.removed else None
    return end is None or end > now


def _electricity_point(world: World, ref: PointRef) -> dict[str, Any]:
    point = ref.point
    assert isinstance(point, ElectricityPointSpec)

    def meters(info: Info, includeInactive: bool = False) -> list[dict[str, Any]]:
        out = []
        for meter in point.meters:
            if not includeInactive and not _meter_active(meter, ref, world.now()):
                continue
            device = _device(_esme_id(point), "ESME") if meter is point.meters[-1] else None
            out.append(
                {
                    "id": str(_stable_seed(meter.serial) % 10_000_000),
                    "serialNumber": meter.serial,
                    "activeFrom": (meter.installed or ref.prop.moved_in).astimezone(UK).date().isoformat(),
                    "activeTo": meter.removed.astimezone(UK).date().isoformat() if meter.removed else None,
                    "makeAndType": meter.make_and_type,
                    "meterType": point.meter_type if point.smart else "N",
                    # Only a Home Mini's device answers smartMeterTelemetry, so only it is listed here.
                    "smartDevices": [device] if device and point.home_mini else [],
                    "smartImportElectricityMeter": device if not point.is_export else None,
                    "smartExportElectricityMeter": device if point.is_export else None,
                }
            )
        return out

    return {
        "id": point.mpan,
        "mpan": point.mpan,
        "direction": "EXPORT" if point.is_export else "IMPORT",
        "profileClass": point.profile_class,
        "gspGroupId": f"_{ref.prop.region}",
        "meters": meters,
        "agreements": lambda info, includeInactive=True: _agreements_of(world, point, not includeInactive),
    }


def _gas_point(world: World, ref: PointRef) -> dict[str, Any]:
    point = ref.point
    assert isinstance(point, GasPointSpec)

    def meters(info: Info, includeInactive: bool = False) -> list[dict[str, Any]]:
        out = []
        for meter in point.meters:
            if not includeInactive and not _meter_active(meter, ref, world.now()):
                continue
            device = _device(point.device_id, "GSME") if meter is point.meters[-1] else None
            out.append(
                {
                    "id": str(_stable_seed(meter.serial) % 10_000_000),
                    "serialNumber": meter.serial,
                    "activeFrom": (meter.installed or ref.prop.moved_in).astimezone(UK).date().isoformat(),
                    "activeTo": meter.removed.astimezone(UK).date().isoformat() if meter.removed else None,
                    "consumptionUnits": "m³" if point.smets == 2 else "kWh",
                    "modelName": "SIM-GAS-1",
                    "mechanism": f"S{point.smets}" if point.smart else "CR",
                    "smartGasMeter": device,
                    "smartDevices": [device] if device else [],
                }
            )
        return out

    return {
        "id": point.mprn,
        "mprn": point.mprn,
        "meters": meters,
        "agreements": lambda info, includeInactive=True: _agreements_of(world, point, not includeInactive),
    }


def _account_type(world: World, account: AccountSpec) -> dict[str, Any]:
    def refs(fuel: str) -> list[PointRef]:
        return [r for r in world.points_of(account) if r.fuel == fuel]

    def agreements(fuel: str, active: bool | None) -> list[dict[str, Any]]:
        out = []
        for ref in refs(fuel):
            make = _electricity_point if fuel == "electricity" else _gas_point
            for agreement in _agreements_of(world, ref.point, bool(active)):
                out.append({**agreement, "meterPoint": make(world, ref)})
        return out

    def properties(info: Info, activeFrom: str | None = None) -> list[dict[str, Any]]:
        return [_property(world, account, p.id) for p in account.properties]

    return {
        "id": str(account.user_id),
        "number": account.number,
        "balance": lambda info, includeAllLedgers=False: account_balance(world, account),
        "overdueBalance": 0,
        "properties": properties,
        "electricityAgreements": lambda info, active=None: agreements("electricity", active),
        "gasAgreements": lambda info, active=None: agreements("gas", active),
        "bills": lambda info, **args: bills(world, account, **args),
        "bill": lambda info, **args: bill(world, account, **args),
    }


def _property(world: World, account: AccountSpec, prop_id: int) -> dict[str, Any]:
    prop = next(p for p in account.properties if p.id == prop_id)
    return {
        "id": str(prop.id),
        "postcode": prop.postcode,
        "address": ", ".join(x for x in (prop.address_line_1, prop.address_line_2, prop.town, prop.postcode) if x),
        "occupancyPeriods": [
            {
                "effectiveFrom": _dt(prop.moved_in.timestamp()),
                "effectiveTo": _dt(prop.moved_out.timestamp()) if prop.moved_out else None,
            }
        ],
        "electricityMeterPoints": [
            _electricity_point(world, _known(world.point("electricity", e.mpan))) for e in prop.electricity
        ],
        "gasMeterPoints": [_gas_point(world, _known(world.point("gas", g.mprn))) for g in prop.gas],
    }


def _parse_dt(value: Any, name: str) -> float:
    from octoscope.simulator.timeutil import UTC_ZONE, BadDateTime, parse_api_datetime  # noqa: PLC0415

    try:
        return parse_api_datetime(str(value), UTC_ZONE).timestamp()
    except BadDateTime:
        raise GraphQLError(f"Variable '{name}' got invalid value {value!r}; DateTime cannot represent value.") from None


_T = TypeVar("_T")


def _known(found: _T | None) -> _T:
    """What the world must hold (a point of an account it gave out)."""
    assert found is not None
    return found


def _ev_of(world: World, account: AccountSpec, device_id: str) -> EVRef:
    ev = world.ev(device_id)
    if ev is None or ev.account.number != account.number:
        raise KrakenError("KT-CT-4301")
    return ev


class Root:
    """Root resolvers; graphql-core calls ``root.<field>(info, **args)``."""

    def account(self, info: Info, accountNumber: str) -> dict[str, Any]:
        ctx = _ctx(info)
        return _account_type(ctx.world, ctx.account("account", accountNumber))

    def viewer(self, info: Info) -> dict[str, Any]:
        ctx = _ctx(info)
        account = ctx.account("viewer")
        return {"id": str(account.user_id), "email": account.email, "accounts": [_account_type(ctx.world, account)]}

    def properties(self, info: Info, accountNumber: str) -> list[dict[str, Any]]:
        ctx = _ctx(info)
        account = ctx.account("properties", accountNumber)
        return [_property(ctx.world, account, p.id) for p in account.properties]

    def octoplusAccountInfo(self, info: Info, accountNumber: str) -> dict[str, Any]:
        _ctx(info).account("octoplusAccountInfo", accountNumber)
        return {"isOctoplusEnrolled": True}

    def smartMeterTelemetry(
        self, info: Info, deviceId: str, start: Any = None, end: Any = None, grouping: str | None = None
    ) -> list[dict[str, Any]]:
        ctx = _ctx(info)
        world = ctx.world
        account = ctx.account("smartMeterTelemetry")
        ref = world.home_mini(deviceId)
        if ref is None:
            raise KrakenError("KT-GB-4050")
        if ref.account.number != account.number:
            raise KrakenError("KT-CT-1111")
        now = world.now()
        given = [x is not None for x in (start, end, grouping)]
        if any(given) and not all(given):
            raise KrakenError("KT-GB-4040")
        if not any(given):
            readings = world.telemetry(ref, now - 60, now)[-1:]
            step = TELEMETRY_STEP
        else:
            a, b = _parse_dt(start, "start"), _parse_dt(end, "end")
            if b <= a:
                raise KrakenError("KT-GB-4041")
            if a < now - world.scenario.telemetry_history_days * 86400:
                raise KrakenError("KT-GB-4051")
            step = GROUP_SECONDS[str(grouping)]
            readings = world.telemetry(ref, a - a % step, b)
        return _group_telemetry(world, ref, readings, step)

    def devices(
        self, info: Info, accountNumber: str, propertyId: str | None = None, deviceId: str | None = None
    ) -> list[dict[str, Any]]:
        ctx = _ctx(info)
        account = ctx.account("devices", accountNumber)
        out = []
        for ev in ctx.world.evs_of(account):
            device_id = ev.ev.device_id
            if deviceId and device_id != deviceId:
                continue
            if propertyId and str(ev.prop.id) != str(propertyId):
                continue
            if ev.ev.onboarded and ev.ev.onboarded.timestamp() > ctx.world.now():
                continue
            state = ctx.world.device_state(ev)
            out.append(
                {
                    "__typename": "SmartFlexChargePoint",
                    "id": device_id,
                    "name": f"{ev.ev.make} {ev.ev.model}",
                    "deviceType": "ELECTRIC_VEHICLES",
                    "provider": ev.ev.provider,
                    "propertyId": str(ev.prop.id),
                    "make": ev.ev.make,
                    "model": ev.ev.model,
                    "powerInKw": _decimal(ev.ev.charger_kw, 1),
                    "status": {"current": "LIVE", "isSuspended": False, "currentState": state},
                }
            )
        if deviceId and not out:
            raise KrakenError("KT-CT-4301")
        return out

    def flexPlannedDispatches(self, info: Info, deviceId: str) -> list[dict[str, Any]]:
        ctx = _ctx(info)
        ev = _ev_of(ctx.world, ctx.account("flexPlannedDispatches"), deviceId)
        return [
            {"start": _dt(a), "end": _dt(b), "type": kind, "energyAddedKwh": _decimal(-kwh)}
            for a, b, kind, kwh in ctx.world.planned_dispatches(ev)
        ]

    def plannedDispatches(self, info: Info, accountNumber: str) -> list[dict[str, Any]]:
        ctx = _ctx(info)
        account = ctx.account("plannedDispatches", accountNumber)
        out = []
        for ev in ctx.world.evs_of(account):
            if ev.account.number == account.number:
                out += [
                    {
                        "start": _dt(a),
                        "end": _dt(b),
                        "delta": _decimal(-kwh, 2),
                        "meta": {"source": "bump-charge" if kind == "BOOST" else "smart-charge", "location": None},
                    }
                    for a, b, kind, kwh in ctx.world.planned_dispatches(ev)
                ]
        return out

    def completedDispatches(self, info: Info, accountNumber: str) -> list[dict[str, Any]]:
        ctx = _ctx(info)
        account = ctx.account("completedDispatches", accountNumber)
        out = []
        for ev in ctx.world.evs_of(account):
            if ev.account.number == account.number:
                out += [
                    {
                        "start": _dt(a),
                        "end": _dt(b),
                        "delta": _decimal(-kwh, 2),
                        "meta": {"source": None, "location": "AT_HOME"},
                    }
                    for a, b, kwh in ctx.world.completed_dispatches(ev)
                ]
        return out

    def electricVehicles(self, info: Info) -> list[dict[str, Any]]:
        evs = _ctx(info).world.evs.values()
        return [
            {"make": "SimCar", "models": [{"model": "Model S1", "batterySize": _decimal(e.ev.battery_kwh, 1)}]}
            for e in evs
        ][:1]

    def chargePointVariants(self, info: Info) -> list[dict[str, Any]]:
        evs = _ctx(info).world.evs.values()
        return [
            {"make": e.ev.make, "models": [{"model": e.ev.model, "powerInKw": _decimal(e.ev.charger_kw, 1)}]}
            for e in evs
        ]

    def obtainKrakenToken(self, info: Info, input: dict[str, Any]) -> dict[str, Any]:
        ctx = _ctx(info)
        methods = {k: v for k, v in input.items() if v}
        key = methods.get("APIKey")
        refresh = methods.get("refreshToken")
        if not ctx.tokens.spend(f"mint:{key or refresh or 'other'}", ctx.world.scenario.graphql_hourly_allowance, 3600):
            raise KrakenError("KT-CT-1199")
        if len(methods) != 1 or (key is None and refresh is None):
            raise KrakenError(
                "KT-CT-1139",
                errorClass="VALIDATION",
                validationErrors=[{"message": "Authentication failed.", "inputPath": ["input"]}],
            )
        if key is not None:
            account = ctx.world.account_by_key(key)
            if account is None:
                raise KrakenError(
                    "KT-CT-1139",
                    errorClass="VALIDATION",
                    validationErrors=[{"message": "Authentication failed.", "inputPath": ["input", "apiKey"]}],
                )
            return ctx.tokens.mint(account, "API-KEY")
        stored = ctx.tokens.refresh_tokens.get(str(refresh))
        if stored is None:
            raise KrakenError("KT-CT-1135")
        if stored[1] <= ctx.world.now():
            raise KrakenError("KT-CT-1134")
        return ctx.tokens.mint(_known(ctx.world.account(stored[0])), "API-KEY")


def _group_telemetry(
    world: World, ref: PointRef, readings: list[tuple[float, int, int, float, int, int]], step: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    group: list[tuple[float, int, int, float, int, int]] = []
    rates: dict[int, float | None] = {}

    def flush() -> None:
        if not group:
            return
        start = group[0][0] - group[0][0] % step
        imported = sum(r[1] for r in group)
        cost = 0.0
        for r in group:
            slot = int(r[0] // SLOT)
            if slot not in rates:
                rates[slot] = world.unit_rate_at(ref, r[0])
            cost += r[1] / 1000 * (rates[slot] or 0.0)
        out.append(
            {
                "readAt": _dt(start),
                "consumption": f"{group[-1][4]:.4f}",
                "consumptionDelta": _decimal(imported),
                "demand": f"{sum(r[3] for r in group) / len(group):.1f}",
                "costDelta": _decimal(cost),
                "costDeltaWithTax": _decimal(cost * 1.05),
                "export": f"{group[-1][5]:.4f}",
            }
        )

    for reading in readings:
        if group and reading[0] - reading[0] % step != group[0][0] - group[0][0] % step:
            flush()
            group = []
        group.append(reading)
    flush()
    return out


def root_fields(query: str, operation_name: str | None = None) -> list[str]:
    """Names of the root fields a query asks for (for logs, limits and fault bodies)."""
    try:
        document = parse(query)
    except GraphQLError:
        return []
    names = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            names += [sel.name.value for sel in definition.selection_set.selections if hasattr(sel, "name")]
    return names


async def execute(world: World, tokens: TokenService, body: Any, authorization: str | None) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
        return {
            "errors": [
                {
                    "message": "Must provide query string.",
                    "extensions": {
                        "errorType": "VALIDATION",
                        "errorCode": "GRAPHQL_VALIDATION_FAILED",
                        "errorDescription": "",
                    },
                }
            ]
        }
    variables = body.get("variables") if isinstance(body.get("variables"), dict) else None
    context = Context(world, tokens, authorization)
    result = await graphql(
        SCHEMA,
        body["query"],
        root_value=Root(),
        context_value=context,
        variable_values=variables,
        operation_name=body.get("operationName"),
    )
    out: dict[str, Any] = {}
    if result.errors:
        errors = []
        for error in result.errors:
            formatted = dict(error.formatted)
            ext = formatted.get("extensions")
            if not isinstance(ext, dict) or "errorCode" not in ext:
                # Syntax and validation errors from the engine itself: shaped like Kraken's other errors.
                formatted["extensions"] = {
                    "errorType": "VALIDATION",
                    "errorCode": "GRAPHQL_VALIDATION_FAILED",
                    "errorDescription": error.message,
                }
            errors.append(formatted)
        out["errors"] = errors
    if result.data is not None or result.errors is None:
        out["data"] = result.data
    return out
