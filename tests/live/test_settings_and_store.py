"""The ``[live]`` settings, and the store's recording of telemetry with its retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from octoscope.config import ConfigError, LiveSettings, load_settings
from octoscope.domain.models import TelemetryReading
from octoscope.store.sqlite import Store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def settings_from_text(tmp_path: Path, text: str) -> LiveSettings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(env={}, config_path=path).live


def test_live_defaults(tmp_path: Path) -> None:
    assert settings_from_text(tmp_path, "") == LiveSettings(60, False, 30, 120.0)


def test_the_live_section_is_read(tmp_path: Path) -> None:
    text = "[live]\nrecord = true\nretention_days = 7\ncalls_per_hour = 30\ngrace_seconds = 10\n"
    assert settings_from_text(tmp_path, text) == LiveSettings(30, True, 7, 10.0)


@pytest.mark.parametrize(("value", "seconds"), [('"auto"', None), ("0", 0.0), ("45", 45.0), ("130.5", 130.5)])
def test_the_play_out_delay_is_auto_or_seconds(tmp_path: Path, value: str, seconds: float | None) -> None:
    assert settings_from_text(tmp_path, f"[live]\nplayout = {value}\n").playout == seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[live]\nrecord = 1\n", "[live] record must be true or false"),
        ("[live]\nplayout = -1\n", '[live] playout must be "auto" or seconds from 0 to 900'),
        ('[live]\nplayout = "soon"\n', '[live] playout must be "auto" or seconds from 0 to 900'),
        ("[live]\nplayout = true\n", '[live] playout must be "auto" or seconds from 0 to 900'),
        ("[live]\ncalls_per_hour = 0\n", "[live] calls_per_hour must be 1 to 360"),
        ("[live]\ncalls_per_hour = 1000\n", "[live] calls_per_hour must be 1 to 360"),
        ("[live]\ncalls_per_hour = 1.5\n", "[live] calls_per_hour must be a whole number"),
        ("[live]\nretention_days = 0\n", "[live] retention_days must be 1 or more"),
        ("[live]\ngrace_seconds = -1\n", "[live] grace_seconds must be a number of 0 or more"),
        ("[live]\nrecrod = true\n", "[live] has an unknown setting 'recrod'"),
        ("live = 3\n", "[live] must be a table"),
    ],
)
def test_bad_live_settings_are_one_line_naming_the_setting(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_text(tmp_path, text)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def rows(start: datetime, count: int) -> list[TelemetryReading]:
    return [
        TelemetryReading(start + timedelta(seconds=10 * i), 1_000_000.0 + i, 1.0, 360.0 + i, 0.0) for i in range(count)
    ]


def test_recorded_telemetry_is_upserted_read_back_and_pruned(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        device = "00-00-00-FF-FE-00-01-01"
        assert store.last_telemetry(device) is None
        store.write_telemetry(device, rows(T0 - timedelta(days=40), 3))
        store.write_telemetry(device, rows(T0, 6))
        store.write_telemetry(device, [rows(T0, 1)[0]._replace(demand_w=999.0)])  # a re-read overwrites
        got = store.telemetry(device, T0, T0 + timedelta(minutes=1))
        assert [r.read_at for r in got] == [r.read_at for r in rows(T0, 6)]
        assert got[0].demand_w == 999.0
        assert got[1] == rows(T0, 6)[1]
        assert store.last_telemetry(device) == T0 + timedelta(seconds=50)
        assert store.prune_telemetry(T0 - timedelta(days=30)) == 3
        assert len(store.telemetry(device, T0 - timedelta(days=50), T0 + timedelta(days=1))) == 6
