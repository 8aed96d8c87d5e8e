"""The ``octoscope`` command line: a thin shell over the package.

Errors a user can fix are one line on stderr, starting ``Error:``, with exit code 1; no tracebacks.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from octoscope import __version__

app = typer.Typer(
    name="octoscope",
    help="A self-hosted data hub for Octopus Energy customers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class UserError(Exception):
    """An error with a message the user can act on; printed as one line."""


def fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


def _free_port(host: str) -> int:
    from octoscope.simulator.threaded import free_port  # noqa: PLC0415

    return free_port(host)


def _serve(asgi_app: object, host: str, port: int) -> None:
    import uvicorn  # noqa: PLC0415 (keeps `octoscope --help` fast)

    config = uvicorn.Config(asgi_app, host=host, port=port, log_level="warning", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
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
    asgi_app = _build_simulator(scenario, seed, now, speed, faults)
    port = port or _free_port(host)
    typer.echo(
        f"Octopus API simulator ({scenario}) on http://{host}:{port}/v1/  GraphQL: http://{host}:{port}/v1/graphql/"
    )
    _serve(asgi_app, host, port)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the simulator; 0 picks a free one.")] = 0,
) -> None:
    """Start the demo: the simulator with the demo scenario on a free loopback port.

    Example: octoscope demo
    """
    from octoscope.simulator.scenario import read_scenario_text  # noqa: PLC0415

    read_scenario_text("demo")
    asgi_app = _build_simulator("demo", None, None, 1.0, None)
    host = "127.0.0.1"
    port = port or _free_port(host)
    base = f"http://{host}:{port}"
    typer.echo("octoscope demo: a simulated Octopus account with two years of history")
    typer.echo(f"  REST API:     {base}/v1/  (account A-DE30DE30, API key sk_live_octoscope_demo)")
    typer.echo(f"  GraphQL:      {base}/v1/graphql/")
    typer.echo(f"  Request log:  {base}/_sim/requests   Truth: {base}/_sim/truth")
    typer.echo(f"  Try:          curl -u sk_live_octoscope_demo: {base}/v1/accounts/A-DE30DE30/")
    typer.echo("Press Ctrl-C to stop.")
    _serve(asgi_app, host, port)


@app.command()
def version() -> None:
    """Print the version.

    Example: octoscope version
    """
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
