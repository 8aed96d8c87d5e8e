"""Keeping an installation: ``backup``, ``restore``, ``service install|uninstall`` and ``doctor``, registered
on the main app by :func:`register`. Heavy imports wait until a command runs."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from octoscope.cli.shell import LOOPBACK, fail, process_clock, read_settings, user_errors

service_app = typer.Typer(help="Run `octoscope serve` as a systemd service, across reboots.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("doctor")(doctor)
    app.add_typer(service_app, name="service")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def backup(
    path: Annotated[Path, typer.Argument(help="The new backup file (never overwritten).", show_default=False)],
) -> None:
    """Copy the database to PATH while `serve` and syncs go on: one consistent snapshot, checked by opening it.

    Example: octoscope backup ~/octoscope-2026-12-06.db
    """
    from octoscope.store.backup import backup as take_backup  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        if settings.db_url is not None:
            raise fail("the database is PostgreSQL: back it up with pg_dump (octoscope backup copies a SQLite file)")
        snapshot = take_backup(settings.db, path.expanduser())
    typer.echo(
        f"Backed up {settings.db} to {snapshot.path}: {_megabytes(snapshot.size)}, schema {snapshot.schema_version},"
        f" {snapshot.rows.get('consumption', 0):,} half-hours, integrity ok"
    )


def restore(
    path: Annotated[Path, typer.Argument(help="A backup made by `octoscope backup`.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace a database that holds data.")] = False,
) -> None:
    """Put a backup back as the database (stop `serve` first), upgrading it to this release's schema.

    Example: octoscope restore ~/octoscope-2026-12-06.db --force
    """
    from octoscope.store.backup import restore as put_back  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        if settings.db_url is not None:
            raise fail(
                "the database is PostgreSQL: restore it with pg_restore (octoscope restore writes a SQLite file)"
            )
        snapshot = put_back(path.expanduser(), settings.db, replace=force, applied_at=int(process_clock()()))
    typer.echo(
        f"Restored {path} into {snapshot.path}: schema {snapshot.schema_version},"
        f" {snapshot.rows.get('consumption', 0):,} half-hours, integrity ok"
    )


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Check this installation: config, file modes, database, the API, InfluxDB, request budget, clock.

    One line per check with what to do; exit 1 if any check fails. The API key is never shown.
    Example: octoscope doctor
    """
    from octoscope.services.doctor import run_checks  # noqa: PLC0415

    checks = run_checks(process_clock())
    if as_json:
        typer.echo(json.dumps([c.to_json() for c in checks], indent=2))
    else:
        for check in checks:
            typer.echo(check.line())
    if any(c.status == "FAIL" for c in checks):
        raise typer.Exit(1)


def _unit_dir(user: bool, unit_dir: Path | None) -> Path:
    if unit_dir is not None:
        return unit_dir.expanduser()
    if user:
        return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
    return Path("/etc/systemd/system")


def _octoscope_command() -> tuple[str, ...]:
    """The octoscope now running, by absolute path: the script beside this Python (a virtualenv, `uv tool`,
    pipx), else this Python with -m."""
    script = Path(sys.executable).parent / "octoscope"
    if script.is_file() and os.access(script, os.X_OK):
        return (str(script.absolute()),)
    return (str(Path(sys.executable).absolute()), "-m", "octoscope")


UnitDir = Annotated[
    Path | None, typer.Option(help="Write the unit here instead (default /etc/systemd/system, or the user's).")
]
UserUnit = Annotated[bool, typer.Option("--user", help="A unit for your own service manager (systemctl --user).")]


@service_app.command("install")
def service_install(
    user: UserUnit = False,
    host: Annotated[str, typer.Option(help="Address `serve` listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port `serve` listens on.", min=1, max=65535)] = 8000,
    env_file: Annotated[
        Path | None, typer.Option(help="A file of more settings for the service, e.g. OCTOSCOPE_WEB_TOKEN=...")
    ] = None,
    unit_dir: UnitDir = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a unit file already there.")] = False,
) -> None:
    """Write a systemd unit that runs `octoscope serve` (restarted on failure) and say how to enable it.

    The unit names the config file and the database; the API key stays in the config file.
    Example: octoscope service install --user
    """
    from octoscope.cli.service_unit import UNIT_NAME, ServiceSpec, render  # noqa: PLC0415
    from octoscope.config import load_settings  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        config = settings.config_path.absolute()
        if not config.is_file():
            raise fail(f"no config file at {config}: run `octoscope init` first (the service reads its settings there)")
        # The service sees the config file, not this shell's environment: it must hold the key and account.
        load_settings(env={}, config_path=config).require_credentials()
        db = settings.db.expanduser().absolute()
        if not db.is_file():
            raise fail(f"no database at {db} yet: run `octoscope sync` first")
        if host not in LOOPBACK and env_file is None:
            raise fail(
                f"--host {host} opens the dashboard to the network: put OCTOSCOPE_WEB_TOKEN=<a long secret> in a file"
                " only you can read and give it as --env-file"
            )
        spec = ServiceSpec(
            command=_octoscope_command(),
            config=config,
            db=db,
            host=host,
            port=port,
            user=None if user else getpass.getuser(),
            env_file=env_file.expanduser().absolute() if env_file else None,
        )
        text = render(spec)
        target = _unit_dir(user, unit_dir) / UNIT_NAME
        if target.exists() and not force:
            raise fail(f"{target} already exists: add --force to replace it")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            target.chmod(0o644)
        except OSError as err:
            hint = " (a system unit needs root: sudo, or --user)" if not user else ""
            raise fail(f"cannot write {target}: {err.strerror}{hint}") from None
    systemctl = "systemctl --user" if user else "systemctl"
    typer.echo(f"Wrote {target}")
    typer.echo(f"Enable and start it:  {systemctl} daemon-reload && {systemctl} enable --now octoscope")
    if user:
        typer.echo(
            f"Keep it running when you are logged out, and after a reboot:  loginctl enable-linger {getpass.getuser()}"
        )
    typer.echo(f"Then:  {systemctl} status octoscope;  journalctl {'--user ' if user else ''}-u octoscope")


@service_app.command("uninstall")
def service_uninstall(user: UserUnit = False, unit_dir: UnitDir = None) -> None:
    """Remove the unit that `service install` wrote (disable it first).

    Example: octoscope service uninstall --user
    """
    from octoscope.cli.service_unit import UNIT_NAME  # noqa: PLC0415

    directory = _unit_dir(user, unit_dir)
    target = directory / UNIT_NAME
    systemctl = "systemctl --user" if user else "systemctl"
    if not target.exists():
        raise fail(f"no {UNIT_NAME} in {directory}: nothing to uninstall{'' if user else ' (was it --user?)'}")
    wanted = directory / ("default.target.wants" if user else "multi-user.target.wants") / UNIT_NAME
    if wanted.is_symlink() or wanted.exists():
        raise fail(f"{UNIT_NAME} is enabled: run `{systemctl} disable --now octoscope` first, then uninstall again")
    if "octoscope service install" not in target.read_text(encoding="utf-8", errors="replace"):
        raise fail(f"{target} was not written by `octoscope service install`: remove it yourself if you mean to")
    try:
        target.unlink()
    except OSError as err:
        raise fail(f"cannot remove {target}: {err.strerror}") from None
    typer.echo(f"Removed {target}; run `{systemctl} daemon-reload` to forget it")
