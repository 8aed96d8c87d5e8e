"""Which half-hours Intelligent Octopus bills at the off-peak price, from the dispatch history."""

from __future__ import annotations

from datetime import UTC, datetime

from octoscope.domain.models import DispatchRecord
from octoscope.services.costing import smart_dispatch_half_hours


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def record(kind: str, start: str, end: str, charge_type: str | None = None) -> DispatchRecord:
    return DispatchRecord("ev", kind, z(start), z(end), charge_type, -3.5, None, None)


def test_completed_smart_half_hours_count_and_boosts_do_not() -> None:
    history = [
        record("planned", "2026-01-14T18:00:00Z", "2026-01-14T19:00:00Z", "SMART"),
        record("completed", "2026-01-14T18:00:00Z", "2026-01-14T18:30:00Z"),
        record("completed", "2026-01-14T18:30:00Z", "2026-01-14T19:00:00Z"),
        record("planned", "2026-01-14T19:00:00Z", "2026-01-14T19:20:00Z", "BOOST"),
        record("completed", "2026-01-14T19:00:00Z", "2026-01-14T19:30:00Z"),  # the boost, as completed
        record("planned", "2026-01-15T02:10:00Z", "2026-01-15T02:40:00Z", "SMART"),  # ahead: two half-hours
    ]
    assert smart_dispatch_half_hours(history) == {
        z("2026-01-14T18:00:00Z"),
        z("2026-01-14T18:30:00Z"),
        z("2026-01-15T02:00:00Z"),
        z("2026-01-15T02:30:00Z"),
    }
