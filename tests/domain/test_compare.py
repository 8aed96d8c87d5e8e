"""Which tariffs a household is compared on, and savings worked out by hand; regions from MPANs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from octoscope.domain.compare import INTELLIGENT_NEEDS, RESTRICTED, candidates, saving, two_rate_capable
from octoscope.domain.costs import Totals
from octoscope.domain.models import Direction, Fuel, Meter, MeterPoint
from octoscope.domain.products import REGIONS, Product, ProductTariff, family_of, region_of_mpan


def product(code: str, display: str, direction: str = "IMPORT", **flags: object) -> Product:
    base = Product(
        code=code,
        direction=direction,
        full_name=display,
        display_name=display,
        is_variable=True,
        is_green=False,
        is_tracker=False,
        is_prepay=False,
        is_business=False,
        is_restricted=False,
        term=12,
        brand="OCTOPUS_ENERGY",
        available_from=None,
        available_to=None,
    )
    return replace(base, **flags)  # type: ignore[arg-type]


def tariffs(code: str, *kinds: str, regions: str = "JC") -> list[ProductTariff]:
    out = []
    for region in regions:
        for kind in kinds:  # E-1R, E-2R, G-1R
            fuel = Fuel.GAS if kind.startswith("G") else Fuel.ELECTRICITY
            out.append(ProductTariff(code, f"{kind}-{code}-{region}", region, fuel, int(kind[2])))
    return out


CATALOGUE = [
    product("VAR-22-11-01", "Flexible Octopus"),
    product("AGILE-24-10-01", "Agile Octopus"),
    product("INTELLI-VAR-24-10-29", "Intelligent Octopus Go", is_restricted=True),
    product("OE-FIX-12M-25-09-01", "Octopus 12M Fixed", is_variable=False),
    product("SILVER-24-12-31", "Octopus Tracker", is_tracker=True),
    product("OUTGOING-VAR-24-10-26", "Outgoing Octopus", direction="EXPORT"),
    product("AGILE-OUTGOING-19-05-13", "Agile Outgoing Octopus", direction="EXPORT"),
    product("BUS-VAR-25-01-01", "Business Flexible", is_business=True),
    product("PREPAY-VAR-25-01-01", "Prepay Flexible", is_prepay=True),
    product("EDF-VAR-25-01-01", "Someone else's", brand="EDF"),
    product("STAFF-25-01-01", "Staff Special", is_restricted=True),
]
TARIFFS = [
    *tariffs("VAR-22-11-01", "E-1R", "E-2R", "G-1R"),
    *tariffs("AGILE-24-10-01", "E-1R"),
    *tariffs("INTELLI-VAR-24-10-29", "E-1R"),
    *tariffs("OE-FIX-12M-25-09-01", "E-1R", "E-2R", "G-1R"),
    *tariffs("SILVER-24-12-31", "E-1R", "G-1R"),
    *tariffs("OUTGOING-VAR-24-10-26", "E-1R"),
    *tariffs("AGILE-OUTGOING-19-05-13", "E-1R"),
    *tariffs("BUS-VAR-25-01-01", "E-1R"),
    *tariffs("PREPAY-VAR-25-01-01", "E-1R"),
    *tariffs("EDF-VAR-25-01-01", "E-1R"),
    *tariffs("STAFF-25-01-01", "E-1R", regions="C"),
]
CURRENT = {
    "electricity": "E-1R-INTELLI-VAR-24-10-29-J",
    "gas": "G-1R-VAR-22-11-01-J",
    "export": "E-1R-OUTGOING-VAR-24-10-26-J",
}


def test_candidates_are_the_regions_tariffs_of_each_fuel_less_the_current_one() -> None:
    found = candidates(CATALOGUE, TARIFFS, "J", CURRENT, CURRENT, two_rate=True, e7_night="00:30-07:30")
    by_fuel: dict[str, list[str]] = {}
    for c in found:
        by_fuel.setdefault(c.fuel, []).append(c.tariff)
    assert by_fuel == {
        "electricity": [
            "E-1R-VAR-22-11-01-J",
            "E-2R-VAR-22-11-01-J",
            "E-1R-AGILE-24-10-01-J",
            "E-1R-OE-FIX-12M-25-09-01-J",
            "E-2R-OE-FIX-12M-25-09-01-J",
            "E-1R-SILVER-24-12-31-J",
        ],
        "gas": ["G-1R-OE-FIX-12M-25-09-01-J", "G-1R-SILVER-24-12-31-J"],
        "export": ["E-1R-AGILE-OUTGOING-19-05-13-J"],
    }
    e7 = next(c for c in found if c.tariff == "E-2R-VAR-22-11-01-J")
    assert e7.name == "Flexible Octopus (Economy 7)"
    assert e7.caveats == (
        "Economy 7 on a smart meter: night rate 00:30-07:30 UTC whatever the season, day rate otherwise",
    )


def test_economy_7_only_where_the_meter_can_and_intelligent_go_with_its_caveat() -> None:
    on_agile = {"electricity": "E-1R-AGILE-24-10-01-C"}
    found = candidates(CATALOGUE, TARIFFS, "C", ["electricity"], on_agile, two_rate=False, e7_night="00:30-07:30")
    codes = [c.tariff for c in found]
    assert not any(code.startswith("E-2R") for code in codes)
    assert "E-1R-AGILE-24-10-01-C" not in codes
    intelligent = next(c for c in found if c.family == "intelligent")
    assert intelligent.caveats == (INTELLIGENT_NEEDS,)
    staff = next(c for c in found if c.product == "STAFF-25-01-01")
    assert staff.caveats == (RESTRICTED,)


def meter_point(*meters: Meter, profile_class: int | None = 1) -> MeterPoint:
    return MeterPoint(Fuel.ELECTRICITY, "1900000000101", Direction.IMPORT, meters, (), profile_class)


def test_two_rates_need_two_registers_or_a_smart_meter() -> None:
    assert two_rate_capable(meter_point(Meter("S", ("STANDARD",), meter_type="S2ADE")))
    assert two_rate_capable(meter_point(Meter("S", ("STANDARD",))))  # type unknown: half-hourly means smart
    assert two_rate_capable(meter_point(Meter("D", ("DAY", "NIGHT"), meter_type="N")))
    assert two_rate_capable(meter_point(Meter("D", ("STANDARD",), meter_type="N"), profile_class=2))
    assert not two_rate_capable(meter_point(Meter("N", ("STANDARD",), meter_type="N")))


def day(total: float, standing: float, partial: bool, on: date) -> Totals:
    t = Totals(energy_cost=total - standing, standing_charge=standing)
    if partial:
        t.partial_days.append(on)
    return t


def test_savings_are_over_the_days_both_tariffs_are_priced() -> None:
    d1, d2, d3 = date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)
    baseline = {d1: day(300, 50, False, d1), d2: day(310, 50, False, d2), d3: day(200, 50, True, d3)}
    # The candidate has no price on the 1st (launched on the 2nd); the 3rd lacks a reading for both.
    other = {d1: day(40, 40, True, d1), d2: day(250, 40, False, d2), d3: day(180, 40, True, d3)}
    result = saving(baseline, other)
    assert result.unpriced == (d1,)
    assert (result.days, result.of) == (2, 3)
    assert result.pence == pytest.approx((310 - 250) + (200 - 180))  # 80


def test_export_savings_are_extra_earnings() -> None:
    d = date(2026, 5, 1)
    earned = {d: Totals(energy_cost=120.0)}
    more = {d: Totals(energy_cost=150.0)}
    assert saving(earned, more, export=True).pence == 30.0
    assert saving(more, earned, export=True).pence == -30.0


def test_regions_from_mpans_and_product_families() -> None:
    assert region_of_mpan("1900000000101") == "J"
    assert region_of_mpan(" 1200000000001 ") == "C"
    assert region_of_mpan("2400000000001") is None  # an IDNO network: not in the table
    assert region_of_mpan("19000") is None
    assert len(REGIONS) == 14
    families = {p.code: family_of(p) for p in CATALOGUE}
    assert families["VAR-22-11-01"] == "flexible"
    assert families["INTELLI-VAR-24-10-29"] == "intelligent"
    assert families["OE-FIX-12M-25-09-01"] == "fixed"
    assert families["SILVER-24-12-31"] == "tracker"
    assert family_of(product("GO-VAR-22-10-14", "Octopus Go")) == "go"
    assert family_of(product("COSY-22-12-08", "Cosy Octopus")) == "cosy"
