"""What the costing services answer, as typed frozen values, and their one rendering to JSON.

The CLI's printers, the pages, the metrics and the outputs read the attributes; ``octoscope costs --json``,
``octoscope sessions --json``, ``/api/costs`` and ``/api/sessions`` all print :meth:`as_json`, so the keys,
their order and the rounding are written down once. Figures are rounded when a result is made (kWh to 3
places, money to 4): what a printer shows is what the JSON says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from octoscope.domain.costs import Bucket, Totals

FuelName = Literal["electricity", "gas", "export"]
FUELS: tuple[FuelName, ...] = ("electricity", "gas", "export")
DispatchKind = Literal["boost", "smart", "none"]


def money(value: float) -> float:
    """Pence as every cost answer gives them: to 4 places."""
    return round(value, 4)


@dataclass(frozen=True, slots=True)
class BandCost:
    """The energy and cost of one rate band (peak, off-peak, ...)."""

    kwh: float
    pence: float


@dataclass(frozen=True, slots=True)
class EstimatedCharging:
    """Smart charging costed at the off-peak price before a dispatch history was kept, and what it would cost
    more if it was not smart charging."""

    kwh: float
    pence: float
    at_stake_pence: float


@dataclass(frozen=True, slots=True)
class FuelFigures:
    """One fuel's figures over a span: a bucket, or the whole range. Export pays: its ``energy_cost_pence``
    is what it earned (``earnings_pence``) and it has no standing charge."""

    fuel: FuelName
    kwh: float
    m3: float | None  # only for gas read in m³ (a SMETS2 meter), as stored
    energy_cost_pence: float
    standing_charge_pence: float
    total_pence: float
    average_p_per_kwh: float | None
    bands: tuple[tuple[str, BandCost], ...]  # by band name
    partial_days: tuple[date, ...]
    estimated: EstimatedCharging | None  # None if no smart charging was estimated

    @classmethod
    def of(cls, fuel: FuelName, totals: Totals, reads_m3: bool) -> FuelFigures:
        average = totals.average_p_per_kwh
        estimated = None
        if totals.estimated_kwh:
            estimated = EstimatedCharging(
                round(totals.estimated_kwh, 3), money(totals.estimated_pence), money(totals.at_stake)
            )
        return cls(
            fuel=fuel,
            kwh=round(totals.kwh, 3),
            m3=round(totals.m3, 3) if reads_m3 else None,
            energy_cost_pence=money(totals.energy_cost),
            standing_charge_pence=money(totals.standing_charge),
            total_pence=money(totals.total),
            average_p_per_kwh=None if average is None else round(average, 4),
            bands=tuple((b, BandCost(round(k, 3), money(p))) for b, (k, p) in sorted(totals.bands.items())),
            partial_days=tuple(totals.partial_days),
            estimated=estimated,
        )

    @property
    def earnings_pence(self) -> float:
        """What export earned (the energy cost of an export meter)."""
        return self.energy_cost_pence

    @property
    def money_pence(self) -> float:
        """What the span cost, standing charges included, or for export what it earned."""
        return self.earnings_pence if self.fuel == "export" else self.total_pence

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kwh": self.kwh}
        if self.m3 is not None:
            out["m3"] = self.m3
        if self.fuel == "export":
            out["earnings_pence"] = self.energy_cost_pence
        else:
            out["energy_cost_pence"] = self.energy_cost_pence
            out["standing_charge_pence"] = self.standing_charge_pence
            out["total_pence"] = self.total_pence
        out["average_p_per_kwh"] = self.average_p_per_kwh
        out["bands"] = {name: {"kwh": b.kwh, "pence": b.pence} for name, b in self.bands}
        out["partial_days"] = [d.isoformat() for d in self.partial_days]
        if self.estimated is not None:
            out["estimated_smart_charging"] = {
                "kwh": self.estimated.kwh,
                "pence": self.estimated.pence,
                "at_stake_pence": self.estimated.at_stake_pence,
            }
        return out


@dataclass(frozen=True, slots=True)
class CostBucket:
    """One day, week or month of a fuel's costs: local days [first, end)."""

    first: date
    end: date
    figures: FuelFigures

    def as_json(self) -> dict[str, Any]:
        return {"from": self.first.isoformat(), "to": self.end.isoformat(), **self.figures.as_json()}


@dataclass(frozen=True, slots=True)
class FuelCosts:
    """A fuel's costs over the whole range, with its buckets, and what every figure covers (``label``)."""

    fuel: FuelName
    totals: FuelFigures
    standing_included: bool
    label: str  # the days covered and whether standing charges are in, said the same way everywhere
    buckets: tuple[CostBucket, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.totals.as_json(),
            "standing_included": self.standing_included,
            "label": self.label,
            "buckets": [b.as_json() for b in self.buckets],
        }


@dataclass(frozen=True, slots=True)
class CostsReport:
    """Costs of local days [first, end) per fuel asked for (in ``FUELS`` order), and the net: what was spent
    on electricity and gas less what export earned."""

    first: date
    end: date
    by: Bucket
    inc_vat: bool
    rounding: str  # exact or billing
    payment_method: str
    fuels: tuple[FuelCosts, ...]
    net_pence: float

    @classmethod
    def of(
        cls,
        first: date,
        end: date,
        by: Bucket,
        inc_vat: bool,
        rounding: str,
        payment_method: str,
        fuels: Iterable[FuelCosts],
    ) -> CostsReport:
        fuels = tuple(fuels)
        # Added as shown (rounded), so that the net is the sum of the figures printed beside it.
        spent = sum(f.totals.total_pence for f in fuels if f.fuel != "export")
        earned = sum(f.totals.earnings_pence for f in fuels if f.fuel == "export")
        return cls(first, end, by, inc_vat, rounding, payment_method, fuels, money(spent - earned))

    def fuel(self, name: FuelName) -> FuelCosts | None:
        """The fuel's costs, or None if it was not asked for."""
        return next((f for f in self.fuels if f.fuel == name), None)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.first.isoformat(),
            "to": self.end.isoformat(),
            "by": self.by,
            "inc_vat": self.inc_vat,
            "rounding": self.rounding,
            "payment_method": self.payment_method,
        }
        for f in self.fuels:
            out[f.fuel] = f.as_json()
        out["net_pence"] = self.net_pence
        return out


@dataclass(frozen=True, slots=True)
class EvSession:
    """One charging session found in consumption, costed at the rates in force. ``estimated``: costed in part
    as probable smart charging (before the dispatch history), ``at_stake_pence`` more if it was not."""

    start: datetime  # UK local time
    end: datetime
    kwh: float
    cost_pence: float
    average_pence_per_kwh: float | None
    dispatch: DispatchKind
    charger_kw: float
    priced: bool  # every half-hour of it found a price
    estimated: bool
    at_stake_pence: float

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "kwh": self.kwh,
            "cost_pence": self.cost_pence,
            "average_pence_per_kwh": self.average_pence_per_kwh,
            "dispatch": self.dispatch,
            "charger_kw": self.charger_kw,
            "priced": self.priced,
            "estimated": self.estimated,
            "at_stake_pence": self.at_stake_pence,
        }


def sessions_json(sessions: Iterable[EvSession]) -> list[dict[str, Any]]:
    """Sessions as ``octoscope sessions --json`` and ``/api/sessions`` give them."""
    return [s.as_json() for s in sessions]
