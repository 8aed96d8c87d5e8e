"""The scheduler's price fetch against the simulator on its clock: before 16:00 UK tomorrow's prices are not
out (one request finds that); after, they are fetched once; then nothing is asked until they go stale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from octoscope.clock import Clock, frozen
from octoscope.config import Settings
from octoscope.domain.secret import Secret
from octoscope.services.pricing import sync_prices_ahead
from octoscope.store.sqlite import Store
from octoscope.sync.run import run_sync
from octoscope.wiring import open_octopus
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, SimServer, simulator

MORNING = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # DEMO_NOW: UK time is UTC in November
AFTERNOON = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


def set_clock(sim: SimServer, at: datetime) -> None:
    httpx.post(f"{sim.url}/_sim/clock", json={"now": at.isoformat()}, timeout=10).raise_for_status()


async def prices_ahead(settings: Settings, store: Store, clock: Clock) -> dict[str, Any]:
    """The scheduler's prices job, on a facade of its own (one per run here, as one process per run)."""
    async with open_octopus(settings, store, clock) as octopus:
        return (await sync_prices_ahead(settings, store, clock, octopus)).to_json()


def paths(sim: SimServer) -> list[str]:
    log = sim.requests_log()["requests"]
    sim.reset_log()
    return sorted(str(e["path"]).split("/")[-2] + " " + str(e["path"]).split("/")[-3] for e in log)


def test_tomorrows_prices_once_published_then_nothing(tmp_path: Path) -> None:
    with simulator() as sim, Store.open(tmp_path / "o.db") as store:
        settings = Settings(
            api_key=Secret(DEMO_KEY),
            account=DEMO_ACCOUNT,
            api_url=f"{sim.url}/v1",
            graphql_url=f"{sim.url}/v1/graphql/",
            db=tmp_path / "o.db",
        )

        async def synced() -> None:
            async with open_octopus(settings, store, frozen(MORNING)) as octopus:
                await run_sync(
                    octopus.clients, store, DEMO_ACCOUNT, start=None, end=MORNING + timedelta(hours=15), now=MORNING
                )

        asyncio.run(synced())
        sim.reset_log()

        def ahead(at: datetime) -> dict[str, Any]:
            set_clock(sim, at)
            return asyncio.run(prices_ahead(settings, store, frozen(at)))

        morning = ahead(MORNING)
        # The sync holds today's prices; tomorrow's unit rates are asked once per tariff: Intelligent Go's are
        # not out (nothing comes back), Outgoing's and gas's price is in force until further notice.
        assert paths(sim) == [
            "standard-unit-rates E-1R-INTELLI-VAR-24-10-29-J",
            "standard-unit-rates E-1R-OUTGOING-VAR-24-10-26-J",
            "standard-unit-rates G-1R-VAR-22-11-01-J",
        ]
        assert morning["requests"] == {"rest": 3, "graphql": 0}
        assert morning["tomorrow_published"] is False
        assert morning["tariffs"] == {
            "E-1R-INTELLI-VAR-24-10-29-J": {"published_until": "2026-11-22T00:00:00+00:00"},
            "G-1R-VAR-22-11-01-J": {"published_until": None},
            "E-1R-OUTGOING-VAR-24-10-26-J": {"published_until": None},
        }

        afternoon = ahead(AFTERNOON)
        # Published at 16:00: tomorrow's Intelligent Go periods; the flat prices looked at again (stale after
        # the API's five minutes), unit rates only.
        assert paths(sim) == [
            "standard-unit-rates E-1R-INTELLI-VAR-24-10-29-J",
            "standard-unit-rates E-1R-OUTGOING-VAR-24-10-26-J",
            "standard-unit-rates G-1R-VAR-22-11-01-J",
        ]
        assert afternoon["tomorrow_published"] is True
        # Asked up to 23:00 tomorrow (where Agile's day ends): the period in force then runs to 23:30.
        assert afternoon["tariffs"]["E-1R-INTELLI-VAR-24-10-29-J"] == {"published_until": "2026-11-22T23:30:00+00:00"}

        again = ahead(AFTERNOON + timedelta(minutes=1))
        assert paths(sim) == []
        assert again["requests"] == {"rest": 0, "graphql": 0}
        assert again["tomorrow_published"] is True
