"""What :mod:`octoscope.services.pricing` answers: a tariff's prices, the cheapest windows ahead, the prices
fetched ahead, and the tariff comparison, as frozen values.

Figures are held rounded as they are reported (pence to 4 places, money to 2, kWh to 3), so that a printer
reading them shows what ``--json`` says. Each result has one ``to_json``: the JSON the CLI's ``--json``,
the web routes and the kept-result store all write, key for key. A kept comparison is stored as that JSON
and read back with :meth:`Comparison.from_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from octoscope.domain.uktime import UK

__all__ = [
    "Alternative",
    "CheapWindow",
    "CheapestWindows",
    "Comparison",
    "CurrentRate",
    "HalfHourRate",
    "KeptComparison",
    "LoadCost",
    "PriceReport",
    "PricesAhead",
    "Region",
    "SlotPrice",
    "SmartChargingEstimate",
    "TariffCost",
]

Json = dict[str, Any]


def _iso(instant: datetime) -> str:
    return instant.astimezone(UK).isoformat()


def _iso_or_none(instant: datetime | None) -> str | None:
    return None if instant is None else _iso(instant)


# --- a tariff's prices -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HalfHourRate:
    """One half-hour's unit rate, p/kWh."""

    start: datetime
    end: datetime
    pence_inc_vat: float
    pence_exc_vat: float

    def to_json(self) -> Json:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "pence_inc_vat": self.pence_inc_vat,
            "pence_exc_vat": self.pence_exc_vat,
        }


@dataclass(frozen=True, slots=True)
class CurrentRate:
    """The half-hour in force now and its unit rate inc VAT."""

    start: datetime
    end: datetime
    pence_inc_vat: float

    def to_json(self) -> Json:
        return {"start": _iso(self.start), "end": _iso(self.end), "pence_inc_vat": self.pence_inc_vat}


@dataclass(frozen=True, slots=True)
class PriceReport:
    """A fuel's current tariff's unit rates per half-hour over some local days, as far as stored."""

    tariff: str
    product: str
    name: str
    fuel: str
    rates: tuple[HalfHourRate, ...]
    published_until: datetime | None  # None: a price in force until further notice
    now: CurrentRate | None

    def to_json(self) -> Json:
        return {
            "tariff": self.tariff,
            "product": self.product,
            "name": self.name,
            "fuel": self.fuel,
            "rates": [r.to_json() for r in self.rates],
            "published_until": _iso_or_none(self.published_until),
            "now": None if self.now is None else self.now.to_json(),
        }


# --- the cheapest windows ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotPrice:
    start: datetime
    pence_inc_vat: float


@dataclass(frozen=True, slots=True)
class LoadCost:
    """What the load asked for (``--kw``) costs in a window."""

    pence: float
    kwh: float


@dataclass(frozen=True, slots=True)
class CheapWindow:
    start: datetime
    end: datetime
    average_pence_per_kwh: float
    cost: LoadCost | None  # None: no load was given
    slots: tuple[SlotPrice, ...]

    def to_json(self) -> Json:
        out: Json = {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "average_pence_per_kwh": self.average_pence_per_kwh,
        }
        if self.cost is not None:  # the keys are absent, not null, without a load
            out["cost_pence"] = self.cost.pence
            out["kwh"] = self.cost.kwh
        out["slots"] = [{"start": _iso(s.start), "pence_inc_vat": s.pence_inc_vat} for s in self.slots]
        return out


@dataclass(frozen=True, slots=True)
class CheapestWindows:
    """The cheapest windows found on a tariff's prices over [searched_from, searched_to), cheapest first."""

    tariff: str
    product: str
    mode: str  # "contiguous" or "any"
    hours: float
    searched_from: datetime
    searched_to: datetime  # the end of the last half-hour searched
    published_until: datetime | None  # None: in force until further notice
    windows: tuple[CheapWindow, ...]

    def to_json(self) -> Json:
        return {
            "tariff": self.tariff,
            "product": self.product,
            "mode": self.mode,
            "hours": self.hours,
            "from": _iso(self.searched_from),
            "to": _iso(self.searched_to),
            "published_until": _iso_or_none(self.published_until),
            "windows": [w.to_json() for w in self.windows],
        }


@dataclass(frozen=True, slots=True)
class PricesAhead:
    """What fetching the prices ahead did, and where each current tariff's stored prices now end."""

    requests: Mapping[str, int]
    problems: tuple[str, ...]
    published_until: Mapping[str, datetime | None]  # by tariff code; None: until further notice
    tomorrow_published: bool

    def to_json(self) -> Json:
        return {
            "requests": dict(self.requests),
            "problems": list(self.problems),
            "tariffs": {code: {"published_until": _iso_or_none(u)} for code, u in self.published_until.items()},
            "tomorrow_published": self.tomorrow_published,
        }


# --- the tariff comparison ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmartChargingEstimate:
    """EV charging no dispatch is known for, costed as smart charging, and what is at stake if it was not."""

    kwh: float
    at_stake_pence: float


@dataclass(frozen=True, slots=True)
class TariffCost:
    """One fuel's readings over the comparison's period costed on one tariff, VAT included."""

    name: str
    product: str
    tariff: str
    fuel: str
    kwh: float
    energy_pence: float
    standing_pence: float
    total_pence: float  # export: the energy earned
    average_pence_per_kwh: float | None
    partial_days: int
    caveats: tuple[str, ...]
    estimated_smart_charging: SmartChargingEstimate | None

    def to_json(self) -> Json:
        out: Json = {
            "name": self.name,
            "product": self.product,
            "tariff": self.tariff,
            "fuel": self.fuel,
            "kwh": self.kwh,
            "energy_pence": self.energy_pence,
            "standing_pence": self.standing_pence,
            "total_pence": self.total_pence,
            "average_pence_per_kwh": self.average_pence_per_kwh,
            "partial_days": self.partial_days,
            "caveats": list(self.caveats),
        }
        smart = self.estimated_smart_charging
        if smart is not None:  # absent, not null, when nothing was estimated
            out["estimated_smart_charging"] = {"kwh": smart.kwh, "at_stake_pence": smart.at_stake_pence}
        return out

    @staticmethod
    def _fields(body: Mapping[str, Any]) -> dict[str, Any]:
        smart = body.get("estimated_smart_charging")
        return {
            "name": body["name"],
            "product": body["product"],
            "tariff": body["tariff"],
            "fuel": body["fuel"],
            "kwh": body["kwh"],
            "energy_pence": body["energy_pence"],
            "standing_pence": body["standing_pence"],
            "total_pence": body["total_pence"],
            "average_pence_per_kwh": body["average_pence_per_kwh"],
            "partial_days": body["partial_days"],
            "caveats": tuple(body["caveats"]),
            "estimated_smart_charging": (
                None if smart is None else SmartChargingEstimate(smart["kwh"], smart["at_stake_pence"])
            ),
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TariffCost:
        return cls(**cls._fields(body))


@dataclass(frozen=True, slots=True)
class Alternative(TariffCost):
    """A candidate tariff's cost and what it would have saved on the current one (negative: dearer), over
    the days both are priced."""

    saving_pence: float
    days_compared: int

    def to_json(self) -> Json:
        return {**TariffCost.to_json(self), "saving_pence": self.saving_pence, "days_compared": self.days_compared}

    @classmethod
    def of(cls, cost: TariffCost, *, saving_pence: float, days_compared: int) -> Alternative:
        own = {f.name: getattr(cost, f.name) for f in fields(TariffCost)}
        return cls(**own, saving_pence=saving_pence, days_compared=days_compared)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Alternative:
        return cls(**cls._fields(body), saving_pence=body["saving_pence"], days_compared=body["days_compared"])


@dataclass(frozen=True, slots=True)
class Region:
    letter: str
    name: str
    source: str  # how it was found: "given", "MPAN distributor 19", ...


@dataclass(frozen=True, slots=True)
class Comparison:
    """The household's readings over [first, end) costed on its current tariffs and every candidate."""

    first: date
    end: date  # exclusive
    days: int
    region: Region
    payment_method: str
    inc_vat: bool
    current: tuple[TariffCost, ...]  # one per fuel compared, in the order compared
    tariffs: tuple[Alternative, ...]  # by fuel, then the biggest saving first
    caveats: tuple[str, ...]
    requests: Mapping[str, int] = field(default_factory=dict)  # asked of Octopus for it, per API
    problems: tuple[str, ...] = ()  # what could not be fetched (such an answer is not kept)

    def to_json(self) -> Json:
        return {
            "from": self.first.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "region": {"letter": self.region.letter, "name": self.region.name, "from": self.region.source},
            "payment_method": self.payment_method,
            "inc_vat": self.inc_vat,
            "current": {c.fuel: c.to_json() for c in self.current},
            "tariffs": [t.to_json() for t in self.tariffs],
            "caveats": list(self.caveats),
            "requests": dict(self.requests),
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Comparison:
        """Read back what :meth:`to_json` wrote (a kept comparison); KeyError, TypeError or ValueError if it
        is not that."""
        region = body["region"]
        return cls(
            first=date.fromisoformat(body["from"]),
            end=date.fromisoformat(body["to"]),
            days=body["days"],
            region=Region(region["letter"], region["name"], region["from"]),
            payment_method=body["payment_method"],
            inc_vat=body["inc_vat"],
            current=tuple(TariffCost.from_json(c) for c in body["current"].values()),
            tariffs=tuple(Alternative.from_json(t) for t in body["tariffs"]),
            caveats=tuple(body["caveats"]),
            requests=dict(body.get("requests", {})),
            problems=tuple(body.get("problems", ())),
        )


@dataclass(frozen=True, slots=True)
class KeptComparison:
    """A comparison kept in the store: the answer, when it was worked out, whether it is still the answer
    (nothing it was worked out from has changed and it is younger than ``kept_for``), and why not."""

    result: Comparison
    computed_at: datetime
    current: bool
    stale_because: str | None
    kept_for: timedelta

    def to_json(self, *, reused: bool) -> Json:
        """About the kept answer (not the answer itself); ``reused``: answered again instead of worked out."""
        return {
            "computed_at": _iso(self.computed_at),
            "current": self.current,
            "stale_because": self.stale_because,
            "kept_for_hours": self.kept_for.total_seconds() / 3600,
            "reused": reused,
        }
