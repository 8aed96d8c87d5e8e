"""The household model: what one property really used, half-hour by half-hour and 10 s by 10 s.

Everything is a pure function of (seed, property, local day), computed on demand and cached, so any date
range can be served without generating the whole history first, and the same seed always gives the same
house. Energy is kept in integer watt-hours (gas in integer thousandths of a kWh) so that the 10-second
telemetry can sum exactly to each half-hour's consumption.

Model: a baseload with noise; occupancy peaks (morning, evening) that grow in winter; appliances with
their own power and duration (showers, ovens, heat pumps: the spikes an EV detector must ignore); solar
generation from a clear-sky curve and a daily cloud factor, netted against load into import and export;
gas for heating from a seasonal temperature and for hot water; an EV that plugs in some evenings and
charges in Intelligent dispatch slots (smart, with occasional boosts), on a timer, or at once, plus
occasional daytime top-ups.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from octoscope.simulator.scenario import HouseholdSpec
from octoscope.simulator.timeutil import SLOT, day_slots, local_date_of, local_hour, local_midnight

TELEMETRY_STEP = 10  # seconds between Home Mini readings
STEPS_PER_SLOT = SLOT // TELEMETRY_STEP  # 180


@dataclass(frozen=True)
class PowerRun:
    """A constant power draw over [start, end), epoch seconds."""

    start: float
    end: float
    watts: float
    source: str  # "ev" or an appliance name

    def energy_in(self, a: float, b: float) -> float:
        """Wh drawn inside [a, b)."""
        overlap = min(self.end, b) - max(self.start, a)
        return self.watts * overlap / 3600 if overlap > 0 else 0.0


@dataclass(frozen=True)
class Dispatch:
    """An Intelligent Octopus dispatch as Octopus planned it."""

    start: float
    end: float
    kind: str  # SMART or BOOST
    kwh: float  # planned energy (positive here; the API shows it negative)


@dataclass(frozen=True)
class ChargePlan:
    """One plug-in: the dispatches planned for it and the charging that really happened."""

    plugged_in: float
    unplugged: float
    mode: str  # smart, timer, plug_in, top_up
    dispatches: tuple[Dispatch, ...]
    runs: tuple[PowerRun, ...]

    @property
    def kwh(self) -> float:
        return sum(r.watts * (r.end - r.start) / 3600 for r in self.runs) / 1000


@dataclass
class DayData:
    day: date
    first_slot: int
    import_wh: list[int]
    export_wh: list[int]
    gas_wh: list[int]  # gas energy in Wh (kWh x 1000)
    smooth_w: list[float]  # per-slot mean of the smooth part (base + occupancy - solar), for telemetry shape
    runs: list[PowerRun] = field(default_factory=list)  # appliance and EV runs overlapping the day


def _stable_seed(*parts: int | str) -> int:
    """A seed from parts that does not depend on Python's per-process hash randomisation."""
    acc = 1469598103934665603
    for part in parts:
        for byte in str(part).encode():
            acc = ((acc ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        acc = ((acc ^ 0xFF) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return acc


def temperature(seed: int, day: date) -> float:
    """Daily mean outdoor temperature in °C: coldest mid-January, warmest late July."""
    doy = day.timetuple().tm_yday
    rng = random.Random(_stable_seed(seed, "temp", day.toordinal()))
    return 10.5 + 6.5 * math.sin(2 * math.pi * (doy - 110) / 365.25) + rng.gauss(0, 2.2)


def _occupancy_w(hour: float, weekend: bool, winter: float) -> float:
    """Mean extra household power above baseload at a local hour."""
    morning = 7.0 if not weekend else 8.5
    w = 380 * math.exp(-((hour - (morning + 0.8)) ** 2) / 0.9)
    w += 650 * math.exp(-((hour - 18.7) ** 2) / 3.2)
    w += (180 if weekend else 90) * math.exp(-((hour - 13.0) ** 2) / 4.0)
    w += 120 * (1 if 7 <= hour < 23 else 0)
    return w * (1 + 0.35 * winter)


def _solar_w(kwp: float, ts: float, day: date, cloud: float) -> float:
    if kwp <= 0:
        return 0.0
    doy = day.timetuple().tm_yday
    daylength = 12.25 - 4.25 * math.cos(2 * math.pi * (doy + 10) / 365.25)  # hours, ~8 in Dec, ~16.5 in Jun
    utc_hour = (ts % 86400) / 3600
    x = (utc_hour - (12.1 - daylength / 2)) / daylength
    if not 0 < x < 1:
        return 0.0
    elevation = math.sin(math.pi * x)
    season = 0.55 + 0.45 * math.sin(math.pi * daylength / 24)
    return float(kwp * 1000 * 0.78 * elevation**1.4 * season * cloud)


class Household:
    """One property's consumption, generation, gas and EV behaviour."""

    def __init__(self, spec: HouseholdSpec, seed: int, property_id: int, ev_mode: Callable[[float], str]) -> None:
        self.spec = spec
        self.seed = _stable_seed(seed, property_id)
        self._ev_mode = ev_mode
        self.day = lru_cache(maxsize=None)(self._day)
        self.charge_plan = lru_cache(maxsize=None)(self._charge_plan)
        self.top_up = lru_cache(maxsize=None)(self._top_up)

    def rng(self, *parts: int | str) -> random.Random:
        return random.Random(_stable_seed(self.seed, *parts))

    # --- EV ------------------------------------------------------------------------------------------

    def _charge_plan(self, day: date) -> ChargePlan | None:
        """The plug-in that starts on the evening of ``day`` (it may run into the next morning)."""
        ev = self.spec.ev
        if ev is None:
            return None
        rng = self.rng("ev", day.toordinal())
        if rng.random() >= ev.plug_in_probability:
            return None
        midnight = local_midnight(day).timestamp()
        next_midnight = local_midnight(day + timedelta(days=1)).timestamp()
        plugged = midnight + (ev.arrival + rng.uniform(-0.75, 1.5)) * 3600
        ready = next_midnight + ev.ready_by * 3600
        kwh = min(max(rng.gauss(ev.mean_session_kwh, ev.mean_session_kwh * 0.4), 3.0), ev.battery_kwh * 0.9)
        kw = ev.charger_kw
        mode = self._ev_mode(plugged)
        if ev.onboarded is not None and plugged < ev.onboarded.timestamp() and mode == "smart":
            mode = "plug_in"
        dispatches: list[Dispatch] = []
        runs: list[PowerRun] = []
        if mode == "smart" and rng.random() < ev.boost_probability:
            # The driver presses boost: charging starts at once, at peak rates, flagged BOOST.
            start = plugged + rng.randint(60, 900)
            hours = min(kwh, rng.uniform(4, 12)) / kw
            end = start + hours * 3600
            runs.append(PowerRun(start, end, kw * 1000, "ev"))
            dispatches.append(Dispatch(start, end, "BOOST", round(kw * hours, 4)))
            kwh -= kw * hours
        if mode == "smart" and kwh > 0.5:
            # From 20 minutes after plugging in, and not before a boost is over: one charger, one charge at a time.
            not_before = max([plugged + 1200] + [r.end for r in runs])
            runs_s, disp_s = self._smart_dispatches(rng, kwh, kw, not_before, midnight, next_midnight, ready)
            runs += runs_s
            dispatches += disp_s
        elif mode in ("timer", "plug_in") and kwh > 0.5:
            if mode == "timer":
                start = midnight + (ev.timer if ev.timer is not None else 23.5) * 3600
                start = max(start, plugged)
            else:
                start = plugged + rng.randint(30, 600)
            runs.append(PowerRun(start, start + kwh / kw * 3600, kw * 1000, "ev"))
        unplugged = max([ready] + [r.end + 600 for r in runs])
        return ChargePlan(plugged, unplugged, mode, tuple(dispatches), tuple(runs))

    def _smart_dispatches(
        self,
        rng: random.Random,
        kwh: float,
        kw: float,
        not_before: float,
        midnight: float,
        next_midnight: float,
        ready: float,
    ) -> tuple[list[PowerRun], list[Dispatch]]:
        """Octopus plans half-hour-aligned blocks from the first half-hour that begins at ``not_before`` or later,
        mostly inside 23:30-05:30 local, sometimes outside."""
        per_slot = kw * 0.5
        needed = math.ceil(kwh / per_slot)
        blocks: list[tuple[float, float]] = []
        earliest = math.ceil(not_before / SLOT) * SLOT
        latest_end = math.floor(ready / SLOT) * SLOT
        if rng.random() < 0.2 and needed >= 2:
            # An early block in the evening, outside the standard off-peak window.
            n = min(needed - 1, rng.randint(1, 3))
            early = earliest + SLOT * rng.randint(0, 2)
            if early + n * SLOT <= midnight + 23.5 * 3600:
                blocks.append((early, early + n * SLOT))
                needed -= n
        window_start = midnight + 23.5 * 3600
        start = max(window_start + SLOT * rng.choice([0, 0, 0, 1, 2, 3]), earliest)
        if start + needed * SLOT > latest_end:
            start = max(latest_end - needed * SLOT, earliest)
        end = min(start + needed * SLOT, latest_end)
        if end > start:
            if rng.random() < 0.25 and needed >= 4:
                # Split around a gap of one to two hours (a cheaper or greener period later).
                first = needed // 2
                gap = SLOT * rng.randint(2, 4)
                if end + gap <= latest_end:
                    blocks.append((start, start + first * SLOT))
                    blocks.append((start + first * SLOT + gap, end + gap))
                else:
                    blocks.append((start, end))
            else:
                blocks.append((start, end))
        # Merge touching blocks; Octopus lists contiguous slots as one dispatch.
        merged: list[tuple[float, float]] = []
        for a, b in sorted(blocks):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        runs: list[PowerRun] = []
        dispatches: list[Dispatch] = []
        remaining = kwh
        for a, b in merged:
            capacity = kw * (b - a) / 3600
            take = min(capacity, remaining)
            dispatches.append(Dispatch(a, b, "SMART", round(capacity if remaining > capacity else take, 4)))
            if take > 0:
                runs.append(PowerRun(a, a + take / kw * 3600, kw * 1000, "ev"))
            remaining -= take
        return runs, dispatches

    def _top_up(self, day: date) -> ChargePlan | None:
        ev = self.spec.ev
        if ev is None:
            return None
        rng = self.rng("topup", day.toordinal())
        if rng.random() >= ev.top_up_probability:
            return None
        midnight = local_midnight(day).timestamp()
        start = midnight + rng.uniform(10, 14.5) * 3600
        end = start + rng.uniform(0.75, 2.0) * 3600
        run = PowerRun(start, end, ev.charger_kw * 1000, "ev")
        return ChargePlan(start - 120, end + 300, "top_up", (), (run,))

    def plans_touching(self, day: date) -> list[ChargePlan]:
        """Every plug-in with charging inside ``day``: last evening's, today's top-up and this evening's."""
        plans = []
        for d, getter in ((day - timedelta(days=1), self.charge_plan), (day, self.top_up), (day, self.charge_plan)):
            plan = getter(d)
            if plan is not None:
                plans.append(plan)
        return plans

    # --- the day's half-hours ------------------------------------------------------------------------

    def _appliance_runs(self, day: date) -> list[PowerRun]:
        runs = []
        midnight = local_midnight(day).timestamp()
        for index, appliance in enumerate(self.spec.appliances):
            rng = self.rng("appliance", index, day.toordinal())
            mean = appliance.per_week / 7
            uses = 0
            # Poisson by inversion: appliance counts per day are small.
            limit, p = math.exp(-mean), 1.0
            while True:
                p *= rng.random()
                if p <= limit:
                    break
                uses += 1
            w = appliance.window
            span = (w.end - w.start) % 24 or 24
            for _ in range(uses):
                start = midnight + ((w.start + rng.uniform(0, max(span - appliance.minutes / 60, 0.1))) % 24) * 3600
                runs.append(PowerRun(start, start + appliance.minutes * 60, appliance.kw * 1000, appliance.name))
        return runs

    def _day(self, day: date) -> DayData:
        spec = self.spec
        rng = self.rng("day", day.toordinal())
        slots = day_slots(day)
        weekend = day.weekday() >= 5
        temp = temperature(self.seed, day)
        winter = min(max((14 - temp) / 12, 0), 1)
        cloud = rng.uniform(0.15, 1.0)
        runs = self._appliance_runs(day)
        for plan in self.plans_touching(day):
            runs.extend(plan.runs)
        day_start, day_end = slots.start * SLOT, slots.stop * SLOT
        runs = [r for r in runs if r.end > day_start and r.start < day_end]
        import_wh, export_wh, smooth = [], [], []
        for slot in slots:
            a = slot * SLOT
            mid = a + SLOT / 2
            hour = local_hour(mid)
            base = spec.baseload_w * rng.lognormvariate(0, 0.12)
            occupancy = spec.activity * _occupancy_w(hour, weekend, winter) * rng.lognormvariate(0, 0.35)
            solar = _solar_w(spec.solar_kwp, mid, day, cloud * rng.uniform(0.7, 1.0))
            smooth_w = base + occupancy - solar
            load_wh = (base + occupancy) / 2 + sum(r.energy_in(a, a + SLOT) for r in runs)
            net = load_wh - solar / 2
            import_wh.append(max(round(net), 0))
            export_wh.append(max(round(-net), 0))
            smooth.append(smooth_w)
        # Gas: space heating in two bursts, hot water morning and evening.
        heating_kwh = max(15.5 - temp, 0) * spec.gas_heating_kwh_per_degree
        water_kwh = spec.gas_hot_water_kwh * rng.uniform(0.7, 1.3)
        gas_wh = []
        weights = []
        for slot in slots:
            hour = local_hour(slot * SLOT + SLOT / 2)
            heat = 0.4 / 3 if 6 <= hour < 9 else 0.6 / 6.5 if 16 <= hour < 22.5 else 0.0
            water = 0.5 if 7 <= hour < 8 or 19 <= hour < 20 else 0.0
            weights.append((heat, water))
        for heat, water in weights:
            kwh = heating_kwh * heat / 2 + water_kwh * water / 2
            gas_wh.append(round(kwh * 1000 * rng.uniform(0.8, 1.2)) if kwh > 0 else 0)
        return DayData(day, slots.start, import_wh, export_wh, gas_wh, smooth, runs)

    # --- 10-second telemetry -------------------------------------------------------------------------

    def telemetry_slot(self, slot: int, import_wh: int, export_wh: int) -> tuple[list[int], list[int], list[float]]:
        """Split one half-hour into 180 readings: (import Wh deltas, export Wh deltas, demand W).

        The deltas are integers that sum exactly to the half-hour's values; demand follows the same
        power curve (negative while exporting).
        """
        day = self.day(local_date_of(slot * SLOT))
        index = slot - day.first_slot
        smooth = day.smooth_w[index]
        rng = self.rng("tele", slot)
        a = slot * SLOT
        runs = [r for r in day.runs if r.end > a and r.start < a + SLOT]
        power = []
        for step in range(STEPS_PER_SLOT):
            t = a + step * TELEMETRY_STEP
            w = max(smooth, 0) * rng.lognormvariate(0, 0.25) + 1.0
            for run in runs:
                w += run.energy_in(t, t + TELEMETRY_STEP) * 3600 / TELEMETRY_STEP
            power.append(w)
        total = sum(power)
        imports = _spread(import_wh, [p / total for p in power])
        exports = _spread(export_wh, [1 / STEPS_PER_SLOT] * STEPS_PER_SLOT)
        if export_wh and not import_wh:
            # Exporting: the meter sees a steady negative flow; its mean matches the half-hour's export.
            demand = [-(export_wh * 2.0)] * STEPS_PER_SLOT
        else:
            scale = import_wh * 2.0 / (total / STEPS_PER_SLOT) if total else 0
            demand = [p * scale for p in power]
        return imports, exports, demand


def _spread(total: int, weights: list[float]) -> list[int]:
    """Integer parts proportional to weights that sum exactly to ``total`` (cumulative rounding)."""
    out, acc, previous = [], 0.0, 0
    for w in weights:
        acc += w
        current = round(total * min(acc, 1.0))
        out.append(current - previous)
        previous = current
    out[-1] += total - previous
    return out
