"""Which recorded sync runs are really running: each run holds a shared lock on ``<database>.runs`` while it
runs, and the operating system drops it when the process ends, however it ends (a kill, a power cut).

So a ``running`` row that no process holds a lock for is a run that was killed: when the database is
opened and no run anywhere holds the lock, such rows are marked ``interrupted`` (``octoscope status`` then
says so, instead of a sync that never ends).

This is the SQLite backend's lock. On PostgreSQL the same holds through a session advisory lock keyed by the
account (``PostgresStore.start_run``): the server drops it when the run's connection goes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".runs")


def _open(db: Path) -> int | None:
    try:
        return os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None  # a read-only folder: nothing can run there anyway


def none_running(db: Path) -> bool:
    """Whether no process holds a run's lock on ``db`` right now."""
    fd = _open(db)
    if fd is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock at once
    return True


def hold(db: Path) -> int | None:
    """A shared lock for one run, held until :func:`release`."""
    fd = _open(db)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
