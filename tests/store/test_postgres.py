"""The PostgreSQL backend beyond the conformance suite: a sync into it gives the costs a sync into SQLite gives,
status and every page work on it, accounts sharing one database never see each other's rows, the interval
tables land in month partitions, the copy primitives round-trip, and no error shows the password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from octoscope.clock import frozen
from octoscope.domain.models import Reading, TelemetryReading
from octoscope.simulator.threaded import serve_in_thread
from octoscope.store import StoreError, open_store
from octoscope.store.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from octoscope.store.ports import StoreProtocol
from octoscope.store.postgres import PostgresStore, applied, pending, redacted
from octoscope.web.app import create_app
from octoscope.web.pages import PAGES
from tests.conftest import DEMO_NOW, Cli, make_cli, simulator
from tests.servers import fresh_database, shared_postgres
from tests.store.test_sqlite import AGILE_INFO, AT, IMPORT, enriched_account

pytestmark = pytest.mark.postgres

HALF_HOUR = timedelta(minutes=30)
ACCOUNT = "A-0000FEED"


@pytest.fixture(scope="module")
def synced_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path_factory.mktemp("pg-e2e"), backend="postgres")
        cli.ok("sync", "--to", "2026-11-22")
        yield cli


@pytest.fixture
def dsn() -> str:
    return fresh_database()


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2026-10-01", "--to", "2026-11-01", "--by", "day"),
        ("--from", "2025-12-01", "--to", "2026-11-01", "--by", "month"),
    ],
    ids=["october-by-day", "a-year-by-month"],
)
def test_costs_on_postgresql_equal_costs_on_sqlite(synced_pg: Cli, synced_demo: Cli, args: tuple[str, ...]) -> None:
    on_pg = json.loads(synced_pg.ok("costs", "--json", *args))
    on_sqlite = json.loads(synced_demo.ok("costs", "--json", *args))
    assert on_pg == on_sqlite
    assert on_pg  # not two empty answers


def test_status_works_and_never_shows_the_password(synced_pg: Cli) -> None:
    password = shared_postgres().password
    out = synced_pg.ok("status", "--json")
    assert password not in out
    shown = json.loads(out)
    assert json.dumps(shown).count("postgresql://octoscope@") >= 1  # the database, without its password
    text = synced_pg.ok("status")
    assert password not in text


def test_every_page_and_api_route_answers_on_postgresql(synced_pg: Cli) -> None:
    app = create_app(synced_pg.settings(), clock=frozen(DEMO_NOW))
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        for _, href, _ in PAGES:
            page = client.get(href)
            assert page.status_code == 200, href
        spec = client.get("/openapi.json").json()
        asked = 0
        for path, methods in spec["paths"].items():
            if "get" not in methods or "{" in path or path.endswith("/stream"):
                continue
            answer = client.get(path)
            asked += 1
            assert answer.status_code < 500, (path, answer.text[:300])
        assert asked > 10
        assert client.get("/api/overview").status_code == 200


def test_a_sync_run_twice_changes_nothing_and_is_recorded(synced_pg: Cli) -> None:
    url = synced_pg.db_url
    assert url is not None
    with psycopg.connect(url) as conn:
        before = conn.execute("SELECT COUNT(*) FROM consumption").fetchone()
        synced_pg.ok("sync", "--to", "2026-11-22")
        after = conn.execute("SELECT COUNT(*) FROM consumption").fetchone()
        runs = conn.execute("SELECT outcome FROM sync_runs ORDER BY id").fetchall()
    assert before == after
    assert before is not None
    assert before[0] > 10_000
    assert [r[0] for r in runs] == ["ok", "ok"]


def test_consumption_lands_in_month_partitions(synced_pg: Cli) -> None:
    url = synced_pg.db_url
    assert url is not None
    with psycopg.connect(url) as conn:
        parts = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'consumption'::regclass ORDER BY c.relname"
            )
        ]
        in_default = conn.execute("SELECT COUNT(*) FROM consumption_default").fetchone()
        november = conn.execute("SELECT COUNT(*) FROM consumption_2026_11").fetchone()
    assert "consumption_2026_10" in parts
    assert "consumption_2026_11" in parts
    assert "consumption_default" in parts
    assert in_default == (0,)
    assert november is not None
    assert november[0] > 0


def _filled(dsn: str, account: str) -> PostgresStore:
    store = PostgresStore.open(dsn, account=account)
    number = store.account
    fixture = enriched_account()
    store.save_account(type(fixture)(number, fixture.properties, fixture.devices), [AGILE_INFO], AT)
    store.write_consumption(IMPORT, "99L0000001", "kWh", [Reading(AT + i * HALF_HOUR, 0.5) for i in range(4)])
    store.write_telemetry("dev-1", [TelemetryReading(AT, 1.0, 1.0, 100.0, None)])
    store.record_request("key", "rest", 1.0)
    return store


def test_two_accounts_in_one_database_see_only_their_own_rows(dsn: str) -> None:
    with _filled(dsn, "A-0000AAAA") as one, _filled(dsn, "A-0000BBBB") as other:
        one.write_consumption(IMPORT, "99L0000001", "kWh", [Reading(AT, 9.0)])
        assert other.readings(IMPORT, AT, AT + HALF_HOUR) == [(AT, 0.5, "kWh")]
        assert one.readings(IMPORT, AT, AT + HALF_HOUR) == [(AT, 9.0, "kWh")]
        assert other.load_account("A-0000AAAA") is None
        assert one.load_account("A-0000AAAA") is not None
        assert other.requests_since("key", "rest", 0) == [1.0]
        before = other.data_version()
        one.record_request("key", "rest", 2.0)
        assert other.data_version() == before  # another account's writes are not this one's change
        assert other.requests_since("key", "rest", 0) == [1.0]
        with pytest.raises(StoreError, match="holds account A-0000BBBB"):
            other.save_statements("A-0000AAAA", [], AT)


def test_the_copy_primitives_round_trip_between_databases(dsn: str) -> None:
    with _filled(dsn, "A-0000AAAA") as source, PostgresStore.open(fresh_database(), account="A-0000AAAA") as target:
        for table in source.copy_tables():
            columns, rows = source.read_table(table)
            assert "account" not in columns
            target.write_table(table, columns, rows)
        for table in source.copy_tables():
            assert list(target.read_table(table)[1]) == list(source.read_table(table)[1]), table
        assert target.readings(IMPORT, AT, AT + 4 * HALF_HOUR) == source.readings(IMPORT, AT, AT + 4 * HALF_HOUR)


def test_an_account_is_required_in_one_line(dsn: str) -> None:
    with pytest.raises(StoreError, match="OCTOSCOPE_ACCOUNT") as caught:
        open_store(dsn)
    assert "\n" not in str(caught.value)


def test_a_wrong_password_is_one_line_without_it(dsn: str) -> None:
    wrong = dsn.replace(shared_postgres().password, "not-the-password-1234")
    with pytest.raises(StoreError) as caught:
        open_store(wrong, account=ACCOUNT)
    message = str(caught.value)
    assert "\n" not in message
    assert "not-the-password-1234" not in message
    assert shared_postgres().password not in message
    assert "password authentication failed" in message


def test_a_wrong_password_from_the_cli_is_one_line(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path, backend="postgres")
        cli.env["OCTOSCOPE_DB"] = cli.env["OCTOSCOPE_DB"].replace(shared_postgres().password, "wrong-secret-9876")
        done = cli.run("sync", "--to", "2026-11-22")
    assert done.returncode == 1
    assert "wrong-secret-9876" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_backup_on_postgresql_says_pg_dump(tmp_path: Path) -> None:
    with simulator() as sim:
        cli = make_cli(sim, tmp_path, backend="postgres")
        done = cli.run("backup", str(tmp_path / "b.db"))
    assert done.returncode == 1
    assert "pg_dump" in done.stderr
    assert "Traceback" not in done.stderr


def test_migrations_are_recorded_and_reported(dsn: str) -> None:
    assert applied(dsn) == []
    everything = [(v, name) for v, (name, _) in enumerate(SQLITE_MIGRATIONS, start=1)]
    assert pending(dsn) == everything  # one for one with SQLite's: a version means the same tables on both
    with PostgresStore.open(dsn, account=ACCOUNT) as store:
        assert store.schema_version() == len(SQLITE_MIGRATIONS)
    assert applied(dsn) == everything
    assert pending(dsn) == []
    with PostgresStore.open(dsn, account=ACCOUNT):  # opening again migrates nothing
        assert applied(dsn) == everything


def test_a_newer_schema_is_refused(dsn: str) -> None:
    PostgresStore.open(dsn, account=ACCOUNT).close()
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)")
    with pytest.raises(StoreError, match="newer octoscope"):
        PostgresStore.open(dsn, account=ACCOUNT)


def test_a_migration_table_with_gaps_is_refused_as_on_sqlite(dsn: str) -> None:
    PostgresStore.open(dsn, account=ACCOUNT).close()
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 3")
    with pytest.raises(StoreError, match=r"with gaps: restore a backup") as refused:
        PostgresStore.open(dsn, account=ACCOUNT)
    assert shared_postgres().password not in str(refused.value)
    with pytest.raises(StoreError, match="with gaps"):
        pending(dsn)  # doctor's read-only look says the same


def test_a_killed_run_is_said_to_be_interrupted(dsn: str) -> None:
    store: StoreProtocol = PostgresStore.open(dsn, account=ACCOUNT)
    store.start_run(AT)
    with PostgresStore.open(dsn, account=ACCOUNT) as again:  # the run's lock is held: it is running
        assert again.last_run() == (AT, None, "running")
    store.close()  # the process's connection goes, as when it is killed
    with PostgresStore.open(dsn, account=ACCOUNT) as later:
        assert later.last_run() == (AT, None, "interrupted")


def test_the_location_never_holds_the_password() -> None:
    assert redacted("postgresql://me:s3cret@db.example:5432/octo?sslmode=require&password=x") == (
        "postgresql://me@db.example:5432/octo?sslmode=require"
    )
    assert redacted("host=db user=me password=s3cret dbname=octo") == "host=db user=me dbname=octo"


def test_telemetry_partitions_follow_utc_months(dsn: str) -> None:
    newyear = datetime(2026, 12, 31, 23, 59, 50, tzinfo=UTC)
    with PostgresStore.open(dsn, account=ACCOUNT) as store:
        rows = [TelemetryReading(newyear + timedelta(seconds=10 * i), 1.0, 1.0, 1.0, None) for i in range(3)]
        assert store.write_telemetry("dev", rows) == 3
        assert store.telemetry("dev", rows[0].read_at, rows[-1].read_at + timedelta(seconds=1)) == rows
    with psycopg.connect(dsn) as conn:
        december = conn.execute("SELECT COUNT(*) FROM telemetry_2026_12").fetchone()
        january = conn.execute("SELECT COUNT(*) FROM telemetry_2027_01").fetchone()
    assert (december, january) == ((1,), (2,))


@pytest.mark.parametrize(
    "args",
    [
        ("dispatches", "--json"),
        ("sessions", "--json", "--from", "2026-10-01", "--to", "2026-11-01"),
        ("export", "csv", "--from", "2026-10-24", "--to", "2026-10-27"),
        ("bills", "--offline", "--json"),
    ],
    ids=["dispatches", "sessions", "export-csv", "bills"],
)
def test_the_reading_commands_print_on_postgresql_what_they_print_on_sqlite(
    synced_pg: Cli, synced_demo: Cli, args: tuple[str, ...]
) -> None:
    assert synced_pg.ok(*args) == synced_demo.ok(*args)


def test_doctor_checks_the_server_database(synced_pg: Cli) -> None:
    done = synced_pg.run("doctor", "--json")
    assert shared_postgres().password not in done.stdout + done.stderr
    checks = {c["check"]: c for c in json.loads(done.stdout)}
    assert checks["database"]["status"] == "ok", checks["database"]
    assert f"schema {len(SQLITE_MIGRATIONS)} (current), PostgreSQL" in checks["database"]["message"]
    # The ledger and the last run are read from the server too, not skipped as if there were no database.
    assert checks["budget"]["status"] == "ok", checks["budget"]
    assert checks["budget"]["message"].endswith(" requests in the last hour")
    assert "rest 0 of" not in checks["budget"]["message"], "the sync is counted"
    assert checks["clock"]["status"] == "ok", checks["clock"]


def test_copying_the_ledger_twice_writes_nothing_twice(dsn: str) -> None:
    with _filled(dsn, "A-0000AAAA") as source, PostgresStore.open(dsn, account="A-0000CCCC") as other:
        for _ in range(2):
            columns, rows = source.read_table("request_budget")
            other.write_table("request_budget", columns, rows)
        assert other.requests_since("key", "rest", 0) == [1.0]


def test_serve_as_a_process_answers_every_page_on_postgresql(synced_pg: Cli) -> None:
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "octoscope", "serve", "--port", str(port)],
        env={**synced_pg.env, **synced_pg.clock_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                first = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.2)
        assert first.status_code == 200
        for _, href, _ in PAGES:
            assert httpx.get(f"http://127.0.0.1:{port}{href}", timeout=30).status_code == 200, href
        status = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=30)
        assert status.status_code == 200
        assert shared_postgres().password not in status.text
    finally:
        process.terminate()
        _, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    assert shared_postgres().password not in err
