"""The embedded database: one SQLite file in WAL mode, written only by upserts.

Every public method takes the store's lock, so the sync's writer thread and the request policy's budget
ledger can share one connection. Values are kept as received, with their unit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from octoscope.clock import SYSTEM
from octoscope.domain.bills import Statement
from octoscope.domain.costs import PriceColumns, PriceSeconds
from octoscope.domain.models import (
    Account,
    Charge,
    DispatchRecord,
    IssuedToken,
    MeterPoint,
    Rate,
    Reading,
    TariffCode,
    TariffInfo,
    TelemetryReading,
)
from octoscope.domain.products import Product, ProductTariff
from octoscope.domain.uktime import epoch, from_epoch
from octoscope.store import runlock
from octoscope.store.errors import StoreError
from octoscope.store.guard import MigrationFailed, NotOurs, inspect, migrate
from octoscope.store.ports import (
    ExportCursor,
    KeptResult,
    RateWindow,
    ReadingColumns,
    SeriesExtent,
    StoreProtocol,
    TableCopy,
    TelemetryRow,
)
from octoscope.store.problems import describe
from octoscope.store.records import (
    BUDGET_KEEP_SECONDS,
    HALF_HOUR,
    PRODUCT_COLUMNS,
    UNIT_CODE,
    Instants,
    account_from_rows,
    device_row,
    dispatch_from_row,
    dispatch_row,
    export_cursor_from_row,
    export_cursor_row,
    meter_row,
    opt_dt,
    opt_epoch,
    point_from_row,
    price_columns_from_rows,
    price_list_where,
    price_seconds_from_rows,
    product_from_row,
    product_row,
    product_tariff_from_row,
    product_upsert,
    property_row,
    rate_window_from_row,
    rate_window_row,
    rates_from_rows,
    reading_columns_from_rows,
    statement_from_row,
    statement_row,
    telemetry_from_row,
    telemetry_row_from_row,
)

__all__ = ["BUDGET_KEEP_SECONDS", "ExportCursor", "RateWindow", "SQLiteStore", "SeriesExtent", "Store", "StoreError"]


class SQLiteStore:
    """An open octoscope database. Use :meth:`open` (or ``store.open_store``); close it when done.

    Every driver error is raised as :class:`StoreError` (see ``_reading`` and ``_transaction``)."""

    def __init__(self, connection: sqlite3.Connection, path: Path, clock: Callable[[], float] = SYSTEM) -> None:
        self._db = connection
        self.path = path
        self.location = str(path)
        self.clock = clock  # stamps what the store records of itself (when a migration ran)
        self._lock = threading.RLock()
        self._series_ids: dict[str, int] = {}
        self._run_locks: dict[int, int | None] = {}  # run id -> its lock's descriptor (store.runlock)

    @classmethod
    def open(cls, path: Path | str, clock: Callable[[], float] = SYSTEM) -> SQLiteStore:
        path = Path(path)
        try:
            found = inspect(path)  # reads only: another application's file, or a newer release's, stays as it is
        except NotOurs as err:
            raise StoreError(str(err)) from None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Owner only: the database keeps the GraphQL refresh token. SQLite gives the -wal and -shm
            # files the database file's mode.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            path.chmod(0o600)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            connection.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"cannot open the database: {describe(err, path)}") from None
        store = cls(connection, path, clock)
        try:
            if found.pending:
                store._migrate()
            # After migrating: a failed upgrade leaves even the header's journal mode as it was.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
            if runlock.none_running(path):  # runs left 'running' by a killed process: say they were stopped
                with store._lock:
                    connection.execute("UPDATE sync_runs SET outcome = 'interrupted' WHERE outcome = 'running'")
        except (MigrationFailed, NotOurs) as err:
            connection.close()
            raise StoreError(str(err)) from None
        except sqlite3.Error as err:
            connection.close()
            raise StoreError(f"cannot open the database: {describe(err, path)}") from None
        return store

    def close(self) -> None:
        with self._reading():
            self._db.close()

    def quick_check(self) -> str | None:
        """SQLite's ``quick_check``: None if the file is sound, else its first finding."""
        with self._reading():
            found = self._db.execute("PRAGMA quick_check(1)").fetchone()[0]
        return None if found == "ok" else str(found)

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a driver error leaves as :class:`StoreError`, naming the file."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as err:
                raise StoreError(describe(err, self.path)) from err

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._reading() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back by itself (a full disk, an I/O error)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._lock:  # its errors are open()'s to say
            migrate(self._db, self.path, int(self.clock()))

    def schema_version(self) -> int:
        with self._reading():
            row = self._db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def data_version(self) -> tuple[int, int]:
        """Changes so far: by this connection, and by any other (another process's sync). While it is
        unchanged, an answer worked out from the store is still the answer."""
        with self._reading():
            (other,) = self._db.execute("PRAGMA data_version").fetchone()
            return self._db.total_changes, int(other)

    # --- request budget and tokens: the octopus clients' persistence ------------------------------------

    def requests_since(self, key_id: str, api: str, since: float) -> list[float]:
        """When each request under the key was sent, from ``since`` on."""
        with self._reading():
            rows = self._db.execute(
                "SELECT at FROM request_budget WHERE key_id = ? AND api = ? AND at >= ? ORDER BY at",
                (key_id, api, since),
            ).fetchall()
        return [row[0] for row in rows]

    def record_request(self, key_id: str, api: str, at: float) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO request_budget (key_id, api, at) VALUES (?, ?, ?)", (key_id, api, at))
            # Pruned on the clock that wrote the row, per key and API: a caller on another clock (a test's,
            # a replay's) never deletes what is still counted.
            db.execute(
                "DELETE FROM request_budget WHERE key_id = ? AND api = ? AND at < ?",
                (key_id, api, at - BUDGET_KEEP_SECONDS),
            )

    def load_token(self, key_id: str) -> IssuedToken | None:
        with self._reading():
            row = self._db.execute(
                "SELECT token, expires_at, refresh_token, refresh_expires_at FROM tokens WHERE key_id = ?", (key_id,)
            ).fetchone()
        return None if row is None else IssuedToken(*row)

    def save_token(self, key_id: str, token: IssuedToken) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO tokens (key_id, token, expires_at, refresh_token, refresh_expires_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET token = excluded.token,"
                " expires_at = excluded.expires_at, refresh_token = excluded.refresh_token,"
                " refresh_expires_at = excluded.refresh_expires_at",
                (key_id, *token),
            )

    def forget_token(self, key_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM tokens WHERE key_id = ?", (key_id,))

    # --- the account ------------------------------------------------------------------------------------

    def save_account(self, account: Account, tariffs: Iterable[TariffInfo], at: datetime) -> None:
        """Upsert the account's properties, meter points, meters, agreements, devices and tariffs."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO accounts (number, discovered_at) VALUES (?, ?)"
                " ON CONFLICT (number) DO UPDATE SET discovered_at = excluded.discovered_at",
                (account.number, epoch(at)),
            )
            for prop in account.properties:
                db.execute(
                    "INSERT INTO properties (account, id, moved_in_at, moved_out_at, postcode, address)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET moved_in_at = excluded.moved_in_at,"
                    " moved_out_at = excluded.moved_out_at, postcode = excluded.postcode, address = excluded.address",
                    (account.number, *property_row(prop)),
                )
                for point in prop.meter_points:
                    self._save_point(db, prop.id, point)
            for device in account.devices:
                db.execute(
                    "INSERT INTO devices (account, id, device_type, provider, status, state, make, model)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                    " device_type = excluded.device_type,"
                    " provider = excluded.provider, status = excluded.status, state = excluded.state,"
                    " make = excluded.make, model = excluded.model",
                    (account.number, *device_row(device)),
                )
            for info in tariffs:
                self._save_tariff(db, info)

    def _save_point(self, db: sqlite3.Connection, property_id: str, point: MeterPoint) -> None:
        db.execute(
            "INSERT INTO meter_points (identifier, property_id, fuel, direction, profile_class, series)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (identifier) DO UPDATE SET property_id = excluded.property_id,"
            " direction = excluded.direction, profile_class = excluded.profile_class",
            (point.identifier, property_id, point.fuel.value, point.direction.value, point.profile_class, point.series),
        )
        db.execute("INSERT OR IGNORE INTO series (name, point) VALUES (?, ?)", (point.series, point.identifier))
        for meter in point.meters:
            db.execute(
                "INSERT INTO meters (point, serial, registers, active_from, active_to, unit, meter_type, device_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (point, serial) DO UPDATE SET"
                " registers = excluded.registers, active_from = COALESCE(excluded.active_from, active_from),"
                " active_to = COALESCE(excluded.active_to, active_to), unit = COALESCE(excluded.unit, unit),"
                " meter_type = COALESCE(excluded.meter_type, meter_type),"
                " device_id = COALESCE(excluded.device_id, device_id)",
                meter_row(point.identifier, meter),
            )
        # The fresh account is the truth: agreements and meters it no longer lists (a corrected start date,
        # a serial entered by mistake) go, so that no stale tariff is priced.
        starts = [epoch(a.valid_from) for a in point.agreements]
        db.execute(
            f"DELETE FROM agreements WHERE point = ? AND valid_from NOT IN ({', '.join('?' * len(starts))})",  # noqa: S608
            (point.identifier, *starts),
        )
        serials = [m.serial for m in point.meters]
        db.execute(
            f"DELETE FROM meters WHERE point = ? AND serial NOT IN ({', '.join('?' * len(serials))})",  # noqa: S608
            (point.identifier, *serials),
        )
        for agreement in point.agreements:
            db.execute(
                "INSERT INTO agreements (point, valid_from, valid_to, tariff_code) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (point, valid_from) DO UPDATE SET valid_to = excluded.valid_to,"
                " tariff_code = excluded.tariff_code",
                (point.identifier, epoch(agreement.valid_from), opt_epoch(agreement.valid_to), agreement.tariff_code),
            )
            self._save_tariff(db, TariffInfo(agreement.tariff_code, agreement.tariff.product, None, None, None))

    @staticmethod
    def _save_tariff(db: sqlite3.Connection, info: TariffInfo) -> None:
        code = TariffCode.parse(info.code)
        db.execute(
            "INSERT INTO tariffs (code, product, fuel, registers, region, kind) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (code) DO UPDATE SET kind = COALESCE(excluded.kind, kind)",
            (info.code, info.product, code.fuel.value, code.registers, code.region, info.kind),
        )
        db.execute(
            "INSERT INTO products (code, full_name, display_name) VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET"
            " full_name = COALESCE(excluded.full_name, full_name),"
            " display_name = COALESCE(excluded.display_name, display_name)",
            (info.product, info.full_name, info.display_name),
        )

    def account_read_at(self, number: str) -> datetime | None:
        """When the account was last read from Octopus (by a sync or the scheduler), if ever."""
        with self._reading():
            row = self._db.execute("SELECT discovered_at FROM accounts WHERE number = ?", (number,)).fetchone()
        return None if row is None else from_epoch(row[0])

    def load_account(self, number: str) -> Account | None:
        with self._reading():
            if self._db.execute("SELECT 1 FROM accounts WHERE number = ?", (number,)).fetchone() is None:
                return None
            props = self._db.execute(
                "SELECT id, moved_in_at, moved_out_at, postcode, address FROM properties WHERE account = ?"
                " ORDER BY moved_in_at",
                (number,),
            ).fetchall()
            properties = [(row, self._load_points(row[0])) for row in props]
            devices = self._db.execute(
                "SELECT id, device_type, provider, status, state, make, model FROM devices WHERE account = ?"
                " ORDER BY id",
                (number,),
            ).fetchall()
        return account_from_rows(number, properties, devices)

    def _load_points(self, property_id: str) -> tuple[MeterPoint, ...]:
        db = self._db
        return tuple(
            point_from_row(
                row,
                db.execute(
                    "SELECT serial, registers, active_from, active_to, unit, meter_type, device_id FROM meters"
                    " WHERE point = ? ORDER BY COALESCE(active_from, ''), serial",
                    (row[0],),
                ).fetchall(),
                db.execute(
                    "SELECT valid_from, valid_to, tariff_code FROM agreements WHERE point = ? ORDER BY valid_from",
                    (row[0],),
                ).fetchall(),
            )
            for row in db.execute(
                "SELECT identifier, fuel, direction, profile_class FROM meter_points WHERE property_id = ?"
                " ORDER BY fuel, direction, identifier",
                (property_id,),
            ).fetchall()
        )

    # --- consumption ------------------------------------------------------------------------------------

    def _series_id(self, series: str) -> int:
        if series not in self._series_ids:
            row = self._db.execute("SELECT id FROM series WHERE name = ?", (series,)).fetchone()
            if row is None:
                raise StoreError(f"series {series} is unknown: save the account before its consumption")
            self._series_ids[series] = row[0]
        return self._series_ids[series]

    def write_consumption(self, series: str, serial: str, unit: str, readings: Sequence[Reading]) -> tuple[int, int]:
        """Upsert readings; returns (new rows, changed rows).

        A meter revises its own half-hours. Where two meters of one point report the same half-hour (the day
        of an exchange), a reading replaces the other meter's only if that one is zero and this one is not,
        or, both being readings, if its serial sorts later: the outcome does not depend on which came first.
        """
        if not readings:
            return 0, 0
        starts = [epoch(r.start) for r in readings]
        with self._transaction() as db:
            sid = self._series_id(series)
            lo, hi = min(starts), max(starts)
            (before,) = db.execute(
                "SELECT COUNT(*) FROM consumption WHERE series_id = ? AND interval_start BETWEEN ? AND ?", (sid, lo, hi)
            ).fetchone()
            changes = db.total_changes
            db.executemany(
                "INSERT INTO consumption (series_id, interval_start, value, unit, serial) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (series_id, interval_start) DO UPDATE SET value = excluded.value, unit = excluded.unit,"
                " serial = excluded.serial WHERE CASE WHEN serial = excluded.serial"
                " THEN value IS NOT excluded.value OR unit IS NOT excluded.unit"
                " ELSE (value = 0 AND excluded.value != 0)"
                " OR ((value = 0) = (excluded.value = 0) AND excluded.serial > serial) END",
                [(sid, start, r.value, unit, serial) for start, r in zip(starts, readings, strict=True)],
            )
            touched = db.total_changes - changes
            (after,) = db.execute(
                "SELECT COUNT(*) FROM consumption WHERE series_id = ? AND interval_start BETWEEN ? AND ?", (sid, lo, hi)
            ).fetchone()
        new = after - before
        return new, touched - new

    def mark_synced(self, series: str, serial: str, synced_to: datetime, at: datetime) -> None:
        """Record that a meter's readings were read whole up to ``synced_to``, at ``at``."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sync_cursors (series, serial, synced_at, synced_to) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (series, serial) DO UPDATE SET synced_at = excluded.synced_at,"
                " synced_to = MAX(synced_to, excluded.synced_to)",
                (series, serial, epoch(at), epoch(synced_to)),
            )

    def meter_extents(self) -> dict[tuple[str, str], tuple[datetime, datetime]]:
        """(series, serial) -> the first and last half-hour stored from that meter."""
        with self._reading():
            rows = self._db.execute(
                "SELECT s.name, c.serial, MIN(c.interval_start), MAX(c.interval_start) FROM consumption c"
                " JOIN series s ON s.id = c.series_id GROUP BY s.name, c.serial"
            ).fetchall()
        return {(name, serial): (from_epoch(lo), from_epoch(hi)) for name, serial, lo, hi in rows}

    def series_extent(self, series: str) -> SeriesExtent | None:
        with self._reading():
            row = self._db.execute(
                "SELECT MIN(c.interval_start), MAX(c.interval_start), COUNT(*),"
                " (SELECT unit FROM consumption WHERE series_id = s.id ORDER BY interval_start DESC LIMIT 1)"
                " FROM series s JOIN consumption c ON c.series_id = s.id WHERE s.name = ?",
                (series,),
            ).fetchone()
        if row is None or row[2] == 0:
            return None
        return SeriesExtent(series, row[3], from_epoch(row[0]), from_epoch(row[1]), row[2])

    def series_gaps(self, series: str) -> list[tuple[datetime, datetime]]:
        """Missing stretches between the first and last stored half-hour, as [start, end)."""
        with self._reading():
            rows = self._db.execute(
                "SELECT prev + ?, interval_start FROM (SELECT interval_start, LAG(interval_start) OVER"
                " (ORDER BY interval_start) AS prev FROM consumption WHERE series_id ="
                " (SELECT id FROM series WHERE name = ?)) WHERE interval_start - prev > ?",
                (HALF_HOUR, series, HALF_HOUR),
            ).fetchall()
        return [(from_epoch(a), from_epoch(b)) for a, b in rows]

    def readings(self, series: str, start: datetime, end: datetime) -> list[tuple[datetime, float, str]]:
        with self._reading():
            rows = self._db.execute(
                "SELECT interval_start, value, unit FROM consumption WHERE series_id ="
                " (SELECT id FROM series WHERE name = ?) AND interval_start >= ? AND interval_start < ?"
                " ORDER BY interval_start",
                (series, epoch(start), epoch(end)),
            ).fetchall()
        instants = Instants()
        return [(instants.at(s), v, u) for s, v, u in rows]

    def reading_columns(self, series: str, start: datetime, end: datetime) -> ReadingColumns:
        """:meth:`readings` as columns, the instants left in epoch seconds (the usual units read as codes)."""
        with self._reading():
            # the rows taken from the cursor as it steps, not gathered in a list first
            return reading_columns_from_rows(
                self._db.execute(
                    f"SELECT interval_start, value, {UNIT_CODE} FROM consumption WHERE series_id ="  # noqa: S608 - our constant
                    " (SELECT id FROM series WHERE name = ?) AND interval_start >= ? AND interval_start < ?"
                    " ORDER BY interval_start",
                    (series, epoch(start), epoch(end)),
                )
            )

    def cursors(self) -> dict[tuple[str, str], tuple[datetime, datetime]]:
        """Per (series, serial): when it was last read, and up to which instant it was read whole."""
        with self._reading():
            rows = self._db.execute("SELECT series, serial, synced_at, synced_to FROM sync_cursors").fetchall()
        return {(name, serial): (from_epoch(at), from_epoch(to)) for name, serial, at, to in rows}

    # --- rates ------------------------------------------------------------------------------------------

    def write_rates(
        self, tariff_code: str, charge: Charge, rates: Sequence[Rate], window: RateWindow | None = None
    ) -> tuple[int, int]:
        """Upsert one page of a price list; with ``window``, also record the window as fetched (same commit)."""
        with self._transaction() as db:
            changes = db.total_changes
            extra: tuple[str, ...] = ()
            if charge is Charge.STANDING:
                table, key = "standing_charges", "tariff_code, payment_method, valid_from"
            else:
                table, key, extra = "unit_rates", "tariff_code, register, payment_method, valid_from", (charge.value,)
            columns = key + ", valid_to, value_exc_vat, value_inc_vat"
            placeholders = ", ".join("?" * len(columns.split(",")))
            rows = [
                (
                    tariff_code,
                    *extra,
                    r.payment_method or "",
                    epoch(r.valid_from),
                    opt_epoch(r.valid_to),
                    r.value_exc_vat,
                    r.value_inc_vat,
                )
                for r in rates
            ]
            # New rows first (a primary-key probe each), then changes to the rest: both cost O(page), where
            # counting the tariff's rows before and after costs O(rows stored) per page.
            db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING", rows)  # noqa: S608
            new = db.total_changes - changes
            if new < len(rows):
                n = len(key.split(","))
                match = " AND ".join(f"{c.strip()} = ?{i}" for i, c in enumerate(key.split(","), start=1))
                db.executemany(
                    f"UPDATE {table} SET valid_to = ?{n + 1}, value_exc_vat = ?{n + 2}, value_inc_vat = ?{n + 3}"  # noqa: S608
                    f" WHERE {match} AND (valid_to IS NOT ?{n + 1} OR value_exc_vat IS NOT ?{n + 2}"
                    f" OR value_inc_vat IS NOT ?{n + 3})",
                    rows,
                )
            touched = db.total_changes - changes
            if window is not None:
                db.execute(
                    "INSERT INTO rate_windows (tariff_code, charge, window_from, window_to, settled_to, fresh_until)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tariff_code, charge, window_from, window_to) DO UPDATE"
                    " SET settled_to = MAX(settled_to, excluded.settled_to), fresh_until = excluded.fresh_until",
                    rate_window_row(tariff_code, charge, window),
                )
        return new, touched - new

    def rate_windows(self, tariff_code: str, charge: Charge) -> list[RateWindow]:
        with self._reading():
            rows = self._db.execute(
                "SELECT window_from, window_to, settled_to, fresh_until FROM rate_windows"
                " WHERE tariff_code = ? AND charge = ? ORDER BY window_from",
                (tariff_code, charge.value),
            ).fetchall()
        return [rate_window_from_row(row) for row in rows]

    def rates(
        self,
        tariff_code: str,
        charge: Charge,
        start: datetime | None = None,
        end: datetime | None = None,
        payment_method: str | None = None,
    ) -> list[Rate]:
        """A price list in time order: the records overlapping [start, end) if given, and, with
        ``payment_method``, only that method's records and those that name none (Agile, Outgoing)."""
        table, where, args = price_list_where(tariff_code, charge, start, end, payment_method, "?")
        with self._reading():
            rows = self._db.execute(
                f"SELECT valid_from, valid_to, value_exc_vat, value_inc_vat, payment_method FROM {table}"  # noqa: S608
                f" WHERE {where} ORDER BY valid_from",
                args,
            ).fetchall()
        return rates_from_rows(rows)

    def price_columns(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> PriceColumns:
        """The records of one price list overlapping [start, end), for ``payment_method`` and those that name
        none, as columns in time order: no record object per row (a year of Agile is 17,520 rows)."""
        return price_columns_from_rows(self._price_rows(tariff_code, charge, start, end, payment_method))

    def price_seconds(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> PriceSeconds:
        """:meth:`price_columns` with the instants in epoch seconds, as stored: what the cost engine compares."""
        return price_seconds_from_rows(self._price_rows(tariff_code, charge, start, end, payment_method))

    def _price_rows(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> list[tuple[Any, ...]]:
        """(valid_from, valid_to, value_exc_vat, value_inc_vat) of one price list over [start, end), in time order."""
        table, where, args = price_list_where(tariff_code, charge, start, end, payment_method, "?")
        with self._reading():
            rows = self._db.execute(
                f"SELECT valid_from, valid_to, value_exc_vat, value_inc_vat FROM {table} WHERE {where}"  # noqa: S608
                " ORDER BY valid_from",
                args,
            ).fetchall()
        return rows

    # --- dispatches -------------------------------------------------------------------------------------

    def save_dispatches(
        self, records: Sequence[DispatchRecord], state: tuple[str, str | None] | None, seen_at: datetime
    ) -> tuple[int, int]:
        """Keep every dispatch ever seen (Octopus forgets completed ones after about 12 hours); with
        ``state`` (device id, state), the device's state too. Returns (new, changed)."""
        with self._transaction() as db:
            changes = db.total_changes
            (before,) = db.execute("SELECT COUNT(*) FROM dispatches").fetchone()
            db.executemany(
                "INSERT INTO dispatches (device_id, kind, start, end, charge_type, energy_kwh, source, location,"
                " seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, kind, start) DO UPDATE SET"
                " end = excluded.end, charge_type = COALESCE(excluded.charge_type, charge_type),"
                " energy_kwh = excluded.energy_kwh, source = COALESCE(excluded.source, source),"
                " location = COALESCE(excluded.location, location), seen_at = excluded.seen_at"
                " WHERE end IS NOT excluded.end OR energy_kwh IS NOT excluded.energy_kwh",
                [dispatch_row(r, seen_at) for r in records],
            )
            touched = db.total_changes - changes
            (after,) = db.execute("SELECT COUNT(*) FROM dispatches").fetchone()
            if state is not None:
                db.execute("UPDATE devices SET state = ? WHERE id = ?", (state[1], state[0]))
        return after - before, touched - (after - before)

    def dispatches(self, start: datetime | None = None, end: datetime | None = None) -> list[DispatchRecord]:
        """Every stored dispatch overlapping [start, end), in time order."""
        with self._reading():
            rows = self._db.execute(
                "SELECT device_id, kind, start, end, charge_type, energy_kwh, source, location FROM dispatches"
                " WHERE end > ? AND start < ? ORDER BY start, kind",
                (epoch(start) if start else 0, epoch(end) if end else 2**62),
            ).fetchall()
        return [dispatch_from_row(row) for row in rows]

    # --- telemetry and export cursors --------------------------------------------------------------------

    def latest_telemetry(self) -> list[TelemetryRow]:
        """The newest Home Mini reading of each device."""
        with self._reading():
            rows = self._db.execute(
                "SELECT t.device_id, t.read_at, t.consumption_wh, t.delta_wh, t.demand_w, t.export_wh FROM telemetry t"
                " JOIN (SELECT device_id, MAX(read_at) AS newest FROM telemetry GROUP BY device_id) n"
                " ON n.device_id = t.device_id AND n.newest = t.read_at ORDER BY t.device_id"
            ).fetchall()
        return [telemetry_row_from_row(row) for row in rows]

    def telemetry_extents(self) -> dict[str, tuple[datetime, datetime]]:
        """Per device: its first and last reading."""
        with self._reading():
            rows = self._db.execute(
                "SELECT device_id, MIN(read_at), MAX(read_at) FROM telemetry GROUP BY device_id"
            ).fetchall()
        return {d: (from_epoch(lo), from_epoch(hi)) for d, lo, hi in rows}

    def export_cursors(self, target: str) -> dict[tuple[str, str], ExportCursor]:
        """(measurement, series) -> what was written to ``target`` (a sink's description, no secret)."""
        with self._reading():
            rows = self._db.execute(
                "SELECT measurement, series, exported_from, exported_to, exported_at, points FROM export_cursors"
                " WHERE target = ?",
                (target,),
            ).fetchall()
        return dict(export_cursor_from_row(row) for row in rows)

    def save_export_cursor(self, target: str, measurement: str, series: str, cursor: ExportCursor) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO export_cursors (target, measurement, series, exported_from, exported_to, exported_at,"
                " points) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (target, measurement, series) DO UPDATE SET"
                " exported_from = excluded.exported_from, exported_to = excluded.exported_to,"
                " exported_at = excluded.exported_at, points = excluded.points",
                (target, measurement, series, *export_cursor_row(cursor)),
            )

    def write_telemetry(self, device_id: str, readings: Sequence[TelemetryReading]) -> int:
        """Upsert readings (a re-read one overwrites); returns how many were written."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO telemetry (device_id, read_at, consumption_wh, delta_wh, demand_w, export_wh)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, read_at) DO UPDATE SET"
                " consumption_wh = excluded.consumption_wh, delta_wh = excluded.delta_wh,"
                " demand_w = excluded.demand_w, export_wh = excluded.export_wh",
                [
                    (device_id, epoch(r.read_at), r.consumption_wh, r.delta_wh, r.demand_w, r.export_wh)
                    for r in readings
                ],
            )
        return len(readings)

    def telemetry(self, device_id: str, start: datetime, end: datetime) -> list[TelemetryReading]:
        """Recorded readings in [start, end), oldest first."""
        with self._reading():
            rows = self._db.execute(
                "SELECT read_at, consumption_wh, delta_wh, demand_w, export_wh FROM telemetry"
                " WHERE device_id = ? AND read_at >= ? AND read_at < ? ORDER BY read_at",
                (device_id, epoch(start), epoch(end)),
            ).fetchall()
        return [telemetry_from_row(row) for row in rows]

    def last_telemetry(self, device_id: str) -> datetime | None:
        with self._reading():
            row = self._db.execute("SELECT MAX(read_at) FROM telemetry WHERE device_id = ?", (device_id,)).fetchone()
        return opt_dt(row[0])

    def prune_telemetry(self, before: datetime) -> int:
        """Forget recorded readings older than ``before`` (the retention setting); returns how many."""
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM telemetry WHERE read_at < ?", (epoch(before),))
        return cursor.rowcount

    # --- runs -------------------------------------------------------------------------------------------

    def start_run(self, at: datetime) -> int:
        lock = runlock.hold(self.path)  # held while the run runs: see store.runlock
        with self._transaction() as db:
            cursor = db.execute("INSERT INTO sync_runs (started_at, outcome) VALUES (?, 'running')", (epoch(at),))
        run_id = int(cursor.lastrowid or 0)
        self._run_locks[run_id] = lock
        return run_id

    def finish_run(self, run_id: int, at: datetime, outcome: str, summary: dict[str, object]) -> None:
        runlock.release(self._run_locks.pop(run_id, None))
        with self._transaction() as db:
            db.execute(
                "UPDATE sync_runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
                (epoch(at), outcome, json.dumps(summary, default=str), run_id),
            )

    def last_run(self) -> tuple[datetime, datetime | None, str] | None:
        with self._reading():
            row = self._db.execute(
                "SELECT started_at, finished_at, outcome FROM sync_runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (from_epoch(row[0]), opt_dt(row[1]), row[2])

    def last_successful_run(self) -> tuple[datetime, datetime] | None:
        """The start and end of the newest sync that finished ``ok`` (MQTT's sync health)."""
        with self._reading():
            row = self._db.execute(
                "SELECT started_at, finished_at FROM sync_runs WHERE outcome = 'ok' AND finished_at IS NOT NULL"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (from_epoch(row[0]), from_epoch(row[1]))

    # --- notifications sent (outputs/notify.py) -------------------------------------------------------

    def notification_sent(self, event: str) -> bool:
        with self._reading():
            row = self._db.execute("SELECT 1 FROM notifications_sent WHERE event = ?", (event,)).fetchone()
        return row is not None

    def notifications_since(self, since: datetime) -> int:
        with self._reading():
            row = self._db.execute(
                "SELECT COUNT(*) FROM notifications_sent WHERE sent_at >= ?", (epoch(since),)
            ).fetchone()
        return int(row[0])

    def record_notification(self, event: str, rule: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO notifications_sent (event, rule, sent_at) VALUES (?, ?, ?)",
                (event, rule, epoch(at)),
            )

    # --- end of notifications ------------------------------------------------------------------------

    def tariff_kinds(self) -> dict[str, str | None]:
        """Tariff code -> GraphQL tariff type (HalfHourlyTariff for Agile-like prices), where known."""
        with self._reading():
            return dict(self._db.execute("SELECT code, kind FROM tariffs").fetchall())

    # --- the tariff catalogue ---------------------------------------------------------------------------

    def save_products(self, products: Sequence[Product], at: datetime) -> None:
        """The products on sale, as listed at ``at``: those no longer listed go, with their tariffs; a
        product listed again keeps its tariffs (and when they were read)."""
        codes = [p.code for p in products]
        with self._transaction() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS listed (code TEXT PRIMARY KEY)")
            db.execute("DELETE FROM listed")
            db.executemany("INSERT OR IGNORE INTO listed (code) VALUES (?)", [(c,) for c in codes])
            db.execute("DELETE FROM catalogue_tariffs WHERE product NOT IN (SELECT code FROM listed)")
            db.execute("DELETE FROM catalogue_products WHERE code NOT IN (SELECT code FROM listed)")
            db.executemany(
                product_upsert("?"),
                [product_row(p, i) for i, p in enumerate(products)],
            )
            db.execute(
                "INSERT INTO catalogue_lookups (key, value, fetched_at) VALUES ('products', '', ?)"
                " ON CONFLICT (key) DO UPDATE SET fetched_at = excluded.fetched_at",
                (epoch(at),),
            )

    def products(self) -> tuple[list[Product], datetime | None]:
        """The products last listed, in the API's order, and when they were listed (None: never)."""
        with self._reading():
            rows = self._db.execute(
                f"SELECT {PRODUCT_COLUMNS} FROM catalogue_products ORDER BY position"  # noqa: S608
            ).fetchall()
            listed = self._db.execute("SELECT fetched_at FROM catalogue_lookups WHERE key = 'products'").fetchone()
        products = [product_from_row(r) for r in rows]
        return products, None if listed is None else from_epoch(listed[0])

    def save_product_tariffs(self, product: str, tariffs: Sequence[ProductTariff], at: datetime) -> None:
        """A product's tariffs as its detail lists them at ``at`` (replacing what was kept)."""
        with self._transaction() as db:
            db.execute("DELETE FROM catalogue_tariffs WHERE product = ?", (product,))
            db.executemany(
                "INSERT INTO catalogue_tariffs (product, tariff_code, region, fuel, registers) VALUES (?, ?, ?, ?, ?)",
                [(product, t.code, t.region, t.fuel.value, t.registers) for t in tariffs],
            )
            db.execute("UPDATE catalogue_products SET detailed_at = ? WHERE code = ?", (epoch(at), product))

    def product_tariffs(self) -> tuple[list[ProductTariff], dict[str, datetime]]:
        """Every product tariff kept, and when each product's tariffs were read (products never read are
        absent)."""
        with self._reading():
            rows = self._db.execute(
                "SELECT product, tariff_code, region, fuel, registers FROM catalogue_tariffs"
                " ORDER BY product, fuel, registers, region"
            ).fetchall()
            read = self._db.execute(
                "SELECT code, detailed_at FROM catalogue_products WHERE detailed_at IS NOT NULL"
            ).fetchall()
        tariffs = [product_tariff_from_row(row) for row in rows]
        return tariffs, {code: from_epoch(at) for code, at in read}

    def save_lookup(self, key: str, value: str, at: datetime) -> None:
        """A small answer worth keeping (a postcode's region), with when it was fetched."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO catalogue_lookups (key, value, fetched_at) VALUES (?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at",
                (key, value, epoch(at)),
            )

    def lookup(self, key: str) -> tuple[str, datetime] | None:
        with self._reading():
            row = self._db.execute("SELECT value, fetched_at FROM catalogue_lookups WHERE key = ?", (key,)).fetchone()
        return None if row is None else (row[0], from_epoch(row[1]))

    def product_name(self, code: str) -> str | None:
        """A product's display name, from the catalogue or from what the account's discovery learnt."""
        with self._reading():
            row = self._db.execute(
                "SELECT display_name FROM catalogue_products WHERE code = ?1 UNION ALL"
                " SELECT COALESCE(display_name, full_name) FROM products WHERE code = ?1",
                (code,),
            ).fetchone()
        return None if row is None else row[0]

    # --- bill statements (issue 21) ----------------------------------------------------------------------

    def save_statements(self, account: str, statements: Sequence[Statement], at: datetime) -> None:
        """Upsert statements as read at ``at`` (an open one read again replaces itself)."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO bill_statements (account, id, status, from_date, to_date, body, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, id) DO UPDATE SET status = excluded.status,"
                " from_date = excluded.from_date, to_date = excluded.to_date, body = excluded.body,"
                " fetched_at = excluded.fetched_at",
                [(account, *statement_row(st, at)) for st in statements],
            )

    def statements(self, account: str) -> list[tuple[Statement, datetime]]:
        """The account's statements kept, oldest period first, each with when it was read."""
        with self._reading():
            rows = self._db.execute(
                "SELECT body, fetched_at FROM bill_statements WHERE account = ? ORDER BY from_date, id", (account,)
            ).fetchall()
        return [statement_from_row(row) for row in rows]

    def forget_statements(self, account: str, idents: Iterable[str]) -> None:
        """Drop kept statements (an open one Octopus no longer lists)."""
        with self._transaction() as db:
            db.executemany("DELETE FROM bill_statements WHERE account = ? AND id = ?", [(account, i) for i in idents])

    # --- copying between stores (store/copy.py) ----------------------------------------------------------

    def copy_tables(self) -> list[str]:
        """The data tables in the order they were created, which puts every referenced table first; not the
        migration record, which each store keeps for itself."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name != 'schema_migrations' ORDER BY rowid"
            ).fetchall()
        return [r[0] for r in rows]

    def _copy_layout(self, table: str) -> tuple[list[str], list[str], bool]:
        """(every column, the key's columns, whether it has an account column) of a data table."""
        if table not in self.copy_tables():
            raise StoreError(f"{self.path} has no table {table!r} to copy")
        with self._reading() as db:
            info = db.execute(f"PRAGMA table_info({table})").fetchall()
        columns = [r[1] for r in info]
        key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        return [c for c in columns if c != "account"], key, "account" in columns

    def read_table(self, table: str) -> tuple[list[str], Iterator[tuple[object, ...]]]:
        """Every row, in key order (all columns where there is no key), fetched a batch at a time. One file
        holds one account, so its ``account`` column (properties, devices, statements) is left out."""
        columns, key, _ = self._copy_layout(table)
        order = ", ".join(key or columns)
        with self._reading() as db:
            cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")  # noqa: S608

        def rows() -> Iterator[tuple[object, ...]]:
            try:
                while True:
                    with self._reading():
                        batch = cursor.fetchmany(2000)
                    if not batch:
                        return
                    yield from batch
            finally:
                cursor.close()

        return columns, rows()

    def write_table(self, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
        """Upsert rows in one transaction. A table's ``account`` column, left out by ``read_table``, is filled
        with the account of the ``accounts`` table (written first), which must then hold exactly one."""
        names, key, scoped = self._copy_layout(table)
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise StoreError(f"{self.path}: table {table} has no column {', '.join(unknown)}")
        columns = list(columns)
        account: list[object] = []
        if scoped:
            with self._reading() as db:
                found = db.execute("SELECT number FROM accounts").fetchall()
            if len(found) != 1:
                raise StoreError(f"{self.path} holds {len(found)} accounts: copy the accounts table first, one account")
            columns.append("account")
            account = [found[0][0]]
        marks = ", ".join("?" for _ in columns)
        if key:
            rest = [c for c in columns if c not in key]
            action = f"UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}" if rest else "NOTHING"
            # Table and column names are the schema's own (checked above), never a caller's text
            target, conflict = f"{table} ({', '.join(columns)})", ", ".join(key)
            sql = f"INSERT INTO {target} VALUES ({marks}) ON CONFLICT ({conflict}) DO {action}"  # noqa: S608
            values: Iterator[tuple[object, ...]] = (tuple(row) + tuple(account) for row in rows)
        else:  # a table without a key (the request ledger): a row already there is not written twice
            same = " AND ".join(f"{c} IS ?" for c in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {marks} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same})"  # noqa: S608, E501
            values = (tuple(row) + tuple(account) + tuple(row) + tuple(account) for row in rows)
        counted = [0]

        def counting() -> Iterator[tuple[object, ...]]:
            for value in values:
                counted[0] += 1
                yield value

        with self._transaction() as db:
            db.executemany(sql, counting())
        if table == "series":
            self._series_ids.clear()  # ids written under names this store may have cached otherwise
        return counted[0]

    # --- kept results (issue 18: the comparison kept across restarts) -------------------------------------

    def keep_result(self, key: str, inputs: str, body: str, at: datetime) -> None:
        """Keep ``body`` as the answer to ``key`` (replacing the one kept), worked out from ``inputs``."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO kept_results (key, inputs, computed_at, body) VALUES (?, ?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET inputs = excluded.inputs, computed_at = excluded.computed_at, body = excluded.body",
                (key, inputs, epoch(at), body),
            )

    def kept_result(self, key: str) -> KeptResult | None:
        with self._reading():
            row = self._db.execute(
                "SELECT inputs, computed_at, body FROM kept_results WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else KeptResult(row[0], from_epoch(row[1]), row[2])

    def kept_results(self, prefix: str) -> dict[str, KeptResult]:
        """Every result kept under a key starting with ``prefix``, in one read (a range of the key's index:
        keys compare as bytes, so those with the prefix lie between it and its last character's successor)."""
        if not prefix:
            raise ValueError("a kept results prefix cannot be empty")
        beyond = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        with self._reading():
            rows = self._db.execute(
                "SELECT key, inputs, computed_at, body FROM kept_results WHERE key >= ? AND key < ?", (prefix, beyond)
            ).fetchall()
        return {key: KeptResult(inputs, from_epoch(at), body) for key, inputs, at, body in rows}


Store = SQLiteStore  # the name the rest of the code knew it by

if TYPE_CHECKING:
    # mypy checks here that the SQLite backend answers every protocol in store.ports.
    _satisfies: type[StoreProtocol] = SQLiteStore
    _copies: type[TableCopy] = SQLiteStore
