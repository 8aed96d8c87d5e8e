"""migrations.applied() and pending(): what a file has recorded and what this build would run on it, read
without writing to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from octoscope.store import migrations, open_store
from octoscope.store.errors import StoreError


def test_a_new_file_has_everything_pending(tmp_path: Path) -> None:
    db = tmp_path / "octoscope.db"
    assert migrations.applied(db) == []
    assert migrations.pending(db) == [(i, name) for i, (name, _) in enumerate(migrations.MIGRATIONS, start=1)]
    assert not db.exists()  # asking wrote nothing


def test_an_opened_store_has_everything_applied(tmp_path: Path) -> None:
    db = tmp_path / "octoscope.db"
    open_store(db).close()
    assert [name for _, name in migrations.applied(db)] == [name for name, _ in migrations.MIGRATIONS]
    assert migrations.pending(db) == []


def test_an_older_file_has_the_rest_pending(tmp_path: Path) -> None:
    db = tmp_path / "octoscope.db"
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version > 4")
    assert [v for v, _ in migrations.applied(db)] == [1, 2, 3, 4]
    assert [v for v, _ in migrations.pending(db)] == list(range(5, len(migrations.MIGRATIONS) + 1))


def test_another_applications_file_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    with pytest.raises(StoreError, match="another application"):
        migrations.pending(db)
