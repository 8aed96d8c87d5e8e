"""The InfluxDB export against a real InfluxDB 1.x: the demo account's year written and read back with
InfluxQL, day by day equal to `octoscope costs`; written again without duplicates; every query of the Grafana
dashboard answered; and the schema as documented."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from octoscope.clock import frozen
from octoscope.config import InfluxSettings
from octoscope.domain.uktime import iso_z, local_date, local_midnight
from octoscope.outputs.grafana import dashboard, queries
from octoscope.outputs.influx import _Context, export_influx, jobs, plan_ranges
from octoscope.outputs.schema import COMMON_TAGS, MEASUREMENTS
from octoscope.services.costing import DETECTION_BLOCK, DETECTION_MARGIN, load_account
from octoscope.store.ports import ExportCursor
from octoscope.store.sqlite import Store
from tests.conftest import Cli, make_cli
from tests.outputs.conftest import NOW, copy_database, influx_v1, settings_for
from tests.servers import Influx1

FIRST, END = date(2025, 11, 21), date(2026, 11, 21)  # the demo's last year, to the day its clock stands on
DATABASE = "demo_year"


def daily(server: Influx1, measurement: str, field: str, where: str = "") -> dict[str, float]:
    """Sums per UK local day, as InfluxQL's tz() buckets them (46, 48 or 50 half-hours)."""
    lo, hi = iso_z(local_midnight(FIRST)), iso_z(local_midnight(END))
    query = f"SELECT sum(\"{field}\") FROM \"{measurement}\" WHERE time >= '{lo}' AND time < '{hi}' {where}"  # noqa: S608
    series = server.series(query + " GROUP BY time(1d) fill(none) tz('Europe/London')", DATABASE)
    return {row[0][:10]: row[1] for s in series for row in s["values"]}


def counts(server: Influx1, database: str) -> dict[str, dict[str, int]]:
    """Points per measurement and field."""
    out: dict[str, dict[str, int]] = {}
    for s in server.series("SELECT count(*) FROM /.*/", database):
        out[s["name"]] = dict(zip(s["columns"][1:], s["values"][0][1:], strict=True))
    return out


def series_count(server: Influx1, database: str) -> int:
    return len(server.series("SHOW SERIES", database)[0]["values"])


@pytest.fixture(scope="module")
def written(
    influx: Influx1, export_demo: Path, synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Cli, dict[str, Any]]:
    """The demo written once into its own database; the CLI reads the same copy."""
    home = tmp_path_factory.mktemp("influx-year")
    db = copy_database(export_demo, home / "octoscope.db")
    influx.create_database(DATABASE)
    with Store.open(db) as store:
        summary = export_influx(settings_for(db, influx_v1(influx, DATABASE)), store, clock=frozen(NOW))
    return make_cli(synced_demo.sim, home), summary


def test_a_year_read_back_with_influxql_equals_the_store_day_by_day(
    influx: Influx1, written: tuple[Cli, dict[str, Any]]
) -> None:
    cli, summary = written
    assert summary["total_points"] > 150_000
    span = ("--from", FIRST.isoformat(), "--to", END.isoformat(), "--by", "day", "--json")
    for vat, flag in (("inc", ()), ("exc", ("--exc-vat",))):
        expected = json.loads(cli.ok("costs", *span, *flag))
        checks = {
            ("electricity", "electricity_consumption"): {
                "kwh": "usage_kwh",
                "energy_cost_pence": f"usage_cost_{vat}_vat_pence",
                "standing_charge_pence": f"standing_charge_cost_{vat}_vat_pence",
                "total_pence": f"total_cost_{vat}_vat_pence",
            },
            ("gas", "gas_consumption"): {
                "kwh": "usage_kwh",
                "m3": "usage_m3",
                "total_pence": f"total_cost_{vat}_vat_pence",
            },
            ("export", "electricity_export"): {"kwh": "usage_kwh", "earnings_pence": f"earnings_{vat}_vat_pence"},
        }
        for (fuel, measurement), fields in checks.items():
            buckets = expected[fuel]["buckets"]
            assert len(buckets) == 365
            for ours, theirs in fields.items():
                got = daily(influx, measurement, theirs)
                for bucket in buckets:
                    assert got.get(bucket["from"], 0.0) == pytest.approx(bucket[ours], abs=6e-4), (
                        f"{measurement}.{theirs} on {bucket['from']}"
                    )
            # The daily measurement is `costs --by day` itself.
            total = "earnings" if fuel == "export" else "total"
            got = daily(influx, "energy_costs", f"{total}_{vat}_vat_pence", f"AND \"fuel\" = '{fuel}'")
            for bucket in buckets:
                assert got.get(bucket["from"], 0.0) == pytest.approx(bucket[f"{total}_pence"], abs=1e-3)
    # The clock-change days have their 46 and 50 half-hours, each in its local day.
    found = []
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        lo, hi = iso_z(local_midnight(day)), iso_z(local_midnight(day + timedelta(days=1)))
        query = f"SELECT count(\"usage_kwh\") FROM \"electricity_consumption\" WHERE time >= '{lo}' AND time < '{hi}'"  # noqa: S608
        found.append(influx.series(query, DATABASE)[0]["values"][0][1])
    assert found == [46, 50]


def test_writing_again_adds_no_duplicates(influx: Influx1, written: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = written
    before, series_before = counts(influx, DATABASE), series_count(influx, DATABASE)
    settings = settings_for(cli.db, influx_v1(influx, DATABASE))
    with Store.open(cli.db) as store:
        again = export_influx(settings, store, clock=frozen(NOW))  # incremental: the last days again
        everything = export_influx(settings, store, clock=frozen(NOW), first=date(2024, 1, 1), end=date(2027, 1, 1))
    assert 0 < again["total_points"] < 5_000
    assert everything["total_points"] > 150_000
    assert counts(influx, DATABASE) == before
    assert series_count(influx, DATABASE) == series_before


def test_what_was_written_is_what_the_schema_says(influx: Influx1, written: tuple[Cli, dict[str, Any]]) -> None:
    cli, summary = written
    fields = {s["name"]: {v[0] for v in s["values"]} for s in influx.series("SHOW FIELD KEYS", DATABASE)}
    tags = {s["name"]: {v[0] for v in s["values"]} for s in influx.series("SHOW TAG KEYS", DATABASE)}
    assert set(fields) == set(MEASUREMENTS)
    for name, measurement in MEASUREMENTS.items():
        assert fields[name] == set(measurement.fields), name
        assert tags[name] == {*measurement.tags, *COMMON_TAGS, "location"}, name
    types = {s["name"]: dict(s["values"]) for s in influx.series("SHOW FIELD KEYS", DATABASE)}
    assert types["electricity_consumption"]["usage_kwh"] == "float"  # as octograph writes it
    assert types["energy_costs"]["partial"] == "boolean"
    # Everything the store holds of dispatches and Home Mini readings went.
    with Store.open(cli.db) as store:
        dispatches = len(store.dispatches())
    assert dispatches > 0
    assert summary["points"]["intelligent_dispatches"] == dispatches
    assert counts(influx, DATABASE)["live_telemetry"]["count_demand_w"] == 360


def test_an_octograph_dashboard_query_works_unchanged(influx: Influx1, written: tuple[Cli, dict[str, Any]]) -> None:
    """Queries from Yanson/octograph's own dashboard (grafana/lib/dashboards/energy_dashboard.json), with its
    variables filled in as Grafana would."""
    lo, hi = iso_z(local_midnight(FIRST)), iso_z(local_midnight(END))
    time_filter = f"time >= '{lo}' AND time < '{hi}'"
    octograph = [
        'SELECT sum("usage_kwh") FROM "electricity_consumption" WHERE $timeFilter AND location = \'$location\'',
        'SELECT sum("total_cost_${vat}_vat_pence") / 100 FROM "electricity_consumption" WHERE $timeFilter AND'
        " location = '$location'",
        'SELECT\nsum("usage_cost_${vat}_vat_pence")\n/\nsum("usage_kwh")\nFROM "electricity_consumption" WHERE'
        " $timeFilter AND location = '$location'",
        'SELECT SUM("standing_charge_cost_${vat}_vat_pence") / 100 FROM "gas_consumption" WHERE $timeFilter AND'
        " location = '$location' GROUP BY time($resolution) fill(none)",
        'SELECT MEAN("unit_price_${vat}_vat_price")  FROM "electricity_pricing" WHERE time >= now() - 2d AND'
        " time < now() + 2d AND location = '$location' GROUP BY time(30m) fill(none)",
        'SELECT MEAN("standing_charge_${vat}_vat_price")  FROM "gas_pricing" WHERE $timeFilter AND'
        " location = '$location' GROUP BY time(1d) fill(none)",
    ]
    for query in octograph:
        for vat in ("inc", "exc"):
            filled = (
                query.replace("$timeFilter", time_filter)
                .replace("$location", "Home")
                .replace("${vat}", vat)
                .replace("$resolution", "1d")
                .replace("now()", f"'{iso_z(NOW)}'")
            )
            assert influx.series(filled, DATABASE), filled


def _fill(query: str, vat: str) -> str:
    lo, hi = iso_z(NOW - timedelta(days=60)), iso_z(NOW)
    return (
        query.replace("$timeFilter", f"time >= '{lo}' AND time < '{hi}'")
        .replace("$__interval", "1h")
        .replace("$location", "Home")
        .replace("${vat}", vat)
        .replace("now()", f"'{iso_z(NOW)}'")
    )


def test_every_query_of_the_shipped_dashboard_finds_data(influx: Influx1, written: tuple[Cli, dict[str, Any]]) -> None:
    found = queries(dashboard())
    assert len(found) > 20
    for query in found:
        for vat in ("inc", "exc"):
            filled = _fill(query, vat)
            assert influx.series(filled, DATABASE), f"no data for: {filled}"


def test_sessions_written_range_by_range_are_those_of_the_whole_history(export_demo: Path) -> None:
    """Sessions are asked for the range written only (detection works in fixed blocks): the lines of an
    incremental run's ranges, month by month, are those of the whole history."""
    settings = settings_for(export_demo, InfluxSettings(url="http://unused", database="unused"))
    with Store.open(export_demo) as store:
        ctx = _Context(settings, store, load_account(store, settings.require_account()), (), NOW)
        job = next(j for j in jobs(ctx) if j.measurement == "ev_sessions")
        [(lo, hi)] = plan_ranges(job.extent, None, job.margin, job.by_day)
        whole = list(job.lines(lo, hi))
        monthly: list[str] = []
        start = lo
        while start < hi:
            end = min(hi, local_midnight((local_date(start) + timedelta(days=32)).replace(day=1)))
            monthly += job.lines(start, end)
            start = end
    assert len(whole) > 3  # the demo's car charges
    assert monthly == whole


def test_an_incremental_run_writes_sessions_again_as_far_back_as_new_data_can_change_them(
    export_demo: Path,
) -> None:
    """A sync's new half-hours (from ``reread_days`` back) can change any session of their detection block,
    and of the block before, whose baseline looks a fortnight past its end: an incremental run writes the
    sessions again from the start of that block, so none written earlier stays as it was found then."""
    settings = settings_for(export_demo, InfluxSettings(url="http://unused", database="unused"))
    with Store.open(export_demo) as store:
        ctx = _Context(settings, store, load_account(store, settings.require_account()), (), NOW)
        job = next(j for j in jobs(ctx) if j.measurement == "ev_sessions")
    assert job.extent is not None
    end = job.extent[1]
    cursor = ExportCursor(job.extent[0], end, end, 10)
    [(resume, _)] = plan_ranges(job.extent, cursor, job.margin, job.by_day)
    earliest_new = end - timedelta(days=settings.sync.reread_days + 1)
    block = DETECTION_BLOCK.total_seconds()
    reached = (earliest_new - DETECTION_MARGIN).timestamp() // block * block  # the block its baseline reaches
    assert resume.timestamp() <= reached
