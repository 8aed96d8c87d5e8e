"""The unit rates the live view prices readings at are the ones the costs bill: on the demo account
(Intelligent Octopus Go, with smart dispatches), a day's half-hours at the live rates add up to what
``octoscope costs`` says that day's energy cost, on an ordinary day and on both clock-change days."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from octoscope.config import Settings
from octoscope.domain.live import half_hours
from octoscope.domain.models import DispatchRecord
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import local_day_bounds
from octoscope.services.costing import account_costs, live_day_rates, load_account
from octoscope.store.sqlite import Store
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, Cli

HOME_MINI = "00-00-00-FF-FE-00-01-01"
IMPORT = "electricity-import:1900000000101"
EV = "00000000-0000-4000-8000-00000000d301"


def settings_for(cli: Cli) -> Settings:
    return Settings(api_key=Secret(DEMO_KEY), account=DEMO_ACCOUNT, db=cli.db, config_path=cli.home / "none.toml")


@pytest.mark.parametrize("day", [date(2026, 11, 18), date(2026, 3, 29), date(2026, 10, 25)])
def test_live_rates_are_the_billed_rates(synced_demo: Cli, day: date) -> None:
    settings = settings_for(synced_demo)
    with Store.open(synced_demo.db) as store:
        rates = live_day_rates(store, settings, HOME_MINI, day)
        assert rates is not None
        assert set(rates.rates) == set(half_hours(day))  # every half-hour priced: 46, 48 or 50
        assert rates.standing_pence is not None
        assert rates.standing_pence > 0
        lo, hi = local_day_bounds(day)
        readings = store.readings(IMPORT, lo, hi)
        live_pence = sum(kwh * rates.rates[start] for start, kwh, _ in readings)
        (billed,) = account_costs(
            store, load_account(store, DEMO_ACCOUNT), day, day + timedelta(days=1), fuels=["electricity"]
        ).fuels
    assert len(readings) == len(half_hours(day))
    assert live_pence == pytest.approx(billed.totals.energy_cost_pence, abs=1e-4)  # costs rounds to 4 places


def test_a_smart_dispatch_is_live_at_the_off_peak_rate_and_a_boost_is_not(synced_demo: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    settings = replace(settings_for(synced_demo), db=copy)
    day = date(2026, 11, 18)
    afternoon = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
    evening = datetime(2026, 11, 18, 18, 0, tzinfo=UTC)
    with Store.open(copy) as store:
        before = live_day_rates(store, settings, HOME_MINI, day)
        store.save_dispatches(
            [
                DispatchRecord(EV, "completed", afternoon, afternoon + timedelta(minutes=20), None, -2.0, None, None),
                DispatchRecord(EV, "planned", evening, evening + timedelta(minutes=30), "BOOST", -3.0, None, None),
                DispatchRecord(EV, "completed", evening, evening + timedelta(minutes=30), None, -3.0, None, None),
            ],
            None,
            afternoon,
        )
        after = live_day_rates(store, settings, HOME_MINI, day)
    assert before is not None
    assert after is not None
    off_peak, peak = sorted(set(before.rates.values()))
    assert before.rate_at(afternoon) == peak
    assert after.rate_at(afternoon + timedelta(minutes=10)) == off_peak  # the whole half-hour, as billed
    assert after.rate_at(evening) == peak  # a boost pays the normal price
    assert after.rate_at(datetime(2026, 11, 18, 2, 0, tzinfo=UTC)) == off_peak  # the night window


def test_an_unknown_device_has_no_rates(synced_demo: Cli) -> None:
    settings = settings_for(synced_demo)
    with Store.open(synced_demo.db) as store:
        assert live_day_rates(store, settings, "00-00-00-00-00-00-00-00", date(2026, 11, 20)) is None
