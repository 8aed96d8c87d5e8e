"""What the store holds, per series (coverage and gaps), and how much of this hour's request budget is used.

One source for ``octoscope status`` and the dashboard's ``/api/status``; each formats instants its own way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from octoscope.domain.models import Account
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import iso_z
from octoscope.octopus.policy import WINDOW, key_fingerprint
from octoscope.store.ports import StoreProtocol

HALF_HOUR = timedelta(minutes=30)


BUDGET_WINDOW = WINDOW  # seconds: the request budget is counted over this rolling window


def key_id_of(api_key: Secret) -> str:
    """The name the request ledger knows a key by (a fingerprint: the key itself is never stored)."""
    return key_fingerprint(api_key.reveal())


def coverage(
    store: StoreProtocol,
    account: Account,
    now: datetime,
    show: Callable[[datetime], str] = iso_z,
    gaps_listed: int | None = None,
) -> list[dict[str, Any]]:
    """Per meter point of every property: rows held, first and last half-hour, gaps (all, or the
    ``gaps_listed`` longest; the count and the missing half-hours always cover all), and the last sync."""
    cursors = store.cursors()
    out = []
    for prop in account.properties:
        for point in prop.meter_points:
            extent = store.series_extent(point.series)
            gaps = store.series_gaps(point.series)
            missing = sum(round((b - a) / HALF_HOUR) for a, b in gaps)
            expected = extent.rows + missing if extent else 0
            synced = max((at for (name, _), (at, _) in cursors.items() if name == point.series), default=None)
            listed = gaps if gaps_listed is None else sorted(gaps, key=lambda g: g[1] - g[0])[-gaps_listed:]
            out.append(
                {
                    "series": point.series,
                    "property": prop.id,
                    "current_property": prop.lived_in_at(now),
                    "unit": extent.unit if extent else point.unit,
                    "rows": extent.rows if extent else 0,
                    "first_interval": show(extent.first) if extent else None,
                    "last_interval": show(extent.last) if extent else None,
                    "coverage_pct": round(100 * extent.rows / expected, 3) if extent and expected else None,
                    "gap_count": len(gaps),
                    "missing_half_hours": missing,
                    "gaps": [[show(a), show(b)] for a, b in sorted(listed)],
                    "last_sync": show(synced) if synced else None,
                }
            )
    return out


def budget_used(store: StoreProtocol, key_id: str, limits: dict[str, int], now: float) -> dict[str, dict[str, int]]:
    """Requests sent in the last rolling hour per ledger (``limits`` names them), from the shared ledger.
    ``now`` is on the real clock: the ledger is."""
    since = now - WINDOW
    return {api: {"used": len(store.requests_since(key_id, api, since)), "limit": n} for api, n in limits.items()}


def status_report(
    store: StoreProtocol, number: str, key_id: str, limits: dict[str, int], now: datetime, ledger_now: float
) -> dict[str, Any]:
    """``key_id`` is the API key's fingerprint (the ledger files requests under it); ``limits`` per API."""
    account = store.load_account(number)
    series = {} if account is None else {s.pop("series"): s for s in coverage(store, account, now)}
    last = store.last_run()
    return {
        "account": number,
        "database": store.location,
        "series": series,
        "last_run": None
        if last is None
        else {"started": iso_z(last[0]), "finished": iso_z(last[1]) if last[1] else None, "outcome": last[2]},
        "budget_this_hour": budget_used(store, key_id, limits, ledger_now),
    }
