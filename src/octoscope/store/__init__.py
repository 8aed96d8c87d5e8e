"""See ARCHITECTURE.md for what lives here. Open a store with :func:`open_store`; ask it through the
protocols in :mod:`octoscope.store.ports`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from octoscope.clock import SYSTEM
from octoscope.store.errors import StoreError
from octoscope.store.ports import StoreProtocol

__all__ = ["StoreError", "StoreProtocol", "open_store"]


def open_store(location: Path | str, clock: Callable[[], float] = SYSTEM) -> StoreProtocol:
    """The store at ``location`` (a SQLite file's path), migrated to this build's schema; close it when done."""
    from octoscope.store.sqlite import SQLiteStore  # noqa: PLC0415 (importing store.ports need not load a backend)

    return SQLiteStore.open(location, clock)
