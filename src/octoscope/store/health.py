"""Read-only questions about a database file, for ``octoscope doctor``: they open it with ``mode=ro`` and
never migrate or write, so the doctor can look at a database that another release or process owns."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from octoscope.store.errors import StoreError
from octoscope.store.guard import read_only_uri
from octoscope.store.problems import describe

SQLITE_VERSION = sqlite3.sqlite_version  # the library this build's backend runs on, for `octoscope doctor`


@dataclass(frozen=True)
class Activity:
    requests: dict[str, int]  # api ("rest", "graphql"): requests sent under the key since the instant asked
    newest_reading: int | None  # epoch seconds of the newest half-hour stored
    last_run_started: int | None  # epoch seconds


def activity(path: Path, key_id: str | None, since: float) -> Activity:
    """What the database records: the key's requests since ``since`` (epoch seconds), the newest reading
    and the last sync run. ``key_id`` is the key's fingerprint, never the key. :class:`StoreError` if the
    file cannot be read."""
    try:
        db = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            requests: dict[str, int] = {}
            if key_id is not None:
                rows = db.execute(
                    "SELECT api, COUNT(*) FROM request_budget WHERE key_id = ? AND at >= ? GROUP BY api",
                    (key_id, since),
                )
                requests = {str(api): int(count) for api, count in rows}
            (newest,) = db.execute("SELECT MAX(interval_start) FROM consumption").fetchone()
            (started,) = db.execute("SELECT MAX(started_at) FROM sync_runs").fetchone()
        finally:
            db.close()
    except sqlite3.Error as err:
        raise StoreError(describe(err, path)) from err
    return Activity(requests, newest, started)
