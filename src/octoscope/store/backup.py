"""Online backup and restore of the SQLite database, with SQLite's backup API.

A backup is one consistent snapshot, taken while ``serve`` and a sync go on writing: the copy is made in
one step under a read transaction, which in WAL mode blocks no writer. The copy is written beside its
target under a temporary name, checked by opening it (octoscope's, a known schema version, integrity ok),
and only then renamed into place, so a backup file that exists is a whole one.

A restore writes through SQLite's locks too, and only when no other process has the database open.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from octoscope.errors import OctoscopeError
from octoscope.store.guard import Found, MigrationFailed, NotOurs, inspect, migrate, read_only_uri


class BackupError(OctoscopeError):
    """A backup or restore that cannot be done; the message is one line saying what to do."""


@dataclass(frozen=True)
class Snapshot:
    """A database file checked by opening it."""

    path: Path
    size: int
    schema_version: int
    rows: dict[str, int]  # table: row count


def _ours(path: Path, what: str) -> Found:
    try:
        found = inspect(path)
    except NotOurs as err:
        raise BackupError(str(err)) from None
    if not found.exists:
        hint = "run `octoscope sync` first, or set OCTOSCOPE_DB" if what == "database" else "check the path"
        raise BackupError(f"no {what} at {path}: {hint}")
    if not found.applied:
        raise BackupError(f"{path} holds no octoscope data: check the path")
    return found


def check(path: Path, what: str = "database") -> Snapshot:
    """Open ``path`` read-only: octoscope's, a schema version this build knows, and SQLite's integrity check ok."""
    found = _ours(path, what)
    db = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise BackupError(f"{path} fails SQLite's integrity check: {problems[0]}")
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: int(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in tables}  # noqa: S608
    except sqlite3.Error as err:
        raise BackupError(f"{path} cannot be read: {err}") from None
    finally:
        db.close()
    return Snapshot(path, path.stat().st_size, found.version, rows)


def backup(source: Path, target: Path) -> Snapshot:
    """Copy the database at ``source`` to the new file ``target``, consistently, while others write to it."""
    _ours(source, "database")
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} already exists: a backup never overwrites; give a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent}: create it first")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        os.close(os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # owner only: it holds the token
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # every page in one step: a snapshot, whatever writers do meanwhile
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
        snapshot = check(partial, "backup")
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.rename(target)
    except sqlite3.Error as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {source} to {target}: {err}") from None
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write {target}: {err.strerror}") from None
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    return Snapshot(target, snapshot.size, snapshot.schema_version, snapshot.rows)


def restore(backup_file: Path, target: Path, *, replace: bool, applied_at: int) -> Snapshot:
    """Replace the database at ``target`` with a checked backup, then migrate it to this build's schema.

    Refused while another process (``serve``, a sync) has ``target`` open, and, without ``replace``, when
    ``target`` already holds data."""
    check(backup_file, "backup")
    try:
        existing = inspect(target)
    except NotOurs as err:
        raise BackupError(str(err)) from None
    if existing.applied and not replace:
        raise BackupError(f"{target} holds data: add --force to replace it with {backup_file}")
    try:
        if not existing.exists:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(target, os.O_RDWR | os.O_CREAT, 0o600))
        dst = sqlite3.connect(target, isolation_level=None, timeout=0)
    except (OSError, sqlite3.Error) as err:
        raise BackupError(f"cannot open {target}: {err}") from None
    try:
        try:
            # Exclusive: fails at once if anyone else has the file open (in WAL mode each reader holds a lock).
            dst.execute("PRAGMA locking_mode=EXCLUSIVE")
            dst.execute("BEGIN EXCLUSIVE")
            dst.execute("COMMIT")
        except sqlite3.OperationalError:
            raise BackupError(
                f"{target} is in use by another process: stop `octoscope serve` (systemctl stop octoscope) and any"
                " sync, then restore"
            ) from None
        src = sqlite3.connect(read_only_uri(backup_file), uri=True)
        try:
            src.backup(dst)
        finally:
            src.close()
        migrate(dst, target, applied_at)  # a backup from an earlier release becomes this release's schema
        dst.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as err:
        raise BackupError(f"cannot restore {backup_file} into {target}: {err}") from None
    except (NotOurs, MigrationFailed) as err:
        raise BackupError(f"restored {backup_file} into {target} as it was, but {err}") from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            dst.close()
    target.chmod(0o600)
    return check(target)
