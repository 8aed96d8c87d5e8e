"""The pricing layer's own decisions: the region (MPAN, else the postcode's grid supply point, else the
tariff), the comparison's months, the window options as written; and a postcode's region asked of the
simulator once, then kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from octoscope.clock import frozen
from octoscope.config import Settings
from octoscope.domain.models import Agreement, Direction, Fuel, Meter, MeterPoint, Property
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import BadDate
from octoscope.services.pricing import (
    PriceError,
    current_agreement,
    find_region,
    half_hours_of,
    months_before,
    parse_clock,
    parse_load,
)
from octoscope.store.sqlite import Store
from octoscope.sync.prices import regions_of_postcode
from octoscope.wiring import open_octopus
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, SimServer

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SINCE = datetime(2025, 1, 1, tzinfo=UTC)


def home(mpan: str, tariff: str, postcode: str = "BN1 1AA") -> Property:
    point = MeterPoint(
        Fuel.ELECTRICITY, mpan, Direction.IMPORT, (Meter("S1"),), (Agreement(tariff, SINCE, None),), profile_class=1
    )
    return Property("1", SINCE, None, postcode, "1 Lane", (point,))


def region(prop: Property, answers: list[str] | None = None, override: str | None = None) -> tuple[str, str]:
    asked: list[str] = []

    async def ask(postcode: str) -> list[str]:
        asked.append(postcode)
        assert answers is not None, "the postcode was asked although the MPAN says the region"
        return answers

    return asyncio.run(find_region(prop, NOW, ask, override))


def test_the_region_from_the_mpan_first() -> None:
    assert region(home("1200000000001", "E-1R-AGILE-24-10-01-C")) == ("C", "MPAN distributor 12")
    assert region(home("1200000000001", "E-1R-AGILE-24-10-01-C"), override="_h") == ("H", "given")
    with pytest.raises(PriceError, match="--region 'I': write one of A, B"):
        region(home("1200000000001", "E-1R-AGILE-24-10-01-C"), override="I")


def test_an_mpan_not_in_the_table_asks_the_postcode_then_the_tariff_decides() -> None:
    idno = "2400000000001"  # an independent network's distributor id
    assert region(home(idno, "E-1R-AGILE-24-10-01-J"), ["J"]) == ("J", "postcode's grid supply point")
    # A postcode straddling two regions: the one the current tariff is in.
    assert region(home(idno, "E-1R-AGILE-24-10-01-H"), ["J", "H"]) == ("H", "postcode's grid supply point")
    with pytest.raises(PriceError, match="the postcode lies in regions J, K: choose one with --region"):
        region(home(idno, "E-1R-AGILE-24-10-01-H"), ["J", "K"])
    # An unknown postcode: the current tariff's region letter.
    assert region(home(idno, "E-1R-AGILE-24-10-01-M"), []) == ("M", "current tariff")


def test_the_agreement_in_force_or_the_latest_begun() -> None:
    first = Agreement("E-1R-VAR-22-11-01-J", SINCE, datetime(2026, 6, 1, tzinfo=UTC))
    lapse = Agreement("E-1R-AGILE-24-10-01-J", datetime(2026, 6, 2, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
    later = Agreement("E-1R-GO-VAR-22-10-14-J", datetime(2027, 1, 1, tzinfo=UTC), None)
    point = MeterPoint(Fuel.ELECTRICITY, "1900000000001", Direction.IMPORT, (), (first, lapse, later))
    assert current_agreement(point, datetime(2026, 3, 1, tzinfo=UTC)) == first
    assert current_agreement(point, NOW) == lapse  # ended, not yet followed: the latest that began
    assert current_agreement(point, datetime(2024, 1, 1, tzinfo=UTC)) is None


def test_months_back_keep_the_day_or_the_months_last() -> None:
    assert months_before(date(2026, 11, 21), 12) == date(2025, 11, 21)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)
    assert months_before(date(2024, 2, 29), 12) == date(2023, 2, 28)


def test_window_options_as_written() -> None:
    assert parse_clock("7:30", "--after") == time(7, 30)
    assert parse_clock(" 23:59 ", "--before") == time(23, 59)
    for bad in ("24:00", "7pm", "18", "18:60"):
        with pytest.raises(BadDate, match="is not a time of day"):
            parse_clock(bad, "--after")
    assert half_hours_of(3) == 6
    assert half_hours_of(0.5) == 1
    with pytest.raises(PriceError, match="half-hour steps"):
        half_hours_of(1.25)
    for absurd in (float("inf"), float("nan"), 1.7976931348623157e308, -3, 48.5):  # schemathesis found inf
        with pytest.raises(PriceError, match=r"half-hour steps, 0\.5 to 48"):
            half_hours_of(absurd)
    assert parse_load("7", 3) == [7.0, 7.0, 7.0]
    assert parse_load("7,7,3.5", 3) == [7.0, 7.0, 3.5]
    assert parse_load(None, 3) is None
    for bad, message in (("fast", "write kW as a number"), ("0", "between 0 and 100 kW"), ("7,7", "needs 3")):
        with pytest.raises(PriceError, match=message):
            parse_load(bad, 3)


def test_a_postcodes_region_is_asked_once_and_kept(demo_sim: SimServer, tmp_path: Path) -> None:
    settings = Settings(api_key=Secret(DEMO_KEY), account=DEMO_ACCOUNT, api_url=f"{demo_sim.url}/v1")

    async def twice(store: Store) -> tuple[list[str], list[str], int]:
        async with open_octopus(settings, store, frozen(NOW)) as octopus:
            first = await regions_of_postcode(octopus.clients, store, "bn1 1aa", NOW)
            second = await regions_of_postcode(octopus.clients, store, "BN11AA", NOW)
            return first, second, octopus.policy.made["rest"]

    with Store.open(tmp_path / "o.db") as store:
        first, second, made = asyncio.run(twice(store))
        unknown = asyncio.run(_unknown(settings, store))
    assert (first, second, made) == (["J"], ["J"], 1)
    assert unknown == []


async def _unknown(settings: Settings, store: Store) -> list[str]:
    async with open_octopus(settings, store, frozen(NOW)) as octopus:
        return await regions_of_postcode(octopus.clients, store, "ZZ9 9ZZ", NOW)
