"""The pricing answers' types: a comparison kept by the code that answered in dicts (a store's body, kept as
tests/services/data/kept-comparison.json) reads back into the type and renders to the very same bytes; instants are said
in UK time on both clock-change days; a window without a load has no cost keys at all; a kept body that is
not a comparison counts as none kept."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from octoscope.config import Settings
from octoscope.services.pricing import KEPT_FOR, comparison_key, kept_comparison, kept_now
from octoscope.services.pricing_results import (
    Alternative,
    CheapestWindows,
    CheapWindow,
    Comparison,
    CurrentRate,
    HalfHourRate,
    LoadCost,
    PriceReport,
    PricesAhead,
    SlotPrice,
    SmartChargingEstimate,
)
from octoscope.store.sqlite import Store
from tests.conftest import DEMO_ACCOUNT

KEPT = Path(__file__).parent / "data" / "kept-comparison.json"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_a_comparison_kept_by_the_old_code_reads_back_to_the_same_bytes() -> None:
    body = KEPT.read_text().strip()
    comparison = Comparison.from_json(json.loads(body))
    assert json.dumps(comparison.to_json()) == body  # keys, order, numbers: what the store holds
    assert (comparison.first, comparison.end, comparison.days) == (date(2026, 10, 21), date(2026, 11, 21), 31)
    assert comparison.region.source == "MPAN distributor 19"
    assert [c.fuel for c in comparison.current] == ["electricity", "gas", "export"]
    electricity, gas, _ = comparison.current
    assert electricity.estimated_smart_charging == SmartChargingEstimate(39.558, 904.42)
    assert gas.estimated_smart_charging is None
    assert all(isinstance(t, Alternative) for t in comparison.tariffs)
    go = comparison.tariffs[0]
    assert (go.name, go.total_pence, go.saving_pence, go.days_compared) == ("Octopus Go", 10218.22, 564.79, 31)
    assert comparison.requests == {"rest": 0, "graphql": 0}  # kept by a comparison that fetched nothing
    assert comparison.problems == ()


def test_results_are_frozen_and_slotted() -> None:
    comparison = Comparison.from_json(json.loads(KEPT.read_text()))
    with pytest.raises(FrozenInstanceError):
        comparison.days = 1  # type: ignore[misc]
    assert not hasattr(comparison, "__dict__")
    assert not hasattr(comparison.tariffs[0], "__dict__")  # the subclass is slotted too


def test_kept_now_says_when_and_for_how_long() -> None:
    comparison = Comparison.from_json(json.loads(KEPT.read_text()))
    assert kept_now(comparison, NOW).to_json(reused=False) == {
        "computed_at": "2026-11-21T09:00:00+00:00",
        "current": True,
        "stale_because": None,
        "kept_for_hours": KEPT_FOR.total_seconds() / 3600,
        "reused": False,
    }


@pytest.mark.parametrize(
    ("first", "offsets"),
    [
        # 29 March 2026, 46 half-hours: 01:00 UTC is 02:00 BST.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), ["00:30:00+00:00", "02:00:00+01:00", "02:30:00+01:00"]),
        # 25 October 2026, 50 half-hours: 01:30 local comes twice, BST then GMT.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), ["01:30:00+01:00", "01:00:00+00:00", "01:30:00+00:00"]),
    ],
)
def test_instants_are_said_in_uk_time_on_the_clock_change_days(first: datetime, offsets: list[str]) -> None:
    starts = [first + timedelta(minutes=30 * i) for i in range(3)]
    day = first.date().isoformat()
    end = starts[-1] + timedelta(minutes=30)
    window = CheapWindow(starts[0], end, 10.0, None, tuple(SlotPrice(s, 10.0) for s in starts))
    found = CheapestWindows("T", "P", "any", 1.5, starts[0], end, None, (window,)).to_json()
    assert [s["start"] for s in found["windows"][0]["slots"]] == [f"{day}T{o}" for o in offsets]
    assert "cost_pence" not in found["windows"][0]  # no load: the keys are absent, not null
    assert list(found) == ["tariff", "product", "mode", "hours", "from", "to", "published_until", "windows"]
    costed = CheapWindow(starts[0], end, 10.0, LoadCost(105.0, 10.5), ()).to_json()
    assert list(costed) == ["start", "end", "average_pence_per_kwh", "cost_pence", "kwh", "slots"]
    rates = tuple(HalfHourRate(s, s + timedelta(minutes=30), 20.0, 19.0476) for s in starts)
    report = PriceReport("T", "P", "Name", "electricity", rates, None, CurrentRate(starts[1], starts[2], 20.0))
    shown = report.to_json()
    assert [r["start"] for r in shown["rates"]] == [f"{day}T{o}" for o in offsets]
    assert shown["now"] == {"start": f"{day}T{offsets[1]}", "end": f"{day}T{offsets[2]}", "pence_inc_vat": 20.0}


def test_prices_ahead_as_json() -> None:
    ahead = PricesAhead({"rest": 1, "graphql": 0}, (), {"A": NOW, "B": None}, False)
    assert ahead.to_json() == {
        "requests": {"rest": 1, "graphql": 0},
        "problems": [],
        "tariffs": {"A": {"published_until": "2026-11-21T09:00:00+00:00"}, "B": {"published_until": None}},
        "tomorrow_published": False,
    }


def test_a_kept_body_that_is_not_a_comparison_counts_as_none_kept(tmp_path: Path) -> None:
    settings = Settings(account=DEMO_ACCOUNT, db=tmp_path / "octoscope.db", config_path=tmp_path / "none.toml")
    with Store.open(settings.db) as store:
        key = comparison_key(settings, 12, None, None)
        store.keep_result(key, "digest", json.dumps({"tariffs": []}), NOW)
        assert kept_comparison(store, settings, NOW, 12, None, None) is None
        store.keep_result(key, "digest", "[1, 2]", NOW)
        assert kept_comparison(store, settings, NOW, 12, None, None) is None
