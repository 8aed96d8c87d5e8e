"""The PostgreSQL schema: the SQLite schema after all its migrations (store/migrations.py), table for table and
column for column, with the same encodings (epoch seconds in BIGINT / DOUBLE PRECISION, JSON as TEXT), plus
an ``account`` column leading every key of the account's own tables.

That leading column is what lets a distributed PostgreSQL (Citus) spread the account tables by account with no
schema change; the tariff-global tables (``SHARED``) carry no account and would be reference tables. The two
big interval tables are partitioned by calendar month (UTC) on their epoch column: the store creates a month's
partition when it first writes into it (``month_partition``), and a DEFAULT partition catches anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

APPLICATION = "octoscope"  # the marker in octoscope_meta that says the database is ours

# What a database holds before any migration: the marker and the record of migrations.
BOOTSTRAP = (
    "CREATE TABLE IF NOT EXISTS octoscope_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)",
)

# One for one with SQLite's migrations (store/migrations.py), same names and numbers, so that a schema version
# means the same tables on both backends (``store copy`` compares them).
MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "initial schema",
        """
        CREATE TABLE accounts (
            account TEXT NOT NULL, number TEXT NOT NULL, discovered_at BIGINT NOT NULL,
            PRIMARY KEY (account, number)
        );
        CREATE TABLE properties (
            account TEXT NOT NULL, id TEXT NOT NULL, moved_in_at BIGINT, moved_out_at BIGINT,
            postcode TEXT NOT NULL, address TEXT NOT NULL,
            PRIMARY KEY (account, id)
        );
        CREATE TABLE meter_points (
            account TEXT NOT NULL, identifier TEXT NOT NULL, property_id TEXT NOT NULL, fuel TEXT NOT NULL,
            direction TEXT NOT NULL, profile_class BIGINT, series TEXT NOT NULL,
            PRIMARY KEY (account, identifier), UNIQUE (account, series)
        );
        CREATE TABLE meters (
            account TEXT NOT NULL, point TEXT NOT NULL, serial TEXT NOT NULL, registers TEXT NOT NULL,
            active_from TEXT, active_to TEXT, unit TEXT, meter_type TEXT, device_id TEXT,
            PRIMARY KEY (account, point, serial)
        );
        CREATE TABLE agreements (
            account TEXT NOT NULL, point TEXT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT,
            tariff_code TEXT NOT NULL,
            PRIMARY KEY (account, point, valid_from)
        );
        CREATE TABLE devices (
            account TEXT NOT NULL, id TEXT NOT NULL, device_type TEXT NOT NULL, provider TEXT NOT NULL,
            status TEXT, state TEXT, make TEXT, model TEXT,
            PRIMARY KEY (account, id)
        );
        CREATE TABLE products (code TEXT PRIMARY KEY, full_name TEXT, display_name TEXT);
        CREATE TABLE tariffs (
            code TEXT PRIMARY KEY, product TEXT NOT NULL, fuel TEXT NOT NULL, registers BIGINT NOT NULL,
            region TEXT NOT NULL, kind TEXT
        );
        CREATE TABLE series (
            account TEXT NOT NULL, id BIGINT NOT NULL, name TEXT NOT NULL, point TEXT NOT NULL,
            PRIMARY KEY (account, id), UNIQUE (account, name)
        );
        CREATE TABLE consumption (
            account TEXT NOT NULL, series_id BIGINT NOT NULL, interval_start BIGINT NOT NULL,
            value DOUBLE PRECISION NOT NULL, unit TEXT NOT NULL, serial TEXT NOT NULL,
            PRIMARY KEY (account, series_id, interval_start)
        ) PARTITION BY RANGE (interval_start);
        CREATE TABLE consumption_default PARTITION OF consumption DEFAULT;
        CREATE TABLE unit_rates (
            tariff_code TEXT NOT NULL, register TEXT NOT NULL, payment_method TEXT NOT NULL,
            valid_from BIGINT NOT NULL, valid_to BIGINT, value_exc_vat DOUBLE PRECISION NOT NULL,
            value_inc_vat DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (tariff_code, register, payment_method, valid_from)
        );
        CREATE TABLE standing_charges (
            tariff_code TEXT NOT NULL, payment_method TEXT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT,
            value_exc_vat DOUBLE PRECISION NOT NULL, value_inc_vat DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (tariff_code, payment_method, valid_from)
        );
        CREATE TABLE rate_windows (
            tariff_code TEXT NOT NULL, charge TEXT NOT NULL, window_from BIGINT NOT NULL, window_to BIGINT NOT NULL,
            settled_to BIGINT NOT NULL, fresh_until BIGINT NOT NULL,
            PRIMARY KEY (tariff_code, charge, window_from, window_to)
        );
        CREATE TABLE dispatches (
            account TEXT NOT NULL, device_id TEXT NOT NULL, kind TEXT NOT NULL, start BIGINT NOT NULL,
            "end" BIGINT NOT NULL, charge_type TEXT, energy_kwh DOUBLE PRECISION, source TEXT, location TEXT,
            seen_at BIGINT NOT NULL,
            PRIMARY KEY (account, device_id, kind, start)
        );
        CREATE TABLE telemetry (
            account TEXT NOT NULL, device_id TEXT NOT NULL, read_at BIGINT NOT NULL,
            consumption_wh DOUBLE PRECISION, delta_wh DOUBLE PRECISION, demand_w DOUBLE PRECISION,
            export_wh DOUBLE PRECISION,
            PRIMARY KEY (account, device_id, read_at)
        ) PARTITION BY RANGE (read_at);
        CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
        CREATE TABLE sync_cursors (
            account TEXT NOT NULL, series TEXT NOT NULL, serial TEXT NOT NULL, synced_at BIGINT NOT NULL,
            synced_to BIGINT NOT NULL,
            PRIMARY KEY (account, series, serial)
        );
        CREATE TABLE sync_runs (
            account TEXT NOT NULL, id BIGINT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT,
            outcome TEXT NOT NULL, summary TEXT,
            PRIMARY KEY (account, id)
        );
        CREATE TABLE request_budget (
            account TEXT NOT NULL, key_id TEXT NOT NULL, api TEXT NOT NULL, at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX request_budget_by_time ON request_budget (account, key_id, api, at);
        CREATE TABLE tokens (
            account TEXT NOT NULL, key_id TEXT NOT NULL, token TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
            refresh_token TEXT, refresh_expires_at DOUBLE PRECISION,
            PRIMARY KEY (account, key_id)
        );
        -- Not in SQLite (which has PRAGMA data_version): a counter per account, bumped by each write
        -- transaction, and one for the shared tables under SHARED_VERSION. Bumping it first also queues
        -- one account's writers behind each other.
        CREATE TABLE account_versions (account TEXT PRIMARY KEY, version BIGINT NOT NULL);
        """,
    ),
    (
        "tariff catalogue",
        """
        CREATE TABLE catalogue_products (
            code TEXT PRIMARY KEY, direction TEXT NOT NULL, full_name TEXT NOT NULL, display_name TEXT NOT NULL,
            is_variable BIGINT NOT NULL, is_green BIGINT NOT NULL, is_tracker BIGINT NOT NULL,
            is_prepay BIGINT NOT NULL, is_business BIGINT NOT NULL, is_restricted BIGINT NOT NULL, term BIGINT,
            brand TEXT NOT NULL, available_from BIGINT, available_to BIGINT, position BIGINT NOT NULL,
            detailed_at BIGINT
        );
        CREATE TABLE catalogue_tariffs (
            product TEXT NOT NULL REFERENCES catalogue_products(code), tariff_code TEXT NOT NULL,
            region TEXT NOT NULL, fuel TEXT NOT NULL, registers BIGINT NOT NULL,
            PRIMARY KEY (product, tariff_code)
        );
        CREATE TABLE catalogue_lookups (key TEXT PRIMARY KEY, value TEXT NOT NULL, fetched_at BIGINT NOT NULL);
        """,
    ),
    (
        "export cursors",
        """
        CREATE TABLE export_cursors (
            account TEXT NOT NULL, target TEXT NOT NULL, measurement TEXT NOT NULL, series TEXT NOT NULL,
            exported_from BIGINT NOT NULL, exported_to BIGINT NOT NULL, exported_at BIGINT NOT NULL,
            points BIGINT NOT NULL,
            PRIMARY KEY (account, target, measurement, series)
        );
        """,
    ),
    # SQLite marks its file in the header; here the marker row says the database is octoscope's.
    (
        "application id",
        "INSERT INTO octoscope_meta (key, value) VALUES ('application', 'octoscope') ON CONFLICT DO NOTHING",
    ),
    (
        "notifications sent",
        """
        CREATE TABLE notifications_sent (
            account TEXT NOT NULL, event TEXT NOT NULL, rule TEXT NOT NULL, sent_at BIGINT NOT NULL,
            PRIMARY KEY (account, event)
        );
        CREATE INDEX notifications_sent_at ON notifications_sent (account, sent_at);
        """,
    ),
    (
        "bill statements",
        """
        CREATE TABLE bill_statements (
            account TEXT NOT NULL, id TEXT NOT NULL, status TEXT, from_date TEXT NOT NULL, to_date TEXT NOT NULL,
            body TEXT NOT NULL, fetched_at BIGINT NOT NULL,
            PRIMARY KEY (account, id)
        );
        """,
    ),
    (
        "kept results",
        """
        CREATE TABLE kept_results (
            account TEXT NOT NULL, key TEXT NOT NULL, inputs TEXT NOT NULL, computed_at BIGINT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (account, key)
        );
        """,
    ),
)

SHARED_VERSION = "*"  # account_versions' row for the shared tables (no account number looks like it)


@dataclass(frozen=True)
class Table:
    """A logical table as ``store copy`` sees it: its columns without ``account`` (in SQLite's order) and
    its key (likewise), and whether it is shared by every account."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    shared: bool = False


# In dependency order (what another table names comes first).
TABLES: tuple[Table, ...] = (
    Table("accounts", ("number", "discovered_at"), ("number",)),
    Table("properties", ("id", "moved_in_at", "moved_out_at", "postcode", "address"), ("id",)),
    Table(
        "meter_points",
        ("identifier", "property_id", "fuel", "direction", "profile_class", "series"),
        ("identifier",),
    ),
    Table(
        "meters",
        ("point", "serial", "registers", "active_from", "active_to", "unit", "meter_type", "device_id"),
        ("point", "serial"),
    ),
    Table("agreements", ("point", "valid_from", "valid_to", "tariff_code"), ("point", "valid_from")),
    Table("devices", ("id", "device_type", "provider", "status", "state", "make", "model"), ("id",)),
    Table("products", ("code", "full_name", "display_name"), ("code",), shared=True),
    Table("tariffs", ("code", "product", "fuel", "registers", "region", "kind"), ("code",), shared=True),
    Table("series", ("id", "name", "point"), ("id",)),
    Table(
        "consumption",
        ("series_id", "interval_start", "value", "unit", "serial"),
        ("series_id", "interval_start"),
    ),
    Table(
        "unit_rates",
        ("tariff_code", "register", "payment_method", "valid_from", "valid_to", "value_exc_vat", "value_inc_vat"),
        ("tariff_code", "register", "payment_method", "valid_from"),
        shared=True,
    ),
    Table(
        "standing_charges",
        ("tariff_code", "payment_method", "valid_from", "valid_to", "value_exc_vat", "value_inc_vat"),
        ("tariff_code", "payment_method", "valid_from"),
        shared=True,
    ),
    Table(
        "rate_windows",
        ("tariff_code", "charge", "window_from", "window_to", "settled_to", "fresh_until"),
        ("tariff_code", "charge", "window_from", "window_to"),
        shared=True,
    ),
    Table(
        "dispatches",
        ("device_id", "kind", "start", "end", "charge_type", "energy_kwh", "source", "location", "seen_at"),
        ("device_id", "kind", "start"),
    ),
    Table(
        "telemetry",
        ("device_id", "read_at", "consumption_wh", "delta_wh", "demand_w", "export_wh"),
        ("device_id", "read_at"),
    ),
    Table("sync_cursors", ("series", "serial", "synced_at", "synced_to"), ("series", "serial")),
    Table("sync_runs", ("id", "started_at", "finished_at", "outcome", "summary"), ("id",)),
    Table("request_budget", ("key_id", "api", "at"), ()),  # no key in SQLite either: read in time order
    Table("tokens", ("key_id", "token", "expires_at", "refresh_token", "refresh_expires_at"), ("key_id",)),
    Table(
        "catalogue_products",
        (
            "code",
            "direction",
            "full_name",
            "display_name",
            "is_variable",
            "is_green",
            "is_tracker",
            "is_prepay",
            "is_business",
            "is_restricted",
            "term",
            "brand",
            "available_from",
            "available_to",
            "position",
            "detailed_at",
        ),
        ("code",),
        shared=True,
    ),
    Table(
        "catalogue_tariffs",
        ("product", "tariff_code", "region", "fuel", "registers"),
        ("product", "tariff_code"),
        shared=True,
    ),
    Table("catalogue_lookups", ("key", "value", "fetched_at"), ("key",), shared=True),
    Table(
        "export_cursors",
        ("target", "measurement", "series", "exported_from", "exported_to", "exported_at", "points"),
        ("target", "measurement", "series"),
    ),
    Table("notifications_sent", ("event", "rule", "sent_at"), ("event",)),
    Table("bill_statements", ("id", "status", "from_date", "to_date", "body", "fetched_at"), ("id",)),
    Table("kept_results", ("key", "inputs", "computed_at", "body"), ("key",)),
)

BY_NAME = {t.name: t for t in TABLES}
PARTITIONED = {"consumption": "interval_start", "telemetry": "read_at"}


def quoted(column: str) -> str:
    return '"end"' if column == "end" else column  # the one column name PostgreSQL reserves


def month_partition(table: str, instant: int) -> tuple[str, int, int]:
    """The month partition of ``table`` holding the epoch second ``instant``: its name and [from, to)."""
    at = datetime.fromtimestamp(instant, UTC)
    first = datetime(at.year, at.month, 1, tzinfo=UTC)
    following = datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)
    return f"{table}_{at.year:04d}_{at.month:02d}", int(first.timestamp()), int(following.timestamp())


def months_between(table: str, lo: int, hi: int) -> list[tuple[str, int, int]]:
    """Every month partition of ``table`` from the one holding ``lo`` to the one holding ``hi``."""
    out = [month_partition(table, lo)]
    while out[-1][2] <= hi:
        out.append(month_partition(table, out[-1][2]))
    return out
