"""The tariff comparison as a job: ``POST /api/compare`` starts it (or joins the one asked the same, or answers
at once with the comparison kept in the store), ``GET /api/compare/{job}`` shows its state, progress, an
estimate of the time left and, once done, its result (the answer ``octoscope compare --json`` prints);
``GET /api/compare/kept`` shows the jobs under way and the comparison kept for the options asked, so that a
page opened again reattaches to its job or shows the last answer at once.

A comparison may ask Octopus for every tariff's prices (the catalogue once a day, each tariff's rates once),
so only the POST may start one: a link, an image or a prefetch cannot spend the budget, and the Origin policy
(``security``) keeps other sites from starting one. No GET here asks Octopus anything. The work runs on the
server whatever happens to the page that asked. One comparison runs at a time (the budget is shared); asking
for the one under way joins it, another is refused (429) until it ends; a client may start
``PER_CLIENT_HOUR`` an hour. Jobs live in this process (the last ``KEPT`` for an hour); each result without
problems is also kept in the store (``services.pricing.keep_comparison``) and answered again while what it
was worked out from is unchanged.

The models here only document the answers' shape in /docs; a comparison is rendered by its own ``to_json``
(what ``octoscope compare --json`` prints and the store keeps).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.concurrency import run_in_threadpool

from octoscope.clock import Clock
from octoscope.errors import OctoscopeError
from octoscope.services.pricing import compare_tariffs, kept_comparison, kept_now
from octoscope.services.pricing_results import Comparison, KeptComparison
from octoscope.sync import Progress
from octoscope.web.deps import ClockDep, OctopusDep, SettingsDep, StoreDep
from octoscope.web.errors import detail_of, status_of

router = APIRouter(tags=["prices"])

KEPT = 8  # finished jobs kept with their results
KEEP_SECONDS = 3600.0
PER_CLIENT_HOUR = 10
Fuel = Literal["electricity", "gas", "export"]
Params = tuple[int, str | None, str | None]  # months, fuel, region
Status = Literal["queued", "running", "done", "failed"]


class RegionModel(BaseModel):
    letter: str
    name: str
    from_: str = Field(alias="from", description="How the region was found")


class SmartChargingModel(BaseModel):
    kwh: float
    at_stake_pence: float


class TariffCostModel(BaseModel):
    """One fuel's readings over the period costed on one tariff, VAT included (export: the energy earned)."""

    name: str
    product: str
    tariff: str
    fuel: Fuel
    kwh: float
    energy_pence: float
    standing_pence: float
    total_pence: float
    average_pence_per_kwh: float | None
    partial_days: int
    caveats: list[str]
    # Absent, never null, when nothing was estimated (the schema leaves the None out).
    estimated_smart_charging: SmartChargingModel | SkipJsonSchema[None] = Field(
        None, description="Only when EV charging no dispatch is known for was costed as smart charging"
    )


class AlternativeModel(TariffCostModel):
    """A candidate tariff's cost and its saving on the current one (negative: dearer)."""

    saving_pence: float
    days_compared: int


class ComparisonModel(BaseModel):
    """What ``octoscope compare --json`` prints: the household's readings costed on every tariff."""

    from_: date = Field(alias="from")
    to: date = Field(description="Exclusive")
    days: int
    region: RegionModel
    payment_method: str
    inc_vat: bool
    current: dict[str, TariffCostModel] = Field(description="By fuel: the tariff it is on now")
    tariffs: list[AlternativeModel]
    caveats: list[str]
    requests: dict[str, int] = Field(description="Asked of Octopus for this answer, per API")
    problems: list[str]


class KeptModel(BaseModel):
    computed_at: datetime
    current: bool = Field(description="Nothing it was worked out from has changed, and it is young enough")
    stale_because: str | None
    kept_for_hours: float
    reused: bool = Field(description="Answered again from the store instead of worked out")


class AskedModel(BaseModel):
    months: int
    fuel: Fuel | None
    region: str | None


class ProgressModel(BaseModel):
    done: int
    total: int
    step: str
    seconds_left: float | None


class JobModel(BaseModel):
    """A comparison job; ``result`` and ``kept`` once done, ``detail`` and ``error_status`` if it failed."""

    job: str
    status: Status
    asked: AskedModel
    progress: ProgressModel
    # Each present only in the status named (absent, not null, otherwise); kept is null if not kept.
    result: ComparisonModel | SkipJsonSchema[None] = Field(None, description="Once done")
    kept: KeptModel | None = Field(None, description="Once done: about the answer kept in the store")
    detail: str | SkipJsonSchema[None] = Field(None, description="If failed: what went wrong, in one line")
    error_status: int | SkipJsonSchema[None] = Field(None, description="If failed: the HTTP status the error has")


class KeptAnswerModel(BaseModel):
    result: ComparisonModel
    kept: KeptModel


class ComparisonsModel(BaseModel):
    active: list[JobModel]
    kept: KeptAnswerModel | None


@dataclass
class Job:
    id: str
    params: Params
    client: str
    started: float  # the app clock's time when asked, for forgetting old jobs
    clock: Clock | None = field(default=None, repr=False)  # for the estimate of the time left
    status: Status = "running"
    total: int = 0
    done: int = 0
    step: str = ""
    counting_since: float | None = None  # monotonic, when the steps were counted out
    result: Comparison | None = None
    kept: KeptComparison | None = None
    reused: bool = False  # the kept comparison answered again, not worked out by this job
    error: str | None = None
    error_status: int | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    def seconds_left(self) -> float | None:
        """Time left at the rate steps have been done so far; None until one is done."""
        if self.status != "running" or self.clock is None or self.counting_since is None or not self.done:
            return None
        if not self.total:
            return None
        elapsed = self.clock.monotonic() - self.counting_since
        return round(max(0.0, elapsed / self.done * (self.total - self.done)), 1)

    def view(self) -> dict[str, Any]:
        months, fuel, region = self.params
        out: dict[str, Any] = {
            "job": self.id,
            "status": self.status,
            "asked": {"months": months, "fuel": fuel, "region": region},
            "progress": {
                "done": self.done,
                "total": self.total,
                "step": self.step,
                "seconds_left": self.seconds_left(),
            },
        }
        if self.status == "done":
            out["result"] = None if self.result is None else self.result.to_json()
            out["kept"] = None if self.kept is None else self.kept.to_json(reused=self.reused)
        if self.status == "failed":
            out["detail"] = self.error
            out["error_status"] = self.error_status
        return out


class Jobs:
    """The comparisons of one app: queued, running, finished (see the module docstring)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.starts: dict[str, list[float]] = {}
        self.one_at_a_time = asyncio.Lock()

    def _forget_old(self, now: float) -> None:
        for job in [j for j in self.jobs.values() if not j.active and now - j.started > KEEP_SECONDS]:
            del self.jobs[job.id]
        finished = sorted((j for j in self.jobs.values() if not j.active), key=lambda j: j.started)
        for job in finished[: max(0, len(finished) - KEPT)]:
            del self.jobs[job.id]
        for client in list(self.starts):
            self.starts[client] = [t for t in self.starts[client] if now - t < 3600]
            if not self.starts[client]:
                del self.starts[client]

    def active(self) -> list[Job]:
        return sorted((j for j in self.jobs.values() if j.active), key=lambda j: j.started)

    def joining(self, params: Params, now: float) -> Job | None:
        """The job under way for the same comparison, if any: asking again joins it."""
        self._forget_old(now)
        return next((j for j in self.active() if j.params == params), None)

    def add(self, job: Job) -> Job:
        self.jobs[job.id] = job
        self._forget_old(job.started)
        return job

    def admit(self, client: str, params: Params, now: float) -> Job:
        """The job to answer with: the one under way if it is the same comparison, else a new one; refused
        (429) while another comparison is under way or past the client's share."""
        self._forget_old(now)
        current = self.joining(params, now)
        if current is not None:
            return current
        others = self.active()
        if others:
            raise HTTPException(
                429,
                f"another comparison is running (job {others[0].id}); wait for it",
                headers={"Retry-After": "10"},
            )
        starts = self.starts.setdefault(client, [])
        if len(starts) >= PER_CLIENT_HOUR:
            wait = int(3600 - (now - starts[0])) + 1
            raise HTTPException(
                429,
                f"{PER_CLIENT_HOUR} comparisons an hour from one client; ask again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        starts.append(now)
        return self.add(Job(secrets.token_hex(8), params, client, now))


async def stop(app: Any) -> None:
    """Cancel the comparisons still under way, before the app closes the store they use."""
    jobs: Jobs | None = getattr(app.state, "compare_jobs", None)
    tasks = [j.task for j in (jobs.jobs.values() if jobs else ()) if j.task is not None and not j.task.done()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _jobs(request: Request) -> Jobs:
    jobs: Jobs | None = getattr(request.app.state, "compare_jobs", None)
    if jobs is None:
        jobs = request.app.state.compare_jobs = Jobs()
    return jobs


async def _run(jobs: Jobs, job: Job, work: Callable[[Progress], Awaitable[Comparison]]) -> None:
    def start(total: int) -> None:
        job.total, job.done = total, 0
        job.counting_since = None if job.clock is None else job.clock.monotonic()
        job.step = f"fetching {total} price list{'s' if total != 1 else ''} not yet stored" if total else ""

    def advance(step: str) -> None:
        job.done += 1
        job.step = step

    try:
        async with jobs.one_at_a_time:
            job.status = "running"
            job.step = "reading the tariffs on sale"
            job.result = await work(Progress(start, advance))
        job.status = "done"
    except OctoscopeError as err:  # said on the job as the error handler would say it (web.errors)
        job.error, job.error_status, job.status = detail_of(err), status_of(err), "failed"
    except Exception as err:  # a bug: said on the job, not lost in a task nobody awaits
        job.error, job.error_status, job.status = f"the comparison failed: {type(err).__name__}", 500, "failed"
        raise


@router.post(
    "/api/compare",
    status_code=202,
    response_model=JobModel,
    summary="Start comparing the household's usage on every tariff in its region (a job; see GET /api/compare/{job})",
)
async def start_comparison(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    octopus: OctopusDep,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
    fuel: Fuel | None = None,
    region: Annotated[str | None, Query(description="Region letter A-P, if it cannot be found", max_length=1)] = None,
) -> JSONResponse:
    jobs = _jobs(request)
    params: Params = (months, fuel, region)
    job = jobs.joining(params, clock())
    if job is None:
        kept = await run_in_threadpool(_current_kept, store, settings, clock, params)
        if kept is not None:  # nothing it was worked out from has changed: answered again, Octopus not asked
            job = jobs.add(Job(secrets.token_hex(8), params, "kept", clock(), clock, status="done"))
            job.result, job.kept, job.reused = kept.result, kept, True
        else:
            client = request.client.host if request.client else "unknown"
            job = jobs.admit(client, params, clock())
            job.clock, job.status, job.step = clock, "queued", "about to start"
            created = job

            async def work(progress: Progress) -> Comparison:
                result = await compare_tariffs(
                    settings, store, clock, octopus, months=months, fuel=fuel, region=region, progress=progress
                )
                if not result.problems:  # kept in the store by compare_tariffs
                    created.kept = kept_now(result, clock.now())
                return result

            job.task = asyncio.create_task(_run(jobs, job, work))
    return JSONResponse(job.view(), status_code=202, headers={"Location": f"/api/compare/{job.id}"})


def _kept(store: Any, settings: Any, clock: Clock, params: Params) -> KeptComparison | None:
    """The comparison kept for these options, if any; a question it cannot answer (no account, no readings)
    has nothing kept to show, and is the job's to say."""
    try:
        return kept_comparison(store, settings, clock.now(), *params)
    except OctoscopeError:
        return None


def _current_kept(store: Any, settings: Any, clock: Clock, params: Params) -> KeptComparison | None:
    """The kept comparison if it is still the answer."""
    kept = _kept(store, settings, clock, params)
    return kept if kept is not None and kept.current else None


@router.get(
    "/api/compare/kept",
    response_model=ComparisonsModel,
    summary="The comparisons under way, and the one kept for these options (when worked out, whether current)",
)
def comparisons(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
    fuel: Fuel | None = None,
    region: Annotated[str | None, Query(max_length=1)] = None,
) -> JSONResponse:
    jobs = _jobs(request)
    kept = _kept(store, settings, clock, (months, fuel, region))
    return JSONResponse(
        {
            "active": [j.view() for j in jobs.active()],
            "kept": None if kept is None else {"result": kept.result.to_json(), "kept": kept.to_json(reused=True)},
        }
    )


@router.get(
    "/api/compare/{job}",
    response_model=JobModel,
    summary="A comparison's state and progress, and its result once done",
)
def comparison(request: Request, job: Annotated[str, Path(max_length=32)]) -> JSONResponse:
    found = _jobs(request).jobs.get(job)
    if found is None:
        raise HTTPException(404, f"no comparison {job[:32]!r} here (finished ones are kept for an hour)")
    return JSONResponse(found.view())
