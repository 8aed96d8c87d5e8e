"""Late and revised consumption (a scenario's ``[revisions]``), over real sockets.

The newest published day arrives with some half-hours missing for 24 hours; half-hours whose day ended less
than ``days`` ago may be served with a provisional value, then with the final one. Telemetry and the truth
always hold the final values. These tests use the demo with higher probabilities so every effect shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.simulator import ScenarioError, load_scenario
from octoscope.simulator.scenario import RevisionsSpec, read_scenario_text
from tests.conftest import DEMO_KEY, DEMO_NOW, SimServer, simulator
from tests.simulator.test_consistency import HOME_MINI, TOKEN_MUTATION, graphql, iso, ts, wh

AUTH = (DEMO_KEY, "")
IMPORT = "/v1/electricity-meter-points/1900000000101/meters/21L0000101/consumption/"
EXPORT = "/v1/electricity-meter-points/1900000000125/meters/21L0000101/consumption/"
GAS = "/v1/gas-meter-points/3000000101/meters/G4S0000101/consumption/"
POINTS = {IMPORT: "electricity:1900000000101", EXPORT: "electricity:1900000000125", GAS: "gas:3000000101"}
# The clock is 2026-11-21 09:00 (GMT): 2026-11-20 was published at 06:00 today, and with days = 3 the days
# from 2026-11-18 on may still change; 2026-11-18 settles at midnight starting 2026-11-22.
WEEK = ("2026-11-14T00:00:00Z", "2026-11-21T00:00:00Z")
WINDOW_START = ts("2026-11-18T00:00:00Z")
DAY_18 = ("2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z")  # the oldest day still inside the window
NEWEST_DAY = ("2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z")
NEWEST_DAY_PUBLISHED = "2026-11-21T06:00:00Z"


def revisions_scenario(folder: Path, days: int = 3, probability: float = 0.3, late: float = 0.2) -> str:
    """The demo scenario with its ``[revisions]`` replaced."""
    _, text = read_scenario_text("demo")
    table = f"[revisions]\ndays = {days}\nprobability = {probability}\nlate_probability = {late}\n"
    text, n = re.subn(r"\[revisions\]\n(?:\w+ = [^\n]*\n)*", table, text)
    assert n == 1
    path = folder / "revisions.toml"
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> str:
    return revisions_scenario(tmp_path_factory.mktemp("revisions"))


@pytest.fixture
def sim(scenario: str) -> Iterator[SimServer]:
    with simulator(scenario) as server:
        yield server


def set_clock(sim: SimServer, now: str) -> None:
    response = httpx.post(f"{sim.url}/_sim/clock", json={"now": now}, timeout=30)
    assert response.status_code == 200, response.text


def period_params(period: tuple[str, str], **extra: str) -> dict[str, str]:
    return {"period_from": period[0], "period_to": period[1], **extra}


def rows(client: httpx.Client, path: str, period: tuple[str, str]) -> dict[float, int]:
    """Half-hour start (epoch) -> value in thousandths, for one page holding the whole period."""
    body = client.get(path, params=period_params(period, page_size="25000", order_by="period")).json()
    assert body["next"] is None
    assert body["count"] == len(body["results"])
    return {ts(r["interval_start"]): round(r["consumption"] * 1000) for r in body["results"]}


def half_hours(period: tuple[str, str]) -> list[float]:
    return [float(t) for t in range(int(ts(period[0])), int(ts(period[1])), 1800)]


def truth_total(client: httpx.Client, path: str, period: tuple[str, str]) -> dict[str, Any]:
    body = client.get("/_sim/truth", params={"from": period[0], "to": period[1]}).json()
    total: dict[str, Any] = body["totals"][POINTS[path]]
    return total


def test_provisional_values_become_final_once_the_window_has_passed(sim: SimServer) -> None:
    with sim.client(auth=AUTH) as client:
        first = {path: rows(client, path, WEEK) for path in POINTS}
        truth = {path: truth_total(client, path, WEEK) for path in POINTS}
        set_clock(sim, "2026-11-21T23:59:59Z")  # 2026-11-18 is still inside its window
        last_moment = {path: rows(client, path, DAY_18) for path in POINTS}
        set_clock(sim, "2026-11-22T00:00:00Z")  # and now it has settled
        settled = {path: rows(client, path, DAY_18) for path in POINTS}
        set_clock(sim, "2026-11-25T00:00:00Z")  # every day of WEEK has settled
        final = {path: rows(client, path, WEEK) for path in POINTS}
    revised, revised_on_18 = 0, 0
    for path in POINTS:
        assert list(final[path]) == half_hours(WEEK), f"{path}: settled days have every half-hour"
        # The truth always held the final values, even while REST served something else.
        assert truth[path]["rows"] == len(final[path])
        assert truth[path]["total"] == round(sum(final[path].values()) / 1000, 3)
        for slot, value in first[path].items():
            if value == final[path][slot]:
                continue
            revised += 1
            assert slot >= WINDOW_START, f"{path}: a settled half-hour was provisional at {iso(slot)}"
            low, high = (50, 150) if final[path][slot] == 0 else (0.5 * final[path][slot], 1.5 * final[path][slot] + 1)
            assert low <= value <= high, f"{path} {iso(slot)}: provisional {value} for final {final[path][slot]}"
            revised_on_18 += slot < WINDOW_START + 86400
        # The window closes with the last instant of its last day, not before, not after.
        assert last_moment[path] == {slot: first[path][slot] for slot in half_hours(DAY_18)}
        assert settled[path] == {slot: final[path][slot] for slot in half_hours(DAY_18)}
    assert revised >= 20  # about 0.3 of 3 days x 48 half-hours x 3 points
    assert revised_on_18 > 0


def test_telemetry_carries_the_final_value_while_rest_is_provisional(sim: SimServer) -> None:
    start, end = ts(WEEK[0]), ts(WEEK[1])
    query = (
        f'query {{ smartMeterTelemetry(deviceId: "{HOME_MINI}", grouping: HALF_HOURLY, start: "{iso(start)}", '
        f'end: "{iso(end)}") {{ readAt consumptionDelta }} }}'
    )
    with sim.client(auth=AUTH) as rest, sim.client() as gql:
        served = rows(rest, IMPORT, WEEK)
        token = gql.post("/v1/graphql/", json={"query": TOKEN_MUTATION}).json()["data"]["obtainKrakenToken"]["token"]
        telemetry = graphql(gql, token, query)["smartMeterTelemetry"]
        set_clock(sim, "2026-11-25T00:00:00Z")
        final = rows(rest, IMPORT, WEEK)
    measured = {ts(r["readAt"]): wh(r["consumptionDelta"]) for r in telemetry}
    assert measured == final
    assert any(served[slot] != measured[slot] for slot in served), "some half-hours should be provisional"


def test_late_half_hours_are_missing_for_a_day_then_appear(sim: SimServer) -> None:
    newest = half_hours(NEWEST_DAY)
    with sim.client(auth=AUTH) as client:
        set_clock(sim, NEWEST_DAY_PUBLISHED)
        at_publication = rows(client, IMPORT, NEWEST_DAY)
        day_before = rows(client, IMPORT, ("2026-11-19T00:00:00Z", NEWEST_DAY[0]))
        grouped = client.get(IMPORT, params=period_params(NEWEST_DAY, group_by="day"))
        set_clock(sim, "2026-11-22T05:59:59Z")  # one second short of 24 h after the day was published
        still = rows(client, IMPORT, NEWEST_DAY)
        set_clock(sim, "2026-11-22T06:00:00Z")
        later = rows(client, IMPORT, NEWEST_DAY)
    missing = [slot for slot in newest if slot not in at_publication]
    assert 3 <= len(missing) <= 20  # about 0.2 of 48
    assert len(day_before) == 48, "only the newest published day has late half-hours"
    assert set(still) == set(at_publication)
    assert list(later) == newest
    # A day's total is the sum of the half-hours served, late ones left out.
    (day,) = grouped.json()["results"]
    assert round(day["consumption"] * 1000) == sum(at_publication.values())


def test_count_and_pages_follow_the_rows_served(sim: SimServer) -> None:
    params = period_params(NEWEST_DAY, page_size="10")
    with sim.client(auth=AUTH) as client:
        served = len(rows(client, IMPORT, NEWEST_DAY))
        assert served < 48
        body = client.get(IMPORT, params=params).json()
        pages, results = 1, body["results"]
        while body["next"] is not None:
            body = client.get(body["next"]).json()
            pages += 1
            results += body["results"]
        past = client.get(IMPORT, params={**params, "page": str(pages + 1)})
    assert body["count"] == len(results) == served
    assert pages == math.ceil(served / 10)
    assert len({r["interval_start"] for r in results}) == served
    assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})


@pytest.mark.parametrize("now", ["2026-11-22T06:00:00Z", "2026-11-24T12:00:00Z", "2026-12-21T09:00:00Z"])
def test_rows_older_than_the_window_never_change(sim: SimServer, now: str) -> None:
    settled = ("2026-11-01T00:00:00Z", "2026-11-18T00:00:00Z")
    with sim.client(auth=AUTH) as client:
        before = {path: client.get(path, params=period_params(settled)).content for path in POINTS}
        set_clock(sim, now)
        after = {path: client.get(path, params=period_params(settled)).content for path in POINTS}
    assert before == after


def test_the_same_seed_gives_the_same_provisional_and_late_half_hours(scenario: str) -> None:
    def snapshot(seed: int) -> dict[str, bytes]:
        with simulator(scenario, seed=seed) as server, server.client(auth=AUTH) as client:
            return {path: client.get(path, params=period_params(WEEK, page_size="500")).content for path in POINTS}

    one, two, other = snapshot(7), snapshot(7), snapshot(8)
    assert one == two
    assert all(one[path] != other[path] for path in POINTS)


def test_answers_depend_only_on_the_simulated_clock(sim: SimServer) -> None:
    """Asking again at the same simulated instant gives the same answer; the clock alone decides."""
    with sim.client(auth=AUTH) as client:
        first = client.get(IMPORT, params=period_params(WEEK, page_size="500"))
        second = client.get(IMPORT, params=period_params(WEEK, page_size="500"))
        set_clock(sim, "2026-11-25T00:00:00Z")
        set_clock(sim, DEMO_NOW)
        back = client.get(IMPORT, params=period_params(WEEK, page_size="500"))
    assert first.content == second.content == back.content


def test_without_revisions_published_values_are_final_at_once(tmp_path: Path) -> None:
    scenario = revisions_scenario(tmp_path, days=0, probability=0, late=0)
    with simulator(scenario) as server, server.client(auth=AUTH) as client:
        for path in POINTS:
            served = rows(client, path, WEEK)
            assert list(served) == half_hours(WEEK)
            assert round(sum(served.values()) / 1000, 3) == truth_total(client, path, WEEK)["total"]


def test_scenarios_default_to_no_revisions_and_the_demo_has_modest_ones() -> None:
    anchor = datetime(2026, 11, 21, 9, tzinfo=UTC)
    assert load_scenario("e7", anchor).revisions == RevisionsSpec()
    assert load_scenario("demo", anchor).revisions == RevisionsSpec(days=3, probability=0.03, late_probability=0.02)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[revisions]\ndays = -1", "revisions.days: must be between 0 and 365, got -1.0"),
        ("[revisions]\ndays = 1.5", "revisions.days: expected whole days, got 1.5"),
        ('[revisions]\ndays = "three"', "revisions.days: expected int or float, got 'three'"),
        ("[revisions]\nprobability = 1.5", "revisions.probability: must be between 0 and 1, got 1.5"),
        ("[revisions]\nlate_probability = -0.1", "revisions.late_probability: must be between 0 and 1, got -0.1"),
        ("[revisions]\nlate = 0.1", "revisions.late: unknown key; expected one of days, late_probability, probability"),
        ("revisions = 3", "revisions: expected a table"),
    ],
)
def test_bad_revisions_get_one_line_naming_the_field(tmp_path: Path, table: str, expected: str) -> None:
    _, text = read_scenario_text("demo")
    text = re.sub(r"\[revisions\]\n(?:\w+ = [^\n]*\n)*", "", text)
    path = tmp_path / "bad.toml"
    # Top-level keys must come before the first table, so the revisions go first.
    path.write_text(f"{table}\n{text}" if table.startswith("revisions =") else f"{text}\n{table}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path), datetime(2026, 11, 21, 9, tzinfo=UTC))
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"bad.toml: {expected}"
