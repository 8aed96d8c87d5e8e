"""Consumption across the UK clock changes: a year of half-hours from 2025-11-01 to 2026-11-01 (local).

The API writes consumption in UK local time (``Z`` in GMT, ``+01:00`` in BST), groups by local days, Monday
weeks and calendar months/quarters, clips buckets to the requested range, reads datetimes without an offset as
UK local time and rejects ``+01:00`` sent unencoded (the ``+`` becomes a space) and local times that do not exist.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest

from tests.conftest import DEMO_KEY, SimServer
from tests.simulator.test_rest_contract import UK, assert_uk_local, classify_timestamp

CONSUMPTION = "/v1/electricity-meter-points/1900000000101/meters/21L0000101/consumption/"
FIRST_DAY, END_DAY = date(2025, 11, 1), date(2026, 11, 1)  # both in GMT
YEAR = {"period_from": "2025-11-01T00:00:00Z", "period_to": "2026-11-01T00:00:00Z"}
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)
INVALID_DATETIME = {"period_from": ["Enter a valid date/time."]}


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UK).astimezone(UTC)


def days(first: date, end: date) -> Iterator[date]:
    day = first
    while day < end:
        yield day
        day += timedelta(days=1)


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def thousandths(value: float) -> int:
    return round(value * 1000)


def fetch(sim: SimServer, **params: str) -> dict[str, Any]:
    with sim.client(auth=(DEMO_KEY, "")) as client:
        response = client.get(CONSUMPTION, params={"page_size": "25000", "order_by": "period", **params})
    assert response.status_code == 200, response.text[:300]
    body: dict[str, Any] = response.json()
    assert body["next"] is None, "expected one page"
    assert body["count"] == len(body["results"])
    return body


@dataclass
class Year:
    """The year's half-hours, oldest first, with their instants and values (thousandths) for bisection."""

    rows: list[dict[str, Any]]
    starts: list[datetime] = field(init=False)
    values: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.starts = [ts(r["interval_start"]) for r in self.rows]
        self.values = [thousandths(r["consumption"]) for r in self.rows]

    def sum(self, lo: datetime, hi: datetime) -> tuple[int, int]:
        """(number of half-hours, total in thousandths) of the rows starting in [lo, hi)."""
        a, b = bisect_left(self.starts, lo), bisect_left(self.starts, hi)
        return b - a, sum(self.values[a:b])


@pytest.fixture(scope="module")
def year(demo_sim: SimServer) -> Year:
    return Year(fetch(demo_sim, **YEAR)["results"])


def test_a_year_has_one_row_per_local_half_hour(year: Year) -> None:
    # 365 local days of 48 half-hours; 2026-03-29 has 46 and 2026-10-25 has 50.
    assert len(list(days(FIRST_DAY, END_DAY))) == 365
    assert len(year.rows) == 365 * 48 - 2 + 2 == 17_520
    per_day: dict[date, int] = {}
    for row in year.rows:
        day = ts(row["interval_start"]).astimezone(UK).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert sorted(per_day) == list(days(FIRST_DAY, END_DAY))
    assert per_day[SPRING] == 46
    assert per_day[AUTUMN] == 50
    assert {n for d, n in per_day.items() if d not in (SPRING, AUTUMN)} == {48}


def test_offsets_are_z_in_gmt_and_plus_one_in_bst(year: Year) -> None:
    for row in year.rows:
        assert_uk_local(row["interval_start"])
        assert_uk_local(row["interval_end"])
    kinds = [classify_timestamp(r["interval_start"]) for r in year.rows]
    gmt, bst = "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DDTHH:MM:SS+01:00"
    # GMT until the spring change, BST until the autumn change, then GMT again.
    # BST runs from 01:00 UTC on 2026-03-29 to 01:00 UTC on 2026-10-25: 210 days.
    assert kinds.count(bst) == 210 * 48
    assert kinds[0] == gmt
    assert kinds[-1] == gmt
    spring = [
        (r["interval_start"], r["interval_end"]) for r in year.rows if r["interval_start"].startswith("2026-03-29T0")
    ]
    assert spring[:4] == [
        ("2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z"),
        ("2026-03-29T00:30:00Z", "2026-03-29T02:00:00+01:00"),  # 01:00 UTC is 02:00 BST
        ("2026-03-29T02:00:00+01:00", "2026-03-29T02:30:00+01:00"),
        ("2026-03-29T02:30:00+01:00", "2026-03-29T03:00:00+01:00"),
    ]
    autumn = [
        (r["interval_start"], r["interval_end"]) for r in year.rows if r["interval_start"].startswith("2026-10-25T0")
    ]
    assert autumn[:8] == [
        ("2026-10-25T00:00:00+01:00", "2026-10-25T00:30:00+01:00"),
        ("2026-10-25T00:30:00+01:00", "2026-10-25T01:00:00+01:00"),
        ("2026-10-25T01:00:00+01:00", "2026-10-25T01:30:00+01:00"),
        ("2026-10-25T01:30:00+01:00", "2026-10-25T01:00:00Z"),  # 01:00 BST and 01:00 GMT: the hour repeats
        ("2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z"),
        ("2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z"),
        ("2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"),
        ("2026-10-25T02:30:00Z", "2026-10-25T03:00:00Z"),
    ]


def test_instants_increase_by_exactly_thirty_minutes(year: Year) -> None:
    starts = year.starts
    assert starts[0] == local_midnight(FIRST_DAY)
    assert ts(year.rows[-1]["interval_end"]) == local_midnight(END_DAY)
    assert len(set(starts)) == len(starts)
    for row, nxt in pairwise(year.rows):
        assert ts(nxt["interval_start"]) - ts(row["interval_start"]) == timedelta(minutes=30), row
        assert ts(row["interval_end"]) == ts(nxt["interval_start"]), row


def _buckets(sim: SimServer, group_by: str, **period: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fetch(sim, group_by=group_by, **(period or YEAR))["results"]
    for row in rows:
        assert_uk_local(row["interval_start"], group_by)
        assert_uk_local(row["interval_end"], group_by)
    for a, b in pairwise(rows):
        assert a["interval_end"] == b["interval_start"], (a, b)  # contiguous, oldest first
    return rows


def _assert_sums(year: Year, buckets: list[dict[str, Any]]) -> None:
    for bucket in buckets:
        _, total = year.sum(ts(bucket["interval_start"]), ts(bucket["interval_end"]))
        assert thousandths(bucket["consumption"]) == total, bucket


def test_day_buckets_are_local_days(demo_sim: SimServer, year: Year) -> None:
    buckets = _buckets(demo_sim, "day")
    assert len(buckets) == 365
    for bucket, day in zip(buckets, days(FIRST_DAY, END_DAY), strict=True):
        assert ts(bucket["interval_start"]) == local_midnight(day)
        assert ts(bucket["interval_end"]) == local_midnight(day + timedelta(days=1))
        assert ts(bucket["interval_start"]).astimezone(UK).time() == time(0)
    _assert_sums(year, buckets)
    by_day = {ts(b["interval_start"]).astimezone(UK).date(): b for b in buckets}
    spring, autumn = by_day[SPRING], by_day[AUTUMN]
    assert (spring["interval_start"], spring["interval_end"]) == ("2026-03-29T00:00:00Z", "2026-03-30T00:00:00+01:00")
    assert (autumn["interval_start"], autumn["interval_end"]) == ("2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00Z")
    n_spring, total_spring = year.sum(ts(spring["interval_start"]), ts(spring["interval_end"]))
    n_autumn, total_autumn = year.sum(ts(autumn["interval_start"]), ts(autumn["interval_end"]))
    assert (n_spring, n_autumn) == (46, 50)
    assert thousandths(spring["consumption"]) == total_spring
    assert thousandths(autumn["consumption"]) == total_autumn


def test_day_buckets_sum_the_whole_year(demo_sim: SimServer, year: Year) -> None:
    buckets = _buckets(demo_sim, "day")
    assert sum(thousandths(b["consumption"]) for b in buckets) == sum(year.values)


def test_week_buckets_start_on_mondays(demo_sim: SimServer, year: Year) -> None:
    buckets = _buckets(demo_sim, "week")
    # 2025-11-01 is a Saturday: the first bucket is clipped to period_from; 2026-11-01 is a Sunday.
    assert FIRST_DAY.weekday() == 5
    assert buckets[0]["interval_start"] == "2025-11-01T00:00:00Z"
    assert buckets[0]["interval_end"] == "2025-11-03T00:00:00Z"
    assert buckets[-1]["interval_start"] == "2026-10-26T00:00:00Z"
    assert buckets[-1]["interval_end"] == "2026-11-01T00:00:00Z"
    mondays = [ts(b["interval_start"]).astimezone(UK) for b in buckets[1:]]
    assert len(mondays) == 52
    assert all(d.weekday() == 0 and d.time() == time(0) for d in mondays)
    assert [d.date() for d in mondays] == [date(2025, 11, 3) + timedelta(weeks=i) for i in range(52)]
    _assert_sums(year, buckets)


def test_month_buckets_start_on_the_local_first(demo_sim: SimServer, year: Year) -> None:
    buckets = _buckets(demo_sim, "month")
    assert [b["interval_start"] for b in buckets] == [
        "2025-11-01T00:00:00Z",
        "2025-12-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "2026-02-01T00:00:00Z",
        "2026-03-01T00:00:00Z",
        "2026-04-01T00:00:00+01:00",
        "2026-05-01T00:00:00+01:00",
        "2026-06-01T00:00:00+01:00",
        "2026-07-01T00:00:00+01:00",
        "2026-08-01T00:00:00+01:00",
        "2026-09-01T00:00:00+01:00",
        "2026-10-01T00:00:00+01:00",
    ]
    assert buckets[-1]["interval_end"] == "2026-11-01T00:00:00Z"
    _assert_sums(year, buckets)


def test_quarter_buckets_start_on_calendar_quarters(demo_sim: SimServer, year: Year) -> None:
    buckets = _buckets(demo_sim, "quarter")
    assert [(b["interval_start"], b["interval_end"]) for b in buckets] == [
        ("2025-11-01T00:00:00Z", "2026-01-01T00:00:00Z"),  # clipped to period_from
        ("2026-01-01T00:00:00Z", "2026-04-01T00:00:00+01:00"),
        ("2026-04-01T00:00:00+01:00", "2026-07-01T00:00:00+01:00"),
        ("2026-07-01T00:00:00+01:00", "2026-10-01T00:00:00+01:00"),
        ("2026-10-01T00:00:00+01:00", "2026-11-01T00:00:00Z"),  # clipped to period_to
    ]
    _assert_sums(year, buckets)


def test_buckets_are_clipped_to_the_requested_range(demo_sim: SimServer, year: Year) -> None:
    period = {"period_from": "2026-02-15T00:00:00Z", "period_to": "2026-04-10T00:00:00+01:00"}
    months = _buckets(demo_sim, "month", **period)
    assert [(b["interval_start"], b["interval_end"]) for b in months] == [
        ("2026-02-15T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00+01:00"),
        ("2026-04-01T00:00:00+01:00", "2026-04-10T00:00:00+01:00"),
    ]
    _assert_sums(year, months)
    # A period_from inside a day: the first day bucket starts there.
    mid_day = _buckets(demo_sim, "day", period_from="2026-03-28T12:00:00Z", period_to="2026-03-31T00:00:00+01:00")
    assert [(b["interval_start"], b["interval_end"]) for b in mid_day] == [
        ("2026-03-28T12:00:00Z", "2026-03-29T00:00:00Z"),
        ("2026-03-29T00:00:00Z", "2026-03-30T00:00:00+01:00"),
        ("2026-03-30T00:00:00+01:00", "2026-03-31T00:00:00+01:00"),
    ]
    _assert_sums(year, mid_day)
    weeks = _buckets(demo_sim, "week", period_from="2026-03-25T00:00:00Z", period_to="2026-04-06T00:00:00+01:00")
    assert [(b["interval_start"], b["interval_end"]) for b in weeks] == [
        ("2026-03-25T00:00:00Z", "2026-03-30T00:00:00+01:00"),  # a Wednesday, to the Monday after the change
        ("2026-03-30T00:00:00+01:00", "2026-04-06T00:00:00+01:00"),
    ]
    _assert_sums(year, weeks)


def test_grouped_default_order_is_newest_first(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        body = client.get(CONSUMPTION, params={**YEAR, "group_by": "month"}).json()
    assert body["count"] == 12
    assert [b["interval_start"] for b in body["results"]][:2] == [
        "2026-10-01T00:00:00+01:00",
        "2026-09-01T00:00:00+01:00",
    ]


def test_unencoded_plus_offset_is_a_400(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        raw = client.get(f"{CONSUMPTION}?order_by=period&period_from=2026-07-01T00:00:00+01:00")  # '+' -> ' '
        encoded = client.get(f"{CONSUMPTION}?order_by=period&period_from=2026-07-01T00:00:00%2B01:00")
    assert (raw.status_code, raw.json()) == (400, INVALID_DATETIME)
    assert encoded.status_code == 200
    assert encoded.json()["results"][0]["interval_start"] == "2026-07-01T00:00:00+01:00"


def test_a_local_time_that_does_not_exist_is_a_400(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        gap = client.get(CONSUMPTION, params={"period_from": "2026-03-29T01:30"})  # clocks go 01:00 -> 02:00
        before = client.get(CONSUMPTION, params={"period_from": "2026-03-29T00:30", "order_by": "period"})
        after = client.get(CONSUMPTION, params={"period_from": "2026-03-29T02:00", "order_by": "period"})
    # A 400 keyed by the field (the README gives no exact message for this case).
    assert gap.status_code == 400
    body = gap.json()
    assert list(body) == ["period_from"]
    assert isinstance(body["period_from"], list)
    assert all(isinstance(m, str) for m in body["period_from"])
    assert before.status_code == after.status_code == 200
    assert before.json()["results"][0]["interval_start"] == "2026-03-29T00:30:00Z"
    assert after.json()["results"][0]["interval_start"] == "2026-03-29T02:00:00+01:00"


@pytest.mark.parametrize(
    ("naive", "offset", "first"),
    [
        ("2026-07-01T00:00:00", "2026-06-30T23:00:00Z", "2026-07-01T00:00:00+01:00"),  # BST
        ("2026-07-01T00:00", "2026-06-30T23:00:00Z", "2026-07-01T00:00:00+01:00"),
        ("2026-01-15T00:00:00", "2026-01-15T00:00:00Z", "2026-01-15T00:00:00Z"),  # GMT
        ("2026-10-25T03:00:00", "2026-10-25T03:00:00Z", "2026-10-25T03:00:00Z"),  # after the autumn change
    ],
)
def test_a_datetime_without_offset_is_uk_local_time(demo_sim: SimServer, naive: str, offset: str, first: str) -> None:
    to_naive = (datetime.fromisoformat(naive) + timedelta(hours=3)).isoformat()
    to_offset = (ts(offset) + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    local = fetch(demo_sim, period_from=naive, period_to=to_naive)
    explicit = fetch(demo_sim, period_from=offset, period_to=to_offset)
    assert local["count"] == 6
    assert local["results"] == explicit["results"]
    assert local["results"][0]["interval_start"] == first
