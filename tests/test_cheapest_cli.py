"""`octoscope cheapest` as a real process against the simulator set to an evening: the windows are
checked against every block tried here on the prices the simulator serves; the prices ahead are fetched
once; bad input is one line."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Cli, SimServer, make_cli, simulator
from tests.test_costs_cli import get_all

UK = ZoneInfo("Europe/London")
AGILE = "E-1R-AGILE-24-10-01-J"
HH = timedelta(minutes=30)


# Evenings after the day-ahead prices appear (about 16:00 UK), whatever the machine's date: an ordinary one,
# and the eves of the 46- and 50-half-hour days, whose prices are the ones ahead.
EVENINGS = ["2026-11-21T17:30:00+00:00", "2026-03-28T17:30:00+00:00", "2026-10-24T16:30:00+00:00"]


@pytest.fixture(scope="module", params=EVENINGS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The demo simulator with its clock at a set evening (frozen); the CLI's clock is set to it."""
    now = datetime.fromisoformat(request.param)
    with simulator(now=now.isoformat()) as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("cheapest"))
        cli.ok("sync", "--from", f"{now.astimezone(UK).date() - timedelta(days=1)}", "--to", "tomorrow")
        yield cli


@pytest.fixture(scope="module")
def agile_fetched(live: Cli) -> list[str]:
    """Agile's prices ahead, fetched once for the module's tests that ask --offline: the paths requested."""
    live.sim.reset_log()
    live.ok("cheapest", "--hours", "1", "--tariff", AGILE)
    return [str(e["path"]) for e in live.sim.requests_log()["requests"]]


def served_prices(sim: SimServer, tariff: str, start: datetime) -> list[tuple[datetime, float]]:
    """Each half-hour from ``start`` as far as the simulator publishes, at its Direct Debit price inc VAT."""
    product = tariff.split("-", 2)[2].rsplit("-", 1)[0]
    end = start + timedelta(days=2)
    window = {"period_from": start.isoformat(), "period_to": end.isoformat(), "page_size": "1500"}
    records = [
        r
        for r in get_all(sim, f"products/{product}/electricity-tariffs/{tariff}/standard-unit-rates/", window, False)
        if r["payment_method"] in (None, "DIRECT_DEBIT")
    ]
    out = []
    t = start
    while t < end:
        price = next(
            (
                float(r["value_inc_vat"])
                for r in records
                if datetime.fromisoformat(r["valid_from"]) <= t
                and datetime.fromisoformat(r["valid_to"]) >= t + HH  # these tariffs' records all have an end
            ),
            None,
        )
        if price is None:
            break
        out.append((t, price))
        t += HH
    return out


def every_block(prices: list[tuple[datetime, float]], n: int, allowed: Any = None) -> list[tuple[float, datetime]]:
    """(sum of prices, start) of every block of n half-hours, cheapest first, the earliest first among equals
    (sums of prices rounded to the micro-penny, as prices are compared)."""
    blocks = []
    for i in range(len(prices) - n + 1):
        start, end = prices[i][0], prices[i + n - 1][0] + HH
        if allowed is None or allowed(start, end):
            blocks.append((round(sum(p for _, p in prices[i : i + n]), 6), start))
    return sorted(blocks)


def top(blocks: list[tuple[float, datetime]], k: int, n: int) -> list[tuple[float, datetime]]:
    chosen: list[tuple[float, datetime]] = []
    for total, start in blocks:
        if len(chosen) < k and all(abs(start - s) >= n * HH for _, s in chosen):
            chosen.append((total, start))
    return chosen


def windows(cli: Cli, *args: str) -> dict[str, Any]:
    return json.loads(cli.ok("cheapest", "--json", *args))  # type: ignore[no-any-return]


def test_the_cheapest_three_hours_on_agile_with_a_7_kw_load_are_every_block_tried(
    live: Cli, agile_fetched: list[str]
) -> None:
    # The prices ahead were fetched in one request (a day and a half of Agile is one page of 1500).
    assert agile_fetched == [f"/v1/products/AGILE-24-10-01/electricity-tariffs/{AGILE}/standard-unit-rates/"]
    live.sim.reset_log()
    found = windows(live, "--hours", "3", "--tariff", AGILE, "--top", "3", "--kw", "7")
    assert live.sim.requests_log()["requests"] == []  # held and fresh
    start = datetime.fromisoformat(found["from"])
    prices = served_prices(live.sim, AGILE, start)
    assert found["published_until"] == found["to"] == (prices[-1][0] + HH).astimezone(UK).isoformat()
    expected = top(every_block(prices, 6), 3, 6)
    assert [datetime.fromisoformat(w["start"]) for w in found["windows"]] == [s for _, s in expected]
    for w, (total, _) in zip(found["windows"], expected, strict=True):
        assert w["cost_pence"] == pytest.approx(7 * 0.5 * total, abs=1e-3)  # 7 kW for each half-hour
        assert w["kwh"] == 21.0
        assert w["average_pence_per_kwh"] == pytest.approx(total / 6, abs=1e-4)
        assert len(w["slots"]) == 6
    # Asked again at once: the prices are held and fresh, nothing is fetched.
    live.sim.reset_log()
    assert windows(live, "--hours", "3", "--tariff", AGILE, "--top", "3", "--kw", "7") == found
    assert live.sim.requests_log()["requests"] == []


@pytest.mark.usefixtures("agile_fetched")
def test_between_18_00_and_07_00_and_any_half_hours(live: Cli) -> None:
    found = windows(live, "--hours", "2", "--tariff", AGILE, "--after", "18:00", "--before", "07:00", "--offline")
    start = datetime.fromisoformat(found["from"])
    prices = served_prices(live.sim, AGILE, start)

    def overnight(a: datetime, b: datetime) -> bool:
        day = a.astimezone(UK).date()
        return any(
            datetime.combine(d, time(18), UK) <= a and b <= datetime.combine(d + timedelta(days=1), time(7), UK)
            for d in (day - timedelta(days=1), day)
        )

    (best,) = top(every_block(prices, 4, overnight), 1, 4)
    assert datetime.fromisoformat(found["windows"][0]["start"]) == best[1]

    scattered = windows(live, "--hours", "2", "--tariff", AGILE, "--any", "--offline")
    cheapest_four = sorted(sorted(prices, key=lambda tp: (round(tp[1], 6), tp[0]))[:4])
    assert [datetime.fromisoformat(s["start"]) for s in scattered["windows"][0]["slots"]] == [
        t for t, _ in cheapest_four
    ]


def test_the_current_import_tariff_by_default(live: Cli) -> None:
    found = windows(live, "--hours", "1.5")
    assert found["tariff"] == "E-1R-INTELLI-VAR-24-10-29-J"
    start = datetime.fromisoformat(found["from"])
    prices = served_prices(live.sim, found["tariff"], start)
    (best,) = top(every_block(prices, 3), 1, 3)
    assert datetime.fromisoformat(found["windows"][0]["start"]) == best[1]
    text = live.ok("cheapest", "--hours", "1.5", "--offline")
    assert text.startswith("Cheapest 1.5-hour window on E-1R-INTELLI-VAR-24-10-29-J (prices published to ")
    assert f"  1. {best[1].astimezone(UK):%a %d %b %H:%M} to " in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--hours", "3", "--after", "25:00"), "--after '25:00' is not a time of day; write HH:MM"),
        (("--hours", "0.25"), "--hours 0.25: give a number of hours in half-hour steps"),
        (("--hours", "2", "--any", "--top", "2"), "--top applies to contiguous windows"),
        (("--hours", "1.5", "--kw", "7,7"), "--kw gives 2 half-hourly values; a window of 1.5 hours needs 3"),
        (("--hours", "1", "--tariff", "AGILE"), "--tariff: tariff code 'AGILE' is not of the form E-1R-PRODUCT-A"),
        (("--hours", "40", "--tariff", AGILE, "--offline"), "40 hours do not fit: the longest stretch of published"),
        (("--hours", "1", "--tariff", AGILE, "--offline", "--max-price", "-50"), "at or under -50 p/kWh is 0 hours"),
    ],
)
@pytest.mark.usefixtures("agile_fetched")
def test_bad_input_is_one_line(live: Cli, args: tuple[str, ...], message: str) -> None:
    done = live.run("cheapest", *args)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ")
    assert done.stderr.count("\n") == 1
    assert message in done.stderr


def test_no_prices_published_ahead_is_one_line(synced_demo: Cli, tmp_path: Path) -> None:
    # The session's demo simulator stands still on 21 November 2026, 09:00; the CLI's clock is set four days
    # later, so the simulator has nothing to offer after now (the fetch finds nothing) and nothing stored
    # reaches past now.
    cli = make_cli(synced_demo.sim, tmp_path)
    with sqlite3.connect(synced_demo.db) as source, sqlite3.connect(cli.db) as target:
        source.backup(target)
    done = cli.run("cheapest", "--hours", "3", env={"OCTOSCOPE_NOW": "2026-11-25T09:00:00Z"})
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no prices for E-1R-INTELLI-VAR-24-10-29-J are published from ")
    assert "Agile's next day appears about 16:00 UK" in done.stderr


def test_both_commands_have_help_with_an_example(live: Cli) -> None:
    for command in ("cheapest", "compare"):
        done = live.run(command, "--help")
        assert done.returncode == 0, done.stderr
        assert "Example: octoscope " + command in " ".join(done.stdout.split())
