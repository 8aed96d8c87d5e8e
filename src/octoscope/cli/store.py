"""Moving a household's data between stores: ``store copy SRC DST`` (SQLite files, PostgreSQL URLs)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from octoscope.cli.shell import chosen_account, echo_json, fail, process_clock, user_errors

if TYPE_CHECKING:
    from octoscope.store.ports import StoreProtocol

__all__ = ["register"]

store_app = typer.Typer(help="Move a household's data between databases.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")


def _open(location: str, account: str | None, stack: ExitStack) -> StoreProtocol:
    from octoscope.store import is_server_url, open_store, redacted  # noqa: PLC0415

    clock = process_clock()
    if is_server_url(location):
        if not account:
            raise fail(f"{redacted(location)} holds many accounts: say which with --account NUMBER")
        store = open_store(location, clock, account=account)
    else:
        store = open_store(Path(location).expanduser(), clock)
    stack.callback(store.close)
    return store


@store_app.command("copy")
def copy(
    source: Annotated[str, typer.Argument(help="The store to copy: a SQLite file or a postgresql:// URL.")],
    destination: Annotated[str, typer.Argument(help="Where to: a SQLite file (made if missing) or a URL.")],
    force: Annotated[
        bool, typer.Option("--force", help="Copy into a store that holds data already (finish a copy that stopped).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows per table as JSON.")] = False,
) -> None:
    """Copy every table, every row, from SOURCE to DESTINATION, then count both sides table by table.

    Example: octoscope store copy ~/octoscope.db postgresql://octo@db.lan/octoscope --account A-1234ABCD
    """
    from octoscope.store import is_server_url, redacted  # noqa: PLC0415 (the store is not every command's start)
    from octoscope.store.copy import copy_store  # noqa: PLC0415

    local = not is_server_url(source) and not is_server_url(destination)
    if local and Path(source).expanduser().resolve() == Path(destination).expanduser().resolve():
        raise fail("the source and the destination are the same file")
    if not is_server_url(source) and not Path(source).expanduser().is_file():
        raise fail(f"{source}: no such database file to copy")
    with user_errors(), ExitStack() as stack:
        account = chosen_account()  # the root option --account, given before or after the command
        src = _open(source, account, stack)
        if account is not None and not is_server_url(source):
            _, rows = src.read_table("accounts")
            held = [str(r[0]) for r in rows]
            if account not in held:
                raise fail(f"{source} holds account {', '.join(held) or 'none'}, not {account}")
        dst = _open(destination, account, stack)
        report = copy_store(src, dst, force=force)
    if as_json:
        echo_json({"tables": {r.table: r.destination_rows for r in report}, "rows": sum(r.source_rows for r in report)})
        return
    total = sum(r.source_rows for r in report)
    typer.echo(
        f"Copied {redacted(source)} to {redacted(destination)}: {total:,} rows in {len(report)} tables, counted on both"
    )
    width = max(len(r.table) for r in report)
    for r in report:
        extra = (
            f"  ({r.destination_rows - r.source_rows:,} more kept from before)"
            if r.destination_rows != r.source_rows
            else ""
        )
        typer.echo(f"  {r.table:<{width}}  {r.source_rows:>12,}{extra}")
