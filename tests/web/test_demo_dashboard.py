"""`octoscope demo` (what `make demo` runs) ends by serving the dashboard on the demo data and printing its URL."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import machine_env


def test_the_demo_serves_the_dashboard_and_prints_its_address(tmp_path: Path) -> None:
    env = {**machine_env(), "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "octoscope", "demo", "--db", str(tmp_path / "demo.db")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "the demo stopped:\n" + "".join(lines)
            lines.append(line)
            if line.startswith("Dashboard:"):
                break
        match = re.search(r"Dashboard: (http://127\.0\.0\.1:\d+/)", lines[-1])
        assert match, "".join(lines)
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(match.group(1), timeout=30)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None
        assert page.status_code == 200
        assert "<title>Overview · octoscope</title>" in page.text
        overview = httpx.get(f"{match.group(1)}api/overview", timeout=60)
        assert overview.status_code == 200
        assert set(overview.json()["fuels"]) == {"electricity", "gas", "export"}
        # A second demo on the same database must not delete it under the first.
        second = subprocess.run(
            [sys.executable, "-m", "octoscope", "demo", "--db", str(tmp_path / "demo.db")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 1
        assert second.stderr.startswith(f"Error: another octoscope demo is using {tmp_path / 'demo.db'}")
        assert httpx.get(f"{match.group(1)}api/overview", timeout=60).json() == overview.json()
    finally:
        process.terminate()
        process.communicate(timeout=30)
