"""`octoscope service install|uninstall`: the unit it writes passes `systemd-analyze verify` (Debian's systemd),
and every refusal is one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from octoscope.cli.service_unit import ServiceSpec, UnitError, quote, render
from tests.conftest import machine_env

KEY = "sk_live_doNotShowThisKey42"


def needs_systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing: CI installs Debian's systemd package (Makefile APT_PACKAGES)")
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return tool


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A user with a config file (key and account) and a database, as after `init` and `sync`."""
    (tmp_path / "config").mkdir()
    (tmp_path / "data").mkdir()
    db = tmp_path / "data" / "octoscope.db"
    db.write_bytes(b"")
    config = tmp_path / "config" / "config.toml"
    config.write_text(f'api_key = "{KEY}"\naccount = "A-DE30DE30"\ndb = "{db}"\n')
    config.chmod(0o600)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    return tmp_path


def run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "octoscope", *args],
        env={
            **machine_env(),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "xdg-config"),
            "XDG_DATA_HOME": str(home / "xdg-data"),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "OCTOSCOPE_CONFIG": str(home / "config" / "config.toml"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def verify(tool: str, unit: Path, home: Path, *, user: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, *(["--user"] if user else []), "verify", str(unit)],
        env={**machine_env(), "HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_system_unit_passes_systemd_analyze_verify_with_no_warning(home: Path) -> None:
    tool = needs_systemd_analyze()
    done = run(home, "service", "install", "--unit-dir", str(home / "units"))
    assert done.returncode == 0, done.stderr
    unit = home / "units" / "octoscope.service"
    assert done.stdout.splitlines() == [
        f"Wrote {unit}",
        "Enable and start it:  systemctl daemon-reload && systemctl enable --now octoscope",
        "Then:  systemctl status octoscope;  journalctl -u octoscope",
    ]
    text = unit.read_text()
    for line in (
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        f'Environment="OCTOSCOPE_CONFIG={home}/config/config.toml"',
        f'Environment="OCTOSCOPE_DB={home}/data/octoscope.db"',
        f"ReadWritePaths={home}/data",
        "WantedBy=multi-user.target",
    ):
        assert line in text.splitlines(), line
    assert KEY not in text, "unit files are world-readable: the key stays in the config file"
    checked = verify(tool, unit, home, user=False)
    assert (checked.returncode, checked.stderr, checked.stdout) == (0, "", "")


def test_the_user_unit_passes_systemd_analyze_verify_with_no_warning(home: Path) -> None:
    tool = needs_systemd_analyze()
    done = run(home, "service", "install", "--user", "--port", "8111")
    assert done.returncode == 0, done.stderr
    unit = home / "xdg-config" / "systemd" / "user" / "octoscope.service"
    assert f"Wrote {unit}" in done.stdout
    assert "loginctl enable-linger" in done.stdout
    text = unit.read_text()
    assert '"serve" "--host" "127.0.0.1" "--port" "8111"' in text
    assert "WantedBy=default.target" in text
    assert "User=" not in text
    checked = verify(tool, unit, home, user=True)
    assert (checked.returncode, checked.stderr, checked.stdout) == (0, "", "")


def test_verify_does_report_a_unit_it_finds_wrong(home: Path) -> None:
    """The two tests above count on systemd-analyze saying something about a bad unit (it exits 0 anyway)."""
    tool = needs_systemd_analyze()
    assert run(home, "service", "install", "--unit-dir", str(home / "units")).returncode == 0
    unit = home / "units" / "octoscope.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    assert "restart specifier" in verify(tool, unit, home, user=False).stderr


@pytest.mark.parametrize(
    ("prepare", "args", "message"),
    [
        (lambda h: (h / "config" / "config.toml").unlink(), (), "no config file at {home}/config/config.toml: run"),
        (
            lambda h: (h / "config" / "config.toml").write_text('account = "A-DE30DE30"\n'),
            (),
            "no API key: run `octoscope init`",
        ),
        (lambda h: (h / "data" / "octoscope.db").unlink(), (), "no database at {home}/data/octoscope.db yet: run"),
        (lambda h: None, ("--host", "0.0.0.0"), "--host 0.0.0.0 opens the dashboard to the network: put"),  # noqa: S104
    ],
)
def test_install_refusals_are_one_line(home: Path, prepare: object, args: tuple[str, ...], message: str) -> None:
    prepare(home)  # type: ignore[operator]
    done = run(home, "service", "install", "--unit-dir", str(home / "units"), *args)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: " + message.format(home=home)), done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert not (home / "units").exists()


def test_install_does_not_replace_a_unit_without_force(home: Path) -> None:
    units = home / "units"
    assert run(home, "service", "install", "--unit-dir", str(units)).returncode == 0
    again = run(home, "service", "install", "--unit-dir", str(units), "--port", "9000")
    assert again.stderr == f"Error: {units}/octoscope.service already exists: add --force to replace it\n"
    assert run(home, "service", "install", "--unit-dir", str(units), "--port", "9000", "--force").returncode == 0
    assert '"--port" "9000"' in (units / "octoscope.service").read_text()


def test_uninstall_refuses_an_enabled_unit_then_removes_it(home: Path) -> None:
    units = home / "units"
    assert run(home, "service", "install", "--unit-dir", str(units)).returncode == 0
    wants = units / "multi-user.target.wants"
    wants.mkdir()
    (wants / "octoscope.service").symlink_to(units / "octoscope.service")
    refused = run(home, "service", "uninstall", "--unit-dir", str(units))
    assert refused.stderr == (
        "Error: octoscope.service is enabled: run `systemctl disable --now octoscope` first, then uninstall again\n"
    )
    (wants / "octoscope.service").unlink()
    done = run(home, "service", "uninstall", "--unit-dir", str(units))
    assert done.returncode == 0
    assert done.stdout == f"Removed {units}/octoscope.service; run `systemctl daemon-reload` to forget it\n"
    assert not (units / "octoscope.service").exists()
    gone = run(home, "service", "uninstall", "--unit-dir", str(units))
    assert gone.stderr == f"Error: no octoscope.service in {units}: nothing to uninstall (was it --user?)\n"


def test_uninstall_leaves_a_unit_it_did_not_write(home: Path) -> None:
    units = home / "units"
    units.mkdir()
    (units / "octoscope.service").write_text("[Service]\nExecStart=/bin/true\n")
    done = run(home, "service", "uninstall", "--unit-dir", str(units))
    assert done.returncode == 1
    assert "was not written by `octoscope service install`" in done.stderr
    assert (units / "octoscope.service").exists()


def test_paths_are_quoted_for_systemd() -> None:
    assert quote('/srv/my data/100%/"x"$y') == '"/srv/my data/100%%/\\"x\\"$$y"'
    with pytest.raises(UnitError):
        quote("/srv/a\nExecStartPre=/bin/evil")
    spec = ServiceSpec(("/opt/o s/bin/octoscope",), Path("/c/config.toml"), Path("/d d/o.db"), "127.0.0.1", 8000, None)
    assert 'ExecStart="/opt/o s/bin/octoscope" "serve"' in render(spec)
    with pytest.raises(UnitError):
        render(ServiceSpec(spec.command, spec.config, spec.db, spec.host, spec.port, "octo"))  # ReadWritePaths=
