"""Half-hourly rows as CSV or Parquet: one row per half-hour stored, with its UTC and UK local time, the
tariff, the rate applied and the cost, exc and inc VAT, as the cost engine worked them out.

On export rows the energy cost columns hold what the export earned, and the standing charge is zero.
"""

from __future__ import annotations

import csv
import fcntl
import glob
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Any

from octoscope.config import Settings
from octoscope.domain.uktime import UK, iso_z
from octoscope.errors import OctoscopeError
from octoscope.outputs.rows import HalfHourRow, account_rows
from octoscope.services.costing import FuelName, load_account
from octoscope.store.ports import StoreProtocol

COLUMNS = (
    "interval_start_utc",
    "interval_start_uk",
    "uk_date",
    "fuel",
    "meter_point",
    "tariff_code",
    "band",
    "kwh",
    "m3",
    "unit_rate_exc_vat_p_per_kwh",
    "unit_rate_inc_vat_p_per_kwh",
    "energy_cost_exc_vat_pence",
    "energy_cost_inc_vat_pence",
    "standing_charge_exc_vat_pence",
    "standing_charge_inc_vat_pence",
    "total_exc_vat_pence",
    "total_inc_vat_pence",
)


class FileExportError(OctoscopeError, ValueError):
    """The file cannot be written as asked; the message says what to do."""


def rows(
    store: StoreProtocol, settings: Settings, first: date, end: date, fuels: tuple[FuelName, ...]
) -> list[HalfHourRow]:
    """Every stored half-hour of local days [first, end) of the chosen fuels, in time order."""
    account = load_account(store, settings.require_account())
    found = list(account_rows(settings, store, account, first, end, fuels))
    order = {"electricity": 0, "gas": 1, "export": 2}
    found.sort(key=lambda r: (r.start, order[r.fuel], r.point))
    return found


def _total(cost: float | None, standing: float) -> float | None:
    return None if cost is None else cost + standing


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def csv_record(r: HalfHourRow) -> list[Any]:
    """Money to a millionth of a penny and kWh to 0.1 Wh: sums over a year agree with ``octoscope costs``."""
    return [
        iso_z(r.start),
        r.start.astimezone(UK).isoformat(),
        r.local_day.isoformat(),
        r.fuel,
        r.point,
        r.tariff_code or "",
        r.band or "",
        round(r.kwh, 4),
        "" if r.m3 is None else r.m3,
        *("" if v is None else v for v in (_round(r.rate_exc_vat, 6), _round(r.rate_inc_vat, 6))),
        *("" if v is None else v for v in (_round(r.cost_exc_vat, 6), _round(r.cost_inc_vat, 6))),
        round(r.standing_exc_vat, 6),
        round(r.standing_inc_vat, 6),
        *(
            "" if v is None else round(v, 6)
            for v in (_total(r.cost_exc_vat, r.standing_exc_vat), _total(r.cost_inc_vat, r.standing_inc_vat))
        ),
    ]


def write_csv(found: Iterable[HalfHourRow], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for r in found:
        writer.writerow(csv_record(r))
        count += 1
    return count


def parquet_table(found: list[HalfHourRow]) -> Any:
    """The rows as a pyarrow table: instants as timestamps (UTC, and the same instant in Europe/London),
    the local day as a date, numbers as float64 with nulls where no price was found."""
    import pyarrow as pa  # noqa: PLC0415 (heavy: only for Parquet)

    def floats(get: Callable[[HalfHourRow], float | None]) -> Any:
        return pa.array([get(r) for r in found], pa.float64())

    starts = [r.start for r in found]
    return pa.table(
        {
            "interval_start_utc": pa.array(starts, pa.timestamp("s", tz="UTC")),
            "interval_start_uk": pa.array(starts, pa.timestamp("s", tz="UTC")).cast(
                pa.timestamp("s", tz="Europe/London")
            ),
            "uk_date": pa.array([r.local_day for r in found], pa.date32()),
            "fuel": pa.array([r.fuel for r in found], pa.string()),
            "meter_point": pa.array([r.point for r in found], pa.string()),
            "tariff_code": pa.array([r.tariff_code for r in found], pa.string()),
            "band": pa.array([r.band for r in found], pa.string()),
            "kwh": floats(lambda r: r.kwh),
            "m3": floats(lambda r: r.m3),
            "unit_rate_exc_vat_p_per_kwh": floats(lambda r: r.rate_exc_vat),
            "unit_rate_inc_vat_p_per_kwh": floats(lambda r: r.rate_inc_vat),
            "energy_cost_exc_vat_pence": floats(lambda r: r.cost_exc_vat),
            "energy_cost_inc_vat_pence": floats(lambda r: r.cost_inc_vat),
            "standing_charge_exc_vat_pence": floats(lambda r: r.standing_exc_vat),
            "standing_charge_inc_vat_pence": floats(lambda r: r.standing_inc_vat),
            "total_exc_vat_pence": floats(lambda r: _total(r.cost_exc_vat, r.standing_exc_vat)),
            "total_inc_vat_pence": floats(lambda r: _total(r.cost_inc_vat, r.standing_inc_vat)),
        }
    )


@contextmanager
def atomic_file(path: Path, option: str = "--output") -> Iterator[Path]:
    """A temporary file beside ``path``, moved into place only when complete: a failure leaves no
    half-written file (and an older file as it was). The temporary file is locked while it is written, so
    one left by a killed export (its lock gone with its process) is removed by the next export there.
    ``option``: the command-line option that named the file, for the error."""
    directory = path.parent
    if not directory.is_dir():
        raise FileExportError(f"{option} {path}: the folder {directory} does not exist".lstrip())
    prefix = f".{path.name}."
    _remove_abandoned(directory, prefix)
    descriptor, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=directory)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    temporary = Path(name)
    try:
        yield temporary
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        os.close(descriptor)


TEMP_SUFFIX = ".part"


def _remove_abandoned(directory: Path, prefix: str) -> None:
    """Temporary files of earlier exports to the same file that no running export holds."""
    for stale in directory.glob(f"{glob.escape(prefix)}*{TEMP_SUFFIX}"):
        try:
            fd = os.open(stale, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            stale.unlink(missing_ok=True)
        except OSError:
            pass  # another export is writing it
        finally:
            os.close(fd)


def export_csv(found: list[HalfHourRow], output: Path | None) -> int:
    if output is None:
        return write_csv(found, sys.stdout)
    try:
        with atomic_file(output) as temporary, temporary.open("w", newline="", encoding="utf-8") as out:
            return write_csv(found, out)
    except OSError as err:
        raise FileExportError(f"cannot write {output}: {err.strerror}") from None


def export_parquet(found: list[HalfHourRow], output: Path | None) -> int:
    import pyarrow.parquet as pq  # noqa: PLC0415

    table = parquet_table(found)
    if output is None:
        if sys.stdout.isatty():
            raise FileExportError("Parquet is binary: give --output FILE, or redirect the output to a file")
        pq.write_table(table, sys.stdout.buffer)
        return len(found)
    try:
        with atomic_file(output) as temporary:
            pq.write_table(table, str(temporary))
    except OSError as err:
        raise FileExportError(f"cannot write {output}: {err.strerror}") from None
    return len(found)
