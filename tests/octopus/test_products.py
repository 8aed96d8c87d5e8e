"""The product catalogue and the grid-supply-point lookup over the REST client, on the recorded payloads:
public calls (no key sent), every page of the list, tariffs per region from a product's detail."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from octoscope.domain.models import Fuel
from octoscope.domain.products import ProductTariff
from octoscope.octopus.errors import UnexpectedResponse
from octoscope.octopus.rest import RestClient
from tests.conftest import load_fixture
from tests.octopus.test_rest_client import BASE, KEY, Octopus, failure, fixture, gather, json_, query, run


def test_the_product_list_follows_every_page_and_sends_no_key() -> None:
    first = load_fixture("products-list-page1.json")
    second = copy.deepcopy(first)
    second["next"] = None  # type: ignore[index]
    second["results"] = second["results"][:1]  # type: ignore[index]
    second["results"][0]["code"] = "ZZ-LAST-26-01-01"  # type: ignore[index]
    server = Octopus(json_(200, first), json_(200, second))

    async def use(client: RestClient) -> list[Any]:
        return [p for page in await gather(client.products()) for p in page.items]

    products = run(server, use)
    assert len(server.requests) == 2
    assert all("authorization" not in r.headers for r in server.requests)
    assert query(server.requests[0]) == {"brand": ["OCTOPUS_ENERGY"]}
    assert str(server.requests[1].url) == first["next"]  # type: ignore[index]
    by_code = {p.code: p for p in products}
    agile = by_code["AGILE-24-10-01"]
    assert (agile.direction, agile.display_name, agile.term, agile.is_green) == ("IMPORT", "Agile Octopus", 12, True)
    assert agile.family == "agile"
    assert by_code["AGILE-OUTGOING-19-05-13"].family == "agile_outgoing"
    assert products[-1].code == "ZZ-LAST-26-01-01"


def test_a_products_detail_gives_one_tariff_per_region_fuel_and_register_count() -> None:
    server = Octopus(fixture("product-detail-flexible.json"))

    async def use(client: RestClient) -> list[ProductTariff]:
        return await client.product_tariffs("VAR-22-11-01")

    tariffs = run(server, use)
    assert "authorization" not in server.requests[0].headers
    assert server.requests[0].url == f"{BASE}/products/VAR-22-11-01/"
    in_j = {(t.fuel, t.registers): t.code for t in tariffs if t.region == "J"}
    assert in_j == {
        (Fuel.ELECTRICITY, 1): "E-1R-VAR-22-11-01-J",
        (Fuel.ELECTRICITY, 2): "E-2R-VAR-22-11-01-J",
        (Fuel.GAS, 1): "G-1R-VAR-22-11-01-J",
    }
    agile = run(Octopus(fixture("product-detail-agile.json")), lambda c: c.product_tariffs("AGILE-24-10-01"))
    assert sorted(t.region for t in agile) == list("ABCDEFGHJKLMNP")  # all 14 regions, single-register only
    assert {t.registers for t in agile} == {1}


def test_a_detail_of_another_product_or_a_wrong_tariff_is_refused() -> None:
    body = load_fixture("product-detail-flexible.json")
    err = failure(Octopus(json_(200, body)), lambda c: c.product_tariffs("AGILE-24-10-01"))
    assert isinstance(err, UnexpectedResponse)
    assert "asked for product AGILE-24-10-01" in str(err)
    wrong = copy.deepcopy(body)
    wrong["dual_register_electricity_tariffs"]["_J"]["varying"]["code"] = "E-1R-VAR-22-11-01-J"  # type: ignore[index]
    err = failure(Octopus(json_(200, wrong)), lambda c: c.product_tariffs("VAR-22-11-01"))
    assert "is not a 2-register electricity tariff" in str(err)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("grid-supply-points-postcode.json", ["J"]),
        ({"count": 0, "next": None, "previous": None, "results": []}, []),
    ],
)
def test_the_grid_supply_point_of_a_postcode(payload: Any, expected: list[str]) -> None:
    server = Octopus(fixture(payload) if isinstance(payload, str) else json_(200, payload))
    assert run(server, lambda c: c.grid_supply_points("BN1 1AA")) == expected
    assert query(server.requests[0]) == {"postcode": ["BN1 1AA"]}
    assert "authorization" not in server.requests[0].headers
    assert KEY not in str(server.requests[0].url)
