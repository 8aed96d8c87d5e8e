"""``backend`` runs each conformance test once per backend in tests/store/backends.py; ``store`` is a fresh
one, on real files in the test's folder, holding the fixture account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from octoscope.store.ports import StoreProtocol
from tests.store.backends import BACKENDS, Backend
from tests.store.test_sqlite import AGILE_INFO, AT, enriched_account


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    chosen: Backend = request.param
    return chosen


@pytest.fixture
def empty(backend: Backend, tmp_path: Path) -> Iterator[StoreProtocol]:
    with backend.open_in(tmp_path) as opened:
        yield opened


@pytest.fixture
def store(empty: StoreProtocol) -> StoreProtocol:
    empty.save_account(enriched_account(), [AGILE_INFO], AT)
    return empty
