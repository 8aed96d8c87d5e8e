"""The schema as numbered migrations; each runs once, in its own transaction, and is recorded.

Instants are UTC epoch seconds. Interval tables are keyed naturally, so every write can be an upsert.
:func:`applied` and :func:`pending` say what a file has recorded and what this build would run on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from octoscope.store.errors import StoreError

if TYPE_CHECKING:
    from octoscope.store.guard import Found

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "initial schema",
        """
        CREATE TABLE accounts (
            number TEXT PRIMARY KEY,
            discovered_at INTEGER NOT NULL
        );
        CREATE TABLE properties (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts(number),
            moved_in_at INTEGER,
            moved_out_at INTEGER,
            postcode TEXT NOT NULL,
            address TEXT NOT NULL
        );
        CREATE TABLE meter_points (
            identifier TEXT PRIMARY KEY,
            property_id TEXT NOT NULL REFERENCES properties(id),
            fuel TEXT NOT NULL,
            direction TEXT NOT NULL,
            profile_class INTEGER,
            series TEXT NOT NULL UNIQUE
        );
        CREATE TABLE meters (
            point TEXT NOT NULL REFERENCES meter_points(identifier),
            serial TEXT NOT NULL,
            registers TEXT NOT NULL,
            active_from TEXT,
            active_to TEXT,
            unit TEXT,
            meter_type TEXT,
            device_id TEXT,
            PRIMARY KEY (point, serial)
        );
        CREATE TABLE agreements (
            point TEXT NOT NULL REFERENCES meter_points(identifier),
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            tariff_code TEXT NOT NULL,
            PRIMARY KEY (point, valid_from)
        );
        CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts(number),
            device_type TEXT NOT NULL,
            provider TEXT NOT NULL,
            status TEXT,
            state TEXT,
            make TEXT,
            model TEXT
        );
        CREATE TABLE products (
            code TEXT PRIMARY KEY,
            full_name TEXT,
            display_name TEXT
        );
        CREATE TABLE tariffs (
            code TEXT PRIMARY KEY,
            product TEXT NOT NULL,
            fuel TEXT NOT NULL,
            registers INTEGER NOT NULL,
            region TEXT NOT NULL,
            kind TEXT
        );
        CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            point TEXT NOT NULL
        );
        CREATE TABLE consumption (
            series_id INTEGER NOT NULL REFERENCES series(id),
            interval_start INTEGER NOT NULL,
            value REAL NOT NULL,
            unit TEXT NOT NULL,
            serial TEXT NOT NULL,
            PRIMARY KEY (series_id, interval_start)
        ) WITHOUT ROWID;
        CREATE TABLE unit_rates (
            tariff_code TEXT NOT NULL,
            register TEXT NOT NULL,
            payment_method TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            value_exc_vat REAL NOT NULL,
            value_inc_vat REAL NOT NULL,
            PRIMARY KEY (tariff_code, register, payment_method, valid_from)
        ) WITHOUT ROWID;
        CREATE TABLE standing_charges (
            tariff_code TEXT NOT NULL,
            payment_method TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            value_exc_vat REAL NOT NULL,
            value_inc_vat REAL NOT NULL,
            PRIMARY KEY (tariff_code, payment_method, valid_from)
        ) WITHOUT ROWID;
        CREATE TABLE rate_windows (
            tariff_code TEXT NOT NULL,
            charge TEXT NOT NULL,
            window_from INTEGER NOT NULL,
            window_to INTEGER NOT NULL,
            settled_to INTEGER NOT NULL,
            fresh_until INTEGER NOT NULL,
            PRIMARY KEY (tariff_code, charge, window_from, window_to)
        );
        CREATE TABLE dispatches (
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            charge_type TEXT,
            energy_kwh REAL,
            source TEXT,
            location TEXT,
            seen_at INTEGER NOT NULL,
            PRIMARY KEY (device_id, kind, start)
        );
        CREATE TABLE telemetry (
            device_id TEXT NOT NULL,
            read_at INTEGER NOT NULL,
            consumption_wh REAL,
            delta_wh REAL,
            demand_w REAL,
            export_wh REAL,
            PRIMARY KEY (device_id, read_at)
        ) WITHOUT ROWID;
        CREATE TABLE sync_cursors (
            series TEXT NOT NULL,
            serial TEXT NOT NULL,
            synced_at INTEGER NOT NULL,
            synced_to INTEGER NOT NULL,
            PRIMARY KEY (series, serial)
        );
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            outcome TEXT NOT NULL,
            summary TEXT
        );
        CREATE TABLE request_budget (
            key_id TEXT NOT NULL,
            api TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX request_budget_by_time ON request_budget (key_id, api, at);
        CREATE TABLE tokens (
            key_id TEXT PRIMARY KEY,
            token TEXT NOT NULL,
            expires_at REAL NOT NULL,
            refresh_token TEXT,
            refresh_expires_at REAL
        );
        """,
    ),
    (
        "tariff catalogue",
        """
        CREATE TABLE catalogue_products (
            code TEXT PRIMARY KEY,
            direction TEXT NOT NULL,
            full_name TEXT NOT NULL,
            display_name TEXT NOT NULL,
            is_variable INTEGER NOT NULL,
            is_green INTEGER NOT NULL,
            is_tracker INTEGER NOT NULL,
            is_prepay INTEGER NOT NULL,
            is_business INTEGER NOT NULL,
            is_restricted INTEGER NOT NULL,
            term INTEGER,
            brand TEXT NOT NULL,
            available_from INTEGER,
            available_to INTEGER,
            position INTEGER NOT NULL,
            detailed_at INTEGER
        );
        CREATE TABLE catalogue_tariffs (
            product TEXT NOT NULL REFERENCES catalogue_products(code),
            tariff_code TEXT NOT NULL,
            region TEXT NOT NULL,
            fuel TEXT NOT NULL,
            registers INTEGER NOT NULL,
            PRIMARY KEY (product, tariff_code)
        );
        CREATE TABLE catalogue_lookups (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            fetched_at INTEGER NOT NULL
        );
        """,
    ),
    (
        "export cursors",
        """
        CREATE TABLE export_cursors (
            target TEXT NOT NULL,
            measurement TEXT NOT NULL,
            series TEXT NOT NULL,
            exported_from INTEGER NOT NULL,
            exported_to INTEGER NOT NULL,
            exported_at INTEGER NOT NULL,
            points INTEGER NOT NULL,
            PRIMARY KEY (target, measurement, series)
        );
        """,
    ),
    (
        # Marks the file as octoscope's in the SQLite header (0x6F63746F, "octo"; store/guard.py), so that
        # `file`, other tools and octoscope itself can tell it from another application's database.
        "application id",
        """
        PRAGMA application_id = 1868788847;
        """,
    ),
    (
        # Each notification event sent once, whatever restarts; the sent times also cap the rate per hour.
        "notifications sent",
        """
        CREATE TABLE notifications_sent (
            event TEXT PRIMARY KEY,
            rule TEXT NOT NULL,
            sent_at INTEGER NOT NULL
        );
        CREATE INDEX notifications_sent_at ON notifications_sent (sent_at);
        """,
    ),
    (
        # Octopus's statements as read (domain/bills.py's form, JSON): a closed one is never asked for again.
        "bill statements",
        """
        CREATE TABLE bill_statements (
            account TEXT NOT NULL,
            id TEXT NOT NULL,
            status TEXT,
            from_date TEXT NOT NULL,
            to_date TEXT NOT NULL,
            body TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (account, id)
        );
        """,
    ),
    (
        # Answers that are slow to work out (the tariff comparison), kept across restarts: the key names what
        # was asked, inputs a digest of what the answer was worked out from (the caller decides when it is stale).
        "kept results",
        """
        CREATE TABLE kept_results (
            key TEXT PRIMARY KEY,
            inputs TEXT NOT NULL,
            computed_at INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        """,
    ),
)


def applied(path: Path) -> list[tuple[int, str]]:
    """The migrations recorded in the database at ``path`` (version, name), read without writing to it;
    none for a missing or empty file. ``StoreError`` if the file is not octoscope's."""
    return [(v, MIGRATIONS[v - 1][0]) for v in _found(path).applied]


def pending(path: Path) -> list[tuple[int, str]]:
    """The migrations this build would run when it next opens ``path`` (version, name), in order."""
    done = set(_found(path).applied)
    return [(v, name) for v, (name, _) in enumerate(MIGRATIONS, start=1) if v not in done]


def _found(path: Path) -> Found:
    from octoscope.store.guard import NotOurs, inspect  # noqa: PLC0415 (guard reads MIGRATIONS from here)

    try:
        return inspect(path)
    except NotOurs as err:
        raise StoreError(str(err)) from None
