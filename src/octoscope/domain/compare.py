"""Tariff comparison: which tariffs of the catalogue to cost for a household, and how each compares with the
tariff it is on. Pure: the costs themselves come from :func:`octoscope.domain.costs.cost`.

Choices, stated once:

- Candidates are the products on sale (the catalogue asked for), of the Octopus Energy brand, neither
  business nor prepayment, with a tariff in the household's region for the fuel: import products for
  electricity (single-rate, and Economy 7 where the meter can have two rates) and gas, export products for
  an export meter. The tariff the household is on is the baseline, not a candidate.
- Economy 7 needs a meter that records two rates: a two-register meter, or a smart meter (Octopus switches
  a smart meter to two rates remotely). Half-hourly readings, which comparing needs, come only from smart
  meters, so in practice it is offered whenever there is something to compare; a meter known not to be
  smart, with one register, is not offered it.
- A candidate whose prices are missing on some days the baseline is priced (a product launched part-way
  through the period) is compared on the days both are priced, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from octoscope.domain.costs import Totals
from octoscope.domain.models import Fuel, MeterPoint
from octoscope.domain.products import Product, ProductTariff

BRAND = "OCTOPUS_ENERGY"
USAGE_UNCHANGED = (
    "usage assumed unchanged: each tariff is costed on the same half-hourly consumption, though on a"
    " time-of-use tariff you might move some of it to cheaper hours"
)
INTELLIGENT_NEEDS = (
    "needs a compatible electric car or charger; EV charging found outside the off-peak hours, where no"
    " dispatch is known, is costed as smart charging Octopus would have scheduled, at the off-peak price"
    " (estimated: a boost would pay the normal rate)"
)
RESTRICTED = "Octopus offers this product only to eligible customers"


def e7_caveat(night: str) -> str:
    return f"Economy 7 on a smart meter: night rate {night} UTC whatever the season, day rate otherwise"


@dataclass(frozen=True)
class Candidate:
    """A tariff to cost the household's usage on."""

    name: str
    product: str
    tariff: str
    fuel: str  # electricity (import), gas or export
    family: str
    caveats: tuple[str, ...]


def eligible(product: Product) -> bool:
    """A product a household can be compared on: Octopus Energy's own, neither business nor prepayment."""
    return product.brand == BRAND and not product.is_business and not product.is_prepay


def fuel_of_tariff(product: Product, tariff: ProductTariff) -> str:
    if tariff.fuel is Fuel.GAS:
        return "gas"
    return "export" if product.direction == "EXPORT" else "electricity"


def two_rate_capable(point: MeterPoint) -> bool:
    """Whether the meter can be billed on two rates: it has two registers, or it is smart (or its type is
    not known: half-hourly readings, which a comparison needs, come only from smart meters)."""
    if point.profile_class == 2:
        return True
    for meter in point.meters:
        if {"DAY", "NIGHT"} <= {r.upper() for r in meter.registers}:
            return True
        if meter.meter_type is None or meter.meter_type.upper().startswith(("S1", "S2")):
            return True
    return False


def candidates(
    products: Sequence[Product],
    tariffs: Sequence[ProductTariff],
    region: str,
    fuels: Iterable[str],
    current: Mapping[str, str],
    *,
    two_rate: bool,
    e7_night: str,
) -> list[Candidate]:
    """The tariffs to cost, per fuel wanted, in catalogue order; ``current``: fuel -> the tariff code the
    household is on (left out of the candidates: it is the baseline)."""
    wanted = set(fuels)
    by_product: dict[str, list[ProductTariff]] = {}
    for t in tariffs:
        if t.region == region:
            by_product.setdefault(t.product, []).append(t)
    out: list[Candidate] = []
    for product in products:
        if not eligible(product):
            continue
        family = product.family
        for tariff in sorted(by_product.get(product.code, []), key=lambda t: (t.fuel, t.registers)):
            fuel = fuel_of_tariff(product, tariff)
            if fuel not in wanted or tariff.code == current.get(fuel):
                continue
            if tariff.registers == 2 and not two_rate:
                continue
            caveats: list[str] = []
            name = product.display_name
            if tariff.registers == 2:
                name += " (Economy 7)"
                caveats.append(e7_caveat(e7_night))
            if family == "intelligent":
                caveats.append(INTELLIGENT_NEEDS)
            elif product.is_restricted:
                caveats.append(RESTRICTED)
            out.append(Candidate(name, product.code, tariff.code, fuel, family, tuple(caveats)))
    return out


@dataclass(frozen=True)
class Saving:
    """How a candidate compares with the baseline. ``pence`` > 0: the candidate would have cost less (for
    export: earned more). Compared over ``days`` of the ``of`` days costed; ``unpriced`` are the days the
    candidate has no full price for while the baseline has."""

    pence: float
    days: int
    of: int
    unpriced: tuple[date, ...]


def _amount(totals: Totals, export: bool) -> float:
    return -totals.energy_cost if export else totals.total


def saving(
    baseline: Mapping[date, Totals],
    candidate: Mapping[date, Totals],
    *,
    export: bool = False,
) -> Saving:
    """The candidate's saving over the baseline's per-day costs (both from the same readings)."""
    days = sorted(baseline)
    unpriced = tuple(
        d
        for d in days
        if d in candidate and d in set(candidate[d].partial_days) and d not in set(baseline[d].partial_days)
    )
    skip = set(unpriced)
    kept = [d for d in days if d not in skip and d in candidate]
    pence = sum(_amount(baseline[d], export) - _amount(candidate[d], export) for d in kept)
    return Saving(pence, len(kept), len(days), unpriced)
