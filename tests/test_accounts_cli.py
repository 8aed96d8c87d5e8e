"""Several accounts in one config: `octoscope accounts add|list|remove` editing the config in place (comments
and other tables kept), keys from an environment variable or an owner-only file and never shown, `--account`
to choose one, and the [[accounts]] tables' errors, one line naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from octoscope.config import ConfigError, load_settings, settings_from, write_config
from octoscope.web.auth import account_token
from tests.conftest import Cli, machine_env

ONE, TWO = "A-0000AAA1", "A-0000BBB2"
KEY_ONE = "sk_live_key_of_the_first_household"
KEY_TWO = "sk_live_key_of_the_second_household"
START = '# my settings\naccount = "A-DE30DE30"\napi_key = "sk_live_plain"\n\n[sync]\nreread_days = 3  # kept\n'


def cli_in(home: Path, **env: str) -> Cli:
    (home / "config.toml").write_text(START)
    (home / "config.toml").chmod(0o600)
    base = {**machine_env(), "HOME": str(home), "OCTOSCOPE_CONFIG": str(home / "config.toml"), **env}
    return Cli(None, home, base)  # type: ignore[arg-type]  # no simulator: these commands never call Octopus


def error_of(cli: Cli, *args: str) -> str:
    done = cli.run(*args)
    assert done.returncode == 1, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    return lines[0]


def test_add_list_remove_keep_the_rest_of_the_config_and_never_show_a_key(tmp_path: Path) -> None:
    cli = cli_in(tmp_path, KEY_ONE=KEY_ONE)
    key_file = tmp_path / "two.key"
    key_file.write_text(KEY_TWO + "\n")
    key_file.chmod(0o600)
    assert f"Added {ONE}" in cli.ok("accounts", "add", ONE.lower(), "--key-env", "KEY_ONE", "--name", "Flat")
    cli.ok("accounts", "add", TWO, "--key-file", str(key_file), "--db", str(tmp_path / "two.db"))
    text = (tmp_path / "config.toml").read_text()
    assert text.startswith(START)  # the comments, the plain account and [sync] as they were
    assert KEY_ONE not in text
    assert KEY_TWO not in text
    assert (tmp_path / "config.toml").stat().st_mode & 0o077 == 0

    listed = cli.ok("accounts", "list")
    rows = json.loads(cli.ok("accounts", "list", "--json"))
    for shown in (listed, json.dumps(rows)):
        assert KEY_ONE not in shown
        assert KEY_TWO not in shown
        assert "sk_live_plain" not in shown
    assert [r["number"] for r in rows] == ["A-DE30DE30", ONE, TWO]
    assert rows[1]["name"] == "Flat"
    assert rows[1]["key"] == "env KEY_ONE"
    assert rows[1]["store"] == str(tmp_path / ".local/share/octoscope/accounts" / f"{ONE}.db")
    assert rows[2]["key"] == f"file {key_file}"
    assert rows[2]["last_sync"] is None
    assert rows[2]["rows"] == 0
    assert "Flat" in listed
    assert not (tmp_path / "two.db").exists()  # listing made no store

    (tmp_path / "two.db").write_bytes(b"")
    removed = cli.ok("accounts", "remove", TWO)
    assert f"Its data stays in {tmp_path / 'two.db'}" in removed
    assert (tmp_path / "two.db").exists()
    after = (tmp_path / "config.toml").read_text()
    assert TWO not in after
    assert ONE in after
    assert after.startswith(START)
    assert error_of(cli, "accounts", "remove", TWO).startswith(f"Error: {TWO} is not in the [[accounts]]")


def test_purge_needs_yes_then_deletes_the_store(tmp_path: Path) -> None:
    cli = cli_in(tmp_path)
    store = tmp_path / "one.db"
    cli.ok("accounts", "add", ONE, "--key-env", "KEY_ONE", "--db", str(store))
    store.write_bytes(b"")
    assert "--yes" in error_of(cli, "accounts", "remove", ONE, "--purge")
    assert ONE in (tmp_path / "config.toml").read_text()
    assert "Deleted its store" in cli.ok("accounts", "remove", ONE, "--purge", "--yes")
    assert not store.exists()


def test_add_refuses_what_it_cannot_use_in_one_line(tmp_path: Path) -> None:
    cli = cli_in(tmp_path)
    loose = tmp_path / "loose.key"
    loose.write_text(KEY_ONE)
    loose.chmod(0o644)
    message = error_of(cli, "accounts", "add", ONE, "--key-file", str(loose))
    assert f"chmod 600 {loose}" in message
    assert KEY_ONE not in message
    assert "one of them" in error_of(cli, "accounts", "add", ONE)
    assert "one of them" in error_of(cli, "accounts", "add", ONE, "--key-env", "A", "--key-file", str(loose))
    assert "malformed" in error_of(cli, "accounts", "add", "A-12", "--key-env", "A")
    assert "already configured" in error_of(cli, "accounts", "add", "A-DE30DE30", "--key-env", "A")
    assert "environment variable" in error_of(cli, "accounts", "add", ONE, "--key-env", "NOT A NAME")
    assert (tmp_path / "config.toml").read_text() == START  # nothing written


def test_with_several_accounts_a_command_asks_which_and_the_key_is_said_missing_only_when_needed(
    tmp_path: Path,
) -> None:
    cli = cli_in(tmp_path)
    cli.ok("accounts", "add", ONE, "--key-env", "KEY_ONE")
    assert error_of(cli, "costs") == (
        "Error: 2 accounts are configured (A-DE30DE30, A-0000AAA1): choose one with --account NUMBER"
    )
    assert "not configured" in error_of(cli, "--account", "A-0000FFFF", "costs")
    assert "no database" in error_of(cli, "--account", ONE, "costs")  # chosen: its own store
    assert "no database" in error_of(cli, "costs", "--account", ONE)  # after the command too
    missing = error_of(cli, "sync", "--account", ONE)
    assert "KEY_ONE" in missing
    assert "not set" in missing


BAD = [
    ([{"number": "A-12"}], "accounts[1].number: account number 'A-12' is malformed"),
    ([{"number": ONE, "api_key_env": "K"}, {"number": ONE.lower(), "api_key_env": "K"}], "accounts[2].number: "),
    ([{"number": ONE, "api_key_env": "K", "colour": "red"}], "accounts[1] has an unknown setting 'colour'"),
    ([{"number": ONE, "api_key_env": "K", "api_key_file": "/k"}], "accounts[1]: give the key as"),
    ([{"number": ONE}], "accounts[1]: give the key as"),
    ([{"api_key_env": "K"}], "accounts[1].number is missing"),
    ([{"number": ONE, "api_key_env": "K", "db": 3}], "accounts[1].db must be a non-empty string"),
    ({"number": ONE}, "accounts must be tables written [[accounts]]"),
]


@pytest.mark.parametrize(("tables", "message"), BAD)
def test_bad_accounts_tables_are_one_line_naming_the_field(tables: object, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({"accounts": tables}, {}, tmp_path / "c.toml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_keys_come_from_the_environment_or_a_file_and_never_show(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text(KEY_TWO)
    key_file.chmod(0o600)
    tables = [{"number": ONE, "api_key_env": "K1", "name": "Flat"}, {"number": TWO, "api_key_file": str(key_file)}]
    settings = settings_from({"accounts": tables}, {"K1": KEY_ONE, "HOME": str(tmp_path)}, tmp_path / "c.toml")
    one, two = settings.all_accounts()
    assert one.api_key is not None
    assert one.api_key.reveal() == KEY_ONE
    assert two.api_key is not None
    assert two.api_key.reveal() == KEY_TWO
    assert one.db == tmp_path / ".local/share/octoscope/accounts" / f"{ONE}.db"
    assert settings.select(TWO).require_credentials()[1] == TWO
    for shown in (repr(settings), str(settings), repr(settings.select(ONE))):
        assert KEY_ONE not in shown
        assert KEY_TWO not in shown
    key_file.chmod(0o640)  # readable by the group: refused when the key is needed, with the fix
    loose = settings_from({"accounts": tables}, {"K1": KEY_ONE}, tmp_path / "c.toml").select(TWO)
    with pytest.raises(ConfigError, match=r"chmod 600"):
        loose.require_credentials()


def test_init_writing_the_config_again_keeps_the_accounts_tables(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    table = f'# the flat\n[[accounts]]\nnumber = "{ONE}"\napi_key_env = "KEY_ONE"\n'
    path.write_text(START + "\n" + table)
    settings = load_settings(env={"HOME": str(tmp_path)}, config_path=path)
    write_config(settings)  # what `octoscope init` does
    assert table in path.read_text()
    again = load_settings(env={"HOME": str(tmp_path)}, config_path=path)
    assert [a.number for a in again.all_accounts()] == ["A-DE30DE30", ONE]


def test_serve_prints_the_token_of_one_account_from_the_servers(tmp_path: Path) -> None:
    server_token = "a-long-secret-for-the-accounts-tests-42"
    cli = cli_in(tmp_path, OCTOSCOPE_WEB_TOKEN=server_token)
    cli.ok("accounts", "add", ONE, "--key-env", "KEY_ONE")
    printed = cli.ok("serve", "--account-token", ONE.lower()).strip()
    assert printed == account_token(server_token, ONE)
    assert server_token not in printed
    assert "not configured" in error_of(cli, "serve", "--account-token", TWO)
    without = cli.run("serve", "--account-token", ONE, env={"OCTOSCOPE_WEB_TOKEN": ""})
    assert without.returncode == 1
    assert "OCTOSCOPE_WEB_TOKEN" in without.stderr


@pytest.mark.postgres
def test_an_account_in_a_postgresql_database_is_one_there_and_its_password_never_shows(tmp_path: Path) -> None:
    """``db = "postgresql://..."`` in an [[accounts]] table is that server database (not a file of that name);
    without ``db`` an account shares the config's own server database; ``list`` shows where without the
    password, and ``remove --purge`` refuses in one line (it deletes only files)."""
    env = {"HOME": str(tmp_path)}
    url = "postgresql://octoscope:pw-of-the-database@db.example:5432/octo"
    own = settings_from({"accounts": [{"number": ONE, "api_key_env": "K", "db": url}]}, env, tmp_path / "c.toml")
    chosen = own.select(ONE)
    assert chosen.store_location() == url
    shared = settings_from(
        {
            "db": url,
            "accounts": [{"number": ONE, "api_key_env": "K"}, {"number": TWO, "api_key_env": "K", "db": "f.db"}],
        },
        env,
        tmp_path / "c.toml",
    )
    assert shared.select(ONE).store_location() == url  # the config's server database, shared
    assert shared.select(TWO).store_location() == Path("f.db")  # its own file wins

    from tests.servers import fresh_database

    dsn = fresh_database("accounts")
    cli = cli_in(tmp_path, KEY_ONE=KEY_ONE)
    cli.ok("accounts", "add", ONE, "--key-env", "KEY_ONE", "--db", dsn)
    assert f'db = "{dsn}"' in (tmp_path / "config.toml").read_text()  # the URL as given, not a path
    password = dsn.split("@")[0].rsplit(":", 1)[1]
    rows = json.loads(cli.ok("accounts", "list", "--json"))
    assert rows[1]["store"].startswith("postgresql://")
    assert password not in rows[1]["store"]
    assert rows[1]["rows"] == 0  # opened in the database, not as a file
    assert password not in cli.ok("accounts", "list")
    line = error_of(cli, "accounts", "remove", ONE, "--purge", "--yes")
    assert "--purge deletes only SQLite files" in line
    assert password not in line
    assert f"Removed {ONE}" in cli.ok("accounts", "remove", ONE)
