"""Octopus's statements, and reconciling them with octoscope's own costs: pure, no I/O, no clock.

A statement's charges are compared per fuel (electricity, gas, export) with what octoscope costs for the
same days, rounded as a bill is: a charge's net to the penny, VAT 5 % of the net to the penny (half up),
export without VAT. Where they differ the reason is given when one is known, from the charges themselves:
kWh billed against kWh metered (an estimated read, or readings missing on our side), a charge for days of
an earlier statement (a correction), usage or standing charge apart at the same kWh (dispatch pricing, a
rate that is not the published one), no charge at all (a missed export credit), days outside our data.

Money is in pence (minor units); a positive balance means the account is in credit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

BillFuel = Literal["electricity", "gas", "export"]
BILL_FUELS: tuple[BillFuel, ...] = ("electricity", "gas", "export")
KINDS = ("charge", "credit", "payment", "refund")
VAT_RATE = Decimal("0.05")
KWH_TOLERANCE = 0.015  # kWh: both sides round each half-hour to 0.01


@dataclass(frozen=True)
class Transaction:
    """One line of a statement. ``kind`` is charge, credit, payment, refund or unknown (an unknown type,
    kept and reported, never counted)."""

    kind: str
    ident: str
    typename: str
    posted: date | None
    title: str
    net: int
    tax: int
    gross: int
    balance_after: int | None = None
    is_export: bool = False
    start: date | None = None  # consumption window of a charge, local days inclusive
    end: date | None = None
    kwh: float | None = None
    usage: int | None = None  # pence exc VAT, where Octopus splits a charge
    supply: int | None = None

    @property
    def fuel(self) -> BillFuel | None:
        if self.kind != "charge":
            return None
        if self.is_export:
            return "export"
        title = self.title.lower()
        if "gas" in title:
            return "gas"
        return "electricity" if "electric" in title else None


@dataclass(frozen=True)
class Statement:
    ident: str
    bill_type: str
    first: date
    last: date  # inclusive
    issued: date | None
    status: str | None  # OPEN or CLOSED
    opening: int | None
    closing: int | None
    transactions: tuple[Transaction, ...]
    problems: tuple[str, ...] = ()  # what was odd in the payload, one line each

    @property
    def closed(self) -> bool:
        return self.status == "CLOSED"

    @property
    def charges(self) -> list[Transaction]:
        return [t for t in self.transactions if t.kind == "charge"]


def statement_to_dict(st: Statement) -> dict[str, Any]:
    return asdict(st)


def statement_from_dict(data: dict[str, Any]) -> Statement:
    def day(value: Any) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) else value

    txs = tuple(
        Transaction(**{**t, "posted": day(t["posted"]), "start": day(t["start"]), "end": day(t["end"])})
        for t in data["transactions"]
    )
    return Statement(
        **{
            **data,
            "first": day(data["first"]),
            "last": day(data["last"]),
            "issued": day(data["issued"]),
            "transactions": txs,
            "problems": tuple(data["problems"]),
        }
    )


# --- our side ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    fuel: BillFuel
    first: date
    last: date  # inclusive


@dataclass(frozen=True)
class OurCost:
    """octoscope's cost of one fuel over a window, exc VAT and unrounded, with how complete its data is."""

    kwh: float
    usage: float
    supply: float
    half_hours: int  # held
    expected: int  # in the window's days that had an agreement
    days_outside: int = 0  # days of the window with no agreement or before the data begins
    dispatches_known: bool = True  # an Intelligent window whose smart dispatches octoscope holds
    unsettled_days: int = 0  # recent days whose readings Octopus may still revise (or deliver late)


def _pence(value: Decimal | float) -> int:
    return int(Decimal(repr(value) if isinstance(value, float) else value).quantize(Decimal(1), ROUND_HALF_UP))


def billed_kwh(kwh: float) -> float:
    """One half-hour's kWh as a bill counts it: to 0.01 kWh, half to even (costs.py's billing rounding)."""
    return float(Decimal(repr(kwh)).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def billed(fuel: BillFuel, ours: OurCost) -> tuple[int, int]:
    """(net, tax) as a bill would put ours: net to the penny, VAT 5 % of it; export negative, no VAT."""
    if fuel == "export":
        return -_pence(ours.usage), 0
    net = _pence(ours.usage + ours.supply)
    return net, _pence(Decimal(net) * VAT_RATE)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _inside(t: Transaction, st: Statement) -> bool:
    return t.start is not None and t.end is not None and st.first <= t.start and t.end <= st.last


def windows_needed(st: Statement, fuels: tuple[BillFuel, ...]) -> list[Window]:
    """The windows octoscope must cost to reconcile ``st``: each charge's own window (corrections of
    earlier days too), and each run of the statement's days no charge of that fuel covers."""
    out: list[Window] = []
    for fuel in fuels:
        covered: set[date] = set()
        for t in st.charges:
            if t.fuel != fuel or t.start is None or t.end is None or t.end < t.start:
                continue
            out.append(Window(fuel, t.start, t.end))
            if _inside(t, st):
                covered |= set(_days(t.start, t.end))
        out += [Window(fuel, a, b) for a, b in _runs([d for d in _days(st.first, st.last) if d not in covered])]
    return list(dict.fromkeys(out))


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and runs[-1][1] == d - timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


# --- reconciling -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    cause: str  # estimated_read, estimate_correction, missing_readings, provisional_readings, outside_data,
    # dispatch_pricing, unit_rate, standing_charge, missed_export, not_billed, rounding, unexplained
    text: str


@dataclass(frozen=True)
class FuelLine:
    fuel: BillFuel
    theirs: int  # pence inc VAT, as billed (export negative)
    ours: int
    reasons: tuple[Reason, ...]
    tolerance: int

    @property
    def difference(self) -> int:
        return self.theirs - self.ours

    @property
    def matches(self) -> bool:
        return abs(self.difference) <= self.tolerance


@dataclass(frozen=True)
class StatementReport:
    statement: Statement
    lines: tuple[FuelLine, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> bool:
        return any(not line.matches for line in self.lines)


def reconcile(
    st: Statement,
    fuels: tuple[BillFuel, ...],
    costs: Mapping[Window, OurCost],
    tolerance: int = 1,
) -> StatementReport:
    """Each fuel of ``st`` that either side has, Octopus's charges next to ours for the same days.
    ``costs`` holds at least :func:`windows_needed`'s windows (missing ones count as nothing held)."""
    notes = list(st.problems)
    if not st.closed:
        notes.append("open statement: charges are added when it closes")
    if not st.transactions:
        notes.append("the statement has no transactions")
    credited = sum(t.gross for t in st.transactions if t.kind == "credit")
    charged = sum(t.gross for t in st.charges if t.gross > 0)
    if credited:
        notes.append(f"credits of £{credited / 100:.2f} (rewards, goodwill): not a fuel's charge, not compared")
    if credited > charged:
        notes.append(f"the credits exceed the charges (£{charged / 100:.2f}): the statement adds to the balance")
    lines = []
    for fuel in fuels:
        line = _fuel_line(st, fuel, costs, tolerance)
        if line is not None:
            lines.append(line)
    return StatementReport(st, tuple(lines), tuple(notes))


def _fuel_line(st: Statement, fuel: BillFuel, costs: Mapping[Window, OurCost], tolerance: int) -> FuelLine | None:
    charges = [t for t in st.charges if t.fuel == fuel]
    windows = windows_needed(st, (fuel,))
    reasons: list[Reason] = []
    theirs = sum(t.gross for t in charges)
    ours = 0
    held_any = False
    for w in windows:
        cost = costs.get(w)
        inside = st.first <= w.first and w.last <= st.last
        if cost is None:
            continue
        held_any = held_any or cost.half_hours > 0
        net, tax = billed(fuel, cost)
        if inside:
            ours += net + tax
        if inside and cost.days_outside:
            reasons.append(
                Reason(
                    "outside_data", f"{cost.days_outside} day(s) of {w.first}..{w.last} are outside octoscope's data"
                )
            )
    if not charges and not held_any:
        return None
    if not st.closed and not charges:
        return None  # nothing billed yet: nothing to compare
    for t in charges:
        if t.start is None or t.end is None or t.end < t.start:
            continue  # counted, not compared: the statement's notes say so
        cost = costs.get(Window(fuel, t.start, t.end))
        if not _inside(t, st):
            reasons.append(
                Reason(
                    "estimate_correction",
                    f"a charge of {t.gross / 100:.2f} for {t.start}..{t.end}, days of an earlier statement:"
                    " the correction of an estimated read",
                )
            )
            continue
        if cost is None:
            continue
        reasons += _charge_reasons(fuel, t, cost)
    covered = {d for t in charges if _inside(t, st) and t.start and t.end for d in _days(t.start, t.end)}
    unbilled = [w for w in windows if not any(d in covered for d in _days(w.first, w.last))]
    unbilled_pence = sum(sum(billed(fuel, costs[w])) for w in unbilled if w in costs and st.first <= w.first)
    windowless = any(t.start is None or t.end is None or t.end < t.start for t in charges)
    if unbilled_pence and st.closed and not windowless:
        if fuel == "export":
            reasons.append(
                Reason("missed_export", f"no export credit: octoscope has {-unbilled_pence / 100:.2f} earned")
            )
        else:
            reasons.append(Reason("not_billed", f"{unbilled_pence / 100:.2f} of {fuel} on days no charge covers"))
    difference = theirs - ours
    if difference and abs(difference) <= tolerance:
        reasons.append(Reason("rounding", f"{difference:+d}p: rounding"))
    elif abs(difference) > tolerance and not [r for r in reasons if r.cause != "rounding"]:
        reasons.append(Reason("unexplained", f"{difference:+d}p with no known cause"))
    return FuelLine(fuel, theirs, ours, tuple(dict.fromkeys(reasons)), tolerance)


def _charge_reasons(fuel: BillFuel, t: Transaction, cost: OurCost) -> list[Reason]:
    out: list[Reason] = []
    span = f"{t.start}..{t.end}"
    complete = cost.half_hours >= cost.expected and not cost.days_outside
    provisional = Reason(
        "provisional_readings",
        f"{cost.unsettled_days} recent day(s) of {span}: Octopus may still revise or deliver octoscope's readings"
        " of them; sync again in a few days",
    )
    if t.kwh is not None and abs(t.kwh - cost.kwh) > KWH_TOLERANCE:
        if cost.unsettled_days:
            out.append(provisional)
        elif complete:
            out.append(
                Reason(
                    "estimated_read",
                    f"Octopus billed {t.kwh:.2f} kWh for {span}, the meter recorded {cost.kwh:.2f} kWh:"
                    " an estimated read",
                )
            )
        else:
            out.append(
                Reason(
                    "missing_readings",
                    f"octoscope holds {cost.half_hours} of {cost.expected} half-hours of {span}",
                )
            )
        return out
    if not complete:
        out.append(
            provisional
            if cost.unsettled_days
            else Reason(
                "missing_readings", f"octoscope holds {cost.half_hours} of {cost.expected} half-hours of {span}"
            )
        )
    if t.usage is not None and abs(t.usage - cost.usage) > 1 and fuel != "export":
        if fuel == "electricity" and not cost.dispatches_known and t.usage < cost.usage:
            out.append(
                Reason(
                    "dispatch_pricing",
                    f"usage {t.usage / 100:.2f} against octoscope's {cost.usage / 100:.2f} for {span}: smart charging"
                    " billed at the off-peak rate, and octoscope holds no dispatch record for those days",
                )
            )
        else:
            out.append(
                Reason(
                    "unit_rate",
                    f"usage {t.usage / 100:.2f} against {cost.usage / 100:.2f} at the published unit rates for {span}",
                )
            )
    if t.supply is not None and abs(t.supply - cost.supply) > 1 and fuel != "export":
        out.append(
            Reason(
                "standing_charge",
                f"standing charges {t.supply / 100:.2f} against {cost.supply / 100:.2f} at the published"
                f" standing charge for {span}",
            )
        )
    return out


def balances(statements: list[Statement]) -> list[tuple[date, int]]:
    """The account balance over time: after each transaction that carries one, else each statement's
    opening and closing, oldest first."""
    points: dict[date, int] = {}
    for st in sorted(statements, key=lambda s: s.first):
        carried = sorted(
            (t for t in reversed(st.transactions) if t.balance_after is not None and t.posted is not None),
            key=lambda t: t.posted or st.first,
        )
        if st.opening is not None:
            points.setdefault(st.first, st.opening)
        for t in carried:
            assert t.posted is not None
            assert t.balance_after is not None
            points[t.posted] = t.balance_after
        if st.closing is not None:
            points[st.last] = st.closing
    return sorted(points.items())
