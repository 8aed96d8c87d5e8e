"""What to fetch from Octopus (a plan with the fewest requests) and doing it (fetch, parse, upsert, cursors).

The names below are what the layers above (``web``, ``cli``, ``outputs``) may use; the modules inside are
sync's own (``make lint`` holds them to this, see ``[tool.importlinter]`` in pyproject.toml).
"""

from __future__ import annotations

from octoscope.sync.bills import FetchResult
from octoscope.sync.discovery import discover
from octoscope.sync.dispatches import LEDGER as DISPATCH_LEDGER
from octoscope.sync.dispatches import PER_HOUR as DISPATCHES_PER_HOUR
from octoscope.sync.dispatches import NoIntelligentDevice, RefreshTooSoon, listing, refresh
from octoscope.sync.plan import resolve_window
from octoscope.sync.prices import fetch_prices_ahead
from octoscope.sync.run import PlannedSync, Progress, SeriesSynced, SyncResult, SyncSummary, run_sync
from octoscope.sync.schedule import day_ahead_tariffs

__all__ = [
    "DISPATCHES_PER_HOUR",
    "DISPATCH_LEDGER",
    "FetchResult",
    "NoIntelligentDevice",
    "PlannedSync",
    "Progress",
    "RefreshTooSoon",
    "SeriesSynced",
    "SyncResult",
    "SyncSummary",
    "day_ahead_tariffs",
    "discover",
    "fetch_prices_ahead",
    "listing",
    "refresh",
    "resolve_window",
    "run_sync",
]
