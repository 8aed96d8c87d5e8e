"""The InfluxDB consumption lines made a day at a time from the cost pass's columns are the lines the general
way writes (``influx_writer.line`` of each half-hour's point): a whole day priced on one tariff, a day with a
half-hour without a price, a day with a number that is not finite, a day that changes tariff part-way, a
day whose kWh came as ints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from octoscope.config import Settings
from octoscope.domain.costs import CostReport, HalfHourColumns, Totals
from octoscope.domain.models import Direction, Fuel, MeterPoint
from octoscope.domain.uktime import local_midnight
from octoscope.outputs.influx import _consumption_lines, _Context
from octoscope.outputs.influx_writer import Point, line
from octoscope.services.costing import M3ByHalfHour, PointCosts

AGILE = "E-1R-AGILE-24-10-01-J"
FLEX = "E-1R-VAR-22-11-01-J"
FIRST = date(2026, 3, 27)  # five days about the spring clock change: one of them has 46 half-hours
DAYS = 5
POINT = MeterPoint(Fuel.ELECTRICITY, "1200000000001", Direction.IMPORT, (), ())
TAGS = (("account_number", "A-{1}"),)  # a brace in a tag: nothing formats the head as a template


class _Passes:
    """What ``point_days`` asks of a PointPasses: the point's two passes, here made by hand."""

    def __init__(self, exc: PointCosts, inc: PointCosts) -> None:
        self.costed = (exc, inc)

    def get(self, point: MeterPoint, first: date, end: date) -> tuple[PointCosts, PointCosts]:
        return self.costed


def _columns() -> tuple[HalfHourColumns, HalfHourColumns, dict[date, Totals], dict[date, Totals]]:
    exc, inc = HalfHourColumns(), HalfHourColumns()
    exc_days, inc_days = {}, {}
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        exc_days[day], inc_days[day] = Totals(standing_charge=40.0 + d / 7), Totals(standing_charge=42.0 + d / 7)
        start, stop = local_midnight(day), local_midnight(day + timedelta(days=1))
        for j in range(int((stop - start).total_seconds()) // 1800):
            second = int(start.timestamp()) + 1800 * j
            kwh: float = (j % 5 + 1) if d == 4 else 0.137 * (j % 7) + d / 3  # day 4: ints, as a store might
            rate = 7.5 + j / 3.1
            code = FLEX if d == 3 and j >= 20 else AGILE  # day 3: a new tariff from 10:00
            exc_pence: float | None = kwh * rate / 1.05
            inc_pence: float | None = kwh * rate
            if d == 1 and j == 17:
                exc_pence = inc_pence = rate = None  # type: ignore[assignment]  # no price for it
            if d == 2 and j == 30:
                inc_pence = float("nan")
            for side, pence, r in ((exc, exc_pence, None if rate is None else rate / 1.05), (inc, inc_pence, rate)):
                side.starts.append(second)
                side.kwh.append(kwh)
                side.codes.append(code)
                side.rates.append(r)
                side.pence.append(pence)
                side.bands.append(None if r is None else "half-hourly")
    return exc, inc, exc_days, inc_days


def _expected(
    exc: HalfHourColumns, inc: HalfHourColumns, exc_days: dict[date, Totals], inc_days: dict[date, Totals]
) -> list[str]:
    out = []
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        lo, hi = local_midnight(day).timestamp(), local_midnight(day + timedelta(days=1)).timestamp()
        mine = [j for j, s in enumerate(inc.starts) if lo <= s < hi]
        share_exc, share_inc = exc_days[day].standing_charge / len(mine), inc_days[day].standing_charge / len(mine)
        for j in mine:
            e, i = exc.pence[j], inc.pence[j]
            priced = e is not None and i is not None
            fields: tuple[tuple[str, Any], ...] = (
                ("usage_kwh", inc.kwh[j]),
                ("usage_cost_exc_vat_pence", e),
                ("usage_cost_inc_vat_pence", i),
                ("standing_charge_cost_exc_vat_pence", share_exc),
                ("standing_charge_cost_inc_vat_pence", share_inc),
                ("total_cost_exc_vat_pence", (e or 0.0) + share_exc if priced else None),
                ("total_cost_inc_vat_pence", (i or 0.0) + share_inc if priced else None),
            )
            tags = (*TAGS, ("electricity_mpan", POINT.identifier), ("tariff_code", inc.codes[j] or ""))
            made = line(Point("electricity_consumption", tags, fields, int(inc.starts[j])))
            assert made is not None
            out.append(made)
    return out


def test_the_lines_made_a_day_at_a_time_are_the_general_ways() -> None:
    exc, inc, exc_days, inc_days = _columns()
    none = M3ByHalfHour((), ())
    first, end = FIRST, FIRST + timedelta(days=DAYS)
    passes = _Passes(
        PointCosts(CostReport(Totals(), [], exc_days), {}, none, exc),
        PointCosts(CostReport(Totals(), [], inc_days), {}, none, inc),
    )
    ctx = _Context(Settings(), None, None, TAGS, datetime(2026, 4, 1, tzinfo=UTC), passes)  # type: ignore[arg-type]
    got = list(_consumption_lines(ctx, POINT, local_midnight(first), local_midnight(end)))
    want = _expected(exc, inc, exc_days, inc_days)
    assert len(got) == len(inc.starts) == 4 * 48 + 46
    assert got == want
    assert "usage_cost_inc_vat_pence" not in got[48 * 2 + 30]  # the NaN left out of its line
    assert ",usage_cost_exc_vat_pence" not in got[48 + 17]  # no price: no cost
    assert all(" usage_kwh=" in g and ".0,usage_cost" in g for g in got[-46:])  # ints' kWh written as floats
