"""Price lists: natural keys (tariff, register, payment method, start), idempotent pages, overlap with
[start, end), the windows fetched."""

from __future__ import annotations

from datetime import timedelta

from octoscope.domain.costs import PriceColumns, PriceSeconds
from octoscope.domain.models import Charge, Rate
from octoscope.domain.uktime import epoch
from octoscope.store.ports import RateWindow, StoreProtocol
from tests.store.test_sqlite import AGILE, AT, FLEX, agile_rates

HALF_HOUR = timedelta(minutes=30)


def test_the_empty_store_has_no_prices(empty: StoreProtocol) -> None:
    assert empty.rates(AGILE, Charge.STANDARD) == []
    assert empty.rate_windows(AGILE, Charge.STANDARD) == []
    columns = empty.price_columns(AGILE, Charge.STANDARD, AT, AT + HALF_HOUR, "DIRECT_DEBIT")
    assert columns == PriceColumns([], [], [], [])
    seconds = empty.price_seconds(AGILE, Charge.STANDARD, AT, AT + HALF_HOUR, "DIRECT_DEBIT")
    assert seconds == PriceSeconds([], [], [], [])


def test_a_page_written_twice_changes_nothing(empty: StoreProtocol) -> None:
    page = agile_rates("2026-11-21T09:00:00Z", [20.0, 21.0, 22.0])
    assert empty.write_rates(AGILE, Charge.STANDARD, page) == (3, 0)
    assert empty.write_rates(AGILE, Charge.STANDARD, page) == (0, 0)
    changed = [page[0]._replace(value_exc_vat=30.0, value_inc_vat=31.5)]
    assert empty.write_rates(AGILE, Charge.STANDARD, changed) == (0, 1)
    assert empty.rates(AGILE, Charge.STANDARD) == [*changed, *page[1:]]


def test_rates_overlapping_a_half_open_range_in_time_order(empty: StoreProtocol) -> None:
    page = agile_rates("2026-11-21T09:00:00Z", [20.0, 21.0, 22.0, 23.0])
    empty.write_rates(AGILE, Charge.STANDARD, list(reversed(page)))
    assert empty.rates(AGILE, Charge.STANDARD, page[1].valid_from, page[3].valid_from) == page[1:3]
    assert empty.rates(AGILE, Charge.DAY) == []  # another register
    columns = empty.price_columns(AGILE, Charge.STANDARD, page[1].valid_from, page[3].valid_from, "DIRECT_DEBIT")
    assert columns == PriceColumns(
        [r.valid_from for r in page[1:3]],
        [r.valid_to for r in page[1:3]],
        [r.value_exc_vat for r in page[1:3]],
        [r.value_inc_vat for r in page[1:3]],
    )


def test_price_seconds_are_the_price_columns_in_epoch_seconds(empty: StoreProtocol) -> None:
    page = agile_rates("2026-11-21T09:00:00Z", [20.0, 21.0, 22.0, 23.0])
    empty.write_rates(AGILE, Charge.STANDARD, list(reversed(page)))
    window = (page[1].valid_from, page[3].valid_from)
    got = empty.price_seconds(AGILE, Charge.STANDARD, *window, "DIRECT_DEBIT")
    assert got == PriceSeconds(
        [epoch(r.valid_from) for r in page[1:3]],
        [epoch(r.valid_to) for r in page[1:3] if r.valid_to is not None],
        [r.value_exc_vat for r in page[1:3]],
        [r.value_inc_vat for r in page[1:3]],
    )
    assert all(type(t) is int for t in (*got.starts, *got.ends))  # as stored: whole seconds, compared as ints
    start = AT - timedelta(days=30)
    flex = [Rate(start, AT, 20.0, 21.0, "DIRECT_DEBIT"), Rate(AT, None, 22.0, 23.1, None)]
    empty.write_rates(FLEX, Charge.STANDARD, [*flex, Rate(start, None, 25.0, 26.25, "NON_DIRECT_DEBIT")])
    chosen = empty.price_seconds(FLEX, Charge.STANDARD, start, AT + HALF_HOUR, "DIRECT_DEBIT")
    assert chosen == PriceSeconds([epoch(start), epoch(AT)], [epoch(AT), None], [20.0, 22.0], [21.0, 23.1])
    columns = empty.price_columns(FLEX, Charge.STANDARD, start, AT + HALF_HOUR, "DIRECT_DEBIT")
    assert [epoch(t) for t in columns.starts] == chosen.starts


def test_payment_methods_are_part_of_the_key(empty: StoreProtocol) -> None:
    start = AT - timedelta(days=30)
    dd = Rate(start, None, 50.0, 52.5, "DIRECT_DEBIT")
    other = Rate(start, None, 55.0, 57.75, "NON_DIRECT_DEBIT")
    assert empty.write_rates(FLEX, Charge.STANDING, [dd, other]) == (2, 0)
    assert empty.rates(FLEX, Charge.STANDING, payment_method="DIRECT_DEBIT") == [dd]
    assert len(empty.rates(FLEX, Charge.STANDING)) == 2


def test_windows_fetched_are_recorded_with_the_page(empty: StoreProtocol) -> None:
    window = RateWindow(AT, AT + timedelta(days=1), AT + timedelta(hours=12), AT + timedelta(hours=1))
    empty.write_rates(AGILE, Charge.STANDARD, agile_rates("2026-11-21T09:00:00Z", [1.0]), window)
    assert empty.rate_windows(AGILE, Charge.STANDARD) == [window]
    earlier = RateWindow(window.start, window.end, AT, AT + timedelta(hours=2))
    empty.write_rates(AGILE, Charge.STANDARD, [], earlier)  # settled_to never moves back
    assert empty.rate_windows(AGILE, Charge.STANDARD) == [
        RateWindow(window.start, window.end, window.settled_to, earlier.fresh_until)
    ]
