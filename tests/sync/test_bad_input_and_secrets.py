"""Bad input gets one line and exit 1 with the data untouched; secrets appear nowhere they should not."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.conftest import DEMO_KEY, Cli, make_cli, serve, simulator, table_rows

TO = "2026-11-22"
DATA = ("request_budget", "sync_runs", "tokens")  # how runs went, not the data


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """A demo database after one back-fill; each test checks a bad run leaves it as it was."""
    with simulator() as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("synced"))
        cli.ok("sync", "--to", TO)
        yield cli


def one_line_error(cli: Cli, *args: str, env: dict[str, str] | None = None) -> str:
    before = table_rows(cli.db, skip=DATA) if cli.db.exists() else None
    done = cli.run(*args, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    if before is not None:
        assert table_rows(cli.db, skip=DATA) == before
    return lines[0]


def test_wrong_key(synced: Cli) -> None:
    line = one_line_error(synced, "sync", "--to", TO, env={"OCTOSCOPE_API_KEY": "sk_live_wrong_key_123"})
    assert "API key was refused" in line
    assert "OCTOSCOPE_API_KEY" in line
    assert "sk_live_wrong_key_123" not in line


def test_malformed_account_number_needs_no_request(synced: Cli) -> None:
    synced.sim.reset_log()
    line = one_line_error(synced, "sync", env={"OCTOSCOPE_ACCOUNT": "A-12"})
    assert "malformed" in line
    assert synced.sim.requests_log()["requests"] == []


def test_unknown_account_number(synced: Cli) -> None:
    line = one_line_error(synced, "sync", "--to", TO, env={"OCTOSCOPE_ACCOUNT": "A-0000BEEF"})
    assert "OCTOSCOPE_ACCOUNT" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--from", "2026-02-30"), "--from '2026-02-30' is not a date that exists"),
        (("--from", "yesterday-ish"), "write it as YYYY-MM-DD"),
        (("--to", "2026-13-01"), "--to '2026-13-01' is not a date that exists"),
        (("--from", "2026-11-10", "--to", "2026-11-01"), "is not before --to"),
        (("--from", "2026-11-01", "--to", "2026-11-01"), "is not before --to"),
    ],
)
def test_bad_dates(synced: Cli, args: tuple[str, ...], expected: str) -> None:
    synced.sim.reset_log()
    assert expected in one_line_error(synced, "sync", *args)
    assert synced.sim.requests_log()["requests"] == []


def test_bad_config_file(synced: Cli, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[budget]\nrest_per_hour = 'lots'\n")
    line = one_line_error(synced, "sync", env={"OCTOSCOPE_CONFIG": str(config)})
    assert "[budget] rest_per_hour must be a number" in line
    config.write_text("api_key = \n")
    assert "is not valid TOML" in one_line_error(synced, "sync", env={"OCTOSCOPE_CONFIG": str(config)})


def stub_octopus(handler: Response) -> Starlette:
    async def answer(request: Request) -> Response:
        return handler

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (HTMLResponse("<html><body>Welcome to our portal</body></html>"), "got an HTML page (HTTP 200) where JSON"),
        (JSONResponse({"number": "A-DE30DE30"}), "account.properties is missing"),
        (
            JSONResponse({"number": "A-DE30DE30", "properties": [{"id": 1, "electricity_meter_points": [{}]}]}),
            "account.properties[0].electricity_meter_points[0].mpan is missing",
        ),
    ],
)
def test_an_answer_we_cannot_use(synced: Cli, response: Response, expected: str) -> None:
    with serve(stub_octopus(response)) as stub:
        env = {"OCTOSCOPE_API_URL": f"{stub.url}/v1", "OCTOSCOPE_GRAPHQL_URL": f"{stub.url}/v1/graphql/"}
        assert expected in one_line_error(synced, "sync", "--to", TO, env=env)


def test_status_and_init_errors(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        assert "run `octoscope sync` first" in one_line_error(cli, "status")
        assert "no API key" in one_line_error(cli, "sync", env={"OCTOSCOPE_API_KEY": ""})
        line = one_line_error(cli, "init", "--api-key", "sk_live_nope", "--account", "A-DE30DE30")
        assert "OCTOSCOPE_API_KEY" in line
        assert "sk_live_nope" not in line
        assert not (tmp_path / "config.toml").exists()


def everything_written(cli: Cli) -> bytes:
    """The database, its WAL and every other file under the test's home, as bytes."""
    return b"".join(p.read_bytes() for p in sorted(cli.home.rglob("*")) if p.is_file())


def test_secrets_stay_where_they_must(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        env = {k: v for k, v in cli.env.items() if k != "OCTOSCOPE_API_KEY"}
        init = cli.run("-vv", "init", "--api-key", DEMO_KEY, env=env)
        assert init.returncode == 0, init.stderr
        outputs = [init.stdout + init.stderr]
        for args in (("-vv", "sync", "--to", TO, "--json"), ("-vv", "sync", "--to", TO), ("-vv", "status", "--json")):
            done = cli.run(*args)
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout + done.stderr)
        wrong = cli.run("-vv", "sync", env={"OCTOSCOPE_API_KEY": "sk_live_not_the_key"})
        outputs.append(wrong.stdout + wrong.stderr)
        with sqlite3.connect(cli.db) as db:
            token, refresh = db.execute("SELECT token, refresh_token FROM tokens").fetchone()
        assert "DEBUG" in outputs[1]  # the most verbose level really was on
    text = "\n".join(outputs)
    for secret in (DEMO_KEY, "sk_live_not_the_key", token, refresh):
        assert secret not in text
    config = cli.home / "config.toml"
    assert DEMO_KEY in config.read_text()  # the one place the key must be kept...
    assert config.stat().st_mode & 0o777 == 0o600  # ...readable by its owner only
    config.unlink()
    files = everything_written(cli)
    assert DEMO_KEY.encode() not in files  # not in the database, its WAL or anything else
    # The token is kept (so it is not minted at every start), and only in the database.
    assert token.encode() in cli.db.read_bytes() + Path(f"{cli.db}-wal").read_bytes()


def test_the_token_is_reused_not_minted_each_run(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync", "--to", TO, "--dry-run")
        cli.ok("init", "--account", "A-DE30DE30")
        fields = [f for e in sim.requests_log()["requests"] for f in e.get("fields", [])]
    assert fields.count("obtainKrakenToken") == 1
