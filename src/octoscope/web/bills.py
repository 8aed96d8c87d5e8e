"""``/api/bills``: the statements kept, reconciled; the same answer ``octoscope bills --json --offline`` prints.
A page never spends budget: statements are fetched by the CLI or the scheduler, not by a GET."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from octoscope.services.bills import bills_report, report_json
from octoscope.web.deps import SettingsDep, StoreDep, TodayDep

router = APIRouter(tags=["bills"])


@router.get("/api/bills", summary="Octopus's statements next to octoscope's costs, and the balance over time")
def bills(
    store: StoreDep,
    settings: SettingsDep,
    today: TodayDep,
    tolerance: Annotated[int, Query(ge=0, le=100_000, description="Pence per fuel a statement may differ by")] = 1,
) -> dict[str, Any]:
    return report_json(bills_report(store, settings, today, tolerance=tolerance))
