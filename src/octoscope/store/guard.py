"""What a file must be before octoscope writes to it, and migrating it all or nothing.

A database is opened only if it is missing, empty, or octoscope's at a schema version this build knows.
The check reads the file without writing to it (no mode change, no journal switch, no table), so another
application's SQLite file, or a database from a newer octoscope, is refused exactly as it was found.

Pending migrations run in one transaction: if any fails, the file keeps every byte it had.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from octoscope.store.migrations import MIGRATIONS

APPLICATION_ID = 0x6F63746F  # "octo" in the SQLite header (offset 68): stamped by migration 4
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100


class NotOurs(Exception):
    """The file is not a database octoscope may write to; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Found:
    """What a file holds, read without writing to it."""

    exists: bool
    applied: tuple[int, ...]  # schema migrations applied, in order; () for a new or empty database

    @property
    def version(self) -> int:
        return max(self.applied, default=0)

    @property
    def pending(self) -> int:
        return len(MIGRATIONS) - len(self.applied)


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """The URI that opens ``path`` for reading only (any ``?``, ``#`` or ``%`` in the path escaped)."""
    return f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write. With no -wal beside the file, the file alone is the database, and
    ``immutable`` keeps SQLite from creating -wal and -shm files next to someone else's database."""
    live = Path(f"{path}-wal").exists()
    return sqlite3.connect(read_only_uri(path, immutable=not live), uri=True, check_same_thread=False)


def inspect(path: Path) -> Found:
    """Whether octoscope may open ``path``, read only. Raises :class:`NotOurs` with the reason if not."""
    if not path.exists():
        return Found(exists=False, applied=())
    if not path.is_file():
        raise NotOurs(f"{path} is not a file: point OCTOSCOPE_DB at a file (a new one is created)")
    try:
        with path.open("rb") as handle:
            header = handle.read(HEADER_BYTES)
    except OSError as err:
        raise NotOurs(f"cannot read {path} ({err.strerror}): check its owner and mode") from None
    if not header:
        return Found(exists=True, applied=())  # an empty file: SQLite makes a new database in it
    if len(header) < HEADER_BYTES or not header.startswith(SQLITE_MAGIC):
        raise NotOurs(f"{path} is not a SQLite database; octoscope leaves it alone: choose another OCTOSCOPE_DB")
    application_id = int.from_bytes(header[68:72], "big")
    if application_id not in (0, APPLICATION_ID):
        raise NotOurs(
            f"{path} belongs to another application (SQLite application id {application_id:#010x}); octoscope"
            " writes nothing into it: choose another OCTOSCOPE_DB"
        )
    try:
        db = _read_only(path)
        try:
            return _schema_of(path, db)
        finally:
            db.close()
    except sqlite3.Error as err:
        raise NotOurs(f"{path} cannot be read as a database ({err}); octoscope leaves it alone") from None


def _schema_of(path: Path, db: sqlite3.Connection) -> Found:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tables.discard("sqlite_sequence")
    if not tables:
        return Found(exists=True, applied=())
    if "schema_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
        raise NotOurs(
            f"{path} is another application's database (tables {shown}); octoscope writes nothing into it:"
            " choose another OCTOSCOPE_DB"
        )
    try:
        rows = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    except sqlite3.Error:
        rows = [("?", "?")]
    return Found(exists=True, applied=check_applied(path, rows))


def check_applied(path: Path, rows: Sequence[tuple[object, object]]) -> tuple[int, ...]:
    """The applied versions of the SQLite file at ``path``, if they are octoscope's and known to this build;
    else :class:`NotOurs`."""
    return check_recorded(str(path), rows, [name for name, _ in MIGRATIONS], NotOurs)


def check_recorded(
    where: str,
    rows: Sequence[tuple[object, object]],
    known: Sequence[str],
    refuse: Callable[[str], Exception],
    thing: str = "file",
) -> tuple[int, ...]:
    """The one check of a migration table, for every backend: ``rows`` (version, name) in version order must
    be octoscope's (``known``: this build's migration names, in order), none newer than this build, with no
    gap (a gap means a lost or half-copied table: the tables no longer match any version). Anything else is
    ``refuse(one line naming where)``, the error kind the backend's callers expect."""
    versions: list[int] = []
    for version, name in rows:
        if not isinstance(version, int) or version < 1:
            raise refuse(f"{where} has a schema_migrations table octoscope did not write; it leaves the {thing} alone")
        if version > len(known):
            raise refuse(
                f"{where} was written by a newer octoscope (schema version {_newest(rows)}; this build"
                f" knows up to {len(known)}): upgrade octoscope, or restore a backup made by this version"
            )
        if known[version - 1] != name:
            raise refuse(f"{where} has a schema_migrations table octoscope did not write; it leaves the {thing} alone")
        versions.append(version)
    if versions != list(range(1, len(versions) + 1)):
        raise refuse(f"{where} has schema migrations {versions}, with gaps: restore a backup of it")
    return tuple(versions)


def _newest(rows: Sequence[tuple[object, object]]) -> int:
    return max((version for version, _ in rows if isinstance(version, int)), default=0)


class MigrationFailed(Exception):
    """A migration failed and was rolled back; the file is unchanged. One line, saying so."""


def migrate(db: sqlite3.Connection, path: Path, applied_at: int) -> int:
    """Apply every pending migration in one transaction; returns how many ran. ``db`` is in autocommit
    mode (``isolation_level=None``). On failure nothing is written and :class:`MigrationFailed` says so."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at INTEGER NOT NULL)"
        )
        # Checked again under the write lock: another process may have migrated since inspect() looked.
        rows = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        done = set(check_applied(path, rows))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    ran = 0
    for version, (name, sql) in enumerate(MIGRATIONS, start=1):
        if version in done:
            continue
        try:
            for statement in filter(str.strip, sql.split(";")):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, applied_at),
            )
        except sqlite3.Error as err:
            db.execute("ROLLBACK")
            raise MigrationFailed(
                f"cannot upgrade {path}: migration {version} ({name}) failed: {err}; nothing was changed, the file"
                " is exactly as before: keep using the previous octoscope release and report this"
            ) from None
        except BaseException:
            db.execute("ROLLBACK")
            raise
        ran += 1
    db.execute("COMMIT")
    return ran
