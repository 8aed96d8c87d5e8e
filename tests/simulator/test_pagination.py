"""REST pagination as the README documents it (DRF page-number pagination).

Following ``next`` from page 1 yields every row exactly once, pages are capped (consumption 25,000, rates
1,500, silently), links are absolute URLs on the host the request came to, with alphabetically sorted and
URL-encoded query parameters that echo datetimes exactly as sent; ``page`` is dropped from ``previous`` for
page 1, ``next`` is null on the last page and a page past the end is a 404 ``Invalid page.``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import DEMO_KEY, SimServer
from tests.simulator.test_rest_contract import UK, assert_uk_local, assert_utc_z, classify_timestamp

CONSUMPTION = "/v1/electricity-meter-points/1900000000101/meters/21L0000101/consumption/"
AGILE_RATES = "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-J/standard-unit-rates/"
FLEX_RATES = "/v1/products/VAR-22-11-01/electricity-tariffs/E-1R-VAR-22-11-01-J/standard-unit-rates/"
SHORT = {"period_from": "2026-11-10T00:00:00Z", "period_to": "2026-11-12T00:00:00Z"}  # two GMT days
# The demo's whole settled history: newer half-hours may be late or provisional (its [revisions], 3 days).
SETTLED = {"period_from": "2024-11-21T00:00:00Z", "period_to": "2026-11-18T00:00:00Z"}
EMPTY_PAGE: dict[str, Any] = {"count": 0, "next": None, "previous": None, "results": []}


def local_half_hours(first: date, end: date) -> int:
    """Half-hours in the UK local days [first, end): 46 on a spring-forward day, 50 on a fall-back day."""

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(0), UK).astimezone(UTC)  # UTC: aware arithmetic in one zone is wall time

    return int((midnight(end) - midnight(first)).total_seconds()) // 1800


@dataclass(frozen=True)
class Endpoint:
    path: str
    cap: int
    start_key: str
    full_params: dict[str, str]  # the longest history that does not change under the clock
    full_count: int  # rows with full_params
    short_count: int  # rows in SHORT


ENDPOINTS = {
    # Demo import data runs from -730d (2024-11-21) to the end of yesterday (the clock is 2026-11-21 09:00);
    # it is settled up to 2026-11-18.
    "consumption": Endpoint(
        CONSUMPTION, 25_000, "interval_start", SETTLED, local_half_hours(date(2024, 11, 21), date(2026, 11, 18)), 96
    ),
    # Agile from its launch at -1200d (2023-08-09 local = 2023-08-08T23:00Z) to 23:00 today (before 16:00
    # tomorrow's prices are not out yet).
    "rates": Endpoint(
        AGILE_RATES,
        1_500,
        "valid_from",
        {},
        int((datetime(2026, 11, 21, 23, tzinfo=UTC) - datetime(2023, 8, 8, 23, tzinfo=UTC)).total_seconds()) // 1800,
        96,
    ),
}


def test_expected_counts_are_what_the_calendar_says() -> None:
    # 727 days of 48 half-hours; the two spring days (-2 each) and the two autumn days (+2 each) cancel out.
    assert ENDPOINTS["consumption"].full_count == 727 * 48 == 34_896
    assert ENDPOINTS["rates"].full_count == 1201 * 48


def _link(sim: SimServer, path: str, params: dict[str, str], page: int | None) -> str:
    """What DRF writes: the request's query, ``page`` replaced (or removed for page 1), sorted and encoded."""
    query = dict(params)
    if page is not None and page > 1:
        query["page"] = str(page)
    return f"{sim.url}{path}?{urlencode(sorted(query.items()))}"


def _start(row: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(row[key])


@pytest.mark.parametrize("page_size", [1, 100, 1500, 25_000, 30_000])
@pytest.mark.parametrize("endpoint", ["consumption", "rates"])
def test_following_next_yields_every_row_once(demo_sim: SimServer, endpoint: str, page_size: int) -> None:
    spec = ENDPOINTS[endpoint]
    params = {**(SHORT if page_size == 1 else spec.full_params), "page_size": str(page_size)}
    count = spec.short_count if page_size == 1 else spec.full_count
    per_page = min(page_size, spec.cap)
    pages = math.ceil(count / per_page)
    rows: list[dict[str, Any]] = []
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        url: str | None = f"{spec.path}?{urlencode(sorted(params.items()))}"
        number = 0
        while url is not None:
            number += 1
            assert number <= pages, f"more pages than {pages}"
            response = client.get(url)
            assert response.status_code == 200, response.text[:300]
            body = response.json()
            assert body["count"] == count
            assert len(body["results"]) == min(per_page, count - (number - 1) * per_page)
            assert body["previous"] == (None if number == 1 else _link(demo_sim, spec.path, params, number - 1))
            assert body["next"] == (None if number == pages else _link(demo_sim, spec.path, params, number + 1))
            rows += body["results"]
            url = body["next"]
        assert number == pages
        past = client.get(spec.path, params={**params, "page": str(pages + 1)})
        assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})
    assert len(rows) == count
    starts = [_start(r, spec.start_key) for r in rows]
    assert len(set(starts)) == count, "a row came twice"
    assert starts == sorted(starts, reverse=True), "newest first across pages"
    assert all(newer - older == timedelta(minutes=30) for newer, older in pairwise(starts)), "a row is missing"


def test_page_zero_and_garbage_pages_are_invalid(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        for page in ("0", "-1", "two"):
            response = client.get(CONSUMPTION, params={**SHORT, "page": page})
            assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."}), page


def test_without_a_period_consumption_is_the_newest_100_rows(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        body = client.get(CONSUMPTION).json()
        # The demo's revisions hold back a few of the newest day's half-hours (late rows), none of older days.
        newest_day = client.get(CONSUMPTION, params={"period_from": "2026-11-20T00:00:00Z"}).json()["count"]
    late = 48 - newest_day
    assert body["count"] == local_half_hours(date(2024, 11, 21), date(2026, 11, 21)) - late
    assert len(body["results"]) == 100
    assert body["results"][0]["interval_start"] == "2026-11-20T23:30:00Z"
    oldest = datetime(2026, 11, 18, 22, tzinfo=UTC) - late * timedelta(minutes=30)
    assert body["results"][-1]["interval_start"] == oldest.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["next"] == f"{demo_sim.url}{CONSUMPTION}?page=2"
    assert body["previous"] is None


def test_rates_default_to_100_rows_newest_first(demo_sim: SimServer) -> None:
    with demo_sim.client() as client:
        body = client.get(AGILE_RATES).json()
    assert body["count"] == ENDPOINTS["rates"].full_count
    assert len(body["results"]) == 100
    assert body["results"][0]["valid_from"] == "2026-11-21T22:30:00Z"
    assert body["next"] == f"{demo_sim.url}{AGILE_RATES}?page=2"


def test_links_are_sorted_encoded_and_echo_datetimes_as_sent(demo_sim: SimServer) -> None:
    # +01:00 sent correctly encoded, fractional seconds (nine digits, as in a real capture) kept as sent.
    query = (
        "period_to=2026-07-03T00%3A00%3A00%2B01%3A00&page_size=10&order_by=period"
        "&period_from=2026-07-01T00%3A00%3A00.408332200%2B01%3A00"
    )
    expected_tail = (
        "order_by=period&page_size=10&period_from=2026-07-01T00%3A00%3A00.408332200%2B01%3A00"
        "&period_to=2026-07-03T00%3A00%3A00%2B01%3A00"
    )
    base = f"{demo_sim.url}{CONSUMPTION}"
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        page1 = client.get(f"{CONSUMPTION}?{query}").json()
        assert page1["next"] == f"{base}?order_by=period&page=2&{expected_tail.removeprefix('order_by=period&')}"
        assert page1["previous"] is None
        page2 = client.get(page1["next"]).json()
        assert page2["previous"] == f"{base}?{expected_tail}"  # page 1: no page parameter
        page3 = client.get(page2["next"]).json()
        assert page3["previous"] == page1["next"]
    # period_from is inclusive: 00:00:00.408 is after the 00:00 half-hour, so the first row is 00:30.
    assert page1["count"] == 2 * 48 - 1
    assert page1["results"][0]["interval_start"] == "2026-07-01T00:30:00+01:00"


def test_links_echo_z_datetimes(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        body = client.get(AGILE_RATES, params={"period_from": "2026-11-01T00:00:00Z", "page_size": "7"}).json()
    assert body["next"] == f"{demo_sim.url}{AGILE_RATES}?page=2&page_size=7&period_from=2026-11-01T00%3A00%3A00Z"


def test_links_are_on_the_host_the_request_came_to(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        seen_host = client.get(CONSUMPTION, params={"page_size": "10"}).json()
        other_host = client.get(CONSUMPTION, params={"page_size": "10"}, headers={"Host": "sim.example:8123"}).json()
    assert demo_sim.url.startswith("http://127.0.0.1:")
    assert seen_host["next"] == f"{demo_sim.url}{CONSUMPTION}?page=2&page_size=10"
    assert other_host["next"] == f"http://sim.example:8123{CONSUMPTION}?page=2&page_size=10"


def test_consumption_page_size_is_capped_at_25000(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        body = client.get(CONSUMPTION, params={"page_size": "100000"}).json()
    assert len(body["results"]) == 25_000
    assert body["next"] == f"{demo_sim.url}{CONSUMPTION}?page=2&page_size=100000"


def test_rates_page_size_is_capped_at_1500(demo_sim: SimServer) -> None:
    with demo_sim.client() as client:
        body = client.get(AGILE_RATES, params={"page_size": "5000"}).json()
    assert len(body["results"]) == 1_500
    assert body["next"] == f"{demo_sim.url}{AGILE_RATES}?page=2&page_size=5000"


def test_products_pages_are_fixed_at_100_and_ignore_page_size(demo_sim: SimServer) -> None:
    with demo_sim.client() as client:
        body = client.get("/v1/products/", params={"page_size": "2"}).json()
        page2 = client.get("/v1/products/", params={"page_size": "2", "page": "2"})
    assert body["count"] == 9
    assert len(body["results"]) == 9
    assert body["next"] is None
    assert (page2.status_code, page2.json()) == (404, {"detail": "Invalid page."})


def test_order_by_period_is_ascending_and_the_default_newest_first(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        default = client.get(CONSUMPTION, params=SHORT).json()
        newest_first = client.get(CONSUMPTION, params={**SHORT, "order_by": "-period"}).json()
        ascending = client.get(CONSUMPTION, params={**SHORT, "order_by": "period"}).json()
    assert default == newest_first
    assert default["count"] == ascending["count"] == 96
    assert ascending["results"] == list(reversed(default["results"]))
    assert ascending["results"][0]["interval_start"] == "2026-11-10T00:00:00Z"
    assert default["results"][0]["interval_start"] == "2026-11-11T23:30:00Z"
    for row in ascending["results"]:
        assert_uk_local(row["interval_start"])


@pytest.mark.parametrize("path", [AGILE_RATES, FLEX_RATES])
def test_rates_are_newest_first_whatever_order_by_says(demo_sim: SimServer, path: str) -> None:
    params = {"period_from": "2026-03-01T00:00:00Z", "period_to": "2026-11-01T00:00:00Z", "page_size": "1500"}
    with demo_sim.client() as client:
        default = client.get(path, params=params).json()
        asked_ascending = client.get(path, params={**params, "order_by": "period"}).json()
    assert default["count"] == asked_ascending["count"]
    assert default["results"] == asked_ascending["results"]
    starts = [datetime.fromisoformat(r["valid_from"]) for r in default["results"]]
    assert len(starts) > 2
    assert starts == sorted(starts, reverse=True)
    assert starts[0] > starts[-1]
    for row in default["results"]:
        assert_utc_z(row["valid_from"])  # always UTC Z, even in BST
        assert row["valid_to"] is None or classify_timestamp(row["valid_to"]) == "YYYY-MM-DDTHH:MM:SSZ"


def test_an_empty_range_is_one_empty_page(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        response = client.get(CONSUMPTION, params={"period_from": "2027-01-01T00:00:00Z", "page_size": "10"})
    assert (response.status_code, response.json()) == (200, EMPTY_PAGE)


def test_absolute_next_links_work_with_a_plain_client(demo_sim: SimServer) -> None:
    # A client without a base URL can follow next as is.
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        first = client.get(CONSUMPTION, params={**SHORT, "page_size": "50"}).json()
    second = httpx.get(first["next"], auth=(DEMO_KEY, ""), timeout=30).json()
    query = urlencode(sorted({**SHORT, "page_size": "50"}.items()))
    assert second["previous"] == f"{demo_sim.url}{CONSUMPTION}?{query}"
    assert len(first["results"]) == 50
    assert len(second["results"]) == 46
    assert second["next"] is None


def test_rate_responses_carry_the_documented_cache_header(demo_sim: SimServer) -> None:
    """README section 5: rate responses carry ``cache-control: max-age=300``."""
    path = "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-J/standard-unit-rates/"
    with demo_sim.client() as client:
        response = client.get(path, params={"page_size": 2})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=300"
