"""Monthly statements of a simulated account, billed from the world's own consumption and catalogue.

Octopus's way, as far as ``shared/octopus-api/bills.md`` knows it: one Charge per fuel, meter point and
tariff in force (a tariff change part-way through a month gives two), each over whole local days
(``startDate``..``endDate`` inclusive); its usage is the sum over half-hours of kWh (0.01) x the unit rate
exc VAT (0.01 p), Intelligent smart-charging half-hours at the day's off-peak rate; its supply is the
standing charge exc VAT of each local day, at the tariff in force as the day begins. ``net`` is rounded to
a penny, ``tax`` is 5 % of it rounded half up, ``gross`` their sum. Export is a Charge with ``isExport``,
negative amounts and no tax. A Payment (Direct Debit) on the 15th. Balances: positive in credit;
closing = opening - charges + payments.

Planted discrepancies (``[statements]`` in the scenario) are written into the statements and listed by
:func:`truth`. Imports nothing of octoscope but the simulator itself: its arithmetic is its own.
"""

from __future__ import annotations

import base64
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from graphql import GraphQLError

from octoscope.simulator.household import _stable_seed
from octoscope.simulator.scenario import AccountSpec, ElectricityPointSpec, GasPointSpec
from octoscope.simulator.timeutil import SLOT, day_slots, local_date_of, local_midnight
from octoscope.simulator.world import VOLUME_CORRECTION, PointRef, World

VAT = Decimal("0.05")
ESTIMATED_DAYS = 7  # an estimated read covers the statement's last week
ESTIMATE_FACTOR = 1.3  # ... and overstates it by this much
STANDING_ERROR = 2.0  # p/day exc VAT above the published standing charge


def _r2(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _pence(value: float) -> int:
    """Whole pence, half away from zero."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Charge:
    title: str
    kind: str  # electricity, gas or export
    start: date
    end: date  # inclusive
    kwh: float
    usage: float  # pence exc VAT, unrounded
    supply: float
    smart_kwh: float = 0.0  # smart-charged kWh billed at off-peak outside the off-peak band
    posted: date | None = None
    ref: PointRef | None = None  # the point billed, to bill part of the window again
    tariff: str | None = None  # in force as the window's first day began

    @property
    def net(self) -> int:
        return _pence(self.usage + self.supply) if self.kind != "export" else -_pence(self.usage)

    @property
    def tax(self) -> int:
        if self.kind == "export":
            return 0
        return int((Decimal(self.net) * VAT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Statement:
    ident: str
    first: date
    last: date  # inclusive
    status: str
    charges: list[Charge] = field(default_factory=list)
    payments: list[tuple[date, int]] = field(default_factory=list)
    opening: int = 0
    planted: list[dict[str, str]] = field(default_factory=list)

    @property
    def charges_gross(self) -> int:
        return sum(c.net + c.tax for c in self.charges if c.net + c.tax > 0)

    @property
    def credits_gross(self) -> int:
        return -sum(c.net + c.tax for c in self.charges if c.net + c.tax < 0)

    @property
    def closing(self) -> int:
        return self.opening - self.charges_gross + self.credits_gross + sum(p for _, p in self.payments)


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


class Biller:
    """Statements of one world, computed once per account and simulated day."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._cache: dict[tuple[str, date], list[Statement]] = {}
        self._off_peak: dict[tuple[str, date], float | None] = {}
        self._smart: dict[str, set[int]] = {}  # meter point -> its smart-dispatched half-hours

    def statements(self, account: AccountSpec) -> list[Statement]:
        """Oldest first: ``months`` closed monthly statements, then the open one of the current month."""
        today = local_date_of(self.world.now())
        key = (account.number, today)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[1] == today}  # a new day: bill again
            self._smart = {}
            self._cache[key] = self._build(account, today)
        return self._cache[key]

    def _build(self, account: AccountSpec, today: date) -> list[Statement]:
        spec = self.world.scenario.statements
        refs = self.world.points_of(account)
        out: list[Statement] = []
        for back in range(spec.months, -1, -1):
            first = _month_start(today, back)
            last = _month_start(today, back - 1) - timedelta(days=1) if back else today
            ident = str(_stable_seed("statement", account.number, first.isoformat()) % 900_000_000 + 100_000_000)
            st = Statement(ident, first, last, "CLOSED" if back else "OPEN")
            if back:
                for ref in refs:
                    st.charges += self._charges(ref, first, last, back)
            payday = first + timedelta(days=14)
            if payday <= today:
                st.payments.append((payday, spec.direct_debit))
            out.append(st)
        self._plant(out, spec.months)
        balance = spec.opening_balance
        for st in out:
            st.opening = balance
            balance = st.closing
        return out

    def _plant(self, statements: list[Statement], months: int) -> None:
        spec = self.world.scenario.statements

        def at(back: int | None) -> Statement | None:
            return statements[months - back] if back is not None and 1 <= back <= months else None

        estimated = at(spec.estimated_read)
        if estimated is not None:
            imports = [c for c in estimated.charges if c.kind == "electricity" and c.end == estimated.last]
            if imports and (imports[-1].end - imports[-1].start).days >= ESTIMATED_DAYS:
                charge = imports[-1]
                tail_start = charge.end - timedelta(days=ESTIMATED_DAYS - 1)
                tail = self._window_costs(charge, tail_start)
                charge.end = tail_start - timedelta(days=1)
                charge.kwh, charge.usage, charge.supply = (
                    charge.kwh - tail.kwh,
                    charge.usage - tail.usage,
                    charge.supply - tail.supply,
                )
                guess = Charge(
                    "Electricity",
                    "electricity",
                    tail_start,
                    tail.end,
                    round(tail.kwh * ESTIMATE_FACTOR, 2),
                    tail.usage * ESTIMATE_FACTOR,
                    tail.supply,
                )
                estimated.charges.append(guess)
                estimated.planted.append({"fuel": "electricity", "cause": "estimated_read"})
                following = statements[statements.index(estimated) + 1]
                if following.status == "CLOSED":
                    following.charges.append(
                        Charge(
                            "Electricity",
                            "electricity",
                            tail_start,
                            tail.end,
                            round(tail.kwh - guess.kwh, 2),
                            tail.usage - guess.usage,
                            0.0,
                        )
                    )
                    following.planted.append({"fuel": "electricity", "cause": "estimate_correction"})
        standing = at(spec.standing_charge_error)
        if standing is not None:
            for charge in standing.charges:
                if charge.kind == "electricity":
                    charge.supply += STANDING_ERROR * ((charge.end - charge.start).days + 1)
            standing.planted.append({"fuel": "electricity", "cause": "standing_charge"})
        missed = at(spec.missed_export)
        if missed is not None and any(c.kind == "export" for c in missed.charges):
            missed.charges = [c for c in missed.charges if c.kind != "export"]
            missed.planted.append({"fuel": "export", "cause": "missed_export"})

    def _window_costs(self, charge: Charge, start: date) -> Charge:
        """The part of ``charge`` from ``start`` on, recomputed (it carries the point's per-day detail)."""
        assert charge.ref is not None
        return self._charge(charge.ref, start, charge.end)

    def _charges(self, ref: PointRef, first: date, last: date, back: int) -> list[Charge]:
        """One charge per run of days with the same tariff at the day's start, within the occupancy."""
        runs: list[tuple[date, date, str]] = []
        day = first
        while day <= last:
            tariff = self.world.tariff_at(ref.point, local_midnight(day).timestamp())
            if tariff is not None and self._occupied(ref, day):
                if runs and runs[-1][2] == tariff.code and runs[-1][1] == day - timedelta(days=1):
                    runs[-1] = (runs[-1][0], day, tariff.code)
                else:
                    runs.append((day, day, tariff.code))
            day += timedelta(days=1)
        out = []
        for a, b, _ in runs:
            charge = self._charge(ref, a, b)
            if charge.kwh or charge.supply:
                out.append(charge)
        return out

    def _occupied(self, ref: PointRef, day: date) -> bool:
        start = local_midnight(day).timestamp()
        moved_out = ref.prop.moved_out.timestamp() if ref.prop.moved_out else None
        return ref.prop.moved_in.timestamp() <= start and (moved_out is None or start < moved_out)

    def _charge(self, ref: PointRef, first: date, last: date) -> Charge:
        point = ref.point
        export = isinstance(point, ElectricityPointSpec) and point.is_export
        kind = "export" if export else ref.fuel
        lo = local_midnight(first).timestamp()
        hi = local_midnight(last + timedelta(days=1)).timestamp()
        values: dict[int, int] = {}
        for meter in point.meters:
            a, b = self.world.meter_window(ref, meter)
            a, b = max(a, lo), min(b, hi)
            if b > a:
                values.update(self.world.series_values(ref, a, b))
        smart = self._smart_slots(ref) if kind == "electricity" else set()
        kwh_total = usage = smart_kwh = 0.0
        for slot, value in sorted(values.items()):
            kwh = value / 1000
            if isinstance(point, GasPointSpec) and point.smets == 2:
                kwh = kwh * VOLUME_CORRECTION * ref.prop.household.calorific_value / 3.6
            rate = self.world.unit_rate_at(ref, slot * SLOT)
            if rate is None:
                continue
            if slot in smart:
                cheapest = self._off_peak_rate(ref, local_date_of(slot * SLOT))
                if cheapest is not None and cheapest < rate:
                    rate = cheapest
                    smart_kwh += kwh
            kwh_total += _r2(kwh)
            usage += _r2(kwh) * _r2(rate)
        supply = 0.0
        if not export:
            day = first
            while day <= last:
                tariff = self.world.tariff_at(point, local_midnight(day).timestamp())
                if tariff is not None:
                    supply += self._standing(tariff.code, local_midnight(day).timestamp())
                day += timedelta(days=1)
        title = "Gas" if ref.fuel == "gas" else "Electricity"
        start_tariff = self.world.tariff_at(point, local_midnight(first).timestamp())
        code = start_tariff.code if start_tariff else None
        return Charge(title, kind, first, last, round(kwh_total, 2), usage, supply, smart_kwh, ref=ref, tariff=code)

    def _standing(self, code: str, ts: float) -> float:
        catalogue = self.world.catalogue
        tariff = catalogue.tariff(code)
        assert tariff is not None
        rows = [
            r
            for r in catalogue.records(code, "standing-charges", catalogue.horizon(tariff.product, self.world.now()))
            if r.payment_method in (None, "DIRECT_DEBIT")
        ]
        for r in rows:  # newest first
            if r.valid_from <= ts and (r.valid_to is None or ts < r.valid_to):
                return r.value_exc_vat
        return 0.0

    def _off_peak_rate(self, ref: PointRef, day: date) -> float | None:
        tariff = self.world.tariff_at(ref.point, local_midnight(day).timestamp())
        key = (tariff.code if tariff else "", day)
        if key not in self._off_peak:
            rates = [self.world.unit_rate_at(ref, s * SLOT) for s in day_slots(day)]
            known = [r for r in rates if r is not None]
            self._off_peak[key] = min(known) if known else None
        return self._off_peak[key]

    def _smart_slots(self, ref: PointRef) -> set[int]:
        """Half-hours touched by a smart (not boost) dispatch while an Intelligent tariff was in force."""
        if ref.ident not in self._smart:
            self._smart[ref.ident] = self._dispatched(ref)
        return self._smart[ref.ident]

    def _dispatched(self, ref: PointRef) -> set[int]:
        out: set[int] = set()
        for ev in self.world.evs_of(ref.account):
            if ev.prop.id != ref.prop.id:
                continue
            start = ev.prop.moved_in.timestamp()
            for plan in self.world.charge_plans(ev, start, self.world.now()):
                if plan.mode != "smart":
                    continue
                for d in plan.dispatches:
                    if d.kind != "SMART":
                        continue
                    slot = int(d.start // SLOT)
                    while slot * SLOT < d.end:
                        tariff = self.world.tariff_at(ref.point, slot * SLOT)
                        if tariff is not None and tariff.product.kind == "intelligent":
                            out.add(slot)
                        slot += 1
        return out


# --- the GraphQL shapes ----------------------------------------------------------------------------


def _amounts(net: int, tax: int) -> dict[str, int]:
    return {"net": net, "tax": tax, "gross": net + tax}


def transactions(st: Statement) -> list[dict[str, Any]]:
    """Newest first, each with the balance after it."""
    events: list[tuple[date, int, dict[str, Any]]] = []
    for i, charge in enumerate(st.charges):
        posted = charge.posted or st.last
        node = {
            "__typename": "Charge",
            "id": str(-(_stable_seed(st.ident, "charge", i) % 10**9)),
            "postedDate": posted.isoformat(),
            "title": charge.title,
            "amounts": _amounts(charge.net, charge.tax),
            "isExport": charge.kind == "export",
            "isHeld": False,
            "isReversed": False,
            "note": None,
            "consumption": {
                "startDate": charge.start.isoformat(),
                "endDate": charge.end.isoformat(),
                "quantity": f"{charge.kwh:.4f}",
                "unit": "kWh",
                "usageCost": _pence(charge.usage),
                "supplyCharge": _pence(charge.supply),
            },
        }
        events.append((posted, -(charge.net + charge.tax), node))
    for i, (day, pence) in enumerate(st.payments):
        node = {
            "__typename": "Payment",
            "id": str(_stable_seed(st.ident, "payment", i) % 10**9),
            "postedDate": day.isoformat(),
            "title": "Direct debit",
            "amounts": {"net": pence, "tax": 0, "gross": 0},
            "isHeld": False,
            "isReversed": False,
            "note": None,
        }
        events.append((day, pence, node))
    events.sort(key=lambda e: e[0])
    balance = st.opening
    for _, delta, node in events:
        balance += delta
        node["balanceCarriedForward"] = balance
    return [node for _, _, node in reversed(events)]


def statement_node(st: Statement) -> dict[str, Any]:
    charges = [c for c in st.charges if c.net + c.tax > 0]
    credits = [c for c in st.charges if c.net + c.tax < 0]
    closed = st.status == "CLOSED"
    return {
        "__typename": "StatementType",
        "id": st.ident,
        "billType": "STATEMENT",
        "fromDate": st.first.isoformat(),
        "toDate": st.last.isoformat(),
        "issuedDate": (st.last + timedelta(days=1)).isoformat() if closed else None,
        "status": st.status,
        "openingBalance": st.opening,
        "closingBalance": st.closing if closed else None,
        "totalCharges": {
            "netTotal": sum(c.net for c in charges),
            "taxTotal": sum(c.tax for c in charges),
            "grossTotal": sum(c.net + c.tax for c in charges),
        },
        "totalCredits": {
            "netTotal": -sum(c.net for c in credits),
            "taxTotal": -sum(c.tax for c in credits),
            "grossTotal": -sum(c.net + c.tax for c in credits),
        },
        "_transactions": transactions(st),
    }


def truth(world: World, biller: Biller) -> dict[str, Any]:
    """Per statement: its id, period, what was planted in it, and smart charging billed at off-peak."""
    out = []
    for account in world.scenario.accounts:
        for st in biller.statements(account):
            out.append(
                {
                    "account": account.number,
                    "id": st.ident,
                    "from": st.first.isoformat(),
                    "to": st.last.isoformat(),
                    "status": st.status,
                    "planted": st.planted,
                    "smart_off_peak_kwh": round(sum(c.smart_kwh for c in st.charges), 3),
                    # more than one import tariff billed: a tariff change part-way through
                    "tariff_change": len({c.tariff for c in st.charges if c.kind == "electricity" and c.tariff}) > 1,
                    "closing_balance": st.closing if st.status == "CLOSED" else None,
                }
            )
    return {"statements": out}


# --- resolvers ---------------------------------------------------------------------------------------

_BILLERS: weakref.WeakKeyDictionary[World, Biller] = weakref.WeakKeyDictionary()
PAGE_CAP = 100


def biller_of(world: World) -> Biller:
    biller = _BILLERS.get(world)
    if biller is None:
        biller = _BILLERS[world] = Biller(world)
    return biller


def _cursor(offset: int) -> str:
    return base64.b64encode(f"arrayconnection:{offset}".encode()).decode()


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    try:
        return int(base64.b64decode(after).decode().split(":")[1]) + 1
    except (ValueError, IndexError, UnicodeDecodeError):
        raise GraphQLError(f"Invalid cursor {after!r}.") from None


def _page(nodes: list[Any], first: int | None, after: str | None) -> dict[str, Any]:
    start = _offset(after)
    size = PAGE_CAP if first is None else max(0, min(first, PAGE_CAP))
    chosen = nodes[start : start + size]
    return {
        "pageInfo": {
            "hasNextPage": start + size < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if chosen else None,
            "endCursor": _cursor(start + len(chosen) - 1) if chosen else None,
        },
        "edges": [{"cursor": _cursor(start + i), "node": n} for i, n in enumerate(chosen)],
        "totalCount": len(nodes),
        "edgeCount": len(chosen),
    }


def _date_arg(value: Any, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise GraphQLError(f"Variable '{name}' got invalid value {value!r}; Date cannot represent value.") from None


def _resolved(st: Statement) -> dict[str, Any]:
    node = statement_node(st)
    nodes = node.pop("_transactions")
    node["transactions"] = lambda info, first=None, after=None: _page(nodes, first, after)
    return node


def bills(
    world: World,
    account: AccountSpec,
    first: int | None = None,
    after: str | None = None,
    fromDate: Any = None,
    toDate: Any = None,
    includeOpenStatements: bool = False,
    **_: Any,
) -> dict[str, Any]:
    """Newest period first; ``fromDate``/``toDate`` filter the period's start (from inclusive, to exclusive)."""
    lo, hi = _date_arg(fromDate, "fromDate"), _date_arg(toDate, "toDate")
    chosen = [
        st
        for st in biller_of(world).statements(account)
        if (includeOpenStatements or st.status == "CLOSED")
        and (lo is None or st.first >= lo)
        and (hi is None or st.first < hi)
    ]
    chosen.sort(key=lambda st: st.first, reverse=True)
    return _page([_resolved(st) for st in chosen], first, after)


def bill(world: World, account: AccountSpec, id: str, billType: str | None = None) -> dict[str, Any] | None:
    for st in biller_of(world).statements(account):
        if st.ident == str(id):
            return _resolved(st)
    return None


def account_balance(world: World, account: AccountSpec) -> int:
    """The balance after every transaction so far: positive in credit."""
    statements = biller_of(world).statements(account)
    if not statements:
        return world.scenario.statements.opening_balance
    last = statements[-1]
    return last.opening - last.charges_gross + last.credits_gross + sum(p for _, p in last.payments)
