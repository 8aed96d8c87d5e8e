"""What the store holds, per series, and how much of this hour's request budget is used."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from octoscope.domain.uktime import iso_z
from octoscope.octopus.policy import WINDOW
from octoscope.store.sqlite import Store


def status_report(store: Store, number: str, key_id: str, limits: dict[str, int]) -> dict[str, Any]:
    """``key_id`` is the API key's fingerprint (the ledger files requests under it); ``limits`` per API."""
    now = datetime.now(UTC)
    account = store.load_account(number)
    cursors = store.cursors()
    series: dict[str, Any] = {}
    if account is not None:
        for prop in account.properties:
            for point in prop.meter_points:
                extent = store.series_extent(point.series)
                synced = max((at for (name, _), (at, _) in cursors.items() if name == point.series), default=None)
                gaps = store.series_gaps(point.series)
                series[point.series] = {
                    "property": prop.id,
                    "current_property": prop.lived_in_at(now),
                    "unit": extent.unit if extent else point.unit,
                    "rows": extent.rows if extent else 0,
                    "first_interval": iso_z(extent.first) if extent else None,
                    "last_interval": iso_z(extent.last) if extent else None,
                    "gaps": [[iso_z(a), iso_z(b)] for a, b in gaps],
                    "last_sync": iso_z(synced) if synced else None,
                }
    since = time.time() - WINDOW
    last = store.last_run()
    return {
        "account": number,
        "database": str(store.path),
        "series": series,
        "last_run": None
        if last is None
        else {"started": iso_z(last[0]), "finished": iso_z(last[1]) if last[1] else None, "outcome": last[2]},
        "budget_this_hour": {
            api: {"used": len(store.requests_since(key_id, api, since)), "limit": limit}
            for api, limit in limits.items()
        },
    }
