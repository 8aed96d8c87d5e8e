"""`octoscope sessions` and GET /api/sessions on the demo after a real sync: each session costed at the rates
in force and matched with the dispatches kept; the same JSON both ways."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from octoscope.config import Settings
from octoscope.domain.secret import Secret
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, Cli

WINDOW = ("--from", "2026-11-01", "--to", "2026-11-21")


def test_sessions_are_costed_matched_and_the_same_over_the_api(synced_demo: Cli) -> None:
    found = json.loads(synced_demo.ok("sessions", *WINDOW, "--json"))
    assert found, "the demo charges its car most nights"
    truth = httpx.get(
        f"{synced_demo.sim.url}/_sim/truth",
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-21T00:00:00Z"},
        timeout=30,
    ).json()["ev_sessions"]
    spans = [(datetime.fromisoformat(t["start"]), datetime.fromisoformat(t["end"])) for t in truth]
    for s in found:
        start, end = datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])
        assert start.utcoffset() is not None  # ISO 8601 with an offset
        assert start < end
        assert s["kwh"] > 0
        assert s["average_pence_per_kwh"] == pytest.approx(s["cost_pence"] / s["kwh"], rel=1e-3)
        assert s["dispatch"] in ("smart", "boost", "none")
        assert any(a < end and start < b for a, b in spans), f"{s['start']} matches no real charge"
    # On Intelligent Octopus Go, overnight charging costs the off-peak price.
    night = [s for s in found if s["start"][11:13] in ("23", "00", "01", "02", "03")]
    assert night
    assert all(s["average_pence_per_kwh"] < 10 for s in night)
    settings = Settings(
        api_key=Secret(DEMO_KEY), account=DEMO_ACCOUNT, db=synced_demo.db, config_path=synced_demo.home / "none.toml"
    )
    with serve_in_thread(create_app(settings)) as base:
        over_api = httpx.get(
            f"{base}/api/sessions", params={"from": "2026-11-01", "to": "2026-11-21"}, timeout=60
        ).json()
    assert over_api == found


def test_bad_sessions_input_is_one_line(synced_demo: Cli) -> None:
    done = synced_demo.run("sessions", "--charger-kw", "500")
    assert done.returncode == 1
    assert "--charger-kw" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
