"""An InfluxDB export reads each stored price list once per run (the first, and an incremental one), and
writes the same lines as when every job reads the prices of its own range."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

from octoscope.clock import frozen
from octoscope.config import InfluxSettings
from octoscope.domain.models import Charge
from octoscope.outputs.influx import export_influx
from octoscope.services.costing import PriceBook
from octoscope.store.sqlite import SQLiteStore, Store
from tests.outputs.conftest import NOW, copy_database, settings_for


class Keeps(httpx.BaseTransport):
    """Takes every write as InfluxDB 1.x does, and keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.lines += body.decode().splitlines()
        return httpx.Response(204)


READ = SQLiteStore.price_seconds


def export(db: Path, reads: list[tuple[str, Charge]], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lines an export run writes, sorted; each price list it reads appended to ``reads``."""

    def counted(self: SQLiteStore, code: str, charge: Charge, *rest: object) -> object:
        reads.append((code, charge))
        return READ(self, code, charge, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(SQLiteStore, "price_seconds", counted)
    keeps = Keeps()
    with Store.open(db) as store:
        settings = settings_for(db, InfluxSettings(url="http://kept", database="kept"))
        export_influx(settings, store, clock=frozen(NOW), transport=keeps)
    return sorted(keeps.lines)


def test_each_price_list_is_read_once_a_run_and_the_lines_are_as_read_job_by_job(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = copy_database(demo_db, tmp_path / "own.db")  # cursors of its own
    first: list[tuple[str, Charge]] = []
    shared = export(demo_db, first, monkeypatch)
    assert first
    assert len(first) == len(set(first))
    again: list[tuple[str, Charge]] = []
    incremental = export(demo_db, again, monkeypatch)  # the cursors now set: the last days again
    assert again
    assert len(again) == len(set(again))
    assert set(again) <= set(first)
    assert set(incremental) <= set(shared)

    # every ask reading the prices of its own window, as before they were shared
    prices = PriceBook.prices
    fresh = PriceBook
    monkeypatch.setattr(
        PriceBook, "prices", lambda self, codes, lo, hi: prices(fresh(self.store, self.payment_method), codes, lo, hi)
    )
    separate: list[tuple[str, Charge]] = []
    assert export(own, separate, monkeypatch) == shared
    assert len(separate) > len(first)
