"""Statements reconciled, exported: CSV and Parquet rows equal to ``bills --json``; InfluxDB's
``bill_statements`` and ``account_balance`` read back with InfluxQL, and written twice without duplicates."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from octoscope.clock import frozen
from octoscope.outputs.bills import export_influx, rows
from octoscope.services.bills import bills_report, report_json
from octoscope.store.sqlite import Store
from tests.conftest import Cli, make_cli, simulator
from tests.outputs.conftest import influx_v1, settings_for
from tests.servers import Influx1

NOW = "2026-11-21T09:00:00Z"


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, dict[str, Any]]]:
    with simulator("bills", now=NOW) as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("bills-exports"))
        cli.ok("sync")
        yield cli, json.loads(cli.ok("bills", "--json"))


def test_csv_and_parquet_hold_a_row_per_statement_and_fuel(kept: tuple[Cli, dict[str, Any]], tmp_path: Path) -> None:
    cli, report = kept
    done = cli.run("bills", "--offline", "--csv", str(tmp_path / "bills.csv"), "--parquet", str(tmp_path / "b.parquet"))
    assert done.returncode == 0, done.stderr
    assert "Wrote 16 rows to" in done.stderr  # 5 closed statements x 3 fuels, and the open one's note
    table = list(csv.DictReader(io.StringIO((tmp_path / "bills.csv").read_text())))
    expected = [(s["id"], f["fuel"], str(f["difference_pence"])) for s in report["statements"] for f in s["fuels"]]
    assert [(r["statement_id"], r["fuel"], r["difference_pence"]) for r in table if r["fuel"]] == expected
    assert [r["reasons"] for r in table if not r["fuel"]] == ["open statement: charges are added when it closes"]
    parquet = pq.read_table(tmp_path / "b.parquet").to_pylist()
    assert [(r["statement_id"], r["fuel"], r["difference_pence"]) for r in parquet if r["fuel"]] == [
        (a, b, int(c)) for a, b, c in expected
    ]
    assert sum(r["matches"] is False for r in parquet) == 5  # four planted lines and October's dispatch pricing
    stdout = cli.run("bills", "--offline", "--csv", "-")
    assert stdout.stdout.splitlines()[0].startswith("statement_id,from,to,")


def test_a_folder_that_does_not_exist_is_one_line(kept: tuple[Cli, dict[str, Any]], tmp_path: Path) -> None:
    cli, _ = kept
    done = cli.run("bills", "--offline", "--csv", str(tmp_path / "nowhere" / "bills.csv"))
    assert done.returncode == 1
    assert (
        done.stderr
        == f"Error: {tmp_path / 'nowhere' / 'bills.csv'}: the folder {tmp_path / 'nowhere'} does not exist\n"
    )
    without = cli.run("bills", "--offline", "--influx")
    assert without.returncode == 1
    assert without.stderr.startswith("Error: no [influx] section in the config file")


def test_influx_measurements_read_back_and_rewrite_in_place(influx: Influx1, kept: tuple[Cli, dict[str, Any]]) -> None:
    cli, report = kept
    influx.create_database("bills")
    settings = settings_for(cli.db, influx_v1(influx, "bills"))
    with Store.open(cli.db) as store:
        again = report_json(bills_report(store, settings, date(2026, 11, 21)))
    first = export_influx(settings, again, frozen(NOW))
    second = export_influx(settings, again, frozen(NOW))
    lines = [r for r in rows(report) if r.fuel]
    assert first == second == len(lines) + len(report["balance"])
    found = influx.series('SELECT "difference_pence", "causes" FROM "bill_statements" GROUP BY "fuel"', "bills")
    differences = {(s["tags"]["fuel"], v[1]) for s in found for v in s["values"]}
    assert differences == {(r.fuel, float(r.difference or 0)) for r in lines}
    assert sum(len(s["values"]) for s in found) == len(lines)  # written twice, held once
    balance = influx.series('SELECT "balance_pence" FROM "account_balance"', "bills")[0]["values"]
    assert [v[1] for v in balance] == [float(b["pence"]) for b in report["balance"]]
