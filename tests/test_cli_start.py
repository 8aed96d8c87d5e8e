"""Every command starts cheap: what a run imports, not how long it takes (a timed test would be a load test).

``octoscope version`` is the floor every command pays; it must not load pydantic (typer's option coercion),
rich (typer's help), httpx, asyncio or the store. And the shortcuts that keep it so (cli/values.py, cli/lazy.py)
must give what typer itself gives.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param, resolve_type_descriptor
from typer.models import OptionInfo

from octoscope.cli import app
from octoscope.cli.lazy import lazy_root
from octoscope.cli.values import _Plain

HEAVY = ("pydantic", "pydantic_core", "rich", "markdown_it", "pygments", "httpx", "asyncio", "sqlite3", "click")


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a run of ``octoscope ARGS`` imports, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "octoscope", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "octoscope.cli" in names, done.stderr[-2000:]
    return names


def heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in HEAVY)


def test_version_imports_nothing_heavy() -> None:
    assert heavy(imported("version")) == []


def test_the_root_options_are_coerced_without_pydantic() -> None:
    assert heavy(imported("--now", "2026-03-29T00:30:00Z", "--clock-speed", "0", "-v", "version")) == []


def test_a_command_that_reads_the_store_loads_no_octopus_client(tmp_path: Path) -> None:
    """``costs`` without a database yet: the command's own start, up to its one-line answer."""
    names = imported(
        "costs",
        env={"OCTOSCOPE_CONFIG": str(tmp_path / "none.toml"), "OCTOSCOPE_DB": str(tmp_path / "none.db")},
    )
    assert "octoscope.cli.costs" in names
    assert [n for n in heavy(names) if n.split(".")[0] != "sqlite3"] == []


def test_the_lazy_root_has_typer_s_commands_in_typer_s_order() -> None:
    eager = typer.main.get_command(app)
    lazy = lazy_root(app)
    assert list(lazy.commands) == list(eager.commands)  # type: ignore[attr-defined]
    assert [p.name for p in lazy.params] == [p.name for p in eager.params]
    for name, command in eager.commands.items():  # type: ignore[attr-defined]
        made = lazy.commands[name]  # type: ignore[attr-defined]
        assert [p.name for p in made.params] == [p.name for p in command.params], name
        assert made.help == command.help
    assert lazy.commands["version"] is lazy.commands["version"]  # type: ignore[attr-defined]


CASES: list[tuple[type, float | None, float | None, list[Any]]] = [
    (int, 1, 10, ["0", "1", "5", "10", "11", "-3", "007", " 5", "1_0", "+5", "abc", "", 5, 0, 99]),
    (int, None, None, ["0", "-0", "-12", "123456789012345678", "1234567890123456789012", "\u0663"]),
    (float, None, None, ["1.5", "0.5", "20", "-1.5", ".5", "5.", "1e3", "inf", "nan", "abc", 2, 2.5, "00.5"]),
    (str, None, None, ["x", "", "\u00e9"]),
    (Path, None, None, ["a/b", "./x", "a//b", "/", "", "-"]),
    (bool, None, None, [True, False]),
]


@pytest.mark.parametrize(("kind", "low", "high", "values"), CASES)
def test_plain_values_convert_as_typer_converts_them(
    kind: type, low: float | None, high: float | None, values: list[Any]
) -> None:
    info = OptionInfo(min=low, max=high)
    descriptor = resolve_type_descriptor(kind, info)
    param: Any = SimpleNamespace(type_descriptor=descriptor)
    typer_s, ours = build_runtime_param(descriptor), _Plain(info, kind)

    def outcome(coercion: Any, value: Any) -> tuple[Any, ...]:
        try:
            result = coercion._coerce_value(value, param=param, ctx=None)
        except BadParameter as err:
            return ("refused", err.message)
        return ("nan",) if isinstance(result, float) and math.isnan(result) else (type(result), result)

    for value in values:
        assert outcome(ours, value) == outcome(typer_s, value), (kind, value)
