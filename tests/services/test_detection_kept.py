"""Detected charging kept in the store per block, keyed by content (issue 17): after a sync every block of
every import series is kept, both kinds (the smart-charging estimate, the sessions report); a kept block
answers exactly what detection finds; a changed reading, or another DETECTION_VERSION, is never answered
from what was kept; and the web server's GETs never write it.

On the demo (Intelligent Octopus Go, solar export), synced by the real CLI into a SQLite file and into
PostgreSQL; given the simulator's whole dispatch history from February, so that the blocks holding the
46- and 50-half-hour days (29 March and 25 October 2026) have dispatches too."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.domain.models import Account, DispatchRecord, Reading
from octoscope.domain.sessions import (
    DETECTION_VERSION,
    Session,
    detect_sessions,
    probable_smart_half_hours,
)
from octoscope.domain.uktime import HALF_HOUR, local_day_bounds, local_midnight
from octoscope.services.costing import (
    DETECTION_BLOCK,
    DETECTION_MARGIN,
    KINDS,
    Kind,
    _block_reads,
    _sessions_by_block,
    detection_key,
    fuel_of,
    keep_detected,
    probable_smart,
)
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store import open_store
from octoscope.store.ports import StoreProtocol
from octoscope.web.app import create_app
from octoscope.wiring import open_account_store
from tests.conftest import DEMO_ACCOUNT, DEMO_NOW, Cli, make_cli, simulator

SIZE = DETECTION_BLOCK.total_seconds()
NOW = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
SHORT_DAY, LONG_DAY = date(2026, 3, 29), date(2026, 10, 25)  # 46 and 50 half-hours


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def block_of(instant: datetime) -> int:
    return int(instant.timestamp() // SIZE)


@dataclass(frozen=True)
class Home:
    account: Account
    imported: str  # the import series
    exports: list[str]

    @classmethod
    def of(cls, account: Account) -> Home:
        points = [p for prop in account.properties for p in prop.meter_points]
        imported = [p.series for p in points if fuel_of(p) == "electricity"]
        assert len(imported) == 1
        return cls(account, imported[0], [p.series for p in points if fuel_of(p) == "export"])

    def point(self) -> Any:
        return next(p for prop in self.account.properties for p in prop.meter_points if p.series == self.imported)


def opened(cli: Cli) -> StoreProtocol:
    return open_account_store(cli.settings(), frozen(NOW))


def home_of(store: StoreProtocol) -> Home:
    account = store.load_account(DEMO_ACCOUNT)
    assert account is not None
    return Home.of(account)


def every_block(store: StoreProtocol, series: str) -> list[int]:
    extent = store.series_extent(series)
    assert extent is not None
    return list(range(block_of(extent.first), block_of(extent.last) + 1))


def detected_afresh(store: StoreProtocol, home: Home, block: int) -> tuple[frozenset[int], list[Session]]:
    """The block's answers worked out here from what the store holds, as detection is documented to read
    it (not through the code that keeps them): the estimate's charged half-hours, the sessions."""
    lo = datetime.fromtimestamp(block * SIZE, UTC)
    hi = lo + DETECTION_BLOCK
    a, z = lo - DETECTION_MARGIN, hi + DETECTION_MARGIN
    readings = [(t, v) for t, v, unit in store.readings(home.imported, a, z) if unit == "kWh"]
    export = [(t, v) for e in home.exports for t, v, unit in store.readings(e, a, z) if unit == "kWh"]
    dispatches = [(r.start, r.end) for r in store.dispatches(a, z)]
    alone = detect_sessions(readings, dispatches=dispatches)
    charged = frozenset(int(t.timestamp()) for t in probable_smart_half_hours(alone, None) if lo <= t < hi)
    sessions = [
        s for s in detect_sessions(readings, export=export or None, dispatches=dispatches) if lo <= s.start < hi
    ]
    return charged, sessions


def kept_answers(store: StoreProtocol, series: str, block: int) -> tuple[frozenset[int], list[Session]]:
    estimate = store.kept_result(detection_key("estimate", series, block))
    sessions = store.kept_result(detection_key("sessions", series, block))
    assert estimate is not None, block
    assert sessions is not None, block
    return frozenset(json.loads(estimate.body)), [Session.from_json(row) for row in json.loads(sessions.body)]


def digests(store: StoreProtocol, home: Home, block: int, version: int = DETECTION_VERSION) -> tuple[str, str]:
    """What the block's kept inputs must be for the data as it is now (estimate, sessions)."""
    ((_, alone),) = list(_block_reads(store, home.imported, [block], (), None))
    ((_, with_export),) = list(_block_reads(store, home.imported, [block], home.exports, None))
    return (
        alone.digest("estimate", home.imported, block, None, version),
        with_export.digest("sessions", home.imported, block, None, version),
    )


def everything(home: Home) -> dict[str, list[tuple[datetime, datetime]]]:
    whole = (NOW - timedelta(days=3650), NOW + timedelta(days=1))
    return {s: [whole] for s in (home.imported, *home.exports)}


# --- after a sync ------------------------------------------------------------------------------------------


def test_after_a_sync_every_block_is_kept_for_the_data_as_it_is(synced_on: Cli) -> None:
    with opened(synced_on) as store:
        home = home_of(store)
        blocks = every_block(store, home.imported)
        assert len(blocks) >= 13  # two years
        for kind in ("estimate", "sessions"):
            kept = store.kept_results(f"detected:{kind}:{home.imported}:")
            assert sorted(kept) == sorted(detection_key(kind, home.imported, b) for b in blocks)
        for block in blocks:
            kinds: tuple[Kind, Kind] = ("estimate", "sessions")
            for kind, digest in zip(kinds, digests(store, home, block), strict=True):
                one = store.kept_result(detection_key(kind, home.imported, block))
                assert one is not None
                assert one.inputs == digest
        # What the next sync reads again (the last three days) reaches the last block or two only, and where
        # nothing changed, nothing is written.
        version = store.data_version()
        recent = {s: [(NOW - timedelta(days=3), NOW + timedelta(days=1))] for s in (home.imported, *home.exports)}
        assert 1 <= keep_detected(store, home.account, recent, NOW) <= 2
        assert store.data_version() == version


def test_blocks_kept_by_no_sync_yet_are_kept_by_the_next(synced_demo: Cli, tmp_path: Path) -> None:
    # A store synced before blocks were kept (or by a run stopped while keeping them): the next sync, which
    # reads only the last days again, keeps every block the store lacks, not only those it reached.
    db = tmp_path / "octoscope.db"
    shutil.copy(synced_demo.db, db)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("DELETE FROM kept_results WHERE key NOT LIKE '%:370' AND key NOT LIKE '%:365'")
    with open_store(db, frozen(NOW)) as store:
        home = home_of(store)
        recent = {home.imported: [(NOW - timedelta(days=3), NOW + timedelta(days=1))]}
        blocks = every_block(store, home.imported)
        assert keep_detected(store, home.account, recent, NOW) == len(blocks) - 1  # all but 365, kept whole
        for kind in KINDS:
            assert sorted(store.kept_results(f"detected:{kind}:{home.imported}:")) == sorted(
                detection_key(kind, home.imported, b) for b in blocks
            )
        version = store.data_version()
        assert keep_detected(store, home.account, recent, NOW) <= 2
        assert store.data_version() == version


# --- kept against computed ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The demo synced, then given the dispatch history from February (as a store that polled all along
    keeps it) and its blocks kept again as the sync keeps them."""
    with simulator() as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp(f"kept-detection-{store_backend}"), backend=store_backend)
        cli.ok("sync", "--to", "2026-11-22")
        truth = httpx.get(
            f"{sim.url}/_sim/truth", params={"from": "2026-02-01T00:00:00Z", "to": "2026-11-22T00:00:00Z"}, timeout=60
        ).json()
        records = [
            DispatchRecord(d["device_id"], "planned", at(d["start"]), at(d["end"]), d["type"], -d["kwh"], None, None)
            for d in truth["dispatches"]
        ]
        assert len(records) > 50
        with opened(cli) as store:
            store.save_dispatches(records, None, NOW)
            home = home_of(store)
            assert keep_detected(store, home.account, everything(home), NOW) == len(every_block(store, home.imported))
        yield cli


def test_kept_blocks_answer_what_detection_finds(history: Cli) -> None:
    with opened(history) as store:
        home = home_of(store)
        blocks = every_block(store, home.imported)
        found_any = with_dispatches = 0
        for block in blocks:
            kept = kept_answers(store, home.imported, block)
            assert kept == detected_afresh(store, home, block), block  # Sessions equal field by field
            found_any += bool(kept[1])
            lo = datetime.fromtimestamp(block * SIZE, UTC)
            with_dispatches += bool(store.dispatches(lo, lo + DETECTION_BLOCK))
        assert found_any >= len(blocks) // 2
        assert with_dispatches >= 5
        # The clock-change days lie inside kept blocks with sessions and dispatches.
        for day, count in ((SHORT_DAY, 46), (LONG_DAY, 50)):
            lo, hi = local_day_bounds(day)
            assert (hi - lo) / HALF_HOUR == count
            block = block_of(lo)
            assert block in blocks
            assert kept_answers(store, home.imported, block)[1]
            assert store.dispatches(lo - timedelta(days=7), hi + timedelta(days=7))
        # What readers ask answers from them: the estimate over the whole history, the sessions of a year.
        first = datetime.fromtimestamp(blocks[0] * SIZE, UTC)
        end = datetime.fromtimestamp((blocks[-1] + 1) * SIZE, UTC)
        expected = [detected_afresh(store, home, b) for b in blocks]
        charged = probable_smart(store, home.point(), first, end, any_tariff=True, history=False)
        assert charged == frozenset(datetime.fromtimestamp(t, UTC) for c, _ in expected for t in c)
        sessions = _sessions_by_block(store, home.imported, home.exports, first, end, None)
        assert sessions == [s for _, found in expected for s in found]


def test_a_kept_block_is_what_readers_are_answered(history: Cli) -> None:
    # A kept body whose digest is the data's is used as it is: here one made empty on purpose.
    with opened(history) as store:
        home = home_of(store)
        block = block_of(local_midnight(LONG_DAY))
        lo = datetime.fromtimestamp(block * SIZE, UTC)
        hi = lo + DETECTION_BLOCK
        assert probable_smart(store, home.point(), lo, hi, any_tariff=True, history=False)
        estimate, _ = digests(store, home, block)
        store.keep_result(detection_key("estimate", home.imported, block), estimate, "[]", NOW)
        try:
            assert probable_smart(store, home.point(), lo, hi, any_tariff=True, history=False) == frozenset()
        finally:  # its digest matches, so nothing would replace it: put back what detection finds
            right = json.dumps(sorted(detected_afresh(store, home, block)[0]))
            store.keep_result(detection_key("estimate", home.imported, block), estimate, right, NOW)


def test_a_body_kept_under_another_detection_version_is_not_used(history: Cli) -> None:
    with opened(history) as store:
        home = home_of(store)
        block = block_of(local_midnight(SHORT_DAY))
        lo = datetime.fromtimestamp(block * SIZE, UTC)
        hi = lo + DETECTION_BLOCK
        before = kept_answers(store, home.imported, block)
        assert before[0]
        assert before[1]
        estimate, sessions = digests(store, home, block, version=DETECTION_VERSION - 1)
        assert (estimate, sessions) != digests(store, home, block)
        store.keep_result(detection_key("estimate", home.imported, block), estimate, "[]", NOW)
        store.keep_result(detection_key("sessions", home.imported, block), sessions, "[]", NOW)
        assert probable_smart(store, home.point(), lo, hi, any_tariff=True, history=False) == frozenset(
            datetime.fromtimestamp(t, UTC) for t in before[0]
        )
        assert _sessions_by_block(store, home.imported, home.exports, lo, hi, None) == before[1]
        # and the next keeping (a sync reaching it) replaces them
        keep_detected(store, home.account, everything(home), NOW)
        assert kept_answers(store, home.imported, block) == before
        replaced = store.kept_result(detection_key("estimate", home.imported, block))
        assert replaced is not None
        assert replaced.inputs == digests(store, home, block)[0]


def charging_half_hour(store: StoreProtocol, home: Home, block: int) -> tuple[Session, datetime, float]:
    """A session of the block, the half-hour it took the most energy in, and the reading stored there."""
    session = max(kept_answers(store, home.imported, block)[1], key=lambda s: s.kwh)
    start = max(session.half_hours, key=lambda h: h[1])[0]
    ((_, value, unit),) = store.readings(home.imported, start, start + HALF_HOUR)
    assert unit == "kWh"
    return session, start, value


def write_reading(store: StoreProtocol, home: Home, start: datetime, value: float) -> None:
    serial = home.point().meters[-1].serial
    store.write_consumption(home.imported, serial, "kWh", [Reading(start, value)])


def test_a_changed_reading_changes_the_digest_and_the_answer(history: Cli) -> None:
    with opened(history) as store:
        home = home_of(store)
        block = block_of(local_midnight(LONG_DAY))
        lo = datetime.fromtimestamp(block * SIZE, UTC)
        hi = lo + DETECTION_BLOCK
        kept = kept_answers(store, home.imported, block)
        before = digests(store, home, block)
        session, start, value = charging_half_hour(store, home, block)
        write_reading(store, home, start, 0.0)  # the car's biggest half-hour of it, as if a revision took it out
        try:
            after = digests(store, home, block)
            assert after[0] != before[0]
            assert after[1] != before[1]
            changed = detected_afresh(store, home, block)
            assert changed != kept
            assert _sessions_by_block(store, home.imported, home.exports, lo, hi, None) == changed[1]
            assert session not in changed[1]
            assert probable_smart(store, home.point(), lo, hi, any_tariff=True, history=False) == frozenset(
                datetime.fromtimestamp(t, UTC) for t in changed[0]
            )
            # a sync reaching the block keeps the new answer in place of the old one
            assert keep_detected(store, home.account, {home.imported: [(start, start + HALF_HOUR)]}, NOW) <= 2
            assert kept_answers(store, home.imported, block) == changed
        finally:
            write_reading(store, home, start, value)
            keep_detected(store, home.account, everything(home), NOW)
        assert kept_answers(store, home.imported, block) == kept


def test_costs_and_sessions_over_http_do_not_write_the_store(history: Cli) -> None:
    # With a reading changed since the blocks were kept, the server detects its block again; it answers
    # from that, and writes nothing (a write would drop every answer it caches).
    with opened(history) as store:
        home = home_of(store)
        block = block_of(local_midnight(LONG_DAY))
        _, start, value = charging_half_hour(store, home, block)
        write_reading(store, home, start, 0.0)
        try:
            stale = store.kept_results("detected:")
            with serve_in_thread(create_app(history.settings(), clock=frozen(NOW))) as base:
                httpx.get(f"{base}/static/app.css", timeout=60).raise_for_status()
                version = store.data_version()  # as the server stands, started
                for path, params in (
                    ("/api/costs", {"from": "2025-12-01", "to": "2026-12-01", "by": "month"}),
                    ("/api/costs", {"from": "2026-10-01", "to": "2026-11-01", "by": "day"}),
                    ("/api/sessions", {"from": "2026-10-01", "to": "2026-11-01"}),
                    ("/api/sessions", {"from": "2026-10-01", "to": "2026-11-01", "charger_kw": "7"}),
                ):
                    got = httpx.get(f"{base}{path}", params=params, timeout=120)
                    assert got.status_code == 200, got.text
            assert store.data_version() == version
            assert store.kept_results("detected:") == stale
        finally:
            write_reading(store, home, start, value)
            keep_detected(store, home.account, everything(home), NOW)
