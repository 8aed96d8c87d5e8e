"""The ``octoscope`` command line: a thin shell over the package.

Errors a user can fix are one line on stderr, starting ``Error:``, with exit code 1; no tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import sqlite3
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope import __version__, cli_live
from octoscope.validation import MAX_DAYS, MAX_DISPATCH_DAYS

if TYPE_CHECKING:
    from octoscope.clock import Clock
    from octoscope.config import Settings
    from octoscope.sync.run import Progress

app = typer.Typer(
    name="octoscope",
    help="A self-hosted data hub for Octopus Energy customers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


DEMO_KEY = "sk_live_octoscope_demo"  # the demo scenario's own, made-up key
DEMO_ACCOUNT = "A-DE30DE30"


def fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


_process_clock: list[Clock] = []  # the one clock of this process, made by the options below


def process_clock() -> Clock:
    """The process's clock: the machine's, or the instant ``--now`` / ``OCTOSCOPE_NOW`` set."""
    if not _process_clock:
        _process_clock.append(_system_clock())
    return _process_clock[0]


def _system_clock() -> Clock:
    from octoscope.clock import SYSTEM  # noqa: PLC0415

    return SYSTEM


@app.callback()
def main_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v for progress logs, -vv for debug.")
    ] = 0,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            envvar="OCTOSCOPE_NOW",
            help="Run as if it were this instant (ISO 8601 with offset), for replays and demos; off by default.",
        ),
    ] = None,
    speed: Annotated[
        str | None,
        typer.Option(
            "--clock-speed",
            envvar="OCTOSCOPE_SPEED",
            help="With --now: seconds of that clock per real second (1 by default; 0 freezes it).",
        ),
    ] = None,
) -> None:
    """octoscope: your Octopus Energy data, complete, in a local database."""
    from octoscope.clock import ClockError, make_clock  # noqa: PLC0415

    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        _process_clock[:] = [make_clock(now, speed)]
    except ClockError as err:
        raise fail(str(err)) from None


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn every error a user can act on into one line and exit 1; anything else is a bug and says so."""
    from octoscope.config import ConfigError  # noqa: PLC0415
    from octoscope.costing import CostError  # noqa: PLC0415
    from octoscope.domain.uktime import BadDate  # noqa: PLC0415
    from octoscope.octopus.errors import OctopusError  # noqa: PLC0415
    from octoscope.store.sqlite import StoreError  # noqa: PLC0415
    from octoscope.validation import BadValue  # noqa: PLC0415

    try:
        yield
    except (ConfigError, BadDate, BadValue, StoreError, OctopusError, CostError) as err:
        raise fail(str(err)) from None
    except sqlite3.Error as err:
        from octoscope.store.problems import describe  # noqa: PLC0415

        raise fail(describe(err)) from None


def _settings(**overrides: Any) -> Settings:
    from dataclasses import replace  # noqa: PLC0415

    from octoscope.config import check_account_number, check_api_key, check_url, load_settings  # noqa: PLC0415

    settings = load_settings()
    changes: dict[str, Any] = {}
    if overrides.get("api_key"):
        changes["api_key"] = check_api_key(overrides["api_key"])
    if overrides.get("account"):
        changes["account"] = check_account_number(overrides["account"])
    for name in ("api_url", "graphql_url"):
        if overrides.get(name):
            changes[name] = check_url(name, overrides[name])
    if overrides.get("db"):
        changes["db"] = Path(overrides["db"]).expanduser()
    return replace(settings, **changes)


def _require_database(settings: Settings) -> None:
    """Commands that only read the database say so plainly when there is none yet."""
    if not settings.db.exists():
        raise fail(f"no database at {settings.db} yet: run `octoscope sync` first")


def _check_database(path: Path) -> None:
    """Open the database and read every page's header (``quick_check``): one line if it cannot be used."""
    from octoscope.store.problems import describe  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415

    with Store.open(path) as store:
        try:
            problem = store.quick_check()
        except sqlite3.Error as err:
            raise fail(describe(err, path)) from None
    if problem is not None:
        raise fail(describe(sqlite3.DatabaseError(f"database disk image is malformed: {problem}"), path))


def _echo_json(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _free_port(host: str) -> int:
    from octoscope.simulator.threaded import free_port  # noqa: PLC0415

    return free_port(host)


def _serve(asgi_app: object, host: str, port: int) -> None:
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


def _build_simulator(scenario: str, seed: int | None, now: str | None, speed: float, faults: str | None) -> object:
    from octoscope.simulator import FaultSpecError, ScenarioError, create_app  # noqa: PLC0415

    if speed < 0:
        raise fail("--speed must be 0 (frozen clock) or more")
    try:
        return create_app(scenario, seed=seed, now=now, speed=speed, faults=faults)
    except (ScenarioError, FaultSpecError) as err:
        raise fail(str(err)) from None


@app.command()
def simulate(
    scenario: Annotated[str, typer.Option(help="A built-in scenario name or a path to a .toml file.")] = "demo",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8123,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's random seed.")] = None,
    now: Annotated[str | None, typer.Option(help="Start the simulated clock here (ISO 8601).")] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second; 0 freezes the clock.")] = 1.0,
    faults: Annotated[str | None, typer.Option(help="Faults to inject, e.g. '503:0.2,429:0.1:retry_after=5'.")] = None,
) -> None:
    """Run the local Octopus API simulator (REST under /v1/, GraphQL at /v1/graphql/).

    Example: octoscope simulate --scenario demo --port 8123 --now 2026-11-20T09:00:00Z --speed 0
    """
    clock = process_clock()
    if now is None and clock is not _system_clock():  # the process's own instant (--now before the command)
        now, speed = clock.now().isoformat(), clock.speed
    asgi_app = _build_simulator(scenario, seed, now, speed, faults)
    port = port or _free_port(host)
    typer.echo(
        f"Octopus API simulator ({scenario}) on http://{host}:{port}/v1/  GraphQL: http://{host}:{port}/v1/graphql/"
    )
    _serve(asgi_app, host, port)


@app.command()
def demo(
    db: Annotated[Path | None, typer.Option(help="The demo's database (made afresh on each run).")] = None,
    port: Annotated[int, typer.Option(help="Port for the web app; 0 picks a free one.")] = 0,
) -> None:
    """The demo: the simulator with the demo account, a full sync into a fresh database, then serve.

    Example: octoscope demo
    """
    from octoscope.config import Settings, default_data_home  # noqa: PLC0415
    from octoscope.domain.secret import Secret  # noqa: PLC0415
    from octoscope.simulator.threaded import serve_in_thread  # noqa: PLC0415
    from octoscope.sync.plan import resolve_window  # noqa: PLC0415

    clock = process_clock()
    # The simulator starts at this process's instant and moves at its pace: both sides agree on "now".
    asgi_app = _build_simulator("demo", None, clock.now().isoformat(), clock.speed, None)
    path = db or default_data_home() / "demo.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    # The demo starts from an empty database: never delete one another demo is still serving.
    lock = path.with_name(path.name + ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise fail(f"another octoscope demo is using {path}: stop it, or give this one --db OTHER.db") from None
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    with lock, serve_in_thread(asgi_app) as base:  # type: ignore[arg-type]
        typer.echo("octoscope demo: a simulated Octopus account with two years of history")
        typer.echo(f"  REST API:     {base}/v1/  (account {DEMO_ACCOUNT}, API key {DEMO_KEY})")
        typer.echo(f"  GraphQL:      {base}/v1/graphql/")
        typer.echo(f"  Request log:  {base}/_sim/requests   Truth: {base}/_sim/truth")
        typer.echo(f"  Try:          curl -u {DEMO_KEY}: {base}/v1/accounts/{DEMO_ACCOUNT}/")
        typer.echo(f"Syncing into {path} ...", nl=True)
        settings = Settings(
            api_key=Secret(DEMO_KEY),
            account=DEMO_ACCOUNT,
            api_url=f"{base}/v1",
            graphql_url=f"{base}/v1/graphql/",
            db=path,
        )
        with user_errors():
            now = clock.now()
            start, end = resolve_window("latest", "tomorrow", now)
            with _progress(quiet=False) as progress:
                summary = asyncio.run(_sync(settings, start, end, now, False, False, progress))
        _print_summary(summary)
        typer.echo(
            f"Now: {_uk(clock.now().isoformat())} UK time ({clock.describe()}); yesterday's readings appear"
            " in the morning, as Octopus publishes them"
        )
        from octoscope.web.app import create_app  # noqa: PLC0415

        web_port = port or _free_port("127.0.0.1")
        typer.echo(
            f"Explore it: OCTOSCOPE_DB={path} OCTOSCOPE_API_KEY={DEMO_KEY} OCTOSCOPE_ACCOUNT={DEMO_ACCOUNT}"
            f" OCTOSCOPE_API_URL={base}/v1 OCTOSCOPE_GRAPHQL_URL={base}/v1/graphql/ uv run octoscope costs"
        )
        typer.echo(f"  JSON API:     http://127.0.0.1:{web_port}/api/overview (docs at /docs)")
        typer.echo(f"  Live stream:  curl -N http://127.0.0.1:{web_port}/api/live/stream")
        typer.echo(f"Dashboard: http://127.0.0.1:{web_port}/   (Ctrl-C stops the demo)")
        _serve(create_app(settings, clock=clock, schedule_every=60.0), "127.0.0.1", web_port)


@app.command()
def init(
    api_key: Annotated[str | None, typer.Option(help="Your API key (else OCTOSCOPE_API_KEY, else asked).")] = None,
    account: Annotated[str | None, typer.Option(help="Your account number, like A-1234ABCD.")] = None,
    api_url: Annotated[str | None, typer.Option(help="REST base URL (another Kraken supplier, the simulator).")] = None,
    graphql_url: Annotated[str | None, typer.Option(help="GraphQL URL.")] = None,
    db: Annotated[str | None, typer.Option(help="The SQLite file to keep data in.")] = None,
) -> None:
    """Check your API key and account number, show what the account holds, and write the config file.

    Example: octoscope init --account A-1234ABCD
    """
    from octoscope.config import write_config  # noqa: PLC0415

    with user_errors():
        settings = _settings(api_key=api_key, account=account, api_url=api_url, graphql_url=graphql_url, db=db)
        if settings.api_key is None:
            settings = _settings(
                api_key=_ask("API key (sk_live_...)", "api-key", hide=True),
                account=account,
                api_url=api_url,
                graphql_url=graphql_url,
                db=db,
            )
        if settings.account is None:
            settings = _settings(
                api_key=settings.api_key.reveal() if settings.api_key else None,
                account=_ask("Account number", "account"),
                api_url=api_url,
                graphql_url=graphql_url,
                db=db,
            )
        found = asyncio.run(_discover(settings))
        for line in found:
            typer.echo(line)
        path = write_config(settings)
        typer.echo(f"Wrote {path} (readable by you only). Next: octoscope sync")


def _ask(prompt: str, option: str, hide: bool = False) -> str:
    if not sys.stdin.isatty():
        raise fail(f"--{option} not given: pass it, or set OCTOSCOPE_{option.upper().replace('-', '_')}")
    return str(typer.prompt(prompt, hide_input=hide))


async def _discover(settings: Settings) -> list[str]:
    from octoscope.store.sqlite import Store  # noqa: PLC0415
    from octoscope.sync.discovery import discover  # noqa: PLC0415
    from octoscope.wiring import open_clients  # noqa: PLC0415

    _, number = settings.require_credentials()
    clock = process_clock()
    with Store.open(settings.db, clock) as store:
        async with open_clients(settings, store, clock) as clients:
            await clients.graphql.token()  # checks the key on GraphQL too, and keeps the token for later
            account = await discover(clients, store, number, clock.now(), refresh=True)
    lines = [
        f"Account {account.number}: {len(account.properties)} propert{'y' if len(account.properties) == 1 else 'ies'}"
    ]
    for prop in account.properties:
        state = "current" if prop.moved_out_at is None else f"moved out {prop.moved_out_at:%Y-%m-%d}"
        lines.append(f"  Property {prop.id} {prop.postcode} ({state})")
        for point in prop.meter_points:
            lines.append(f"    {point.fuel} {point.direction} {point.identifier} (unit: {point.unit or 'unknown'})")
            for meter in point.meters:
                eui = f", smart meter device id {meter.device_id}" if meter.device_id else ""
                lines.append(f"      meter {meter.serial}{eui}")
            for agreement in point.agreements:
                until = f"{agreement.valid_to:%Y-%m-%d}" if agreement.valid_to else "now"
                lines.append(f"      tariff {agreement.tariff_code} {agreement.valid_from:%Y-%m-%d} to {until}")
    for device in account.devices:
        lines.append(
            f"  Intelligent device {device.id}: {device.provider} {device.make or ''} {device.model or ''}"
            f" ({device.state or device.status or 'unknown state'})"
        )
    return lines


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
def _progress(quiet: bool) -> Iterator[Progress]:
    from octoscope.sync.run import Progress  # noqa: PLC0415

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


@app.command()
def sync(
    from_: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD), or latest to go on from the store.")
    ] = "latest",
    to: Annotated[
        str, typer.Option(help="Stop before this day (YYYY-MM-DD), or through yesterday/today/tomorrow.")
    ] = "tomorrow",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and its request count; fetch nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    past_properties: Annotated[bool, typer.Option("--past-properties", help="Also sync homes moved out of.")] = False,
) -> None:
    """Fetch consumption, tariff rates and standing charges into the local database, in the fewest requests.

    Example: octoscope sync --from 2025-01-01 --to today
    """
    from octoscope.sync.plan import resolve_window  # noqa: PLC0415

    with user_errors():
        settings = _settings()
        settings.require_credentials()
        now = process_clock().now()
        start, end = resolve_window(from_, to, now)
        with _progress(as_json or dry_run) as progress:
            summary = asyncio.run(_sync(settings, start, end, now, dry_run, past_properties, progress))
    if as_json:
        _echo_json(summary)
    elif dry_run:
        _print_plan(summary)
    else:
        _print_summary(summary)
    if not dry_run:
        from octoscope.exports.cli import push_after_cli_sync  # noqa: PLC0415

        push_after_cli_sync(settings)


async def _sync(
    settings: Settings, start: Any, end: Any, now: Any, dry_run: bool, past: bool, progress: Progress
) -> dict[str, Any]:
    from octoscope.octopus.errors import OctopusError  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415
    from octoscope.sync.run import run_sync  # noqa: PLC0415
    from octoscope.wiring import open_clients  # noqa: PLC0415

    clock = process_clock()
    with Store.open(settings.db, clock) as store:
        async with open_clients(settings, store, clock) as clients:
            _, number = settings.require_credentials()
            options = {
                "start": start,
                "end": end,
                "now": now,
                "past_properties": past,
                "reread_days": settings.sync.reread_days,
                "concurrency": settings.sync.concurrency,
            }
            if dry_run:
                result = await run_sync(clients, store, number, dry_run=True, **options)
                return {"dry_run": True, "requests_for_discovery": result.requests, **result.plan.describe()}
            run_id = store.start_run(now)
            outcome: tuple[str, dict[str, Any]] = ("interrupted", {})
            try:
                result = await run_sync(clients, store, number, progress=progress, **options)
                summary = result.summary(store)
                outcome = ("ok", summary)
                return summary
            except OctopusError as err:
                outcome = ("failed", {"error": str(err)})
                raise
            finally:
                store.finish_run(run_id, clock.now(), *outcome)


def _print_plan(plan: dict[str, Any]) -> None:
    typer.echo(
        f"Plan for {plan['window'][0]} to {plan['window'][1]}: {plan['planned_requests']} requests"
        f" (of which {sum(plan['requests_for_discovery'].values())} already made to read the account)"
    )
    for t in plan["consumption"]:
        typer.echo(f"  consumption {t['series']} meter {t['serial']}: {t['from']} to {t['to']} ({t['requests']})")
    for t in plan["charges"]:
        typer.echo(f"  {t['charge']} charges of {t['tariff']}: {t['from']} to {t['to']} ({t['requests']})")


def _uk(iso: str | None, end_of_half_hour: bool = False) -> str:
    """An instant of the JSON (UTC) as people read it here: UK local time, e.g. ``Sat 5 Dec 2026 23:30``;
    ``end_of_half_hour``: the end of the half-hour that starts then (data "up to" it)."""
    from datetime import datetime, timedelta  # noqa: PLC0415

    from octoscope.domain.uktime import UK  # noqa: PLC0415

    if iso is None:
        return "nothing"
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(minutes=30 if end_of_half_hour else 0)
    local = at.astimezone(UK)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _print_summary(summary: dict[str, Any]) -> None:
    requests = summary["requests"]
    typer.echo(
        f"Synced {_uk(summary['window'][0])} to {_uk(summary['window'][1])} UK time with {requests.get('rest', 0)}"
        f" REST and {requests.get('graphql', 0)} GraphQL requests ({summary['retries']} retried)"
    )
    for name, s in summary["series"].items():
        gaps = f", {len(s['gaps'])} gaps" if s["gaps"] else ""
        typer.echo(
            f"  {name}: {s['rows_new']} new, {s['rows_updated']} updated; holds {_uk(s['first_interval'])} to"
            f" {_uk(s['last_interval'], end_of_half_hour=True)} ({s['unit']}){gaps}"
        )
    for name, c in summary["charges"].items():
        typer.echo(f"  {name}: {c['rows_new']} new, {c['rows_updated']} updated")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Per series: what is stored, its gaps and last sync; and the request budget used this hour.

    Example: octoscope status
    """
    from octoscope.domain.uktime import from_epoch  # noqa: PLC0415
    from octoscope.octopus.policy import key_fingerprint  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415
    from octoscope.sync.status import status_report  # noqa: PLC0415

    with user_errors():
        settings = _settings()
        settings.require_credentials()
        _require_database(settings)
        clock = process_clock()
        with Store.open(settings.db, clock) as store:
            key, number = settings.require_credentials()
            limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour}
            now = clock()
            report = status_report(store, number, key_fingerprint(key.reveal()), limits, from_epoch(now), now)
    if as_json:
        _echo_json(report)
        return
    typer.echo(f"Account {report['account']}, database {report['database']}")
    for name, s in report["series"].items():
        where = "" if s["current_property"] else f" (past property {s['property']})"
        if not s["rows"]:
            typer.echo(f"  {name}{where}: nothing stored")
            continue
        typer.echo(
            f"  {name}{where}: {s['rows']} half-hours in {s['unit']}, {s['first_interval']} to"
            f" {s['last_interval']}, {len(s['gaps'])} gaps, last sync {s['last_sync']}"
        )
        for start, end in s["gaps"][:5]:
            typer.echo(f"      gap {start} to {end}")
    budget = report["budget_this_hour"]
    typer.echo(
        f"Requests this hour: REST {budget['rest']['used']}/{budget['rest']['limit']},"
        f" GraphQL {budget['graphql']['used']}/{budget['graphql']['limit']}"
    )
    run = report["last_run"]
    if run is not None:
        said = {"interrupted": "interrupted (the process stopped before it finished)"}.get(run["outcome"])
        typer.echo(f"Last sync run: started {run['started']}, {said or run['outcome']}")


# The range options that `costs` and `sessions` share.
FromDay = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UK local, inclusive).")]
ToDay = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD (exclusive).")]
LastDays = Annotated[int | None, typer.Option(help="The N whole days before today (default 30).", min=1, max=MAX_DAYS)]


@app.command()
def costs(
    from_: FromDay = None,
    to: ToDay = None,
    period: Annotated[str | None, typer.Option(help="A month (YYYY-MM) or a year (YYYY).")] = None,
    days: LastDays = None,
    by: Annotated[str, typer.Option(help="Buckets: day, week, month.")] = "month",
    fuel: Annotated[str | None, typer.Option(help="Only electricity, gas or export.")] = None,
    exc_vat: Annotated[bool, typer.Option("--exc-vat", help="Prices without VAT.")] = False,
    rounding: Annotated[str | None, typer.Option(help="exact (default) or billing.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What your energy cost, from the local database: per fuel, with standing charges, by day, week or month.

    Example: octoscope costs --period 2026-10 --by day
    """

    from octoscope.costing import FUELS, costs_as_asked, resolve_days  # noqa: PLC0415
    from octoscope.domain.uktime import local_date  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415

    if by not in ("day", "week", "month"):
        raise fail(f"--by {by!r}: write day, week or month")
    if fuel is not None and fuel not in FUELS:
        raise fail(f"--fuel {fuel!r}: write electricity, gas or export")
    if rounding is not None and rounding not in ("exact", "billing"):
        raise fail(f"--rounding {rounding!r}: write exact or billing")
    with user_errors():
        settings = _settings()
        settings.require_account()  # fail early, before any work, if it is missing
        today = local_date(process_clock().now())
        first, end = resolve_days(from_, to, period, days, today)
        _require_database(settings)
        with Store.open(settings.db, process_clock()) as store:
            report = costs_as_asked(
                store,
                settings,
                first,
                end,
                by=by,  # type: ignore[arg-type]
                fuel=fuel,
                exc_vat=exc_vat,
                rounding=rounding,
                today=today,
            )
    if as_json:
        _echo_json(report)
    else:
        _print_costs(report)


def _pounds(pence: float) -> str:
    return f"£{pence / 100:,.2f}"


def _print_costs(report: dict[str, Any]) -> None:
    vat = "inc VAT" if report["inc_vat"] else "exc VAT"
    typer.echo(f"Costs {report['from']} to {report['to']} (to exclusive), {vat}, rounding {report['rounding']}")
    for fuel in ("electricity", "gas", "export"):
        if fuel not in report:
            continue
        data = report[fuel]
        unit = f" ({data['m3']} m³)" if "m3" in data else ""
        typer.echo(f"\n{fuel.capitalize()}: {data['kwh']} kWh{unit}")
        header = f"  {'from':<12}{'kWh':>10}"
        header += f"{'earnings':>12}" if fuel == "export" else f"{'energy':>12}{'standing':>11}{'total':>12}"
        typer.echo(header + "  partial days")
        for b in [*data["buckets"], {"from": "all", **data}]:
            line = f"  {b['from']:<12}{b['kwh']:>10.3f}"
            if fuel == "export":
                line += f"{_pounds(b['earnings_pence']):>12}"
            else:
                line += (
                    f"{_pounds(b['energy_cost_pence']):>12}{_pounds(b['standing_charge_pence']):>11}"
                    f"{_pounds(b['total_pence']):>12}"
                )
            partial = len(b["partial_days"])
            typer.echo(line + (f"  {partial}" if partial else ""))
        if data["average_p_per_kwh"] is not None:
            bands = ", ".join(f"{name} {v['kwh']} kWh {_pounds(v['pence'])}" for name, v in data["bands"].items())
            typer.echo(f"  average {data['average_p_per_kwh']:.2f} p/kWh; {bands}")
    typer.echo(f"\nNet: {_pounds(report['net_pence'])}")


@app.command()
def dispatches(
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask Octopus now (within the limits) first.")] = False,
    days: Annotated[
        int, typer.Option(help="Show the dispatches of the last N days.", min=1, max=MAX_DISPATCH_DAYS)
    ] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Intelligent Octopus dispatches kept in the database: planned and completed, smart and boost.

    Example: octoscope dispatches --refresh
    """
    from octoscope.store.sqlite import Store  # noqa: PLC0415
    from octoscope.sync.dispatches import NoIntelligentDevice, RefreshTooSoon, listing  # noqa: PLC0415

    with user_errors():
        settings = _settings()
        number = settings.require_account()
        _require_database(settings)
        now = process_clock().now()
        try:
            if refresh:
                asyncio.run(_refresh_dispatches(settings))
        except (RefreshTooSoon, NoIntelligentDevice) as err:
            raise fail(str(err)) from None
        with Store.open(settings.db, process_clock()) as store:
            listed = listing(store, number, now - timedelta(days=days))
    devices: dict[str, str | None] = listed["devices"]  # type: ignore[assignment]
    rows: list[dict[str, Any]] = listed["dispatches"]  # type: ignore[assignment]
    if as_json:
        _echo_json(listed)
        return
    for device, state in devices.items():
        typer.echo(f"Device {device}: {state or 'state unknown'}")
    if not rows:
        typer.echo(f"No dispatches in the last {days} days.")
    for r in rows:
        energy = "" if r["kwh"] is None else f" {r['kwh']:.2f} kWh"
        typer.echo(f"  {r['kind']:<9} {r['start']} to {r['end']} {r['type'] or ''}{energy}")


async def _refresh_dispatches(settings: Settings) -> None:
    from octoscope.store.sqlite import Store  # noqa: PLC0415
    from octoscope.sync.dispatches import refresh  # noqa: PLC0415
    from octoscope.wiring import open_clients  # noqa: PLC0415

    _, number = settings.require_credentials()
    clock = process_clock()
    with Store.open(settings.db, clock) as store:
        async with open_clients(settings, store, clock) as clients:
            for done in await refresh(clients, store, number, clock()):
                typer.echo(
                    f"Refreshed {done.device_id}: {done.state}, {done.new} new, {done.updated} updated", err=True
                )


@app.command()
def sessions(
    from_: FromDay = None,
    to: ToDay = None,
    days: LastDays = None,
    charger_kw: Annotated[float | None, typer.Option(help="Your charger's power; estimated if not given.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """EV charging sessions found in your half-hourly consumption, on any tariff, each costed and matched with
    Intelligent Octopus dispatches.

    Example: octoscope sessions --days 14
    """
    from octoscope.costing import ev_sessions, resolve_days  # noqa: PLC0415
    from octoscope.domain.uktime import local_date  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415

    if charger_kw is not None and not 1 <= charger_kw <= 50:
        raise fail(f"--charger-kw {charger_kw}: a home charger gives between 1 and 50 kW")
    with user_errors():
        settings = _settings()
        settings.require_account()
        today = local_date(process_clock().now())
        first, end = resolve_days(from_, to, None, days, today)
        _require_database(settings)
        with Store.open(settings.db, process_clock()) as store:
            found = ev_sessions(store, settings, first, end, today=today, charger_kw=charger_kw)
    if as_json:
        _echo_json(found)
        return
    if not found:
        typer.echo(f"No charging sessions from {first} to {end}.")
    for s in found:
        typer.echo(
            f"{s['start'][:16]} to {s['end'][11:16]}  {s['kwh']:6.2f} kWh  {_pounds(s['cost_pence']):>8}"
            f"  {s['average_pence_per_kwh'] or 0:5.2f} p/kWh  {s['dispatch']}"
        )


@app.command()
def cheapest(
    hours: Annotated[float, typer.Option(help="How long, in hours (half-hour steps: 3, 1.5).")],
    after: Annotated[str | None, typer.Option(help="Start at or after this UK time, HH:MM.")] = None,
    before: Annotated[
        str | None, typer.Option(help="Finish by this UK time, HH:MM (the next day's if not after --after).")
    ] = None,
    contiguous: Annotated[
        bool, typer.Option("--contiguous/--any", help="One unbroken block, or the cheapest half-hours in any order.")
    ] = True,
    top: Annotated[int, typer.Option(help="How many windows that do not overlap, cheapest first.")] = 1,
    max_price: Annotated[float | None, typer.Option(help="No half-hour dearer than this, p/kWh inc VAT.")] = None,
    kw: Annotated[
        str | None, typer.Option(help="The load, to rank and cost by: kW (7), or per half-hour (7,7,3.5).")
    ] = (None),
    tariff: Annotated[str | None, typer.Option(help="A tariff code; default your current import tariff.")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the stored prices only; ask Octopus nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The cheapest time ahead to use power: on the prices published (today's, and tomorrow's from about
    16:00 UK), fetched first if not stored. Equal prices: the earliest window wins.

    Example: octoscope cheapest --hours 3 --after 18:00 --before 07:00 --kw 7
    """
    from octoscope.pricing import WindowQuery, cheapest, check_query  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415

    query = WindowQuery(hours, after, before, "contiguous" if contiguous else "any", top, max_price, kw)
    with user_errors():
        check_query(query)  # before any request
        settings = _settings()
        if tariff is None:
            settings.require_account()
            _require_database(settings)
        now = process_clock().now()
        with Store.open(settings.db, process_clock()) as store:
            if not offline:
                asyncio.run(_fetch_ahead(settings, store, tariff, now))
            found = cheapest(store, settings, query, now, tariff)
    if as_json:
        _echo_json(found)
        return
    _print_windows(found)


async def _fetch_ahead(settings: Settings, store: Any, tariff: str | None, now: Any) -> None:
    from octoscope.pricing import tariff_to_search  # noqa: PLC0415
    from octoscope.sync.prices import fetch_prices_ahead  # noqa: PLC0415
    from octoscope.wiring import open_clients  # noqa: PLC0415

    code = tariff_to_search(store, settings, tariff, now).code
    async with open_clients(settings, store, process_clock()) as clients:
        result = await fetch_prices_ahead(clients, store, [code], now, concurrency=settings.sync.concurrency)
    for problem in result.problems:
        typer.echo(f"Warning: {problem}", err=True)


def _print_windows(found: dict[str, Any]) -> None:
    from datetime import datetime  # noqa: PLC0415

    def clock(text: str) -> str:
        return datetime.fromisoformat(text).strftime("%a %d %b %H:%M")

    hours = f"{found['hours']:g}"
    what = f"{hours} hours of half-hours in any order" if found["mode"] == "any" else f"{hours}-hour window"
    known = (
        f"prices published to {clock(found['published_until'])}"
        if found["published_until"]
        else f"its price in force until further notice, looked at to {clock(found['to'])}"
    )
    typer.echo(f"Cheapest {what} on {found['tariff']} ({known} UK):")
    for i, w in enumerate(found["windows"], start=1):
        cost = f"  {_pounds(w['cost_pence'])} for {w['kwh']:g} kWh" if "cost_pence" in w else ""
        typer.echo(
            f"  {i}. {clock(w['start'])} to {clock(w['end'])[-5:]}  {w['average_pence_per_kwh']:.2f} p/kWh{cost}"
        )
        if found["mode"] == "any":
            for s in w["slots"]:
                typer.echo(f"       {clock(s['start'])}  {s['pence_inc_vat']:.2f} p/kWh")


@app.command()
def compare(
    months: Annotated[int, typer.Option(help="How many months back from your last whole day of readings.")] = 12,
    fuel: Annotated[str | None, typer.Option(help="Only electricity, gas or export.")] = None,
    region: Annotated[str | None, typer.Option(help="Region letter A-P, if it cannot be found.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Would another tariff have been cheaper? Your real half-hourly usage costed on every tariff in your
    region, standing charges included, at the prices published for those dates (fetched once, then kept).

    Example: octoscope compare --months 12
    """
    from octoscope.pricing import compare_tariffs  # noqa: PLC0415
    from octoscope.store.sqlite import Store  # noqa: PLC0415

    with user_errors():
        settings = _settings()
        settings.require_credentials()
        _require_database(settings)
        clock = process_clock()
        with Store.open(settings.db, clock) as store, _progress(as_json or not sys.stderr.isatty()) as progress:
            report = asyncio.run(
                compare_tariffs(settings, store, clock, months=months, fuel=fuel, region=region, progress=progress)
            )
    if as_json:
        _echo_json(report)
        return
    _print_comparison(report)


def _signed(pence: float) -> str:
    """A saving: +£4.95 cheaper, -£11.48 dearer."""
    return ("-" if pence < 0 else "+") + _pounds(abs(pence))


def _marks(caveats: list[str], notes: list[str]) -> str:
    """Footnote marks for ``caveats``, each note numbered once however many rows share it."""
    marks = ""
    for caveat in caveats:
        if caveat not in notes:
            notes.append(caveat)
        marks += f" [{notes.index(caveat) + 1}]"
    return marks


def _print_comparison(report: dict[str, Any]) -> None:
    region = report["region"]
    typer.echo(
        f"Tariff comparison {report['from']} to {report['to']} ({report['days']} days, to exclusive), region"
        f" {region['letter']} ({region['name']}, from the {region['from']}), VAT included"
    )
    notes: list[str] = []
    for fuel, now in report["current"].items():
        earned = fuel == "export"
        typer.echo(
            f"\n{fuel.capitalize()}: {now['kwh']:,.0f} kWh; now on {now['name']} ({now['tariff']}):"
            f" {_pounds(now['total_pence'])}" + (" earned" if earned else "") + _marks(now["caveats"], notes)
        )
        typer.echo(f"  {'tariff':<36}{'earned' if earned else 'total':>11}{'saving':>11}")
        for row in (r for r in report["tariffs"] if r["fuel"] == fuel):
            marks = _marks(row["caveats"], notes)
            typer.echo(
                f"  {row['name'][:35]:<36}{_pounds(row['total_pence']):>11}{_signed(row['saving_pence']):>11}{marks}"
            )
    typer.echo("")
    for i, note in enumerate(notes, start=1):
        typer.echo(f"[{i}] {note}")
    for caveat in report["caveats"]:
        typer.echo(f"Note: {caveat}")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; only this machine unless you say otherwise.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    token: Annotated[
        str | None,
        typer.Option(help="Access token for every page and route (else OCTOSCOPE_WEB_TOKEN); needed off this machine."),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(help="A host name to answer to besides this machine's (a reverse proxy's); repeatable."),
    ] = None,
    sign_out_everyone: Annotated[
        bool, typer.Option(help="Make a new session secret: every browser signed in must give the token again.")
    ] = False,
    new_token: Annotated[bool, typer.Option(help="Print a new random access token and exit.")] = False,
) -> None:
    """Serve the dashboard, the JSON API (/api, docs at /docs) and the scheduler that keeps the data fresh.

    Example: octoscope serve --port 8000
    """
    import os  # noqa: PLC0415
    import secrets  # noqa: PLC0415

    from octoscope.validation import BadValue  # noqa: PLC0415
    from octoscope.web.app import create_app  # noqa: PLC0415
    from octoscope.web.security import check_allowed_host, check_token, session_secret  # noqa: PLC0415

    if new_token:
        typer.echo(secrets.token_urlsafe(32))
        return
    token = token if token is not None else (os.environ.get("OCTOSCOPE_WEB_TOKEN") or None)  # set but empty: unset
    if host not in LOOPBACK and not (token or "").strip():
        raise fail(
            f"listening on {host} opens your data to the network: give --token or set OCTOSCOPE_WEB_TOKEN"
            " to a long secret first (`octoscope serve --new-token` makes one)"
        )
    try:
        if token is not None:
            check_token(token)
        hosts = [check_allowed_host(h) for h in allow_host or ()]
    except BadValue as err:
        raise fail(str(err)) from None
    with user_errors():
        settings = _settings()
        settings.require_account()
        _require_database(settings)
        _check_database(settings.db)  # a damaged or unreadable file is said before anything is served
        secret = session_secret(settings.db.with_name(f"{settings.db.stem}.web-session"), rotate=sign_out_everyone)
        web = create_app(
            settings,
            token=token,
            clock=process_clock(),
            schedule_every=60.0,
            allowed_hosts=hosts,
            session_secret=secret,
        )
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"octoscope dashboard on http://{shown}:{port}/  (API docs: http://{shown}:{port}/docs)")
    if token:
        typer.echo("  Open it once with ?token=<your token> (the browser then keeps a cookie), or send")
        typer.echo("  Authorization: Bearer <your token>.")
    _serve(web, host, port)


@app.command()
def version() -> None:
    """Print the version.

    Example: octoscope version
    """
    typer.echo(__version__)


from octoscope.exports.cli import register as register_exports  # noqa: E402 (it uses the helpers above)

register_exports(app)

from octoscope.cli_admin import register as register_admin  # noqa: E402 (it uses the helpers above)

register_admin(app)

app.command(name="live")(cli_live.live)

from octoscope.cli_mqtt import register as register_outputs  # noqa: E402 (it uses the helpers above)

register_outputs(app)

from octoscope.cli_bills import register as register_bills  # noqa: E402 (it uses the helpers above)

register_bills(app)


def main() -> None:
    from typer.exceptions import TyperException  # noqa: PLC0415

    try:
        code = app(standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    except TyperException as err:  # a bad option or value: one line, like every other user error
        message = err.format_message()
        if not message:  # no command given: the help was the answer
            sys.exit(0)
        ctx = getattr(err, "ctx", None)
        command = ctx.command_path if ctx is not None else "octoscope"
        typer.echo(f"Error: {message} (see `{command} --help`)", err=True)
        sys.exit(1)
    except OSError as err:  # a full disk or a file that cannot be written, found while writing the answer
        import errno  # noqa: PLC0415
        import os  # noqa: PLC0415

        from octoscope.store.problems import describe  # noqa: PLC0415

        if err.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO):
            raise
        with contextlib.suppress(OSError):  # the final flush of what could not be written would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        typer.echo(f"Error: {describe(err, 'the output')}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
