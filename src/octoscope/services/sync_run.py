"""The recorded sync run: a sync, with its start, its end and its outcome kept in the store's run log, for
``octoscope sync`` and the scheduler alike.

The outcome is ok (with the run's summary), failed (Octopus refused or failed: the error's one line), or,
when the process stops first, interrupted: that is recorded before the run starts and replaced at its end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from octoscope.clock import Clock
from octoscope.errors import UpstreamError
from octoscope.services.costing import keep_detected
from octoscope.store.ports import StoreProtocol
from octoscope.sync.run import SyncResult, SyncSummary

__all__ = ["record_sync"]


async def record_sync(
    store: StoreProtocol, clock: Clock, started: datetime, sync: Callable[[], Awaitable[SyncResult]]
) -> SyncSummary:
    """Run ``sync()`` as one entry of the run log, started at ``started`` and finished at the clock's now; its
    summary, or its error raised again once recorded."""
    run_id = store.start_run(started)
    outcome: tuple[str, dict[str, object]] = ("interrupted", {})
    try:
        result = await sync()
        summary = result.summary(store)
        if result.account is not None:
            # detection of the blocks it touched, done once here rather than by every reader (in a thread: a
            # first sync's years take a while, and the scheduler's loop serves pages meanwhile)
            await asyncio.to_thread(keep_detected, store, result.account, _touched(result), clock.now())
        outcome = ("ok", summary.to_json())
        return summary
    except UpstreamError as err:
        outcome = ("failed", {"error": str(err)})
        raise
    finally:
        store.finish_run(run_id, clock.now(), *outcome)


def _touched(result: SyncResult) -> dict[str, list[tuple[datetime, datetime]]]:
    """The windows of consumption the run read, by series: where detection may have changed."""
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for task in result.plan.consumption:
        out.setdefault(task.series, []).append((task.start, task.end))
    return out
