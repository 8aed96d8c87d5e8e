"""GET /metrics through a served app on a copy of the synced demo: what the store holds, as Prometheus gauges,
at the app's clock; and no secret in them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from octoscope import __version__
from octoscope.clock import frozen
from octoscope.config import Settings
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import UK, iso_z
from octoscope.octopus.policy import key_fingerprint
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, Cli, make_cli

MINI = "00-00-00-FF-FE-00-01-01"
# Days whose readings are all stored: an ordinary one, and the clock changes (46 and 50 half-hours).
CLOCKS = [
    datetime(2026, 11, 20, 12, 10, tzinfo=UTC),
    datetime(2026, 3, 29, 12, 10, tzinfo=UTC),
    datetime(2026, 10, 25, 12, 10, tzinfo=UTC),
]


@pytest.fixture(params=CLOCKS, ids=lambda c: c.date().isoformat())
def now(request: pytest.FixtureRequest) -> float:
    clock: datetime = request.param
    return clock.timestamp()


@pytest.fixture
def demo(synced_demo: Cli, tmp_path: Path, now: float) -> Cli:
    with sqlite3.connect(synced_demo.db) as src, sqlite3.connect(tmp_path / "octoscope.db") as dst:
        src.backup(dst)
    with sqlite3.connect(tmp_path / "octoscope.db") as db:
        db.executemany(
            "INSERT INTO telemetry (device_id, read_at, consumption_wh, delta_wh, demand_w, export_wh)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(MINI, int(now) - 40, 1000.0, 20.0, 1990.0, 0.0), (MINI, int(now) - 30, 1020.0, 20.0, 2345.0, 0.0)],
        )
        db.execute("UPDATE sync_runs SET finished_at = ? WHERE id = (SELECT MAX(id) FROM sync_runs)", (int(now) - 600,))
        db.execute("DELETE FROM request_budget")
        key = key_fingerprint(DEMO_KEY)
        db.executemany(
            "INSERT INTO request_budget (key_id, api, at) VALUES (?, ?, ?)",
            [(key, "rest", now - 100 - i) for i in range(5)]
            + [(key, "graphql", now - 10), (key, "rest", now - 4000)],  # the last one is over an hour old
        )
    return make_cli(synced_demo.sim, tmp_path)


def scrape(
    cli: Cli, now: float, token: str | None = None
) -> tuple[httpx.Response, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    settings = Settings(api_key=Secret(DEMO_KEY), account=DEMO_ACCOUNT, db=cli.db, config_path=cli.home / "none.toml")
    with serve_in_thread(create_app(settings, clock=frozen(now), token=token)) as base:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(f"{base}/metrics", headers=headers, timeout=60)
        if token:
            assert httpx.get(f"{base}/metrics", timeout=60).status_code == 401
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    return response, samples


def test_metrics_read_the_store_at_the_apps_clock(demo: Cli, now: float) -> None:
    response, got = scrape(demo, now)
    day = datetime.fromtimestamp(now, UTC).astimezone(UK).date()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert got[("octoscope_live_demand_watts", (("device_id", MINI),))] == 2345.0
    assert got[("octoscope_live_reading_age_seconds", (("device_id", MINI),))] == pytest.approx(30.0, abs=1)
    assert got[("octoscope_last_sync_age_seconds", ())] == pytest.approx(600.0, abs=1)
    assert got[("octoscope_last_sync_ok", ())] == 1.0
    assert got[("octoscope_api_requests_last_hour", (("api", "rest"),))] == 5.0
    assert got[("octoscope_api_requests_last_hour", (("api", "graphql"),))] == 1.0
    assert got[("octoscope_api_requests_limit_per_hour", (("api", "rest"),))] == 300.0
    # Today's figures are `octoscope costs` for the day.
    today = json.loads(
        demo.ok("costs", "--from", day.isoformat(), "--to", (day + timedelta(days=1)).isoformat(), "--json")
    )
    for fuel in ("electricity", "gas", "export"):
        assert got[("octoscope_today_kwh", (("fuel", fuel),))] == pytest.approx(today[fuel]["kwh"], abs=1e-3)
    for fuel in ("electricity", "gas"):
        assert got[("octoscope_today_cost_pence", (("fuel", fuel),))] == pytest.approx(today[fuel]["total_pence"])
    assert got[("octoscope_today_export_earnings_pence", ())] == pytest.approx(today["export"]["earnings_pence"])
    assert today["electricity"]["kwh"] > 1
    # The unit rate in force at 12:00 UTC, from the simulator's own price list.
    slot = datetime.fromtimestamp(now // 1800 * 1800, UTC)
    rates = httpx.get(
        f"{demo.sim.url}/v1/products/INTELLI-VAR-24-10-29/electricity-tariffs/E-1R-INTELLI-VAR-24-10-29-J"
        "/standard-unit-rates/",
        params={"period_from": iso_z(slot), "period_to": iso_z(slot + timedelta(minutes=30))},
        timeout=30,
    ).json()["results"]
    direct = next(r for r in rates if r["payment_method"] in (None, "DIRECT_DEBIT"))
    labels = (("fuel", "electricity"), ("meter_point", "1900000000101"), ("tariff_code", "E-1R-INTELLI-VAR-24-10-29-J"))
    assert got[("octoscope_unit_rate_pence_per_kwh", (*labels, ("vat", "inc")))] == direct["value_inc_vat"]
    assert got[("octoscope_unit_rate_pence_per_kwh", (*labels, ("vat", "exc")))] == direct["value_exc_vat"]
    assert any(name == "octoscope_unit_rate_pence_per_kwh" and dict(pairs)["fuel"] == "gas" for name, pairs in got)
    assert DEMO_KEY not in response.text
    assert key_fingerprint(DEMO_KEY) not in response.text


@pytest.mark.parametrize("now", CLOCKS[:1], indirect=True, ids=["2026-11-20"])
def test_metrics_keep_to_the_access_token(demo: Cli, now: float) -> None:
    response, got = scrape(demo, now, token="a-long-scrape-secret")
    assert response.status_code == 200
    assert "a-long-scrape-secret" not in response.text
    assert got[("octoscope_info", (("version", __version__),))] == 1.0
