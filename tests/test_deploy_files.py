"""The Dockerfile and deploy/compose.yaml agree with the package and with each other. No Docker engine runs
here, so these read the files; what they cannot show (an image builds and runs) the README says."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import machine_env

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", joined, re.MULTILINE)]


def test_the_image_keeps_config_and_database_in_its_volume() -> None:
    (volume,) = instructions("VOLUME")
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(instructions("ENV"))))
    assert Path(env["OCTOSCOPE_DB"]).parent == Path(volume)
    assert Path(env["OCTOSCOPE_CONFIG"]).parent == Path(volume)
    assert instructions("USER") == ["octoscope"], "not root"


def test_what_the_image_copies_exists_and_is_not_ignored() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for copy in instructions("COPY"):
        if copy.startswith("--from"):
            continue
        *sources, _ = shlex.split(copy)
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") not in ignored, source


def test_the_image_command_is_one_the_cli_takes(tmp_path: Path) -> None:
    """Without the token it must refuse to listen on every interface, which shows the options parse."""
    (command,) = instructions("CMD")
    argv = yaml.safe_load(command)
    assert argv[:2] == ["octoscope", "serve"]
    done = subprocess.run(
        [sys.executable, "-m", "octoscope", *argv[1:]],
        env={**machine_env(), "HOME": str(tmp_path), "OCTOSCOPE_CONFIG": str(tmp_path / "c.toml")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: listening on 0.0.0.0 opens your data to the network: give --token or set")


def test_compose_serves_this_machine_only_from_a_volume_and_needs_a_token() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    octoscope = compose["services"]["octoscope"]
    assert (ROOT / "deploy" / octoscope["build"] / "Dockerfile").exists()
    (volume,) = instructions("VOLUME")
    assert [v.split(":")[1] for v in octoscope["volumes"]] == [volume]
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port
    assert octoscope["environment"]["OCTOSCOPE_WEB_TOKEN"].startswith("${OCTOSCOPE_WEB_TOKEN:?")
    assert set(compose["services"]) == {"octoscope", "influxdb", "grafana"}
    assert compose["services"]["grafana"]["profiles"] == ["grafana"]
