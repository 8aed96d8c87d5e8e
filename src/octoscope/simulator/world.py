"""The simulated world: accounts, meters, households and the catalogue, tied to one clock.

Everything the REST and GraphQL faces serve comes from here, so the two faces always agree: consumption
is the household's import (or export, or gas) restricted to the meter's life, the occupancy and what has
been published by ``now`` (recent half-hours possibly late or provisional, as the scenario's ``[revisions]``
say); telemetry is the same energy split into 10-second readings; dispatches are the EV plan the consumption
already contains.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from operator import itemgetter

from octoscope.clock import SetClock
from octoscope.simulator.catalogue import Catalogue, Tariff
from octoscope.simulator.fleet import REGIONS_PER_FLEET, Fleet
from octoscope.simulator.household import STEPS_PER_SLOT, TELEMETRY_STEP, ChargePlan, Household, _stable_seed
from octoscope.simulator.scenario import (
    AccountSpec,
    ElectricityPointSpec,
    EVSpec,
    GasPointSpec,
    MeterSpec,
    PropertySpec,
    Scenario,
)
from octoscope.simulator.timeutil import SLOT, UK, day_slots, local_date_of, local_hour, local_midnight

VOLUME_CORRECTION = 1.02264
# Fleet accounts kept made at once: a sync works on a few at a time, and each keeps its days of history
FLEET_CACHE = 8


@dataclass(frozen=True)
class PointRef:
    account: AccountSpec
    prop: PropertySpec
    point: ElectricityPointSpec | GasPointSpec
    fuel: str  # electricity or gas

    @property
    def ident(self) -> str:
        p = self.point
        return p.mpan if isinstance(p, ElectricityPointSpec) else p.mprn


@dataclass(frozen=True)
class EVRef:
    account: AccountSpec
    prop: PropertySpec
    ev: EVSpec


class _Accounts:
    """Some accounts and everything looked up or cached per account: the scenario's own, or one fleet account."""

    def __init__(self, world: World, accounts: tuple[AccountSpec, ...]) -> None:
        self.accounts = {a.number: a for a in accounts}
        self.by_key = {a.api_key: a for a in accounts}
        self.points: dict[tuple[str, str], PointRef] = {}
        self.home_minis: dict[str, PointRef] = {}
        self.evs: dict[str, EVRef] = {}
        self.households: dict[int, Household] = {}
        self.register_cache: dict[int, dict[date, tuple[int, int]]] = {}
        self.revision_draws: dict[tuple[str, str, int], tuple[float, float, float]] = {}
        seed = world.scenario.seed
        for account in accounts:
            for prop in account.properties:
                self.households[prop.id] = Household(prop.household, seed, prop.id, world._ev_mode_for(prop))
                for e in prop.electricity:
                    ref = PointRef(account, prop, e, "electricity")
                    self.points[("electricity", e.mpan)] = ref
                    if e.home_mini:
                        self.home_minis[e.home_mini] = ref
                for g in prop.gas:
                    self.points[("gas", g.mprn)] = PointRef(account, prop, g, "gas")
                if prop.household.ev is not None:
                    self.evs[prop.household.ev.device_id] = EVRef(account, prop, prop.household.ev)


class World:
    def __init__(self, scenario: Scenario, clock: SetClock, fleet_cache: int = FLEET_CACHE) -> None:
        self.scenario = scenario
        self.clock = clock
        # A fleet's accounts use every product in each of its regions: keep all those price lists
        cache = 64 if scenario.fleet is None else 64 + 8 * len(scenario.products) * REGIONS_PER_FLEET
        self.catalogue = Catalogue(scenario.products, scenario.seed, scenario.agile_publish_hour, cache)
        own = _Accounts(self, scenario.accounts)
        self._own = own
        # The scenario's own accounts, as tests reach into them
        self.accounts = own.accounts
        self.accounts_by_key = own.by_key
        self.points = own.points
        self.home_minis = own.home_minis
        self.evs = own.evs
        self.households = own.households
        self.fleet = Fleet(scenario.fleet, scenario.products, scenario.anchor) if scenario.fleet else None
        # The fleet accounts in use, most recent last: a household caches its days, so only a few are kept
        self._fleet_cache: OrderedDict[int, _Accounts] = OrderedDict()
        self._fleet_cache_size = fleet_cache

    # --- finding accounts (the scenario's own first, then the fleet's, made on demand) -----------------

    def _fleet_accounts(self, index: int | None) -> _Accounts | None:
        if index is None or self.fleet is None:
            return None
        found = self._fleet_cache.get(index)
        if found is None:
            found = _Accounts(self, (self.fleet.account(index),))
            self._fleet_cache[index] = found
            while len(self._fleet_cache) > self._fleet_cache_size:
                self._fleet_cache.popitem(last=False)
        else:
            self._fleet_cache.move_to_end(index)
        return found

    def _holder(self, account: AccountSpec) -> _Accounts:
        if account.number in self._own.accounts:
            return self._own
        held = self._fleet_accounts(self.fleet.index_of_number(account.number) if self.fleet else None)
        if held is None:
            raise KeyError(account.number)
        return held

    def account(self, number: str) -> AccountSpec | None:
        found = self._own.accounts.get(number)
        if found is None and self.fleet is not None:
            held = self._fleet_accounts(self.fleet.index_of_number(number))
            found = held.accounts.get(number) if held else None
        return found

    def account_by_key(self, key: str) -> AccountSpec | None:
        found = self._own.by_key.get(key)
        if found is None and self.fleet is not None:
            held = self._fleet_accounts(self.fleet.index_of_key(key))
            found = held.by_key.get(key) if held else None
        return found

    def point(self, fuel: str, ident: str) -> PointRef | None:
        found = self._own.points.get((fuel, ident))
        if found is None and self.fleet is not None:
            held = self._fleet_accounts(self.fleet.index_of_point(fuel, ident))
            found = held.points.get((fuel, ident)) if held else None
        return found

    def home_mini(self, device_id: str) -> PointRef | None:
        found = self._own.home_minis.get(device_id)
        if found is None and self.fleet is not None:
            held = self._fleet_accounts(self.fleet.index_of_device(device_id))
            found = held.home_minis.get(device_id) if held else None
        return found

    def ev(self, device_id: str) -> EVRef | None:
        found = self._own.evs.get(device_id)
        if found is None and self.fleet is not None:
            held = self._fleet_accounts(self.fleet.index_of_device(device_id))
            found = held.evs.get(device_id) if held else None
        return found

    def points_of(self, account: AccountSpec) -> list[PointRef]:
        """The account's meter points, in the order the scenario lists them."""
        return [r for r in self._holder(account).points.values() if r.account.number == account.number]

    def evs_of(self, account: AccountSpec) -> list[EVRef]:
        """The account's EVs, by device id."""
        evs = self._holder(account).evs
        return [evs[d] for d in sorted(evs) if evs[d].account.number == account.number]

    def household(self, prop: PropertySpec, account: AccountSpec) -> Household:
        return self._holder(account).households[prop.id]

    def now(self) -> float:
        return self.clock()

    # --- agreements and tariffs ----------------------------------------------------------------------

    def _ev_mode_for(self, prop: PropertySpec):  # type: ignore[no-untyped-def]
        imports = [e for e in prop.electricity if not e.is_export]

        def mode(ts: float) -> str:
            tariff = self.tariff_at(imports[0], ts) if imports else None
            ev = prop.household.ev
            if tariff is not None and tariff.product.kind == "intelligent":
                return "smart"
            if ev is not None and ev.timer is not None:
                return "timer"
            if tariff is not None and (tariff.registers == "2R" or tariff.product.kind in ("go", "agile", "cosy")):
                return "timer"
            return "plug_in"

        return mode

    def tariff_at(self, point: ElectricityPointSpec | GasPointSpec, ts: float) -> Tariff | None:
        for agreement in point.agreements:
            if agreement.valid_from.timestamp() <= ts and (
                agreement.valid_to is None or ts < agreement.valid_to.timestamp()
            ):
                return self.catalogue.tariff(agreement.tariff_code)
        return None

    # --- consumption ---------------------------------------------------------------------------------

    def published_until(self, now: float | None = None) -> float:
        """End of the consumption published at ``now``: yesterday's data appears at the ready hour."""
        now = self.now() if now is None else now
        today = local_date_of(now)
        days_back = 0 if local_hour(now) >= self.scenario.consumption_ready_hour else 1
        return local_midnight(today - timedelta(days=days_back)).timestamp()

    def published_at(self, day: date) -> float:
        """When a local day's consumption first appears: the ready hour (wall clock) on the next local day."""
        midnight = datetime.combine(day + timedelta(days=1), clock_time(0), UK)
        return (midnight + timedelta(hours=self.scenario.consumption_ready_hour)).timestamp()

    def meter_window(self, ref: PointRef, meter: MeterSpec) -> tuple[float, float]:
        """[start, end) in which one meter of a point has data the account may see."""
        start = ref.prop.moved_in.timestamp()
        end = ref.prop.moved_out.timestamp() if ref.prop.moved_out else float("inf")
        if meter.installed is not None:
            start = max(start, meter.installed.timestamp())
        if meter.removed is not None:
            end = min(end, meter.removed.timestamp())
        if not ref.point.smart or (meter.registers is not None and len(meter.registers) == 0):
            return (0.0, 0.0)  # a traditional meter: the API answers with no rows
        return start, end

    def series_values(self, ref: PointRef, start: float, end: float) -> Iterator[tuple[int, int]]:
        """(slot, value in thousandths) for each half-hour in [start, end) with data, ascending."""
        household = self.household(ref.prop, ref.account)
        point = ref.point
        first_slot = int(-(-start // SLOT))
        last_slot = int(end // SLOT)  # exclusive
        if last_slot <= first_slot:
            return
        day = local_date_of(first_slot * SLOT)
        while True:
            slots = day_slots(day)
            if slots.start >= last_slot:
                return
            data = household.day(day)
            if isinstance(point, GasPointSpec):
                values = data.gas_wh
                if point.smets == 2:
                    cv = ref.prop.household.calorific_value
                    values = [round(v * 3.6 / (VOLUME_CORRECTION * cv)) for v in values]
            elif point.is_export:
                values = data.export_wh
            else:
                values = data.import_wh
            lo = max(first_slot, slots.start)
            hi = min(last_slot, slots.stop)
            for slot in range(lo, hi):
                yield slot, values[slot - slots.start]
            day += timedelta(days=1)

    def consumption(
        self, ref: PointRef, meter: MeterSpec, start: float | None, end: float | None
    ) -> list[tuple[int, int]]:
        """The rows one meter serves for [start, end), ascending."""
        lo, hi = self.meter_window(ref, meter)
        hi = min(hi, self.published_until())
        if start is not None:
            lo = max(lo, start)
        if end is not None:
            hi = min(hi, end)
        if hi <= lo:
            return []
        rows = list(self.series_values(ref, lo, hi))
        return self._as_published(ref, rows) if self.scenario.revisions.enabled else rows

    def _as_published(self, ref: PointRef, rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Final rows as the API serves them now: recent half-hours may be missing (late) or provisional.

        Only the published consumption lags: telemetry and the truth keep the final values, which is what
        the meter measured. Each half-hour's fate is drawn from (seed, point, slot), so a row's value depends
        only on those and the simulated now.
        """
        spec = self.scenario.revisions
        now = self.now()
        today = local_date_of(now)
        # Only the last few days can be provisional (``days``) or still hidden (published under 24 h ago, so
        # at most two days back): the bulk of a long history is served as it stands.
        oldest = today - timedelta(days=max(spec.days, 2))
        first = bisect_left(rows, day_slots(oldest).start, key=itemgetter(0))
        out = rows[:first]
        stop, revisable, hidden = -1, False, False
        for slot, value in rows[first:]:
            if slot >= stop:  # a new local day
                day = local_date_of(slot * SLOT)
                stop = day_slots(day).stop
                revisable = now < local_midnight(day + timedelta(days=1 + spec.days)).timestamp()
                hidden = now < self.published_at(day) + 86400
            late, provisional, factor = self._revision_draw(ref, slot)
            if hidden and late < spec.late_probability:
                continue
            revised = revisable and provisional < spec.probability
            out.append((slot, _provisional(value, factor) if revised else value))
        return out

    def _revision_draw(self, ref: PointRef, slot: int) -> tuple[float, float, float]:
        """(late, provisional, factor) for one half-hour; drawn once, since every request asks again."""
        key = (ref.fuel, ref.ident, slot)
        draws = self._holder(ref.account).revision_draws
        drawn = draws.get(key)
        if drawn is None:
            draw = random.Random(_stable_seed(self.scenario.seed, "revision", ref.fuel, ref.ident, slot))
            drawn = draws[key] = (draw.random(), draw.random(), draw.uniform(0.5, 1.5))
        return drawn

    # --- telemetry -----------------------------------------------------------------------------------

    def telemetry_start(self, ref: PointRef) -> float:
        return ref.prop.moved_in.timestamp()

    def _register_base(self, ref: PointRef, slot: int) -> tuple[int, int]:
        """Cumulative import and export (Wh) on the meter at the start of ``slot``."""
        household = self.household(ref.prop, ref.account)
        cache = self._holder(ref.account).register_cache.setdefault(ref.prop.id, {})
        day = local_date_of(slot * SLOT)
        start_day = local_date_of(self.telemetry_start(ref))
        if day not in cache:
            d = max((k for k in cache if k < day), default=None)
            total_i, total_e = (1_200_000, 0) if d is None else cache[d]
            d = start_day if d is None else d
            while d < day:
                data = household.day(d)
                total_i += sum(data.import_wh)
                total_e += sum(data.export_wh)
                d += timedelta(days=1)
                cache[d] = (total_i, total_e)
            cache[day] = (total_i, total_e)
        base_i, base_e = cache[day]
        data = household.day(day)
        offset = slot - data.first_slot
        return base_i + sum(data.import_wh[:offset]), base_e + sum(data.export_wh[:offset])

    def telemetry(self, ref: PointRef, start: float, end: float) -> list[tuple[float, int, int, float, int, int]]:
        """10-second readings in [start, end) up to now: (readAt, import Wh, export Wh, demand W,
        cumulative import Wh after the reading, cumulative export Wh after the reading)."""
        household = self.household(ref.prop, ref.account)
        point = ref.point
        assert isinstance(point, ElectricityPointSpec)
        export_ref = next(
            (PointRef(ref.account, ref.prop, e, "electricity") for e in ref.prop.electricity if e.is_export), None
        )
        now = self.now()
        lo = max(start, self.telemetry_start(ref))
        hi = min(end, now - now % TELEMETRY_STEP)
        if ref.prop.moved_out is not None:
            hi = min(hi, ref.prop.moved_out.timestamp())
        out: list[tuple[float, int, int, float, int, int]] = []
        if hi <= lo:
            return out
        slot = int(lo // SLOT)
        while slot * SLOT < hi:
            day = household.day(local_date_of(slot * SLOT))
            i = slot - day.first_slot
            imp = day.import_wh[i]
            exp = day.export_wh[i] if export_ref is not None else 0
            imports, exports, demand = household.telemetry_slot(slot, imp, exp)
            reg_i, reg_e = self._register_base(ref, slot)
            for step in range(STEPS_PER_SLOT):
                t = slot * SLOT + step * TELEMETRY_STEP
                reg_i += imports[step]
                reg_e += exports[step]
                if lo <= t < hi:
                    out.append((t, imports[step], exports[step], demand[step], reg_i, reg_e))
            slot += 1
        return out

    def unit_rate_at(self, ref: PointRef, ts: float) -> float | None:
        tariff = self.tariff_at(ref.point, ts)
        if tariff is None:
            return None
        return self.catalogue.unit_rate_at(tariff, ts, self.now())

    # --- EV and dispatches ---------------------------------------------------------------------------

    def charge_plans(self, ev: EVRef, start: float, end: float) -> list[ChargePlan]:
        """Every plug-in (overnight and top-up) that began in [start, end)."""
        household = self.household(ev.prop, ev.account)
        plans = []
        day = local_date_of(start) - timedelta(days=1)
        last = local_date_of(end)
        while day <= last:
            for plan in (household.top_up(day), household.charge_plan(day)):
                if plan is not None and start <= plan.plugged_in < end:
                    plans.append(plan)
            day += timedelta(days=1)
        return plans

    def ev_history_start(self, ev: EVRef) -> float:
        start = ev.prop.moved_in.timestamp()
        return max(start, ev.ev.onboarded.timestamp()) if ev.ev.onboarded else start

    def device_state(self, ev: EVRef) -> str:
        now = self.now()
        for plan in self.charge_plans(ev, now - 2 * 86400, now + 1):
            if plan.plugged_in <= now < plan.unplugged:
                for dispatch in plan.dispatches:
                    if dispatch.start <= now < dispatch.end:
                        return "BOOSTING" if dispatch.kind == "BOOST" else "SMART_CONTROL_IN_PROGRESS"
                return "SMART_CONTROL_CAPABLE" if plan.mode == "smart" else "SMART_CONTROL_NOT_AVAILABLE"
        return "SMART_CONTROL_NOT_AVAILABLE"

    def planned_dispatches(self, ev: EVRef) -> list[tuple[float, float, str, float]]:
        """Dispatches known now (the car is plugged in) that have not ended: (start, end, type, kWh)."""
        now = self.now()
        out = []
        for plan in self.charge_plans(ev, now - 2 * 86400, now + 1):
            if plan.mode == "smart" and plan.plugged_in <= now:
                out += [(d.start, d.end, d.kind, d.kwh) for d in plan.dispatches if d.end > now]
        return sorted(out)

    def completed_dispatches(self, ev: EVRef) -> list[tuple[float, float, float]]:
        """Half-hour blocks of dispatched charging that ended within the recent window: (start, end, kWh)."""
        now = self.now()
        window = self.scenario.completed_dispatch_hours * 3600
        out = []
        for plan in self.charge_plans(ev, now - window - 2 * 86400, now):
            if plan.mode != "smart":
                continue
            for dispatch in plan.dispatches:
                slot = int(dispatch.start // SLOT)
                while slot * SLOT < dispatch.end:
                    a, b = slot * SLOT, (slot + 1) * SLOT
                    kwh = sum(r.energy_in(max(a, dispatch.start), min(b, dispatch.end)) for r in plan.runs) / 1000
                    if now - window < b <= now:
                        out.append((float(a), float(b), kwh))
                    slot += 1
        return sorted(out, reverse=True)

    # --- truth ---------------------------------------------------------------------------------------

    def truth(
        self, start: float | None = None, end: float | None = None, account: AccountSpec | None = None
    ) -> dict[str, object]:
        """What the households really did, for tests: EV charging, dispatches and energy totals; of the
        scenario's own accounts, or of ``account`` alone (a fleet's, which are never listed all at once)."""
        held = self._own if account is None else self._holder(account)
        evs = {d: e for d, e in held.evs.items() if account is None or e.account.number == account.number}
        points = {k: r for k, r in held.points.items() if account is None or r.account.number == account.number}
        now = self.now()
        end = min(end if end is not None else now, now)
        sessions: list[dict[str, object]] = []
        dispatches: list[dict[str, object]] = []
        for device_id, ev in sorted(evs.items()):
            lo = start if start is not None else ev.prop.moved_in.timestamp()
            for plan in self.charge_plans(ev, lo, end):
                runs = sorted(plan.runs, key=lambda r: r.start)
                merged: list[list[float]] = []
                for run in runs:
                    if run.start >= end:
                        continue
                    r_end = min(run.end, end)
                    kwh = run.watts * (r_end - run.start) / 3.6e6
                    if merged and run.start - merged[-1][1] <= SLOT:
                        merged[-1][1] = r_end
                        merged[-1][2] += kwh
                    else:
                        merged.append([run.start, r_end, kwh])
                for a, b, kwh in merged:
                    sessions.append(
                        {
                            "start": _iso(a),
                            "end": _iso(b),
                            "kwh": round(kwh, 3),
                            "mode": plan.mode,
                            "device_id": device_id,
                            "property_id": ev.prop.id,
                        }
                    )
                if plan.mode == "smart":
                    dispatches += [
                        {
                            "start": _iso(d.start),
                            "end": _iso(d.end),
                            "type": d.kind,
                            "kwh": round(d.kwh, 3),
                            "device_id": device_id,
                        }
                        for d in plan.dispatches
                    ]
        totals: dict[str, object] = {}
        published = self.published_until()
        for (fuel, ident), ref in sorted(points.items()):
            total = 0
            rows = 0
            for meter in ref.point.meters:
                lo, hi = self.meter_window(ref, meter)
                lo = max(lo, start) if start is not None else lo
                hi = min(hi, published, end)
                if hi > lo:
                    for _, value in self.series_values(ref, lo, hi):
                        total += value
                        rows += 1
            unit = "m3" if isinstance(ref.point, GasPointSpec) and ref.point.smets == 2 else "kWh"
            kind = "export" if isinstance(ref.point, ElectricityPointSpec) and ref.point.is_export else fuel
            totals[f"{fuel}:{ident}"] = {"kind": kind, "unit": unit, "total": round(total / 1000, 3), "rows": rows}
        return {
            "ev_sessions": sessions,
            "dispatches": dispatches,
            "totals": totals,
            "now": _iso(now),
            "published_until": _iso(published),
        }


def _provisional(final: int, factor: float) -> int:
    """A first estimate (thousandths) that is never the final value: the final one scaled by ``factor``
    (0.5-1.5); a final zero (night-time export, a summer day's gas) reads 0.05-0.15 at first."""
    value = round((final or 100) * factor)
    return value if value != final else final + 1


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UK).isoformat()
