"""``octoscope doctor``: is this installation sound? One line per check, saying what to do when it is not.

It only reads: the config file, the database (read-only, never migrated), one anonymous request to the
Octopus API (no key is sent, so no request budget is spent), InfluxDB's /ping where one is configured. The
API key is never shown; only whether there is one.
"""

from __future__ import annotations

import email.utils
import os
import platform
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from octoscope import __version__
from octoscope.clock import SYSTEM, Clock
from octoscope.config import ConfigError, Settings, default_config_path, load_settings
from octoscope.octopus.policy import key_fingerprint
from octoscope.store import redacted
from octoscope.store.backup import BackupError, check
from octoscope.store.errors import StoreError
from octoscope.store.guard import NotOurs, inspect
from octoscope.store.health import SQLITE_VERSION, Activity, activity
from octoscope.store.migrations import MIGRATIONS
from octoscope.store.postgres import activity as server_activity
from octoscope.store.postgres import applied as server_migrations
from octoscope.store.postgres import pending as server_pending

Status = Literal["ok", "warn", "FAIL"]
CLOCK_SKEW_LIMIT = 60.0  # seconds: more, and "today", the re-read window and token expiry go wrong
BUDGET_WARN = 0.8  # of an hour's allowance


@dataclass(frozen=True, slots=True)
class Check:
    """One check's verdict: ``line`` for people, ``to_json`` for ``doctor --json``."""

    name: str
    status: Status
    message: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<9} {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "message": self.message}


@dataclass
class _Seen:
    """What one check learns that a later one needs."""

    clock: Clock  # the process's: what "now" is for the budget and the run log
    settings: Settings | None = None
    api_date: float | None = None  # the API's Date header, epoch seconds
    asked_at: float | None = None


def _mode_problem(path: Path, what: str) -> str | None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return f"{path} is readable by others (mode {mode:o}) and holds {what}: run chmod 600 {path}"
    return None


def check_version(_: _Seen) -> Check:
    return Check(
        "version",
        "ok",
        f"octoscope {__version__}, Python {platform.python_version()}, SQLite {SQLITE_VERSION},"
        f" schema {len(MIGRATIONS)}",
    )


def check_config(seen: _Seen) -> Check:
    path = Path(os.environ.get("OCTOSCOPE_CONFIG") or default_config_path())
    try:
        settings = load_settings()
    except ConfigError as err:
        return Check("config", "FAIL", f"{err}")
    seen.settings = settings
    where = f"{path}" if path.exists() else f"no file at {path}, the environment only"
    missing = [name for name, value in (("API key", settings.api_key), ("account", settings.account)) if not value]
    if missing:
        return Check("config", "FAIL", f"{where}: no {' and no '.join(missing)}: run `octoscope init`")
    database = redacted(settings.db_url.reveal()) if settings.db_url is not None else settings.db
    return Check("config", "ok", f"{where}: API key set, account {settings.account}, database {database}")


def check_modes(seen: _Seen) -> Check:
    problems = []
    config = Path(os.environ.get("OCTOSCOPE_CONFIG") or default_config_path())
    if config.exists():
        problems.append(_mode_problem(config, "your API key"))
    if seen.settings is not None and seen.settings.db.exists():
        problems.append(_mode_problem(seen.settings.db, "your data and the API token"))
    found = [p for p in problems if p]
    if found:
        return Check("modes", "FAIL", "; ".join(found))
    return Check("modes", "ok", "the config file and the database are readable by their owner only")


def check_database(seen: _Seen) -> Check:
    if seen.settings is None:
        return Check("database", "warn", "not checked: fix the config first")
    if seen.settings.db_url is not None:
        return _check_server_database(seen.settings.db_url.reveal())
    path = seen.settings.db
    try:
        found = inspect(path)
    except NotOurs as err:
        return Check("database", "FAIL", str(err))
    if not found.exists or not found.applied:
        return Check("database", "FAIL", f"no octoscope data at {path}: run `octoscope sync`")
    try:
        snapshot = check(path)
    except BackupError as err:
        return Check("database", "FAIL", f"{err}: restore a backup (octoscope restore FILE)")
    size = f"{snapshot.size / 1e6:.1f} MB, {snapshot.rows.get('consumption', 0):,} half-hours"
    if found.pending:
        return Check(
            "database",
            "warn",
            f"{path}: schema {found.version} of {len(MIGRATIONS)}, integrity ok, {size}; the next command that"
            " opens it upgrades it: take `octoscope backup FILE` first",
        )
    return Check("database", "ok", f"{path}: schema {found.version} (current), integrity ok, {size}")


def _check_server_database(dsn: str) -> Check:
    """PostgreSQL: octoscope's, at which schema (read only; its integrity is the server's business)."""
    try:
        done = server_migrations(dsn)
        waiting = server_pending(dsn)
    except StoreError as err:
        return Check("database", "FAIL", str(err))
    where = redacted(dsn)
    if not done:
        return Check("database", "FAIL", f"no octoscope data at {where}: run `octoscope sync`")
    if waiting:
        return Check(
            "database",
            "warn",
            f"{where}: schema {len(done)} of {len(done) + len(waiting)}; the next command that opens it upgrades it:"
            " take a pg_dump first",
        )
    return Check("database", "ok", f"{where}: schema {len(done)} (current), PostgreSQL")


def check_api(seen: _Seen) -> Check:
    if seen.settings is None:
        return Check("api", "warn", "not checked: fix the config first")
    url = f"{seen.settings.api_url}/products/"
    seen.asked_at = SYSTEM()  # the machine's clock, whatever --now says: it is what the API's Date checks
    try:
        # Anonymous: the key is not sent, so the answer spends none of the key's budget.
        response = httpx.get(url, params={"page_size": 1}, timeout=10)
    except httpx.HTTPError as err:
        return Check("api", "FAIL", f"cannot reach {url} ({type(err).__name__}): check the network and api_url")
    date = response.headers.get("date")
    if date:
        try:
            seen.api_date = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            seen.api_date = None
    if response.status_code >= 500:
        return Check("api", "warn", f"{url} answers HTTP {response.status_code}: Octopus has trouble; sync later")
    if response.status_code != 200:
        return Check("api", "FAIL", f"{url} answers HTTP {response.status_code}: check api_url")
    return Check("api", "ok", f"{url} answers ({response.elapsed.total_seconds() * 1000:.0f} ms)")


def check_influx(seen: _Seen) -> Check:
    influx = seen.settings.influx if seen.settings is not None else None
    if influx is None:
        return Check("influx", "ok", "not configured (no [influx] section)")
    url = f"{influx.url.rstrip('/')}/ping"
    try:
        response = httpx.get(url, timeout=10)
    except httpx.HTTPError as err:
        return Check("influx", "FAIL", f"cannot reach {url} ({type(err).__name__}): is InfluxDB running?")
    if response.status_code not in (200, 204):
        return Check("influx", "FAIL", f"{url} answers HTTP {response.status_code}: check [influx] url")
    version = response.headers.get("x-influxdb-version", "version not said")
    return Check("influx", "ok", f"{url} answers (InfluxDB {version})")


def check_budget(seen: _Seen) -> Check:
    settings = seen.settings
    if settings is None or settings.api_key is None or not _has_store(settings):
        return Check("budget", "warn", "not checked: needs an API key and a database")
    now = seen.clock()
    try:
        used = _activity(settings, key_fingerprint(settings.api_key.reveal()), now - 3600).requests
    except (StoreError, ConfigError) as err:
        return Check("budget", "FAIL", f"cannot read the request ledger: {err}")
    limits = {"rest": settings.budget.rest_per_hour, "graphql": settings.budget.graphql_per_hour}
    shown = ", ".join(f"{api} {used.get(api, 0)} of {limit}" for api, limit in limits.items())
    tight = [api for api, limit in limits.items() if limit and used.get(api, 0) >= BUDGET_WARN * limit]
    if tight:
        return Check("budget", "warn", f"{shown} in the last hour: near the limit; close live views or sync less often")
    return Check("budget", "ok", f"{shown} requests in the last hour")


def _has_store(settings: Settings) -> bool:
    return settings.db_url is not None or settings.db.exists()


def _activity(settings: Settings, key_id: str | None, since: float) -> Activity:
    """What the account's store records (the ledger, the last run), from a SQLite file or a PostgreSQL
    server alike, read only."""
    if settings.db_url is not None:
        return server_activity(settings.db_url.reveal(), settings.require_account(), key_id, since)
    return activity(settings.db, key_id, since)


def check_clock(seen: _Seen) -> Check:
    try:
        ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        return Check("clock", "FAIL", "no time zone data for Europe/London: reinstall octoscope (it needs tzdata)")
    now = seen.clock()
    problems = []
    if seen.api_date is not None and seen.asked_at is not None:
        skew = seen.asked_at - seen.api_date
        if abs(skew) > CLOCK_SKEW_LIMIT:
            problems.append(
                f"this machine's clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the API's:"
                " turn on time sync (timedatectl set-ntp true)"
            )
    settings = seen.settings
    if settings is not None and _has_store(settings):
        try:
            started = _activity(settings, None, now).last_run_started
        except (StoreError, ConfigError):
            started = None
        if started is not None and started > now + CLOCK_SKEW_LIMIT:
            at = datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")
            problems.append(f"the last sync started at {at}, after now: the clock went back; check it")
    if problems:
        return Check("clock", "FAIL", "; ".join(problems))
    compared = "agrees with the API's" if seen.api_date is not None else "not compared (no answer from the API)"
    return Check("clock", "ok", f"{datetime.fromtimestamp(now, UTC).isoformat(timespec='seconds')}, {compared}")


CHECKS: tuple[Callable[[_Seen], Check], ...] = (
    check_version,
    check_config,
    check_modes,
    check_database,
    check_api,
    check_influx,
    check_budget,
    check_clock,
)


def run_checks(clock: Clock) -> list[Check]:
    seen = _Seen(clock)
    return [step(seen) for step in CHECKS]
