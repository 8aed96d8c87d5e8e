"""What a feed holds, as the plain data the web API answers and the terminal view shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from octoscope.domain.live import DayRates, LiveReading, Projection, project, summarise
from octoscope.live.hub import local_iso, reading_dict
from octoscope.live.service import Feed


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def summary(readings: Sequence[LiveReading]) -> dict[str, Any] | None:
    """Demand current, average, peak and least; energy and its cost (of the readings whose rate is known:
    ``cost_complete`` says whether that is all of them)."""
    found = summarise(readings)
    if found is None:
        return None
    return {
        "demand_current_w": round(found.current_w, 1),
        "demand_current_kw": round(found.current_w / 1000, 3),
        "demand_average_kw": round(found.average_kw, 3),
        "demand_peak_kw": round(found.peak_kw, 3),
        "demand_min_kw": round(found.min_kw, 3),
        "consumption_kwh": round(found.kwh, 4),
        "cost_pence": round(found.pence, 3),
        "cost_pounds": round(found.pence / 100, 5),
        "cost_complete": found.priced,
    }


def cost(feed: Feed, rates: DayRates | None, now: datetime) -> dict[str, Any]:
    """The unit rate in force now, the cost of an hour at the current demand, and today and this month at
    the last hour's average demand (energy only: the standing charge is given beside them)."""
    newest = feed.hub.newest
    hour = feed.hub.readings(now - timedelta(hours=1))
    projection = Projection(None, None, None, None)
    if newest is not None and hour:
        projection = project(newest.demand_w, sum(r.demand_w for r in hour) / len(hour), rates, now)
    return {
        "rate_pence_per_kwh": _round(projection.rate, 4),
        "cost_per_hour_pence": _round(projection.per_hour, 3),
        "projected_day_pence": _round(projection.day, 2),
        "projected_month_pence": _round(projection.month, 2),
        "standing_charge_pence_per_day": _round(rates.standing_pence if rates else None, 4),
    }


def dashboard(feed: Feed, rates: DayRates | None, now: datetime, minutes: int) -> dict[str, Any]:
    recent = feed.hub.readings(now - timedelta(minutes=minutes))
    newest = feed.hub.newest
    return {
        "current": None if newest is None else reading_dict(newest),
        "recent": [reading_dict(r) for r in recent],
        "stats": summary(recent),
        "cost": cost(feed, rates, now),
        "status": feed.status.as_dict(),
        # For the page's "as of …, N s ago": readings are shown this far behind, and the server's clock (a demo's
        # or a test's may be set and run fast) is now this, moving at this speed.
        "playout_seconds": round(feed.delay(), 1),
        "now": local_iso(now),
        "clock_speed": feed.service.clock.speed,
    }
