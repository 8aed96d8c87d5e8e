"""Several accounts in one config: ``accounts add``, ``accounts list`` and ``accounts remove``.

They edit the config file in place: ``add`` appends an ``[[accounts]]`` table, ``remove`` takes that table
out, and every other line (comments, other tables) stays as it was. A key is never written in the file nor
printed: the table names the environment variable or the file (readable by its owner only) that holds it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope.cli.shell import echo_json, fail, process_clock, uk_time, user_errors

if TYPE_CHECKING:
    from octoscope.config import AccountSettings, Settings

__all__ = ["register"]

app = typer.Typer(help="Several accounts, each with its own API key and store.", no_args_is_help=True)
_ACCOUNTS_HEADER = re.compile(r"^\s*\[\[\s*accounts\s*\]\]")
_ANY_HEADER = re.compile(r"^\s*\[")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="accounts")


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _load() -> tuple[Settings, Path, str]:
    from octoscope.config import load_settings  # noqa: PLC0415

    settings = load_settings()
    path = settings.config_path
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return settings, path, text


def _write(path: Path, text: str) -> None:
    """Check the new text as a config, then replace the file with it (same mode, else owner-only: it may hold
    the plain config's key), through a temporary file so that a crash leaves the old one whole."""
    import tomllib  # noqa: PLC0415

    from octoscope.config import settings_from  # noqa: PLC0415

    settings_from(tomllib.loads(text), dict(os.environ), path)  # a mistake is refused before anything is written
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    temporary.chmod(mode)
    temporary.replace(path)


@app.command("add")
def add(
    number: Annotated[str, typer.Argument(help="The account number, like A-1234ABCD.")],
    key_env: Annotated[
        str | None, typer.Option("--key-env", help="The environment variable that holds this account's API key.")
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="A file holding only the API key (chmod 600).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name to know it by (shown in lists and the switcher).")] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Its store: a SQLite file, or a postgresql:// URL (default: <data dir>/accounts/NUMBER.db)."),
    ] = None,
) -> None:
    """Add an account to the config, its key read from an environment variable or a file, never written.

    Example: octoscope accounts add A-1234ABCD --key-env OCTOPUS_KEY_HOME --name Home
    """
    from octoscope.config import ENV_NAME, ConfigError, check_account_number, db_setting, read_key_file  # noqa: PLC0415

    if (key_env is None) == (key_file is None):
        raise fail("give the key's place with --key-env VARIABLE or --key-file PATH (one of them)")
    with user_errors():
        wanted = check_account_number(number)
        settings, path, text = _load()
        if any(a.number == wanted for a in settings.all_accounts()):
            raise ConfigError(f"{wanted} is already configured in {path} (see `octoscope accounts list`)")
        lines = ["[[accounts]]", f"number = {_toml(wanted)}"]
        if name is not None and name.strip():
            lines.append(f"name = {_toml(name.strip())}")
        if key_env is not None:
            if not ENV_NAME.match(key_env):
                raise ConfigError(f"--key-env {key_env!r} is not an environment variable's name")
            lines.append(f"api_key_env = {_toml(key_env)}")
        else:
            assert key_file is not None
            key_file = key_file.expanduser().absolute()
            read_key_file(key_file)  # a missing, unreadable or group/world-readable file is refused now
            lines.append(f"api_key_file = {_toml(str(key_file))}")
        if db is not None:
            is_url = "db_url" in db_setting(db)
            lines.append(f"db = {_toml(db if is_url else str(Path(db).expanduser().absolute()))}")
        body = text if not text or text.endswith("\n") else text + "\n"
        _write(path, f"{body}\n" + "\n".join(lines) + "\n")
    typer.echo(f"Added {wanted} to {path}")
    if key_env is not None and not os.environ.get(key_env):
        typer.echo(f"  Set {key_env} to its API key before `octoscope sync` or `octoscope serve`.")


def _store_shown(settings: Settings, account: AccountSettings) -> str:
    """Where an account's data is, fit to print: a PostgreSQL URL without its password, or the file."""
    from octoscope.store import redacted  # noqa: PLC0415

    url = account.server_url(settings.db_url)
    return redacted(url.reveal()) if url is not None else str(account.db)


def _describe(settings: Settings, account: AccountSettings) -> dict[str, Any]:
    """One account as ``list`` shows it: where its key comes from (never the key), its store, its last sync
    and the half-hours it holds. A store not made yet is not made by looking."""
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    row: dict[str, Any] = {
        "number": account.number,
        "name": account.name,
        "key": account.key_from,
        "key_ok": account.api_key is not None,
        "store": _store_shown(settings, account),
        "last_sync": None,
        "last_outcome": None,
        "rows": 0,
    }
    if account.key_problem:
        row["key_problem"] = account.key_problem
    if account.server_url(settings.db_url) is None and not account.db.exists():
        return row
    with open_account_store(settings.for_account(account), process_clock()) as store:
        last = store.last_run()
        if last is not None:
            row["last_sync"], row["last_outcome"] = last[0].isoformat(), last[2]
        series = {s for s, _ in store.cursors()}
        row["rows"] = sum(e.rows for e in (store.series_extent(s) for s in series) if e is not None)
    return row


@app.command("list")
def list_accounts(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Each configured account: number, name, where its key comes from (never the key), store, last sync, rows.

    Example: octoscope accounts list
    """
    with user_errors():
        settings, _, _ = _load()
        rows = [_describe(settings, a) for a in settings.all_accounts()]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("No account configured: `octoscope init`, or `octoscope accounts add NUMBER --key-env VAR`")
        return
    for r in rows:
        name = f" ({r['name']})" if r["name"] else ""
        key = r["key"] if r["key_ok"] else f"{r['key']}: missing"
        synced = (
            "never synced" if r["last_sync"] is None else f"last sync {uk_time(r['last_sync'])} {r['last_outcome']}"
        )
        typer.echo(f"{r['number']}{name}  key: {key}  store: {r['store']}  {synced}, {r['rows']} half-hours")


def _without_table(text: str, number: str) -> str | None:
    """The config text without the ``[[accounts]]`` table of ``number`` (None if it has none); the comment
    lines just above it go with it, everything else stays."""
    import tomllib  # noqa: PLC0415

    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _ACCOUNTS_HEADER.match(line)]
    for start in starts:
        end = start + 1
        while end < len(lines) and not _ANY_HEADER.match(lines[end]):
            end += 1
        try:
            table = tomllib.loads("".join(lines[start + 1 : end]))
        except tomllib.TOMLDecodeError:
            continue
        if str(table.get("number", "")).strip().upper() != number:
            continue
        first = start
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1
        return "".join(lines[:first] + lines[end:])
    return None


@app.command("remove")
def remove(
    number: Annotated[str, typer.Argument(help="The account number to take out of the config.")],
    purge: Annotated[bool, typer.Option(help="Also delete its SQLite store (needs --yes).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --purge: the data is deleted for good.")] = False,
) -> None:
    """Take an account out of the config. Its data stays where it is, unless --purge --yes deletes it.

    Example: octoscope accounts remove A-1234ABCD
    """
    from octoscope.config import ConfigError, check_account_number  # noqa: PLC0415

    if purge and not yes:
        raise fail("--purge deletes the account's data for good: add --yes to confirm")
    with user_errors():
        wanted = check_account_number(number)
        settings, path, text = _load()
        found = [a for a in settings.accounts if a.number == wanted]
        if not found:
            if settings.account == wanted:
                raise ConfigError(
                    f"{wanted} is the config's own account (account = ... in {path}): edit that line, or run"
                    " `octoscope init` with another"
                )
            known = ", ".join(a.number for a in settings.accounts) or "none"
            raise ConfigError(f"{wanted} is not in the [[accounts]] of {path}; configured there: {known}")
        server = found[0].server_url(settings.db_url)
        if purge and server is not None:
            raise ConfigError(
                f"{wanted}'s data is in the PostgreSQL database {_store_shown(settings, found[0])}: --purge deletes"
                " only SQLite files; remove it without --purge, then delete its rows there"
            )
        changed = _without_table(text, wanted)
        if changed is None:
            raise ConfigError(f"cannot find the [[accounts]] table of {wanted} in {path}: remove it by hand")
        _write(path, changed)
    store = found[0].db
    typer.echo(f"Removed {wanted} from {path}")
    if server is not None:
        typer.echo(f"  Its data stays in {_store_shown(settings, found[0])}.")
        return
    if not purge:
        where = store if store.exists() else f"{store} (not made yet)"
        typer.echo(f"  Its data stays in {where}; `accounts remove {wanted} --purge --yes` would delete it.")
        return
    for leftover in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
        leftover.unlink(missing_ok=True)
    typer.echo(f"  Deleted its store {store}")
