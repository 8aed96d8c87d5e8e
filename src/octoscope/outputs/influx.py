"""Export to InfluxDB: the measurements of ``schema``, written incrementally, with a cursor per
measurement and series kept in our own store (nothing is read back from InfluxDB).

Each job is one measurement of one series (a meter point, a Home Mini, or the account). A run writes what
the store holds that the cursor does not cover: on the first run everything; afterwards the stretch before
the cursor's start (an older back-fill) and the last days again from its end (Octopus delivers late and
revises, and a sync re-reads those days), up to what is stored now. Points are keyed by measurement, tags
and time, so writing a stretch again overwrites it: no duplicates. A job's cursor moves only once all of its
points are written: a failure leaves it where it was, and the next run writes what was missed.

``push_after_sync`` is the scheduler's hook: ``serve`` calls it after each successful sync.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import repeat
from operator import add
from typing import Any, cast

import httpx

from octoscope.clock import Clock
from octoscope.config import InfluxSettings, Settings
from octoscope.domain.models import Account, Fuel, MeterPoint
from octoscope.domain.uktime import epoch, from_epoch, local_date, local_midnight
from octoscope.errors import OctoscopeError
from octoscope.outputs.influx_writer import (
    FieldValue,
    InfluxError,
    InfluxTarget,
    InfluxWriter,
    NumberFields,
    field_set,
    series_key,
)
from octoscope.outputs.rows import point_days
from octoscope.services.costing import (
    DETECTION_BLOCK,
    DETECTION_MARGIN,
    CostError,
    PointPasses,
    account_costs_exc_inc,
    ev_sessions,
    fuel_of,
    load_account,
    price_list,
)
from octoscope.store.ports import ExportCursor, StoreProtocol

log = logging.getLogger(__name__)

CONSUMPTION = {"electricity": "electricity_consumption", "gas": "gas_consumption", "export": "electricity_export"}
PRICING = {"electricity": "electricity_pricing", "gas": "gas_pricing", "export": "export_pricing"}
DISPATCH_MARGIN = timedelta(days=2)  # planned dispatches change until they happen; completed ones arrive late
# New half-hours can change any session of the detection block they fall in, and of the block before (its
# baseline looks a fortnight past its end): sessions are written again from that far back.
SESSION_MARGIN = DETECTION_BLOCK + DETECTION_MARGIN
PRICE_MARGIN_DAYS = 2  # Agile prices for tomorrow arrive in the afternoon
# Two requests in flight: while InfluxDB syncs one to its WAL it parses the other (bench/influx.py).
SENDERS = 2


class ExportError(OctoscopeError, ValueError):
    """An export cannot run as asked; the message says what to do."""


def target_of(influx: InfluxSettings) -> InfluxTarget:
    return InfluxTarget(
        url=influx.url,
        version=influx.version,
        database=influx.database,
        retention_policy=influx.retention_policy,
        org=influx.org,
        bucket=influx.bucket,
        username=influx.username,
        password=influx.password,
        token=influx.token,
        timeout_seconds=influx.timeout_seconds,
    )


Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Job:
    measurement: str
    series: str
    extent: Span | None  # [start, end) of what the store holds for it
    margin: timedelta  # written again before the cursor's end, each run
    by_day: bool  # ranges are whole UK local days
    lines: Callable[[datetime, datetime], Iterator[str]]
    priced: bool = False  # its lines read the stored prices (the run's PriceBook, shared)


def _day_floor(instant: datetime) -> datetime:
    return local_midnight(local_date(instant))


def _day_ceil(instant: datetime) -> datetime:
    floor = _day_floor(instant)
    return floor if floor == instant else local_midnight(local_date(instant) + timedelta(days=1))


def plan_ranges(
    extent: Span | None, cursor: ExportCursor | None, margin: timedelta, by_day: bool, asked: Span | None = None
) -> list[Span]:
    """What to write: with ``asked``, that stretch of what is stored; else all of it the first time, then
    what lies before the cursor, and from ``margin`` before its end on."""
    if extent is None:
        return []
    lo, hi = extent
    if by_day:
        lo, hi = _day_floor(lo), _day_ceil(hi)
    if asked is not None:
        start, end = max(lo, asked[0]), min(hi, asked[1])
        return [(start, end)] if start < end else []
    if cursor is None:
        return [(lo, hi)]
    out = []
    if lo < cursor.start:
        out.append((lo, min(cursor.start, hi)))
    if by_day:  # in calendar days: a day before a clock change is 23 or 25 hours long
        resume = max(lo, local_midnight(local_date(cursor.end) - timedelta(days=margin.days)))
    else:
        resume = max(lo, cursor.end - margin)
    if resume < hi:
        out.append((resume, hi))
    merged: list[Span] = []
    for start, end in sorted(out):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def advanced(cursor: ExportCursor | None, written: list[Span], points: int, at: datetime) -> ExportCursor | None:
    """The cursor after writing ``written``: it grows by what touches it. A stretch written apart from it
    (an explicit ``--from/--to``) does not join it, so nothing in between is ever taken as written."""
    if not written:
        return cursor
    spans = sorted([*written, *([(cursor.start, cursor.end)] if cursor else [])])
    merged: list[Span] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    if cursor is None:
        start, end = merged[-1]
    else:
        start, end = next(s for s in merged if s[0] <= cursor.start <= s[1])
    return ExportCursor(start, end, at, points)


@dataclass(frozen=True)
class _Context:
    settings: Settings
    store: StoreProtocol
    account: Account
    tags: tuple[tuple[str, str], ...]
    now: datetime
    # Each meter point costed once per run, exc and inc VAT: its rows, then the daily totals, come from it.
    # It holds the run's prices too (``passes.prices``), read once for every job that needs them.
    passes: PointPasses | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.passes is None:
            passes = PointPasses(self.store, self.settings.payment_method, self.settings.costs)
            object.__setattr__(self, "passes", passes)

    @property
    def today(self) -> date:
        return local_date(self.now)


def _point_tag(point: MeterPoint) -> tuple[str, str]:
    return ("gas_mprn" if point.fuel is Fuel.GAS else "electricity_mpan", point.identifier)


EXPORT_FIELDS = NumberFields("usage_kwh", "earnings_exc_vat_pence", "earnings_inc_vat_pence")
IMPORT_FIELDS = NumberFields(
    "usage_kwh",
    "usage_cost_exc_vat_pence",
    "usage_cost_inc_vat_pence",
    "standing_charge_cost_exc_vat_pence",
    "standing_charge_cost_inc_vat_pence",
    "total_cost_exc_vat_pence",
    "total_cost_inc_vat_pence",
    "usage_m3",
)
PRICE_FIELDS = NumberFields(
    "unit_price_exc_vat_price",
    "unit_price_inc_vat_price",
    "standing_charge_exc_vat_price",
    "standing_charge_inc_vat_price",
)


def _consumption_lines(ctx: _Context, point: MeterPoint, lo: datetime, hi: datetime) -> Iterator[str]:
    """Straight from the point's cost pass, as columns: a few hundred thousand lines a run. A day of one
    tariff, every half-hour priced with every number finite (nearly all of them), has its totals and checks
    worked out a column at a time and each line made by one f-string, the day's standing-charge share
    formatted once; anything else goes line by line, the general way."""
    assert ctx.passes is not None
    fuel = fuel_of(point)
    measurement = CONSUMPTION[fuel]
    heads: dict[str | None, str] = {}

    def head_of(code: str | None) -> str:
        """The series key and the first field's name of a tariff's lines, made once per tariff."""
        head = heads.get(code)
        if head is None:
            tags = (*ctx.tags, _point_tag(point), ("tariff_code", code or ""))
            head = heads[code] = series_key(measurement, tags) + " usage_kwh="
        return head

    exc_columns, inc_columns, m3, days = point_days(ctx.passes, point, local_date(lo), local_date(hi))
    starts, kwhs, codes = inc_columns.starts, inc_columns.kwh, inc_columns.codes
    exc_pence, inc_pence = exc_columns.pence, inc_columns.pence
    export = fuel == "export"
    fast = not export and not m3  # a meter read in m³ carries usage_m3 too
    as_float = float  # a local name: looked up a million times
    for _, begin, end, share_exc, share_inc in days:
        # Shares and totals are quotients and sums of floats, so floats already; the stored kWh and the
        # costs are made floats so that the text is a float's whatever a store hands over.
        shares = f"standing_charge_cost_exc_vat_pence={share_exc!r},standing_charge_cost_inc_vat_pence={share_inc!r},"
        code = codes[begin]
        head = head_of(code)
        if fast and codes[begin:end].count(code) == end - begin:
            n = end - begin
            excs, incs, kws = exc_pence[begin:end], inc_pence[begin:end], kwhs[begin:end]
            try:
                total_excs = list(map(add, excs, repeat(share_exc, n)))
                total_incs = list(map(add, incs, repeat(share_inc, n)))
            except TypeError:  # a half-hour without a price (None): the day goes line by line
                pass
            else:
                # Every number of the day finite (one that is not is left out of its line, the general way):
                # an infinity or a NaN anywhere makes the sum so, whatever else is added to it.
                check = sum(kws) + sum(total_excs) + sum(total_incs)
                if check - check == 0.0:
                    columns = zip(
                        map(as_float, kws),
                        map(as_float, cast(list[float], excs)),  # every half-hour priced: the additions say so
                        map(as_float, cast(list[float], incs)),
                        total_excs,
                        total_incs,
                        map(int, starts[begin:end]),  # whole epoch seconds: the half-hour's time
                        strict=True,
                    )
                    for kwh, exc, inc, total_exc, total_inc, second in columns:
                        yield (
                            f"{head}{kwh!r},usage_cost_exc_vat_pence={exc!r},usage_cost_inc_vat_pence={inc!r},"
                            f"{shares}total_cost_exc_vat_pence={total_exc!r},total_cost_inc_vat_pence={total_inc!r}"
                            f" {second}"
                        )
                    continue
        for j in range(begin, end):
            start, kwh, code, exc, inc = starts[j], kwhs[j], codes[j], exc_pence[j], inc_pence[j]
            head = head_of(code)
            if fast and exc is not None and inc is not None:
                total_exc, total_inc = exc + share_exc, inc + share_inc
                check = kwh + total_exc + total_inc  # finite only if every number in the line is
                if check - check == 0.0:
                    yield (
                        f"{head}{as_float(kwh)!r},usage_cost_exc_vat_pence={as_float(exc)!r},"
                        f"usage_cost_inc_vat_pence={as_float(inc)!r},{shares}"
                        f"total_cost_exc_vat_pence={total_exc!r},total_cost_inc_vat_pence={total_inc!r}"
                        f" {int(start)}"
                    )
                    continue
            if export:
                fields = EXPORT_FIELDS(kwh, exc, inc)
            else:
                priced = exc is not None and inc is not None
                fields = IMPORT_FIELDS(
                    kwh,
                    exc,
                    inc,
                    share_exc,
                    share_inc,
                    (exc or 0.0) + share_exc if priced else None,
                    (inc or 0.0) + share_inc if priced else None,
                    m3.get(from_epoch(start)),
                )
            yield f"{head[: -len(' usage_kwh=')]} {fields} {int(start)}"


def _pricing_lines(ctx: _Context, point: MeterPoint, lo: datetime, hi: datetime) -> Iterator[str]:
    """Export tariffs have no standing charge: those rows carry None for it, and the fields are left out.
    As for consumption, a line whose numbers are all finite is one f-string, the day's standing charge
    (one tuple for the day's half-hours) formatted once a day."""
    measurement = PRICING[fuel_of(point)]
    heads: dict[str, str] = {}
    settings = ctx.settings
    assert ctx.passes is not None
    listed = price_list(
        ctx.store,
        point,
        local_date(lo),
        local_date(hi),
        payment_method=settings.payment_method,
        settings=settings.costs,
        prices=ctx.passes.prices,
    )
    as_float = float
    for day in listed:
        standing = day.standing  # None on export
        tail = " "  # what follows the unit rates up to the time: the day's standing charge if one is paid
        if standing is not None:
            standing_exc, standing_inc = standing
            finite = standing_exc + standing_inc
            tail = (
                f",standing_charge_exc_vat_price={as_float(standing_exc)!r},"
                f"standing_charge_inc_vat_price={as_float(standing_inc)!r} "
                if finite - finite == 0.0
                else ""
            )
        for start, code, exc, inc in zip(day.starts, day.codes, day.exc, day.inc, strict=True):
            if code is None:
                continue  # no price stored
            head = heads.get(code)
            if head is None:
                tags = (*ctx.tags, _point_tag(point), ("tariff_code", code))
                head = heads[code] = series_key(measurement, tags) + " unit_price_exc_vat_price="
            check = exc + inc
            if tail and check - check == 0.0:
                yield f"{head}{as_float(exc)!r},unit_price_inc_vat_price={as_float(inc)!r}{tail}{start}"
                continue
            fields = PRICE_FIELDS(exc, inc, *(standing or (None, None)))
            yield f"{head[: -len(' unit_price_exc_vat_price=')]} {fields} {start}"


def _cost_lines(ctx: _Context, lo: datetime, hi: datetime) -> Iterator[str]:
    """Each local day's totals per fuel, from the same function as ``octoscope costs --by day``."""
    exc, inc = account_costs_exc_inc(
        ctx.store,
        ctx.account,
        local_date(lo),
        local_date(hi),
        by="day",
        payment_method=ctx.settings.payment_method,
        settings=ctx.settings.costs,
        today=ctx.today,
        costed=ctx.passes,
    )
    for exc_costs, inc_costs in zip(exc.fuels, inc.fuels, strict=True):  # electricity, gas, export
        fuel = inc_costs.fuel
        prefix = series_key("energy_costs", (*ctx.tags, ("fuel", fuel)))
        for exc_bucket, inc_bucket in zip(exc_costs.buckets, inc_costs.buckets, strict=True):
            e, i = exc_bucket.figures, inc_bucket.figures
            money = i.money_pence
            if not i.kwh and not money and not i.partial_days:
                continue  # a day with nothing to say: before the meter, after a move
            fields: tuple[tuple[str, FieldValue], ...] = (("kwh", i.kwh), ("partial", bool(i.partial_days)))
            if fuel == "export":
                fields += (("earnings_exc_vat_pence", e.earnings_pence), ("earnings_inc_vat_pence", money))
            else:
                fields += (
                    ("energy_cost_exc_vat_pence", e.energy_cost_pence),
                    ("energy_cost_inc_vat_pence", i.energy_cost_pence),
                    ("standing_charge_exc_vat_pence", e.standing_charge_pence),
                    ("standing_charge_inc_vat_pence", i.standing_charge_pence),
                    ("total_exc_vat_pence", e.total_pence),
                    ("total_inc_vat_pence", money),
                )
            yield f"{prefix} {field_set(fields)} {epoch(local_midnight(inc_bucket.first))}"


def _dispatch_lines(ctx: _Context, lo: datetime, hi: datetime) -> Iterator[str]:
    prefixes: dict[tuple[str, str, str], str] = {}
    for d in ctx.store.dispatches(lo - timedelta(days=1), hi):
        if not lo <= d.start < hi:
            continue
        key = (d.device_id, d.kind, d.charge_type or "unknown")
        prefix = prefixes.get(key)
        if prefix is None:
            tags = (*ctx.tags, ("device_id", key[0]), ("kind", key[1]), ("charge_type", key[2]))
            prefix = prefixes[key] = series_key("intelligent_dispatches", tags)
        fields = (
            ("duration_minutes", (d.end - d.start).total_seconds() / 60),
            ("energy_kwh", None if d.energy_kwh is None else abs(d.energy_kwh)),
        )
        yield f"{prefix} {field_set(fields)} {epoch(d.start)}"


def _session_lines(ctx: _Context, lo: datetime, hi: datetime) -> Iterator[str]:
    """Sessions starting in [lo, hi). Detection works in fixed blocks, each with its own baseline margin
    (``services.costing``), so a session is found and measured the same whatever range asks for it: only
    the range written is asked for, with a day more at its end so that a session running past ``hi`` is
    priced whole. A point's time is the half-hour its session starts in, which a baseline moved by later
    data does not change (the estimated start within it can)."""
    assert ctx.passes is not None
    first, end = local_date(lo), local_date(hi - timedelta(seconds=1)) + timedelta(days=2)
    for s in ev_sessions(ctx.store, ctx.settings, first, end, today=ctx.today, prices=ctx.passes.prices):
        start, stop = s.start, s.end
        slot = start.timestamp() // 1800 * 1800
        if not lo.timestamp() <= slot < hi.timestamp():
            continue
        prefix = series_key("ev_sessions", (*ctx.tags, ("dispatch", s.dispatch)))
        fields = (
            ("kwh", s.kwh),
            ("cost_pence", s.cost_pence),
            ("average_pence_per_kwh", s.average_pence_per_kwh),
            ("duration_minutes", (stop - start).total_seconds() / 60),
            ("charger_kw", s.charger_kw),
        )
        yield f"{prefix} {field_set(fields)} {int(slot)}"


def _telemetry_lines(ctx: _Context, device: str, lo: datetime, hi: datetime) -> Iterator[str]:
    """A day of readings at a time: a year of 10-second readings is three million of them."""
    prefix = series_key("live_telemetry", (*ctx.tags, ("device_id", device)))
    start = lo
    while start < hi:
        end = min(hi, start + timedelta(days=1))
        yield from _telemetry_day(prefix, ctx.store, device, start, end)
        start = end


def _telemetry_day(prefix: str, store: StoreProtocol, device: str, lo: datetime, hi: datetime) -> Iterator[str]:
    for r in store.telemetry(device, lo, hi):
        fields = (
            ("demand_w", r.demand_w),
            ("consumption_wh", r.consumption_wh),
            ("delta_wh", r.delta_wh),
            ("export_wh", r.export_wh),
        )
        text = field_set(fields)
        if text:
            yield f"{prefix} {text} {epoch(r.read_at)}"


def _union(spans: list[Span]) -> Span | None:
    return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None


def jobs(ctx: _Context) -> list[Job]:
    """Every measurement and series to write, with what the store holds of each."""
    store = ctx.store
    reread = timedelta(days=ctx.settings.sync.reread_days + 1)
    out: list[Job] = []
    held: dict[str, Span] = {}
    points = [p for prop in ctx.account.properties for p in prop.meter_points]
    for point in points:
        extent = store.series_extent(point.series)
        if extent is not None:
            held[point.series] = (extent.first, extent.last + timedelta(minutes=30))
        out.append(
            Job(
                CONSUMPTION[fuel_of(point)],
                point.series,
                held.get(point.series),
                reread,
                True,
                partial(_consumption_lines, ctx, point),
                priced=True,
            )
        )
    through_tomorrow = local_midnight(ctx.today + timedelta(days=2))
    for point in points:
        priced = None
        if point.agreements:
            ends = [a.valid_to for a in point.agreements]
            last = through_tomorrow if None in ends else min(through_tomorrow, max(e for e in ends if e))
            first = min(a.valid_from for a in point.agreements)
            priced = (first, last) if first < last else None
        out.append(
            Job(
                PRICING[fuel_of(point)],
                point.series,
                priced,
                timedelta(days=PRICE_MARGIN_DAYS),
                True,
                partial(_pricing_lines, ctx, point),
                priced=True,
            )
        )
    out.append(
        Job("energy_costs", "", _union(list(held.values())), reread, True, partial(_cost_lines, ctx), priced=True)
    )
    starts = [d.start for d in store.dispatches()]
    dispatched = (min(starts), max(starts) + timedelta(seconds=1)) if starts else None
    out.append(
        Job(
            "intelligent_dispatches",
            "",
            dispatched,
            DISPATCH_MARGIN,
            False,
            partial(_dispatch_lines, ctx),
        )
    )
    imports = _union([held[p.series] for p in points if fuel_of(p) == "electricity" and p.series in held])
    if imports is not None:
        out.append(
            Job(
                "ev_sessions",
                "",
                imports,
                reread + SESSION_MARGIN,
                True,
                partial(_session_lines, ctx),
                priced=True,
            )
        )
    for device, (first_read, last_read) in sorted(store.telemetry_extents().items()):
        out.append(
            Job(
                "live_telemetry",
                device,
                (first_read, last_read + timedelta(seconds=1)),
                timedelta(0),
                False,
                partial(_telemetry_lines, ctx, device),
            )
        )
    # All of what is stored, as a first run writes it: the prices are read once for it all.
    _expect_prices(ctx, [job.extent for job in out if job.priced and job.extent is not None])
    return out


def _expect_prices(ctx: _Context, spans: list[Span]) -> None:
    """Tell the run's prices the window its jobs will ask them over (whole local days), so that one read of
    each tariff serves them all. A job's lines may ask a little past its range (sessions are priced whole):
    the day after, and the prices through tomorrow that the pricing job's range reaches anyway, cover it."""
    assert ctx.passes is not None
    union = _union(spans)
    ctx.passes.prices.expect(None if union is None else (_day_floor(union[0]), _day_ceil(union[1])))


def export_influx(
    settings: Settings,
    store: StoreProtocol,
    *,
    clock: Clock,
    first: date | None = None,
    end: date | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Write what the cursors do not cover (or, with ``first``/``end``, the local days [first, end) of
    everything) to the configured InfluxDB; returns a summary. Raises :class:`InfluxError` (one line saying
    what to fix) with the failed job's cursor left as it was."""
    influx = settings.influx
    if influx is None:
        raise ExportError(
            "no InfluxDB configured: add an [influx] section to the config file (url, version, database or org"
            " and bucket), or set OCTOSCOPE_INFLUX_URL"
        )
    if first is not None and end is not None and first >= end:
        raise ExportError(f"--from {first} is not before --to {end}; --to is exclusive")
    now = clock.now()
    account = load_account(store, settings.require_account())
    ctx = _Context(settings, store, account, (("account_number", account.number), *influx.tags), now)
    target = target_of(influx)
    key = target.describe()
    asked: Span | None = None
    if first is not None or end is not None:
        asked = (
            local_midnight(first) if first else datetime.min.replace(tzinfo=UTC),
            local_midnight(end) if end else datetime.max.replace(tzinfo=UTC),
        )
    cursors = store.export_cursors(key)
    started = clock.monotonic()
    points: dict[str, int] = {}
    planned = []
    for job in jobs(ctx):
        cursor = cursors.get((job.measurement, job.series))
        planned.append((job, cursor, plan_ranges(job.extent, cursor, job.margin, job.by_day, asked)))
    # Only what this run writes (after a first run, the last days): the prices are read for that.
    _expect_prices(ctx, [span for job, _, ranges in planned if job.priced for span in ranges])
    with InfluxWriter(
        target, clock=clock, batch_size=influx.batch_size, senders=SENDERS, transport=transport, sleep=sleep
    ) as writer:
        try:
            for job, cursor, ranges in planned:
                count = 0
                for lo, hi in ranges:
                    count += writer.send_lines(job.lines(lo, hi))
                moved = advanced(cursor, ranges, count, now)
                if moved is not None and moved != cursor:
                    # Once its last batch is written: meanwhile the next job's lines are made.
                    writer.then(partial(store.save_export_cursor, key, job.measurement, job.series, moved))
                points[job.measurement] = points.get(job.measurement, 0) + count
                if ranges:
                    log.info("InfluxDB: %s %s: %d points over %s", job.measurement, job.series or "-", count, ranges)
        except InfluxError:
            raise
        except Exception:
            # Making a later job's lines failed: the jobs already sent keep their cursors once written.
            with contextlib.suppress(InfluxError):
                writer.flush()
            raise
        writer.flush()
    return {
        "target": key,
        "points": points,
        "total_points": sum(points.values()),
        "batches": writer.batches,
        "retries": writer.retries,
        "seconds": round(clock.monotonic() - started, 3),
    }


async def push_after_sync(settings: Settings, store: StoreProtocol, *, clock: Clock) -> dict[str, Any] | None:
    """The scheduler's hook, to await after each successful sync: writes what is new to InfluxDB, in a
    worker thread (the export is CPU and network bound, the event loop stays free).

    Returns None when no ``[influx]`` is configured or ``push_after_sync = false``; else the summary, or
    ``{"error": "..."}`` (also logged as one warning line, never with a secret): a failed push never stops the
    scheduler, and the next one writes what this one missed."""
    if settings.influx is None or not settings.influx.push_after_sync:
        return None
    import asyncio  # noqa: PLC0415 (only serve awaits this; a CLI export does not pay for asyncio's import)

    try:
        return await asyncio.to_thread(export_influx, settings, store, clock=clock)
    except (InfluxError, ExportError, CostError) as err:
        log.warning("InfluxDB push after sync: %s", err)
        return {"error": str(err)}
