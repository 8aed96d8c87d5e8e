"""Notifications through Apprise's JSON target to a local HTTP receiver: each event once, across restarts
(each ``octoscope notify send`` is a process of its own), never more than ``max_per_hour``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from octoscope.clock import frozen
from octoscope.config import ConfigError, settings_from
from octoscope.store.sqlite import Store
from tests.conftest import Cli
from tests.outputs.conftest import copy_of, receiver


def test_each_event_is_sent_once_across_restarts_and_within_the_hourly_limit(synced_demo: Cli, tmp_path: Path) -> None:
    cli = copy_of(synced_demo, tmp_path / "home", keyless=True)
    with receiver() as (url, got):
        (cli.home / "config.toml").write_text(
            "[notify]\n"
            f'urls = ["{url}"]\n'
            'rules = ["price_below", "stale", "sync_failed", "dispatch_planned", "tomorrow_prices"]\n'
            "price_below_pence = 10\n"
            "stale_hours = 6\n"
            "max_per_hour = 1\n"
        )
        first = cli.ok("notify", "send")  # 09:00: yesterday's data is 9 hours old; 7.94p from 23:30
        second = cli.ok("notify", "send")  # a restart within the hour: the limit holds the other one back
        later = cli.run("notify", "send", env={"OCTOSCOPE_NOW": "2026-11-21T10:05:00Z"})
        again = cli.run("notify", "send", env={"OCTOSCOPE_NOW": "2026-11-21T10:06:00Z"})
        with Store.open(cli.db) as store:  # the next sync fails
            run = store.start_run(frozen("2026-11-21T11:00:00Z").now())
            store.finish_run(run, frozen("2026-11-21T11:02:00Z").now(), "failed", {"error": "HTTP 500"})
        failed = cli.run("notify", "send", env={"OCTOSCOPE_NOW": "2026-11-21T11:31:00Z"})
        once_more = cli.run("notify", "send", env={"OCTOSCOPE_NOW": "2026-11-21T12:40:00Z"})
    assert first.startswith("Sent 1, held back by the hourly limit 1, failed 0")
    assert second.startswith("Sent 0, held back by the hourly limit 1, failed 0")
    assert later.stdout.startswith("Sent 1, held back by the hourly limit 0"), later.stderr
    assert again.stdout.startswith("Sent 0, held back by the hourly limit 0")
    assert failed.stdout.startswith("Sent 1,"), failed.stderr
    assert "sync_failed:" in failed.stdout
    assert once_more.stdout.startswith("Sent 0, held back by the hourly limit 0")
    titles = [g["title"] for g in got]
    assert sorted(titles) == sorted(
        ["octoscope: no new data", "Electricity at or below 10p", "octoscope: a sync failed"]
    )
    assert all(g["path"] == "/hook" for g in got)
    below = next(g for g in got if g["title"].startswith("Electricity"))
    assert "Sat 23:30 to Sun 00:00: down to 7.94p/kWh (E-1R-INTELLI-VAR-24-10-29-J)" in below["message"]
    stale = next(g for g in got if g["title"] == "octoscope: no new data")
    assert stale["message"] == "No consumption newer than Sat 00:00 (9 hours ago)."


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"urls": []}, "[notify] urls must be a list of Apprise URLs"),
        ({"urls": ["not a url"]}, "[notify] urls[0] is not an Apprise URL"),
        ({"urls": ["json://h/x"], "rules": ["cheap"]}, "[notify] rules: 'cheap' is not a rule"),
        ({"urls": ["json://h/x"], "max_per_hour": 0}, "[notify] max_per_hour must be a number from 1 to 1000"),
        ({"urls": ["json://h/x"], "colour": 1}, "[notify] has an unknown setting 'colour'"),
        ({"urls": ["json://h/x"], "bill_difference_pence": -1}, "[notify] bill_difference_pence must be a whole"),
        ({"urls": ["json://h/x"], "bill_difference_pence": 2.5}, "[notify] bill_difference_pence must be a whole"),
        ({"urls": ["json://h/x"], "bill_difference_pence": True}, "[notify] bill_difference_pence must be a whole"),
        ({"urls": ["json://h/x"], "bill_difference_pence": "100"}, "[notify] bill_difference_pence must be a whole"),
    ],
)
def test_bad_notify_settings_are_one_line_errors(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from({"notify": section}, {}, Path("config.toml"))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("section", "env", "message"),
    [
        ({"port": 0}, {}, "[mqtt] port must be a number from 1 to 65535"),
        ({"host": "mqtt://x:1883"}, {}, "[mqtt] host 'mqtt://x:1883' must be a name or an address"),
        ({"password": "hunter2-secret"}, {}, "[mqtt] password is set without username"),
        ({"base_topic": "octo/scope"}, {}, "[mqtt] base_topic 'octo/scope': letters, digits, _ and - only"),
        ({"live": "yes"}, {}, "[mqtt] live must be true or false"),
        ({}, {"OCTOSCOPE_MQTT_PASSWORD": "hunter2-secret"}, "[mqtt] password is set without username"),
        ({"password": 5}, {}, "[mqtt] password must be a non-empty string"),
    ],
)
def test_bad_mqtt_settings_are_one_line_errors_without_the_password(
    section: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from({"mqtt": section}, env, Path("config.toml"))
    assert str(err.value).startswith(message)
    assert "hunter2" not in str(err.value)
    if message.endswith("non-empty string"):
        assert str(err.value) == message  # nothing of the value shown


def test_the_mqtt_password_is_a_secret_from_the_environment() -> None:
    settings = settings_from(
        {"mqtt": {"username": "ha"}}, {"OCTOSCOPE_MQTT_PASSWORD": "hunter2-secret"}, Path("config.toml")
    )
    assert settings.mqtt is not None
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.reveal() == "hunter2-secret"
    assert "hunter2" not in repr(settings)
    assert settings_from({}, {}, Path("config.toml")).mqtt is None


def test_a_url_token_never_reaches_the_log_even_at_debug(synced_demo: Cli, tmp_path: Path) -> None:
    cli = copy_of(synced_demo, tmp_path / "home", keyless=True)
    (cli.home / "config.toml").write_text(
        '[notify]\nurls = ["ntfy://tok-SECRET-456@127.0.0.1:9/topic", "json://u:pw-SECRET-123@127.0.0.1:9/x"]\n'
        'rules = ["stale"]\nstale_hours = 1\n'
    )
    done = cli.run("-vv", "notify", "send")
    assert done.returncode == 1  # nothing listens on port 9: not delivered, tried again next round
    assert done.stdout.startswith("Sent 0, held back by the hourly limit 0, failed 1")
    assert "notify: stale was not delivered" in done.stderr
    assert "SECRET" not in done.stderr + done.stdout
