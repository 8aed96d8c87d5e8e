"""Running servers: the Octopus API simulator (``simulate``), the demo (``demo``) and the dashboard (``serve``)."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Annotated

import typer

from octoscope.cli.shell import (
    LOOPBACK,
    check_database,
    fail,
    free_port,
    print_summary,
    process_clock,
    read_all_settings,
    require_database,
    serve_app,
    sync_and_record,
    sync_progress,
    system_clock,
    uk_time,
    user_errors,
)

DEMO_KEY = "sk_live_octoscope_demo"  # the demo scenario's own, made-up key
DEMO_ACCOUNT = "A-DE30DE30"

__all__ = ["demo", "serve", "simulate"]


def _build_simulator(
    scenario: str, seed: int | None, now: str | None, speed: float, faults: str | None, fleet: int | None = None
) -> object:
    from octoscope.simulator import FaultSpecError, ScenarioError, create_app  # noqa: PLC0415

    if speed < 0:
        raise fail("--speed must be 0 (frozen clock) or more")
    try:
        return create_app(scenario, seed=seed, now=now, speed=speed, faults=faults, fleet=fleet)
    except (ScenarioError, FaultSpecError) as err:
        raise fail(str(err)) from None


def simulate(
    scenario: Annotated[str, typer.Option(help="A built-in scenario name or a path to a .toml file.")] = "demo",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8123,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's random seed.")] = None,
    now: Annotated[str | None, typer.Option(help="Start the simulated clock here (ISO 8601).")] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second; 0 freezes the clock.")] = 1.0,
    faults: Annotated[str | None, typer.Option(help="Faults to inject, e.g. '503:0.2,429:0.1:retry_after=5'.")] = None,
    fleet: Annotated[
        int | None,
        typer.Option(help="Add N generated accounts, each with its own key (GET /_sim/fleet lists them)."),
    ] = None,
) -> None:
    """Run the local Octopus API simulator (REST under /v1/, GraphQL at /v1/graphql/).

    Example: octoscope simulate --scenario demo --port 8123 --now 2026-11-20T09:00:00Z --speed 0
    Example: octoscope simulate --scenario fleet --fleet 1000 --seed 7
    """
    clock = process_clock()
    if now is None and clock is not system_clock():  # the process's own instant (--now before the command)
        now, speed = clock.now().isoformat(), clock.speed
    asgi_app = _build_simulator(scenario, seed, now, speed, faults, fleet)
    port = port or free_port(host)
    typer.echo(
        f"Octopus API simulator ({scenario}) on http://{host}:{port}/v1/  GraphQL: http://{host}:{port}/v1/graphql/"
    )
    serve_app(asgi_app, host, port)


def _check_port(host: str, port: int) -> None:
    """A busy port fails now, in one line, before a sync or a start-up that would only find it at the end."""
    import os  # noqa: PLC0415
    import socket  # noqa: PLC0415

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        why = os.strerror(err.errno) if err.errno else str(err)  # create_server's own text repeats the address
        raise fail(
            f"port {port} on {host} cannot be used ({why}): stop what is using it, or choose another with --port"
        ) from None


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
    from octoscope.sync import resolve_window  # noqa: PLC0415

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
    web_port = port or free_port("127.0.0.1")  # chosen, and a busy one refused, before the sync
    _check_port("127.0.0.1", web_port)
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
            with sync_progress(quiet=False) as progress:
                import asyncio  # noqa: PLC0415 (not on every command's start)

                summary = asyncio.run(sync_and_record(settings, start, end, now, False, progress))
        print_summary(summary)
        typer.echo(
            f"Now: {uk_time(clock.now().isoformat())} UK time ({clock.describe()}); yesterday's readings appear"
            " in the morning, as Octopus publishes them"
        )
        from octoscope.web.app import create_app  # noqa: PLC0415

        typer.echo(
            f"Explore it: OCTOSCOPE_DB={path} OCTOSCOPE_API_KEY={DEMO_KEY} OCTOSCOPE_ACCOUNT={DEMO_ACCOUNT}"
            f" OCTOSCOPE_API_URL={base}/v1 OCTOSCOPE_GRAPHQL_URL={base}/v1/graphql/ uv run octoscope costs"
        )
        typer.echo(f"  JSON API:     http://127.0.0.1:{web_port}/api/overview (docs at /docs)")
        typer.echo(f"  Live stream:  curl -N http://127.0.0.1:{web_port}/api/live/stream")
        typer.echo(f"Dashboard: http://127.0.0.1:{web_port}/   (Ctrl-C stops the demo)")
        serve_app(create_app(settings, clock=clock, schedule_every=60.0), "127.0.0.1", web_port)


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
    account_token: Annotated[
        str | None,
        typer.Option(
            help="Print the token that opens only this account's pages and API (from --token or"
            " OCTOSCOPE_WEB_TOKEN) and exit.",
        ),
    ] = None,
) -> None:
    """Serve the dashboard, the JSON API (/api, docs at /docs) and the scheduler that keeps the data fresh.

    Example: octoscope serve --port 8000
    """
    import os  # noqa: PLC0415
    import secrets  # noqa: PLC0415

    from octoscope.web.app import create_app  # noqa: PLC0415
    from octoscope.web.security import check_allowed_host, check_token, session_secret  # noqa: PLC0415

    if new_token:
        typer.echo(secrets.token_urlsafe(32))
        return
    token = token if token is not None else (os.environ.get("OCTOSCOPE_WEB_TOKEN") or None)  # set but empty: unset
    if account_token is not None:
        _print_account_token(token, account_token)
        return
    if host not in LOOPBACK and not (token or "").strip():
        raise fail(
            f"listening on {host} opens your data to the network: give --token or set OCTOSCOPE_WEB_TOKEN"
            " to a long secret first (`octoscope serve --new-token` makes one)"
        )
    with user_errors():
        if token is not None:
            check_token(token)
        hosts = [check_allowed_host(h) for h in allow_host or ()]
    _check_port(host, port)
    with user_errors():
        every = read_all_settings()  # several accounts: all of them (or the one --account chose)
        settings = every[0]
        for one in every:
            one.require_account()
            require_database(one)
            check_database(one)  # a damaged or unreadable file is said before anything is served
        secret = session_secret(settings.db.with_name(f"{settings.db.stem}.web-session"), rotate=sign_out_everyone)
        web = create_app(
            settings,
            token=token,
            clock=process_clock(),
            schedule_every=60.0,
            allowed_hosts=hosts,
            session_secret=secret,
            accounts=every if len(every) > 1 else (),
        )
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"octoscope dashboard on http://{shown}:{port}/  (API docs: http://{shown}:{port}/docs)")
    if token:
        typer.echo("  Open it once with ?token=<your token> (the browser then keeps a cookie), or send")
        typer.echo("  Authorization: Bearer <your token>.")
    if len(every) > 1:
        typer.echo(f"  {len(every)} accounts, each under /a/NUMBER/: {', '.join(str(one.account) for one in every)}")
    serve_app(web, host, port)


def _print_account_token(token: str | None, number: str) -> None:
    from octoscope.config import check_account_number  # noqa: PLC0415
    from octoscope.web.auth import account_token  # noqa: PLC0415
    from octoscope.web.security import check_token  # noqa: PLC0415

    if not token:
        raise fail("an account token comes from the server's: give --token or set OCTOSCOPE_WEB_TOKEN")
    with user_errors():
        configured = {str(one.account) for one in read_all_settings()}
        wanted = check_account_number(number)
        if wanted not in configured:
            raise fail(f"{wanted} is not configured; configured: {', '.join(sorted(configured))}")
        typer.echo(account_token(check_token(token), wanted))
