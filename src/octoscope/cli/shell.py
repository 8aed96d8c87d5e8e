"""The shell every command module shares: settings, the process's clock, the database checks, the one-line
errors, JSON output, progress, serving an ASGI app, and the printers more than one command uses.

Errors a user can fix (``octoscope.errors.OctoscopeError``) are one line on stderr, ``Error: message (hint)``,
with the error's exit code (1); no tracebacks (:func:`translate`, used by :func:`user_errors` and by ``main``).
Command modules import this module, never one another.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope.domain.validation import MAX_DAYS
from octoscope.errors import OctoscopeError

if TYPE_CHECKING:
    from datetime import datetime

    from octoscope.clock import Clock
    from octoscope.config import Settings
    from octoscope.store.ports import StoreProtocol
    from octoscope.sync import PlannedSync, Progress, SyncResult, SyncSummary

__all__ = [
    "LOOPBACK",
    "FromDay",
    "LastDays",
    "ToDay",
    "check_database",
    "choose_account",
    "chosen_account",
    "echo_json",
    "fail",
    "free_port",
    "plan_sync",
    "pounds",
    "print_summary",
    "process_clock",
    "read_all_settings",
    "read_settings",
    "require_database",
    "serve_app",
    "set_process_clock",
    "sync_and_record",
    "sync_progress",
    "system_clock",
    "translate",
    "uk_instant",
    "uk_time",
    "user_errors",
]


def fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


_process_clock: list[Clock] = []  # the one clock of this process, made by the root options (cli/__init__.py)


def process_clock() -> Clock:
    """The process's clock: the machine's, or the instant ``--now`` / ``OCTOSCOPE_NOW`` set."""
    if not _process_clock:
        _process_clock.append(system_clock())
    return _process_clock[0]


def system_clock() -> Clock:
    from octoscope.clock import SYSTEM  # noqa: PLC0415

    return SYSTEM


def set_process_clock(clock: Clock) -> None:
    """The root options (``--now``, ``--clock-speed``) set the process's clock once, before any command."""
    _process_clock[:] = [clock]


def translate(err: OctoscopeError) -> typer.Exit:
    """The one CLI translation of an error meant for users: ``Error: message (hint)`` on stderr, no
    traceback, and the error's exit code."""
    typer.echo(f"Error: {err}", err=True)
    return typer.Exit(err.exit_code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn every error a user can act on into one line and its exit code; anything else is a bug and says so."""
    try:
        yield
    except OctoscopeError as err:
        raise translate(err) from None


_chosen_account: list[str] = []  # the root option --account: the account a command works on


def choose_account(number: str | None) -> None:
    """The root option ``--account`` (or a command's own): which configured account a command works on."""
    _chosen_account[:] = [number] if number else []


def chosen_account() -> str | None:
    return _chosen_account[0] if _chosen_account else None


def read_all_settings() -> list[Settings]:
    """The settings of each account a command works on: the one chosen with ``--account``, else every one
    configured (``sync`` and ``serve`` go through them all); a plain config's one account as it always was."""
    from octoscope.config import load_settings  # noqa: PLC0415

    settings = load_settings()
    if chosen_account() is not None or len(settings.all_accounts()) <= 1:
        return [settings.select(chosen_account())]
    return [settings.for_account(account) for account in settings.all_accounts()]


def read_settings(*, plain: bool = False, **overrides: Any) -> Settings:
    """The settings a command runs with: of the account ``--account`` chose, or the only one. ``plain``: the
    config's own settings, bound to no ``[[accounts]]`` table (``init`` rewrites those, never a table's key)."""
    from dataclasses import replace  # noqa: PLC0415

    from octoscope.config import check_account_number, check_api_key, check_url, db_setting, load_settings  # noqa: PLC0415

    settings = load_settings()
    if not plain:
        settings = settings.select(chosen_account())
    changes: dict[str, Any] = {}
    if overrides.get("api_key"):
        changes["api_key"] = check_api_key(overrides["api_key"])
    if overrides.get("account"):
        changes["account"] = check_account_number(overrides["account"])
    for name in ("api_url", "graphql_url"):
        if overrides.get(name):
            changes[name] = check_url(name, overrides[name])
    if overrides.get("db"):
        changes.update(db_setting(overrides["db"]))
    return replace(settings, **changes)


def require_database(settings: Settings) -> None:
    """Commands that only read the database say so plainly when there is none yet."""
    if settings.db_url is None and not settings.db.exists():
        raise fail(f"no database at {settings.db} yet: run `octoscope sync` first")


def check_database(settings: Settings) -> None:
    """Open the database and read every page's header (``quick_check``; a cheap query on PostgreSQL): one
    line if it cannot be used."""
    from octoscope.store.errors import StoreError  # noqa: PLC0415
    from octoscope.store.problems import damaged  # noqa: PLC0415
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    with open_account_store(settings, process_clock()) as store:
        try:
            problem = store.quick_check()
        except StoreError as err:
            raise fail(str(err)) from None
    if problem is not None:
        raise fail(problem if settings.db_url is not None else damaged(problem, settings.db))


def echo_json(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def free_port(host: str) -> int:
    from octoscope.simulator.threaded import free_port  # noqa: PLC0415

    return free_port(host)


def serve_app(asgi_app: object, host: str, port: int) -> None:
    import socket  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415 (keeps `octoscope --help` fast)

    # uvicorn reports a port in use as a log line and exits 3; say it as every other user error.
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        raise fail(f"cannot listen on {host}:{port} ({err.strerror}); choose another --port") from None

    from octoscope.web.serving import server_config  # noqa: PLC0415

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Event streams never end by themselves: end them first (their browsers reconnect to the next
            # server), so that stopping with a viewer connected is clean rather than a timeout and a traceback.
            stop = getattr(getattr(asgi_app, "state", None), "stop_streams", None)
            if callable(stop):
                stop()
            await super().shutdown(sockets)

    # Any other open response gets 3 seconds on Ctrl-C, then the server stops. The connections' number,
    # header size and idle time are bounded (see web.serving).
    config = server_config(asgi_app, host, port, log_level="warning", access_log=False, timeout_graceful_shutdown=3)
    server = Server(config)
    try:
        server.run()
    except OSError as err:
        raise fail(f"cannot listen on {host}:{port} ({err.strerror}); choose another --port") from None


class _LineProgress:
    """Plain progress lines, for logs and pipes."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, description: str) -> None:
        self.done += 1
        typer.echo(f"[{self.done}/{self.total}] {description}", err=True)


@contextlib.contextmanager
def sync_progress(quiet: bool) -> Iterator[Progress]:
    from octoscope.sync import Progress  # noqa: PLC0415

    if quiet:
        yield Progress()
        return
    if not sys.stderr.isatty():
        lines = _LineProgress()
        yield Progress(lines.start, lines.advance)
        return
    from rich.progress import Progress as Bar  # noqa: PLC0415

    with Bar(transient=True) as bar:
        task = bar.add_task("syncing", total=None)
        yield Progress(
            lambda total: bar.update(task, total=total), lambda d: bar.update(task, advance=1, description=d)
        )


async def plan_sync(
    settings: Settings, start: datetime | None, end: datetime, now: datetime, past: bool
) -> PlannedSync:
    """``sync --dry-run``: read the account (a few requests) and plan; nothing else is fetched or recorded."""
    async with _syncing(settings) as (_, sync):
        result = await sync(start=start, end=end, now=now, past_properties=past, dry_run=True)
        return result.planned()


async def sync_and_record(
    settings: Settings, start: datetime | None, end: datetime, now: datetime, past: bool, progress: Progress
) -> SyncSummary:
    """One sync of ``settings``' account, recorded in the run log: ok with its summary, failed, or (if the
    process stops first) interrupted."""
    from octoscope.services.sync_run import record_sync  # noqa: PLC0415

    async with _syncing(settings) as (store, sync):
        return await record_sync(
            store,
            process_clock(),
            now,
            lambda: sync(start=start, end=end, now=now, past_properties=past, progress=progress),
        )


@contextlib.asynccontextmanager
async def _syncing(settings: Settings) -> AsyncIterator[tuple[StoreProtocol, Callable[..., Awaitable[SyncResult]]]]:
    """The account's store, and its sync with the config's options (reread days, concurrency) bound: what
    the plan and the recorded run share."""
    from octoscope.sync import run_sync  # noqa: PLC0415
    from octoscope.wiring import open_account_store, open_octopus  # noqa: PLC0415

    clock = process_clock()
    with open_account_store(settings, clock) as store:
        async with open_octopus(settings, store, clock) as octopus:
            _, number = settings.require_credentials()
            yield (
                store,
                functools.partial(
                    run_sync,
                    octopus.clients,
                    store,
                    number,
                    reread_days=settings.sync.reread_days,
                    concurrency=settings.sync.concurrency,
                ),
            )


def uk_time(iso: str | None, end_of_half_hour: bool = False) -> str:
    """An instant of the JSON (UTC) as people read it here: UK local time, e.g. ``Sat 5 Dec 2026 23:30``;
    ``end_of_half_hour``: the end of the half-hour that starts then (data "up to" it)."""
    from datetime import datetime  # noqa: PLC0415

    if iso is None:
        return "nothing"
    return uk_instant(datetime.fromisoformat(iso.replace("Z", "+00:00")), end_of_half_hour)


def uk_instant(at: datetime | None, end_of_half_hour: bool = False) -> str:
    """:func:`uk_time` of an instant itself."""
    from datetime import timedelta  # noqa: PLC0415

    from octoscope.domain.uktime import UK  # noqa: PLC0415

    if at is None:
        return "nothing"
    local = (at + timedelta(minutes=30 if end_of_half_hour else 0)).astimezone(UK)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def print_summary(summary: SyncSummary) -> None:
    requests = summary.requests
    typer.echo(
        f"Synced {uk_instant(summary.window[0])} to {uk_instant(summary.window[1])} UK time with"
        f" {requests.get('rest', 0)} REST and {requests.get('graphql', 0)} GraphQL requests"
        f" ({summary.retries} retried)"
    )
    for name, s in summary.series.items():
        gaps = f", {len(s.gaps)} gaps" if s.gaps else ""
        typer.echo(
            f"  {name}: {s.rows_new} new, {s.rows_updated} updated; holds {uk_instant(s.first_interval)} to"
            f" {uk_instant(s.last_interval, end_of_half_hour=True)} ({s.unit}){gaps}"
        )
    for name, c in summary.charges.items():
        typer.echo(f"  {name}: {c.new} new, {c.updated} updated")


# The range options that `costs` and `sessions` share.
FromDay = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UK local, inclusive).")]
ToDay = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD (exclusive).")]
LastDays = Annotated[int | None, typer.Option(help="The N whole days before today (default 30).", min=1, max=MAX_DAYS)]


def pounds(pence: float) -> str:
    return f"£{pence / 100:,.2f}"


LOOPBACK = ("127.0.0.1", "localhost", "::1")
