"""The InfluxDB 2.x write API (org, bucket, token) against a real server that speaks it: VictoriaMetrics,
read back through its own export API (a measurement's field is its metric ``<measurement>_<field>``)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from octoscope.clock import frozen
from octoscope.config import InfluxSettings
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import UK
from octoscope.outputs.influx import export_influx
from octoscope.store.sqlite import Store
from tests.conftest import Cli, make_cli
from tests.outputs.conftest import NOW, settings_for
from tests.servers import Victoria

FIRST, END = date(2025, 11, 21), date(2026, 11, 21)


def per_day(vm: Victoria, selector: str) -> tuple[dict[str, float], int]:
    """Sums per UK local day over the demo's year, and how many samples there are in all."""
    sums: dict[str, float] = defaultdict(float)
    samples = 0
    for series in vm.export(selector):
        for value, ms in zip(series["values"], series["timestamps"], strict=True):
            samples += 1
            day = datetime.fromtimestamp(ms / 1000, UTC).astimezone(UK).date()
            if FIRST <= day < END:
                sums[day.isoformat()] += value
    return dict(sums), samples


def test_the_v2_write_api_round_trip(vm: Victoria, demo_db: Path, synced_demo: Cli) -> None:
    influx = InfluxSettings(url=vm.url, version=2, org="home", bucket="energy", token=Secret("vm-accepts-any"))
    settings = settings_for(demo_db, influx)
    with Store.open(demo_db) as store:
        summary = export_influx(settings, store, clock=frozen(NOW))
    assert summary["target"] == f"InfluxDB at {vm.url} (org home, bucket energy)"
    cli = make_cli(synced_demo.sim, demo_db.parent)
    expected = json.loads(
        cli.ok("costs", "--from", FIRST.isoformat(), "--to", END.isoformat(), "--by", "day", "--json")
    )
    kwh, samples = per_day(vm, '{__name__="electricity_consumption_usage_kwh", location="Home"}')
    cost, _ = per_day(vm, '{__name__="electricity_consumption_total_cost_inc_vat_pence"}')
    gas, _ = per_day(vm, '{__name__="energy_costs_total_inc_vat_pence", fuel="gas"}')
    for bucket in expected["electricity"]["buckets"]:
        assert kwh.get(bucket["from"], 0.0) == pytest.approx(bucket["kwh"], abs=6e-4)
        assert cost.get(bucket["from"], 0.0) == pytest.approx(bucket["total_pence"], abs=1e-3)
    for bucket in expected["gas"]["buckets"]:
        assert gas.get(bucket["from"], 0.0) == pytest.approx(bucket["total_pence"], abs=1e-3)
    assert samples == summary["points"]["electricity_consumption"]
    # Written again, whole: the same half-hours, not twice as many.
    with Store.open(demo_db) as store:
        export_influx(settings, store, clock=frozen(NOW), first=date(2024, 1, 1), end=date(2027, 1, 1))
    assert per_day(vm, '{__name__="electricity_consumption_usage_kwh"}')[1] == samples
