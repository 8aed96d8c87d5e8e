"""``/api/bills``: the statements kept, reconciled; the same answer ``octoscope bills --json --offline`` prints.
A page never spends budget: statements are fetched by the CLI or the scheduler, not by a GET.

``BillsAnswer`` (the response model) shows the answer's shape in /docs; the answer itself is the service's
one rendering (``report_json``). Fields are declared in the order they are sent: the model writes them so."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from octoscope.services.bills import bills_report, report_json
from octoscope.web.deps import SettingsDep, StoreDep, TodayDep

router = APIRouter(tags=["bills"])


class ReasonAnswer(BaseModel):
    cause: str  # estimated_read, missing_readings, unit_rate, rounding, unexplained, ...
    text: str


class FuelAnswer(BaseModel):
    fuel: str
    octopus_pence: int  # as billed, inc VAT (export negative)
    octoscope_pence: int
    difference_pence: int
    matches: bool  # within the tolerance
    reasons: list[ReasonAnswer]


class StatementAnswer(BaseModel):
    id: str
    from_: str = Field(alias="from")  # first day, YYYY-MM-DD
    to: str  # last day, inclusive
    issued: str | None
    status: str | None  # OPEN or CLOSED
    opening_balance: int | None
    closing_balance: int | None
    flagged: bool
    notes: list[str]
    fuels: list[FuelAnswer]
    payments_pence: int


class BalanceAnswer(BaseModel):
    date: str
    pence: int  # positive in credit


class FetchAnswer(BaseModel):
    requests: int
    fetched: int
    kept: int
    skipped: str | None


class BillsAnswer(BaseModel):
    account: str
    tolerance_pence: int
    flagged: int  # statements with a fuel outside the tolerance
    statements: list[StatementAnswer]
    balance: list[BalanceAnswer]
    fetch: FetchAnswer | None  # always None here: a GET asks Octopus nothing


@router.get(
    "/api/bills",
    summary="Octopus's statements next to octoscope's costs, and the balance over time",
    response_model=BillsAnswer,
)
def bills(
    store: StoreDep,
    settings: SettingsDep,
    today: TodayDep,
    tolerance: Annotated[int, Query(ge=0, le=100_000, description="Pence per fuel a statement may differ by")] = 1,
) -> dict[str, Any]:
    return report_json(bills_report(store, settings, today, tolerance=tolerance))
