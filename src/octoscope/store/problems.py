"""A database error said as what to do about it: a full disk, a damaged file, a file that cannot be read
and a file another process is writing are four different fixes, and only the last is 'another octoscope'."""

from __future__ import annotations

import sqlite3


def describe(err: sqlite3.Error | OSError, where: object = "the database") -> str:
    """One line for ``err``, naming ``where`` and the fix."""
    text = " ".join(str(err).split())  # SQLite's findings can span lines: one line here
    lower = text.lower()
    if "full" in lower or getattr(err, "errno", None) == 28:  # SQLITE_FULL, ENOSPC
        return f"the disk holding {where} is full ({text}): free some space, then run the command again"
    if "malformed" in lower or "not a database" in lower or "corrupt" in lower:
        return (
            f"{where} is damaged or is not a database ({text}): restore it from a backup, or move it away"
            " and run `octoscope sync` to make a new one"
        )
    if "locked" in lower or "busy" in lower:
        return f"{where} is busy ({text}): is another octoscope writing to it? Try again when it has finished"
    if "readonly" in lower or "read-only" in lower or "permission" in lower or "unable to open" in lower:
        return f"{where} cannot be read or written ({text}): check the file's and its folder's permissions"
    if "disk i/o" in lower:
        return f"{where} could not be read or written by the disk ({text}): check the disk and free space"
    return f"{where} said: {text}"


def damaged(finding: str, where: object = "the database") -> str:
    """One line for a finding of SQLite's own check (``quick_check``), which can span several lines."""
    return describe(sqlite3.DatabaseError(f"database disk image is malformed: {' '.join(finding.split())}"), where)
