"""Settings: a TOML file plus OCTOSCOPE_* variables (the environment wins), checked, and the key kept secret."""

from __future__ import annotations

import os
import stat
from datetime import date, time
from pathlib import Path

import pytest

from octoscope.config import (
    DEFAULT_API_URL,
    DEFAULT_GRAPHQL_URL,
    Budget,
    ConfigError,
    Retry,
    Secret,
    Settings,
    SyncOptions,
    check_account_number,
    load_settings,
    settings_from,
    write_config,
)

KEY = "sk_live_config0123456789abcdefTEST"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_without_key(err: BaseException) -> None:
    assert "\n" not in str(err)
    assert KEY not in str(err)
    assert KEY not in repr(err)


# --- Secret ---------------------------------------------------------------------------------------------------


def test_a_secret_never_shows_itself() -> None:
    secret = Secret(KEY)
    assert secret.reveal() == KEY
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", repr([secret]), str({"key": secret})):
        assert KEY not in shown
    assert "********" in repr(secret)


def test_settings_printed_whole_do_not_show_the_key() -> None:
    settings = Settings(api_key=Secret(KEY), account="A-0000FEED", config_path=Path("/nonexistent/config.toml"))
    assert KEY not in repr(settings)
    assert KEY not in str(settings)


def test_secrets_compare_by_value() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KEY + "x")
    assert Secret(KEY) != KEY
    assert len({Secret(KEY), Secret(KEY)}) == 1


# --- defaults, file, environment -------------------------------------------------------------------------------


def test_defaults_without_a_file_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = load_settings(env={}, config_path=tmp_path / "missing.toml")
    assert settings.api_key is None
    assert settings.account is None
    assert settings.api_url == DEFAULT_API_URL == "https://api.octopus.energy/v1"
    assert settings.graphql_url == DEFAULT_GRAPHQL_URL == "https://api.octopus.energy/v1/graphql/"
    assert settings.db == tmp_path / "data" / "octoscope" / "octoscope.db"
    assert settings.payment_method == "DIRECT_DEBIT"
    assert settings.budget == Budget()
    assert settings.retry == Retry()
    assert settings.sync == SyncOptions()
    with pytest.raises(ConfigError) as caught:
        settings.require_credentials()
    assert "OCTOSCOPE_API_KEY" in str(caught.value)


def test_the_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        f"""
api_key = "{KEY}"
account = "A-0000FEED"
api_url = "http://127.0.0.1:8080/v1/"
graphql_url = "http://127.0.0.1:8080/v1/graphql/"
db = "{tmp_path / "o.db"}"
payment_method = "non_direct_debit"

[budget]
rest_per_hour = 120
graphql_per_hour = 20

[retry]
attempts = 4
base_seconds = 0.5
cap_seconds = 30
max_wait_seconds = 120
timeout_seconds = 10

[sync]
reread_days = 5
concurrency = 2
""",
    )
    settings = load_settings(env={}, config_path=path)
    assert settings.require_credentials() == (Secret(KEY), "A-0000FEED")
    assert settings.api_url == "http://127.0.0.1:8080/v1"  # the trailing slash is dropped: paths are appended
    assert settings.graphql_url == "http://127.0.0.1:8080/v1/graphql/"
    assert settings.db == tmp_path / "o.db"
    assert settings.payment_method == "NON_DIRECT_DEBIT"
    assert settings.budget == Budget(rest_per_hour=120, graphql_per_hour=20)
    assert settings.retry == Retry(
        attempts=4, base_seconds=0.5, cap_seconds=30.0, max_wait_seconds=120.0, timeout_seconds=10.0
    )
    assert isinstance(settings.retry.cap_seconds, float)
    assert settings.sync == SyncOptions(reread_days=5, concurrency=2)
    assert settings.config_path == path


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'api_key = "sk_live_from_file"\naccount = "A-0000FEED"\n')
    env = {
        "OCTOSCOPE_API_KEY": KEY,
        "OCTOSCOPE_ACCOUNT": "a-1234abcd",
        "OCTOSCOPE_API_URL": "http://localhost:9999/v1",
        "OCTOSCOPE_GRAPHQL_URL": "http://localhost:9999/v1/graphql/",
        "OCTOSCOPE_DB": str(tmp_path / "env.db"),
        "OCTOSCOPE_PAYMENT_METHOD": "NON_DIRECT_DEBIT",
    }
    settings = load_settings(env=env, config_path=path)
    assert settings.api_key == Secret(KEY)
    assert settings.account == "A-1234ABCD"
    assert settings.api_url == "http://localhost:9999/v1"
    assert settings.graphql_url == "http://localhost:9999/v1/graphql/"
    assert settings.db == tmp_path / "env.db"
    assert settings.payment_method == "NON_DIRECT_DEBIT"


def test_an_empty_environment_variable_does_not_blank_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f'api_key = "{KEY}"\n')
    settings = load_settings(env={"OCTOSCOPE_API_KEY": ""}, config_path=path)
    assert settings.api_key == Secret(KEY)


def test_octoscope_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "elsewhere.toml", 'account = "A-0000FEED"\n')
    settings = load_settings(env={"OCTOSCOPE_CONFIG": str(path)})
    assert settings.account == "A-0000FEED"
    assert settings.config_path == path


def test_db_path_expands_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = settings_from({"db": "~/octo/data.db"}, {}, tmp_path / "c.toml")
    assert settings.db == tmp_path / "octo" / "data.db"


# --- bad settings: one line, naming the setting, never the key ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('acount = "A-0000FEED"\n', "'acount'"),
        ('api_url = "ftp://example.com"\n', "api_url"),
        ('graphql_url = "api.octopus.energy/v1/graphql/"\n', "graphql_url"),
        ('payment_method = "CASH"\n', "payment_method"),
        ('account = "A-12"\n', "account number"),
        ('account = "A-0000TEST"\n', "account number"),  # not 8 hex digits
        ("[budget]\nrest_per_hour = -1\n", "rest_per_hour"),
        ('[budget]\nrest_per_hour = "lots"\n', "rest_per_hour"),
        ("[retry]\nattempts = true\n", "attempts"),
        ("[retry]\nbackoff = 3\n", "'backoff'"),
        ('budget = "300"\n', "[budget]"),
        ("account = 12345678\n", "account"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path / "config.toml", f'api_key = "{KEY}"\n' + text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, config_path=path)
    assert words in str(caught.value)
    assert_one_line_without_key(caught.value)


@pytest.mark.parametrize("bad", ["", "   ", "sk_live_abc def", "sk_live_abc\tdef"])
def test_an_empty_or_spaced_key_is_refused_without_echoing_it(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({"api_key": bad}, {}, tmp_path / "c.toml")
    assert "API key" in str(caught.value)
    if bad.strip():
        assert bad.strip() not in str(caught.value)
        assert "abc" not in str(caught.value)


def test_a_key_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f'api_key = ["{KEY}"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, config_path=path)
    assert "api_key" in str(caught.value)
    assert_one_line_without_key(caught.value)


def test_invalid_toml_names_the_file_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f"api_key = {KEY}\n")  # unquoted
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, config_path=path)
    assert str(path) in str(caught.value)
    assert_one_line_without_key(caught.value)


def test_account_numbers_are_normalised() -> None:
    assert check_account_number("  a-0000feed ") == "A-0000FEED"
    with pytest.raises(ConfigError):
        check_account_number("A-0000FEE")


# --- write_config ----------------------------------------------------------------------------------------------


def test_write_config_is_readable_by_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "config.toml"
    settings = Settings(api_key=Secret(KEY), account="A-0000FEED", config_path=path, db=tmp_path / "o.db")
    assert write_config(settings) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_config_tightens_an_existing_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "# old\n")
    path.chmod(0o644)
    write_config(Settings(api_key=Secret(KEY), account="A-0000FEED", config_path=path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "# old" not in path.read_text(encoding="utf-8")


def test_write_config_is_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    old = os.umask(0)
    try:
        write_config(Settings(api_key=Secret(KEY), config_path=path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_config_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    written = Settings(
        api_key=Secret(KEY),
        account="A-0000FEED",
        api_url="http://127.0.0.1:8080/v1",
        graphql_url="http://127.0.0.1:8080/v1/graphql/",
        db=tmp_path / 'odd "name" \\ here.db',
        config_path=path,
        payment_method="NON_DIRECT_DEBIT",
        budget=Budget(rest_per_hour=100, graphql_per_hour=10),
    )
    write_config(written)
    read = load_settings(env={}, config_path=path)
    assert read.api_key == written.api_key
    assert read.account == written.account
    assert read.api_url == written.api_url
    assert read.graphql_url == written.graphql_url
    assert read.db == written.db
    assert read.payment_method == written.payment_method
    assert read.budget == written.budget


def test_write_config_keeps_the_tables_it_does_not_write(tmp_path: Path) -> None:
    """Running `init` again must not lose a user's [costs] or [influx] (or their comments)."""
    path = tmp_path / "config.toml"
    path.write_text(
        'api_key = "old"\n\n[budget]\nrest_per_hour = 5\n\n'
        "# my gas supplier's figure\n[costs]\ncalorific_value = 39.1\n\n"
        '[costs.calorific_values]\n"2026-01-01" = 39.3\n\n[sync]\nreread_days = 9\n'
    )
    write_config(Settings(api_key=Secret(KEY), account="A-0000FEED", config_path=path))
    text = path.read_text()
    read = load_settings(env={}, config_path=path)
    assert read.api_key == Secret(KEY)
    assert read.costs.calorific_value == 39.1
    assert read.costs.calorific_values == ((date(2026, 1, 1), 39.3),)
    assert read.budget == Budget(), "the tables init writes are written from the settings given"
    assert text.count("[budget]") == 1
    assert text.count("[sync]") == 1
    assert "# my gas supplier's figure\n[costs]" in text, "a comment stays with the table it stands above"
    assert "old" not in text


def test_write_config_without_credentials_writes_none(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(Settings(config_path=path, db=tmp_path / "o.db"))
    read = load_settings(env={}, config_path=path)
    assert read.api_key is None
    assert read.account is None
    assert "api_key" not in path.read_text(encoding="utf-8")


# --- found in review ---------------------------------------------------------------------------------------


def test_a_key_put_where_the_account_belongs_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({}, {"OCTOSCOPE_ACCOUNT": "sk_live_swapped_by_mistake"}, Path("config.toml"))
    assert "sk_live_swapped_by_mistake" not in str(caught.value).lower()
    assert "swapped" in str(caught.value)


@pytest.mark.parametrize("url", ["http://api.example.com/v1", "http://127.0.0.1.evil.example/v1"])
def test_plain_http_is_refused_except_to_this_machine(url: str) -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        settings_from({}, {"OCTOSCOPE_API_URL": url}, Path("config.toml"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/v1", "http://localhost:8123/v1", "http://[::1]:8123/v1"])
def test_plain_http_to_this_machine_is_allowed(url: str) -> None:
    assert settings_from({}, {"OCTOSCOPE_API_URL": url}, Path("config.toml")).api_url == url


def test_cost_settings_from_the_file() -> None:
    values = {"costs": {"calorific_value": 39.2, "rounding": "billing", "calorific_values": {"2026-01-01": 39.8}}}
    costs = settings_from(values, {}, Path("config.toml")).costs
    assert costs.calorific_value == 39.2
    assert costs.rounding == "billing"
    assert costs.calorific_values == ((date(2026, 1, 1), 39.8),)


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        ({"calorific_value": 395}, "between 30 and 50"),
        ({"rounding": "up"}, "rounding must be"),
        ({"calorific_values": {"2026-02-30": 39.5}}, "is not a date"),
        ({"calorifc_value": 39.5}, "unknown setting 'calorifc_value'"),
    ],
)
def test_bad_cost_settings_are_one_line(costs: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        settings_from({"costs": costs}, {}, Path("config.toml"))


def test_an_economy_7_night_window_in_utc() -> None:
    costs = settings_from({"costs": {"e7_night": "00:00-07:00"}}, {}, Path("config.toml")).costs
    assert costs.e7_night == (time(0, 0), time(7, 0))
    with pytest.raises(ConfigError, match="e7_night"):
        settings_from({"costs": {"e7_night": "midnight"}}, {}, Path("config.toml"))
