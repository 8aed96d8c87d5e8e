"""The store backends the conformance suite (tests/store/conformance/) runs against: every one must pass it
unchanged. A backend says how to open a fresh store in a test's folder, and where a database that is not
octoscope's lies (which opening must refuse with StoreError)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from octoscope.store import open_store
from octoscope.store.ports import StoreProtocol
from tests.servers import fresh_database


@dataclass(frozen=True)
class Backend:
    name: str
    location: Callable[[Path], object]  # where a test's own store lives, given the test's folder
    open: Callable[[object], StoreProtocol]  # open_store for this backend's locations
    not_ours: Callable[[Path], object]  # a location holding another application's database

    def open_in(self, folder: Path) -> StoreProtocol:
        """The test's store: the same folder opens the same store again."""
        return self.open(self.location(folder))

    def open_at(self, location: object) -> StoreProtocol:
        """The store at ``location`` (for a location that is not a test's own, such as ``not_ours``)."""
        return self.open(location)


def _sqlite_foreign(folder: Path) -> Path:
    path = folder / "other-application.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, title TEXT)")
    return path


def _sqlite_open(location: object) -> StoreProtocol:
    assert isinstance(location, Path)
    return open_store(location)


SQLITE = Backend("sqlite", lambda folder: folder / "octoscope.db", _sqlite_open, _sqlite_foreign)

# PostgreSQL: a database of its own per test folder, on this worker's one cluster (tests/servers.py), bound to
# the fixture account (the conformance suite's store holds A-0000FEED).
PG_ACCOUNT = "A-0000FEED"
_PG_DATABASES: dict[Path, str] = {}


def _pg_location(folder: Path) -> str:
    if folder not in _PG_DATABASES:
        _PG_DATABASES[folder] = fresh_database()
    return _PG_DATABASES[folder]


def _pg_open(location: object) -> StoreProtocol:
    assert isinstance(location, str)
    return open_store(location, account=PG_ACCOUNT)


def _pg_foreign(folder: Path) -> str:
    import psycopg

    dsn = fresh_database("other")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, title TEXT)")
    return dsn


POSTGRES = Backend("postgres", _pg_location, _pg_open, _pg_foreign)

BACKENDS: list[Backend] = [SQLITE, POSTGRES]
