"""Octopus's product catalogue as typed values: products, their tariffs per region, and the regions.

Pure: the octopus client parses payloads into these, the store keeps them, the comparison chooses among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from octoscope.domain.models import Fuel

# The 14 regions (GSP groups) and, for each, the distributor id that starts an MPAN there (the first two
# digits of the 13-digit MPAN core). Source: shared/octopus-api/README.md section 6 (10, 12 and 20 checked
# against the live API by others, the rest the industry's standard mapping).
REGIONS: dict[str, str] = {
    "A": "Eastern England",
    "B": "East Midlands",
    "C": "London",
    "D": "Merseyside and North Wales",
    "E": "West Midlands",
    "F": "North Eastern England",
    "G": "North Western England",
    "H": "Southern England",
    "J": "South Eastern England",
    "K": "South Wales",
    "L": "South Western England",
    "M": "Yorkshire",
    "N": "South Scotland",
    "P": "North Scotland",
}
MPAN_DISTRIBUTORS: dict[str, str] = {
    "10": "A",
    "11": "B",
    "12": "C",
    "13": "D",
    "14": "E",
    "15": "F",
    "16": "G",
    "17": "P",
    "18": "N",
    "19": "J",
    "20": "H",
    "21": "K",
    "22": "L",
    "23": "M",
}


def region_of_mpan(mpan: str) -> str | None:
    """The region letter of an MPAN from its distributor id; None for an id not in the table (an IDNO
    network, for instance: ask the postcode's grid supply point instead)."""
    core = mpan.strip()
    return MPAN_DISTRIBUTORS.get(core[:2]) if len(core) == 13 and core.isdigit() else None


@dataclass(frozen=True)
class Product:
    """One entry of ``/v1/products/``."""

    code: str
    direction: str  # IMPORT or EXPORT
    full_name: str
    display_name: str
    is_variable: bool
    is_green: bool
    is_tracker: bool
    is_prepay: bool
    is_business: bool
    is_restricted: bool
    term: int | None
    brand: str
    available_from: datetime | None
    available_to: datetime | None

    @property
    def family(self) -> str:
        return family_of(self)


@dataclass(frozen=True)
class ProductTariff:
    """One tariff of a product, from its detail: in one region, for one fuel and register count."""

    product: str
    code: str
    region: str
    fuel: Fuel
    registers: int


FAMILY_NAMES = {
    "flexible": "Flexible Octopus",
    "fixed": "Fixed",
    "agile": "Agile Octopus",
    "go": "Octopus Go",
    "intelligent": "Intelligent Octopus Go",
    "tracker": "Octopus Tracker",
    "cosy": "Cosy Octopus",
    "outgoing": "Outgoing Octopus",
    "agile_outgoing": "Agile Outgoing Octopus",
    "other": "",
}


def family_of(product: Product) -> str:
    """Which kind of tariff a product is, from its code and flags (Octopus names products by family:
    AGILE-24-10-01, INTELLI-VAR-24-10-29, GO-VAR-22-10-14, SILVER-24-12-31 for Tracker, ...)."""
    code = product.code.upper()
    words = set(code.split("-"))
    if "OUTGOING" in words:
        return "agile_outgoing" if "AGILE" in words else "outgoing"
    if product.direction == "EXPORT":
        return "other"
    if any(w.startswith("INTELLI") for w in words):
        return "intelligent"
    if "AGILE" in words:
        return "agile"
    if "GO" in words:
        return "go"
    if product.is_tracker or "SILVER" in words or "TRACKER" in words:
        return "tracker"
    if "COSY" in words:
        return "cosy"
    if any("FIX" in w for w in words) or (not product.is_variable and product.term):
        return "fixed"
    if "VAR" in words:
        return "flexible"
    return "other"
