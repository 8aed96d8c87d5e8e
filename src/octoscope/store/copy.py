"""``octoscope store copy``: every row of one store into another, across backends, then counted on both sides.

Both stores go through ``TableCopy`` (store/ports.py), so SQLite -> PostgreSQL, back, or SQLite -> SQLite
are the same loop. Rows are streamed a batch at a time, each batch one transaction in the destination, so
memory stays flat however long the history; a copy that stops part-way can be finished with ``force``,
which replaces rows with the same key instead of refusing a store that already holds data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from octoscope.errors import ConflictError
from octoscope.store.errors import StoreError
from octoscope.store.ports import TableCopy

__all__ = ["BATCH_ROWS", "CopiedTable", "Copyable", "copy_store"]

BATCH_ROWS = 5000


class Copyable(TableCopy, Protocol):
    def schema_version(self) -> int: ...


@dataclass(frozen=True)
class CopiedTable:
    table: str
    source_rows: int
    destination_rows: int  # counted again after the copy


def _count(rows: Iterator[tuple[object, ...]]) -> int:
    return sum(1 for _ in rows)


def _close(rows: Iterator[tuple[object, ...]]) -> None:
    """Let go of a read's cursor before the end (a generator's ``close``)."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _holds_rows(store: Copyable, table: str) -> bool:
    _, rows = store.read_table(table)
    try:
        return next(rows, None) is not None
    finally:
        _close(rows)


def copy_store(
    source: Copyable,
    destination: Copyable,
    *,
    force: bool = False,
    batch: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> list[CopiedTable]:
    """Copy every table of ``source`` into ``destination`` and count both; ``progress(table, rows so far)``.

    Refused, before anything is written: stores at different schema versions or with different tables, or
    a destination already holding data (unless ``force``). Raises ``StoreError`` if the counts differ after.
    """
    have, want = source.schema_version(), destination.schema_version()
    if have != want:
        older = "source" if have < want else "destination"
        raise ConflictError(
            f"the source is at schema version {have} and the destination at {want}",
            hint=f"upgrade the {older} by opening it once with this octoscope (e.g. `octoscope status`), then copy",
        )
    tables = source.copy_tables()
    theirs = destination.copy_tables()
    if tables != theirs:
        missing = sorted(set(tables) ^ set(theirs)) or ["(the same tables in another order)"]
        raise ConflictError(f"the two stores do not hold the same tables: {', '.join(missing)}")
    if not force:
        full = [t for t in tables if _holds_rows(destination, t)]
        if full:
            raise ConflictError(
                f"the destination already holds data ({', '.join(full[:4])}{', ...' if len(full) > 4 else ''})",
                hint="copy into an empty store, or pass --force to replace its rows that have the same keys",
            )
    copied: dict[str, int] = {}
    for table in tables:
        columns, rows = source.read_table(table)
        their_columns, their_rows = destination.read_table(table)
        _close(their_rows)  # only its columns were wanted
        if sorted(columns) != sorted(their_columns):
            raise ConflictError(
                f"table {table} has columns {', '.join(columns)} in the source but {', '.join(their_columns)}"
                " in the destination"
            )
        done = 0
        while chunk := list(islice(rows, batch)):
            done += destination.write_table(table, columns, chunk)
            if progress is not None:
                progress(table, done)
        copied[table] = done
    report = [CopiedTable(t, n, _count(destination.read_table(t)[1])) for t, n in copied.items()]
    # With force the destination may keep rows of its own besides the copied ones; never fewer
    short = [
        r for r in report if r.destination_rows < r.source_rows or (r.destination_rows != r.source_rows and not force)
    ]
    if short:
        first = short[0]
        raise StoreError(
            f"the copy does not match: table {first.table} has {first.source_rows} rows in the source and"
            f" {first.destination_rows} in the destination"
        )
    return report
