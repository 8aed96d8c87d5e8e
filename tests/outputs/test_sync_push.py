"""`octoscope sync` with an [influx] section pushes what is new once the sync is stored; when InfluxDB is
down the sync is kept, and the failure is one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from octoscope.simulator.threaded import free_port
from tests.conftest import make_cli, simulator
from tests.outputs.test_influx import counts
from tests.servers import ADMIN, Influx1


def test_sync_then_push(influx: Influx1, tmp_path: Path) -> None:
    influx.create_database("after_sync")
    config = tmp_path / "config.toml"
    section = (
        '[influx]\nurl = "{url}"\ndatabase = "after_sync"\nusername = "octoscope"\ntags = {{ location = "Flat" }}\n'
    )
    config.write_text(section.format(url=influx.url))
    env = {"OCTOSCOPE_INFLUX_PASSWORD": ADMIN[1]}
    with simulator() as sim:
        cli = make_cli(sim, tmp_path)
        done = cli.run("sync", "--to", "2026-11-22", env=env)
        assert done.returncode == 0, done.stderr
        assert f"points to InfluxDB at {influx.url} (database after_sync)" in done.stderr.splitlines()[-1]
        with sqlite3.connect(cli.db) as db:
            (stored,) = db.execute(
                "SELECT COUNT(*) FROM consumption WHERE series_id = (SELECT id FROM series WHERE name = ?)",
                ("electricity-import:1900000000101",),
            ).fetchone()
        assert counts(influx, "after_sync")["electricity_consumption"]["count_usage_kwh"] == stored
        tags = influx.series('SHOW TAG VALUES FROM "electricity_consumption" WITH KEY = "location"', "after_sync")
        assert tags[0]["values"] == [["location", "Flat"]]

        config.write_text(section.format(url=f"http://127.0.0.1:{free_port()}"))
        down = cli.run("sync", "--to", "2026-11-22", env=env)
        assert down.returncode == 1
        last = down.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: synced, but not written to InfluxDB: cannot reach InfluxDB at http://127.0.0.1:")
        assert ADMIN[1] not in down.stderr
        with sqlite3.connect(cli.db) as db:
            (outcome,) = db.execute("SELECT outcome FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
        assert outcome == "ok"
