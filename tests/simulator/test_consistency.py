"""The simulator agrees with itself: telemetry with consumption, dispatches with consumption, rates with
agreements, the same seed with the same bytes, and data appearing only when the real API publishes it."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, SimServer, simulator

UK = ZoneInfo("Europe/London")
SLOT = 1800
HOME_MINI = "00-00-00-FF-FE-00-01-01"
IMPORT_MPAN, SERIAL = "1900000000101", "21L0000101"
CONSUMPTION = f"/v1/electricity-meter-points/{IMPORT_MPAN}/meters/{SERIAL}/consumption/"
AGILE_RATES = "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-J/standard-unit-rates/"
NOW = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
TELEMETRY_HISTORY_DAYS = 90  # the scenario default
REVISION_DAYS = 3  # the demo's [revisions] days: newer published half-hours may be late or provisional
TOKEN_MUTATION = f'mutation {{ obtainKrakenToken(input: {{APIKey: "{DEMO_KEY}"}}) {{ token }} }}'


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def local_midnight(day: date) -> float:
    return datetime.combine(day, time(0), UK).timestamp()


def get_all(
    client: httpx.Client, path: str, params: dict[str, Any], auth: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every result of a paginated REST list, following ``next``."""
    response = client.get(path, params=params, auth=auth)
    rows: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["results"]
        if page["next"] is None:
            return rows
        response = client.get(page["next"], auth=auth)


def graphql(client: httpx.Client, token: str, query: str) -> dict[str, Any]:
    response = client.post("/v1/graphql/", json={"query": query}, headers={"Authorization": token})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def telemetry(
    client: httpx.Client,
    token: str,
    start: float,
    end: float,
    grouping: str = "TEN_SECONDS",
    fields: str = "readAt consumptionDelta",
) -> list[dict[str, Any]]:
    query = (
        f'query {{ smartMeterTelemetry(deviceId: "{HOME_MINI}", grouping: {grouping}, start: "{iso(start)}", '
        f'end: "{iso(end)}") {{ {fields} }} }}'
    )
    rows: list[dict[str, Any]] = graphql(client, token, query)["smartMeterTelemetry"]
    return rows


def wh(value: str) -> int:
    """A telemetry Decimal string in whole Wh (the simulator's resolution), e.g. '0E+1' -> 0."""
    number = Decimal(value)
    assert number == number.to_integral_value(), value
    return int(number)


@pytest.fixture(scope="module")
def client(demo_sim: SimServer) -> Iterator[httpx.Client]:
    with demo_sim.client() as c:
        yield c


@pytest.fixture(scope="module")
def token(client: httpx.Client) -> str:
    response = client.post("/v1/graphql/", json={"query": TOKEN_MUTATION})
    value: str = response.json()["data"]["obtainKrakenToken"]["token"]
    return value


@pytest.fixture(scope="module")
def truth(client: httpx.Client) -> dict[str, Any]:
    value: dict[str, Any] = client.get("/_sim/truth").json()
    return value


@pytest.fixture(scope="module")
def import_wh(client: httpx.Client) -> dict[int, int]:
    """The import meter's whole REST history: half-hour start (epoch) -> Wh."""
    rows = get_all(client, CONSUMPTION, {"order_by": "period", "page_size": 25000}, auth=(DEMO_KEY, ""))
    out = {}
    for row in rows:
        start, end = ts(row["interval_start"]), ts(row["interval_end"])
        assert end - start == SLOT, row
        out[int(start)] = round(row["consumption"] * 1000)
    assert len(out) == len(rows)
    return out


@pytest.fixture(scope="module")
def import_agreements(client: httpx.Client) -> list[dict[str, Any]]:
    account = client.get(f"/v1/accounts/{DEMO_ACCOUNT}/", auth=(DEMO_KEY, "")).json()
    point = next(p for p in account["properties"][0]["electricity_meter_points"] if not p["is_export"])
    agreements: list[dict[str, Any]] = point["agreements"]
    return agreements


def published_until(truth: dict[str, Any]) -> float:
    return ts(truth["published_until"])


# REST consumption before this instant is settled: final, equal to the truth and the telemetry.
SETTLED = local_midnight(NOW.astimezone(UK).date() - timedelta(days=REVISION_DAYS))


# --- Home Mini telemetry and REST consumption ----------------------------------------------------------


def _clock_change_day() -> date | None:
    """A UK clock-change day inside the telemetry history window before the demo clock, if any."""
    today = NOW.astimezone(UK).date()
    for back in range(1, TELEMETRY_HISTORY_DAYS - 1):
        day = today - timedelta(days=back)
        if local_midnight(day + timedelta(days=1)) - local_midnight(day) != 86400:
            return day
    return None


def _latest_settled_smart_dispatch(truth: dict[str, Any]) -> dict[str, Any]:
    done = [d for d in truth["dispatches"] if d["type"] == "SMART" and ts(d["end"]) <= SETTLED]
    return max(done, key=lambda d: ts(d["start"]))


def _telemetry_by_half_hour(rows: list[dict[str, Any]]) -> dict[int, int]:
    sums: dict[int, int] = defaultdict(int)
    for row in rows:
        at = ts(row["readAt"])
        assert at % 10 == 0, row
        sums[int(at // SLOT * SLOT)] += wh(row["consumptionDelta"])
    return dict(sums)


@pytest.mark.parametrize("case", ["evening", "ev_charging", "clock_change_day"])
def test_ten_second_deltas_sum_to_rest_consumption(
    client: httpx.Client, token: str, truth: dict[str, Any], import_wh: dict[int, int], case: str
) -> None:
    if case == "evening":
        start = SETTLED - 8 * 3600  # 16:00 on the newest settled day
        end = start + 4 * SLOT
    elif case == "ev_charging":
        dispatch = _latest_settled_smart_dispatch(truth)
        start, end = ts(dispatch["start"]), ts(dispatch["end"])
        assert start >= NOW.timestamp() - TELEMETRY_HISTORY_DAYS * 86400
        assert import_wh[int(start)] >= 2800, "the dispatch's first half-hour should be charging"
    else:
        day = _clock_change_day()
        if day is None:
            pytest.skip("no clock change within the telemetry history window before the demo clock")
        start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        assert (end - start) / SLOT in (46, 50)
    rows = telemetry(client, token, start, end)
    assert len(rows) == (end - start) / 10  # no missing samples in the simulated series
    sums = _telemetry_by_half_hour(rows)
    expected = {slot: import_wh[slot] for slot in range(int(start), int(end), SLOT)}
    assert sums == expected


def test_grouped_telemetry_equals_the_sum_of_ten_second_readings(client: httpx.Client, token: str) -> None:
    day = _clock_change_day() or (NOW.astimezone(UK).date() - timedelta(days=2))
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    ten = telemetry(client, token, start, end)
    for grouping, step in (("ONE_MINUTE", 60), ("FIVE_MINUTES", 300), ("HALF_HOURLY", 1800), ("HOURLY", 3600)):
        expected: dict[str, int] = defaultdict(int)
        for row in ten:
            expected[iso(ts(row["readAt"]) // step * step)] += wh(row["consumptionDelta"])
        grouped = telemetry(client, token, start, end, grouping, "readAt consumption consumptionDelta")
        assert {r["readAt"]: wh(r["consumptionDelta"]) for r in grouped} == dict(expected), grouping
        # The cumulative register grows by each group's delta.
        for before, after in pairwise(grouped):
            assert Decimal(after["consumption"]) - Decimal(before["consumption"]) == Decimal(after["consumptionDelta"])


def test_cumulative_register_matches_rest_consumption_over_a_month(
    client: httpx.Client, token: str, import_wh: dict[int, int]
) -> None:
    """The register difference between two half-hourly readings a month apart is the REST energy between."""
    t1, t2 = ts("2026-10-17T00:00:00Z"), ts("2026-11-17T00:00:00Z")  # settled days
    (first,) = telemetry(client, token, t1, t1 + SLOT, "HALF_HOURLY", "readAt consumption")
    (last,) = telemetry(client, token, t2, t2 + SLOT, "HALF_HOURLY", "readAt consumption")
    rest = sum(import_wh[s] for s in range(int(t1) + SLOT, int(t2) + SLOT, SLOT))
    assert Decimal(last["consumption"]) - Decimal(first["consumption"]) == rest


def test_half_hourly_demand_is_the_mean_power_of_the_net_energy(client: httpx.Client, token: str) -> None:
    """demand (W) is instantaneous and negative when exporting; over a half-hour its mean x 0.5 h is the net
    energy, import minus export (Wh), within rounding."""
    end = ts("2026-11-21T00:00:00Z")
    start = end - 7 * 86400
    rows = telemetry(client, token, start - SLOT, end, "HALF_HOURLY", "readAt consumptionDelta demand export")
    wrong = []
    exporting = 0
    for before, row in pairwise(rows):
        exported = Decimal(row["export"]) - Decimal(before["export"])
        exporting += exported > 0
        net = Decimal(row["consumptionDelta"]) - exported
        if abs(Decimal(row["demand"]) / 2 - net) > 1:
            wrong.append(
                f"{row['readAt']}: demand {row['demand']} W, import {row['consumptionDelta']} Wh, export {exported} Wh"
            )
    assert exporting > 0, "the week should include solar export"
    assert not wrong, f"{len(wrong)} half-hours where mean demand x 0.5 h != import - export:\n" + "\n".join(wrong[:5])


# --- EV charging and dispatches ------------------------------------------------------------------------


def test_ev_charging_appears_in_consumption_inside_dispatches(
    client: httpx.Client,
    token: str,
    truth: dict[str, Any],
    import_wh: dict[int, int],
    import_agreements: list[dict[str, Any]],
) -> None:
    query = f'query {{ devices(accountNumber: "{DEMO_ACCOUNT}") {{ ... on SmartFlexChargePoint {{ powerInKw }} }} }}'
    (device,) = graphql(client, token, query)["devices"]
    kw = float(device["powerInKw"])
    assert kw == 7.0
    iog = next(a for a in import_agreements if "INTELLI" in a["tariff_code"])
    iog_start, published = ts(iog["valid_from"]), published_until(truth)

    sessions = [s for s in truth["ev_sessions"] if iog_start <= ts(s["start"]) and ts(s["end"]) <= published]
    charging_slots = {
        slot
        for s in sessions
        for slot in range(int(ts(s["start"]) // SLOT * SLOT), int(math.ceil(ts(s["end"]) / SLOT) * SLOT), SLOT)
    }
    quiet = [v for slot, v in import_wh.items() if iog_start <= slot < published and slot not in charging_slots]
    household_level = statistics.median(quiet)
    assert household_level < 1000

    dispatches = [
        d
        for d in truth["dispatches"]
        if d["type"] == "SMART" and iog_start <= ts(d["start"]) and ts(d["end"]) <= published
    ]
    assert len(dispatches) >= 50
    threshold = max(kw * 0.5 * 0.8 * 1000, 3 * household_level)
    checked, low = 0, []
    for dispatch in dispatches:
        full_slots = math.floor(dispatch["kwh"] / (kw * 0.5) + 1e-6)  # half-hours the car charged throughout
        for i in range(full_slots):
            slot = int(ts(dispatch["start"])) + i * SLOT
            checked += 1
            if import_wh[slot] < threshold:
                low.append(f"{iso(slot)}: {import_wh[slot]} Wh")
    assert checked >= 100
    assert not low, f"fully dispatched half-hours below {threshold:.0f} Wh: {low[:5]}"

    smart_sessions = [s for s in sessions if s["mode"] == "smart"]
    assert len(smart_sessions) >= 50
    short = []
    for session in smart_sessions:
        a, b = ts(session["start"]), ts(session["end"])
        slots = range(int(a // SLOT * SLOT), int(math.ceil(b / SLOT) * SLOT), SLOT)
        metered = sum(import_wh[s] for s in slots)
        if session["kwh"] * 1000 > metered + 0.5 * len(slots):
            short.append(f"{session['start']}: EV {session['kwh']} kWh > metered {metered / 1000} kWh")
    assert not short, short[:5]


def test_truth_totals_match_rest_consumption(
    client: httpx.Client, truth: dict[str, Any], import_wh: dict[int, int]
) -> None:
    settled_truth = client.get("/_sim/truth", params={"to": iso(SETTLED)}).json()
    total = settled_truth["totals"][f"electricity:{IMPORT_MPAN}"]
    settled = {slot: value for slot, value in import_wh.items() if slot < SETTLED}
    assert total["rows"] == len(settled) == (2 * 365 - REVISION_DAYS) * 48  # clock changes cancel out
    assert round(sum(settled.values()) / 1000, 3) == total["total"]
    assert max(import_wh) + SLOT == published_until(truth)


# --- unit rates for every half-hour --------------------------------------------------------------------


def _rate_types(tariff_code: str) -> list[str]:
    return ["day-unit-rates", "night-unit-rates"] if tariff_code.startswith("E-2R-") else ["standard-unit-rates"]


def test_every_import_interval_has_a_unit_rate(
    client: httpx.Client, import_wh: dict[int, int], import_agreements: list[dict[str, Any]]
) -> None:
    covered = 0
    for agreement in import_agreements:
        code = agreement["tariff_code"]
        product = code[5:-2]
        a = ts(agreement["valid_from"])
        b = min(ts(agreement["valid_to"]) if agreement["valid_to"] else math.inf, SETTLED)
        slots = [s for s in import_wh if a <= s < b]
        assert len(slots) == (b - a) / SLOT, f"{code}: consumption has gaps"
        for rate_type in _rate_types(code):
            rows = get_all(
                client,
                f"/v1/products/{product}/electricity-tariffs/{code}/{rate_type}/",
                {"period_from": iso(a), "period_to": iso(b), "page_size": 1500},
            )
            methods = {r["payment_method"] for r in rows}
            for method in methods:
                records = sorted(
                    (
                        (ts(r["valid_from"]), ts(r["valid_to"]) if r["valid_to"] else math.inf, r["value_exc_vat"])
                        for r in rows
                        if r["payment_method"] == method
                    ),
                )
                for (_, end1, _), (start2, _, _) in pairwise(records):
                    assert end1 == start2, f"{code} {rate_type} {method}: gap or overlap at {iso(end1)}"
                assert records[0][0] <= a, f"{code} {rate_type} {method}: starts too late"
                assert records[-1][1] >= b, f"{code} {rate_type} {method}: ends too early"
                values = _values_by_slot(records, slots)
                covered += len(values)
                if "INTELLI" in code and rate_type == "standard-unit-rates":
                    _assert_off_peak_window(values, code)
    assert covered >= len([slot for slot in import_wh if slot < SETTLED])


def _values_by_slot(records: list[tuple[float, float, float]], slots: list[int]) -> dict[int, float]:
    """The rate in force for each half-hour: exactly one record must cover it completely."""
    out = {}
    i = 0
    for slot in sorted(slots):
        while records[i][1] <= slot:
            i += 1
        start, end, value = records[i]
        assert start <= slot, f"half-hour {iso(slot)} has no rate"
        assert slot + SLOT <= end, f"half-hour {iso(slot)} is split by a rate change"
        out[slot] = value
    return out


def _assert_off_peak_window(values: dict[int, float], code: str) -> None:
    """Intelligent Octopus Go is cheap 23:30-05:30 UK time, whatever the season."""
    off_peak, peak = [], []
    for slot, value in values.items():
        local = datetime.fromtimestamp(slot, UK)
        minutes = local.hour * 60 + local.minute
        (off_peak if minutes >= 23 * 60 + 30 or minutes < 5 * 60 + 30 else peak).append(value)
    assert off_peak
    assert peak
    assert max(off_peak) < min(peak), f"{code}: an off-peak half-hour costs as much as a peak one"


# --- determinism ---------------------------------------------------------------------------------------


def _snapshot(sim: SimServer) -> dict[str, bytes]:
    auth = (DEMO_KEY, "")
    with sim.client() as c:
        out = {
            "consumption": c.get(
                CONSUMPTION,
                params={"period_from": "2026-11-19T00:00:00Z", "period_to": "2026-11-20T00:00:00Z"},
                auth=auth,
            ).content,
            "gas": c.get(
                "/v1/gas-meter-points/3000000101/meters/G4S0000101/consumption/",
                params={"period_from": "2026-11-19T00:00:00Z", "period_to": "2026-11-20T00:00:00Z"},
                auth=auth,
            ).content,
            "agile": c.get(
                AGILE_RATES, params={"period_from": "2026-11-20T00:00:00Z", "period_to": "2026-11-21T00:00:00Z"}
            ).content,
            "account": c.get(f"/v1/accounts/{DEMO_ACCOUNT}/", auth=auth).content,
            "truth": c.get("/_sim/truth", params={"from": "2026-11-01T00:00:00Z"}).content,
        }
        response = c.post("/v1/graphql/", json={"query": TOKEN_MUTATION})
        out["token"] = response.content
        token = response.json()["data"]["obtainKrakenToken"]["token"]
        query = (
            f'query {{ smartMeterTelemetry(deviceId: "{HOME_MINI}", grouping: TEN_SECONDS, '
            'start: "2026-11-20T18:00:00Z", end: "2026-11-20T18:30:00Z") { readAt consumptionDelta demand } }'
        )
        out["telemetry"] = c.post("/v1/graphql/", json={"query": query}, headers={"Authorization": token}).content
    assert all(b'"next":null' in out[k] for k in ("consumption", "gas", "agile")), "single pages: no host in links"
    return out


def test_same_scenario_seed_and_now_give_identical_bytes() -> None:
    with simulator(seed=1234) as one, simulator(seed=1234) as two:
        first, second = _snapshot(one), _snapshot(two)
    for name in first:
        assert first[name] == second[name], name


def test_a_different_seed_gives_different_consumption() -> None:
    with simulator(seed=1234) as one, simulator(seed=1235) as two:
        first, second = _snapshot(one), _snapshot(two)
    assert first["consumption"] != second["consumption"]
    assert first["gas"] != second["gas"]
    assert first["account"] == second["account"]  # the seed changes behaviour, not the account


# --- publication: consumption at 06:00 UK, Agile tomorrow at 16:00 UK ----------------------------------


def _set_clock(sim: SimServer, now: str) -> None:
    response = httpx.post(f"{sim.url}/_sim/clock", json={"now": now}, timeout=30)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("before", "at", "last_end_before", "last_end_at"),
    [
        # GMT: 05:59:59 UK is 05:59:59Z.
        ("2026-11-21T05:59:59Z", "2026-11-21T06:00:00Z", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
        # BST: 06:00 UK is 05:00Z; consumption timestamps carry +01:00.
        ("2026-07-15T04:59:59Z", "2026-07-15T05:00:00Z", "2026-07-14T00:00:00+01:00", "2026-07-15T00:00:00+01:00"),
    ],
    ids=["gmt", "bst"],
)
def test_yesterday_consumption_appears_at_six_uk_time(
    fresh_sim: SimServer, before: str, at: str, last_end_before: str, last_end_at: str
) -> None:
    with fresh_sim.client(auth=(DEMO_KEY, "")) as c:
        for now, expected in ((before, last_end_before), (at, last_end_at)):
            _set_clock(fresh_sim, now)
            page = c.get(CONSUMPTION, params={"page_size": 1}).json()
            assert page["results"][0]["interval_end"] == expected, now
            # Asking beyond the publication point gives nothing more.
            later = c.get(CONSUMPTION, params={"period_from": expected, "page_size": 10}).json()
            assert later["count"] == 0, now


@pytest.mark.parametrize(
    ("before", "at", "day_start", "last_before", "last_at", "slots_before", "slots_at"),
    [
        (
            "2026-11-21T15:59:59Z",
            "2026-11-21T16:00:00Z",
            "2026-11-21T00:00:00Z",
            "2026-11-21T23:00:00Z",
            "2026-11-22T23:00:00Z",
            46,
            94,
        ),
        (
            "2026-07-15T14:59:59Z",
            "2026-07-15T15:00:00Z",
            "2026-07-14T23:00:00Z",
            "2026-07-15T22:00:00Z",
            "2026-07-16T22:00:00Z",
            46,
            94,
        ),
    ],
    ids=["gmt", "bst"],
)
def test_agile_tomorrow_appears_after_four_pm_uk_time(
    fresh_sim: SimServer,
    before: str,
    at: str,
    day_start: str,
    last_before: str,
    last_at: str,
    slots_before: int,
    slots_at: int,
) -> None:
    with fresh_sim.client() as c:
        for now, last, count in ((before, last_before, slots_before), (at, last_at, slots_at)):
            _set_clock(fresh_sim, now)
            page = c.get(AGILE_RATES, params={"period_from": day_start, "page_size": 1500}).json()
            assert page["count"] == count, now
            assert page["results"][0]["valid_to"] == last, now  # newest first
            assert page["results"][-1]["valid_from"] == day_start, now
