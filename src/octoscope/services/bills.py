"""Is my bill right? Octopus's statements (kept by ``sync/bills.py``) next to octoscope's own costs.

Our side is costing.py's engine, exc VAT with billing rounding (0.01 kWh x 0.01 p per half-hour), over the
same local days as each of Octopus's charges; ``domain/bills.py`` rounds it as a bill does and compares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.domain.bills import (
    BILL_FUELS,
    OurCost,
    StatementReport,
    Window,
    balances,
    billed_kwh,
    reconcile,
    windows_needed,
)
from octoscope.domain.models import Account, MeterPoint
from octoscope.domain.uktime import half_hours_in, local_date, local_midnight
from octoscope.octopus.graphql import GraphQLClient
from octoscope.services.costing import INTELLIGENT, FuelName, cost_point, fuel_of, load_account
from octoscope.store.ports import StoreProtocol
from octoscope.sync.bills import FetchResult, fetch_statements


@dataclass(frozen=True, slots=True)
class BillsReport:
    """Each statement kept, reconciled fuel by fuel, and the balance over time; :func:`report_json` renders it."""

    account: str
    statements: tuple[StatementReport, ...]
    balance: tuple[tuple[date, int], ...]
    fetch: FetchResult | None
    tolerance: int

    @property
    def flagged(self) -> int:
        return sum(r.flagged for r in self.statements)


async def fetch(client: GraphQLClient, store: StoreProtocol, number: str, clock: Clock) -> FetchResult:
    """Ask Octopus for statements not yet kept (the open one at most daily), through ``client``'s policy."""
    return await fetch_statements(client, store, number, clock.now())


def _span(point: MeterPoint) -> tuple[date, date | None] | None:
    """The local days [first, end) the point had an agreement in (end None: still has one)."""
    if not point.agreements:
        return None
    first = local_date(min(a.valid_from for a in point.agreements))
    ends = [a.valid_to for a in point.agreements]
    if any(e is None for e in ends):
        return first, None
    last = max(e for e in ends if e is not None)
    return first, local_date(last - timedelta(seconds=1)) + timedelta(days=1)


def our_cost(store: StoreProtocol, account: Account, settings: Settings, window: Window, today: date) -> OurCost:
    """octoscope's cost of one fuel over a window's days, exc VAT, with how much of it the data covers.
    Days from ``reread_days`` before ``today`` on are unsettled: Octopus may still revise their readings."""
    costs = replace(settings.costs, rounding="billing")
    end = window.last + timedelta(days=1)
    days = [window.first + timedelta(days=i) for i in range((end - window.first).days)]
    kwh = usage = supply = 0.0
    held = expected = 0
    covered: set[date] = set()
    dispatches_known = True
    kept = store.dispatches()
    kept_from = min((r.start for r in kept), default=None)  # octoscope's dispatch history begins here
    points = [p for prop in account.properties for p in prop.meter_points if fuel_of(p) == window.fuel]
    for point in points:
        span = _span(point)
        if span is None:
            continue
        lo = max(window.first, span[0])
        hi = end if span[1] is None else min(end, span[1])
        if lo >= hi:
            continue
        mine = [d for d in days if lo <= d < hi]
        covered |= set(mine)
        expected += sum(half_hours_in(d) for d in mine)
        priced = cost_point(  # no estimated smart charging: the check says where dispatches were not known
            store,
            point,
            lo,
            hi,
            inc_vat=False,
            payment_method=settings.payment_method,
            settings=costs,
            half_hours=True,
            estimate=False,
        )
        totals = priced.report.totals
        kwh += sum(billed_kwh(h.kwh) for h in priced.half_hours)  # as a bill counts them: 0.01 kWh each
        usage += totals.energy_cost
        supply += totals.standing_charge
        held += totals.half_hours
        if any(INTELLIGENT in a.tariff.product for a in point.agreements) and window.fuel == "electricity":
            dispatches_known = dispatches_known and kept_from is not None and kept_from <= local_midnight(lo)
    return OurCost(
        kwh=kwh,
        usage=usage,
        supply=supply,
        half_hours=held,
        expected=expected,
        days_outside=len(days) - len(covered) if points else 0,
        dispatches_known=dispatches_known,
        unsettled_days=sum(d >= today - timedelta(days=settings.sync.reread_days) for d in days),
    )


def bills_report(
    store: StoreProtocol, settings: Settings, today: date, *, fetched: FetchResult | None = None, tolerance: int = 1
) -> BillsReport:
    number = settings.require_account()
    account = load_account(store, number)
    fuels: tuple[FuelName, ...] = tuple(
        f for f in BILL_FUELS if any(fuel_of(p) == f for prop in account.properties for p in prop.meter_points)
    )
    kept = [st for st, _ in store.statements(number)]
    reports = []
    cache: dict[Window, OurCost] = {}
    for st in kept:
        for w in windows_needed(st, fuels):
            if w not in cache:
                cache[w] = our_cost(store, account, settings, w, today)
        reports.append(reconcile(st, fuels, cache, tolerance))
    return BillsReport(number, tuple(reports), tuple(balances(kept)), fetched, tolerance)


def report_json(report: BillsReport) -> dict[str, Any]:
    """The CLI's ``--json`` and ``/api/bills``: pence throughout, positive balance in credit."""
    statements = []
    for r in report.statements:
        st = r.statement
        statements.append(
            {
                "id": st.ident,
                "from": st.first.isoformat(),
                "to": st.last.isoformat(),
                "issued": st.issued.isoformat() if st.issued else None,
                "status": st.status,
                "opening_balance": st.opening,
                "closing_balance": st.closing,
                "flagged": r.flagged,
                "notes": list(r.notes),
                "fuels": [
                    {
                        "fuel": line.fuel,
                        "octopus_pence": line.theirs,
                        "octoscope_pence": line.ours,
                        "difference_pence": line.difference,
                        "matches": line.matches,
                        "reasons": [{"cause": x.cause, "text": x.text} for x in line.reasons],
                    }
                    for line in r.lines
                ],
                "payments_pence": sum(t.net for t in st.transactions if t.kind == "payment"),
            }
        )
    fetch = report.fetch
    return {
        "account": report.account,
        "tolerance_pence": report.tolerance,
        "flagged": report.flagged,
        "statements": statements,
        "balance": [{"date": d.isoformat(), "pence": p} for d, p in report.balance],
        "fetch": None
        if fetch is None
        else {"requests": fetch.requests, "fetched": fetch.fetched, "kept": fetch.kept, "skipped": fetch.skipped},
    }
