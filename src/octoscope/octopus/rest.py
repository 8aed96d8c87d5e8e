"""The REST client: account, consumption, tariff charges and the product catalogue, each page one request
under the policy.

Pages are streamed (an async iterator), never gathered, so memory stays flat however long the history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from octoscope.domain.models import Account, Charge, Fuel, Rate, Reading, TariffCode
from octoscope.domain.products import Product, ProductTariff
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import iso_z
from octoscope.octopus import parse
from octoscope.octopus.errors import UnexpectedResponse
from octoscope.octopus.http import exchange
from octoscope.octopus.policy import RequestPolicy

CONSUMPTION_PAGE = 25_000  # the API's cap: a year of half-hours in one request
RATES_PAGE = 1_500  # the cap on charge endpoints: a month of Agile half-hours
CHARGE_PATHS = {
    Charge.STANDARD: "standard-unit-rates",
    Charge.DAY: "day-unit-rates",
    Charge.NIGHT: "night-unit-rates",
    Charge.STANDING: "standing-charges",
}


class RestClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: Secret | None, policy: RequestPolicy) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(api_key.reveal(), "") if api_key else None
        self.policy = policy
        self._origin = urlsplit(self.base_url)[:2]

    async def _get(self, url: str, params: dict[str, str] | None, what: str, *, auth: bool = True) -> object:
        if urlsplit(url)[:2] != self._origin:
            # A `next` link elsewhere would carry our key to another host.
            raise UnexpectedResponse(f"{what}: a page link points away from {self.base_url}")
        request = self.http.build_request("GET", url, params=params)
        if auth and self._auth is not None:
            request = next(self._auth.auth_flow(request))
        return await self.policy.call("rest", what, lambda: exchange(self.http, request, what, self.policy.clock))

    async def account(self, number: str) -> Account:
        payload = await self._get(f"{self.base_url}/accounts/{number}/", None, f"account {number}")
        return parse.rest_account(payload, number)

    async def consumption(
        self, fuel: Fuel, point: str, serial: str, start: datetime, end: datetime
    ) -> AsyncIterator[parse.Page[Reading]]:
        """Pages of [start, end), oldest first, filtered to the range (the API can return a little more)."""
        what = f"{fuel} consumption {point}/{serial}"
        url: str | None = f"{self.base_url}/{fuel}-meter-points/{point}/meters/{serial}/consumption/"
        params: dict[str, str] | None = {
            "period_from": iso_z(start),
            "period_to": iso_z(end),
            "page_size": str(CONSUMPTION_PAGE),
            "order_by": "period",
        }
        while url is not None:
            page = parse.consumption_page(await self._get(url, params, what), what)
            page.items[:] = [r for r in page.items if start <= r.start < end]
            yield page
            url, params = page.next_url, None  # `next` repeats every parameter

    async def charges(
        self, tariff: TariffCode, charge: Charge, start: datetime, end: datetime
    ) -> AsyncIterator[parse.Page[Rate]]:
        """Pages of the records overlapping [start, end), newest first as the API gives them."""
        what = f"{CHARGE_PATHS[charge]} of {tariff.code}"
        url: str | None = (
            f"{self.base_url}/products/{tariff.product}/{tariff.fuel}-tariffs/{tariff.code}/{CHARGE_PATHS[charge]}/"
        )
        params: dict[str, str] | None = {
            "period_from": iso_z(start),
            "period_to": iso_z(end),
            "page_size": str(RATES_PAGE),
        }
        while url is not None:
            page = parse.rates_page(await self._get(url, params, what, auth=False), what)
            yield page
            url, params = page.next_url, None

    async def products(self) -> AsyncIterator[parse.Page[Product]]:
        """Pages of the products on sale now (the API's pages are fixed at 100), public: no key sent."""
        url: str | None = f"{self.base_url}/products/"
        params: dict[str, str] | None = {"brand": "OCTOPUS_ENERGY"}
        while url is not None:
            page = parse.products_page(await self._get(url, params, "products", auth=False), "products")
            yield page
            url, params = page.next_url, None

    async def product_tariffs(self, code: str) -> list[ProductTariff]:
        """The tariffs a product has, per region, fuel and register count, from its detail (public)."""
        what = f"product {code}"
        payload = await self._get(f"{self.base_url}/products/{code}/", None, what, auth=False)
        return parse.product_tariffs(payload, code, what)

    async def grid_supply_points(self, postcode: str) -> list[str]:
        """The region letters of a postcode's grid supply point (public): usually one, none if unknown."""
        what = "grid supply point of the postcode"  # the postcode itself stays out of logs
        payload = await self._get(
            f"{self.base_url}/industry/grid-supply-points/", {"postcode": postcode}, what, auth=False
        )
        return parse.grid_supply_points(payload, what)
