"""What the store holds, per series (coverage and gaps), and how much of this hour's request budget is used.

One source for ``octoscope status`` and the dashboard's ``/api/status``: typed results, each with one
rendering to JSON, which takes how to show an instant (the CLI says UTC ``Z``, the dashboard UK local time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from octoscope.domain.models import Account
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import iso_z
from octoscope.octopus.policy import WINDOW, key_fingerprint
from octoscope.store.ports import StoreProtocol

HALF_HOUR = timedelta(minutes=30)


BUDGET_WINDOW = WINDOW  # seconds: the request budget is counted over this rolling window

Show = Callable[[datetime], str]


def key_id_of(api_key: Secret) -> str:
    """The name the request ledger knows a key by (a fingerprint: the key itself is never stored)."""
    return key_fingerprint(api_key.reveal())


@dataclass(frozen=True, slots=True)
class SeriesCoverage:
    """One meter point's series: rows held, first and last half-hour, gaps, and when it was last synced."""

    series: str
    property: str
    current_property: bool
    unit: str | None
    rows: int
    first_interval: datetime | None
    last_interval: datetime | None
    coverage_pct: float | None
    gap_count: int  # every gap, however many are listed
    missing_half_hours: int
    gaps: tuple[tuple[datetime, datetime], ...]  # those listed, in time order
    last_sync: datetime | None

    def to_json(self, show: Show = iso_z) -> dict[str, Any]:
        """Without the series' name: the CLI files each under it, the dashboard puts it first."""
        return {
            "property": self.property,
            "current_property": self.current_property,
            "unit": self.unit,
            "rows": self.rows,
            "first_interval": show(self.first_interval) if self.first_interval else None,
            "last_interval": show(self.last_interval) if self.last_interval else None,
            "coverage_pct": self.coverage_pct,
            "gap_count": self.gap_count,
            "missing_half_hours": self.missing_half_hours,
            "gaps": [[show(a), show(b)] for a, b in self.gaps],
            "last_sync": show(self.last_sync) if self.last_sync else None,
        }


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """Requests sent in the last rolling hour, against the hour's allowance."""

    used: int
    limit: int

    def to_json(self) -> dict[str, int]:
        return {"used": self.used, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class RunSeen:
    """The last sync run in the run log; ``outcome`` is ok, failed, running or interrupted."""

    started: datetime
    finished: datetime | None
    outcome: str

    def to_json(self, show: Show = iso_z) -> dict[str, Any]:
        return {
            "started": show(self.started),
            "finished": show(self.finished) if self.finished else None,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    """``octoscope status``: the account's series, the last sync run and the budget used this hour."""

    account: str
    database: str
    series: tuple[SeriesCoverage, ...]
    last_run: RunSeen | None
    budget_this_hour: Mapping[str, BudgetUse]

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "database": self.database,
            "series": {s.series: s.to_json() for s in self.series},
            "last_run": None if self.last_run is None else self.last_run.to_json(),
            "budget_this_hour": budget_json(self.budget_this_hour),
        }


def budget_json(budget: Mapping[str, BudgetUse]) -> dict[str, dict[str, int]]:
    return {api: use.to_json() for api, use in budget.items()}


def coverage(
    store: StoreProtocol, account: Account, now: datetime, gaps_listed: int | None = None
) -> list[SeriesCoverage]:
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
                SeriesCoverage(
                    series=point.series,
                    property=prop.id,
                    current_property=prop.lived_in_at(now),
                    unit=extent.unit if extent else point.unit,
                    rows=extent.rows if extent else 0,
                    first_interval=extent.first if extent else None,
                    last_interval=extent.last if extent else None,
                    coverage_pct=round(100 * extent.rows / expected, 3) if extent and expected else None,
                    gap_count=len(gaps),
                    missing_half_hours=missing,
                    gaps=tuple(sorted(listed)),
                    last_sync=synced,
                )
            )
    return out


def budget_used(store: StoreProtocol, key_id: str, limits: Mapping[str, int], now: float) -> dict[str, BudgetUse]:
    """Requests sent in the last rolling hour per ledger (``limits`` names them), from the shared ledger.
    ``now`` is on the real clock: the ledger is."""
    since = now - WINDOW
    return {api: BudgetUse(len(store.requests_since(key_id, api, since)), n) for api, n in limits.items()}


def last_run(store: StoreProtocol) -> RunSeen | None:
    last = store.last_run()
    return None if last is None else RunSeen(*last)


def status_report(
    store: StoreProtocol, number: str, key_id: str, limits: Mapping[str, int], now: datetime, ledger_now: float
) -> StatusReport:
    """``key_id`` is the API key's fingerprint (the ledger files requests under it); ``limits`` per API."""
    account = store.load_account(number)
    return StatusReport(
        account=number,
        database=store.location,
        series=() if account is None else tuple(coverage(store, account, now)),
        last_run=last_run(store),
        budget_this_hour=budget_used(store, key_id, limits, ledger_now),
    )
