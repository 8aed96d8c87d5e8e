"""Kept results (the tariff comparison's answer, kept across restarts): one per key, replaced whole, read back
as written, and still there when the store is opened again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from octoscope.store.ports import KeptResult, StoreProtocol
from tests.store.backends import Backend
from tests.store.test_sqlite import AT


def test_a_result_is_kept_per_key_and_replaced_whole(empty: StoreProtocol) -> None:
    assert empty.kept_result("compare:12") is None
    empty.keep_result("compare:12", "digest-1", '{"a": 1}', AT)
    empty.keep_result("compare:1", "digest-9", '{"b": "£"}', AT)
    assert empty.kept_result("compare:12") == KeptResult("digest-1", AT, '{"a": 1}')
    later = AT + timedelta(hours=2)
    empty.keep_result("compare:12", "digest-2", '{"a": 2}', later)
    assert empty.kept_result("compare:12") == KeptResult("digest-2", later, '{"a": 2}')
    assert empty.kept_result("compare:1") == KeptResult("digest-9", AT, '{"b": "£"}')


def test_a_kept_result_outlives_the_process(backend: Backend, tmp_path: Path) -> None:
    with backend.open_in(tmp_path) as first:
        first.keep_result("compare:12", "digest", "{}", AT)
    with backend.open_in(tmp_path) as again:
        kept = again.kept_result("compare:12")
    assert kept is not None
    assert kept.computed_at == AT
    assert kept.computed_at.utcoffset() == timedelta(0)


def test_results_are_read_together_by_the_start_of_their_key(empty: StoreProtocol) -> None:
    # Keys that share more or less of the prefix, or sort just past it, are not among them.
    for key in (
        "detected:estimate:s:1",
        "detected:estimate:s:12",
        "detected:estimate:s;",
        "detected:estimate:",
        "detected:estimate:t:1",
        "detected:sessions:s:1",
        "detected:estimate:s:\u00e9",
    ):
        empty.keep_result(key, f"in-{key}", f'"{key}"', AT)
    got = empty.kept_results("detected:estimate:s:")
    assert got == {
        k: KeptResult(f"in-{k}", AT, f'"{k}"')
        for k in ("detected:estimate:s:1", "detected:estimate:s:12", "detected:estimate:s:\u00e9")
    }
    assert empty.kept_results("nothing:") == {}
    assert empty.kept_results("DETECTED:") == {}  # a key is compared as written
