"""Statements reconciled, written elsewhere: CSV or Parquet (one row per statement and fuel), and InfluxDB
(``bill_statements`` per statement and fuel at the statement's first local midnight, ``account_balance`` at
each day the balance is known). Reads the report ``services/bills.py`` made; asks Octopus nothing.

Writing the same statements again overwrites their points (same measurement, tags and time).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.domain.uktime import epoch, local_midnight
from octoscope.errors import OctoscopeError
from octoscope.outputs.files import FileExportError, atomic_file
from octoscope.outputs.influx import target_of
from octoscope.outputs.influx_writer import InfluxWriter, Point

STATEMENTS_MEASUREMENT = "bill_statements"
BALANCE_MEASUREMENT = "account_balance"
COLUMNS = (
    "statement_id",
    "from",
    "to",
    "issued",
    "status",
    "opening_balance_pence",
    "closing_balance_pence",
    "fuel",
    "octopus_pence",
    "octoscope_pence",
    "difference_pence",
    "matches",
    "causes",
    "reasons",
)


class BillsExportError(OctoscopeError, ValueError):
    """The statements cannot be written as asked; the message says what to do."""


@dataclass(frozen=True)
class Row:
    statement_id: str
    first: str
    last: str
    issued: str | None
    status: str | None
    opening: int | None
    closing: int | None
    fuel: str | None  # None: a statement with nothing to compare (an open one, no charges)
    octopus: int | None
    octoscope: int | None
    difference: int | None
    matches: bool | None
    causes: str
    reasons: str


def rows(report: dict[str, Any]) -> list[Row]:
    """One row per statement and fuel, oldest statement first; a statement with no fuel line, one row."""
    out = []
    for st in report["statements"]:
        head = (
            st["id"],
            st["from"],
            st["to"],
            st["issued"],
            st["status"],
            st["opening_balance"],
            st["closing_balance"],
        )
        for f in st["fuels"]:
            out.append(
                Row(
                    *head,
                    fuel=f["fuel"],
                    octopus=f["octopus_pence"],
                    octoscope=f["octoscope_pence"],
                    difference=f["difference_pence"],
                    matches=f["matches"],
                    causes=";".join(r["cause"] for r in f["reasons"]),
                    reasons="; ".join(r["text"] for r in f["reasons"]),
                )
            )
        if not st["fuels"]:
            out.append(Row(*head, None, None, None, None, None, "", "; ".join(st["notes"])))
    return out


def _record(r: Row) -> list[Any]:
    return [
        r.statement_id,
        r.first,
        r.last,
        r.issued,
        r.status,
        r.opening,
        r.closing,
        r.fuel,
        r.octopus,
        r.octoscope,
        r.difference,
        r.matches,
        r.causes,
        r.reasons,
    ]


def write_csv(found: list[Row], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_record(r) for r in found)
    return len(found)


def parquet_table(found: list[Row]) -> Any:
    import pyarrow as pa  # noqa: PLC0415 (heavy: only for Parquet)

    def ints(values: list[int | None]) -> Any:
        return pa.array(values, pa.int64())

    return pa.table(
        {
            "statement_id": pa.array([r.statement_id for r in found], pa.string()),
            "from": pa.array([date.fromisoformat(r.first) for r in found], pa.date32()),
            "to": pa.array([date.fromisoformat(r.last) for r in found], pa.date32()),
            "issued": pa.array([date.fromisoformat(r.issued) if r.issued else None for r in found], pa.date32()),
            "status": pa.array([r.status for r in found], pa.string()),
            "opening_balance_pence": ints([r.opening for r in found]),
            "closing_balance_pence": ints([r.closing for r in found]),
            "fuel": pa.array([r.fuel for r in found], pa.string()),
            "octopus_pence": ints([r.octopus for r in found]),
            "octoscope_pence": ints([r.octoscope for r in found]),
            "difference_pence": ints([r.difference for r in found]),
            "matches": pa.array([r.matches for r in found], pa.bool_()),
            "causes": pa.array([r.causes for r in found], pa.string()),
            "reasons": pa.array([r.reasons for r in found], pa.string()),
        }
    )


def export_csv(found: list[Row], output: Path) -> int:
    if str(output) == "-":
        return write_csv(found, sys.stdout)
    try:
        with atomic_file(output, option="") as temporary, temporary.open("w", newline="", encoding="utf-8") as out:
            return write_csv(found, out)
    except FileExportError as err:
        raise BillsExportError(str(err)) from None
    except OSError as err:
        raise BillsExportError(f"cannot write {output}: {err.strerror}") from None


def export_parquet(found: list[Row], output: Path) -> int:
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        with atomic_file(output, option="") as temporary:
            pq.write_table(parquet_table(found), str(temporary))
    except FileExportError as err:
        raise BillsExportError(str(err)) from None
    except OSError as err:
        raise BillsExportError(f"cannot write {output}: {err.strerror}") from None
    return len(found)


def points(report: dict[str, Any]) -> list[Point]:
    """``bill_statements`` per statement and fuel, ``account_balance`` per day the balance is known."""
    out = []
    account = report["account"]
    for r in rows(report):
        if r.fuel is None:
            continue
        out.append(
            Point(
                STATEMENTS_MEASUREMENT,
                (("account", account), ("fuel", r.fuel), ("statement_id", r.statement_id)),
                (
                    ("status", r.status),  # a field: an open statement that closes stays one series
                    ("octopus_pence", r.octopus),
                    ("octoscope_pence", r.octoscope),
                    ("difference_pence", r.difference),
                    ("matches", r.matches),
                    ("causes", r.causes),
                ),
                epoch(local_midnight(date.fromisoformat(r.first))),
            )
        )
    for b in report["balance"]:
        out.append(
            Point(
                BALANCE_MEASUREMENT,
                (("account", account),),
                (("balance_pence", b["pence"]),),
                epoch(local_midnight(date.fromisoformat(b["date"]))),
            )
        )
    return out


def export_influx(settings: Settings, report: dict[str, Any], clock: Clock) -> int:
    if settings.influx is None:
        raise BillsExportError("no [influx] section in the config file: say where InfluxDB is (see the README)")
    with InfluxWriter(target_of(settings.influx), clock=clock) as writer:
        return writer.write(points(report))
