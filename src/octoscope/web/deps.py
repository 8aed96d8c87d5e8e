"""What every router needs, read from the app's state: the store, the settings, the clock and the Octopus
facade.

Routers live one module per area and take these as FastAPI dependencies, so ``create_app`` is the only place
that decides what they are (tests hand in a fixed clock).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from octoscope.clock import Clock
from octoscope.config import Settings
from octoscope.domain.uktime import local_date
from octoscope.domain.validation import MAX_DAYS
from octoscope.errors import ConflictError
from octoscope.octopus.facade import Octopus
from octoscope.store.ports import StoreProtocol


def get_store(request: Request) -> StoreProtocol:
    store: StoreProtocol = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_octopus(request: Request) -> Octopus:
    """The process's facade of the configured key (made at start-up); a 409 when no key is configured."""
    octopus: Octopus | None = getattr(request.app.state, "octopus", None)
    if octopus is None:
        raise ConflictError("no API key configured: run `octoscope init`")
    return octopus


def get_today(clock: Annotated[Clock, Depends(get_clock)]) -> date:
    """Today as a UK local day, on the app's clock."""
    return local_date(clock.now())


StoreDep = Annotated[StoreProtocol, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
TodayDep = Annotated[date, Depends(get_today)]
OctopusDep = Annotated[Octopus, Depends(get_octopus)]

# The range every dated route takes, as the CLI's --from/--to/--days (``costing.resolve_days`` reads them).
FromDay = Annotated[str | None, Query(alias="from", description="First local day, YYYY-MM-DD")]
ToDay = Annotated[str | None, Query(description="Day after the last, YYYY-MM-DD (exclusive)")]
LastDays = Annotated[int | None, Query(description="The N whole days before today", ge=1, le=MAX_DAYS)]
