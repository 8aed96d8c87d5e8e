"""See ARCHITECTURE.md for what lives here. Open a store with :func:`open_store`; ask it through the
protocols in :mod:`octoscope.store.ports`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from octoscope.clock import SYSTEM
from octoscope.store.errors import StoreError
from octoscope.store.locations import SERVER_SCHEMES, is_server_url, redacted
from octoscope.store.ports import StoreProtocol

__all__ = ["SERVER_SCHEMES", "StoreError", "StoreProtocol", "is_server_url", "open_store", "redacted"]


def open_store(location: Path | str, clock: Callable[[], float] = SYSTEM, account: str | None = None) -> StoreProtocol:
    """The store at ``location``, migrated to this build's schema; close it when done. A ``postgresql://`` URL
    opens the PostgreSQL backend, bound to ``account`` (required there); anything else is a SQLite file."""
    if is_server_url(location):
        from octoscope.store.postgres import PostgresStore  # noqa: PLC0415 (only a server user loads psycopg)

        if not account:
            raise StoreError("a PostgreSQL database holds many accounts: set OCTOSCOPE_ACCOUNT to the one to use")
        return PostgresStore.open(str(location), clock, account=account)
    from octoscope.store.sqlite import SQLiteStore  # noqa: PLC0415 (importing store.ports need not load a backend)

    return SQLiteStore.open(location, clock)
