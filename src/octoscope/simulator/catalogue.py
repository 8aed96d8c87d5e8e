"""The product catalogue: tariffs per region and their published unit rates and standing charges.

Prices come from each product's base prices, a regional factor and, for variable products, a change at
each quarter (as the price cap moves). Agile follows the published shape of its formula: a regional
multiplier of a wholesale price plus a 16:00-19:00 peak adder, capped, sometimes negative; tomorrow's
prices appear at the publication hour (16:00 UK by default). Time-of-use products (Go, Intelligent Go,
Cosy) publish one record per band period, in UTC, built from their local-time windows. Tracker publishes a
price per UK local day.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise

from octoscope.simulator.household import _stable_seed, temperature
from octoscope.simulator.scenario import REGIONS, ProductSpec
from octoscope.simulator.timeutil import SLOT, UK, local_date_of, local_hour, local_midnight

VAT = 1.05
# Regional Agile multipliers and peak adders (p/kWh), as the public Agile formula has them.
AGILE_REGION = {
    "A": (2.10, 13),
    "B": (2.00, 14),
    "C": (2.00, 12),
    "D": (2.20, 13),
    "E": (2.10, 11),
    "F": (2.10, 12),
    "G": (2.10, 12),
    "H": (2.10, 12),
    "J": (2.20, 12),
    "K": (2.20, 12),
    "L": (2.30, 11),
    "M": (2.00, 13),
    "N": (2.10, 13),
    "P": (2.40, 12),
}
AGILE_CAP = 100.0
RATE_TYPES = ("standard-unit-rates", "day-unit-rates", "night-unit-rates", "standing-charges")


@dataclass(frozen=True)
class RateRecord:
    valid_from: int
    valid_to: int | None
    value_exc_vat: float
    payment_method: str | None

    @property
    def value_inc_vat(self) -> float:
        return round(self.value_exc_vat * VAT, 6)


@dataclass(frozen=True)
class Tariff:
    code: str
    product: ProductSpec
    fuel: str  # electricity or gas
    registers: str  # 1R or 2R
    region: str

    @property
    def rate_types(self) -> tuple[str, ...]:
        if self.registers == "2R":
            return ("day-unit-rates", "night-unit-rates", "standing-charges")
        return ("standard-unit-rates", "standing-charges")


def region_factor(region: str) -> float:
    return AGILE_REGION[region][0] / 2.1


def _quarter_starts(first: datetime, until: datetime) -> list[datetime]:
    """Local midnights of 1 Jan/Apr/Jul/Oct after ``first`` up to ``until``."""
    out: list[datetime] = []
    d = first.astimezone(UK).date().replace(day=1)
    while True:
        month = ((d.month - 1) // 3 + 1) * 3 + 1
        d = date(d.year + (month > 12), (month - 1) % 12 + 1, 1)
        at = local_midnight(d)
        if at > until:
            return out
        out.append(at)


class Catalogue:
    def __init__(self, products: tuple[ProductSpec, ...], seed: int, publish_hour: float, cache_size: int = 64) -> None:
        self.products = {p.code: p for p in products}
        self.seed = seed
        self.publish_hour = publish_hour
        self._wholesale_day = lru_cache(maxsize=None)(self._wholesale)
        self.records = lru_cache(maxsize=cache_size)(self._records)  # (tariff, rate type) lists
        self._cached_lookup = lru_cache(maxsize=64)(self._lookup)

    def product(self, code: str) -> ProductSpec | None:
        return self.products.get(code)

    def tariff(self, code: str) -> Tariff | None:
        """Parse ``E-1R-AGILE-24-10-01-J`` against the catalogue; None if no such tariff exists."""
        parts = code.split("-")
        if len(parts) < 4 or parts[0] not in ("E", "G") or parts[1] not in ("1R", "2R"):
            return None
        product = self.products.get("-".join(parts[2:-1]))
        region = parts[-1]
        if product is None or region not in REGIONS:
            return None
        fuel = "electricity" if parts[0] == "E" else "gas"
        offered = {
            ("electricity", "1R"): product.electricity_1r,
            ("electricity", "2R"): product.electricity_2r,
            ("gas", "1R"): product.gas,
        }
        if not offered.get((fuel, parts[1]), False):
            return None
        return Tariff(code, product, fuel, parts[1], region)

    def tariffs_of(self, product: ProductSpec, fuel: str, registers: str) -> dict[str, Tariff]:
        prefix = "E" if fuel == "electricity" else "G"
        out = {}
        for region in REGIONS:
            tariff = self.tariff(f"{prefix}-{registers}-{product.code}-{region}")
            if tariff is not None:
                out[region] = tariff
        return out

    # --- publication horizon -------------------------------------------------------------------------

    def horizon(self, product: ProductSpec, now: float) -> int:
        """Epoch seconds up to which day-by-day prices are published at ``now``.

        Agile days run 23:00 to 23:00 UK; the next day's prices appear at the publication hour. Tracker
        and time-of-use periods are published through the end of the same UK day.
        """
        today = local_date_of(now)
        ahead = 1 if local_hour(now) >= self.publish_hour else 0
        if product.kind in ("agile", "agile_outgoing"):
            return int(_wall_time(today + timedelta(days=ahead), 23 * 60))
        return int(local_midnight(today + timedelta(days=1 + ahead)).timestamp())

    # --- prices --------------------------------------------------------------------------------------

    def _change_factor(self, product: ProductSpec, period_start: datetime) -> float:
        if product.price_changes == "none":
            return 1.0
        rng = random.Random(_stable_seed(self.seed, "price", product.code, int(period_start.timestamp())))
        return 1 + rng.gauss(0, 0.06)

    def _periods(self, product: ProductSpec, until: datetime) -> list[tuple[int, int | None, float]]:
        """(start, end or None, price factor) for each price period of a product."""
        starts = [product.available_from]
        if product.price_changes == "quarterly":
            starts += _quarter_starts(product.available_from, until)
        out: list[tuple[int, int | None, float]] = []
        for i, start in enumerate(starts):
            end = int(starts[i + 1].timestamp()) if i + 1 < len(starts) else None
            out.append((int(start.timestamp()), end, self._change_factor(product, start)))
        return out

    def _wholesale(self, day: date) -> list[float]:
        """Wholesale price (p/kWh) per half-hour of a UK local day, shared by every product."""
        rng = random.Random(_stable_seed(self.seed, "wholesale", day.toordinal()))
        temp = temperature(self.seed, day)
        level = 8.0 + 0.35 * max(14 - temp, 0) + rng.gauss(0, 1.2)
        windy = rng.random() < 0.12
        start = int(local_midnight(day).timestamp()) // SLOT
        end = int(local_midnight(day + timedelta(days=1)).timestamp()) // SLOT
        out = []
        for slot in range(start, end):
            hour = local_hour(slot * SLOT)
            shape = (
                0.78
                + 0.25 * math.exp(-((hour - 8.0) ** 2) / 2.0)
                + 0.55 * math.exp(-((hour - 17.8) ** 2) / 2.5)
                - 0.2 * math.exp(-((hour - 3.5) ** 2) / 4.0)
                - 0.1 * math.exp(-((hour - 13.5) ** 2) / 3.0)
            )
            value = level * shape + rng.gauss(0, 0.5)
            if windy and (hour < 6 or 11 <= hour < 15):
                value -= level * rng.uniform(0.7, 1.5)
            out.append(value)
        return out

    def wholesale_at(self, slot: int) -> float:
        day = local_date_of(slot * SLOT)
        first = int(local_midnight(day).timestamp()) // SLOT
        return self._wholesale_day(day)[slot - first]

    def agile_price(self, product: ProductSpec, region: str, slot: int) -> float:
        w = self.wholesale_at(slot)
        multiplier, adder = AGILE_REGION[region]
        hour = local_hour(slot * SLOT)
        if product.kind == "agile_outgoing":
            return round(0.95 * w + (5.0 if 16 <= hour < 19 else 0.0) + 2.5, 2)
        peak = adder if 16 <= hour < 19 else 0
        return round(min(multiplier * w + peak, AGILE_CAP) if w >= 0 else multiplier * w / 2 + peak, 2)

    def tracker_price(self, product: ProductSpec, fuel: str, region: str, day: date) -> float:
        prices = self._wholesale_day(day)
        mean = sum(prices) / len(prices)
        if fuel == "gas":
            temp = temperature(self.seed, day)
            return round((3.6 + 0.12 * max(14 - temp, 0)) * region_factor(region), 2)
        return round(min((1.3 * mean + 8.5) * region_factor(region), AGILE_CAP), 2)

    def _band_price(self, product: ProductSpec, band: str) -> float:
        return {"off_peak": product.off_peak_rate, "peak": product.peak_rate}.get(band, product.unit_rate)

    def base_price(self, tariff: Tariff, rate_type: str) -> float:
        p = tariff.product
        if rate_type == "standing-charges":
            value = p.gas_standing_charge if tariff.fuel == "gas" else p.standing_charge
        elif tariff.fuel == "gas":
            value = p.gas_unit_rate
        elif rate_type == "day-unit-rates":
            value = p.day_rate
        elif rate_type == "night-unit-rates":
            value = p.night_rate
        else:
            value = p.unit_rate
        return value * region_factor(tariff.region)

    def _records(self, code: str, rate_type: str, horizon: int) -> list[RateRecord]:
        """Every record of one tariff's rate type, newest first, as published up to ``horizon``."""
        tariff = self.tariff(code)
        assert tariff is not None
        product = tariff.product
        methods: tuple[str | None, ...] = ("DIRECT_DEBIT", "NON_DIRECT_DEBIT") if product.dual_payment else (None,)
        until = datetime.fromtimestamp(horizon, UK)
        out: list[RateRecord] = []
        start_ts = int(product.available_from.timestamp())
        end_ts = int(product.available_to.timestamp()) if product.available_to else None

        def add(a: int, b: int | None, value: float, order_seed: int) -> None:
            rows = [RateRecord(a, b, round(value * (1.0 if m != "NON_DIRECT_DEBIT" else 1.05), 4), m) for m in methods]
            if len(rows) == 2 and order_seed % 2:
                rows.reverse()  # within one valid_from the DD / NON_DD order varies, as observed
            out.extend(rows)

        per_day = rate_type != "standing-charges" and (
            product.kind in ("agile", "agile_outgoing", "tracker")
            or (product.kind in ("go", "intelligent", "cosy") and tariff.fuel == "electricity")
        )
        if not per_day:
            for a, b, factor in self._periods(product, until):
                end = b if end_ts is None else min(b, end_ts) if b is not None else end_ts
                add(a, end, self.base_price(tariff, rate_type) * factor, a // SLOT)
        elif product.kind in ("agile", "agile_outgoing"):
            stop = min(horizon, end_ts) if end_ts else horizon
            for slot in range(start_ts // SLOT, stop // SLOT):
                add(slot * SLOT, (slot + 1) * SLOT, self.agile_price(product, tariff.region, slot), slot)
        elif product.kind == "tracker":
            day = local_date_of(start_ts)
            while True:
                a = int(local_midnight(day).timestamp())
                b = int(local_midnight(day + timedelta(days=1)).timestamp())
                if b > horizon or (end_ts and a >= end_ts):
                    break
                add(a, b, self.tracker_price(product, tariff.fuel, tariff.region, day), a // SLOT)
                day += timedelta(days=1)
        else:
            periods = self._periods(product, until)
            for a, b, band in self._band_periods(product, start_ts, min(horizon, end_ts or horizon)):
                factor = next(f for ps, pe, f in periods if ps <= a and (pe is None or a < pe))
                add(a, b, self._band_price(product, band) * region_factor(tariff.region) * factor, a // SLOT)
        out.sort(key=lambda r: r.valid_from, reverse=True)
        return out

    def band_at(self, product: ProductSpec, ts: float) -> str:
        hour = local_hour(ts)
        if any(w.contains(hour) for w in product.peak):
            return "peak"
        if any(w.contains(hour) for w in product.off_peak):
            return "off_peak"
        return "standard"

    def _band_periods(self, product: ProductSpec, start: int, end: int) -> list[tuple[int, int, str]]:
        """Contiguous periods of one band between two instants, split at band changes and at price changes."""
        edges = sorted(
            {w.start for w in product.off_peak + product.peak} | {w.end % 24 for w in product.off_peak + product.peak}
        )
        out: list[tuple[int, int, str]] = []
        day = local_date_of(start) - timedelta(days=1)
        boundaries: list[int] = []
        while True:
            midnight = local_midnight(day)
            for hour in edges:
                boundaries.append(int(_wall_time(day, round(hour * 60))))
            if midnight.timestamp() > end:
                break
            day += timedelta(days=1)
        quarter_edges = {
            int(q.timestamp()) for q in _quarter_starts(product.available_from, datetime.fromtimestamp(end, UK))
        }
        cuts = sorted(
            {b for b in boundaries if start < b < end} | {q for q in quarter_edges if start < q < end} | {start, end}
        )
        for a, b in pairwise(cuts):
            band = self.band_at(product, a)
            if out and out[-1][2] == band and a not in quarter_edges:
                out[-1] = (out[-1][0], b, band)
            else:
                out.append((a, b, band))
        return out

    def _lookup(self, code: str, rate_type: str, horizon: int) -> tuple[list[int], list[RateRecord]]:
        """Direct Debit (or only) records in ascending order with their start times, for bisection."""
        rows = [r for r in self.records(code, rate_type, horizon) if r.payment_method in (None, "DIRECT_DEBIT")]
        rows.reverse()
        return [r.valid_from for r in rows], rows

    def unit_rate_at(self, tariff: Tariff, ts: float, now: float) -> float | None:
        """The unit rate (p/kWh exc VAT, Direct Debit) in force at ``ts`` as published at ``now``.

        Economy 7 night is 00:30-07:30 UTC (smart meters), whatever the season.
        """
        rate_type = "standard-unit-rates"
        if tariff.registers == "2R":
            utc_hour = (ts % 86400) / 3600
            rate_type = "night-unit-rates" if 0.5 <= utc_hour < 7.5 else "day-unit-rates"
        starts, rows = self._cached_lookup(tariff.code, rate_type, self.horizon(tariff.product, now))
        i = bisect_right(starts, ts) - 1
        if i < 0:
            return None
        record = rows[i]
        if record.valid_to is not None and ts >= record.valid_to:
            return None
        return record.value_exc_vat


def _wall_time(day: date, minutes: int) -> float:
    """Epoch seconds of a local wall time ``minutes`` after local midnight of ``day`` (24:00 = next midnight)."""
    if minutes >= 24 * 60:
        return local_midnight(day + timedelta(days=1)).timestamp()
    naive = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=UK).timestamp()
