"""Costs of an account from the store: readings, agreements and prices read, then costed by ``domain``.

Sits on top, beside the CLI and the web app, which both answer with what :func:`account_costs` returns.
"""

from __future__ import annotations

import bisect
import functools
import gc
import hashlib
import json
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, NamedTuple

from octoscope.config import CostSettings, Settings
from octoscope.domain.costs import (
    Bucket,
    CostReport,
    EpochReadings,
    HalfHourColumns,
    HalfHourCost,
    Prices,
    PriceSeconds,
    Totals,
    bucketed,
    cost,
    cost_exc_inc,
    gas_kwh,
    gas_kwh_many,
    in_force,
    midnights,
    next_month,
    running_sum,
    standing_charges,
    unit_rates,
)
from octoscope.domain.live import DayRates
from octoscope.domain.live import half_hours as half_hours_of_day
from octoscope.domain.models import Account, Charge, Direction, DispatchRecord, Fuel, MeterPoint, TariffCode
from octoscope.domain.periods import NAMED, clip, label, named
from octoscope.domain.sessions import (
    DETECTION_VERSION,
    Session,
    detect_sessions,
    dispatch_history_from,
    probable_smart_half_hours,
)
from octoscope.domain.uktime import (
    HALF_HOUR,
    UK,
    BadDate,
    epoch,
    from_epoch,
    in_range,
    local_date,
    local_day_bounds,
    local_midnight,
    parse_date,
)
from octoscope.errors import NotFoundError, OctoscopeError
from octoscope.services.cost_results import FUELS as FUELS  # noqa: PLC0414 (re-exported, as FuelName)
from octoscope.services.cost_results import (
    CostBucket,
    CostsReport,
    DispatchKind,
    EvSession,
    FuelCosts,
    FuelFigures,
    money,
)
from octoscope.services.cost_results import FuelName as FuelName  # noqa: PLC0414
from octoscope.store.ports import KeptResult, ReadingColumns, StoreProtocol

LONGEST = timedelta(days=366 * 20)  # a range longer than this is a mistake, not a question


class CostError(OctoscopeError, ValueError):
    """Costs or prices cannot be worked out as asked; the message says what to do. Raised as one of its
    subclasses, which name the kind (see ``errors``)."""


class NothingToCost(NotFoundError, CostError):
    """Nothing stored to cost yet, or readings whose unit is not known (a sync has to fetch it)."""


def fuel_of(point: MeterPoint) -> FuelName:
    if point.fuel is Fuel.GAS:
        return "gas"
    return "export" if point.direction is Direction.EXPORT else "electricity"


def resolve_days(
    from_text: str | None, to_text: str | None, period: str | None, days: int | None, today: date
) -> tuple[date, date]:
    """[first, end) local days from ``--from/--to``, ``--period YYYY-MM`` (or YYYY, or a named period such as
    ``this-month``, see ``domain.periods``), or ``--days N`` (the N whole days before today). Default: the
    last 30 days. ``end`` is where the range ends on the calendar: what is counted of it stops at today
    (``domain.periods.clip``), which the costing does."""
    try:
        first, end = _resolve_days(from_text, to_text, period, days, today)
    except OverflowError:
        raise BadDate("that range runs past the calendar's end (year 9999)") from None
    if end - first > LONGEST:
        raise BadDate("that range is longer than 20 years; ask for less")
    return first, end


def _resolve_days(
    from_text: str | None, to_text: str | None, period: str | None, days: int | None, today: date
) -> tuple[date, date]:
    chosen = sum(x is not None for x in (from_text or to_text, period, days))
    if chosen > 1:
        raise BadDate("give one of --from/--to, --period or --days")
    if period is not None:
        try:
            if not period[:1].isdigit():
                found = named(period, today)
                return found.first, found.whole_end
            first = date(int(period), 1, 1) if len(period) == 4 else date.fromisoformat(f"{period}-01")
        except (ValueError, BadDate):
            raise BadDate(
                f"--period {period!r} is not a month; write YYYY-MM, a year (YYYY) or one of {', '.join(NAMED)}"
            ) from None
        in_range(first, "--period")
        return (first, date(first.year + 1, 1, 1)) if len(period) == 4 else (first, next_month(first))
    if from_text is not None or to_text is not None:
        end = parse_date(to_text, "--to") if to_text else today
        first = parse_date(from_text, "--from") if from_text else end - timedelta(days=30)
        if first >= end:
            raise BadDate(f"--from {first} is not before --to {end}; --to is exclusive")
        return first, end
    count = 30 if days is None else days
    if count < 1:
        raise BadDate("--days must be 1 or more")
    return today - timedelta(days=count), today


@dataclass(frozen=True)
class CalorificValues:
    """MJ/m³ by day: the default, or the latest dated value on or before the day."""

    default: float
    dated: tuple[tuple[date, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_days", [d for d, _ in self.dated])

    def on(self, day: date) -> float:
        i = bisect.bisect_right(self._days, day) - 1  # type: ignore[attr-defined]
        return self.dated[i][1] if i >= 0 else self.default


def _prices(
    store: StoreProtocol, codes: Iterable[str], payment_method: str, start: datetime, end: datetime
) -> dict[str, Prices]:
    """Each tariff's prices over [start, end) only: a long Agile history is not read to cost one month."""
    return PriceBook(store, payment_method).prices(codes, start, end)


class PriceBook:
    """Tariffs' stored prices for one payment method, each read once and shared by whatever asks: an export
    run costs the points, lists the prices in force and prices the EV sessions, three asks of the same year of
    Agile. Each ask gets just the records a read of its own window finds (:meth:`Prices.overlapping`), so
    an answer is the same shared or not. Not thread-safe; made per run (or per call, where one asks once)."""

    def __init__(self, store: StoreProtocol, payment_method: str) -> None:
        self.store = store
        self.payment_method = payment_method
        self._held: dict[str, tuple[int, int, Prices]] = {}  # code -> the window read [lo, hi), its prices
        self._expected: tuple[int, int] | None = None

    def expect(self, span: tuple[datetime, datetime] | None) -> None:
        """The window the run will ask prices over: a tariff's first read covers it, not only the first ask
        (a read of a wider window later would be a second read). Only how much is read hangs on it."""
        self._expected = None if span is None else (epoch(span[0]), epoch(span[1]))

    def prices(self, codes: Iterable[str], start: datetime, end: datetime) -> dict[str, Prices]:
        """Each tariff's prices over [start, end), read now only where not already held."""
        lo, hi = epoch(start), epoch(end)  # as the store's query takes the window
        out = {}
        for code in codes:
            held = self._held.get(code)
            if held is None or lo < held[0] or held[1] < hi:
                spans = [(lo, hi), *([held[:2]] if held else []), *([self._expected] if self._expected else [])]
                a, b = min(s[0] for s in spans), max(s[1] for s in spans)
                held = self._held[code] = (a, b, self._read(code, from_epoch(a), from_epoch(b)))
            a, b, prices = held
            out[code] = prices if (a, b) == (lo, hi) else prices.overlapping(lo, hi)
        return out

    def _read(self, code: str, start: datetime, end: datetime) -> Prices:
        store, method = self.store, self.payment_method
        unit: dict[Charge, PriceSeconds] = {
            c: store.price_seconds(code, c, start, end, method)
            for c in TariffCode.parse(code).charges
            if c is not Charge.STANDING
        }
        return Prices.from_seconds(unit, store.price_seconds(code, Charge.STANDING, start, end, method))


def _book(store: StoreProtocol, payment_method: str, shared: PriceBook | None) -> PriceBook:
    """The run's prices where given (read for this payment method), else a book for this call alone."""
    if shared is None:
        return PriceBook(store, payment_method)
    if shared.payment_method != payment_method:
        raise ValueError(f"the prices shared are {shared.payment_method}'s, not {payment_method}'s")
    return shared


def _point_days(point: MeterPoint, first: date, end: date) -> tuple[date, date] | None:
    """The part of [first, end) in which the point had an agreement: outside it there is nothing to cost."""
    if not point.agreements:
        return None
    start = local_date(min(a.valid_from for a in point.agreements))
    ends = [a.valid_to for a in point.agreements]
    stop = end
    if all(e is not None for e in ends):
        last = max(e for e in ends if e is not None)
        stop = local_date(last - timedelta(seconds=1)) + timedelta(days=1)
    lo, hi = max(first, start), min(end, stop)
    return (lo, hi) if lo < hi else None


INTELLIGENT = "INTELLI"  # product codes of Intelligent Octopus tariffs (Go, Flux) carry it


def smart_dispatch_half_hours(records: Iterable[DispatchRecord]) -> frozenset[datetime]:
    """Half-hours Octopus dispatched smart charging in, which Intelligent tariffs bill at the off-peak price.

    Completed dispatches are the record of what happened, but carry no type; a completed half-hour that
    overlaps a planned boost was a boost (normal price). Planned smart dispatches count where nothing
    completed is known yet. Any half-hour a dispatch touches counts, as Octopus bills whole half-hours.
    """
    records = list(records)
    boosts = [(r.start, r.end) for r in records if r.kind == "planned" and r.charge_type == "BOOST"]
    out: set[datetime] = set()
    for r in records:
        if r.kind == "planned" and r.charge_type != "SMART":
            continue
        if r.kind == "completed" and (r.charge_type == "BOOST" or any(a < r.end and r.start < b for a, b in boosts)):
            continue
        step = timedelta(minutes=30)
        slot = datetime.fromtimestamp(r.start.timestamp() // 1800 * 1800, r.start.tzinfo)
        while slot < r.end:
            out.add(slot)
            slot += step
    return frozenset(out)


def _dispatched(store: StoreProtocol, point: MeterPoint, lo: datetime, hi: datetime) -> frozenset[datetime]:
    """The half-hours of [lo, hi) an Intelligent agreement of an import point bills at the off-peak price."""
    intelligent = _on_intelligent(point)
    if not intelligent or fuel_of(point) != "electricity":
        return frozenset()
    return frozenset(
        t
        for t in smart_dispatch_half_hours(store.dispatches(lo, hi))
        if any(a.valid_from <= t and (a.valid_to is None or t < a.valid_to) for a in intelligent)
    )


DETECTION_MARGIN = timedelta(days=14)  # session detection's household baseline looks a fortnight either side


def _on_intelligent(point: MeterPoint) -> list[Any]:
    return [a for a in point.agreements if INTELLIGENT in a.tariff.product]


def dispatch_history(store: StoreProtocol) -> datetime | None:
    """Where the dispatch history kept begins (see :func:`domain.sessions.dispatch_history_from`)."""
    return dispatch_history_from(r.start for r in store.dispatches())


def probable_smart(
    store: StoreProtocol,
    point: MeterPoint,
    lo: datetime,
    hi: datetime,
    *,
    any_tariff: bool = False,
    history: bool = True,
) -> frozenset[datetime]:
    """The half-hours of [lo, hi) of an import point in which EV charging is found (sessions detected in its
    stored import, as the EV page finds them but from the import alone) where no dispatch can be known: on
    its Intelligent agreements, before the dispatch history begins. ``any_tariff``: on whatever agreement
    (the comparison costs the whole period on one tariff); ``history`` False: wherever found (what an
    Intelligent tariff the household is not on would have dispatched: it has no history). The cost engine
    bills them at the off-peak price where the price in force is higher, as estimated.

    Detection runs on fixed blocks of time (``DETECTION_BLOCK``, with the baseline's margin either side): a
    day's answer is the same whatever range it is asked in (a month alone or inside a year: the Overview,
    Costs and the CLI agree), and a range the history covers needs none. Each block's answer is kept in the
    store by the sync, keyed by its content (see :func:`_detected`), else worked out once per store version."""
    return frozenset(_instant(t) for t in _probable_smart_seconds(store, point, lo, hi, any_tariff, history))


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _probable_smart_seconds(
    store: StoreProtocol,
    point: MeterPoint,
    lo: datetime,
    hi: datetime,
    any_tariff: bool,
    history: bool,
    read: _Read | None = None,
) -> frozenset[int]:
    """:func:`probable_smart` in epoch seconds, as the cost engine takes it; ``read``: how the series is read
    for detection (the store, unless the caller shares one read)."""
    intelligent = _on_intelligent(point)
    if fuel_of(point) != "electricity" or not (intelligent or any_tariff):
        return frozenset()
    begins = dispatch_history(store) if history else None
    stop = hi if begins is None else min(hi, begins)
    if stop <= lo:
        return frozenset()  # the history covers it all: nothing is estimated
    lo_s, stop_s = lo.timestamp(), stop.timestamp()
    blocks = _detection_blocks(lo, stop)
    spans = [(a.valid_from.timestamp(), a.valid_to.timestamp() if a.valid_to else _INF) for a in intelligent]
    if not any_tariff:
        # a block no Intelligent agreement touches would find only half-hours left out below: not detected
        size = DETECTION_BLOCK.total_seconds()
        wanted = [b for b in blocks if any(a < (b + 1) * size and b * size < z for a, z in spans)]
        blocks = range(wanted[0], wanted[-1] + 1) if wanted else range(0)
    out: set[int] = set()
    for charged in _charged_in_blocks(store, point.series, blocks, read):
        out.update(t for t in charged if lo_s <= t < stop_s)
    if not any_tariff:
        out = {t for t in out if any(a <= t < b for a, b in spans)}
    return frozenset(out)


_INF = float("inf")


DETECTION_BLOCK = timedelta(days=56)  # counted from the epoch: eight weeks, each read with a fortnight either side


def _detection_blocks(lo: datetime, hi: datetime) -> range:
    """The numbers of the detection blocks [lo, hi) touches (block n starts n blocks after the epoch)."""
    size = DETECTION_BLOCK.total_seconds()
    return range(int(lo.timestamp() // size), int((hi.timestamp() - 1) // size) + 1)


# --- detection per block, kept in the store by content ----------------------------------------------------
#
# A block's detection is kept under a key naming what was asked (kind, series, block) with, as its inputs, a
# digest of everything detection read for it: a kept answer whose digest differs from the store's data now is
# never used, whatever changed (a revised reading, a new dispatch, detection itself: DETECTION_VERSION).

Kind = Literal["estimate", "sessions"]
KINDS: tuple[Kind, ...] = ("estimate", "sessions")
_Memo = dict[tuple[Any, ...], tuple[Any, Any]]
_DETECTED: weakref.WeakKeyDictionary[StoreProtocol, _Memo] = weakref.WeakKeyDictionary()
_JSON = {"separators": (",", ":")}


def detection_key(kind: Kind, series: str, block: int) -> str:
    """The kept result's key of one block's detection."""
    return f"{_key_prefix(kind, series)}{block}"


def _key_prefix(kind: Kind, series: str) -> str:
    return f"detected:{kind}:{series}:"


@dataclass(frozen=True, slots=True)
class _BlockInputs:
    """One block's inputs to detection: its read window's readings (every unit, as stored), the dispatches
    overlapping that window, and the exports' readings in it (sessions only)."""

    lo: float  # the block itself, in epoch seconds
    hi: float
    readings: ReadingColumns
    intervals: list[tuple[float, float, datetime, datetime]]
    exports: list[tuple[str, ReadingColumns]]

    def digest(
        self, kind: Kind, series: str, block: int, charger_kw: float | None, version: int = DETECTION_VERSION
    ) -> str:
        """A digest of everything detection reads for the block, and of what asks (the key's parts too, so a
        body moved to another key cannot pass for its answer)."""
        h = hashlib.blake2b(digest_size=20)
        h.update(f"{version}\x1f{kind}\x1f{series}\x1f{block}\x1f{charger_kw!r}\x1f".encode())
        for name, columns in (("", self.readings), *self.exports):
            h.update(f"\x1e{name}\x1f{len(columns.starts)}\x1f".encode())
            h.update(array("d", columns.starts).tobytes())
            h.update(array("d", columns.values).tobytes())
            h.update("\x1f".join(columns.units).encode())
        h.update(array("d", [x for a, b, _, _ in self.intervals for x in (a, b)]).tobytes())
        return h.hexdigest()

    def kwh(self) -> EpochReadings:
        return _kwh_only(self.readings, self.lo - _MARGIN_S, self.hi + _MARGIN_S)

    def export_kwh(self) -> EpochReadings | None:
        """The exports' kWh, one series after another (detection subtracts each from the import)."""
        starts: list[float] = []
        kwh: list[float] = []
        for _, columns in self.exports:
            got = _kwh_only(columns, self.lo - _MARGIN_S, self.hi + _MARGIN_S)
            starts += got.starts
            kwh += got.kwh
        return EpochReadings(starts, kwh) if starts else None

    def dispatches(self) -> list[tuple[datetime, datetime]]:
        return [(a, b) for _, _, a, b in self.intervals]


_MARGIN_S = DETECTION_MARGIN.total_seconds()
_BLOCK_S = DETECTION_BLOCK.total_seconds()


def _block_reads(
    store: StoreProtocol, series: str, blocks: Sequence[int], exports: Sequence[str], read: _Read | None
) -> Iterator[tuple[int, _BlockInputs]]:
    """Each block's inputs, from one read of the series (and of each export) over the blocks' span and one
    of the dispatches, cut per block: what ``store.dispatches(lo - margin, hi + margin)`` would answer."""
    read_lo, read_hi = blocks[0] * _BLOCK_S - _MARGIN_S, (blocks[-1] + 1) * _BLOCK_S + _MARGIN_S
    lo_at, hi_at = _instant(read_lo), _instant(read_hi)
    columns = store.reading_columns(series, lo_at, hi_at) if read is None else read(read_lo, read_hi)
    records = store.dispatches(lo_at, hi_at)
    intervals = [(r.start.timestamp(), r.end.timestamp(), r.start, r.end) for r in records]
    others = [(e, store.reading_columns(e, lo_at, hi_at)) for e in exports]
    for block in blocks:
        lo, hi = block * _BLOCK_S, (block + 1) * _BLOCK_S
        a, z = lo - _MARGIN_S, hi + _MARGIN_S
        yield (
            block,
            _BlockInputs(
                lo,
                hi,
                _cut(columns, a, z),
                [i for i in intervals if i[1] > a and i[0] < z],
                [(e, _cut(c, a, z)) for e, c in others],
            ),
        )


def _cut(columns: ReadingColumns, lo: float, hi: float) -> ReadingColumns:
    """The rows of [lo, hi) (epoch seconds) of columns in time order."""
    a, b = bisect.bisect_left(columns.starts, lo), bisect.bisect_left(columns.starts, hi)
    return ReadingColumns(columns.starts[a:b], columns.values[a:b], columns.units[a:b])


def _detected(
    store: StoreProtocol,
    kind: Kind,
    series: str,
    blocks: Sequence[int],
    *,
    exports: Sequence[str] = (),
    charger_kw: float | None = None,
    read: _Read | None = None,
    keep_at: datetime | None = None,
    found: dict[tuple[str, int], list[Session]] | None = None,
) -> list[Any]:
    """Per block, what ``kind`` asks of detection in ``series``: held in this process per store version, else
    kept in the store under the block's key if its digest is still the data's, else detected (and, given
    ``keep_at``, kept: only writers pass it, as a write drops every answer the web server holds).
    ``found``: detections shared between the kinds within one call, where they read the same (no export, no
    charger power given)."""
    version = store.data_version()
    memo = _DETECTED.setdefault(store, {})
    shared = found if not exports and charger_kw is None else None  # both kinds read just the import
    asked = (kind, series, tuple(exports), charger_kw)
    out: dict[int, Any] = {}
    for block in blocks if keep_at is None else ():  # a writer makes sure of what the store keeps
        held = memo.get((*asked, block))
        if held is not None and held[0] == version:
            out[block] = held[1]
    missing = [b for b in blocks if b not in out]
    if missing:
        kept = store.kept_results(_key_prefix(kind, series))
        for block, inputs in _block_reads(store, series, missing, exports, read):
            key = detection_key(kind, series, block)
            digest = inputs.digest(kind, series, block, charger_kw)
            answer = _decoded(kind, kept.get(key), digest)
            if answer is None:
                sessions = None if shared is None else shared.get((series, block))
                if sessions is None:
                    sessions = _detect(inputs, kind, charger_kw)
                    if shared is not None:
                        shared[(series, block)] = sessions
                answer = _answer(kind, sessions, inputs)
                if keep_at is not None:
                    store.keep_result(key, digest, _encoded(kind, answer), keep_at)
            memo[(*asked, block)] = (version, answer)
            out[block] = answer
    return [out[b] for b in blocks]


def _detect(inputs: _BlockInputs, kind: Kind, charger_kw: float | None) -> list[Session]:
    readings = inputs.kwh()
    if not readings.starts:
        return []
    if kind == "estimate":
        return detect_sessions(readings, dispatches=inputs.dispatches())
    return detect_sessions(readings, charger_kw=charger_kw, export=inputs.export_kwh(), dispatches=inputs.dispatches())


def _answer(kind: Kind, found: list[Session], inputs: _BlockInputs) -> Any:
    """The block's own part of what was found: the charged half-hours (epoch seconds) for the estimate, the
    sessions starting in it for the report."""
    lo, hi = inputs.lo, inputs.hi
    if kind == "estimate":
        return frozenset(int(t.timestamp()) for t in probable_smart_half_hours(found, None) if lo <= t.timestamp() < hi)
    return tuple(s for s in found if lo <= s.start.timestamp() < hi)


def _encoded(kind: Kind, answer: Any) -> str:
    if kind == "estimate":
        return json.dumps(sorted(answer), **_JSON)  # type: ignore[arg-type]
    return json.dumps([s.to_json() for s in answer], **_JSON)  # type: ignore[arg-type]


def _decoded(kind: Kind, kept: KeptResult | None, digest: str) -> Any:
    """The kept answer if it was worked out from what the store holds now; None if not (or unreadable)."""
    if kept is None or kept.inputs != digest:
        return None
    try:
        body = json.loads(kept.body)
        if kind == "estimate":
            return frozenset(int(t) for t in body)
        return tuple(Session.from_json(row) for row in body)
    except (ValueError, TypeError):
        return None  # not as written here: worked out again


def _charged_in_blocks(
    store: StoreProtocol, series: str, blocks: Sequence[int], read: _Read | None = None
) -> list[frozenset[int]]:
    """Per detection block, the half-hours (epoch seconds) in which sessions found in ``series`` took energy
    (see :func:`_detected`)."""
    return _detected(store, "estimate", series, blocks, read=read)


def keep_detected(
    store: StoreProtocol, account: Account, touched: dict[str, list[tuple[datetime, datetime]]], at: datetime
) -> int:
    """After a sync: detection kept for every electricity import series, both kinds (the estimate any tariff
    may cost, the sessions the reports list), in each block whose read window the sync's windows ``touched``
    (by series; an export's window counts for its property's imports) reach, and in any block of the series
    kept by neither kind yet (a store synced before blocks were kept, a run stopped while keeping them). A
    block whose kept digest is still the data's is left as it is. Returns how many blocks it looked at."""
    looked = 0
    for prop in account.properties:
        imports = [p.series for p in prop.meter_points if fuel_of(p) == "electricity"]
        exports = [p.series for p in prop.meter_points if fuel_of(p) == "export"]
        windows = [w for s in (*imports, *exports) for w in touched.get(s, ())]
        for series in imports if windows else ():
            extent = store.series_extent(series)
            if extent is None:
                continue
            first, last = extent.first.timestamp(), extent.last.timestamp() + HALF_HOUR.total_seconds()
            own = range(int(first // _BLOCK_S), int((last - 1) // _BLOCK_S) + 1)  # the blocks holding readings
            kept = {key for kind in KINDS for key in store.kept_results(_key_prefix(kind, series))}
            blocks = {b for b in own if any(detection_key(k, series, b) not in kept for k in KINDS)}
            for a, z in windows:
                # the blocks whose read window reaches [a, z)
                lo, hi = a.timestamp() - _MARGIN_S, z.timestamp() + _MARGIN_S
                if lo < hi:
                    blocks.update(range(max(int(lo // _BLOCK_S), own.start), min(int(-(-hi // _BLOCK_S)), own.stop)))
            if not blocks:
                continue
            ordered = sorted(blocks)
            found: dict[tuple[str, int], list[Session]] = {}
            _detected(store, "sessions", series, ordered, exports=exports, keep_at=at, found=found)
            _detected(store, "estimate", series, ordered, keep_at=at, found=found)
            looked += len(ordered)
    return looked


class _Read:
    """One series read once for two askers (detection's blocks, then the costing): the first read takes in
    ``also`` (epoch seconds) too, and what lies inside it is cut from that read, not read again."""

    def __init__(self, store: StoreProtocol, series: str, also: tuple[float, float]) -> None:
        self.store, self.series, self.also = store, series, also
        self.held: tuple[float, float, ReadingColumns] | None = None

    def __call__(self, lo: float, hi: float) -> ReadingColumns:
        got = self.cut(lo, hi)
        if got is not None:
            return got
        a, b = min(lo, self.also[0]), max(hi, self.also[1])
        columns = self.store.reading_columns(self.series, _instant(a), _instant(b))
        self.held = (a, b, columns)
        return columns  # wider than asked: its askers cut by time

    def cut(self, lo: float, hi: float) -> ReadingColumns | None:
        """[lo, hi) of the read held, if it holds all of it."""
        if self.held is None or not (self.held[0] <= lo and hi <= self.held[1]):
            return None
        return _cut(self.held[2], lo, hi)


def _kwh_only(columns: ReadingColumns, lo: float, hi: float) -> EpochReadings:
    """The half-hours of [lo, hi) (epoch seconds) stored in kWh, as the cost engine and detection take them."""
    a, b = bisect.bisect_left(columns.starts, lo), bisect.bisect_left(columns.starts, hi)
    units = columns.units[a:b]
    if units.count("kWh") == len(units):
        return EpochReadings(columns.starts[a:b], columns.values[a:b])
    kept = [i for i in range(a, b) if columns.units[i] == "kWh"]
    return EpochReadings([columns.starts[i] for i in kept], [columns.values[i] for i in kept])


@dataclass(frozen=True)
class StoredKwh:
    """A meter point's stored half-hours in kWh, and those read in m³ as they were stored."""

    kwh: list[tuple[datetime, float]]
    m3: dict[datetime, float]


def stored_kwh(
    store: StoreProtocol, point: MeterPoint, lo: datetime, hi: datetime, calorific: CalorificValues
) -> StoredKwh:
    """The point's half-hours of [lo, hi) in kWh: gas read in m³ converted as bills do, with the calorific
    value of its local day. Rows of an unknown unit are left out; if nothing else is left, that is an error
    that says how to mend it."""
    got = _stored_columns(store, point, lo, hi, calorific)
    instants = [_instant(t) for t in got.kwh.starts]
    return StoredKwh(list(zip(instants, got.kwh.kwh, strict=True)), dict(got.m3.items()))


class M3ByHalfHour:
    """Gas read in m³ by half-hour start, as stored: a mapping by instant over epoch-second columns, whose
    lookup table is built only if asked (the exports' rows ask; a report does not)."""

    def __init__(self, starts: Sequence[int], values: Sequence[float]) -> None:
        self.starts, self.values = starts, values
        self._by_second: dict[float, float] | None = None

    def get(self, at: datetime, default: float | None = None) -> float | None:
        if self._by_second is None:
            self._by_second = dict(zip(self.starts, self.values, strict=True))
        return self._by_second.get(at.timestamp(), default)

    def items(self) -> Iterator[tuple[datetime, float]]:
        return ((_instant(t), v) for t, v in zip(self.starts, self.values, strict=True))

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True, slots=True)
class _Stored:
    kwh: EpochReadings
    m3: M3ByHalfHour
    m3_by_day: dict[date, float]


def _stored_columns(
    store: StoreProtocol,
    point: MeterPoint,
    lo: datetime,
    hi: datetime,
    calorific: CalorificValues,
    columns: ReadingColumns | None = None,
) -> _Stored:
    """:func:`stored_kwh` as columns in epoch seconds, with the m³ summed per local day. Days are found by
    their midnights, not per half-hour: the calorific value and the sums are a local day's. ``columns``: the
    series over [lo, hi) already read."""
    if columns is None:
        columns = store.reading_columns(point.series, lo, hi)
    starts, values, units = columns
    if not starts:
        return _Stored(EpochReadings((), ()), M3ByHalfHour((), ()), {})
    kwh_count = units.count("kWh")
    if kwh_count == len(units):
        return _Stored(EpochReadings(starts, values), M3ByHalfHour((), ()), {})
    m3_count = units.count("m³")
    if m3_count == len(units):
        kwh: list[float] = []
        m3_by_day: dict[date, float] = {}
        day = local_date(_instant(starts[0]))
        a, n = 0, len(starts)
        # converted a stretch of days of one calorific value at a time (usually all of them at once)
        stretch, value = 0, calorific.on(day)
        ends = iter(midnights(day + timedelta(days=1), local_date(_instant(starts[-1])) + timedelta(days=1)))
        while a < n:
            b = bisect.bisect_left(starts, next(ends).timestamp(), a)
            if b > a:
                m3_by_day[day] = _added(values[a:b])
                if calorific.on(day) != value:
                    kwh += gas_kwh_many(values[stretch:a], value)
                    stretch, value = a, calorific.on(day)
            day += timedelta(days=1)
            a = b
        kwh += gas_kwh_many(values[stretch:], value)
        return _Stored(EpochReadings(starts, kwh), M3ByHalfHour(starts, values), m3_by_day)
    if not kwh_count and not m3_count:
        raise NothingToCost(
            f"{point.series}: the meter's unit is not known, so its readings cannot be priced;"
            " run `octoscope sync` again to ask Octopus for it"
        )
    # Units mixed (a meter exchanged to one reading m³, or rows of an unknown unit): row by row.
    kept: list[int] = []
    kwh = []
    m3_starts: list[int] = []
    m3_values: list[float] = []
    m3_by_day = {}
    for start, value, unit in zip(starts, values, units, strict=True):
        if unit == "kWh":
            kept.append(start)
            kwh.append(value)
        elif unit == "m³":
            day = local_date(_instant(start))
            kept.append(start)
            kwh.append(gas_kwh(value, calorific.on(day)))
            m3_starts.append(start)
            m3_values.append(value)
            m3_by_day[day] = m3_by_day.get(day, 0.0) + value
    return _Stored(EpochReadings(kept, kwh), M3ByHalfHour(m3_starts, m3_values), m3_by_day)


_added = running_sum  # 0.0 + each value in turn: the same float as adding them one by one


def half_hours(
    store: StoreProtocol,
    account: Account,
    fuel: FuelName,
    start: datetime,
    end: datetime,
    *,
    inc_vat: bool = True,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
) -> list[tuple[datetime, float, float | None]]:
    """Each stored half-hour of [start, end) of one fuel, in time order: (start, kWh, p/kWh charged, or None
    where no price is known; estimated smart charging at the off-peak price, as costs count it). Gas read in
    m³ is converted as costs do; points of the same fuel (two homes) are added, the price then weighted by
    their kWh."""
    settings = settings or CostSettings()
    calorific = CalorificValues(settings.calorific_value, settings.calorific_values)
    merged: dict[datetime, list[float]] = {}  # start -> [kWh, pence, priced kWh]
    unpriced: set[datetime] = set()
    for prop in account.properties:
        for point in prop.meter_points:
            if fuel_of(point) != fuel:
                continue
            readings = stored_kwh(store, point, start, end, calorific).kwh
            if not readings:
                continue
            prices = _prices(store, {a.tariff_code for a in point.agreements}, payment_method, start, end)
            rates = unit_rates(
                [t for t, _ in readings],
                point.agreements,
                prices,
                inc_vat=inc_vat,
                night=settings.e7_night,
                # probable smart charging is charged as costs charge it: at the off-peak price
                dispatched=_dispatched(store, point, start, end) | probable_smart(store, point, start, end),
            )
            for (at, kwh), rate in zip(readings, rates, strict=True):
                held = merged.setdefault(at, [0.0, 0.0, 0.0])
                held[0] += kwh
                if rate is None:
                    unpriced.add(at)
                else:
                    held[1] += kwh * rate
                    held[2] += kwh
                    held.append(rate)
    out: list[tuple[datetime, float, float | None]] = []
    for at in sorted(merged):
        kwh, pence, priced, *charged = merged[at]
        price: float | None = None
        if at not in unpriced and charged:
            price = charged[0] if len(charged) == 1 or not priced else pence / priced
        out.append((at, kwh, price))
    return out


def prices_ahead(
    store: StoreProtocol,
    point: MeterPoint,
    start: datetime,
    half_hours_wanted: int,
    *,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
) -> list[tuple[datetime, float | None]]:
    """The unit rate (inc VAT) of each half-hour from ``start`` on, as far as prices are stored."""
    settings = settings or CostSettings()
    starts = [start + timedelta(minutes=30 * i) for i in range(half_hours_wanted)]
    end = starts[-1] + timedelta(minutes=30)
    prices = _prices(store, {a.tariff_code for a in point.agreements}, payment_method, start, end)
    rates = unit_rates(starts, point.agreements, prices, night=settings.e7_night)
    return list(zip(starts, rates, strict=True))


def price_list(
    store: StoreProtocol,
    point: MeterPoint,
    first: date,
    end: date,
    *,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    prices: PriceBook | None = None,
) -> list[PricedDay]:
    """Each local day of [first, end) as its half-hours' prices (see :class:`PricedDay`): the unit rates as
    costs bill them, the standing charge paid. Straight from the stored prices, read once (``prices``: the
    run's, shared): nothing is costed."""
    settings = settings or CostSettings()
    lo, hi = local_midnight(first), local_midnight(end)
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
    starts = range(lo_s, hi_s, 1800)  # the half-hours of the days, in epoch seconds
    stored = _book(store, payment_method, prices).prices({a.tariff_code for a in point.agreements}, lo, hi)
    dispatched = frozenset(int(t.timestamp()) for t in _dispatched(store, point, lo, hi))
    found = in_force(starts, point.agreements, stored, night=settings.e7_night, dispatched=dispatched)
    export = fuel_of(point) == "export"  # export tariffs have no standing charge to pay
    days = [first + timedelta(days=i) for i in range((end - first).days)]
    standing_of = {} if export else standing_charges(point.agreements, stored, days)
    out: list[PricedDay] = []
    bounds = [(int(m.timestamp()) - lo_s) // 1800 for m in midnights(first, end)]  # each day's first half-hour
    for day, a, b in zip(days, bounds[:-1], bounds[1:], strict=True):  # a local day (23, 24 or 25 hours) at a time
        standing = None if export else standing_of[day]
        if standing is not None and not standing[1]:
            standing = None  # no charge known for the day
        out.append(PricedDay(starts[a:b], found.codes[a:b], found.exc[a:b], found.inc[a:b], standing))
    return out


class PricedDay(NamedTuple):
    """A local day of :func:`price_list`: its half-hours' starts (epoch seconds) and the tariff code of each
    (None where no price is stored: it has no line), their unit rates exc and inc VAT, and the day's standing
    charge exc and inc VAT (None where none is paid), as columns: no object made per half-hour."""

    starts: Sequence[int]
    codes: list[str | None]
    exc: list[float]
    inc: list[float]
    standing: tuple[float, float] | None


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """Costing years allocates hundreds of thousands of small objects and no reference cycles: the cyclic
    collector only adds pauses (about a tenth of the time), so it waits until the answer is built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def account_costs(
    store: StoreProtocol,
    account: Account,
    first: date,
    end: date,
    *,
    by: Bucket = "month",
    fuels: Iterable[FuelName] = FUELS,
    inc_vat: bool = True,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    today: date | None = None,
) -> CostsReport:
    """Costs of [first, end) local days per fuel, with buckets (the CLI's and the API's answer).

    With ``today``, days after it are left out: a day that has not happened has no standing charge yet.
    """
    if today is not None:
        end = clip(first, end, today)  # domain.periods' rule; a range wholly ahead is empty
    with _without_gc_pauses():
        return _account_costs(store, account, first, end, by, set(fuels), inc_vat, payment_method, settings)


def account_costs_exc_inc(
    store: StoreProtocol,
    account: Account,
    first: date,
    end: date,
    *,
    by: Bucket = "month",
    fuels: Iterable[FuelName] = FUELS,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    today: date | None = None,
    costed: PointPasses | None = None,
) -> tuple[CostsReport, CostsReport]:
    """:func:`account_costs` exc and inc VAT, from one pass over each meter point (``costed``: passes already
    made, to take the days from)."""
    if today is not None:
        end = clip(first, end, today)
    wanted = set(fuels)
    with _without_gc_pauses():
        exc, inc = daily_totals_exc_inc(store, account, first, end, wanted, payment_method, settings, costed=costed)
        return (
            costs_report(exc, first, end, by, wanted, False, settings, payment_method),
            costs_report(inc, first, end, by, wanted, True, settings, payment_method),
        )


def _account_costs(
    store: StoreProtocol,
    account: Account,
    first: date,
    end: date,
    by: Bucket,
    wanted: set[FuelName],
    inc_vat: bool,
    payment_method: str,
    settings: CostSettings | None,
) -> CostsReport:
    daily = daily_totals(store, account, first, end, wanted, inc_vat, payment_method, settings)
    return costs_report(daily, first, end, by, wanted, inc_vat, settings, payment_method)


@dataclass
class DailyTotals:
    """Each fuel's totals per local day (what every bucket and period is summed from), and which fuels were
    read in m³."""

    days: dict[FuelName, dict[date, Totals]]
    reads_m3: set[FuelName]


def daily_totals(
    store: StoreProtocol,
    account: Account,
    first: date,
    end: date,
    wanted: Iterable[FuelName] = FUELS,
    inc_vat: bool = True,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    until: datetime | None = None,
) -> DailyTotals:
    """Costs of [first, end) local days per fuel and day, unbucketed. ``until``: half-hours from this instant
    on are left out (a day so far, to compare with the same hours of another)."""
    settings = settings or CostSettings()

    def costed(point: MeterPoint, lo: date, hi: date) -> Sequence[PointCosts]:
        one = cost_point(
            store, point, lo, hi, inc_vat=inc_vat, payment_method=payment_method, settings=settings, until=until
        )
        return (one,)

    (daily,) = _daily(account, first, end, set(wanted), costed, 1, fresh=True)
    return daily


def daily_totals_exc_inc(
    store: StoreProtocol,
    account: Account,
    first: date,
    end: date,
    wanted: Iterable[FuelName] = FUELS,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    *,
    costed: PointPasses | None = None,
) -> tuple[DailyTotals, DailyTotals]:
    """:func:`daily_totals` exc and inc VAT from one pass over each meter point; ``costed``: passes already
    made (an export's rows) to take the days from."""
    settings = settings or CostSettings()
    passes = costed or PointPasses(store, payment_method, settings, half_hours=False)
    exc, inc = _daily(account, first, end, set(wanted), passes.get, 2, fresh=costed is None)
    return exc, inc


def _daily(
    account: Account,
    first: date,
    end: date,
    wanted: set[FuelName],
    costed: Callable[[MeterPoint, date, date], Sequence[PointCosts]],
    results: int,
    *,
    fresh: bool = False,
) -> list[DailyTotals]:
    """Each point's days, as ``costed`` prices them (``results`` of them: one per VAT treatment), added per
    fuel. ``fresh``: what ``costed`` answers is made for this call alone, so that a day's totals met first are
    taken as they are rather than added to new ones (the same floats: see :func:`_taken`)."""
    out = [DailyTotals({}, set()) for _ in range(results)]
    for prop in account.properties:
        for point in prop.meter_points:
            fuel = fuel_of(point)
            span = _point_days(point, first, end) if fuel in wanted else None
            if span is None:
                continue
            for daily, result in zip(out, costed(point, span[0], span[1]), strict=True):
                m3_by_day = result.m3_by_day
                if m3_by_day:
                    daily.reads_m3.add(fuel)
                held = daily.days.setdefault(fuel, {})
                for day, totals in result.report.days.items():
                    if not span[0] <= day < span[1]:
                        continue  # a pass made over more days than asked
                    mine = held.get(day)
                    if mine is None and fresh:
                        mine = held[day] = _taken(totals)
                    else:
                        if mine is None:
                            mine = held[day] = Totals()
                        mine.add(totals)
                    if day in m3_by_day:
                        mine.m3 += m3_by_day[day]
    return out


def _taken(totals: Totals) -> Totals:
    """``totals`` as ``Totals()`` with it added would be, without the copy: 0.0 + x is x for every float but
    -0.0, and the cost pass's sums all start from 0.0 (never -0.0); a standing charge is a stored price, so
    it is added to 0.0 as a copy would."""
    totals.standing_charge += 0.0
    return totals


def costs_report(
    daily: DailyTotals,
    first: date,
    end: date,
    by: Bucket,
    wanted: Iterable[FuelName],
    inc_vat: bool,
    settings: CostSettings | None,
    payment_method: str = "DIRECT_DEBIT",
) -> CostsReport:
    """Daily totals as the CLI's and the API's answer: per fuel, with buckets."""
    wanted = set(wanted)
    days, reads_m3 = daily.days, daily.reads_m3
    rounding = "billing" if (settings or CostSettings()).rounding == "billing" else "exact"
    fuels = []
    for fuel in FUELS:
        if fuel not in wanted:
            continue
        # Bucketed once over the whole range, whatever homes and meters the days came from.
        report = bucketed(days.get(fuel, {}), first, end, by)
        m3 = fuel in reads_m3
        fuels.append(
            FuelCosts(
                fuel=fuel,
                totals=FuelFigures.of(fuel, report.totals, m3),
                # What every figure of the fuel covers, said the same way on every page and in the CLI.
                standing_included=fuel != "export",
                label=label(first, end, fuel != "export"),
                buckets=tuple(CostBucket(lo, hi, FuelFigures.of(fuel, part, m3)) for lo, hi, part in report.buckets),
            )
        )
    return CostsReport.of(first, end, by, inc_vat, rounding, payment_method, fuels)


@dataclass(frozen=True)
class PointCosts:
    """One meter point's local days as the cost engine priced them."""

    report: CostReport
    m3_by_day: dict[date, float]  # gas read in m³ (a SMETS2 meter), as stored, per local day
    m3: M3ByHalfHour  # the same per half-hour (``get`` by instant)
    priced: HalfHourColumns  # each half-hour as priced, when asked for (else none)

    @functools.cached_property
    def half_hours(self) -> list[HalfHourCost]:
        """``priced`` as a HalfHourCost each, made when first asked (the InfluxDB export reads the columns)."""
        return self.priced.rows()


def cost_point(
    store: StoreProtocol,
    point: MeterPoint,
    first: date,
    end: date,
    *,
    inc_vat: bool = True,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    half_hours: bool = False,
    readings: Iterable[tuple[datetime, float]] | None = None,
    until: datetime | None = None,
    estimate: bool = True,
) -> PointCosts:
    """Cost the local days [first, end) of one meter point from the store: its readings (m³ converted as
    bills do), the prices of its tariffs, and on Intelligent tariffs the smart-dispatched half-hours.

    ``readings``: (half-hour, kWh) to cost instead of the stored ones; zero at every half-hour reads the
    price in force at each. ``half_hours``: also list each half-hour as priced (the exports' rows). ``until``:
    stored half-hours from this instant on are left out (a day so far, to compare with the same hours of
    another). ``estimate``: cost probable smart charging before the dispatch history (see
    :func:`probable_smart`); the bill check does not, as it says where the dispatches were not known."""
    settings = settings or CostSettings()
    got = _point_inputs(store, point, first, end, settings, payment_method, readings, until, estimate)
    priced = HalfHourColumns()
    report = cost(
        got.kwh,
        point.agreements,
        got.prices,
        first,
        end,
        inc_vat=inc_vat,
        rounding="billing" if settings.rounding == "billing" else "exact",
        night=settings.e7_night,
        standing_charges=fuel_of(point) != "export",  # export tariffs have no standing charge to pay
        dispatched=got.dispatched,
        estimated=got.estimated,
        columns=priced if half_hours else None,
    )
    return PointCosts(report, got.m3_by_day, got.m3, priced)


def cost_point_exc_inc(
    store: StoreProtocol,
    point: MeterPoint,
    first: date,
    end: date,
    *,
    payment_method: str = "DIRECT_DEBIT",
    settings: CostSettings | None = None,
    half_hours: bool = False,
    readings: Iterable[tuple[datetime, float]] | None = None,
    prices: PriceBook | None = None,
) -> tuple[PointCosts, PointCosts]:
    """:func:`cost_point` exc and inc VAT, from one read of the store and one pass of the cost engine.
    ``prices``: the run's prices, shared (else read for this call); its payment method is the one used."""
    settings = settings or CostSettings()
    got = _point_inputs(store, point, first, end, settings, payment_method, readings, None, True, prices)
    priced = (HalfHourColumns(), HalfHourColumns())
    exc, inc = cost_exc_inc(
        got.kwh,
        point.agreements,
        got.prices,
        first,
        end,
        rounding="billing" if settings.rounding == "billing" else "exact",
        night=settings.e7_night,
        standing_charges=fuel_of(point) != "export",
        dispatched=got.dispatched,
        estimated=got.estimated,
        columns=priced if half_hours else None,
    )
    return (
        PointCosts(exc, got.m3_by_day, got.m3, priced[0]),
        PointCosts(inc, got.m3_by_day, got.m3, priced[1]),
    )


@dataclass(frozen=True, slots=True)
class _Inputs:
    kwh: list[tuple[datetime, float]] | EpochReadings
    m3: M3ByHalfHour
    m3_by_day: dict[date, float]
    prices: dict[str, Prices]
    dispatched: frozenset[datetime]
    estimated: frozenset[int]


def _point_inputs(
    store: StoreProtocol,
    point: MeterPoint,
    first: date,
    end: date,
    settings: CostSettings,
    payment_method: str,
    readings: Iterable[tuple[datetime, float]] | None,
    until: datetime | None,
    estimate: bool,
    book: PriceBook | None = None,
) -> _Inputs:
    """What the cost engine needs of one point over local days [first, end), read from the store once."""
    calorific = CalorificValues(settings.calorific_value, settings.calorific_values)
    lo, hi = local_midnight(first), local_midnight(end)
    kwh: list[tuple[datetime, float]] | EpochReadings
    m3_by_day: dict[date, float] = {}
    m3 = M3ByHalfHour((), ())
    # Given readings (the prices in force) are not charging: only the stored ones are searched for it, in a
    # read of the series that the costing's half-hours are then cut from.
    estimated: frozenset[int] = frozenset()
    cut = hi if until is None else min(hi, until)
    shared = _Read(store, point.series, (lo.timestamp(), cut.timestamp()))
    if readings is None and estimate:
        estimated = _probable_smart_seconds(store, point, lo, hi, False, True, shared)
    if readings is not None:
        kwh = list(readings)
    else:
        read = shared.cut(lo.timestamp(), cut.timestamp())
        stored = _stored_columns(store, point, lo, cut, calorific, read)
        kwh, m3, m3_by_day = stored.kwh, stored.m3, stored.m3_by_day
    prices = _book(store, payment_method, book).prices({a.tariff_code for a in point.agreements}, lo, hi)
    return _Inputs(kwh, m3, m3_by_day, prices, _dispatched(store, point, lo, hi), estimated)


class PointPasses:
    """Meter points costed exc and inc VAT with each half-hour listed, kept so that what one report needs
    of a point another can take (an export's rows, then its daily totals): a point's days are costed once.

    A local day's figures do not depend on the range it was costed in, so a range inside one already
    costed is served from it. ``prices``: the run's prices, which its other reports share. Not thread-safe;
    made per export run."""

    def __init__(
        self, store: StoreProtocol, payment_method: str, settings: CostSettings, *, half_hours: bool = True
    ) -> None:
        self.store = store
        self.half_hours = half_hours
        self.payment_method = payment_method
        self.settings = settings
        self.prices = PriceBook(store, payment_method)
        self._held: dict[str, tuple[date, date, tuple[PointCosts, PointCosts]]] = {}

    def get(self, point: MeterPoint, first: date, end: date) -> tuple[PointCosts, PointCosts]:
        held = self._held.get(point.series)
        if held is not None and held[0] <= first and end <= held[1]:
            return held[2]
        costed = cost_point_exc_inc(
            self.store,
            point,
            first,
            end,
            payment_method=self.payment_method,
            settings=self.settings,
            half_hours=self.half_hours,
            prices=self.prices,
        )
        self._held[point.series] = (first, end, costed)
        return costed


def load_account(store: StoreProtocol, number: str) -> Account:
    account = store.load_account(number)
    if account is None:
        raise NothingToCost(f"nothing stored for {number} yet: run `octoscope sync` first")
    return account


def costs_as_asked(
    store: StoreProtocol,
    settings: Settings,
    first: date,
    end: date,
    *,
    by: Bucket,
    fuel: FuelName | None,
    exc_vat: bool,
    rounding: str | None,
    today: date,
) -> CostsReport:
    """The CLI's and the API's question, answered with the user's settings (account, payment method,
    calorific values, rounding unless asked otherwise)."""
    cost_settings = replace(settings.costs, rounding=rounding) if rounding else settings.costs
    return account_costs(
        store,
        load_account(store, settings.require_account()),
        first,
        end,
        by=by,
        fuels=[fuel] if fuel else FUELS,
        inc_vat=not exc_vat,
        payment_method=settings.payment_method,
        settings=cost_settings,
        today=today,
    )


def dispatch_kind(start: datetime, end: datetime, records: Sequence[DispatchRecord]) -> DispatchKind:
    """Whether Octopus dispatched a charge: ``boost`` if it overlaps a planned boost, ``smart`` if it overlaps
    another dispatch, else ``none``."""
    overlapping = [r for r in records if r.start < end and start < r.end]
    if any(r.charge_type == "BOOST" for r in overlapping):
        return "boost"
    return "smart" if overlapping else "none"


def ev_sessions(
    store: StoreProtocol,
    settings: Settings,
    first: date,
    end: date,
    *,
    today: date,
    charger_kw: float | None = None,
    prices: PriceBook | None = None,
) -> list[EvSession]:
    """Charging sessions in [first, end) local days, each costed at the rates in force (dispatch-adjusted on
    Intelligent tariffs, where the half-hours before the dispatch history are probable smart charging:
    ``estimated``, with ``at_stake_pence`` more if they were not) and matched with the dispatches kept.
    Detection looks a fortnight either side, for the household's baseline, and is told when the dispatches
    kept had the car charge (planned, boosts and completed alike), which places its part-filled half-hours.
    ``prices``: the run's prices, shared (else read here); its payment method is the one used."""
    number = settings.require_account()
    account = load_account(store, number)
    end = max(first, min(end, today + timedelta(days=1)))
    lo, hi = local_midnight(first), local_midnight(end)
    history = dispatch_history(store)
    out: list[EvSession] = []
    for prop in account.properties:
        imports = [p for p in prop.meter_points if fuel_of(p) == "electricity"]
        exports = [p for p in prop.meter_points if fuel_of(p) == "export"]
        for point in imports:
            found = [
                s
                for s in _sessions_by_block(store, point.series, [p.series for p in exports], lo, hi, charger_kw)
                if lo <= s.start < hi
            ]
            if not found:
                continue
            records = store.dispatches(lo - timedelta(days=1), hi + timedelta(days=1))
            book = _book(store, settings.payment_method, prices)
            stored = book.prices({a.tariff_code for a in point.agreements}, lo, hi)
            intelligent = _on_intelligent(point)
            dispatched = smart_dispatch_half_hours(records) if intelligent else frozenset()
            for session in found:
                days = (local_date(session.start), local_date(session.end) + timedelta(days=1))
                # Its half-hours before the dispatch history, on an Intelligent agreement: a probable smart
                # charge (the cost engine prices them off-peak only outside the window; a known dispatch wins).
                estimated = frozenset(
                    t
                    for t in probable_smart_half_hours([session], history)
                    if any(a.valid_from <= t and (a.valid_to is None or t < a.valid_to) for a in intelligent)
                )
                report = cost(
                    list(session.half_hours),
                    point.agreements,
                    stored,
                    *days,
                    standing_charges=False,
                    dispatched=dispatched,
                    estimated=estimated,
                )
                pence = report.totals.energy_cost
                out.append(
                    EvSession(
                        start=session.start.astimezone(UK),
                        end=session.end.astimezone(UK),
                        kwh=round(session.kwh, 3),
                        cost_pence=money(pence),
                        average_pence_per_kwh=round(pence / session.kwh, 4) if session.kwh else None,
                        dispatch=dispatch_kind(session.start, session.end, records),
                        charger_kw=round(session.charger_kw, 2),
                        priced=abs(report.totals.priced_kwh - report.totals.kwh) < 1e-9,
                        estimated=report.totals.estimated_kwh > 0,
                        at_stake_pence=money(report.totals.at_stake),
                    )
                )
    return sorted(out, key=lambda s: s.start)


def _sessions_by_block(
    store: StoreProtocol,
    series: str,
    exports: list[str],
    lo: datetime,
    hi: datetime,
    charger_kw: float | None,
) -> list[Session]:
    """The sessions starting in [lo, hi), found block by block (``DETECTION_BLOCK``, each read with the
    baseline's margin either side, as the estimate finds them): a session is measured the same whatever
    window asks for it (a week, a month or a year), not with a baseline that moves with the window. Kept
    as the estimate's blocks are (see :func:`_detected`)."""
    blocks = _detection_blocks(lo, hi)
    if not blocks:
        return []
    found = _detected(store, "sessions", series, blocks, exports=exports, charger_kw=charger_kw)
    return [s for sessions in found for s in sessions]


def live_day_rates(store: StoreProtocol, settings: Settings, device_id: str, day: date) -> DayRates | None:
    """The unit rate of each half-hour of a UK local day for the import meter point a Home Mini reads, as the
    costs above bill it (Agile's half-hour, Economy 7's night, Go's off-peak, an Intelligent dispatch at the
    off-peak price), VAT included, with the day's standing charge; None if no meter point has that device.

    Each half-hour is costed as one kWh through :func:`domain.costs.cost`, so the live view and the bill
    can never disagree on a rate.
    """
    account = store.load_account(settings.require_account())
    points = [
        p
        for prop in (account.properties if account else ())
        for p in prop.meter_points
        if fuel_of(p) == "electricity" and any(m.device_id == device_id for m in p.meters)
    ]
    if not points:
        return None
    point = points[-1]
    lo, hi = local_day_bounds(day)
    prices = _prices(store, {a.tariff_code for a in point.agreements}, settings.payment_method, lo, hi)
    dispatched = _dispatched(store, point, lo, hi)
    night = settings.costs.e7_night
    rates = {}
    for start in half_hours_of_day(day):
        one = cost(
            [(start, 1.0)],
            point.agreements,
            prices,
            day,
            day + timedelta(days=1),
            night=night,
            standing_charges=False,
            dispatched=dispatched,
        ).totals
        if one.priced_kwh:
            rates[start] = one.energy_cost
    # With no readings the day counts as partial whatever; a standing charge found is a positive price.
    standing = cost([], point.agreements, prices, day, day + timedelta(days=1), night=night).totals.standing_charge
    return DayRates(day, rates, standing or None)
