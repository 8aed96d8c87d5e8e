"""The [influx] section and OCTOSCOPE_INFLUX_* variables: checked settings, one line naming the key when
wrong, and the password or token never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from octoscope.config import ConfigError, InfluxSettings, load_settings
from octoscope.domain.secret import Secret

SECRET = "s3cret-influx-value"


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> InfluxSettings | None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(env=env or {}, config_path=path).influx


def test_no_section_no_influx(tmp_path: Path) -> None:
    assert load(tmp_path, 'account = "A-0000FEED"\n') is None


def test_version_1_with_the_password_from_the_environment(tmp_path: Path) -> None:
    text = (
        '[influx]\nurl = "http://127.0.0.1:8086/"\ndatabase = "energy"\nretention_policy = "autogen"\nusername = "me"\n'
    )
    got = load(tmp_path, text, {"OCTOSCOPE_INFLUX_PASSWORD": SECRET})
    assert got == InfluxSettings(
        url="http://127.0.0.1:8086",
        version=1,
        database="energy",
        retention_policy="autogen",
        username="me",
        password=Secret(SECRET),
    )
    assert got is not None
    assert SECRET not in repr(got)
    assert got.tags == (("location", "Home"),)


def test_version_2_and_everything_from_the_environment(tmp_path: Path) -> None:
    env = {
        "OCTOSCOPE_INFLUX_URL": "https://eu-central-1-1.aws.cloud2.influxdata.com",
        "OCTOSCOPE_INFLUX_VERSION": "2",
        "OCTOSCOPE_INFLUX_ORG": "home",
        "OCTOSCOPE_INFLUX_BUCKET": "energy",
        "OCTOSCOPE_INFLUX_TOKEN": SECRET,
    }
    got = load(tmp_path, '[influx]\ntags = { location = "Flat 2", site = "london" }\nbatch_size = 2000\n', env)
    assert got is not None
    assert (got.version, got.org, got.bucket, got.token, got.batch_size) == (2, "home", "energy", Secret(SECRET), 2000)
    assert got.tags == (("location", "Flat 2"), ("site", "london"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[influx]\ndatabase = "energy"\n',
            '[influx] url is missing: write the server\'s address, like url = "http://127.0.0.1:8086"',
        ),
        (
            '[influx]\nurl = "influx:8086"\ndatabase = "e"\n',
            "[influx] url 'influx:8086' is not an http(s) URL, like http://127.0.0.1:8086",
        ),
        (
            '[influx]\nurl = "http://me:s3cret-influx-value@h:8086"\ndatabase = "e"\n',
            "[influx] url must not hold credentials: set username and OCTOSCOPE_INFLUX_PASSWORD, or the token",
        ),
        (
            '[influx]\nurl = "http://h:8086"\n',
            "[influx] database is missing: InfluxDB 1.x writes into a database (version = 1)",
        ),
        (
            '[influx]\nurl = "http://h:8086"\nversion = 3\n',
            "[influx] version must be 1 (InfluxDB 1.x: database, username, password) or 2 (org, bucket, token), not 3",
        ),
        ('[influx]\nurl = "http://h:8086"\nversion = "two"\n', "[influx] version must be a whole number, not 'two'"),
        (
            '[influx]\nurl = "http://h:8086"\nversion = 2\norg = "o"\nbucket = "b"\n',
            "[influx] token is missing: the version 2 write API needs org, bucket and token"
            " (in OCTOSCOPE_INFLUX_TOKEN)",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\ntoken = "s3cret-influx-value"\n',
            "[influx] token is for version = 2; InfluxDB 1.x takes database and username",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\npassword = "s3cret-influx-value"\n',
            "[influx] username and password go together: set both (the password in OCTOSCOPE_INFLUX_PASSWORD)",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\npassword = 12345\nusername = "me"\n',
            "[influx] password must be a non-empty string",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\nbucket_size = 3\n',
            "[influx] has an unknown setting 'bucket_size'; known: url, database, retention_policy, org, bucket,"
            " username, password, token, version, tags, batch_size, timeout_seconds, push_after_sync",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\nbatch_size = 0\n',
            "[influx] batch_size must be between 1 and 100000 points, not 0",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\npush_after_sync = "yes"\n',
            "[influx] push_after_sync must be true or false, not 'yes'",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\ntags = { tariff_code = "x" }\n',
            "[influx.tags] 'tariff_code' is a tag the export writes itself; choose another name",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\ntags = { "my tag" = "x" }\n',
            "[influx.tags] 'my tag' is not a tag name: letters, digits and _ only",
        ),
        (
            '[influx]\nurl = "http://h:8086"\ndatabase = "e"\ntags = { location = 3 }\n',
            "[influx.tags] location must be a non-empty string, not 3",
        ),
        ("influx = 3\n", "[influx] must be a table"),
    ],
)
def test_each_mistake_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value) == message
    assert SECRET not in str(caught.value)


def test_a_password_alone_in_the_environment_names_the_missing_username(tmp_path: Path) -> None:
    env = {
        "OCTOSCOPE_INFLUX_URL": "http://h:8086",
        "OCTOSCOPE_INFLUX_DATABASE": "e",
        "OCTOSCOPE_INFLUX_PASSWORD": SECRET,
    }
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "", env)
    assert "username and password go together" in str(caught.value)
    assert SECRET not in str(caught.value)
