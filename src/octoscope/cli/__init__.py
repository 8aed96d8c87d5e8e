"""The ``octoscope`` command line: the root typer app and its options, over one command module per area
(``cli/sync.py``, ``cli/costs.py``, ...), which share ``cli/shell.py`` and never import one another.

Errors a user can fix are one line on stderr, ``Error: message (hint)``, with exit code 1; no tracebacks
(``shell.translate``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Annotated

import typer

from octoscope import __version__
from octoscope.cli import account, accounts, admin, bills, costs, exports, live, mqtt, prices, serve, store, sync
from octoscope.cli.shell import choose_account, set_process_clock, translate, user_errors
from octoscope.errors import OctoscopeError

__all__ = ["app", "main"]

app = typer.Typer(
    name="octoscope",
    help="A self-hosted data hub for Octopus Energy customers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            help="With several accounts configured: the account number a command works on (also after the command).",
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
    from octoscope.clock import make_clock  # noqa: PLC0415

    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    with user_errors():
        set_process_clock(make_clock(now, speed))
    choose_account(account)


def version() -> None:
    """Print the version.

    Example: octoscope version
    """
    typer.echo(__version__)


# The commands, in the order `octoscope --help` lists them.
for command in (
    serve.simulate,
    serve.demo,
    account.init,
    sync.sync,
    sync.status,
    costs.costs,
    sync.dispatches,
    costs.sessions,
    prices.cheapest,
    prices.compare,
    serve.serve,
    version,
):
    app.command()(command)
exports.register(app)
admin.register(app)
app.command(name="live")(live.live)
mqtt.register(app)
bills.register(app)
store.register(app)
accounts.register(app)


def account_first(args: list[str]) -> list[str]:
    """``--account NUMBER`` given after the command's name (``octoscope costs --account A-...``) moved before
    it, where the root option takes it, so that every command takes it without each declaring it."""
    out: list[str] = []
    moved: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            out += [arg, *rest]
            break
        if arg == "--account":
            moved += [arg, next(rest, "")]
        elif arg.startswith("--account="):
            moved.append(arg)
        else:
            out.append(arg)
    return moved + out


def main() -> None:
    from typer.exceptions import TyperException  # noqa: PLC0415

    try:  # a start without typer's pydantic coercion and its whole app built (cli/values.py, cli/lazy.py)
        from octoscope.cli.lazy import lazy_root  # noqa: PLC0415
        from octoscope.cli.values import install  # noqa: PLC0415
    except ImportError:  # a typer whose internals moved: its own start, slower (tests/test_cli_start.py fails)
        root = typer.main.get_command(app)
    else:
        install()
        root = lazy_root(app)
    # httpx imports its own command-line client (click, rich, pygments: a third of its import) when those are
    # installed, as typer's help makes them; this process never runs it, so its import fails fast instead.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    try:
        code = root.main(args=account_first(sys.argv[1:]), standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    except OctoscopeError as err:  # one raised outside a command's user_errors(): the same one line
        sys.exit(translate(err).exit_code)
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
