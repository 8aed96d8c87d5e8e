"""Benchmark costing 1 and 5 meter-years of half-hours; prints one JSON line.

The data is written here, without the network, into a real SQLite store in a temporary directory: one
account with one import MPAN, five years of UK local days (2021-01-01 to 2026-01-01, so ten clock-change days
of 46 and 50 half-hours) of consumption, on Agile (a price for every half-hour, payment method none, standing
charge changing each quarter) until a switch at local midnight on 2025-09-01 to a flat variable tariff (prices
for direct debit and for other methods, changing each quarter). The store holds what a sync would: Agile prices
over the Agile agreement, the flat tariff's records from the quarter the switch falls in, and the charging
detected in each eight-week block kept, as the sync keeps it (``services.costing.keep_detected``).

Two windows of the one series are costed by month: the last year (17,520 half-hours, the switch inside it)
and all five years (87,648 half-hours, 5.003 meter-years).

- ``domain_ms_per_meter_year``: the pure ``octoscope.domain.costs.cost`` alone, over readings and prices
  already in memory (median of 5 runs, after a warm-up, divided by the window's meter-years).
- ``end_to_end_ms_per_meter_year``: ``octoscope.services.costing.account_costs`` from the store: reading the rows and
  prices, pricing, bucketing by month and shaping the JSON-ready answer (same median). The account is loaded
  from the store once, before, as the CLI does.
- ``*_peak_mb_*``: tracemalloc's peak during one call, above what was allocated before it (separate runs:
  tracemalloc slows the code it watches), for 1 and 5 meter-years; ``*_memory_ratio_5_to_1`` is the growth
  for 5.003 times the half-hours (linear would be about 5). ``agile_half_hours_*`` are given because the
  Agile prices read for a window (one per half-hour) are most of what the end-to-end figure holds: 7x more
  of them in the five-year window than in the one-year one. ``account_costs`` reads only the prices that
  overlap the window asked.
- ``within_target``: end-to-end under 50 ms per meter-year for both windows.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from machine import machine
from octoscope.domain.costs import CostReport, Prices, cost
from octoscope.domain.models import (
    Account,
    Agreement,
    Charge,
    Direction,
    Fuel,
    Meter,
    MeterPoint,
    Property,
    Rate,
    Reading,
    TariffCode,
)
from octoscope.domain.uktime import HALF_HOUR, local_midnight
from octoscope.services.cost_results import CostsReport
from octoscope.services.costing import account_costs, keep_detected
from octoscope.store.sqlite import Store

FIRST_DAY = date(2021, 1, 1)
END_DAY = date(2026, 1, 1)  # exclusive
SWITCH_DAY = date(2025, 9, 1)  # Agile until this local midnight, the flat tariff from it
WINDOWS = {"1": (date(2025, 1, 1), END_DAY), "5": (FIRST_DAY, END_DAY)}
ACCOUNT = "A-0000C057"
MPAN = "1200000057001"
SERIAL = "BEN0057001"
AGILE = "E-1R-AGILE-24-10-01-C"
FLAT = "E-1R-VAR-22-11-01-C"
PAYMENT_METHODS = ("DIRECT_DEBIT", "NON_DIRECT_DEBIT")
HALF_HOURS_PER_METER_YEAR = 17_520
RUNS = 5
TARGET_MS_PER_METER_YEAR = 50.0
SEED = 5705


def half_hours(first: date, end: date) -> list[datetime]:
    """Every half-hour start of the local days [first, end), in UTC: 46, 48 or 50 a day."""
    start, stop = local_midnight(first), local_midnight(end)
    count = int((stop - start) / HALF_HOUR)
    return [start + i * HALF_HOUR for i in range(count)]


def quarters(first: date, end: date) -> list[date]:
    """The first days of the quarters from the one holding ``first`` up to ``end`` (exclusive)."""
    out = [date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)]
    while out[-1] < end:
        nxt = out[-1].month + 3
        out.append(date(out[-1].year + (nxt > 12), (nxt - 1) % 12 + 1, 1))
    return out[:-1]


def consumption(starts: list[datetime], rng: random.Random) -> list[Reading]:
    """A household's kWh per half-hour: baseload, a morning and an evening peak, noise; 3 decimals as the API."""
    out = []
    for start in starts:
        hour = (start.hour + start.minute / 60 + 0.5) % 24  # roughly local
        shape = 0.12 + 0.25 * math.exp(-(((hour - 8) / 1.5) ** 2)) + 0.55 * math.exp(-(((hour - 18.5) / 2) ** 2))
        out.append(Reading(start, round(max(0.0, shape * rng.uniform(0.6, 1.5)), 3)))
    return out


def agile_unit_rates(starts: list[datetime], rng: random.Random) -> list[Rate]:
    """One price per half-hour, now and then negative; Agile names no payment method."""
    out = []
    for start in starts:
        hour = start.hour + start.minute / 60
        base = 14.0 + (16.0 if 16 <= hour < 19 else 0.0) - (6.0 if 1 <= hour < 5 else 0.0)
        exc = round(base + rng.gauss(0.0, 4.0), 4)
        out.append(Rate(start, start + HALF_HOUR, exc, round(exc * 1.05, 4), None))
    return out


def quarterly(first: date, end: date, values: list[float], methods: tuple[str | None, ...]) -> list[Rate]:
    """Records changing at each quarter's local midnight, the last open-ended; one set per payment method."""
    days = quarters(first, end)
    out = []
    for i, day in enumerate(days):
        valid_to = local_midnight(days[i + 1]) if i + 1 < len(days) else None
        exc = values[i % len(values)]
        for n, method in enumerate(methods):
            price = round(exc * (1 + 0.02 * n), 4)  # other methods pay a little more
            out.append(Rate(local_midnight(day), valid_to, price, round(price * 1.05, 4), method))
    return out


def build(store: Store) -> dict[str, Any]:
    """Write the account, five years of readings and the prices; return what the pure bench needs."""
    rng = random.Random(SEED)
    switch = local_midnight(SWITCH_DAY)
    agreements = (Agreement(AGILE, local_midnight(FIRST_DAY), switch), Agreement(FLAT, switch, None))
    meter = Meter(SERIAL, ("STANDARD",), FIRST_DAY, None, "kWh", "ESME", None)
    point = MeterPoint(Fuel.ELECTRICITY, MPAN, Direction.IMPORT, (meter,), agreements, profile_class=1)
    home = Property("3105700", local_midnight(FIRST_DAY), None, "SW1A 1AA", "1 Bench Street", (point,))
    now = local_midnight(END_DAY) + timedelta(hours=9)
    store.save_account(Account(ACCOUNT, (home,)), [], now)

    starts = half_hours(FIRST_DAY, END_DAY)
    readings = consumption(starts, rng)
    store.write_consumption(point.series, SERIAL, "kWh", readings)
    agile_unit = agile_unit_rates(half_hours(FIRST_DAY, SWITCH_DAY), rng)
    agile_standing = quarterly(FIRST_DAY, SWITCH_DAY, [42.0, 44.5, 47.0, 45.2, 49.1], (None,))
    flat_unit = quarterly(SWITCH_DAY, END_DAY, [24.5, 26.1], PAYMENT_METHODS)
    flat_standing = quarterly(SWITCH_DAY, END_DAY, [51.2, 53.4], PAYMENT_METHODS)
    for code, charge, rates in (
        (AGILE, Charge.STANDARD, agile_unit),
        (AGILE, Charge.STANDING, agile_standing),
        (FLAT, Charge.STANDARD, flat_unit),
        (FLAT, Charge.STANDING, flat_standing),
    ):
        store.write_rates(code, charge, rates)
    # What a sync leaves after writing: each block's detected charging kept (services.sync_run does the same).
    keep_detected(store, Account(ACCOUNT, (home,)), {point.series: [(starts[0], starts[-1] + HALF_HOUR)]}, now)
    prices = {
        AGILE: Prices({Charge.STANDARD: agile_unit}, agile_standing, "DIRECT_DEBIT"),
        FLAT: Prices({Charge.STANDARD: flat_unit}, flat_standing, "DIRECT_DEBIT"),
    }
    assert TariffCode.parse(AGILE).charges == (Charge.STANDARD, Charge.STANDING)
    return {
        "readings": [(r.start, r.value) for r in readings],
        "agreements": agreements,
        "prices": prices,
        "rows": {"consumption": len(readings), "unit_rates": len(agile_unit) + len(flat_unit)},
    }


def timed(call: Callable[[], Any]) -> tuple[float, list[float]]:
    """Median and all of RUNS timed calls (ms), after one warm-up."""
    call()
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), runs


def peak_mb(call: Callable[[], Any]) -> float:
    """tracemalloc's peak during one call, above what was allocated before it, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - before) / 2**20


def main() -> None:
    load_before = os.getloadavg()[0]
    figures: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="octoscope-bench-costs-") as tmp,
        Store.open(Path(tmp) / "bench.db") as store,
    ):
        started = time.perf_counter()
        data = build(store)
        build_seconds = time.perf_counter() - started
        account = store.load_account(ACCOUNT)
        if account is None:
            raise RuntimeError("the account was not stored")
        for years, (first, end) in WINDOWS.items():
            lo, hi = local_midnight(first), local_midnight(end)
            readings = [r for r in data["readings"] if lo <= r[0] < hi]
            meter_years = len(readings) / HALF_HOURS_PER_METER_YEAR

            def domain(
                readings: list[tuple[datetime, float]] = readings, first: date = first, end: date = end
            ) -> CostReport:
                return cost(readings, data["agreements"], data["prices"], first, end, by="month")

            def end_to_end(first: date = first, end: date = end) -> CostsReport:
                return account_costs(store, account, first, end, by="month", fuels=("electricity",))

            (answer,) = end_to_end().fuels
            pure = domain()
            if pure.totals.partial_days or answer.totals.partial_days:
                raise RuntimeError(f"{years} years: partial days {answer.totals.partial_days[:5]}")
            if pure.totals.half_hours != len(readings) or not math.isclose(
                pure.totals.total, answer.totals.total_pence, rel_tol=1e-9
            ):
                raise RuntimeError(f"{years} years: the domain and end-to-end totals differ")
            if len(answer.buckets) != 12 * int(years):
                raise RuntimeError(f"{years} years: {len(answer.buckets)} monthly buckets")
            domain_ms, domain_runs = timed(domain)
            e2e_ms, e2e_runs = timed(end_to_end)
            figures[years] = {
                "meter_years": meter_years,
                "half_hours": len(readings),
                "agile_half_hours": sum(1 for r in readings if r[0] < local_midnight(SWITCH_DAY)),
                "total_pence": answer.totals.total_pence,
                "bands": sorted(name for name, _ in answer.totals.bands),
                "domain_ms": domain_ms,
                "domain_runs": domain_runs,
                "e2e_ms": e2e_ms,
                "e2e_runs": e2e_runs,
                "domain_peak_mb": peak_mb(domain),
                "e2e_peak_mb": peak_mb(end_to_end),
            }
    one, five = figures["1"], figures["5"]
    e2e_per_year = {y: f["e2e_ms"] / f["meter_years"] for y, f in figures.items()}
    result: dict[str, Any] = {"bench": "costs", "by": "month", "runs": RUNS}
    for years, f in figures.items():
        result[f"meter_years_{years}"] = round(f["meter_years"], 3)
        result[f"agile_half_hours_{years}"] = f["agile_half_hours"]
        result[f"domain_ms_{years}_meter_years"] = round(f["domain_ms"], 1)
        result[f"domain_ms_per_meter_year_{years}"] = round(f["domain_ms"] / f["meter_years"], 1)
        result[f"end_to_end_ms_{years}_meter_years"] = round(f["e2e_ms"], 1)
        result[f"end_to_end_ms_per_meter_year_{years}"] = round(e2e_per_year[years], 1)
        result[f"end_to_end_ms_runs_{years}"] = [round(ms, 1) for ms in f["e2e_runs"]]
    for years, f in figures.items():
        result[f"domain_peak_mb_{years}_meter_years"] = round(f["domain_peak_mb"], 2)
        result[f"end_to_end_peak_mb_{years}_meter_years"] = round(f["e2e_peak_mb"], 2)
    result["domain_memory_ratio_5_to_1"] = round(five["domain_peak_mb"] / one["domain_peak_mb"], 2)
    result["end_to_end_memory_ratio_5_to_1"] = round(five["e2e_peak_mb"] / one["e2e_peak_mb"], 2)
    result["target_ms_per_meter_year"] = TARGET_MS_PER_METER_YEAR
    result["within_target"] = all(ms < TARGET_MS_PER_METER_YEAR for ms in e2e_per_year.values())
    result["bands"] = five["bands"]
    result["rows_stored"] = data["rows"]
    result["build_seconds"] = round(build_seconds, 2)
    result.update(machine())
    result["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
