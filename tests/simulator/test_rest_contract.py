"""Contract tests: the simulator's REST answers have the shape of the documented example responses.

One case per REST fixture in ``tests/fixtures`` (every file not starting with ``graphql-``). Each case makes the
simulator answer the request the fixture documents (with the demo scenario's identifiers), then checks

* the status code (and ``WWW-Authenticate`` on 401),
* the shape: same keys, nesting and JSON types as the fixture, via :func:`assert_same_shape`,
* timestamp formats: consumption, account and product timestamps are UK local (``Z`` in GMT, ``+01:00`` in
  BST), rates are always UTC ``Z``, ``tariffs_active_at`` is UTC with microseconds,
* and a few exact values that the README documents (messages, counts, ordering, links).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, FIXTURES, SimServer, load_fixture

UK = ZoneInfo("Europe/London")
FIXTURE_HOST = "https://api.octopus.energy"
REGIONS = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P")
REGION_KEY = re.compile(r"_[A-HJ-NP]")

IMPORT_MPAN = "1900000000101"
EXPORT_MPAN = "1900000000125"
ELEC_SERIAL = "21L0000101"
MPRN = "3000000101"
GAS_SERIAL = "G4S0000101"
IMPORT_CONSUMPTION = f"/v1/electricity-meter-points/{IMPORT_MPAN}/meters/{ELEC_SERIAL}/consumption/"
EXPORT_CONSUMPTION = f"/v1/electricity-meter-points/{EXPORT_MPAN}/meters/{ELEC_SERIAL}/consumption/"
GAS_CONSUMPTION = f"/v1/gas-meter-points/{MPRN}/meters/{GAS_SERIAL}/consumption/"
AGILE = "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-J"
FLEX_1R = "/v1/products/VAR-22-11-01/electricity-tariffs/E-1R-VAR-22-11-01-J"
FLEX_2R = "/v1/products/VAR-22-11-01/electricity-tariffs/E-2R-VAR-22-11-01-J"
FLEX_GAS = "/v1/products/VAR-22-11-01/gas-tariffs/G-1R-VAR-22-11-01-J"
DEMO_PRODUCTS = {
    "VAR-22-11-01",
    "AGILE-24-10-01",
    "INTELLI-VAR-24-10-29",
    "GO-VAR-22-10-14",
    "SILVER-24-12-31",
    "COSY-22-12-08",
    "OE-FIX-12M-25-09-01",
    "OUTGOING-VAR-24-10-26",
    "AGILE-OUTGOING-19-05-13",
}

# The query of the fixtures' consumption pages (page_size=3 over 9 half-hours in January), as they encode it.
PAGED_QUERY = "page_size=3&period_from=2025-01-12T21%3A00%3A00Z&period_to=2025-01-13T01%3A30%3A00Z"
FIXTURE_CONSUMPTION = "/v1/electricity-meter-points/1900000000001/meters/99L0000001/consumption/"


# --- timestamps --------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T(?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?(?P<tz>Z|[+-]\d{2}:\d{2}|[+-]\d{4})?)?"
)
LOCAL_GMT = "YYYY-MM-DDTHH:MM:SSZ"
LOCAL_BST = "YYYY-MM-DDTHH:MM:SS+01:00"


def classify_timestamp(value: object) -> str | None:
    """The format of a timestamp string, or None if it is not one.

    ``"2025-01-13T01:00:00Z"`` -> ``"YYYY-MM-DDTHH:MM:SSZ"``; ``"2025-07-01T00:00:00+01:00"`` ->
    ``"YYYY-MM-DDTHH:MM:SS+01:00"``; ``"2025-01-13T09:15:42.123456Z"`` -> ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"``;
    ``"2024-05-07T00:30:00+0100"`` -> ``"YYYY-MM-DDTHH:MM:SS+0100"``; ``"2025-01-13"`` -> ``"YYYY-MM-DD"``;
    a datetime with no offset -> ``"YYYY-MM-DDTHH:MM:SS"``.
    """
    if not isinstance(value, str):
        return None
    m = _TIMESTAMP.fullmatch(value)
    if m is None:
        return None
    if m["time"] is None:
        return "YYYY-MM-DD"
    frac = "." + "f" * (len(m["frac"]) - 1) if m["frac"] else ""
    return f"YYYY-MM-DDTHH:MM:SS{frac}{m['tz'] or ''}"


def assert_uk_local(value: object, path: str = "$") -> None:
    """A consumption-style timestamp: UK local time, ``Z`` when GMT is in force and ``+01:00`` in BST."""
    kind = classify_timestamp(value)
    assert kind in (LOCAL_GMT, LOCAL_BST), f"{path}: {value!r} is not a UK local timestamp (format {kind})"
    assert isinstance(value, str)
    instant = datetime.fromisoformat(value)
    uk_offset = instant.astimezone(UK).utcoffset()
    expected = LOCAL_GMT if uk_offset == timedelta(0) else LOCAL_BST
    assert kind == expected, f"{path}: {value!r} should be written {expected} (UK offset then is {uk_offset})"


def assert_utc_z(value: object, path: str = "$") -> None:
    assert classify_timestamp(value) == LOCAL_GMT, f"{path}: {value!r} is not UTC with Z"


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- shapes ------------------------------------------------------------------------------------------


def _is_region_map(value: dict[str, Any]) -> bool:
    return bool(value) and all(REGION_KEY.fullmatch(k) for k in value)


def _number_kinds(value: Any, wild: str, out: dict[str, set[str]]) -> dict[str, set[str]]:
    """For each wildcard path of the fixture (list items as ``[]``, regions as ``{_X}``): int, float or both."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return out
    if isinstance(value, int | float):
        out.setdefault(wild, set()).add(type(value).__name__)
    elif isinstance(value, list):
        for item in value:
            _number_kinds(item, f"{wild}[]", out)
    elif isinstance(value, dict):
        region = _is_region_map(value)
        for key, item in value.items():
            _number_kinds(item, f"{wild}{{_X}}" if region else f"{wild}.{key}", out)
    return out


def _has_digit(segment: str) -> bool:
    return any(c.isdigit() for c in segment)


@dataclass
class _ShapeChecker:
    number_kinds: dict[str, set[str]]
    local_times: bool
    nullable: frozenset[str]
    base_url: str | None

    def check(self, fx: Any, ac: Any, path: str, wild: str) -> None:
        if fx is None:
            return  # the fixture shows null here: the field is nullable and its type is not shown
        if ac is None:
            assert path in self.nullable, f"{path}: null, the fixture has {type(fx).__name__} {fx!r}"
            return
        if isinstance(fx, bool):
            assert isinstance(ac, bool), f"{path}: expected a boolean, got {ac!r}"
        elif isinstance(fx, int | float):
            assert isinstance(ac, int | float), f"{path}: expected a number, got {ac!r}"
            assert not isinstance(ac, bool), f"{path}: expected a number, got {ac!r}"
            kinds = self.number_kinds.get(wild, set())
            if kinds == {"int"}:
                assert isinstance(ac, int), f"{path}: expected an integer (as in the fixture), got {ac!r}"
            elif kinds == {"float"}:
                assert isinstance(ac, float), f"{path}: expected a float (as in the fixture), got {ac!r}"
        elif isinstance(fx, str):
            assert isinstance(ac, str), f"{path}: expected a string, got {ac!r}"
            self._check_string(fx, ac, path)
        elif isinstance(fx, list):
            assert isinstance(ac, list), f"{path}: expected a list, got {ac!r}"
            self._check_list(fx, ac, path, wild)
        elif isinstance(fx, dict):
            assert isinstance(ac, dict), f"{path}: expected an object, got {ac!r}"
            self._check_dict(fx, ac, path, wild)
        else:  # pragma: no cover - JSON has no other types
            raise AssertionError(f"{path}: unexpected fixture value {fx!r}")

    def _check_string(self, fx: str, ac: str, path: str) -> None:
        kind = classify_timestamp(fx)
        if kind is not None:
            if self.local_times and kind in (LOCAL_GMT, LOCAL_BST):
                assert_uk_local(ac, path)
            else:
                assert classify_timestamp(ac) == kind, f"{path}: {ac!r} is not formatted {kind} like {fx!r}"
        elif fx.startswith(("http://", "https://")):
            self._check_url(fx, ac, path)

    def _check_url(self, fx: str, ac: str, path: str) -> None:
        want, got = urlsplit(fx), urlsplit(ac)
        assert got.scheme in ("http", "https"), f"{path}: {ac!r} is not an absolute URL"
        assert got.netloc, f"{path}: {ac!r} is not an absolute URL"
        if self.base_url is not None:
            assert ac.startswith(self.base_url + "/"), f"{path}: {ac!r} is not on the request's host {self.base_url}"
        want_segments, got_segments = want.path.split("/"), got.path.split("/")
        same_shape = len(want_segments) == len(got_segments) and all(
            w == g or (_has_digit(w) and _has_digit(g)) for w, g in zip(want_segments, got_segments, strict=True)
        )
        assert same_shape, f"{path}: path {got.path!r} does not have the shape of {want.path!r}"
        want_keys = [k for k, _ in parse_qsl(want.query, keep_blank_values=True)]
        got_keys = [k for k, _ in parse_qsl(got.query, keep_blank_values=True)]
        assert got_keys == want_keys, f"{path}: query parameters {got_keys} differ from the fixture's {want_keys}"

    def _check_list(self, fx: list[Any], ac: list[Any], path: str, wild: str) -> None:
        if not fx:
            assert ac == [], f"{path}: the fixture's list is empty, got {len(ac)} items"
            return
        assert ac, f"{path}: empty list, the fixture has {len(fx)} items to compare with"
        for i, item in enumerate(ac):
            errors = []
            for candidate in fx:
                try:
                    self.check(candidate, item, f"{path}[{i}]", f"{wild}[]")
                    break
                except AssertionError as err:
                    errors.append(str(err))
            else:
                raise AssertionError(f"{path}[{i}] matches no item of the fixture's list:\n  " + "\n  ".join(errors))

    def _check_dict(self, fx: dict[str, Any], ac: dict[str, Any], path: str, wild: str) -> None:
        if _is_region_map(fx):
            # Maps keyed by GSP region: the fixture may show only some regions.
            assert all(REGION_KEY.fullmatch(k) for k in ac), f"{path}: keys {sorted(ac)} are not all region keys"
            missing = sorted(set(fx) - set(ac))
            assert not missing, f"{path}: regions {missing} missing"
            template = next(iter(fx.values()))
            for key, value in ac.items():
                self.check(fx.get(key, template), value, f"{path}.{key}", f"{wild}{{_X}}")
            return
        missing, extra = sorted(set(fx) - set(ac)), sorted(set(ac) - set(fx))
        assert (missing, extra) == ([], []), f"{path}: keys differ from the fixture: missing {missing}, extra {extra}"
        for key, value in fx.items():
            self.check(value, ac[key], f"{path}.{key}", f"{wild}.{key}")


def assert_same_shape(
    fixture: Any,
    actual: Any,
    path: str = "$",
    *,
    local_times: bool = False,
    nullable: frozenset[str] = frozenset(),
    base_url: str | None = None,
) -> None:
    """Assert that ``actual`` has the shape of ``fixture``, recursively.

    Same keys and nesting; same JSON types (numbers are numbers, and int vs float must agree wherever the fixture
    is consistent about that field); a null in the fixture means "nullable" (any value is accepted); each item of
    an actual list must match one of the fixture's items; maps keyed by region (``_A`` ...) may hold more regions
    than the fixture shows. Timestamp strings must have the fixture's format; with ``local_times`` a ``Z`` or
    ``+01:00`` timestamp is UK local time and must carry the offset in force at that instant. URLs must be
    absolute (on ``base_url`` if given), with the fixture's path shape and the same query parameters in the same
    order. ``nullable`` names paths (like ``$.next``) that may be null although the fixture has a value.
    """
    checker = _ShapeChecker(_number_kinds(fixture, "$", {}), local_times, nullable, base_url)
    checker.check(fixture, actual, path, "$")


# --- the cases ---------------------------------------------------------------------------------------

Check = Callable[[Any, Any, SimServer, httpx.Client], None]


@dataclass(frozen=True)
class Case:
    path: str
    query: str = ""  # raw, already encoded
    auth: tuple[str, str] | None = (DEMO_KEY, "")
    status: int = 200
    local_times: bool = False
    nullable: frozenset[str] = frozenset()
    equal: bool = False  # the body must equal the fixture (documented messages and facts, not invented values)
    more: Check | None = None  # further checks, with an authenticated client

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def _relink(link: str | None, fixture_path: str, sim: SimServer, path: str) -> str | None:
    """A fixture's pagination link as the simulator should write it for our request."""
    return None if link is None else link.replace(FIXTURE_HOST + fixture_path, sim.url + path)


def _series(body: Any, key: str) -> list[Any]:
    return [row[key] for row in body["results"]]


def _check_half_hours(body: Any) -> None:
    for row in body["results"]:
        start, end = parse_ts(row["interval_start"]), parse_ts(row["interval_end"])
        assert end - start == timedelta(minutes=30), row
        assert round(row["consumption"], 3) == row["consumption"], f"more than 3 decimals: {row}"
        assert row["consumption"] >= 0, row


def _check_consumption_page(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["count"] == 9
    # Same dates as the fixture: the same half-hours, newest first, written with Z in January.
    assert _series(body, "interval_start") == _series(fixture, "interval_start")
    assert _series(body, "interval_end") == _series(fixture, "interval_end")
    # The same links, on our host and meter: page 2's previous has no page parameter, page 3's next is null.
    assert body["next"] == _relink(fixture["next"], FIXTURE_CONSUMPTION, sim, IMPORT_CONSUMPTION)
    assert body["previous"] == _relink(fixture["previous"], FIXTURE_CONSUMPTION, sim, IMPORT_CONSUMPTION)
    _check_half_hours(body)


def _check_bst_ascending(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["count"] == 4
    assert _series(body, "interval_start") == _series(fixture, "interval_start")
    assert _series(body, "interval_end") == _series(fixture, "interval_end")
    _check_half_hours(body)


def _check_gas(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    # Gas from -730d (2024-11-21) to the end of yesterday (2026-11-20): 730 local days; the two spring
    # days lose 2 half-hours and the two autumn days gain 2.
    assert body["count"] == 730 * 48
    assert body["next"] == f"{sim.url}{GAS_CONSUMPTION}?page=2&page_size=6"
    assert body["previous"] is None
    assert _series(body, "interval_start")[0] == "2026-11-20T23:30:00Z"  # newest first, up to yesterday
    _check_half_hours(body)
    # SMETS2 gas comes in m³: a winter day of a gas-heated home is a few m³ (it would be 30+ in kWh).
    week = client.get(
        GAS_CONSUMPTION,
        params={"period_from": "2026-01-10T00:00:00Z", "period_to": "2026-01-17T00:00:00Z", "group_by": "day"},
    ).json()
    assert week["count"] == 7
    assert all(0.5 < row["consumption"] < 15 for row in week["results"]), week


def _check_grouped_day(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["count"] == 3
    # Local-midnight buckets across the spring clock change, exactly as the fixture writes them.
    assert _series(body, "interval_start") == _series(fixture, "interval_start")
    assert _series(body, "interval_end") == _series(fixture, "interval_end")
    halves = client.get(
        IMPORT_CONSUMPTION,
        params={"period_from": "2025-03-29T00:00:00Z", "period_to": "2025-04-01T00:00:00+01:00", "page_size": "500"},
    ).json()
    assert halves["count"] == 48 + 46 + 48
    for bucket in body["results"]:
        lo, hi = parse_ts(bucket["interval_start"]), parse_ts(bucket["interval_end"])
        inside = [r for r in halves["results"] if lo <= parse_ts(r["interval_start"]) < hi]
        assert round(bucket["consumption"] * 1000) == sum(round(r["consumption"] * 1000) for r in inside), bucket


def _check_empty_elsewhere(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    # No data yet (the future) is the same empty page.
    future = client.get(IMPORT_CONSUMPTION, params={"period_from": "2026-12-01T00:00:00Z"})
    assert future.status_code == 200
    assert future.json() == fixture


def _check_account(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["number"] == DEMO_ACCOUNT
    [prop] = body["properties"]
    assert prop["moved_in_at"] == "2024-11-21T00:00:00Z"  # -730d, local midnight in GMT
    assert prop["moved_out_at"] is None
    assert isinstance(prop["id"], int)
    points = {p["mpan"]: p for p in prop["electricity_meter_points"]}
    assert set(points) == {IMPORT_MPAN, EXPORT_MPAN}
    imp, exp = points[IMPORT_MPAN], points[EXPORT_MPAN]
    assert (imp["is_export"], imp["profile_class"]) == (False, 1)
    assert (exp["is_export"], exp["profile_class"]) == (True, 8)
    assert "consumption_standard" in imp
    assert "consumption_day" not in imp
    for point in (imp, exp):
        [meter] = point["meters"]
        assert meter["serial_number"] == ELEC_SERIAL
        assert meter["registers"], "a smart meter with data lists its registers"
    assert [a["tariff_code"] for a in imp["agreements"]] == ["E-1R-VAR-22-11-01-J", "E-1R-INTELLI-VAR-24-10-29-J"]
    assert imp["agreements"][0]["valid_to"] == imp["agreements"][1]["valid_from"] == "2025-11-21T00:00:00Z"
    assert imp["agreements"][1]["valid_to"] is None
    # -400d is 2025-10-17, in BST: local midnight is written with +01:00.
    assert exp["agreements"] == [
        {"tariff_code": "E-1R-OUTGOING-VAR-24-10-26-J", "valid_from": "2025-10-17T00:00:00+01:00", "valid_to": None}
    ]
    [gas] = prop["gas_meter_points"]
    assert gas["mprn"] == MPRN
    assert gas["meters"] == [{"serial_number": GAS_SERIAL}]  # gas meters have no registers
    assert gas["agreements"][0]["tariff_code"] == "G-1R-VAR-22-11-01-J"


def _check_meter_point(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body == {"gsp": "_J", "mpan": IMPORT_MPAN, "profile_class": 1}
    export = httpx.get(f"{sim.url}/v1/electricity-meter-points/{EXPORT_MPAN}/", timeout=30)
    assert export.status_code == 200
    assert export.json() == {"gsp": "_J", "mpan": EXPORT_MPAN, "profile_class": 8}


def _check_vat(body: Any) -> None:
    for row in body["results"]:
        assert row["value_inc_vat"] == pytest.approx(row["value_exc_vat"] * 1.05, abs=1e-6), row


def _check_rates_window(body: Any) -> None:
    starts = [parse_ts(v) for v in _series(body, "valid_from")]
    assert starts == sorted(starts, reverse=True), "rates come newest first"
    for row in body["results"]:
        assert_utc_z(row["valid_from"])
        if row["valid_to"] is not None:
            assert_utc_z(row["valid_to"])
            assert parse_ts(row["valid_to"]) > parse_ts(row["valid_from"])


def _agile_rates(expected_starts: list[str], count: int) -> Check:
    def check(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
        assert body["count"] == count
        assert _series(body, "valid_from") == expected_starts
        for row in body["results"]:
            assert parse_ts(row["valid_to"]) - parse_ts(row["valid_from"]) == timedelta(minutes=30)
            assert row["payment_method"] is None
        _check_rates_window(body)
        _check_vat(body)

    return check


def _check_agile_page(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    _agile_rates(_series(fixture, "valid_from"), 48)(body, fixture, sim, client)
    assert body["next"] == fixture["next"].replace(FIXTURE_HOST, sim.url)
    # Before the 16:00 publication, today's prices end at 23:00 UK; later periods are an empty page.
    latest = client.get(f"{AGILE}/standard-unit-rates/", params={"page_size": "1"}).json()
    assert latest["results"][0]["valid_to"] == "2026-11-21T23:00:00Z"
    future = client.get(f"{AGILE}/standard-unit-rates/", params={"period_from": "2026-11-22T00:00:00Z"})
    assert (future.status_code, future.json()) == (200, {"count": 0, "next": None, "previous": None, "results": []})


def _check_agile_standing(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["count"] == 1
    [row] = body["results"]
    assert row["valid_to"] is None
    assert row["payment_method"] is None
    assert row["valid_from"] == "2023-08-08T23:00:00Z"  # the product's launch, -1200d at local midnight (BST)
    _check_vat(body)


def _flat_rates(quarter_starts: list[str]) -> Check:
    """A flat tariff: a DIRECT_DEBIT and a NON_DIRECT_DEBIT row per price period, the newest open-ended."""

    def check(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
        assert body["count"] == 2 * len(quarter_starts)
        assert body["next"] is None
        rows = body["results"]
        assert [r["valid_from"] for r in rows] == [q for q in quarter_starts for _ in range(2)]
        for i in range(0, len(rows), 2):
            assert {rows[i]["payment_method"], rows[i + 1]["payment_method"]} == {"DIRECT_DEBIT", "NON_DIRECT_DEBIT"}
        assert rows[0]["valid_to"] is None
        assert rows[1]["valid_to"] is None
        for newer, older in zip(rows[::2], rows[2::2], strict=False):
            assert older["valid_to"] == newer["valid_from"]
        _check_rates_window(body)
        _check_vat(body)

    return check


QUARTERS = ["2026-09-30T23:00:00Z", "2026-06-30T23:00:00Z", "2026-03-31T23:00:00Z"]


def _check_day_rates(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    _flat_rates(QUARTERS[:2])(body, fixture, sim, client)
    # An Economy 7 (E-2R) tariff has no standard unit rates: 400.
    assert client.get(f"{FLEX_2R}/standard-unit-rates/").status_code == 400


def _check_gsp_all(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert [r["group_id"] for r in body["results"]] == [f"_{r}" for r in REGIONS]
    unknown = client.get("/v1/industry/grid-supply-points/", params={"postcode": "ZZ99 9ZZ"})
    assert (unknown.status_code, unknown.json()) == (200, {"count": 0, "next": None, "previous": None, "results": []})


def _check_products(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    codes = [p["code"] for p in body["results"]]
    assert body["count"] == len(codes) == len(DEMO_PRODUCTS)
    assert set(codes) == DEMO_PRODUCTS
    assert body["next"] is None
    assert body["previous"] is None
    for product in body["results"]:
        assert product["links"] == [
            {"href": f"{sim.url}/v1/products/{product['code']}/", "method": "GET", "rel": "self"}
        ]
        assert product["brand"] == "OCTOPUS_ENERGY"
        assert product["available_to"] is None  # all on sale
        assert product["direction"] == ("EXPORT" if "OUTGOING" in product["code"] else "IMPORT")


def _tariff_links(tariff: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in tariff["links"]}


def _check_agile_detail(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["code"] == "AGILE-24-10-01"
    assert body["tariffs_active_at"] == "2026-11-21T09:00:00.000000Z"  # the simulator's frozen now
    singles = body["single_register_electricity_tariffs"]
    assert sorted(singles) == [f"_{r}" for r in REGIONS]
    assert body["dual_register_electricity_tariffs"] == {}
    assert body["single_register_gas_tariffs"] == {}
    for region, by_payment in singles.items():
        assert list(by_payment) == ["direct_debit_monthly"]
        tariff = by_payment["direct_debit_monthly"]
        code = f"E-1R-AGILE-24-10-01-{region[1:]}"
        assert tariff["code"] == code
        base = f"{sim.url}/v1/products/AGILE-24-10-01/electricity-tariffs/{code}/"
        assert _tariff_links(tariff) == {
            "standing_charges": f"{base}standing-charges/",
            "standard_unit_rates": f"{base}standard-unit-rates/",
        }
    assert body["links"] == [{"href": f"{sim.url}/v1/products/AGILE-24-10-01/", "method": "GET", "rel": "self"}]


def _check_flexible_detail(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    assert body["code"] == "VAR-22-11-01"
    for name, prefix, rels in (
        ("single_register_electricity_tariffs", "E-1R", {"standing_charges", "standard_unit_rates"}),
        ("dual_register_electricity_tariffs", "E-2R", {"standing_charges", "day_unit_rates", "night_unit_rates"}),
        ("single_register_gas_tariffs", "G-1R", {"standing_charges", "standard_unit_rates"}),
    ):
        tariffs = body[name]
        assert sorted(tariffs) == [f"_{r}" for r in REGIONS], name
        for region, by_payment in tariffs.items():
            assert list(by_payment) == ["varying"], (name, region)
            tariff = by_payment["varying"]
            assert tariff["code"] == f"{prefix}-VAR-22-11-01-{region[1:]}"
            assert set(_tariff_links(tariff)) == rels
    assert set(body["sample_quotes"]["_J"]["varying"]) == {
        "electricity_single_rate",
        "electricity_dual_rate",
        "dual_fuel_single_rate",
        "dual_fuel_dual_rate",
    }


def _check_no_credentials(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    # Every endpoint that needs a key answers the same way; Bearer and Token headers count as no credentials.
    with sim.client() as anonymous:
        for path in (IMPORT_CONSUMPTION, GAS_CONSUMPTION, f"/v1/accounts/{DEMO_ACCOUNT}/"):
            for headers in (
                {},
                {"Authorization": f"Bearer {DEMO_KEY}"},
                {"Authorization": f"Token {DEMO_KEY}"},
                {"Authorization": f"JWT {DEMO_KEY}"},
            ):
                response = anonymous.get(path, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.json() == fixture, (path, headers)
                assert response.headers.get("WWW-Authenticate") == 'Basic realm="api"', (path, headers)


def _check_invalid_key(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    with sim.client(auth=("sk_live_not_a_real_key", "")) as wrong:
        for path in (IMPORT_CONSUMPTION, GAS_CONSUMPTION):
            response = wrong.get(path)
            assert (response.status_code, response.json()) == (401, fixture), path


def _check_not_found(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    # A malformed account number (not A- and 8 hex digits) is a 404 with an HTML body.
    response = client.get("/v1/accounts/A-0000TEST/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def _check_permission(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
    response = client.get("/v1/accounts/")  # the account list is not allowed either
    assert (response.status_code, response.json()) == (403, fixture)


def _same_400_elsewhere(params: str) -> Check:
    """The same bad query on the rates endpoint and on gas consumption gives the same 400."""

    def check(body: Any, fixture: Any, sim: SimServer, client: httpx.Client) -> None:
        for path in (f"{AGILE}/standard-unit-rates/", GAS_CONSUMPTION):
            response = client.get(f"{path}?{params}")
            assert (response.status_code, response.json()) == (400, fixture), path

    return check


CASES: dict[str, Case] = {
    "account.json": Case(f"/v1/accounts/{DEMO_ACCOUNT}/", local_times=True, more=_check_account),
    "consumption-electricity-page1.json": Case(
        IMPORT_CONSUMPTION, PAGED_QUERY, local_times=True, more=_check_consumption_page
    ),
    "consumption-electricity-page2.json": Case(
        IMPORT_CONSUMPTION, f"page=2&{PAGED_QUERY}", local_times=True, more=_check_consumption_page
    ),
    "consumption-electricity-page3.json": Case(
        IMPORT_CONSUMPTION, f"page=3&{PAGED_QUERY}", local_times=True, more=_check_consumption_page
    ),
    "consumption-electricity-bst-ascending.json": Case(
        IMPORT_CONSUMPTION,
        "order_by=period&period_from=2025-07-01T00%3A00%3A00%2B01%3A00&period_to=2025-07-01T02%3A00%3A00%2B01%3A00",
        local_times=True,
        more=_check_bst_ascending,
    ),
    "consumption-gas-smets2-m3.json": Case(GAS_CONSUMPTION, "page_size=6", local_times=True, more=_check_gas),
    "consumption-grouped-day.json": Case(
        IMPORT_CONSUMPTION,
        "group_by=day&period_from=2025-03-29T00%3A00%3A00Z&period_to=2025-04-01T00%3A00%3A00%2B01%3A00",
        local_times=True,
        more=_check_grouped_day,
    ),
    # The export meter was installed at -400d (2025-10-17): nothing before that.
    "consumption-empty.json": Case(
        EXPORT_CONSUMPTION,
        "period_from=2025-01-01T00%3A00%3A00Z&period_to=2025-01-02T00%3A00%3A00Z",
        equal=True,
        more=_check_empty_elsewhere,
    ),
    "electricity-meter-point.json": Case(
        f"/v1/electricity-meter-points/{IMPORT_MPAN}/", auth=None, more=_check_meter_point
    ),
    "grid-supply-points-postcode.json": Case(
        "/v1/industry/grid-supply-points/", "postcode=BN1%201AA", auth=None, equal=True
    ),
    "grid-supply-points-all.json": Case("/v1/industry/grid-supply-points/", auth=None, equal=True, more=_check_gsp_all),
    "products-list-page1.json": Case(
        "/v1/products/",
        "brand=OCTOPUS_ENERGY",
        auth=None,
        local_times=True,
        nullable=frozenset({"$.next"}),
        more=_check_products,
    ),
    "product-detail-agile.json": Case(
        "/v1/products/AGILE-24-10-01/", auth=None, local_times=True, more=_check_agile_detail
    ),
    "product-detail-flexible.json": Case(
        "/v1/products/VAR-22-11-01/", auth=None, local_times=True, more=_check_flexible_detail
    ),
    "agile-standard-unit-rates.json": Case(
        f"{AGILE}/standard-unit-rates/",
        "page_size=4&period_from=2025-01-12T23%3A00%3A00Z&period_to=2025-01-13T23%3A00%3A00Z",
        auth=None,
        more=_check_agile_page,
    ),
    "agile-standard-unit-rates-bst.json": Case(
        f"{AGILE}/standard-unit-rates/",
        "period_from=2025-07-01T21%3A00%3A00Z&period_to=2025-07-01T22%3A00%3A00Z",
        auth=None,
        more=_agile_rates(["2025-07-01T21:30:00Z", "2025-07-01T21:00:00Z"], 2),
    ),
    "agile-standing-charges.json": Case(f"{AGILE}/standing-charges/", auth=None, more=_check_agile_standing),
    "flexible-standard-unit-rates.json": Case(
        f"{FLEX_1R}/standard-unit-rates/", "period_from=2026-06-01T00%3A00%3A00Z", auth=None, more=_flat_rates(QUARTERS)
    ),
    "standing-charges.json": Case(
        f"{FLEX_1R}/standing-charges/",
        "period_from=2026-09-01T00%3A00%3A00Z",
        auth=None,
        more=_flat_rates(QUARTERS[:2]),
    ),
    "day-unit-rates.json": Case(
        f"{FLEX_2R}/day-unit-rates/", "period_from=2026-09-01T00%3A00%3A00Z", auth=None, more=_check_day_rates
    ),
    "night-unit-rates.json": Case(
        f"{FLEX_2R}/night-unit-rates/",
        "period_from=2026-09-01T00%3A00%3A00Z",
        auth=None,
        more=_flat_rates(QUARTERS[:2]),
    ),
    "gas-standard-unit-rates.json": Case(
        f"{FLEX_GAS}/standard-unit-rates/",
        "period_from=2026-11-01T00%3A00%3A00Z",
        auth=None,
        more=_flat_rates(QUARTERS[:1]),
    ),
    "gas-standing-charges.json": Case(
        f"{FLEX_GAS}/standing-charges/",
        "period_from=2026-11-01T00%3A00%3A00Z",
        auth=None,
        more=_flat_rates(QUARTERS[:1]),
    ),
    "error-401-no-credentials.json": Case(
        f"/v1/accounts/{DEMO_ACCOUNT}/", auth=None, status=401, equal=True, more=_check_no_credentials
    ),
    "error-401-invalid-api-key.json": Case(
        f"/v1/accounts/{DEMO_ACCOUNT}/", auth=("sk_live_wrong_key", ""), status=401, equal=True, more=_check_invalid_key
    ),
    "error-403-permission-denied.json": Case(
        "/v1/accounts/A-0000FEED/", status=403, equal=True, more=_check_permission
    ),
    "error-404-not-found.json": Case(
        "/v1/electricity-meter-points/1900000000999/", auth=None, status=404, equal=True, more=_check_not_found
    ),
    "error-400-period-to-without-period-from.json": Case(
        IMPORT_CONSUMPTION,
        "period_to=2025-01-13T00%3A00%3A00Z",
        status=400,
        equal=True,
        more=_same_400_elsewhere("period_to=2025-01-13T00%3A00%3A00Z"),
    ),
    "error-400-period-from-after-period-to.json": Case(
        IMPORT_CONSUMPTION,
        "period_from=2025-01-14T00%3A00%3A00Z&period_to=2025-01-13T00%3A00%3A00Z",
        status=400,
        equal=True,
        more=_same_400_elsewhere("period_from=2025-01-14T00%3A00%3A00Z&period_to=2025-01-13T00%3A00%3A00Z"),
    ),
    "error-400-invalid-datetime.json": Case(
        IMPORT_CONSUMPTION,
        "period_from=yesterday",
        status=400,
        equal=True,
        more=_same_400_elsewhere("period_from=2025-13-45T00%3A00%3A00Z"),
    ),
}


def rest_fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json") if not p.name.startswith("graphql-"))


def test_every_rest_fixture_has_a_contract_case() -> None:
    names = rest_fixture_names()
    assert len(names) >= 30, f"expected the REST fixtures in {FIXTURES}, found {names}"
    assert sorted(CASES) == names, (
        f"fixtures without a case: {sorted(set(names) - set(CASES))}; cases without a fixture: "
        f"{sorted(set(CASES) - set(names))}"
    )


@pytest.mark.parametrize("name", rest_fixture_names())
def test_rest_contract(demo_sim: SimServer, name: str) -> None:
    case = CASES[name]
    fixture = load_fixture(name)
    auth = httpx.BasicAuth(*case.auth) if case.auth else None
    with demo_sim.client() as client:
        response = client.get(case.url, auth=auth)
        assert response.status_code == case.status, response.text[:500]
        assert response.headers["content-type"].startswith("application/json")
        if case.status == 401:
            assert response.headers.get("WWW-Authenticate") == 'Basic realm="api"'
        body = response.json()
        assert_same_shape(fixture, body, local_times=case.local_times, nullable=case.nullable, base_url=demo_sim.url)
        if case.equal:
            assert body == fixture
        if case.more is not None:
            with demo_sim.client(auth=(DEMO_KEY, "")) as authed:
                case.more(body, fixture, demo_sim, authed)


def test_basic_auth_needs_an_empty_password(demo_sim: SimServer) -> None:
    """README summary 1: "Accept only Basic with an empty password" (``curl -u "$API_KEY:"``)."""
    with demo_sim.client(auth=(DEMO_KEY, "not-empty")) as client:
        response = client.get(f"/v1/accounts/{DEMO_ACCOUNT}/")
    assert response.status_code == 401, response.text[:200]
    assert list(response.json()) == ["detail"]


# --- the helpers themselves --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("2025-01-13T01:00:00Z", "YYYY-MM-DDTHH:MM:SSZ"),
        ("2025-07-01T00:30:00+01:00", "YYYY-MM-DDTHH:MM:SS+01:00"),
        ("2025-01-13T09:15:42.123456Z", "YYYY-MM-DDTHH:MM:SS.ffffffZ"),
        ("2024-03-20T17:00:00+00:00", "YYYY-MM-DDTHH:MM:SS+00:00"),
        ("2024-05-07T00:30:00+0100", "YYYY-MM-DDTHH:MM:SS+0100"),
        ("2025-01-13", "YYYY-MM-DD"),
        ("2025-01-13T01:00:00", "YYYY-MM-DDTHH:MM:SS"),
        ("A-0000FEED", None),
        ("1900000000001", None),
        (12, None),
    ],
)
def test_classify_timestamp(value: object, kind: str | None) -> None:
    assert classify_timestamp(value) == kind


def test_uk_local_timestamps_must_carry_the_offset_in_force() -> None:
    assert_uk_local("2025-01-13T01:00:00Z")
    assert_uk_local("2025-07-01T00:30:00+01:00")
    assert_uk_local("2026-03-29T02:00:00+01:00")
    for wrong in ("2025-07-01T00:30:00Z", "2025-01-13T01:00:00+01:00", "2025-01-13T01:00:00+00:00"):
        with pytest.raises(AssertionError):
            assert_uk_local(wrong)


def test_assert_same_shape_catches_differences() -> None:
    fixture = load_fixture("consumption-electricity-page2.json")
    assert isinstance(fixture, dict)
    assert_same_shape(fixture, fixture, local_times=True)
    row = fixture["results"][0]
    bad_bodies = [
        {**fixture, "extra": 1},
        {k: v for k, v in fixture.items() if k != "previous"},
        {**fixture, "count": "9"},
        {**fixture, "count": 9.0},
        {**fixture, "next": None},
        {**fixture, "results": []},
        {**fixture, "results": [{**row, "consumption": "0.198"}]},
        {**fixture, "results": [{**row, "interval_start": "2025-01-12T23:30:00+00:00"}]},
        {**fixture, "results": [{**row, "interval_start": "2025-01-12T23:30:00+01:00"}]},
        {**fixture, "next": fixture["next"].replace("page=3&", "")},
    ]
    for bad in bad_bodies:
        with pytest.raises(AssertionError):
            assert_same_shape(fixture, bad, local_times=True)
    rates = load_fixture("agile-standard-unit-rates-bst.json")
    assert isinstance(rates, dict)
    summer_local = {**rates, "results": [{**rates["results"][0], "valid_from": "2025-07-01T22:30:00+01:00"}]}
    with pytest.raises(AssertionError):
        assert_same_shape(rates, summer_local)
