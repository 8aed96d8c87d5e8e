"""A run's prices read once: PriceBook reads each price list once over the window expected, and every ask
gets what a read of its own window gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from octoscope.domain.costs import Prices
from octoscope.domain.models import Charge, Rate
from octoscope.services.costing import PriceBook, _book, _prices
from octoscope.store.sqlite import Store

HH = timedelta(minutes=30)
AGILE = "E-1R-AGILE-24-10-01-J"
E7 = "E-2R-VAR-22-11-01-J"
START = datetime(2026, 3, 1, tzinfo=UTC)


def columns(prices: Prices) -> list[tuple[list[float], list[float], list[float], list[float]]]:
    lookups = [prices.standing, *(prices.unit[c] for c in sorted(prices.unit, key=str))]
    return [(x.seconds(), x.end_seconds(), x.exc, x.inc) for x in lookups]


def test_each_list_is_read_once_and_each_ask_answered_as_its_own_read(tmp_path: Path) -> None:
    with Store.open(tmp_path / "octoscope.db") as store:
        agile = [
            Rate(START + i * HH, START + (i + 1) * HH, i % 9 - 1.0, (i % 9 - 1.0) * 1.05, None) for i in range(960)
        ]
        store.write_rates(AGILE, Charge.STANDARD, agile)
        store.write_rates(AGILE, Charge.STANDING, [Rate(START, START + 10 * 48 * HH, 40.0, 42.0, None)])
        store.write_rates(AGILE, Charge.STANDING, [Rate(START + 10 * 48 * HH, None, 44.0, 46.2, None)])
        store.write_rates(E7, Charge.DAY, [Rate(START, None, 30.0, 31.5, "DIRECT_DEBIT")])
        store.write_rates(E7, Charge.NIGHT, [Rate(START, None, 12.0, 12.6, "DIRECT_DEBIT")])
        store.write_rates(E7, Charge.STANDING, [Rate(START, None, 50.0, 52.5, "PREPAYMENT")])
        reads: list[tuple[str, Charge]] = []
        read = store.price_seconds

        def counted(code: str, charge: Charge, *rest: object) -> object:
            reads.append((code, charge))
            return read(code, charge, *rest)  # type: ignore[arg-type]

        store.price_seconds = counted  # type: ignore[method-assign]
        book = PriceBook(store, "DIRECT_DEBIT")
        book.expect((START + 2 * 48 * HH, START + 15 * 48 * HH))
        asks = [(START + 5 * 48 * HH, START + 8 * 48 * HH), (START + 2 * 48 * HH, START + 15 * 48 * HH)]
        asks += [(START + 7 * 48 * HH + 3 * HH, START + 12 * 48 * HH), (START + 14 * 48 * HH, START + 15 * 48 * HH)]
        for lo, hi in asks:
            got = book.prices([AGILE, E7], lo, hi)
            store.price_seconds = read  # type: ignore[method-assign]
            alone = _prices(store, [AGILE, E7], "DIRECT_DEBIT", lo, hi)
            store.price_seconds = counted  # type: ignore[method-assign]
            assert {code: columns(p) for code, p in got.items()} == {code: columns(p) for code, p in alone.items()}
        assert sorted(reads, key=str) == sorted(
            [
                (AGILE, Charge.STANDARD),
                (AGILE, Charge.STANDING),
                (E7, Charge.DAY),
                (E7, Charge.NIGHT),
                (E7, Charge.STANDING),
            ],
            key=str,
        )
        # an ask outside what is held reads again, over both
        wider = (START, START + 20 * 48 * HH)
        got = book.prices([AGILE], *wider)[AGILE]
        assert len(reads) == 7
        store.price_seconds = read  # type: ignore[method-assign]
        assert columns(got) == columns(_prices(store, [AGILE], "DIRECT_DEBIT", *wider)[AGILE])


def test_prices_shared_for_another_payment_method_are_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "octoscope.db") as store:
        book = PriceBook(store, "PREPAYMENT")
        with pytest.raises(ValueError, match="PREPAYMENT"):
            _book(store, "DIRECT_DEBIT", book)
        assert _book(store, "PREPAYMENT", book) is book
