"""What the rest of octoscope may ask of a store, one protocol per concern, and the records they answer with.

Callers take the narrowest protocol they use (the Octopus clients only a ``RequestLedger`` and a
``TokenVault``); ``StoreProtocol`` is all of them, what ``open_store`` returns. Every backend (SQLite now,
PostgreSQL later) satisfies them and passes tests/store/conformance/. Instants are timezone-aware UTC in and
out; every method raises ``StoreError``, never its driver's errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol, Self

from octoscope.domain.bills import Statement
from octoscope.domain.costs import PriceColumns, PriceSeconds
from octoscope.domain.models import (
    Account,
    Charge,
    DispatchRecord,
    IssuedToken,
    Rate,
    Reading,
    TariffInfo,
    TelemetryReading,
)
from octoscope.domain.products import Product, ProductTariff

__all__ = [
    "AccountStore",
    "BillStore",
    "CatalogueStore",
    "DispatchStore",
    "ExportCursor",
    "ExportCursorStore",
    "HealthStore",
    "KeptResult",
    "KeptResultStore",
    "NotificationStore",
    "RateStore",
    "RateWindow",
    "ReadingColumns",
    "ReadingStore",
    "RequestLedger",
    "RunStore",
    "SeriesExtent",
    "StoreProtocol",
    "TableCopy",
    "TelemetryRow",
    "TelemetryStore",
    "TokenVault",
]


@dataclass(frozen=True)
class SeriesExtent:
    series: str
    unit: str | None
    first: datetime
    last: datetime  # start of the newest stored half-hour
    rows: int


class ReadingColumns(NamedTuple):
    """One series' stored half-hours as parallel columns in time order: starts in UTC epoch seconds, values
    as stored, units. What the cost engine reads a year of at once, with no datetime or tuple per row."""

    starts: Sequence[int]
    values: Sequence[float]
    units: Sequence[str]


@dataclass(frozen=True)
class RateWindow:
    start: datetime
    end: datetime
    settled_to: datetime  # rates before this instant were published when fetched and never change
    fresh_until: datetime  # the API's Cache-Control: the whole window counts as current until then


class TelemetryRow(NamedTuple):
    """One Home Mini reading as stored."""

    device_id: str
    read_at: datetime
    consumption_wh: float | None
    delta_wh: float | None
    demand_w: float | None
    export_wh: float | None


class ExportCursor(NamedTuple):
    """What an export has written of one measurement and series: [start, end), when, how many points."""

    start: datetime
    end: datetime
    at: datetime
    points: int


class RequestLedger(Protocol):
    """The request budget: when each request under a key was sent (octopus/policy.py persists through it)."""

    def requests_since(self, key_id: str, api: str, since: float) -> list[float]: ...
    def record_request(self, key_id: str, api: str, at: float) -> None: ...


class TokenVault(Protocol):
    """The GraphQL token of each key (octopus/graphql.py persists through it)."""

    def load_token(self, key_id: str) -> IssuedToken | None: ...
    def save_token(self, key_id: str, token: IssuedToken) -> None: ...
    def forget_token(self, key_id: str) -> None: ...


class AccountStore(Protocol):
    """The account: properties, meter points, meters, agreements, devices, and the tariffs they name."""

    def save_account(self, account: Account, tariffs: Iterable[TariffInfo], at: datetime) -> None: ...
    def account_read_at(self, number: str) -> datetime | None: ...
    def load_account(self, number: str) -> Account | None: ...
    def tariff_kinds(self) -> dict[str, str | None]: ...


class ReadingStore(Protocol):
    """Half-hourly consumption per series, kept with its unit, and the sync cursors over it."""

    def write_consumption(
        self, series: str, serial: str, unit: str, readings: Sequence[Reading]
    ) -> tuple[int, int]: ...
    def mark_synced(self, series: str, serial: str, synced_to: datetime, at: datetime) -> None: ...
    def cursors(self) -> dict[tuple[str, str], tuple[datetime, datetime]]: ...
    def meter_extents(self) -> dict[tuple[str, str], tuple[datetime, datetime]]: ...
    def series_extent(self, series: str) -> SeriesExtent | None: ...
    def series_gaps(self, series: str) -> list[tuple[datetime, datetime]]: ...
    def readings(self, series: str, start: datetime, end: datetime) -> list[tuple[datetime, float, str]]: ...
    def reading_columns(self, series: str, start: datetime, end: datetime) -> ReadingColumns: ...


class RateStore(Protocol):
    """Unit rates and standing charges per tariff, and the windows of them fetched."""

    def write_rates(
        self, tariff_code: str, charge: Charge, rates: Sequence[Rate], window: RateWindow | None = None
    ) -> tuple[int, int]: ...
    def rate_windows(self, tariff_code: str, charge: Charge) -> list[RateWindow]: ...
    def rates(
        self,
        tariff_code: str,
        charge: Charge,
        start: datetime | None = None,
        end: datetime | None = None,
        payment_method: str | None = None,
    ) -> list[Rate]: ...
    def price_columns(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> PriceColumns: ...
    def price_seconds(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> PriceSeconds: ...


class DispatchStore(Protocol):
    """Intelligent Octopus dispatches, every one ever seen."""

    def save_dispatches(
        self, records: Sequence[DispatchRecord], state: tuple[str, str | None] | None, seen_at: datetime
    ) -> tuple[int, int]: ...
    def dispatches(self, start: datetime | None = None, end: datetime | None = None) -> list[DispatchRecord]: ...


class TelemetryStore(Protocol):
    """Home Mini readings (live)."""

    def write_telemetry(self, device_id: str, readings: Sequence[TelemetryReading]) -> int: ...
    def telemetry(self, device_id: str, start: datetime, end: datetime) -> list[TelemetryReading]: ...
    def last_telemetry(self, device_id: str) -> datetime | None: ...
    def latest_telemetry(self) -> list[TelemetryRow]: ...
    def telemetry_extents(self) -> dict[str, tuple[datetime, datetime]]: ...
    def prune_telemetry(self, before: datetime) -> int: ...


class ExportCursorStore(Protocol):
    """What each export destination has been sent."""

    def export_cursors(self, target: str) -> dict[tuple[str, str], ExportCursor]: ...
    def save_export_cursor(self, target: str, measurement: str, series: str, cursor: ExportCursor) -> None: ...


class RunStore(Protocol):
    """The recorded sync runs."""

    def start_run(self, at: datetime) -> int: ...
    def finish_run(self, run_id: int, at: datetime, outcome: str, summary: dict[str, object]) -> None: ...
    def last_run(self) -> tuple[datetime, datetime | None, str] | None: ...
    def last_successful_run(self) -> tuple[datetime, datetime] | None: ...


class NotificationStore(Protocol):
    """Notifications sent, each event once."""

    def notification_sent(self, event: str) -> bool: ...
    def notifications_since(self, since: datetime) -> int: ...
    def record_notification(self, event: str, rule: str, at: datetime) -> None: ...


class CatalogueStore(Protocol):
    """The tariff catalogue: products on sale, their tariffs, and small lookups (a postcode's region)."""

    def save_products(self, products: Sequence[Product], at: datetime) -> None: ...
    def products(self) -> tuple[list[Product], datetime | None]: ...
    def save_product_tariffs(self, product: str, tariffs: Sequence[ProductTariff], at: datetime) -> None: ...
    def product_tariffs(self) -> tuple[list[ProductTariff], dict[str, datetime]]: ...
    def save_lookup(self, key: str, value: str, at: datetime) -> None: ...
    def lookup(self, key: str) -> tuple[str, datetime] | None: ...
    def product_name(self, code: str) -> str | None: ...


class BillStore(Protocol):
    """Bill statements as read from Octopus."""

    def save_statements(self, account: str, statements: Sequence[Statement], at: datetime) -> None: ...
    def statements(self, account: str) -> list[tuple[Statement, datetime]]: ...
    def forget_statements(self, account: str, idents: Iterable[str]) -> None: ...


class TableCopy(Protocol):
    """Every row of every table, for ``octoscope store copy`` (store/copy.py) between backends.

    Tables are the logical ones, named as SQLite names them, in an order in which each one's references are
    written before it. A backend that keeps many accounts scopes both directions to its own account and
    leaves its ``account`` column out of the columns; shared tables (prices, the catalogue) are whole.
    """

    def copy_tables(self) -> list[str]: ...
    def read_table(self, table: str) -> tuple[list[str], Iterator[tuple[object, ...]]]:
        """The columns (without ``account``) and this store's rows of ``table`` in key order, streamed."""
        ...

    def write_table(self, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
        """Write rows (values in ``columns`` order) in one transaction; a row with the key of one already
        there replaces its values. Returns how many were written."""
        ...


class KeptResult(NamedTuple):
    """A slow answer as kept: a digest of what it was worked out from, when, and the answer (JSON text)."""

    inputs: str
    computed_at: datetime
    body: str


class KeptResultStore(Protocol):
    """Slow answers (the tariff comparison, detected charging per block) kept across restarts, one per key
    (what was asked)."""

    def keep_result(self, key: str, inputs: str, body: str, at: datetime) -> None: ...
    def kept_result(self, key: str) -> KeptResult | None: ...
    def kept_results(self, prefix: str) -> dict[str, KeptResult]:
        """Every result kept under a key that starts with ``prefix`` (not empty), by key, in one read."""
        ...


class HealthStore(Protocol):
    """The store about itself: where it is, its schema, whether it changed, whether it is sound."""

    location: str  # what status and doctor show: a SQLite file's path, or a server's DSN without its password

    def schema_version(self) -> int: ...
    def data_version(self) -> tuple[int, int]: ...
    def quick_check(self) -> str | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_: object) -> None: ...


class StoreProtocol(
    RequestLedger,
    TokenVault,
    AccountStore,
    ReadingStore,
    RateStore,
    DispatchStore,
    TelemetryStore,
    ExportCursorStore,
    RunStore,
    NotificationStore,
    CatalogueStore,
    BillStore,
    TableCopy,
    KeptResultStore,
    HealthStore,
    Protocol,
):
    """Everything a store answers: what ``open_store`` returns."""
