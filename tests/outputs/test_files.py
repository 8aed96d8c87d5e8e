"""`octoscope export csv|parquet`: one row per stored half-hour, and per fuel the rows add up to what
`octoscope costs --json` says for the same days (October 2026 holds the 50-half-hour day)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from octoscope.domain.uktime import epoch, local_midnight
from octoscope.outputs.files import COLUMNS
from tests.conftest import Cli

FIRST, END = "2026-10-01", "2026-11-01"
SERIES = {
    "electricity": "electricity-import:1900000000101",
    "gas": "gas:3000000101",
    "export": "electricity-export:1900000000125",
}


def stored(cli: Cli, series: str) -> int:
    from datetime import date

    lo, hi = epoch(local_midnight(date.fromisoformat(FIRST))), epoch(local_midnight(date.fromisoformat(END)))
    with sqlite3.connect(cli.db) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM consumption WHERE series_id = (SELECT id FROM series WHERE name = ?)"
            " AND interval_start >= ? AND interval_start < ?",
            (series, lo, hi),
        ).fetchone()
    return int(count)


def sums(rows: list[dict[str, Any]], fuel: str, column: str) -> float:
    return sum(float(r[column]) for r in rows if r["fuel"] == fuel and r[column] not in ("", None))


def check_against_costs(cli: Cli, rows: list[dict[str, Any]]) -> None:
    for vat, flag in (("inc", ()), ("exc", ("--exc-vat",))):
        costs = json.loads(cli.ok("costs", "--from", FIRST, "--to", END, "--json", *flag))
        for fuel in ("electricity", "gas"):
            assert sums(rows, fuel, "kwh") == pytest.approx(costs[fuel]["kwh"], abs=2e-3)
            assert sums(rows, fuel, f"energy_cost_{vat}_vat_pence") == pytest.approx(
                costs[fuel]["energy_cost_pence"], abs=1e-3
            )
            assert sums(rows, fuel, f"standing_charge_{vat}_vat_pence") == pytest.approx(
                costs[fuel]["standing_charge_pence"], abs=1e-3
            )
            assert sums(rows, fuel, f"total_{vat}_vat_pence") == pytest.approx(costs[fuel]["total_pence"], abs=1e-3)
        assert sums(rows, "gas", "m3") == pytest.approx(costs["gas"]["m3"], abs=2e-3)
        assert sums(rows, "export", "kwh") == pytest.approx(costs["export"]["kwh"], abs=2e-3)
        assert sums(rows, "export", f"energy_cost_{vat}_vat_pence") == pytest.approx(
            costs["export"]["earnings_pence"], abs=1e-3
        )
    for fuel, series in SERIES.items():
        assert sum(r["fuel"] == fuel for r in rows) == stored(cli, series)
    per_day = Counter((r["fuel"], r["uk_date"]) for r in rows)
    assert per_day[("electricity", "2026-10-25")] == 50  # the clock goes back: 50 half-hours, one UK day
    assert per_day[("electricity", "2026-10-24")] == 48


def test_csv_rows_add_up_to_the_costs(synced_demo: Cli, tmp_path: Path) -> None:
    out = tmp_path / "october.csv"
    done = synced_demo.run("export", "csv", "--from", FIRST, "--to", END, "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    assert done.stderr == f"Wrote {len(rows)} half-hours to {out}\n"
    check_against_costs(synced_demo, rows)
    # The hour that happens twice on 25 October: the same local clock time, two UTC instants.
    twice = [r for r in rows if r["fuel"] == "electricity" and r["interval_start_uk"].startswith("2026-10-25T01:00")]
    assert [(r["interval_start_utc"], r["interval_start_uk"]) for r in twice] == [
        ("2026-10-25T00:00:00Z", "2026-10-25T01:00:00+01:00"),
        ("2026-10-25T01:00:00Z", "2026-10-25T01:00:00+00:00"),
    ]
    first = rows[0]
    assert first["interval_start_utc"] == "2026-09-30T23:00:00Z"
    assert first["tariff_code"] == "E-1R-INTELLI-VAR-24-10-29-J"
    assert float(first["unit_rate_inc_vat_p_per_kwh"]) > 0


def test_csv_to_standard_output_and_one_fuel(synced_demo: Cli) -> None:
    text = synced_demo.ok("export", "csv", "--from", FIRST, "--to", END, "--fuel", "gas")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["fuel"] for r in rows} == {"gas"}
    assert len(rows) == stored(synced_demo, SERIES["gas"])
    assert all(r["m3"] != "" for r in rows)  # the demo's gas meter reads m³


def test_parquet_rows_add_up_to_the_costs(synced_demo: Cli, tmp_path: Path) -> None:
    out = tmp_path / "october.parquet"
    synced_demo.ok("export", "parquet", "--from", FIRST, "--to", END, "--output", str(out))
    table = pq.read_table(out)
    assert tuple(table.column_names) == COLUMNS
    assert table.schema.field("interval_start_utc").type.tz == "UTC"
    assert table.schema.field("interval_start_uk").type.tz == "Europe/London"
    assert str(table.schema.field("uk_date").type) == "date32[day]"
    rows = table.to_pylist()
    for r in rows:
        r["uk_date"] = r["uk_date"].isoformat()
    check_against_costs(synced_demo, rows)
    # Parquet to standard output works when it is not a terminal (here, a pipe).
    args = ("export", "parquet", "--from", "2026-10-25", "--to", "2026-10-26", "--fuel", "electricity")
    done = subprocess.run(
        [sys.executable, "-m", "octoscope", *args],
        env={**synced_demo.env, **synced_demo.clock_env()},
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert pq.read_table(io.BytesIO(done.stdout)).num_rows == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("csv", "--fuel", "water"), "Error: --fuel 'water': write electricity, gas or export\n"),
        (
            ("csv", "--from", "2026-02-30"),
            "Error: --from '2026-02-30' is not a date that exists; write it as YYYY-MM-DD\n",
        ),
        (
            ("csv", "--from", "2026-10-10", "--to", "2026-10-01"),
            "Error: --from 2026-10-10 is not before --to 2026-10-01; --to is exclusive\n",
        ),
        (
            ("parquet", "--days", "2", "--output", "/nonexistent/dir/x.parquet"),
            "Error: --output /nonexistent/dir/x.parquet: the folder /nonexistent/dir does not exist\n",
        ),
    ],
)
def test_bad_input_is_one_line(synced_demo: Cli, args: tuple[str, ...], message: str) -> None:
    done = synced_demo.run("export", *args)
    assert (done.returncode, done.stderr, done.stdout) == (1, message, "")
