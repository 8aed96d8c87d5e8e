"""The server database: PostgreSQL through psycopg 3, one store per account, many accounts in one database.

A store is bound to one account (``PostgresStore.open(dsn, clock, account=...)``): every read filters on it and
every write stamps it. Stores of one process share one connection pool per DSN, so a thousand accounts cost
a handful of connections, not a thousand pools. Each write call is one transaction that first bumps the
account's row in ``account_versions`` (``data_version``), which also lines up one account's writers.

The schema (store/postgres_schema.py) mirrors SQLite's; the semantics of every method are SQLiteStore's, which
the conformance suite (tests/store/conformance/) checks on both.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

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
from octoscope.store.errors import StoreError
from octoscope.store.guard import check_recorded
from octoscope.store.health import Activity
from octoscope.store.locations import redacted
from octoscope.store.ports import (
    ExportCursor,
    KeptResult,
    RateWindow,
    ReadingColumns,
    SeriesExtent,
    StoreProtocol,
    TelemetryRow,
)
from octoscope.store.postgres_schema import (
    APPLICATION,
    BOOTSTRAP,
    BY_NAME,
    MIGRATIONS,
    PARTITIONED,
    SHARED_VERSION,
    TABLES,
    months_between,
    quoted,
)
from octoscope.store.records import (
    BUDGET_KEEP_SECONDS,
    HALF_HOUR,
    PRODUCT_COLUMNS,
    UNIT_CODE_TEXT,
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

__all__ = ["PostgresStore", "applied", "pending"]

POOL_SIZE = 8
MIGRATION_LOCK = 0x6F63746F  # "octo": one migrator at a time per database
RUN_LOCK_SPACE = 0x6F63  # advisory lock space of the sync runs, keyed by hashtext(account)
_READY: set[str] = set()  # DSNs this process has found (or made) octoscope's at this build's schema


def _password(dsn: str) -> str | None:
    try:
        return psycopg.conninfo.conninfo_to_dict(dsn).get("password")  # type: ignore[return-value]
    except psycopg.Error:
        return None


def _one_line(err: BaseException, dsn: str) -> str:
    """A driver error as one line naming the database (never its password)."""
    diag = getattr(err, "diag", None)
    text = (
        (diag.message_primary if diag is not None and diag.message_primary else None) or str(err) or type(err).__name__
    )
    text = " ".join(text.split())
    secret = _password(dsn)
    if secret:
        text = text.replace(secret, "***")
    return f"PostgreSQL at {redacted(dsn)}: {text}"


class _SharedPool:
    """One connection pool per DSN for the whole process, closed when its last store closes."""

    _lock = threading.Lock()
    _pools: dict[str, tuple[ConnectionPool, int]] = {}  # noqa: RUF012 (the process's one registry)

    @classmethod
    def take(cls, dsn: str) -> ConnectionPool:
        with cls._lock:
            pool, users = cls._pools.get(dsn, (None, 0))
            if pool is None:
                pool = ConnectionPool(dsn, min_size=1, max_size=POOL_SIZE, open=False, name="octoscope")
                pool.open(wait=True, timeout=15)
            cls._pools[dsn] = (pool, users + 1)
            return pool

    @classmethod
    def give_back(cls, dsn: str) -> None:
        with cls._lock:
            pool, users = cls._pools.get(dsn, (None, 0))
            if pool is None:
                return
            if users > 1:
                cls._pools[dsn] = (pool, users - 1)
                return
            del cls._pools[dsn]
            _READY.discard(dsn)  # the next first store looks at the schema again
        pool.close()


def _inspect(conn: psycopg.Connection[Any], dsn: str) -> list[tuple[int, str]]:
    """The migrations recorded (version, name); :class:`StoreError` if the database is another application's,
    a newer octoscope's, or its migration table has gaps."""
    tables = {
        row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    }
    if not tables:
        return []
    marker = None
    if "octoscope_meta" in tables:
        row = conn.execute("SELECT value FROM octoscope_meta WHERE key = 'application'").fetchone()
        marker = row[0] if row else None
    if marker != APPLICATION or "schema_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
        raise StoreError(
            f"{redacted(dsn)} holds another application's tables ({shown}) and no octoscope marker; octoscope"
            " writes nothing into it: point OCTOSCOPE_DB at an empty database"
        )
    rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    # SQLite's check, word for word: a newer octoscope's, a foreign or a gapped table is refused.
    done = check_recorded(redacted(dsn), rows, [name for name, _ in MIGRATIONS], StoreError, "database")
    return [(v, MIGRATIONS[v - 1][0]) for v in done]


def _migrate(conn: psycopg.Connection[Any], dsn: str, applied_at: int) -> None:
    """Every pending migration, in one transaction, one migrator at a time."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        done = {v for v, _ in _inspect(conn, dsn)}  # again, under the lock: another process may have migrated
        if len(done) == len(MIGRATIONS):
            return
        for statement in BOOTSTRAP:
            conn.execute(statement)
        for version, (name, ddl) in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            conn.execute(ddl.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (version, name, applied_at),
            )


def _with_connection(dsn: str, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=15) as conn:
            return work(conn)
    except psycopg.Error as err:
        raise StoreError(_one_line(err, dsn)) from None


def applied(dsn: str) -> list[tuple[int, str]]:
    """The migrations recorded in the database at ``dsn`` (version, name), read without writing."""
    return list(_with_connection(dsn, lambda conn: _inspect(conn, dsn)))


def activity(dsn: str, account: str, key_id: str | None, since: float) -> Activity:
    """:func:`store.health.activity` for one account of the database at ``dsn``, read without writing (and
    without migrating: ``octoscope doctor`` looks, it does not change). :class:`StoreError` if unreadable."""

    def read(conn: psycopg.Connection[Any]) -> Activity:
        requests: dict[str, int] = {}
        if key_id is not None:
            rows = conn.execute(
                "SELECT api, COUNT(*) FROM request_budget WHERE account = %s AND key_id = %s AND at >= %s GROUP BY api",
                (account, key_id, since),
            )
            requests = {str(api): int(count) for api, count in rows}
        newest = conn.execute("SELECT MAX(interval_start) FROM consumption WHERE account = %s", (account,)).fetchone()
        started = conn.execute("SELECT MAX(started_at) FROM sync_runs WHERE account = %s", (account,)).fetchone()
        return Activity(requests, newest[0] if newest else None, started[0] if started else None)

    found: Activity = _with_connection(dsn, read)
    return found


def pending(dsn: str) -> list[tuple[int, str]]:
    """The migrations this build would run when it next opens ``dsn`` (version, name), in order."""
    done = {v for v, _ in applied(dsn)}
    return [(v, name) for v, (name, _) in enumerate(MIGRATIONS, start=1) if v not in done]


class PostgresStore:
    """One account's view of an octoscope PostgreSQL database. Use :meth:`open`; close it when done."""

    _partitions: dict[str, set[str]] = {}  # noqa: RUF012 (per DSN: month partitions known to exist)
    _partitions_lock = threading.Lock()

    def __init__(self, pool: ConnectionPool, dsn: str, account: str, clock: Callable[[], float] = SYSTEM) -> None:
        self._pool = pool
        self._dsn = dsn
        self.account = account
        self.location = redacted(dsn)
        self.clock = clock
        self._closed = False
        self._series_ids: dict[str, int] = {}
        self._run_locks: dict[int, psycopg.Connection[Any]] = {}  # run id -> the connection holding its lock

    @classmethod
    def open(cls, dsn: str, clock: Callable[[], float] = SYSTEM, *, account: str) -> PostgresStore:
        if not account:
            raise StoreError("a PostgreSQL store needs an account: set OCTOSCOPE_ACCOUNT (or account in config.toml)")

        def prepare(conn: psycopg.Connection[Any]) -> None:
            if len(_inspect(conn, dsn)) < len(MIGRATIONS):
                _migrate(conn, dsn, int(clock()))

        if dsn not in _READY:  # a thousand accounts' stores inspect the schema once per process, not each
            _with_connection(dsn, prepare)
            _READY.add(dsn)
        try:
            pool = _SharedPool.take(dsn)
        except psycopg.Error as err:
            raise StoreError(_one_line(err, dsn)) from None
        except Exception as err:  # the pool's own timeout
            raise StoreError(f"PostgreSQL at {redacted(dsn)}: cannot connect ({type(err).__name__})") from None
        store = cls(pool, dsn, account, clock)
        with store._transaction(bump=False) as cur:
            cur.execute(
                "INSERT INTO account_versions (account, version) VALUES (%s, 0), (%s, 0) ON CONFLICT DO NOTHING",
                (account, SHARED_VERSION),
            )
        if store._none_running():  # runs left 'running' by a killed process: say they were stopped
            with store._transaction() as cur:
                cur.execute(
                    "UPDATE sync_runs SET outcome = 'interrupted' WHERE account = %s AND outcome = 'running'",
                    (account,),
                )
        return store

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for conn in self._run_locks.values():
            conn.close()
        self._run_locks.clear()
        _SharedPool.give_back(self._dsn)

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- connections and transactions -------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as err:
            raise StoreError(_one_line(err, self._dsn)) from None

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor for reading (its transaction ends when the block does)."""
        with self._errors(), self._pool.connection() as conn, conn.cursor() as cur:
            yield cur

    @contextmanager
    def _transaction(self, *, bump: bool = True, shared: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """One write transaction; ``bump``: count it in the account's data version (and, with ``shared``,
        in the shared tables' version too)."""
        with self._errors(), self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            if bump:
                cur.execute("UPDATE account_versions SET version = version + 1 WHERE account = %s", (self.account,))
            if shared:
                cur.execute("UPDATE account_versions SET version = version + 1 WHERE account = %s", (SHARED_VERSION,))
            yield cur

    def _ensure_partitions(self, table: str, lo: int, hi: int) -> None:
        """Create the month partitions [lo, hi] needs before writing into them (each in its own short
        transaction: the DDL locks the parent table)."""
        known = self._partitions.setdefault(self._dsn, set())
        wanted = [m for m in months_between(table, lo, hi) if m[0] not in known]
        if not wanted:
            return
        with self._errors(), self._pool.connection() as conn:
            for name, start, end in wanted:
                exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
                if not (exists and exists[0]):
                    try:
                        with conn.transaction():
                            conn.execute(
                                sql.SQL(
                                    "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})"
                                ).format(
                                    sql.Identifier(name), sql.Identifier(table), sql.Literal(start), sql.Literal(end)
                                )
                            )
                    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
                        pass  # another process created it at the same moment
                with self._partitions_lock:
                    known.add(name)

    # --- about the store --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._cursor() as cur:
            row = cur.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row else 0

    def data_version(self) -> tuple[int, int]:
        """The account's write count and the shared tables' (prices, the catalogue): while both are
        unchanged, an answer worked out from the store is still the answer."""
        with self._cursor() as cur:
            rows = dict(
                cur.execute(
                    "SELECT account, version FROM account_versions WHERE account IN (%s, %s)",
                    (self.account, SHARED_VERSION),
                ).fetchall()
            )
        return int(rows.get(self.account, 0)), int(rows.get(SHARED_VERSION, 0))

    def quick_check(self) -> str | None:
        """A cheap sanity query: None if the server answers and the schema is there."""
        try:
            with self._cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()
        except StoreError as err:
            return str(err)
        return None

    # --- request budget and tokens ----------------------------------------------------------------------

    def requests_since(self, key_id: str, api: str, since: float) -> list[float]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT at FROM request_budget WHERE account = %s AND key_id = %s AND api = %s AND at >= %s"
                " ORDER BY at",
                (self.account, key_id, api, since),
            ).fetchall()
        return [row[0] for row in rows]

    def record_request(self, key_id: str, api: str, at: float) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO request_budget (account, key_id, api, at) VALUES (%s, %s, %s, %s)",
                (self.account, key_id, api, at),
            )
            # Pruned on the clock that wrote the row (see SQLiteStore.record_request).
            cur.execute(
                "DELETE FROM request_budget WHERE account = %s AND key_id = %s AND api = %s AND at < %s",
                (self.account, key_id, api, at - BUDGET_KEEP_SECONDS),
            )

    def load_token(self, key_id: str) -> IssuedToken | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT token, expires_at, refresh_token, refresh_expires_at FROM tokens"
                " WHERE account = %s AND key_id = %s",
                (self.account, key_id),
            ).fetchone()
        return None if row is None else IssuedToken(*row)

    def save_token(self, key_id: str, token: IssuedToken) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO tokens (account, key_id, token, expires_at, refresh_token, refresh_expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account, key_id) DO UPDATE SET token = excluded.token,"
                " expires_at = excluded.expires_at, refresh_token = excluded.refresh_token,"
                " refresh_expires_at = excluded.refresh_expires_at",
                (self.account, key_id, *token),
            )

    def forget_token(self, key_id: str) -> None:
        with self._transaction() as cur:
            cur.execute("DELETE FROM tokens WHERE account = %s AND key_id = %s", (self.account, key_id))

    # --- the account ------------------------------------------------------------------------------------

    def _own(self, number: str) -> None:
        if number != self.account:
            raise StoreError(
                f"this store holds account {self.account}, not {number}: open the store with that account"
                " (OCTOSCOPE_ACCOUNT)"
            )

    def save_account(self, account: Account, tariffs: Iterable[TariffInfo], at: datetime) -> None:
        self._own(account.number)
        a = self.account
        with self._transaction(shared=True) as cur:
            cur.execute(
                "INSERT INTO accounts (account, number, discovered_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (account, number) DO UPDATE SET discovered_at = excluded.discovered_at",
                (a, account.number, epoch(at)),
            )
            for prop in account.properties:
                cur.execute(
                    "INSERT INTO properties (account, id, moved_in_at, moved_out_at, postcode, address)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account, id) DO UPDATE SET"
                    " moved_in_at = excluded.moved_in_at, moved_out_at = excluded.moved_out_at,"
                    " postcode = excluded.postcode, address = excluded.address",
                    (a, *property_row(prop)),
                )
                for point in prop.meter_points:
                    self._save_point(cur, prop.id, point)
            for device in account.devices:
                cur.execute(
                    "INSERT INTO devices (account, id, device_type, provider, status, state, make, model)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account, id) DO UPDATE SET"
                    " device_type = excluded.device_type, provider = excluded.provider, status = excluded.status,"
                    " state = excluded.state, make = excluded.make, model = excluded.model",
                    (a, *device_row(device)),
                )
            for info in tariffs:
                self._save_tariff(cur, info)

    def _save_point(self, cur: psycopg.Cursor[Any], property_id: str, point: MeterPoint) -> None:
        a = self.account
        cur.execute(
            "INSERT INTO meter_points (account, identifier, property_id, fuel, direction, profile_class, series)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account, identifier) DO UPDATE SET"
            " property_id = excluded.property_id, direction = excluded.direction,"
            " profile_class = excluded.profile_class",
            (
                a,
                point.identifier,
                property_id,
                point.fuel.value,
                point.direction.value,
                point.profile_class,
                point.series,
            ),
        )
        # Series ids count up per account (the writers of an account queue on account_versions).
        cur.execute(
            "INSERT INTO series (account, id, name, point) SELECT %s,"
            " COALESCE((SELECT MAX(id) FROM series WHERE account = %s), 0) + 1, %s, %s"
            " ON CONFLICT (account, name) DO NOTHING",
            (a, a, point.series, point.identifier),
        )
        for meter in point.meters:
            cur.execute(
                "INSERT INTO meters (account, point, serial, registers, active_from, active_to, unit, meter_type,"
                " device_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account, point, serial)"
                " DO UPDATE SET registers = excluded.registers,"
                " active_from = COALESCE(excluded.active_from, meters.active_from),"
                " active_to = COALESCE(excluded.active_to, meters.active_to),"
                " unit = COALESCE(excluded.unit, meters.unit),"
                " meter_type = COALESCE(excluded.meter_type, meters.meter_type),"
                " device_id = COALESCE(excluded.device_id, meters.device_id)",
                (a, *meter_row(point.identifier, meter)),
            )
        # The fresh account is the truth (see SQLiteStore._save_point).
        cur.execute(
            "DELETE FROM agreements WHERE account = %s AND point = %s AND NOT (valid_from = ANY(%s))",
            (a, point.identifier, [epoch(x.valid_from) for x in point.agreements]),
        )
        cur.execute(
            "DELETE FROM meters WHERE account = %s AND point = %s AND NOT (serial = ANY(%s))",
            (a, point.identifier, [m.serial for m in point.meters]),
        )
        for agreement in point.agreements:
            cur.execute(
                "INSERT INTO agreements (account, point, valid_from, valid_to, tariff_code) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (account, point, valid_from) DO UPDATE SET valid_to = excluded.valid_to,"
                " tariff_code = excluded.tariff_code",
                (
                    a,
                    point.identifier,
                    epoch(agreement.valid_from),
                    opt_epoch(agreement.valid_to),
                    agreement.tariff_code,
                ),
            )
            self._save_tariff(cur, TariffInfo(agreement.tariff_code, agreement.tariff.product, None, None, None))

    @staticmethod
    def _save_tariff(cur: psycopg.Cursor[Any], info: TariffInfo) -> None:
        code = TariffCode.parse(info.code)
        cur.execute(
            "INSERT INTO tariffs (code, product, fuel, registers, region, kind) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (code) DO UPDATE SET kind = COALESCE(excluded.kind, tariffs.kind)",
            (info.code, info.product, code.fuel.value, code.registers, code.region, info.kind),
        )
        cur.execute(
            "INSERT INTO products (code, full_name, display_name) VALUES (%s, %s, %s) ON CONFLICT (code) DO UPDATE"
            " SET full_name = COALESCE(excluded.full_name, products.full_name),"
            " display_name = COALESCE(excluded.display_name, products.display_name)",
            (info.product, info.full_name, info.display_name),
        )

    def account_read_at(self, number: str) -> datetime | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT discovered_at FROM accounts WHERE account = %s AND number = %s", (self.account, number)
            ).fetchone()
        return None if row is None else from_epoch(row[0])

    def load_account(self, number: str) -> Account | None:
        a = self.account
        with self._cursor() as cur:
            if cur.execute("SELECT 1 FROM accounts WHERE account = %s AND number = %s", (a, number)).fetchone() is None:
                return None
            props = cur.execute(
                "SELECT id, moved_in_at, moved_out_at, postcode, address FROM properties WHERE account = %s"
                " ORDER BY moved_in_at NULLS FIRST",
                (a,),
            ).fetchall()
            properties = [(row, self._load_points(cur, row[0])) for row in props]
            devices = cur.execute(
                "SELECT id, device_type, provider, status, state, make, model FROM devices WHERE account = %s"
                ' ORDER BY id COLLATE "C"',
                (a,),
            ).fetchall()
        return account_from_rows(number, properties, devices)

    def _load_points(self, cur: psycopg.Cursor[Any], property_id: str) -> tuple[MeterPoint, ...]:
        a = self.account
        return tuple(
            point_from_row(
                row,
                cur.execute(
                    "SELECT serial, registers, active_from, active_to, unit, meter_type, device_id FROM meters"
                    " WHERE account = %s AND point = %s ORDER BY COALESCE(active_from, '') COLLATE \"C\","
                    ' serial COLLATE "C"',
                    (a, row[0]),
                ).fetchall(),
                cur.execute(
                    "SELECT valid_from, valid_to, tariff_code FROM agreements WHERE account = %s AND point = %s"
                    " ORDER BY valid_from",
                    (a, row[0]),
                ).fetchall(),
            )
            for row in cur.execute(
                "SELECT identifier, fuel, direction, profile_class FROM meter_points WHERE account = %s"
                ' AND property_id = %s ORDER BY fuel COLLATE "C", direction COLLATE "C", identifier COLLATE "C"',
                (a, property_id),
            ).fetchall()
        )

    def tariff_kinds(self) -> dict[str, str | None]:
        with self._cursor() as cur:
            return dict(cur.execute("SELECT code, kind FROM tariffs").fetchall())

    # --- consumption ------------------------------------------------------------------------------------

    def _series_id(self, cur: psycopg.Cursor[Any], series: str) -> int:
        if series not in self._series_ids:
            row = cur.execute(
                "SELECT id FROM series WHERE account = %s AND name = %s", (self.account, series)
            ).fetchone()
            if row is None:
                raise StoreError(f"series {series} is unknown: save the account before its consumption")
            self._series_ids[series] = int(row[0])
        return self._series_ids[series]

    def write_consumption(self, series: str, serial: str, unit: str, readings: Sequence[Reading]) -> tuple[int, int]:
        """Upsert readings; returns (new rows, changed rows), with SQLiteStore.write_consumption's rule for two
        meters reporting one half-hour. One statement: the readings go as two arrays."""
        if not readings:
            return 0, 0
        starts = [epoch(r.start) for r in readings]
        self._ensure_partitions("consumption", min(starts), max(starts))
        with self._transaction() as cur:
            sid = self._series_id(cur, series)
            # Partitioned tables cannot answer xmax (inserted or updated): count the range before and after,
            # as SQLiteStore does (two index range scans).
            count = (
                "SELECT COUNT(*) FROM consumption WHERE account = %s AND series_id = %s"
                " AND interval_start BETWEEN %s AND %s"
            )
            span = (self.account, sid, min(starts), max(starts))
            before = cur.execute(count, span).fetchone()
            rows = cur.execute(
                "INSERT INTO consumption AS c (account, series_id, interval_start, value, unit, serial)"
                " SELECT DISTINCT ON (s) %(a)s, %(sid)s, s, v, %(unit)s, %(serial)s"
                " FROM unnest(%(starts)s::bigint[], %(values)s::float8[]) WITH ORDINALITY AS t(s, v, n)"
                " ORDER BY s, n DESC"
                " ON CONFLICT (account, series_id, interval_start) DO UPDATE SET value = excluded.value,"
                " unit = excluded.unit, serial = excluded.serial WHERE CASE WHEN c.serial = excluded.serial"
                " THEN c.value IS DISTINCT FROM excluded.value OR c.unit IS DISTINCT FROM excluded.unit"
                " ELSE (c.value = 0 AND excluded.value != 0)"
                ' OR ((c.value = 0) = (excluded.value = 0) AND excluded.serial COLLATE "C" > c.serial COLLATE "C") END'
                " RETURNING 1",
                {
                    "a": self.account,
                    "sid": sid,
                    "unit": unit,
                    "serial": serial,
                    "starts": starts,
                    "values": [r.value for r in readings],
                },
            ).fetchall()
            after = cur.execute(count, span).fetchone()
        new = (int(after[0]) if after else 0) - (int(before[0]) if before else 0)
        return new, len(rows) - new

    def mark_synced(self, series: str, serial: str, synced_to: datetime, at: datetime) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO sync_cursors (account, series, serial, synced_at, synced_to) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (account, series, serial) DO UPDATE SET synced_at = excluded.synced_at,"
                " synced_to = GREATEST(sync_cursors.synced_to, excluded.synced_to)",
                (self.account, series, serial, epoch(at), epoch(synced_to)),
            )

    def meter_extents(self) -> dict[tuple[str, str], tuple[datetime, datetime]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT s.name, c.serial, MIN(c.interval_start), MAX(c.interval_start) FROM consumption c"
                " JOIN series s ON s.account = c.account AND s.id = c.series_id WHERE c.account = %s"
                " GROUP BY s.name, c.serial",
                (self.account,),
            ).fetchall()
        return {(name, serial): (from_epoch(lo), from_epoch(hi)) for name, serial, lo, hi in rows}

    def series_extent(self, series: str) -> SeriesExtent | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT MIN(c.interval_start), MAX(c.interval_start), COUNT(*),"
                " (SELECT unit FROM consumption WHERE account = s.account AND series_id = s.id"
                "  ORDER BY interval_start DESC LIMIT 1)"
                " FROM series s JOIN consumption c ON c.account = s.account AND c.series_id = s.id"
                " WHERE s.account = %s AND s.name = %s GROUP BY s.account, s.id",
                (self.account, series),
            ).fetchone()
        if row is None or row[2] == 0:
            return None
        return SeriesExtent(series, row[3], from_epoch(row[0]), from_epoch(row[1]), row[2])

    def series_gaps(self, series: str) -> list[tuple[datetime, datetime]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT prev + %s, interval_start FROM (SELECT interval_start, LAG(interval_start) OVER"
                " (ORDER BY interval_start) AS prev FROM consumption WHERE account = %s AND series_id ="
                " (SELECT id FROM series WHERE account = %s AND name = %s)) g WHERE interval_start - prev > %s",
                (HALF_HOUR, self.account, self.account, series, HALF_HOUR),
            ).fetchall()
        return [(from_epoch(a), from_epoch(b)) for a, b in rows]

    def readings(self, series: str, start: datetime, end: datetime) -> list[tuple[datetime, float, str]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT interval_start, value, unit FROM consumption WHERE account = %s AND series_id ="
                " (SELECT id FROM series WHERE account = %s AND name = %s) AND interval_start >= %s"
                " AND interval_start < %s ORDER BY interval_start",
                (self.account, self.account, series, epoch(start), epoch(end)),
            ).fetchall()
        instants = Instants()
        return [(instants.at(s), v, u) for s, v, u in rows]

    def reading_columns(self, series: str, start: datetime, end: datetime) -> ReadingColumns:
        """:meth:`readings` as columns, the instants left in epoch seconds (the usual units read as codes)."""
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT interval_start, value, {UNIT_CODE_TEXT} FROM consumption WHERE account = %s AND series_id ="  # noqa: S608 - our constant
                " (SELECT id FROM series WHERE account = %s AND name = %s) AND interval_start >= %s"
                " AND interval_start < %s ORDER BY interval_start",
                (self.account, self.account, series, epoch(start), epoch(end)),
            ).fetchall()
        return reading_columns_from_rows(rows)

    def cursors(self) -> dict[tuple[str, str], tuple[datetime, datetime]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT series, serial, synced_at, synced_to FROM sync_cursors WHERE account = %s", (self.account,)
            ).fetchall()
        return {(name, serial): (from_epoch(at), from_epoch(to)) for name, serial, at, to in rows}

    # --- rates (shared by every account) ----------------------------------------------------------------

    def write_rates(
        self, tariff_code: str, charge: Charge, rates: Sequence[Rate], window: RateWindow | None = None
    ) -> tuple[int, int]:
        """Upsert one page of a price list; with ``window``, also record the window as fetched (same commit)."""
        standing = charge is Charge.STANDING
        table = "standing_charges" if standing else "unit_rates"
        key = (
            "tariff_code, payment_method, valid_from"
            if standing
            else "tariff_code, register, payment_method, valid_from"
        )
        register = "" if standing else "register, "
        register_value = "" if standing else "%(register)s, "
        with self._transaction(shared=True) as cur:
            rows: list[tuple[bool]] = []
            if rates:
                rows = cur.execute(
                    f"INSERT INTO {table} AS r (tariff_code, {register}payment_method, valid_from, valid_to,"  # noqa: S608
                    " value_exc_vat, value_inc_vat)"
                    f" SELECT DISTINCT ON (p, f) %(code)s, {register_value}p, f, t, e, i"
                    " FROM unnest(%(methods)s::text[], %(froms)s::bigint[], %(tos)s::bigint[], %(exc)s::float8[],"
                    " %(inc)s::float8[]) WITH ORDINALITY AS u(p, f, t, e, i, n) ORDER BY p, f, n DESC"
                    f" ON CONFLICT ({key}) DO UPDATE SET valid_to = excluded.valid_to,"
                    " value_exc_vat = excluded.value_exc_vat, value_inc_vat = excluded.value_inc_vat"
                    " WHERE r.valid_to IS DISTINCT FROM excluded.valid_to"
                    " OR r.value_exc_vat IS DISTINCT FROM excluded.value_exc_vat"
                    " OR r.value_inc_vat IS DISTINCT FROM excluded.value_inc_vat"
                    " RETURNING (xmax = 0)",
                    {
                        "code": tariff_code,
                        "register": charge.value,
                        "methods": [r.payment_method or "" for r in rates],
                        "froms": [epoch(r.valid_from) for r in rates],
                        "tos": [opt_epoch(r.valid_to) for r in rates],
                        "exc": [r.value_exc_vat for r in rates],
                        "inc": [r.value_inc_vat for r in rates],
                    },
                ).fetchall()
            if window is not None:
                cur.execute(
                    "INSERT INTO rate_windows (tariff_code, charge, window_from, window_to, settled_to, fresh_until)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tariff_code, charge, window_from, window_to)"
                    " DO UPDATE SET settled_to = GREATEST(rate_windows.settled_to, excluded.settled_to),"
                    " fresh_until = excluded.fresh_until",
                    rate_window_row(tariff_code, charge, window),
                )
        new = sum(1 for (inserted,) in rows if inserted)
        return new, len(rows) - new

    def rate_windows(self, tariff_code: str, charge: Charge) -> list[RateWindow]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT window_from, window_to, settled_to, fresh_until FROM rate_windows"
                " WHERE tariff_code = %s AND charge = %s ORDER BY window_from",
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
        table, where, args = price_list_where(tariff_code, charge, start, end, payment_method, "%s")
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT valid_from, valid_to, value_exc_vat, value_inc_vat, payment_method FROM {table}"  # noqa: S608
                f" WHERE {where} ORDER BY valid_from",
                args,
            ).fetchall()
        return rates_from_rows(rows)

    def price_columns(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> PriceColumns:
        return price_columns_from_rows(self._price_rows(tariff_code, charge, start, end, payment_method))

    def price_seconds(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> PriceSeconds:
        return price_seconds_from_rows(self._price_rows(tariff_code, charge, start, end, payment_method))

    def _price_rows(
        self, tariff_code: str, charge: Charge, start: datetime, end: datetime, payment_method: str
    ) -> list[tuple[Any, ...]]:
        """(valid_from, valid_to, value_exc_vat, value_inc_vat) of one price list over [start, end), in time order."""
        table, where, args = price_list_where(tariff_code, charge, start, end, payment_method, "%s")
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT valid_from, valid_to, value_exc_vat, value_inc_vat FROM {table} WHERE {where}"  # noqa: S608
                " ORDER BY valid_from",
                args,
            ).fetchall()
        return rows

    # --- dispatches -------------------------------------------------------------------------------------

    def save_dispatches(
        self, records: Sequence[DispatchRecord], state: tuple[str, str | None] | None, seen_at: datetime
    ) -> tuple[int, int]:
        rows: list[tuple[bool]] = []
        with self._transaction() as cur:
            for r in records:  # a handful per call
                row = cur.execute(
                    'INSERT INTO dispatches AS d (account, device_id, kind, start, "end", charge_type, energy_kwh,'
                    " source, location, seen_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    ' ON CONFLICT (account, device_id, kind, start) DO UPDATE SET "end" = excluded."end",'
                    " charge_type = COALESCE(excluded.charge_type, d.charge_type), energy_kwh = excluded.energy_kwh,"
                    " source = COALESCE(excluded.source, d.source), location = COALESCE(excluded.location, d.location),"
                    " seen_at = excluded.seen_at"
                    ' WHERE d."end" IS DISTINCT FROM excluded."end"'
                    " OR d.energy_kwh IS DISTINCT FROM excluded.energy_kwh"
                    " RETURNING (xmax = 0)",
                    (self.account, *dispatch_row(r, seen_at)),
                ).fetchone()
                if row is not None:
                    rows.append(row)
            if state is not None:
                cur.execute(
                    "UPDATE devices SET state = %s WHERE account = %s AND id = %s", (state[1], self.account, state[0])
                )
        new = sum(1 for (inserted,) in rows if inserted)
        return new, len(rows) - new

    def dispatches(self, start: datetime | None = None, end: datetime | None = None) -> list[DispatchRecord]:
        with self._cursor() as cur:
            rows = cur.execute(
                'SELECT device_id, kind, start, "end", charge_type, energy_kwh, source, location FROM dispatches'
                ' WHERE account = %s AND "end" > %s AND start < %s ORDER BY start, kind COLLATE "C"',
                (self.account, epoch(start) if start else 0, epoch(end) if end else 2**62),
            ).fetchall()
        return [dispatch_from_row(row) for row in rows]

    # --- telemetry and export cursors --------------------------------------------------------------------

    def write_telemetry(self, device_id: str, readings: Sequence[TelemetryReading]) -> int:
        if not readings:
            return 0
        reads = [epoch(r.read_at) for r in readings]
        self._ensure_partitions("telemetry", min(reads), max(reads))
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO telemetry (account, device_id, read_at, consumption_wh, delta_wh, demand_w, export_wh)"
                " SELECT DISTINCT ON (r) %(a)s, %(d)s, r, c, x, w, e FROM unnest(%(reads)s::bigint[],"
                " %(c)s::float8[], %(x)s::float8[], %(w)s::float8[], %(e)s::float8[]) WITH ORDINALITY AS"
                " t(r, c, x, w, e, n) ORDER BY r, n DESC"
                " ON CONFLICT (account, device_id, read_at) DO UPDATE SET consumption_wh = excluded.consumption_wh,"
                " delta_wh = excluded.delta_wh, demand_w = excluded.demand_w, export_wh = excluded.export_wh",
                {
                    "a": self.account,
                    "d": device_id,
                    "reads": reads,
                    "c": [r.consumption_wh for r in readings],
                    "x": [r.delta_wh for r in readings],
                    "w": [r.demand_w for r in readings],
                    "e": [r.export_wh for r in readings],
                },
            )
        return len(readings)

    def telemetry(self, device_id: str, start: datetime, end: datetime) -> list[TelemetryReading]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT read_at, consumption_wh, delta_wh, demand_w, export_wh FROM telemetry"
                " WHERE account = %s AND device_id = %s AND read_at >= %s AND read_at < %s ORDER BY read_at",
                (self.account, device_id, epoch(start), epoch(end)),
            ).fetchall()
        return [telemetry_from_row(row) for row in rows]

    def last_telemetry(self, device_id: str) -> datetime | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT MAX(read_at) FROM telemetry WHERE account = %s AND device_id = %s", (self.account, device_id)
            ).fetchone()
        return opt_dt(row[0]) if row else None

    def latest_telemetry(self) -> list[TelemetryRow]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT DISTINCT ON (device_id) device_id, read_at, consumption_wh, delta_wh, demand_w, export_wh"
                " FROM telemetry WHERE account = %s ORDER BY device_id, read_at DESC",
                (self.account,),
            ).fetchall()
        rows.sort(key=lambda r: r[0].encode())  # SQLite's order: bytewise
        return [telemetry_row_from_row(row) for row in rows]

    def telemetry_extents(self) -> dict[str, tuple[datetime, datetime]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT device_id, MIN(read_at), MAX(read_at) FROM telemetry WHERE account = %s GROUP BY device_id",
                (self.account,),
            ).fetchall()
        return {d: (from_epoch(lo), from_epoch(hi)) for d, lo, hi in rows}

    def prune_telemetry(self, before: datetime) -> int:
        with self._transaction() as cur:
            cur.execute("DELETE FROM telemetry WHERE account = %s AND read_at < %s", (self.account, epoch(before)))
            return cur.rowcount

    def export_cursors(self, target: str) -> dict[tuple[str, str], ExportCursor]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT measurement, series, exported_from, exported_to, exported_at, points FROM export_cursors"
                " WHERE account = %s AND target = %s",
                (self.account, target),
            ).fetchall()
        return dict(export_cursor_from_row(row) for row in rows)

    def save_export_cursor(self, target: str, measurement: str, series: str, cursor: ExportCursor) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO export_cursors (account, target, measurement, series, exported_from, exported_to,"
                " exported_at, points) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (account, target, measurement, series) DO UPDATE SET"
                " exported_from = excluded.exported_from, exported_to = excluded.exported_to,"
                " exported_at = excluded.exported_at, points = excluded.points",
                (self.account, target, measurement, series, *export_cursor_row(cursor)),
            )

    # --- runs: an advisory lock per account says which are really running --------------------------------

    def _none_running(self) -> bool:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_SPACE, self.account)
            ).fetchone()
            got = bool(row and row[0])
            if got:
                cur.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (RUN_LOCK_SPACE, self.account))
        return got

    def start_run(self, at: datetime) -> int:
        # Its own connection holds a shared lock while the run runs; the server drops it when the process
        # dies, however it dies, as store/runlock.py's file lock does for SQLite.
        with self._errors():
            holder = psycopg.connect(self._dsn, autocommit=True, connect_timeout=15)
            try:
                holder.execute("SELECT pg_advisory_lock_shared(%s, hashtext(%s))", (RUN_LOCK_SPACE, self.account))
                with self._transaction() as cur:
                    row = cur.execute(
                        "INSERT INTO sync_runs (account, id, started_at, outcome) SELECT %s,"
                        " COALESCE((SELECT MAX(id) FROM sync_runs WHERE account = %s), 0) + 1, %s, 'running'"
                        " RETURNING id",
                        (self.account, self.account, epoch(at)),
                    ).fetchone()
            except BaseException:
                holder.close()
                raise
        run_id = int(row[0]) if row else 0
        self._run_locks[run_id] = holder
        return run_id

    def finish_run(self, run_id: int, at: datetime, outcome: str, summary: dict[str, object]) -> None:
        holder = self._run_locks.pop(run_id, None)
        if holder is not None:
            holder.close()
        with self._transaction() as cur:
            cur.execute(
                "UPDATE sync_runs SET finished_at = %s, outcome = %s, summary = %s WHERE account = %s AND id = %s",
                (epoch(at), outcome, json.dumps(summary, default=str), self.account, run_id),
            )

    def last_run(self) -> tuple[datetime, datetime | None, str] | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT started_at, finished_at, outcome FROM sync_runs WHERE account = %s ORDER BY id DESC LIMIT 1",
                (self.account,),
            ).fetchone()
        return None if row is None else (from_epoch(row[0]), opt_dt(row[1]), row[2])

    def last_successful_run(self) -> tuple[datetime, datetime] | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT started_at, finished_at FROM sync_runs WHERE account = %s AND outcome = 'ok'"
                " AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                (self.account,),
            ).fetchone()
        return None if row is None else (from_epoch(row[0]), from_epoch(row[1]))

    # --- notifications sent -----------------------------------------------------------------------------

    def notification_sent(self, event: str) -> bool:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT 1 FROM notifications_sent WHERE account = %s AND event = %s", (self.account, event)
            ).fetchone()
        return row is not None

    def notifications_since(self, since: datetime) -> int:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT COUNT(*) FROM notifications_sent WHERE account = %s AND sent_at >= %s",
                (self.account, epoch(since)),
            ).fetchone()
        return int(row[0]) if row else 0

    def record_notification(self, event: str, rule: str, at: datetime) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO notifications_sent (account, event, rule, sent_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (self.account, event, rule, epoch(at)),
            )

    # --- the tariff catalogue (shared) ------------------------------------------------------------------

    def save_products(self, products: Sequence[Product], at: datetime) -> None:
        codes = [p.code for p in products]
        with self._transaction(shared=True) as cur:
            cur.execute("DELETE FROM catalogue_tariffs WHERE NOT (product = ANY(%s))", (codes,))
            cur.execute("DELETE FROM catalogue_products WHERE NOT (code = ANY(%s))", (codes,))
            cur.executemany(
                product_upsert("%s"),
                [product_row(p, i) for i, p in enumerate(products)],
            )
            cur.execute(
                "INSERT INTO catalogue_lookups (key, value, fetched_at) VALUES ('products', '', %s)"
                " ON CONFLICT (key) DO UPDATE SET fetched_at = excluded.fetched_at",
                (epoch(at),),
            )

    def products(self) -> tuple[list[Product], datetime | None]:
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT {PRODUCT_COLUMNS} FROM catalogue_products ORDER BY position"  # noqa: S608
            ).fetchall()
            listed = cur.execute("SELECT fetched_at FROM catalogue_lookups WHERE key = 'products'").fetchone()
        products = [product_from_row(r) for r in rows]
        return products, None if listed is None else from_epoch(listed[0])

    def save_product_tariffs(self, product: str, tariffs: Sequence[ProductTariff], at: datetime) -> None:
        with self._transaction(shared=True) as cur:
            cur.execute("DELETE FROM catalogue_tariffs WHERE product = %s", (product,))
            cur.executemany(
                "INSERT INTO catalogue_tariffs (product, tariff_code, region, fuel, registers)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(product, t.code, t.region, t.fuel.value, t.registers) for t in tariffs],
            )
            cur.execute("UPDATE catalogue_products SET detailed_at = %s WHERE code = %s", (epoch(at), product))

    def product_tariffs(self) -> tuple[list[ProductTariff], dict[str, datetime]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT product, tariff_code, region, fuel, registers FROM catalogue_tariffs"
                ' ORDER BY product COLLATE "C", fuel COLLATE "C", registers, region COLLATE "C"'
            ).fetchall()
            read = cur.execute(
                "SELECT code, detailed_at FROM catalogue_products WHERE detailed_at IS NOT NULL"
            ).fetchall()
        tariffs = [product_tariff_from_row(row) for row in rows]
        return tariffs, {code: from_epoch(at) for code, at in read}

    def save_lookup(self, key: str, value: str, at: datetime) -> None:
        with self._transaction(shared=True) as cur:
            cur.execute(
                "INSERT INTO catalogue_lookups (key, value, fetched_at) VALUES (%s, %s, %s) ON CONFLICT (key)"
                " DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at",
                (key, value, epoch(at)),
            )

    def lookup(self, key: str) -> tuple[str, datetime] | None:
        with self._cursor() as cur:
            row = cur.execute("SELECT value, fetched_at FROM catalogue_lookups WHERE key = %s", (key,)).fetchone()
        return None if row is None else (row[0], from_epoch(row[1]))

    def product_name(self, code: str) -> str | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT display_name FROM catalogue_products WHERE code = %(c)s UNION ALL"
                " SELECT COALESCE(display_name, full_name) FROM products WHERE code = %(c)s",
                {"c": code},
            ).fetchone()
        return None if row is None else row[0]

    # --- bill statements --------------------------------------------------------------------------------

    def save_statements(self, account: str, statements: Sequence[Statement], at: datetime) -> None:
        self._own(account)
        with self._transaction() as cur:
            cur.executemany(
                "INSERT INTO bill_statements (account, id, status, from_date, to_date, body, fetched_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account, id) DO UPDATE SET status = excluded.status,"
                " from_date = excluded.from_date, to_date = excluded.to_date, body = excluded.body,"
                " fetched_at = excluded.fetched_at",
                [(self.account, *statement_row(st, at)) for st in statements],
            )

    def statements(self, account: str) -> list[tuple[Statement, datetime]]:
        if account != self.account:
            return []  # this store holds no other account's statements
        with self._cursor() as cur:
            rows = cur.execute(
                'SELECT body, fetched_at FROM bill_statements WHERE account = %s ORDER BY from_date, id COLLATE "C"',
                (self.account,),
            ).fetchall()
        return [statement_from_row(row) for row in rows]

    def forget_statements(self, account: str, idents: Iterable[str]) -> None:
        self._own(account)
        with self._transaction() as cur:
            cur.execute("DELETE FROM bill_statements WHERE account = %s AND id = ANY(%s)", (self.account, list(idents)))

    # --- copying a household between stores (``octoscope store copy``) ---------------------------------

    # --- kept results ------------------------------------------------------------------------------------

    def keep_result(self, key: str, inputs: str, body: str, at: datetime) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO kept_results (account, key, inputs, computed_at, body) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (account, key) DO UPDATE SET inputs = excluded.inputs,"
                " computed_at = excluded.computed_at, body = excluded.body",
                (self.account, key, inputs, epoch(at), body),
            )

    def kept_result(self, key: str) -> KeptResult | None:
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT inputs, computed_at, body FROM kept_results WHERE account = %s AND key = %s",
                (self.account, key),
            ).fetchone()
        return None if row is None else KeptResult(row[0], from_epoch(row[1]), row[2])

    def kept_results(self, prefix: str) -> dict[str, KeptResult]:
        # starts_with, not a range: the database's collation need not order keys as bytes
        if not prefix:
            raise ValueError("a kept results prefix cannot be empty")
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT key, inputs, computed_at, body FROM kept_results WHERE account = %s AND starts_with(key, %s)",
                (self.account, prefix),
            ).fetchall()
        return {key: KeptResult(inputs, from_epoch(at), body) for key, inputs, at, body in rows}

    # --- copying between stores (store/copy.py) ----------------------------------------------------------

    def copy_tables(self) -> list[str]:
        """The logical tables (SQLite's names), in dependency order."""
        return [t.name for t in TABLES]

    def read_table(self, table: str) -> tuple[list[str], Iterator[tuple[object, ...]]]:
        """A table's columns (without ``account``) and its rows of this store's account (all rows of a shared
        table), in key order, streamed."""
        spec = BY_NAME.get(table)
        if spec is None:
            raise StoreError(f"no table {table} to copy")
        columns = list(spec.columns)
        order = spec.key or spec.columns
        query = sql.SQL("SELECT {} FROM {}{} ORDER BY {}").format(
            sql.SQL(", ").join(sql.SQL(quoted(c)) for c in columns),
            sql.Identifier(table),
            sql.SQL("") if spec.shared else sql.SQL(" WHERE account = %s"),
            sql.SQL(", ").join(sql.SQL(quoted(c)) for c in order),
        )
        args = () if spec.shared else (self.account,)

        def rows() -> Iterator[tuple[object, ...]]:
            with self._errors(), self._pool.connection() as conn, conn.cursor(name=f"copy_{table}") as cur:
                cur.execute(query, args)
                yield from cur

        return columns, rows()

    def write_table(self, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
        """Upsert rows into this store's account (into a shared table as they are); returns rows written."""
        spec = BY_NAME.get(table)
        if spec is None:
            raise StoreError(f"no table {table} to copy into")
        unknown = [c for c in columns if c not in spec.columns]
        if unknown:
            raise StoreError(f"table {table} has no column {unknown[0]}")
        batch = [tuple(row) for row in rows]
        if not batch:
            return 0
        if table in PARTITIONED:
            at = list(columns).index(PARTITIONED[table])
            instants = [int(row[at]) for row in batch]  # type: ignore[call-overload]
            self._ensure_partitions(table, min(instants), max(instants))
        names = list(columns) if spec.shared else ["account", *columns]
        key = list(spec.key) if spec.shared else ["account", *spec.key]
        rest = [c for c in columns if c not in spec.key]
        target = sql.SQL("INSERT INTO {} ({})").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.SQL(quoted(c)) for c in names)
        )
        marks = sql.SQL(", ").join(sql.Placeholder() * len(names))
        if not spec.key:  # the request ledger: a row already there is not written twice (as SQLite's copy)
            same = sql.SQL(" AND ").join(sql.SQL(f"{quoted(c)} IS NOT DISTINCT FROM %s") for c in names)
            statement = sql.SQL("{} SELECT {} WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {})").format(
                target, marks, sql.Identifier(table), same
            )
        else:
            action = (
                sql.SQL("UPDATE SET {}").format(
                    sql.SQL(", ").join(sql.SQL(f"{quoted(c)} = excluded.{quoted(c)}") for c in rest)
                )
                if rest
                else sql.SQL("NOTHING")
            )
            statement = sql.SQL("{} VALUES ({}) ON CONFLICT ({}) DO {}").format(
                target, marks, sql.SQL(", ").join(sql.SQL(quoted(c)) for c in key), action
            )
        values = batch if spec.shared else [(self.account, *row) for row in batch]
        if not spec.key:
            values = [(*row, *row) for row in values]
        with self._transaction(shared=spec.shared) as cur:
            cur.executemany(statement, values)
        self._series_ids.clear()
        return len(batch)


if TYPE_CHECKING:
    # mypy checks here that the PostgreSQL backend answers every protocol in store.ports.
    _satisfies: type[StoreProtocol] = PostgresStore
