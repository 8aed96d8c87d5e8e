"""Settings from a TOML file and ``OCTOSCOPE_*`` environment variables (the environment wins).

The API key is held in a :class:`Secret`, whose ``repr`` and ``str`` never show it, so that a settings
object printed in a log or a traceback cannot leak it.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from octoscope.domain.costs import SMART_E7_NIGHT
from octoscope.domain.secret import Secret
from octoscope.domain.validation import BadValue, api_url, parse_url
from octoscope.errors import ConflictError

if TYPE_CHECKING:
    from octoscope.config_outputs import MqttSettings, NotifySettings

ACCOUNT_NUMBER = re.compile(r"^A-[0-9A-F]{8}$")
DEFAULT_API_URL = "https://api.octopus.energy/v1"
DEFAULT_GRAPHQL_URL = "https://api.octopus.energy/v1/graphql/"
PAYMENT_METHODS = ("DIRECT_DEBIT", "NON_DIRECT_DEBIT")
ALLOWED_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


class ConfigError(ConflictError, ValueError):
    """A setting that cannot be used; the message names it and says what to write."""


def default_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "octoscope"


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "octoscope"


def default_config_path() -> Path:
    return Path(os.environ.get("OCTOSCOPE_CONFIG") or _config_home() / "config.toml")


@dataclass(frozen=True)
class Budget:
    """Requests per rolling hour per API key. GraphQL leaves most of the ~100/h allowance to the Octopus app."""

    rest_per_hour: int = 300
    graphql_per_hour: int = 60  # the promise: within 60 an hour, with a watched live view and a car plugged in


@dataclass(frozen=True)
class Retry:
    attempts: int = 6  # tries per request, the first included
    base_seconds: float = 1.0  # the first backoff; it doubles, with full jitter
    cap_seconds: float = 60.0  # no single backoff is longer
    max_wait_seconds: float = 900.0  # a Retry-After or budget wait longer than this stops the run instead
    rate_limit_floor_seconds: float = 60.0  # the least wait after a rate limit or edge block that names none
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class SyncOptions:
    reread_days: int = 3  # Octopus delivers consumption late and revises it: re-read this many days
    concurrency: int = 4


@dataclass(frozen=True)
class CostSettings:
    """How costs are worked out. Gas: m³ x 1.02264 x calorific value (MJ/m³) / 3.6; the calorific value
    changes daily and is printed on bills, so a table of dated values may override the default from each
    date on."""

    calorific_value: float = 39.5
    calorific_values: tuple[tuple[date, float], ...] = ()  # (from this day, MJ/m³), ascending
    rounding: str = "exact"  # or "billing"
    e7_night: tuple[time, time] = SMART_E7_NIGHT  # UTC; an older (non-smart) meter's may differ


INFLUX_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Tags the export writes itself: a tag of [influx.tags] may not take one of these names.
INFLUX_OWN_TAGS = (
    "account_number",
    "tariff_code",
    "electricity_mpan",
    "gas_mprn",
    "fuel",
    "device_id",
    "kind",
    "charge_type",
    "dispatch",
)


@dataclass(frozen=True)
class InfluxSettings:
    """Where ``octoscope export influx`` (and ``serve`` after each sync) writes: InfluxDB 1.x (``version = 1``,
    a database, an optional retention policy, user and password) or the 2.x write API (org, bucket, token).
    ``tags`` go on every point; ``location = "Home"`` by default, as octograph's dashboard filters on it."""

    url: str
    version: int = 1
    database: str | None = None
    retention_policy: str | None = None
    org: str | None = None
    bucket: str | None = None
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    tags: tuple[tuple[str, str], ...] = (("location", "Home"),)
    batch_size: int = 5000
    timeout_seconds: float = 30.0
    push_after_sync: bool = True


@dataclass(frozen=True)
class WebSettings:
    """``octoscope serve``: ``allowed_hosts``, the host names it answers to besides this machine's own (a
    reverse proxy's name, a name on the home network); see ``octoscope.web.security``."""

    allowed_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveSettings:
    """The live Home Mini view: one poller per device while someone watches (or while recording)."""

    calls_per_hour: int = 60  # telemetry calls an hour, all devices together; fewer if the GraphQL budget is tight
    record: bool = False  # keep every reading in the database (the poller then runs all the time)
    retention_days: int = 30  # recorded readings older than this are deleted
    grace_seconds: float = 120.0  # keep polling this long after the last viewer leaves (a page reload)
    # Show readings this many seconds after they end, one every 10 s, though Octopus hands them over in batches;
    # None ("auto" in the file): the poll interval and a reading more. 0: as each batch arrives.
    playout: float | None = None


@dataclass(frozen=True)
class AccountSettings:
    """One account of a config with several (``[[accounts]]``), or the one account of a plain config.

    ``key_from`` says where the key comes from (``env VAR``, ``file PATH``, ``config``), never the key;
    ``key_problem``: why there is no key (a variable not set, a file that cannot be used), said only when a
    command needs the key, so that commands that only read the database still work."""

    number: str
    db: Path
    name: str | None = None
    api_key: Secret | None = None
    key_from: str = "config"
    key_problem: str | None = None
    key_env: str | None = None
    key_file: Path | None = None
    # ``db`` written in its table: its store, whatever the config's own ``db`` says. Not written: a file of
    # its own (``db``) or, when the config's ``db`` is a PostgreSQL URL, that database, shared.
    db_given: bool = False
    db_url: Secret | None = None  # its table's ``db = "postgresql://..."``: a Secret, it may carry a password

    def server_url(self, shared: Secret | None) -> Secret | None:
        """The PostgreSQL database its data is in (``shared``: the config's own ``db`` URL), or None: a file."""
        return self.db_url if self.db_given else shared


@dataclass(frozen=True)
class Settings:
    api_key: Secret | None = None
    account: str | None = None
    api_url: str = DEFAULT_API_URL
    graphql_url: str = DEFAULT_GRAPHQL_URL
    db: Path = field(default_factory=lambda: default_data_home() / "octoscope.db")
    # A PostgreSQL database instead of the file (db/OCTOSCOPE_DB = postgresql://...): a Secret, since a URL
    # may carry a password. ``db`` still names the folder kept beside it (the web session's key).
    db_url: Secret | None = None
    config_path: Path = field(default_factory=default_config_path)
    payment_method: str = "DIRECT_DEBIT"
    budget: Budget = field(default_factory=Budget)
    retry: Retry = field(default_factory=Retry)
    sync: SyncOptions = field(default_factory=SyncOptions)
    costs: CostSettings = field(default_factory=CostSettings)
    influx: InfluxSettings | None = None  # no [influx] section (nor OCTOSCOPE_INFLUX_URL): nothing to push to
    live: LiveSettings = field(default_factory=LiveSettings)
    web: WebSettings = field(default_factory=WebSettings)
    mqtt: MqttSettings | None = None  # [mqtt]: Home Assistant entities through a broker (config_outputs)
    notify: NotifySettings | None = None  # [notify]: Apprise notifications (config_outputs)
    accounts: tuple[AccountSettings, ...] = ()  # [[accounts]]: several accounts, each with its own key and store
    key_problem: str | None = None  # an [[accounts]] key that cannot be had (see AccountSettings.key_problem)

    def all_accounts(self) -> tuple[AccountSettings, ...]:
        """Every configured account: the plain config's one (``account``, ``api_key``, ``db``) first, then the
        ``[[accounts]]`` tables. A table with the plain account's number is that account (it wins)."""
        listed = {a.number for a in self.accounts}
        plain: tuple[AccountSettings, ...] = ()
        if self.account is not None and self.account not in listed:
            source = "config" if self.api_key is not None else "none"
            plain = (
                AccountSettings(self.account, self.db, None, self.api_key, source, db_given=True, db_url=self.db_url),
            )
        return plain + self.accounts

    def for_account(self, account: AccountSettings) -> Settings:
        """These settings bound to one account: its number, key and store, everything else shared."""
        return replace(
            self,
            account=account.number,
            api_key=account.api_key,
            db=account.db,
            db_url=account.server_url(self.db_url),
            key_problem=account.key_problem,
        )

    def select(self, number: str | None) -> Settings:
        """The settings of the account ``number`` (``--account``), or of the only one; with several and none
        chosen, one line listing them."""
        accounts = self.all_accounts()
        if number is not None:
            wanted = check_account_number(number)
            for account in accounts:
                if account.number == wanted:
                    return self.for_account(account)
            known = ", ".join(a.number for a in accounts) or "none"
            raise ConfigError(
                f"--account {wanted} is not configured; configured: {known} (see `octoscope accounts list`)"
            )
        if len(accounts) > 1:
            numbers = ", ".join(a.number for a in accounts)
            raise ConfigError(f"{len(accounts)} accounts are configured ({numbers}): choose one with --account NUMBER")
        return self.for_account(accounts[0]) if accounts and self.accounts else self

    def store_location(self) -> Path | str:
        """What ``store.open_store`` opens: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.db_url.reveal() if self.db_url is not None else self.db

    def require_account(self) -> str:
        """The account number, for commands that only read the database (no key needed)."""
        if self.account is None:
            raise ConfigError("no account number: run `octoscope init`, or set OCTOSCOPE_ACCOUNT (like A-1234ABCD)")
        return self.account

    def require_credentials(self) -> tuple[Secret, str]:
        if self.api_key is None and self.key_problem is not None:
            raise ConfigError(self.key_problem)
        if self.api_key is None:
            raise ConfigError(
                "no API key: run `octoscope init`, or set OCTOSCOPE_API_KEY "
                "(find it at octopus.energy/dashboard/new/accounts/personal-details/api-access)"
            )
        if self.account is None:
            raise ConfigError("no account number: run `octoscope init`, or set OCTOSCOPE_ACCOUNT (like A-1234ABCD)")
        return self.api_key, self.account


def db_setting(text: str) -> dict[str, Any]:
    """``db`` as given: a ``postgresql://`` (or ``postgres://``) URL, or a SQLite file's path."""
    if text.startswith(("postgresql://", "postgres://")):
        return {"db_url": Secret(text)}
    return {"db": Path(text).expanduser(), "db_url": None}


def check_account_number(text: str) -> str:
    number = text.strip().upper()
    if not ACCOUNT_NUMBER.match(number):
        # Never echo what looks like a key put in the wrong place.
        shown = "(it looks like an API key: are the two swapped?)" if "SK_" in number else repr(text)
        raise ConfigError(f"account number {shown} is malformed: it is A- and 8 letters or digits, like A-1234ABCD")
    return number


def check_api_key(text: str) -> Secret:
    key = text.strip()
    if not key or any(c.isspace() for c in key):
        raise ConfigError("API key is empty or contains spaces: copy it whole from your Octopus account page")
    return Secret(key)


def check_url(name: str, text: str) -> str:
    """An API URL: https, or http to this machine only (the key travels in every REST request); parsed as a
    URL, so a user name before ``@`` cannot make it look local (see :mod:`octoscope.domain.validation`)."""
    try:
        api_url(name, text)
    except BadValue as err:
        raise ConfigError(str(err)) from None
    return text.rstrip("/") if name == "api_url" else text


def _section(cls: type[Any], name: str, raw: object) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"[{name}] has an unknown setting {key!r}; known: {', '.join(known)}")
        default = getattr(cls(), key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"[{name}] {key} must be a number of 0 or more, not {value!r}")
        if isinstance(default, int) and value != int(value):
            raise ConfigError(f"[{name}] {key} must be a whole number, not {value!r}")
        values[key] = type(default)(value)
    return cls(**values)


def settings_from(file_values: dict[str, Any], env: dict[str, str], config_path: Path) -> Settings:
    """Combine a parsed config file and the environment into checked settings."""
    settings = Settings(config_path=config_path)
    top = {
        *("api_key", "account", "api_url", "graphql_url", "db", "payment_method"),
        *("budget", "retry", "sync", "costs", "influx", "live", "web"),
        *("mqtt", "notify", "accounts"),
    }
    for key in file_values:
        if key not in top:
            raise ConfigError(f"{config_path}: unknown setting {key!r}; known: {', '.join(sorted(top))}")
    sections = ("budget", "retry", "sync", "costs", "influx", "live", "web", "mqtt", "notify", "accounts")
    merged: dict[str, Any] = {k: v for k, v in file_values.items() if k not in sections}
    for name in ("api_key", "account", "api_url", "graphql_url", "db", "payment_method"):
        from_env = env.get(f"OCTOSCOPE_{name.upper()}")
        if from_env:
            merged[name] = from_env
    changes: dict[str, Any] = {}
    for name, value in merged.items():
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, not {type(value).__name__}")  # never echo: it may be the key
    if "api_key" in merged:
        changes["api_key"] = check_api_key(merged["api_key"])
    if "account" in merged:
        changes["account"] = check_account_number(merged["account"])
    for name in ("api_url", "graphql_url"):
        if name in merged:
            changes[name] = check_url(name, merged[name])
    if "db" in merged:
        changes.update(db_setting(merged["db"]))
    if "payment_method" in merged:
        method = merged["payment_method"].upper()
        if method not in PAYMENT_METHODS:
            raise ConfigError(f"payment_method {merged['payment_method']!r}: write DIRECT_DEBIT or NON_DIRECT_DEBIT")
        changes["payment_method"] = method
    for name, cls in (("budget", Budget), ("retry", Retry), ("sync", SyncOptions)):
        if name in file_values:
            changes[name] = _section(cls, name, file_values[name])
    if "costs" in file_values:
        changes["costs"] = _costs_section(file_values["costs"])
    changes["influx"] = _influx_section(file_values.get("influx"), env)
    if "live" in file_values:
        changes["live"] = _live_section(file_values["live"])
    if "web" in file_values:
        changes["web"] = _web_section(file_values["web"])
    from octoscope.config_outputs import mqtt_section, notify_section  # noqa: PLC0415 (it imports ConfigError)

    changes["mqtt"] = mqtt_section(file_values.get("mqtt"), env)
    changes["notify"] = notify_section(file_values.get("notify"), env)
    if "accounts" in file_values:
        changes["accounts"] = accounts_section(file_values["accounts"], env, config_path)
    return replace(settings, **changes)


ACCOUNT_KEYS = ("number", "name", "api_key_env", "api_key_file", "db")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def default_account_db(number: str, env: dict[str, str] | None = None) -> Path:
    """Where an ``[[accounts]]`` table's SQLite store is unless it says ``db`` (the data directory as the
    settings' environment has it)."""
    env = dict(os.environ) if env is None else env
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "octoscope"
    return data / "accounts" / f"{number}.db"


def read_key_file(path: Path) -> Secret:
    """The key in a file of its own, which only its owner may read: a key readable by the group or the
    world is refused (one line that says how to fix it), as ssh refuses such a private key."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"key file {path} does not exist") from None
    except OSError as err:
        raise ConfigError(f"cannot read key file {path}: {err.strerror}") from None
    if mode & 0o077:
        raise ConfigError(f"key file {path} is readable by others: run `chmod 600 {path}`")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"cannot read key file {path}: it must hold only the API key, as text") from None
    try:
        return check_api_key(text)
    except ConfigError:
        raise ConfigError(f"key file {path} must hold only the API key (it is empty or has spaces)") from None


def accounts_section(raw: object, env: dict[str, str], config_path: Path) -> tuple[AccountSettings, ...]:
    """``[[accounts]]``: each with its number, an optional name, its key from an environment variable
    (``api_key_env``) or a file (``api_key_file``), never written in the config, and an optional ``db``."""
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(
            "accounts must be tables written [[accounts]], each with number and api_key_env or api_key_file"
        )
    out: list[AccountSettings] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(raw, start=1):
        where = f"accounts[{index}]"
        for setting in table:
            if setting not in ACCOUNT_KEYS:
                raise ConfigError(f"{where} has an unknown setting {setting!r}; known: {', '.join(ACCOUNT_KEYS)}")
        for setting, value in table.items():
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}.{setting} must be a non-empty string")
        if "number" not in table:
            raise ConfigError(f'{where}.number is missing: write the account number, like number = "A-1234ABCD"')
        try:
            number = check_account_number(table["number"])
        except ConfigError as err:
            raise ConfigError(f"{where}.number: {err}") from None
        if number in seen:
            raise ConfigError(f"{where}.number: {number} is already accounts[{seen[number]}]; each account once")
        seen[number] = index
        has_env, has_file = "api_key_env" in table, "api_key_file" in table
        if has_env == has_file:
            raise ConfigError(
                f'{where}: give the key as api_key_env = "VARIABLE" or api_key_file = "PATH" (one of them)'
            )
        key: Secret | None = None
        problem: str | None = None
        key_env: str | None = None
        key_file: Path | None = None
        if has_env:
            key_env = table["api_key_env"].strip()
            if not ENV_NAME.match(key_env):
                raise ConfigError(f"{where}.api_key_env: {key_env!r} is not an environment variable's name")
            source = f"env {key_env}"
            if env.get(key_env):
                try:
                    key = check_api_key(env[key_env])
                except ConfigError:
                    problem = f"{where} ({number}): the key in {key_env} is empty or has spaces"
            else:
                problem = f"{where} ({number}): the environment variable {key_env} (its API key) is not set"
        else:
            key_file = Path(table["api_key_file"]).expanduser()
            if not key_file.is_absolute():
                key_file = config_path.parent / key_file
            source = f"file {key_file}"
            try:
                key = read_key_file(key_file)
            except ConfigError as err:
                problem = f"{where}.api_key_file: {err}"
        store = db_setting(table["db"]) if "db" in table else {}
        db = store.get("db") or default_account_db(number, env)  # a server store keeps its folder there
        name = table.get("name", "").strip() or None
        out.append(
            AccountSettings(
                number, db, name, key, source, problem, key_env, key_file, "db" in table, store.get("db_url")
            )
        )
    return tuple(out)


def _web_section(raw: object) -> WebSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[web] must be a table")
    for key in raw:
        if key != "allowed_hosts":
            raise ConfigError(f"[web] has an unknown setting {key!r}; known: allowed_hosts")
    hosts = raw.get("allowed_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ConfigError('[web] allowed_hosts must be a list of host names, like ["octo.example"]')
    for host in hosts:
        name = host.strip().lower()
        bare = name.removeprefix(".")
        if name != "*" and (not bare or ".." in bare or any(c not in ALLOWED_HOST_CHARS for c in bare)):
            raise ConfigError(f"[web] allowed_hosts: {host!r} is not a host name; write it like octo.example, no port")
    return WebSettings(tuple(h.strip().lower() for h in hosts))


def _live_section(raw: object) -> LiveSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[live] must be a table")
    record = raw.get("record", False)
    if not isinstance(record, bool):
        raise ConfigError(f"[live] record must be true or false, not {record!r}")
    playout = raw.get("playout", "auto")
    if playout != "auto" and (
        isinstance(playout, bool) or not isinstance(playout, int | float) or not 0 <= playout <= 900
    ):
        raise ConfigError(f'[live] playout must be "auto" or seconds from 0 to 900, not {playout!r}')
    plain = {k: v for k, v in raw.items() if k not in ("record", "playout")}
    live: LiveSettings = _section(LiveSettings, "live", plain)
    if not 1 <= live.calls_per_hour <= 360:
        raise ConfigError(
            f"[live] calls_per_hour must be 1 to 360 (one a minute is 60; more than one per 10-second reading"
            f" gains nothing), not {live.calls_per_hour}"
        )
    if live.retention_days < 1:
        raise ConfigError(f"[live] retention_days must be 1 or more, not {live.retention_days}")
    return replace(live, record=record, playout=None if playout == "auto" else float(playout))


def _costs_section(raw: object) -> CostSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[costs] must be a table")
    known = ("calorific_value", "calorific_values", "rounding", "e7_night")
    for key in raw:
        if key not in known:
            raise ConfigError(f"[costs] has an unknown setting {key!r}; known: {', '.join(known)}")
    value = raw.get("calorific_value", CostSettings.calorific_value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 30 <= value <= 50:
        raise ConfigError(f"[costs] calorific_value must be MJ/m³ between 30 and 50 (about 39.5), not {value!r}")
    rounding = raw.get("rounding", "exact")
    if rounding not in ("exact", "billing"):
        raise ConfigError(f'[costs] rounding must be "exact" or "billing", not {rounding!r}')
    table = raw.get("calorific_values", {})
    if not isinstance(table, dict):
        raise ConfigError('[costs.calorific_values] must be a table of "YYYY-MM-DD" = MJ/m³')
    dated: list[tuple[date, float]] = []
    for day, cv in table.items():
        try:
            when = date.fromisoformat(str(day))
        except ValueError:
            raise ConfigError(f"[costs.calorific_values] {day!r} is not a date; write YYYY-MM-DD") from None
        if isinstance(cv, bool) or not isinstance(cv, int | float) or not 30 <= cv <= 50:
            raise ConfigError(f"[costs.calorific_values] {day} must be MJ/m³ between 30 and 50, not {cv!r}")
        dated.append((when, float(cv)))
    night = SMART_E7_NIGHT
    if "e7_night" in raw:
        match = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", str(raw["e7_night"]))
        try:
            assert match is not None
            night = (time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
        except (AssertionError, ValueError):
            raise ConfigError(f'[costs] e7_night {raw["e7_night"]!r}: write the UTC hours as "00:30-07:30"') from None
        if night[0] >= night[1]:
            raise ConfigError("[costs] e7_night must start before it ends, within one UTC day")
    return CostSettings(float(value), tuple(sorted(dated)), rounding, night)


INFLUX_SECRETS = ("password", "token")
INFLUX_STRINGS = ("url", "database", "retention_policy", "org", "bucket", "username", *INFLUX_SECRETS)


def _influx_section(raw: object, env: dict[str, str]) -> InfluxSettings | None:
    """``[influx]`` with ``OCTOSCOPE_INFLUX_<KEY>`` over it (the way to give the password or token without
    writing it in the file). Every message names the key; none shows a secret."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("[influx] must be a table")
    known = (*INFLUX_STRINGS, "version", "tags", "batch_size", "timeout_seconds", "push_after_sync")
    for key in raw:
        if key not in known:
            raise ConfigError(f"[influx] has an unknown setting {key!r}; known: {', '.join(known)}")
    values: dict[str, Any] = dict(raw)
    for key in (*INFLUX_STRINGS, "version", "batch_size", "timeout_seconds"):
        from_env = env.get(f"OCTOSCOPE_INFLUX_{key.upper()}")
        if from_env:
            values[key] = from_env
    if not values:
        return None
    if "url" not in values:
        raise ConfigError('[influx] url is missing: write the server\'s address, like url = "http://127.0.0.1:8086"')
    for key in INFLUX_STRINGS:
        if key in values and (not isinstance(values[key], str) or not values[key].strip()):
            shown = "" if key in INFLUX_SECRETS else f", not {values[key]!r}"
            raise ConfigError(f"[influx] {key} must be a non-empty string{shown}")
    url = values["url"].strip().rstrip("/")
    if "@" in url.split("/")[2 if "://" in url else 0]:
        raise ConfigError(
            "[influx] url must not hold credentials: set username and OCTOSCOPE_INFLUX_PASSWORD, or the token"
        )
    if not re.match(r"^https?://(\[[^\]]+\]|[^/\s:]+)(:\d+)?(/\S*)?$", url):
        raise ConfigError(f"[influx] url {url!r} is not an http(s) URL, like http://127.0.0.1:8086")
    try:
        parse_url("[influx] url", url)
    except BadValue as err:
        raise ConfigError(str(err)) from None
    version = _influx_number(values, "version", int, 1)
    if version not in (1, 2):
        raise ConfigError(
            f"[influx] version must be 1 (InfluxDB 1.x: database, username, password) or 2 (org, bucket,"
            f" token), not {values['version']!r}"
        )
    batch_size = _influx_number(values, "batch_size", int, 5000)
    if not 1 <= batch_size <= 100_000:
        raise ConfigError(f"[influx] batch_size must be between 1 and 100000 points, not {batch_size}")
    timeout = _influx_number(values, "timeout_seconds", float, 30.0)
    if not 0 < timeout <= 600:
        raise ConfigError(f"[influx] timeout_seconds must be more than 0 and at most 600, not {timeout}")
    push = values.get("push_after_sync", True)
    if not isinstance(push, bool):
        raise ConfigError(f"[influx] push_after_sync must be true or false, not {push!r}")
    text = {k: values[k].strip() for k in INFLUX_STRINGS if k in values}
    if version == 1:
        if "database" not in text:
            raise ConfigError("[influx] database is missing: InfluxDB 1.x writes into a database (version = 1)")
        for key in ("org", "bucket", "token"):
            if key in text:
                raise ConfigError(f"[influx] {key} is for version = 2; InfluxDB 1.x takes database and username")
        if ("username" in text) != ("password" in text):
            raise ConfigError(
                "[influx] username and password go together: set both (the password in OCTOSCOPE_INFLUX_PASSWORD)"
            )
    else:
        for key in ("org", "bucket", "token"):
            if key not in text:
                hint = " (in OCTOSCOPE_INFLUX_TOKEN)" if key == "token" else ""
                raise ConfigError(
                    f"[influx] {key} is missing: the version 2 write API needs org, bucket and token{hint}"
                )
        for key in ("database", "retention_policy", "username", "password"):
            if key in text:
                raise ConfigError(f"[influx] {key} is for version = 1; version 2 takes org, bucket and token")
    return InfluxSettings(
        url=url,
        version=version,
        database=text.get("database"),
        retention_policy=text.get("retention_policy"),
        org=text.get("org"),
        bucket=text.get("bucket"),
        username=text.get("username"),
        password=Secret(text["password"]) if "password" in text else None,
        token=Secret(text["token"]) if "token" in text else None,
        tags=_influx_tags(values.get("tags", {"location": "Home"})),
        batch_size=batch_size,
        timeout_seconds=timeout,
        push_after_sync=push,
    )


def _influx_number(values: dict[str, Any], key: str, kind: type[int] | type[float], default: float) -> Any:
    raw = values.get(key, default)
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and kind is int):
            raise ValueError
        number = kind(raw)
    except (TypeError, ValueError):
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"[influx] {key} must be {what}, not {raw!r}") from None
    return number


def _influx_tags(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        raise ConfigError('[influx] tags must be a table of names and strings, like tags = { location = "Home" }')
    out = []
    for name, value in raw.items():
        if not INFLUX_TAG.match(name):
            raise ConfigError(f"[influx.tags] {name!r} is not a tag name: letters, digits and _ only")
        if name in INFLUX_OWN_TAGS:
            raise ConfigError(f"[influx.tags] {name!r} is a tag the export writes itself; choose another name")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"[influx.tags] {name} must be a non-empty string, not {value!r}")
        out.append((name, value.strip()))
    return tuple(sorted(out))


def load_settings(env: dict[str, str] | None = None, config_path: Path | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    path = config_path or Path(env.get("OCTOSCOPE_CONFIG") or default_config_path())
    values: dict[str, Any] = {}
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path} is not valid TOML: {err}") from None
        except UnicodeDecodeError:
            hint = "save it as UTF-8, or remove it and run `octoscope init`"
            raise ConfigError(f"{path} is not UTF-8 text: {hint}") from None
        except OSError as err:
            raise ConfigError(f"cannot read {path}: {err.strerror}") from None
    return settings_from(values, env, path)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


WRITTEN_TABLES = ("budget", "retry", "sync")
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_-]+)")  # [[accounts]] too


def _kept_tables(path: Path) -> list[str]:
    """The tables of an existing config file that ``write_config`` does not write (``[costs]``, ``[influx]``
    and the like), verbatim with their comments, so that running ``init`` again loses none of them."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")  # load_settings has refused it if not UTF-8
    except FileNotFoundError:
        return []
    kept: list[str] = []
    keep = False
    above: list[str] = []  # comments and blank lines: they belong to the table that follows them
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            above.append(line)
            continue
        header = _TABLE_HEADER.match(line)
        if header:
            keep = header.group(1) not in WRITTEN_TABLES
        if keep:
            kept += [*above, line]
        above = []
    return kept


def write_config(settings: Settings) -> Path:
    """Write the connection settings as TOML, readable by the owner only (it holds the API key). Tables
    of the file already there that these settings do not cover are kept as they were."""
    lines = ["# octoscope settings; OCTOSCOPE_* environment variables override these."]
    if settings.api_key is not None:
        lines.append(f"api_key = {_toml_string(settings.api_key.reveal())}")
    if settings.account is not None:
        lines.append(f"account = {_toml_string(settings.account)}")
    lines += [
        f"api_url = {_toml_string(settings.api_url)}",
        f"graphql_url = {_toml_string(settings.graphql_url)}",
        f"db = {_toml_string(str(settings.store_location()))}",
        f"payment_method = {_toml_string(settings.payment_method)}",
        "",
    ]
    for section in WRITTEN_TABLES:
        values = getattr(settings, section)
        lines += ["", f"[{section}]", *(f"{f.name} = {getattr(values, f.name)}" for f in fields(values))]
    path = settings.config_path
    kept = _kept_tables(path)
    lines += ["", *kept, ""] if kept else [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT
    return path
