"""Costs of an account from the store: readings, agreements and prices read, then costed by ``domain``.

Sits on top, beside the CLI and the web app, which both answer with what :func:`account_costs` returns.
"""

from __future__ import annotations

import bisect
import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from octoscope.config import CostSettings
from octoscope.domain.costs import Bucket, Prices, Rounding, Totals, cost, gas_kwh
from octoscope.domain.models import Account, Charge, Direction, Fuel, MeterPoint, Rate, TariffCode
from octoscope.domain.uktime import BadDate, local_date, local_midnight, parse_date
from octoscope.store.sqlite import Store

FuelName = Literal["electricity", "gas", "export"]
FUELS: tuple[FuelName, ...] = ("electricity", "gas", "export")


class CostError(ValueError):
    """Costs cannot be worked out as asked; the message says what to do."""


def fuel_of(point: MeterPoint) -> FuelName:
    if point.fuel is Fuel.GAS:
        return "gas"
    return "export" if point.direction is Direction.EXPORT else "electricity"


def resolve_days(
    from_text: str | None, to_text: str | None, period: str | None, days: int | None, today: date
) -> tuple[date, date]:
    """[first, end) local days from ``--from/--to``, ``--period YYYY-MM`` (or YYYY), or ``--days N`` (the N
    whole days before today). Default: the last 30 days."""
    chosen = sum(x is not None for x in (from_text or to_text, period, days))
    if chosen > 1:
        raise BadDate("give one of --from/--to, --period or --days")
    if period is not None:
        try:
            if len(period) == 4:
                year = int(period)
                return date(year, 1, 1), date(year + 1, 1, 1)
            first = date.fromisoformat(f"{period}-01")
        except ValueError:
            raise BadDate(f"--period {period!r} is not a month; write YYYY-MM (or a year, YYYY)") from None
        return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    if from_text is not None or to_text is not None:
        first = parse_date(from_text, "--from") if from_text else today - timedelta(days=30)
        end = parse_date(to_text, "--to") if to_text else today
        if first >= end:
            raise BadDate(f"--from {first} is not before --to {end}; --to is exclusive")
        return first, end
    count = 30 if days is None else days
    if count < 1:
        raise BadDate("--days must be 1 or more")
    return today - timedelta(days=count), today


@dataclass(frozen=True)
class CalorificValues:
    default: float
    dated: tuple[tuple[date, float], ...]

    def on(self, day: date) -> float:
        i = bisect.bisect_right([d for d, _ in self.dated], day) - 1
        return self.dated[i][1] if i >= 0 else self.default


def _prices(
    store: Store, codes: Iterable[str], payment_method: str, start: datetime, end: datetime
) -> dict[str, Prices]:
    """Each tariff's prices over [start, end) only: a long Agile history is not read to cost one month."""
    out = {}
    for code in codes:
        tariff = TariffCode.parse(code)
        unit: dict[Charge, Sequence[Rate]] = {
            c: store.rates(code, c, start, end, payment_method) for c in tariff.charges if c is not Charge.STANDING
        }
        out[code] = Prices(unit, store.rates(code, Charge.STANDING, start, end, payment_method), payment_method)
    return out


def _point_days(point: MeterPoint, first: date, end: date) -> tuple[date, date] | None:
    """The part of [first, end) in which the point had an agreement: outside it there is nothing to cost."""
    if not point.agreements:
        return None
    start = local_date(min(a.valid_from for a in point.agreements))
    ends = [a.valid_to for a in point.agreements]
    stop = (
        end
        if any(e is None for e in ends)
        else local_date(max(e for e in ends if e is not None) - timedelta(seconds=1)) + timedelta(days=1)
    )
    lo, hi = max(first, start), min(end, stop)
    return (lo, hi) if lo < hi else None


def _merge(into: Totals, part: Totals) -> None:
    into.kwh += part.kwh
    into.energy_cost += part.energy_cost
    into.standing_charge += part.standing_charge
    into.half_hours += part.half_hours
    into.partial_days = sorted(set(into.partial_days) | set(part.partial_days))
    for band, (kwh, pence) in part.bands.items():
        mine = into.bands.setdefault(band, [0.0, 0.0])
        mine[0] += kwh
        mine[1] += pence


def _money(value: float) -> float:
    return round(value, 4)


def _fields(fuel: FuelName, totals: Totals, m3: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"kwh": round(totals.kwh, 3)}
    if m3 is not None:
        out["m3"] = round(m3, 3)
    if fuel == "export":
        out["earnings_pence"] = _money(totals.energy_cost)
    else:
        out["energy_cost_pence"] = _money(totals.energy_cost)
        out["standing_charge_pence"] = _money(totals.standing_charge)
        out["total_pence"] = _money(totals.total)
    average = totals.average_p_per_kwh
    out["average_p_per_kwh"] = None if average is None else round(average, 4)
    out["bands"] = {b: {"kwh": round(k, 3), "pence": _money(p)} for b, (k, p) in sorted(totals.bands.items())}
    out["partial_days"] = [d.isoformat() for d in totals.partial_days]
    return out


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """Costing years allocates hundreds of thousands of small objects and no reference cycles: the cyclic
    collector only adds pauses (about a tenth of the time), so it waits until the answer is built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def account_costs(
    store: Store,
    account: Account,
    first: date,
    end: date,
    *,
    by: Bucket = "month",
    fuels: Iterable[FuelName] = FUELS,
    inc_vat: bool = True,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
) -> dict[str, Any]:
    """Costs of [first, end) local days per fuel, with buckets, as plain data (the CLI's and the API's JSON)."""
    with _without_gc_pauses():
        return _account_costs(store, account, first, end, by, fuels, inc_vat, payment_method, settings)


def _account_costs(
    store: Store,
    account: Account,
    first: date,
    end: date,
    by: Bucket,
    fuels: Iterable[FuelName],
    inc_vat: bool,
    payment_method: str,
    settings: CostSettings | None,
) -> dict[str, Any]:
    settings = settings or CostSettings()
    rounding: Rounding = "billing" if settings.rounding == "billing" else "exact"
    calorific = CalorificValues(settings.calorific_value, settings.calorific_values)
    wanted = set(fuels)
    overall: dict[FuelName, Totals] = {}
    buckets: dict[FuelName, dict[tuple[date, date], Totals]] = {}
    cubic: dict[FuelName, dict[tuple[date, date] | None, float]] = {}
    for prop in account.properties:
        for point in prop.meter_points:
            fuel = fuel_of(point)
            span = _point_days(point, first, end) if fuel in wanted else None
            if span is None:
                continue
            lo, hi = local_midnight(span[0]), local_midnight(span[1])
            rows = store.readings(point.series, lo, hi)
            readings: list[tuple[datetime, float]] = []
            m3_by_day: dict[date, float] = {}
            for start, value, unit in rows:
                if unit == "kWh":
                    readings.append((start, value))
                elif unit == "m³":
                    day = local_date(start)
                    m3_by_day[day] = m3_by_day.get(day, 0.0) + value
                    readings.append((start, gas_kwh(value, calorific.on(day))))
                # any other unit is unknown: those half-hours count as missing, and their days as partial
            prices = _prices(store, {a.tariff_code for a in point.agreements}, payment_method, lo, hi)
            report = cost(
                readings, point.agreements, prices, span[0], span[1], by=by, inc_vat=inc_vat, rounding=rounding
            )
            _merge(overall.setdefault(fuel, Totals()), report.totals)
            for day_from, day_to, part in report.buckets:
                _merge(buckets.setdefault(fuel, {}).setdefault((day_from, day_to), Totals()), part)
                if m3_by_day:
                    held = cubic.setdefault(fuel, {})
                    volume = sum(v for d, v in m3_by_day.items() if day_from <= d < day_to)
                    held[(day_from, day_to)] = held.get((day_from, day_to), 0.0) + volume
            if m3_by_day:
                held = cubic.setdefault(fuel, {})
                held[None] = held.get(None, 0.0) + sum(m3_by_day.values())
    result: dict[str, Any] = {
        "from": first.isoformat(),
        "to": end.isoformat(),
        "by": by,
        "inc_vat": inc_vat,
        "rounding": rounding,
        "payment_method": payment_method,
    }
    for fuel in FUELS:
        if fuel not in wanted:
            continue
        totals = overall.get(fuel, Totals())
        m3 = cubic.get(fuel, {})
        entry = _fields(fuel, totals, m3.get(None))
        entry["buckets"] = [
            {"from": lo.isoformat(), "to": hi.isoformat(), **_fields(fuel, part, m3.get((lo, hi)) if m3 else None)}
            for (lo, hi), part in sorted(buckets.get(fuel, {}).items())
        ]
        result[fuel] = entry
    spent = sum(result[f]["total_pence"] for f in ("electricity", "gas") if f in result)
    earned = result["export"]["earnings_pence"] if "export" in result else 0.0
    result["net_pence"] = _money(spent - earned)
    return result


def load_account(store: Store, number: str) -> Account:
    account = store.load_account(number)
    if account is None:
        raise CostError(f"nothing stored for {number} yet: run `octoscope sync` first")
    return account


def today_local(now: datetime) -> date:
    return local_date(now)
