"""The tariff comparison as a job: ``POST /api/compare`` starts it, ``GET /api/compare/{job}`` shows its
progress and, once done, its result (the answer ``octoscope compare --json`` prints).

A comparison may ask Octopus for every tariff's prices (the catalogue once a day, each tariff's rates once),
so it is never a GET: a link, an image or a prefetch cannot spend the budget, and the Origin policy
(``security``) keeps other sites from starting one. The work runs on the server whatever happens to the page
that asked; its progress and result are kept here (the last ``KEPT`` jobs, for an hour). One comparison runs
at a time (the budget is shared); asking for the one already running joins it; a client may start
``PER_CLIENT_HOUR`` an hour.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from octoscope.errors import OctoscopeError
from octoscope.services.pricing import compare_tariffs
from octoscope.sync import Progress
from octoscope.web.deps import ClockDep, OctopusDep, SettingsDep, StoreDep
from octoscope.web.errors import detail_of, status_of

router = APIRouter(tags=["prices"])

KEPT = 8  # jobs kept with their results
KEEP_SECONDS = 3600.0
PER_CLIENT_HOUR = 10
Fuel = Literal["electricity", "gas", "export"]


@dataclass
class Job:
    id: str
    params: tuple[int, str | None, str | None]  # months, fuel, region
    client: str
    started: float
    status: Literal["running", "done", "failed"] = "running"
    total: int = 0
    done: int = 0
    step: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    error_status: int | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        months, fuel, region = self.params
        out: dict[str, Any] = {
            "job": self.id,
            "status": self.status,
            "asked": {"months": months, "fuel": fuel, "region": region},
            "progress": {"done": self.done, "total": self.total, "step": self.step},
        }
        if self.status == "done":
            out["result"] = self.result
        if self.status == "failed":
            out["detail"] = self.error
            out["error_status"] = self.error_status
        return out


class Jobs:
    """The comparisons of one app: started, running, finished (see the module docstring)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.starts: dict[str, list[float]] = {}

    def _forget_old(self, now: float) -> None:
        finished = [j for j in self.jobs.values() if j.status != "running"]
        for job in finished:
            if now - job.started > KEEP_SECONDS:
                del self.jobs[job.id]
        finished = sorted((j for j in self.jobs.values() if j.status != "running"), key=lambda j: j.started)
        for job in finished[: max(0, len(self.jobs) - KEPT)]:
            del self.jobs[job.id]
        for client in list(self.starts):
            self.starts[client] = [t for t in self.starts[client] if now - t < 3600]
            if not self.starts[client]:
                del self.starts[client]

    def running(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.status == "running"), None)

    def admit(self, client: str, params: tuple[int, str | None, str | None], now: float) -> Job:
        """The job to answer with: the running one if it is the same comparison, else a new one; refused
        (429) while another comparison runs or past the client's share."""
        self._forget_old(now)
        current = self.running()
        if current is not None:
            if current.params == params:
                return current
            raise HTTPException(
                429, f"another comparison is running (job {current.id}); wait for it", headers={"Retry-After": "10"}
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
        job = Job(secrets.token_hex(8), params, client, now)
        self.jobs[job.id] = job
        return job


async def stop(app: Any) -> None:
    """Cancel the comparisons still running, before the app closes the store they use."""
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


async def _run(job: Job, work: Callable[[Progress], Any]) -> None:
    def start(total: int) -> None:
        job.total = total

    def advance(step: str) -> None:
        job.done += 1
        job.step = step

    try:
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
    client = request.client.host if request.client else "unknown"
    job = jobs.admit(client, (months, fuel, region), clock())
    if job.task is None:

        async def work(progress: Progress) -> dict[str, Any]:
            return await compare_tariffs(
                settings, store, clock, octopus, months=months, fuel=fuel, region=region, progress=progress
            )

        job.task = asyncio.create_task(_run(job, work))
    return JSONResponse(job.view(), status_code=202, headers={"Location": f"/api/compare/{job.id}"})


@router.get("/api/compare/{job}", summary="A comparison's progress, and its result once done")
def comparison(request: Request, job: Annotated[str, Path(max_length=32)]) -> dict[str, Any]:
    found = _jobs(request).jobs.get(job)
    if found is None:
        raise HTTPException(404, f"no comparison {job[:32]!r} here (finished ones are kept for an hour)")
    return found.view()
