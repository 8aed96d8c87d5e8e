"""The tariff catalogue in the SQLite store, on a real file: products in the API's order, withdrawn ones gone
with their tariffs, tariffs per product with when they were read, small lookups kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from octoscope.octopus import parse
from octoscope.store.sqlite import Store
from tests.conftest import load_fixture

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_products_and_their_tariffs_round_trip_and_withdrawn_products_go(tmp_path: Path) -> None:
    listed = parse.products_page(load_fixture("products-list-page1.json"), "products").items
    flexible = parse.product_tariffs(load_fixture("product-detail-flexible.json"), "VAR-22-11-01", "detail")
    with Store.open(tmp_path / "o.db") as store:
        assert store.products() == ([], None)
        store.save_products(listed, AT)
        store.save_product_tariffs("VAR-22-11-01", flexible, AT)
        products, at = store.products()
        assert products == listed  # every field, in the API's order
        assert at == AT
        tariffs, read = store.product_tariffs()
        assert sorted(tariffs, key=lambda t: t.code) == sorted(flexible, key=lambda t: t.code)
        assert read == {"VAR-22-11-01": AT}
        assert store.product_name("VAR-22-11-01") == "Flexible Octopus"

        later = AT + timedelta(days=1)
        store.save_products([p for p in listed if p.code != "VAR-22-11-01"], later)
        products, at = store.products()
        assert "VAR-22-11-01" not in {p.code for p in products}
        assert at == later
        assert store.product_tariffs() == ([], {})  # withdrawn: its tariffs went with it


def test_a_product_listed_again_keeps_its_tariffs(tmp_path: Path) -> None:
    listed = parse.products_page(load_fixture("products-list-page1.json"), "products").items
    flexible = parse.product_tariffs(load_fixture("product-detail-flexible.json"), "VAR-22-11-01", "detail")
    with Store.open(tmp_path / "o.db") as store:
        store.save_products(listed, AT)
        store.save_product_tariffs("VAR-22-11-01", flexible, AT)
        store.save_products(list(reversed(listed)), AT + timedelta(hours=25))
        assert store.products()[0] == list(reversed(listed))
        assert store.product_tariffs()[1] == {"VAR-22-11-01": AT}


def test_lookups_are_kept_with_when_they_were_fetched(tmp_path: Path) -> None:
    with Store.open(tmp_path / "o.db") as store:
        assert store.lookup("gsp:BN11AA") is None
        store.save_lookup("gsp:BN11AA", "J", AT)
        store.save_lookup("gsp:BN11AA", "J", AT + timedelta(days=1))
        assert store.lookup("gsp:BN11AA") == ("J", AT + timedelta(days=1))
