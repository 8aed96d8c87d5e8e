"""The costing services' typed results and their one JSON rendering (what the CLI and the API print)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pytest

from octoscope.domain.costs import Totals
from octoscope.domain.uktime import UK
from octoscope.services.cost_results import CostBucket, CostsReport, EvSession, FuelCosts, FuelFigures, sessions_json


def figures(fuel: str, **kwargs: object) -> FuelFigures:
    return FuelFigures.of(fuel, Totals(**kwargs), False)  # type: ignore[arg-type]


def test_figures_are_rounded_once_and_render_the_keys_of_their_fuel() -> None:
    totals = Totals(
        kwh=12.34567,
        priced_kwh=12.34567,
        energy_cost=301.123456,
        standing_charge=60.00004,
        m3=1.23456,
        bands={"peak": [10.00049, 280.000049], "off-peak": [2.3452, 21.1234]},
        partial_days=[date(2026, 10, 25)],
        estimated_kwh=2.0,
        estimated_pence=14.00001,
        at_stake=30.55555,
    )
    gas = FuelFigures.of("gas", totals, True)
    assert (gas.kwh, gas.m3, gas.total_pence, gas.money_pence) == (12.346, 1.235, 361.1235, 361.1235)
    assert json.dumps(gas.as_json()) == json.dumps(
        {
            "kwh": 12.346,
            "m3": 1.235,
            "energy_cost_pence": 301.1235,
            "standing_charge_pence": 60.0,
            "total_pence": 361.1235,
            "average_p_per_kwh": round(301.123456 / 12.34567, 4),
            "bands": {"off-peak": {"kwh": 2.345, "pence": 21.1234}, "peak": {"kwh": 10.0, "pence": 280.0}},
            "partial_days": ["2026-10-25"],
            "estimated_smart_charging": {"kwh": 2.0, "pence": 14.0, "at_stake_pence": 30.5556},
        }
    )
    export = FuelFigures.of("export", dataclasses.replace(totals, standing_charge=0.0), False)
    assert list(export.as_json()) == [
        *("kwh", "earnings_pence", "average_p_per_kwh", "bands", "partial_days", "estimated_smart_charging")
    ]
    assert export.earnings_pence == export.money_pence == 301.1235
    with pytest.raises(dataclasses.FrozenInstanceError):
        gas.kwh = 0.0  # type: ignore[misc]


def test_the_net_is_what_electricity_and_gas_cost_less_what_export_earned() -> None:
    def fuel(name: str, pence: float) -> FuelCosts:
        whole = figures(name, kwh=1.0, priced_kwh=1.0, energy_cost=pence)
        bucket = CostBucket(date(2026, 3, 29), date(2026, 3, 30), whole)  # the 46-half-hour day
        return FuelCosts(name, whole, name != "export", "29 Mar 2026", (bucket,))  # type: ignore[arg-type]

    report = CostsReport.of(
        date(2026, 3, 29),
        date(2026, 3, 30),
        "day",
        True,
        "exact",
        "DIRECT_DEBIT",
        [fuel("electricity", 100.00004), fuel("gas", 50.0), fuel("export", 30.5)],
    )
    assert report.net_pence == 119.5
    assert report.fuel("gas") is report.fuels[1]
    shown = report.as_json()
    assert list(shown) == [
        *("from", "to", "by", "inc_vat", "rounding", "payment_method"),
        *("electricity", "gas", "export", "net_pence"),
    ]
    (bucket,) = shown["gas"]["buckets"]
    assert list(bucket.items())[:3] == [("from", "2026-03-29"), ("to", "2026-03-30"), ("kwh", 1.0)]
    assert list(shown["gas"])[-3:] == ["standing_included", "label", "buckets"]
    alone = CostsReport.of(date(2026, 3, 29), date(2026, 3, 30), "day", False, "billing", "PREPAYMENT", [])
    assert alone.as_json()["net_pence"] == 0
    assert alone.fuel("electricity") is None


def test_a_session_renders_in_uk_time_either_side_of_the_autumn_change() -> None:
    # 25 Oct 2026, the 50-half-hour day: 01:30 happens twice, first in BST then in GMT.
    bst = datetime.fromisoformat("2026-10-25T00:30:00+00:00").astimezone(UK)
    gmt = datetime.fromisoformat("2026-10-25T01:30:00+00:00").astimezone(UK)
    session = EvSession(bst, gmt, 7.0, 49.0, 7.0, "smart", 7.0, True, False, 0.0)
    assert sessions_json([session]) == [
        {
            "start": "2026-10-25T01:30:00+01:00",
            "end": "2026-10-25T01:30:00+00:00",
            "kwh": 7.0,
            "cost_pence": 49.0,
            "average_pence_per_kwh": 7.0,
            "dispatch": "smart",
            "charger_kw": 7.0,
            "priced": True,
            "estimated": False,
            "at_stake_pence": 0.0,
        }
    ]
