"""The house rules of ARCHITECTURE.md that are about code, not behaviour: the import contracts `make lint`
runs (they must fail on a planted violation, not only pass), no module taking another package's private
names, and every package saying what it offers (``__all__``)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "octoscope"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts on a copy of the source (``tree`` holds pyproject.toml and
    src/octoscope), importing that copy rather than the installed package."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
def copy_of_the_source(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SRC, tmp_path / "src" / "octoscope", ignore=shutil.ignore_patterns("__pycache__", "static"))
    return tmp_path


def test_the_import_contracts_hold_on_the_source_as_it_is(copy_of_the_source: Path) -> None:
    result = _lint_imports(copy_of_the_source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("domain/costs.py", "import octoscope.store.sqlite", "clock and domain use nothing of ours but errors"),
        ("store/health.py", "import octoscope.octopus.errors", "octopus and store never use each other"),
        ("simulator/faults.py", "import octoscope.domain.uktime", "the simulator imports nothing of ours except clock"),
        (
            "web/bills.py",
            "import octoscope.sync.plan",
            "web, cli and outputs use services, not sync internals nor Octopus clients",
        ),
        ("cli/costs.py", "import octoscope.cli.prices", "cli command modules import the shell, never one another"),
    ],
)
def test_a_planted_violation_fails_naming_its_contract(
    copy_of_the_source: Path, module: str, planted: str, contract: str
) -> None:
    path = copy_of_the_source / "src" / "octoscope" / module
    path.write_text(path.read_text() + f"\n{planted}  # planted by the test\n")
    result = _lint_imports(copy_of_the_source)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout


def _package_of(path: Path) -> str:
    """The first-level package (or top-level module) a file belongs to: ``web``, ``clock``..."""
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def test_no_module_imports_another_packages_private_names() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module or not node.module.startswith("octoscope."):
                continue
            theirs = node.module.split(".")[1]
            if theirs == _package_of(path):
                continue
            found += [
                f"{path.relative_to(SRC)}:{node.lineno} {node.module}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    assert found == []


def test_every_package_says_what_it_offers() -> None:
    missing = []
    for init in sorted(SRC.rglob("__init__.py")):
        tree = ast.parse(init.read_text(), str(init))
        names = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        if "__all__" not in names:
            missing.append(str(init.relative_to(SRC)))
    assert missing == []
