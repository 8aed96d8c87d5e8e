"""The one clock: nothing in ``src/`` reads the time but ``clock.py``, and its clocks keep their word."""

from __future__ import annotations

import ast
import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from octoscope.clock import SYSTEM, ClockError, ManualClock, SetClock, frozen, make_clock, parse_instant

SRC = Path(__file__).parent.parent / "src" / "octoscope"

# Every way the standard library reads the time or waits for it.
READS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("time", "process_time"),
    ("time", "sleep"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("asyncio", "sleep"),
    ("loop", "time"),
}


def wall_clock_reads(path: Path, root: Path = SRC.parent) -> list[str]:
    """``module.function`` uses (called or passed as a default) and ``from time import ...`` in one file."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in READS:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "asyncio"):
            for alias in node.names:
                if (node.module, alias.name) in READS:
                    found.append(f"{path.relative_to(root)}:{node.lineno} from {node.module} import {alias.name}")
    return found


def test_only_the_clock_module_reads_the_time() -> None:
    files = sorted(p for p in SRC.rglob("*.py") if p != SRC / "clock.py")
    assert len(files) > 50
    found = [hit for path in files for hit in wall_clock_reads(path)]
    assert found == [], "read the time through octoscope.clock instead:\n" + "\n".join(found)


def test_the_guard_sees_each_kind_of_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import time, asyncio\nfrom datetime import date, datetime\nfrom time import monotonic\n"
        "def f(clock=time.time):\n    datetime.now(); date.today(); asyncio.sleep(1)\n"
    )
    hits = sorted(h.split(" ", 1)[1] for h in wall_clock_reads(sample, tmp_path))
    assert hits == sorted(["from time import monotonic", "time.time", "datetime.now", "date.today", "asyncio.sleep"])


def test_a_set_clock_moves_at_its_speed_and_a_frozen_one_does_not() -> None:
    start = parse_instant("2027-03-28T00:45:00Z")
    fast = SetClock(start, speed=3600.0)
    still = frozen("2027-03-28T00:45:00Z")
    SYSTEM.sleep_blocking(0.05)
    assert fast() - start >= 0.05 * 3600 * 0.9  # at least most of three minutes went by
    assert still() == start
    assert still.now() == datetime(2027, 3, 28, 0, 45, tzinfo=UTC)
    still.set(start + 60, speed=0)
    assert still() == start + 60


def test_a_fast_clock_sleeps_its_own_seconds() -> None:
    clock = SetClock(parse_instant("2028-02-29T12:00:00Z"), speed=1000.0)
    began = SYSTEM.monotonic()
    asyncio.run(clock.sleep(100))  # 100 s of its time: a tenth of a real second
    assert SYSTEM.monotonic() - began < 5


def test_a_manual_clock_wakes_its_sleepers_when_moved_past_them() -> None:
    clock = ManualClock(1_000.0)
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(30)
        woke.append(clock())

    def blocking() -> None:
        clock.sleep_blocking(60)
        woke.append(clock())

    thread = threading.Thread(target=blocking)
    thread.start()

    async def drive() -> None:
        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        clock.advance(29)
        await asyncio.sleep(0.01)
        assert not task.done()
        clock.advance(1)
        await asyncio.wait_for(task, 5)

    asyncio.run(drive())
    assert woke == [1_030.0]
    clock.set(1_060.0)
    thread.join(5)
    assert woke == [1_030.0, 1_060.0]
    assert clock.monotonic() == 1_060.0


@pytest.mark.parametrize(
    ("now", "speed", "message"),
    [
        ("yesterday", None, "write an ISO 8601 instant"),
        ("2027-03-28T00:45:00", None, "give its offset too"),
        ("1970-01-01T00:00:00Z", None, "between 2000 and 2100"),
        ("2027-03-28T00:45:00Z", "fast", "write a number"),
        ("2027-03-28T00:45:00Z", "-1", "write 0 (frozen)"),
        (None, "10", "needs an instant"),
    ],
)
def test_a_bad_clock_setting_is_one_line_saying_what_to_write(now: str | None, speed: str | None, message: str) -> None:
    with pytest.raises(ClockError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_clock(now, speed)


def test_the_process_clock_is_the_machines_unless_set() -> None:
    assert make_clock(None) is SYSTEM
    assert make_clock("", "1") is SYSTEM
    set_at = make_clock("2027-10-31T01:15:00+00:00", "0")
    assert set_at() == datetime(2027, 10, 31, 1, 15, tzinfo=UTC).timestamp()
