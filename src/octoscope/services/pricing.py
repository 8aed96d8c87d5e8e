"""Prices ahead, cheapest windows and tariff comparison for an account: the store read, ``domain`` asked.

Sits on top beside ``costing``; the CLI and the web app both answer with what these functions return: the
frozen results of :mod:`octoscope.services.pricing_results`, rendered by their ``to_json``.
The functions that talk to Octopus (:func:`sync_prices_ahead`, :func:`compare_tariffs`) fetch only what the
store does not hold, through the shared clients and budget; the others read the store only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.domain.compare import (
    USAGE_UNCHANGED,
    Candidate,
    candidates,
    saving,
    two_rate_capable,
)
from octoscope.domain.costs import PriceColumns, Prices, Rounding, Totals, cost
from octoscope.domain.models import Account, Agreement, Charge, MeterPoint, Property, TariffCode
from octoscope.domain.products import REGIONS, region_of_mpan
from octoscope.domain.uktime import HALF_HOUR, UK, BadDate, local_date, local_midnight
from octoscope.domain.validation import BadValue, finite
from octoscope.domain.windows import (
    NoWindow,
    Slot,
    Window,
    allowed_periods,
    cheapest_blocks,
    cheapest_half_hours,
    slots_from_columns,
)
from octoscope.errors import ConflictError, InputError, NotFoundError
from octoscope.octopus.facade import Octopus
from octoscope.services.costing import (
    FUELS,
    INTELLIGENT,
    CalorificValues,
    CostError,
    FuelName,
    fuel_of,
    load_account,
    probable_smart,
    smart_dispatch_half_hours,
    stored_kwh,
)
from octoscope.services.pricing_results import (
    Alternative,
    CheapestWindows,
    CheapWindow,
    Comparison,
    CurrentRate,
    HalfHourRate,
    KeptComparison,
    LoadCost,
    PriceReport,
    PricesAhead,
    Region,
    SlotPrice,
    SmartChargingEstimate,
    TariffCost,
)
from octoscope.store.ports import StoreProtocol
from octoscope.sync.prices import ahead_window, catalogue, fetch_prices_ahead, fetch_rates, regions_of_postcode
from octoscope.sync.run import Progress

Mode = Literal["contiguous", "any"]
LOOK_AHEAD_DAYS = 2  # cheapest windows are sought up to local midnight after tomorrow, as far as published
MAX_MONTHS = 36
MAX_WINDOW_HOURS = 24 * LOOK_AHEAD_DAYS  # no window can be longer than the prices ahead
MAX_PRICE = 1000.0  # p/kWh either way: Agile has gone below zero, never near ten pounds a unit


class PriceError(InputError, CostError):
    """Prices or windows cannot be given as asked (an option out of range, a window that cannot be)."""


class NothingToPrice(NotFoundError, PriceError):
    """Nothing to price yet: no current property, no meter with a tariff, no readings, no prices ahead."""


class CannotPrice(ConflictError, PriceError):
    """Readings are stored but cannot be priced (their unit is not known): a sync has to put that right."""


# --- the account's tariffs ---------------------------------------------------------------------------


def current_property(account: Account) -> Property:
    prop = account.current_property()
    if prop is None:
        raise NothingToPrice(f"{account.number} has no current property (every one is moved out of)")
    return prop


def current_agreement(point: MeterPoint, now: datetime) -> Agreement | None:
    """The agreement in force at ``now``, else the latest one that has begun (a lapse between two)."""
    begun = [a for a in point.agreements if a.valid_from <= now]
    in_force = [a for a in begun if a.valid_to is None or now < a.valid_to]
    chosen = in_force or begun
    return max(chosen, key=lambda a: a.valid_from) if chosen else None


def current_tariff(account: Account, fuel: FuelName, now: datetime) -> tuple[MeterPoint, TariffCode]:
    """The meter point of ``fuel`` at the current property and the tariff it is on at ``now``."""
    prop = current_property(account)
    for point in prop.meter_points:
        if fuel_of(point) != fuel:
            continue
        agreement = current_agreement(point, now)
        if agreement is not None:
            return point, agreement.tariff
    what = {"electricity": "electricity import", "gas": "gas", "export": "export"}[fuel]
    raise NothingToPrice(f"the current property has no {what} meter with a tariff")


def tariff_slots(
    store: StoreProtocol,
    tariff: TariffCode,
    start: datetime,
    end: datetime,
    settings: Settings,
    *,
    inc_vat: bool = True,
) -> list[Slot]:
    """A tariff's stored unit rates as half-hours of [start, end) (Economy 7: day or night by the settings'
    night hours), for the settings' payment method; unknown half-hours left out."""
    method = settings.payment_method
    if tariff.registers == 2 and tariff.fuel.value == "electricity":
        day = store.price_columns(tariff.code, Charge.DAY, start, end, method)
        night = store.price_columns(tariff.code, Charge.NIGHT, start, end, method)
        return slots_from_columns(day, start, end, inc_vat=inc_vat, night=night, night_hours=settings.costs.e7_night)
    columns = store.price_columns(tariff.code, Charge.STANDARD, start, end, method)
    return slots_from_columns(columns, start, end, inc_vat=inc_vat)


def published_until(store: StoreProtocol, tariff: TariffCode, start: datetime, settings: Settings) -> datetime | None:
    """Where the tariff's stored unit rates end (None: a price in force until further notice)."""
    far = start + timedelta(days=400)
    charges = (Charge.DAY, Charge.NIGHT) if tariff.registers == 2 else (Charge.STANDARD,)
    ends: list[datetime | None] = []
    for charge in charges:
        columns = store.price_columns(tariff.code, charge, start, far, settings.payment_method)
        if columns.starts:
            ends.append(columns.ends[-1])
    if not ends or any(e is None for e in ends):
        return None if ends else start
    return min(e for e in ends if e is not None)


# --- prices ------------------------------------------------------------------------------------------


def prices_view(
    store: StoreProtocol, settings: Settings, first: date, end: date, fuel: FuelName, now: datetime
) -> PriceReport:
    """The account's current ``fuel`` tariff's unit rates per half-hour over the local days [first, end),
    as far as stored, with the half-hour in force at ``now``."""
    if end <= first:
        raise BadDate(f"--to {end} is not after --from {first}; --to is exclusive")
    if (end - first).days > 366:
        raise BadDate("ask for at most 366 days of prices at once")
    account = load_account(store, settings.require_account())
    _, tariff = current_tariff(account, fuel, now)
    lo, hi = local_midnight(first), local_midnight(end)
    inc = tariff_slots(store, tariff, lo, hi, settings)
    exc = {s.start: s.price for s in tariff_slots(store, tariff, lo, hi, settings, inc_vat=False)}
    this = _floor_half_hour(now)
    current = tariff_slots(store, tariff, this, this + HALF_HOUR, settings)
    until = published_until(store, tariff, lo, settings)
    return PriceReport(
        tariff=tariff.code,
        product=tariff.product,
        name=store.product_name(tariff.product) or tariff.product,
        fuel=fuel,
        rates=tuple(
            HalfHourRate(s.start, s.end, round(s.price, 4), round(exc[s.start], 4)) for s in inc if s.start in exc
        ),
        published_until=until,
        now=CurrentRate(current[0].start, current[0].end, round(current[0].price, 4)) if current else None,
    )


def _floor_half_hour(instant: datetime) -> datetime:
    seconds = int(instant.timestamp())
    return datetime.fromtimestamp(seconds - seconds % 1800, instant.tzinfo)


def _ceil_half_hour(instant: datetime) -> datetime:
    floor = _floor_half_hour(instant)
    return floor if floor == instant else floor + HALF_HOUR


# --- cheapest windows --------------------------------------------------------------------------------

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_clock(text: str, what: str) -> time:
    """``HH:MM``, UK local, 24-hour."""
    match = _CLOCK.match(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise BadDate(f"{what} {text!r} is not a time of day; write HH:MM, 24-hour UK time (like 18:00)")
    return time(int(match[1]), int(match[2]))


def parse_load(text: str | None, n: int) -> list[float] | None:
    """``--kw 7`` (a steady load) or ``--kw 7,7,3.5`` (kW in each half-hour of the window)."""
    if text is None or not text.strip():
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise PriceError(f"--kw {text!r}: write kW as a number (7) or one per half-hour (7,7,3.5)") from None
    if any(not 0 <= v <= 100 for v in values) or not any(values):
        raise PriceError(f"--kw {text!r}: each value must be between 0 and 100 kW, and one more than 0")
    if len(values) == 1:
        return values * n
    if len(values) != n:
        hours = f"{n / 2:g} hour{'' if n == 2 else 's'}"
        raise PriceError(f"--kw gives {len(values)} half-hourly values; a window of {hours} needs {n}")
    return values


def half_hours_of(hours: float) -> int:
    n = round(hours * 2) if math.isfinite(hours) and 0 < hours <= MAX_WINDOW_HOURS else 0
    if n < 1 or abs(n - hours * 2) > 1e-9:
        raise PriceError(
            f"--hours {hours:g}: give a number of hours in half-hour steps, 0.5 to {MAX_WINDOW_HOURS} (like 3 or 1.5)"
        )
    return n


@dataclass(frozen=True)
class WindowQuery:
    hours: float
    after: str | None = None
    before: str | None = None
    mode: Mode = "contiguous"
    top: int = 1
    max_price: float | None = None
    kw: str | None = None


def _cheap_window(window: Window) -> CheapWindow:
    return CheapWindow(
        start=window.start,
        end=window.end,
        average_pence_per_kwh=round(window.average, 4),
        cost=(
            None if window.cost_pence is None else LoadCost(round(window.cost_pence, 4), round(window.kwh or 0.0, 3))
        ),
        slots=tuple(SlotPrice(s.start, round(s.price, 4)) for s in window.slots),
    )


@dataclass(frozen=True)
class _Checked:
    n: int
    after: time | None
    before: time | None
    load: list[float] | None


def check_query(query: WindowQuery) -> _Checked:
    """The query's own mistakes, found before anything is read or fetched."""
    n = half_hours_of(query.hours)
    if query.top < 1 or query.top > 48:
        raise PriceError(f"--top {query.top}: ask for 1 to 48 windows")
    if query.mode == "any" and query.top != 1:
        raise PriceError("--top applies to contiguous windows; the cheapest half-hours in any order are one set")
    if query.max_price is not None:
        try:
            finite("--max-price", query.max_price, -MAX_PRICE, MAX_PRICE)
        except BadValue as err:
            raise PriceError(f"{err} p/kWh") from None
    after = parse_clock(query.after, "--after") if query.after else None
    before = parse_clock(query.before, "--before") if query.before else None
    load = parse_load(query.kw, n)
    if query.mode == "any" and load is not None and len(set(load)) > 1:
        raise PriceError("--kw per half-hour needs --contiguous; with --any give one steady load (--kw 7)")
    return _Checked(n, after, before, load)


def tariff_to_search(store: StoreProtocol, settings: Settings, code: str | None, now: datetime) -> TariffCode:
    """``code`` if given (checked), else the account's current import tariff."""
    if code:
        try:
            return TariffCode.parse(code.strip().upper())
        except ValueError as err:
            raise PriceError(f"--tariff: {err}") from None
    return current_tariff(load_account(store, settings.require_account()), "electricity", now)[1]


def cheapest(
    store: StoreProtocol, settings: Settings, query: WindowQuery, now: datetime, tariff_code: str | None = None
) -> CheapestWindows:
    """The cheapest windows ahead of ``now`` on a tariff's stored prices (the account's current import
    tariff unless ``tariff_code``), from the first half-hour that starts at or after ``now``."""
    checked = check_query(query)
    n, after, before, load = checked.n, checked.after, checked.before, checked.load
    tariff = tariff_to_search(store, settings, tariff_code, now)
    start = _ceil_half_hour(now)
    horizon = local_midnight(local_date(now) + timedelta(days=LOOK_AHEAD_DAYS))
    slots = tariff_slots(store, tariff, start, horizon, settings)
    if not slots:
        raise NothingToPrice(
            f"no prices for {tariff.code} are published from {start.astimezone(UK):%Y-%m-%d %H:%M} UK on"
            " (Agile's next day appears about 16:00 UK): try again later, or run `octoscope sync`"
        )
    end = slots[-1].end
    periods = allowed_periods(start, end, after, before, UK) if after or before else None
    try:
        if query.mode == "any":
            windows = [
                cheapest_half_hours(slots, n, periods=periods, max_price=query.max_price, kw=load[0] if load else None)
            ]
        else:
            windows = cheapest_blocks(slots, n, periods=periods, top=query.top, max_price=query.max_price, load_kw=load)
    except NoWindow as err:
        raise PriceError(f"{tariff.code} (prices known to {end.astimezone(UK):%Y-%m-%d %H:%M} UK): {err}") from None
    until = published_until(store, tariff, start, settings)
    return CheapestWindows(
        tariff=tariff.code,
        product=tariff.product,
        mode=query.mode,
        hours=n / 2,
        searched_from=start,
        searched_to=end,
        published_until=until,
        windows=tuple(_cheap_window(w) for w in windows),
    )


# --- talking to Octopus ------------------------------------------------------------------------------


def _current_codes(account: Account, now: datetime) -> list[str]:
    codes = []
    for fuel in FUELS:
        try:
            codes.append(current_tariff(account, fuel, now)[1].code)
        except PriceError:
            continue
    return codes


async def sync_prices_ahead(settings: Settings, store: StoreProtocol, clock: Clock, octopus: Octopus) -> PricesAhead:
    """For the scheduler: fetch today's and tomorrow's unit rates of the account's current tariffs (import,
    export, gas), only where not already stored, within the shared budget.

    Call it at start-up and then every 30 to 60 minutes from 16:00 UK until ``tomorrow_published`` is
    true (Agile's next day appears about 16:00 UK, sometimes later); each call costs at most one request
    per tariff whose prices ahead are not complete, and none once they are. The account must have been
    synced once (its tariffs are read from the store).
    """
    now = clock.now()
    account = load_account(store, settings.require_account())
    codes = _current_codes(account, now)
    result = await fetch_prices_ahead(octopus.clients, store, codes, now, concurrency=settings.sync.concurrency)
    start, end = ahead_window(now)
    until = {code: published_until(store, TariffCode.parse(code), start, settings) for code in codes}
    return PricesAhead(
        requests=dict(result.requests),
        problems=tuple(result.problems),
        published_until=until,
        tomorrow_published=all(u is None or u >= end for u in until.values()),
    )


# --- tariff comparison -------------------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the month's last day if it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (first_of_next - timedelta(days=1)).day))


@dataclass(frozen=True)
class Period:
    first: date
    end: date  # exclusive
    caveats: tuple[str, ...]


def comparison_period(store: StoreProtocol, prop: Property, months: int, today: date) -> Period:
    """The ``months`` before the last whole day of stored import readings (or of any fuel's, without an
    import meter), clipped to the readings stored."""
    if not 1 <= months <= MAX_MONTHS:
        raise PriceError(f"--months {months}: compare 1 to {MAX_MONTHS} months")
    extents = [store.series_extent(p.series) for p in prop.meter_points]
    imports = [e for p, e in zip(prop.meter_points, extents, strict=True) if e and fuel_of(p) == "electricity"]
    held = imports or [e for e in extents if e]
    if not held:
        raise NothingToPrice("no readings stored for the current property: run `octoscope sync` first")
    end = min(local_date(max(e.last for e in held) + HALF_HOUR), today)
    first = months_before(end, months)
    oldest = local_date(min(e.first for e in held))
    caveats: tuple[str, ...] = ()
    if oldest > first:
        caveats = (
            f"readings are stored only from {oldest}: compared from then, not over {months} months"
            f" (run `octoscope sync --from {first}` for more)",
        )
        first = oldest
    if first >= end:
        raise NothingToPrice("not a whole day of readings stored yet: run `octoscope sync` first")
    return Period(first, end, caveats)


async def find_region(
    prop: Property, now: datetime, ask: Callable[[str], Awaitable[list[str]]] | None, override: str | None
) -> tuple[str, str]:
    """(region letter, how it was found): ``override``, else the import MPAN's distributor id, else the
    postcode's grid supply point (``ask`` fetches it), else the region letter of a current tariff."""
    if override:
        letter = override.strip().upper().removeprefix("_")
        if letter not in REGIONS:
            raise PriceError(f"--region {override!r}: write one of {', '.join(REGIONS)}")
        return letter, "given"
    for point in prop.meter_points:
        if fuel_of(point) == "electricity":
            found = region_of_mpan(point.identifier)
            if found:
                return found, f"MPAN distributor {point.identifier[:2]}"
    tariff_regions = {a.tariff.region for p in prop.meter_points for a in p.agreements if a.overlaps(now, now)}
    if prop.postcode and ask is not None:
        regions = await ask(prop.postcode)
        if len(regions) == 1:
            return regions[0], "postcode's grid supply point"
        both = [r for r in regions if r in tariff_regions]
        if len(both) == 1:
            return both[0], "postcode's grid supply point"
        if len(regions) > 1:
            raise PriceError(f"the postcode lies in regions {', '.join(regions)}: choose one with --region")
    if len(tariff_regions) == 1:
        return tariff_regions.pop(), "current tariff"
    raise PriceError("cannot tell the region from the MPAN, postcode or tariffs: give it with --region")


def _fuel_readings(
    store: StoreProtocol, points: Sequence[MeterPoint], lo: datetime, hi: datetime, calorific: CalorificValues
) -> list[tuple[datetime, float]]:
    """Half-hourly kWh of every point of one fuel, summed per half-hour (gas m³ converted per day)."""
    total: dict[datetime, float] = {}
    for point in points:
        try:
            readings = stored_kwh(store, point, lo, hi, calorific).kwh
        except CostError as err:
            raise CannotPrice(str(err)) from None
        for start, value in readings:
            total[start] = total.get(start, 0.0) + value
    return sorted(total.items())


@dataclass(frozen=True)
class _Costed:
    totals: Totals
    days: dict[date, Totals]


def _cost_on(
    store: StoreProtocol,
    settings: Settings,
    readings: list[tuple[datetime, float]],
    code: str,
    fuel: str,
    period: Period,
    dispatched: frozenset[datetime] = frozenset(),
    estimated: frozenset[datetime] = frozenset(),
) -> _Costed:
    lo, hi = local_midnight(period.first), local_midnight(period.end)
    tariff = TariffCode.parse(code)
    method = settings.payment_method
    unit: dict[Charge, PriceColumns] = {
        c: store.price_columns(code, c, lo, hi, method) for c in tariff.charges if c is not Charge.STANDING
    }
    prices = {code: Prices.from_columns(unit, store.price_columns(code, Charge.STANDING, lo, hi, method))}
    rounding: Rounding = "billing" if settings.costs.rounding == "billing" else "exact"
    report = cost(
        readings,
        [Agreement(code, lo, None)],
        prices,
        period.first,
        period.end,
        rounding=rounding,
        night=settings.costs.e7_night,
        standing_charges=fuel != "export",
        dispatched=dispatched,
        estimated=estimated,
    )
    return _Costed(report.totals, report.days)


def _money(value: float) -> float:
    return round(value, 2)


def _entry(name: str, code: str, fuel: str, costed: _Costed, caveats: Iterable[str]) -> TariffCost:
    t = costed.totals
    export = fuel == "export"
    return TariffCost(
        name=name,
        product=TariffCode.parse(code).product,
        tariff=code,
        fuel=fuel,
        kwh=round(t.kwh, 3),
        energy_pence=_money(t.energy_cost),
        standing_pence=_money(0.0 if export else t.standing_charge),
        total_pence=_money(t.energy_cost if export else t.total),
        average_pence_per_kwh=None if t.average_p_per_kwh is None else round(t.average_p_per_kwh, 4),
        partial_days=len(t.partial_days),
        caveats=tuple(caveats),
        estimated_smart_charging=(
            SmartChargingEstimate(round(t.estimated_kwh, 3), _money(t.at_stake)) if t.estimated_kwh else None
        ),
    )


def _estimate_note(totals: Totals) -> str:
    return (
        f"includes {totals.estimated_kwh:.1f} kWh of EV charging no dispatch is known for, estimated as smart"
        f" charging at the off-peak price (±£{totals.at_stake / 100:,.2f} if it was not)"
    )


def _probable_smart(
    store: StoreProtocol, points: Sequence[MeterPoint], lo: datetime, hi: datetime, *, history: bool
) -> frozenset[datetime]:
    """Probable smart charging in any of the import points, whatever agreement each was on: the comparison
    costs the whole period on one tariff."""
    return frozenset().union(*(probable_smart(store, p, lo, hi, any_tariff=True, history=history) for p in points))


@dataclass(frozen=True)
class ComparisonPlan:
    """What a comparison costs: the period, the region, each fuel's baseline tariff and the candidates."""

    account: Account
    period: Period
    region: tuple[str, str]
    points: dict[str, list[MeterPoint]]
    current: dict[str, str]
    candidates: list[Candidate]

    def rate_needs(self) -> list[tuple[str, datetime, datetime]]:
        lo, hi = local_midnight(self.period.first), local_midnight(self.period.end)
        codes = [*self.current.values(), *(c.tariff for c in self.candidates)]
        return [(code, lo, hi) for code in dict.fromkeys(codes)]


def _fuels_wanted(fuel: str | None) -> tuple[FuelName, ...]:
    if fuel is None:
        return FUELS
    for known in FUELS:
        if fuel == known:
            return (known,)
    raise PriceError(f"--fuel {fuel!r}: write electricity, gas or export")


def _directions(fuels: Iterable[str]) -> set[str]:
    return {"EXPORT" if f == "export" else "IMPORT" for f in fuels}


def comparison_costs(
    store: StoreProtocol, settings: Settings, plan: ComparisonPlan, names: dict[str, str]
) -> Comparison:
    """Every candidate and each fuel's baseline costed on the household's half-hourly readings, from the
    store only (the prices must have been fetched): the API's and the CLI's answer."""
    period = plan.period
    lo, hi = local_midnight(period.first), local_midnight(period.end)
    calorific = CalorificValues(settings.costs.calorific_value, settings.costs.calorific_values)
    current: list[TariffCost] = []
    rows: list[Alternative] = []
    caveats = [USAGE_UNCHANGED, *period.caveats]
    for fuel, code in plan.current.items():
        readings = _fuel_readings(store, plan.points[fuel], lo, hi, calorific)
        dispatched: frozenset[datetime] = frozenset()
        estimated: frozenset[datetime] = frozenset()  # EV charging no dispatch is known for: probably smart
        base_caveats: list[str] = []
        on_intelligent = fuel == "electricity" and INTELLIGENT in TariffCode.parse(code).product
        if on_intelligent:
            dispatched = frozenset(t for t in smart_dispatch_half_hours(store.dispatches(lo, hi)) if lo <= t < hi)
            estimated = _probable_smart(store, plan.points[fuel], lo, hi, history=True)
            base_caveats.append(
                f"smart-dispatched half-hours at the off-peak price where octoscope kept the dispatch"
                f" ({len(dispatched)} half-hours in this period)"
            )
        base = _cost_on(store, settings, readings, code, fuel, period, dispatched, estimated)
        if base.totals.estimated_kwh:
            base_caveats.append(_estimate_note(base.totals))
        product = TariffCode.parse(code).product
        name = names.get(product) or store.product_name(product) or product
        current.append(_entry(name, code, fuel, base, base_caveats))
        for candidate in (c for c in plan.candidates if c.fuel == fuel):
            smart: tuple[frozenset[datetime], frozenset[datetime]] = (frozenset(), frozenset())
            if fuel == "electricity" and candidate.family == "intelligent":
                # Costed as the current tariff is when that is Intelligent too; else with no history at all:
                # all the EV charging found is what it would have dispatched.
                if not on_intelligent and not estimated:
                    estimated = _probable_smart(store, plan.points[fuel], lo, hi, history=False)
                smart = (dispatched, estimated)
            other = _cost_on(store, settings, readings, candidate.tariff, fuel, period, *smart)
            if other.totals.kwh and not other.totals.priced_kwh:
                caveats.append(f"{candidate.name} ({candidate.tariff}) left out: no prices for this period")
                continue
            result = saving(base.days, other.days, export=fuel == "export")
            notes = list(candidate.caveats)
            if result.unpriced:
                notes.append(
                    f"no full prices on {len(result.unpriced)} days (from {result.unpriced[0]} to"
                    f" {result.unpriced[-1]}): the saving is over the {result.days} days both are priced"
                )
            if other.totals.estimated_kwh:
                notes.append(_estimate_note(other.totals))
            entry = _entry(candidate.name, candidate.tariff, fuel, other, notes)
            rows.append(Alternative.of(entry, saving_pence=_money(result.pence), days_compared=result.days))
    order: dict[str, int] = {f: i for i, f in enumerate(FUELS)}
    rows.sort(key=lambda r: (order[r.fuel], -r.saving_pence, r.tariff))
    letter, source = plan.region
    return Comparison(
        first=period.first,
        end=period.end,
        days=(period.end - period.first).days,
        region=Region(letter, REGIONS[letter], source),
        payment_method=settings.payment_method,
        inc_vat=True,
        current=tuple(current),
        tariffs=tuple(rows),
        caveats=tuple(caveats),
    )


@dataclass(frozen=True)
class _Scope:
    """What a comparison is over, from the store alone: the property, the period, each fuel's meter points
    with readings and its current tariff."""

    account: Account
    prop: Property
    period: Period
    points: dict[str, list[MeterPoint]]
    current: dict[str, str]


def _scope(store: StoreProtocol, settings: Settings, now: datetime, months: int, fuel: str | None) -> _Scope:
    fuels = _fuels_wanted(fuel)
    account = load_account(store, settings.require_account())
    prop = current_property(account)
    period = comparison_period(store, prop, months, local_date(now))
    points: dict[str, list[MeterPoint]] = {}
    current: dict[str, str] = {}
    for f in fuels:
        held = [p for p in prop.meter_points if fuel_of(p) == f and store.series_extent(p.series)]
        if not held:
            continue
        try:
            _, tariff = current_tariff(account, f, now)
        except PriceError:
            continue
        points[f] = held
        current[f] = tariff.code
    if not current:
        raise NothingToPrice("nothing to compare: no meter of that fuel with readings and a tariff")
    return _Scope(account, prop, period, points, current)


@dataclass(frozen=True)
class Prepared:
    """A comparison ready to cost: its plan, the products' names, and what preparing it asked Octopus."""

    plan: ComparisonPlan
    names: dict[str, str]
    requests: dict[str, int]
    problems: list[str]


async def prepare_comparison(
    settings: Settings,
    store: StoreProtocol,
    clock: Clock,
    octopus: Octopus,
    *,
    months: int = 12,
    fuel: str | None = None,
    region: str | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Everything a comparison needs, in the store: the region, the catalogue (once a day) and every
    tariff's rates over the period (once per tariff, shared with the account's own prices, only the
    stretches not held, within the budget)."""
    now = clock.now()
    scope = _scope(store, settings, now, months, fuel)
    account, prop, period, points, current = scope.account, scope.prop, scope.period, scope.points, scope.current
    clients = octopus.clients
    with clients.policy.meter() as meter:  # this comparison's requests, not the live poller's meanwhile

        async def ask(postcode: str) -> list[str]:
            return await regions_of_postcode(clients, store, postcode, now)

        found = await find_region(prop, now, ask, region)
        products, tariffs = await catalogue(
            clients, store, now, _directions(current), concurrency=settings.sync.concurrency
        )
        imports = points.get("electricity", [])
        night = "-".join(t.strftime("%H:%M") for t in settings.costs.e7_night)
        chosen = candidates(
            products,
            tariffs,
            found[0],
            current,
            current,
            two_rate=any(two_rate_capable(p) for p in imports),
            e7_night=night,
        )
        plan = ComparisonPlan(account, period, found, points, current, chosen)
        agile = frozenset(c.tariff for c in chosen if c.family in ("agile", "agile_outgoing"))
        fetched = await fetch_rates(
            clients,
            store,
            plan.rate_needs(),
            now,
            half_hourly=agile,
            concurrency=settings.sync.concurrency,
            progress=progress,
        )
    made: dict[str, int] = dict(meter.made)
    return Prepared(plan, {p.code: p.display_name for p in products}, made, fetched.problems)


async def compare_tariffs(
    settings: Settings,
    store: StoreProtocol,
    clock: Clock,
    octopus: Octopus,
    *,
    months: int = 12,
    fuel: str | None = None,
    region: str | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Compare the household's last ``months`` on every tariff available in its region: what is missing is
    fetched (:func:`prepare_comparison`), then everything is costed from the store."""
    prepared = await prepare_comparison(
        settings, store, clock, octopus, months=months, fuel=fuel, region=region, progress=progress
    )
    # Costing a year of each tariff takes a fraction of a second: off the event loop, for the web app.
    costed = await asyncio.to_thread(comparison_costs, store, settings, prepared.plan, prepared.names)
    out = replace(costed, requests=prepared.requests, problems=tuple(prepared.problems))
    if not prepared.problems:  # an answer missing some prices is shown, not kept to be shown again
        await asyncio.to_thread(keep_comparison, store, settings, clock.now(), months, fuel, region, out)
    return out


# --- the comparison kept ----------------------------------------------------------------------------

# A kept comparison is shown again (without asking Octopus) while what it was worked out from is unchanged,
# and for at most this long: the catalogue of tariffs on sale is read once a day, so a day on a new product
# may be on sale.
KEPT_FOR = timedelta(hours=24)


def comparison_key(settings: Settings, months: int, fuel: str | None, region: str | None) -> str:
    """What was asked, as the kept result's key: the account and the comparison's options."""
    letter = (region or "").strip().upper().removeprefix("_")
    return f"compare:{settings.require_account()}:{months}:{fuel or ''}:{letter}"


def comparison_inputs(
    store: StoreProtocol, settings: Settings, now: datetime, months: int, fuel: str | None, region: str | None
) -> str:
    """A digest of everything in the store a comparison is worked out from, read only (no request): the
    period, each meter's readings in it, the current tariffs and their prices over it, the dispatches, the
    catalogue's date and the settings that change a cost. A sync that stores new or revised readings, or new
    prices, changes it."""
    scope = _scope(store, settings, now, months, fuel)
    lo, hi = local_midnight(scope.period.first), local_midnight(scope.period.end)
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(repr(parts).encode())

    add(comparison_key(settings, months, fuel, region), settings.payment_method, settings.costs)
    add(scope.period)
    for f, code in sorted(scope.current.items()):
        add(f, code)
        for point in scope.points[f]:
            add(point.series, store.readings(point.series, lo, hi))
        for charge in TariffCode.parse(code).charges:
            add(charge, store.price_columns(code, charge, lo, hi, settings.payment_method))
    add(store.dispatches(lo, hi))
    add(store.products()[1])
    return digest.hexdigest()


def keep_comparison(
    store: StoreProtocol,
    settings: Settings,
    now: datetime,
    months: int,
    fuel: str | None,
    region: str | None,
    result: Comparison,
) -> None:
    """Keep ``result`` in the store (its JSON), with the digest of what it was worked out from."""
    inputs = comparison_inputs(store, settings, now, months, fuel, region)
    store.keep_result(comparison_key(settings, months, fuel, region), inputs, json.dumps(result.to_json()), now)


def kept_comparison(
    store: StoreProtocol, settings: Settings, now: datetime, months: int, fuel: str | None, region: str | None
) -> KeptComparison | None:
    """The comparison kept for these options, if any (read only: asks Octopus nothing); one that cannot be
    read back (not a comparison's JSON) is as good as none."""
    kept = store.kept_result(comparison_key(settings, months, fuel, region))
    if kept is None:
        return None
    try:
        stored = Comparison.from_json(json.loads(kept.body))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    # Shown again, this answer asked Octopus nothing.
    result = replace(stored, requests={api: 0 for api in stored.requests})
    # Worked out "later" than now only if the clock was set back: the digest (the period is in it) decides.
    age = now - kept.computed_at
    why: str | None = None
    if age >= KEPT_FOR:
        why = f"worked out more than {KEPT_FOR.total_seconds() / 3600:g} hours ago"
    else:
        try:
            if comparison_inputs(store, settings, now, months, fuel, region) != kept.inputs:
                why = "readings, prices or settings have changed since"
        except PriceError as err:
            why = str(err)
    return KeptComparison(result, kept.computed_at, why is None, why, KEPT_FOR)


def kept_now(result: Comparison, computed_at: datetime) -> KeptComparison:
    """``result`` as kept by :func:`compare_tariffs` at ``computed_at``: current."""
    return KeptComparison(result, computed_at, True, None, KEPT_FOR)
