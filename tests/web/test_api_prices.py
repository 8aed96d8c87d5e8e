"""GET /api/prices and /api/cheapest, and the comparison job (POST /api/compare), over a real socket, on a
copy of the synced demo with the app's clock at the simulator's (21 November 2026, 09:00 UTC): prices as the
simulator serves them, windows worked out by hand, clock-change days, and bad queries as one clear 4xx."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.simulator.threaded import serve_in_thread
from octoscope.web.app import create_app
from tests.conftest import DEMO_NOW, Cli, make_cli
from tests.test_costs_cli import get_all

IOG = "E-1R-INTELLI-VAR-24-10-29-J"
CLOCK = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def copy(synced_demo: Cli, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = make_cli(synced_demo.sim, tmp_path_factory.mktemp("api-prices"))
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(cli.db) as target:
        source.backup(target)
    return cli


@pytest.fixture(scope="module")
def api(copy: Cli) -> Iterator[str]:
    with serve_in_thread(create_app(copy.settings(), clock=frozen(CLOCK))) as base:
        yield base


def get(api: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{api}{path}", params=params, timeout=120)


def served(cli: Cli, day_from: str, day_to: str) -> dict[str, float]:
    """The simulator's Direct Debit unit rates of the current tariff, inc VAT, by record start."""
    rows = get_all(
        cli.sim,
        f"products/INTELLI-VAR-24-10-29/electricity-tariffs/{IOG}/standard-unit-rates/",
        {"period_from": day_from, "period_to": day_to, "page_size": "1500"},
        False,
    )
    return {r["valid_from"]: r["value_inc_vat"] for r in rows if r["payment_method"] == "DIRECT_DEBIT"}


def test_prices_today_and_tomorrow_as_far_as_published(api: str, copy: Cli) -> None:
    body = get(api, "/api/prices").json()
    assert (body["tariff"], body["product"], body["fuel"]) == (IOG, "INTELLI-VAR-24-10-29", "electricity")
    assert body["name"] == "Intelligent Octopus Go"  # the product's display name, as the account learnt it
    # At 09:00 the simulator had published today only: 48 half-hours to midnight.
    assert len(body["rates"]) == 48
    assert body["rates"][0]["start"] == "2026-11-21T00:00:00+00:00"
    assert body["published_until"] == "2026-11-22T00:00:00+00:00"
    records = served(copy, "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z")
    starts = sorted(records)
    for rate in body["rates"]:
        at = datetime.fromisoformat(rate["start"]).astimezone(UTC)
        key = max(s for s in starts if datetime.fromisoformat(s) <= at)
        assert rate["pence_inc_vat"] == pytest.approx(records[key], abs=1e-4)
        assert rate["pence_exc_vat"] == pytest.approx(records[key] / 1.05, abs=1e-3)
    off_peak = [r["start"][11:16] for r in body["rates"] if r["pence_inc_vat"] == body["rates"][0]["pence_inc_vat"]]
    assert off_peak == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30", "04:00", "04:30",
                        "05:00", "23:30"]  # fmt: skip
    assert body["now"] == {
        "start": "2026-11-21T09:00:00+00:00",
        "end": "2026-11-21T09:30:00+00:00",
        "pence_inc_vat": body["rates"][18]["pence_inc_vat"],
    }


@pytest.mark.parametrize(("day", "after", "count", "offsets"), [
    ("2026-03-29", "2026-03-30", 46, {"+00:00", "+01:00"}),
    ("2026-10-25", "2026-10-26", 50, {"+00:00", "+01:00"}),
])  # fmt: skip
def test_prices_on_the_clock_change_days(api: str, day: str, after: str, count: int, offsets: set[str]) -> None:
    body = get(api, "/api/prices", **{"from": day, "to": after}).json()
    assert len(body["rates"]) == count
    assert {r["start"][-6:] for r in body["rates"]} == offsets
    assert body["rates"][0]["start"][:10] == day
    assert body["now"]["start"] == "2026-11-21T09:00:00+00:00"


def test_prices_of_gas_and_export(api: str) -> None:
    gas = get(api, "/api/prices", fuel="gas").json()
    assert gas["tariff"] == "G-1R-VAR-22-11-01-J"
    assert len(gas["rates"]) == 96  # a flat price in force until further notice: both days
    assert gas["published_until"] is None
    assert len({r["pence_inc_vat"] for r in gas["rates"]}) == 1
    export = get(api, "/api/prices", fuel="export").json()
    assert export["tariff"] == "E-1R-OUTGOING-VAR-24-10-26-J"


def test_the_cheapest_three_hours_today_end_at_the_last_published_half_hour(api: str) -> None:
    rates = get(api, "/api/prices").json()["rates"]
    off_peak, standard = rates[0]["pence_inc_vat"], rates[18]["pence_inc_vat"]
    assert off_peak < standard
    # From 09:00 prices are published to midnight: every half-hour is at the standard price but 23:30, the
    # off-peak start. The one block reaching it, 21:00-24:00, is the cheapest: (5 x standard + off-peak) / 6.
    body = get(api, "/api/cheapest", hours=3, kw=7).json()
    assert body["tariff"] == IOG
    (window,) = body["windows"]
    assert (window["start"], window["end"]) == ("2026-11-21T21:00:00+00:00", "2026-11-22T00:00:00+00:00")
    assert window["average_pence_per_kwh"] == pytest.approx((5 * standard + off_peak) / 6, abs=1e-4)
    assert window["cost_pence"] == pytest.approx(7 * 0.5 * (5 * standard + off_peak), abs=1e-3)
    assert [s["start"][11:16] for s in window["slots"]] == ["21:00", "21:30", "22:00", "22:30", "23:00", "23:30"]
    # Ties: every other 3-hour block costs 6 x standard; the second is the earliest of them, 09:00.
    two = get(api, "/api/cheapest", hours=3, top=2).json()["windows"]
    assert [w["start"][11:16] for w in two] == ["21:00", "09:00"]
    evening = get(api, "/api/cheapest", hours=1, after="18:00", before="23:00", mode="any").json()["windows"][0]
    assert [s["start"][11:16] for s in evening["slots"]] == ["18:00", "18:30"]  # all equal: the earliest


@pytest.mark.parametrize(
    ("path", "params", "status", "expected"),
    [
        ("/api/cheapest", {"hours": "0.3"}, 400, "hours 0.3: give a number of hours in half-hour steps"),
        ("/api/cheapest", {"hours": "3", "after": "7pm"}, 400, "after '7pm' is not a time of day"),
        ("/api/cheapest", {"hours": "20"}, 400, "20 hours do not fit"),
        ("/api/cheapest", {"hours": "3", "mode": "cheap"}, 422, "contiguous"),
        ("/api/cheapest", {"hours": "3", "tariff": "E-1R-AGILE-24-10-01-J"}, 404, "no prices for E-1R-AGILE"),
        ("/api/prices", {"from": "2026-11-30", "to": "2026-11-01"}, 400, "to 2026-11-01 is not after from"),
        ("/api/prices", {"from": "2026-02-30"}, 400, "is not a date that exists"),
        ("/api/prices", {"fuel": "oil"}, 422, "electricity"),
    ],
)
def test_bad_queries(api: str, path: str, params: dict[str, str], status: int, expected: str) -> None:
    response = get(api, path, **params)
    assert response.status_code == status
    assert expected in json.dumps(response.json()["detail"])
    detail = response.json()["detail"]
    assert isinstance(detail, str), "every 4xx says what is wrong in one line"
    assert "\n" not in detail
    assert "--" not in json.dumps(response.json()["detail"])


def compared(base: str, **params: Any) -> dict[str, Any]:
    """Start a comparison job and follow it to its end; its last view."""
    started = httpx.post(f"{base}/api/compare", params=params, timeout=30)
    assert started.status_code == 202, started.text
    job: dict[str, Any] = started.json()
    assert started.headers["location"] == f"/api/compare/{job['job']}"
    deadline = time.monotonic() + 240
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = httpx.get(f"{base}/api/compare/{job['job']}", timeout=30).json()
    return job


def test_the_comparison_is_what_the_cli_prints(copy: Cli) -> None:
    expected = json.loads(copy.ok("compare", "--months", "1", "--json"))
    with serve_in_thread(create_app(copy.settings(), clock=copy.clock())) as base:  # on the CLI's clock
        job = compared(base, months=1)
    assert job["status"] == "done", job
    assert job["asked"] == {"months": 1, "fuel": None, "region": None}
    body = job["result"]
    assert body["requests"] == {"rest": 0, "graphql": 0}  # the CLI fetched everything already
    for key in ("requests", "problems"):
        expected.pop(key)
        body.pop(key)
    assert body == expected
    assert {r["fuel"] for r in body["tariffs"]} == {"electricity", "gas", "export"}


def test_no_data_or_no_key(tmp_path: Path, copy: Cli) -> None:
    empty = replace(copy.settings(), db=tmp_path / "empty.db")
    with serve_in_thread(create_app(empty, clock=frozen(CLOCK))) as base:
        assert get(base, "/api/prices").status_code == 404
        assert "run `octoscope sync` first" in get(base, "/api/cheapest", hours=1).json()["detail"]
    keyless = replace(copy.settings(), api_key=None)
    with serve_in_thread(create_app(keyless, clock=frozen(CLOCK))) as base:
        response = httpx.post(f"{base}/api/compare", timeout=30)
    assert response.status_code == 409
    assert "no API key" in response.json()["detail"]


def test_the_docs_show_each_answers_shape(api: str) -> None:
    """/docs shows the keys these routes answer with (the models only document: the bytes are the results')."""
    schema = get(api, "/openapi.json").json()

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        node = next((n for n in node.get("anyOf", [node]) if "$ref" in n), node)
        found: dict[str, Any] = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return found

    def answer(path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        return resolve(schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"])

    def props(model: dict[str, Any], key: str) -> dict[str, Any]:
        items = model["properties"][key]
        return resolve(items.get("items", items))

    prices, body = answer("/api/prices"), get(api, "/api/prices").json()
    assert list(prices["properties"]) == list(body)
    assert list(props(prices, "rates")["properties"]) == list(body["rates"][0])
    assert list(props(prices, "now")["properties"]) == list(body["now"])
    cheapest, found = answer("/api/cheapest"), get(api, "/api/cheapest", hours=2, kw="7").json()
    assert list(cheapest["properties"]) == list(found)
    window = props(cheapest, "windows")
    assert list(window["properties"]) == list(found["windows"][0])
    assert set(window["required"]) == set(found["windows"][0]) - {"cost_pence", "kwh"}  # only with a load
    assert list(props(window, "slots")["properties"]) == list(found["windows"][0]["slots"][0])

    kept = json.loads((Path(__file__).parent.parent / "services" / "data" / "kept-comparison.json").read_text())
    job = answer("/api/compare", "post", "202")
    assert job == answer("/api/compare/{job}")
    comparison = props(job, "result")
    assert list(comparison["properties"]) == list(kept)
    current = comparison["properties"]["current"]["additionalProperties"]
    assert list(resolve(current)["properties"]) == list(kept["current"]["electricity"])
    other = props(comparison, "tariffs")
    assert set(other["properties"]) == {*kept["current"]["electricity"], "saving_pence", "days_compared"}
    listing = answer("/api/compare/kept")
    assert list(listing["properties"]) == ["active", "kept"]
    assert list(props(listing, "kept")["properties"]) == ["result", "kept"]
