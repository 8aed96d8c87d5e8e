"""The package works outside the repository: `uv build` makes an sdist and, from it, a wheel; the wheel
installed by `uv tool install` into a fresh virtualenv in a temporary directory runs `octoscope demo`, whose
every page and asset answers 200, and holds every scenario and the Grafana dashboard."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from octoscope import __version__
from tests.conftest import DEMO_NOW

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.stem for p in (ROOT / "src/octoscope/simulator/scenarios").glob("*.toml"))


def uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    for python in ("python3", "python"):
        candidate = shutil.which(python)
        if (
            candidate
            and subprocess.run([candidate, "-m", "uv", "--version"], capture_output=True, check=False).returncode == 0
        ):
            return [candidate, "-m", "uv"]
    if os.environ.get("CI") == "true":
        pytest.fail("uv is missing: `make setup` installs it")
    pytest.skip("uv is not installed")


class Links(HTMLParser):
    """The same-site links and sources of a page: what a browser would fetch or a user could follow."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and value.startswith("/") and not value.startswith("//"):
                self.found.add(value)


def crawl(base: str) -> dict[str, int]:
    """Every page reachable from / and every asset they load, with its status."""
    seen: dict[str, int] = {}
    todo = ["/", "/openapi.json"]
    with httpx.Client(base_url=base, timeout=30) as client:
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            response = client.get(path)
            seen[path] = response.status_code
            if response.headers.get("content-type", "").startswith("text/html"):
                links = Links()
                links.feed(response.text)
                todo += sorted(links.found - set(seen))
    return seen


def test_the_wheel_installed_in_a_fresh_virtualenv_runs_the_demo(tmp_path: Path) -> None:
    tool = uv()
    cache = subprocess.run([*tool, "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    home = tmp_path / "home"
    home.mkdir()
    # The machine's own settings (proxies, certificates) stay; octoscope's are replaced.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OCTOSCOPE_", "XDG_"))}
    env |= {
        "HOME": str(home),  # never the real one; uv's cache is named so that the install downloads nothing new
        "UV_CACHE_DIR": cache,
        "UV_PYTHON_DOWNLOADS": "never",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "OCTOSCOPE_NOW": DEMO_NOW,  # the clock the demo runs at, where this build reads it
    }
    started = time.monotonic()
    dist = tmp_path / "dist"
    built = subprocess.run(
        [*tool, "build", "--out-dir", str(dist)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    wheels = list(dist.glob(f"octoscope-{__version__}-py3-none-any.whl"))
    assert len(wheels) == 1, sorted(p.name for p in dist.iterdir())
    assert (dist / f"octoscope-{__version__}.tar.gz").exists(), "uv build makes the sdist, and the wheel from it"

    # `uv tool install`, as a user would, into directories of the test's own; the dependencies held to the
    # versions of uv.lock.
    env |= {"UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin")}
    pins = tmp_path / "constraints.txt"
    for command, cwd in (
        ([*tool, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-o", str(pins)], ROOT),
        ([*tool, "tool", "install", "--quiet", "--python", sys.executable, "-c", str(pins), str(wheels[0])], tmp_path),
    ):
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{command}: {done.stderr}"
    installed = time.monotonic() - started
    venv = tmp_path / "tools" / "octoscope"
    octoscope = tmp_path / "bin" / "octoscope"
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import octoscope; print(octoscope.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(venv)), "the installed package, not the repository's"
    import fastapi

    pinned = subprocess.run(
        [str(venv / "bin/python"), "-c", "import fastapi; print(fastapi.__version__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert pinned.stdout.strip() == fastapi.__version__, "the versions of uv.lock"

    def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(word) for word in command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run(octoscope, "version").stdout == f"{__version__}\n"
    grafana = run(octoscope, "grafana-dashboard")
    assert grafana.returncode == 0, grafana.stderr
    assert json.loads(grafana.stdout)["panels"]
    every_scenario = (
        "from octoscope.simulator import create_app\n"
        f"for name in {SCENARIOS!r}: create_app(name, now={DEMO_NOW!r}, speed=0)\n"
        "print('ok')"
    )
    scenarios = run(venv / "bin/python", "-c", every_scenario)
    assert scenarios.stdout == "ok\n", scenarios.stderr

    demo = subprocess.Popen(
        [str(octoscope), "demo", "--db", str(tmp_path / "demo.db")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            dashboard = re.match(r"Dashboard: (http://127\.0\.0\.1:\d+)/", line)
            if dashboard:
                break
        assert dashboard, "".join(lines) + (demo.stderr.read() if demo.poll() is not None and demo.stderr else "")
        up_by = time.monotonic() + 30  # the line comes just before the server listens
        while True:
            try:
                httpx.get(dashboard.group(1), timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < up_by, "the demo's dashboard did not start listening"
                time.sleep(0.1)
        statuses = crawl(dashboard.group(1))
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.communicate()
    pages = {"/", "/usage", "/prices", "/costs", "/ev", "/live", "/status", "/docs", "/openapi.json"}
    assert pages <= set(statuses), sorted(statuses)
    assert any(p.startswith("/static/app.css") for p in statuses)
    assert any(p.startswith("/static/app.js") for p in statuses)
    assert "/vendor/plotly.min.js" in statuses
    assert {p: s for p, s in statuses.items() if s != 200} == {}
    print(f"wheel {wheels[0].stat().st_size} bytes; build and install {installed:.1f} s")
