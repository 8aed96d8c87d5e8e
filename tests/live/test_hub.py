"""The fan-out hub: every reading to every subscriber once and in order; resuming from Last-Event-ID; a
subscriber that stops reading is closed, not allowed to hold the others back or grow without bound."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from octoscope.domain.live import LiveReading
from octoscope.live.hub import Hub, Subscription

T0 = datetime(2026, 10, 25, 0, 59, 0, tzinfo=UTC)  # 01:59 BST, a minute before the clock goes back


def readings(first: int, count: int) -> list[LiveReading]:
    return [LiveReading(T0 + timedelta(seconds=10 * (first + i)), 400.0 + i, 0.001) for i in range(count)]


def events(frames: list[bytes]) -> list[tuple[str, str | None, dict[str, object] | None]]:
    """(event, id, data) of each frame; a frame of only ``retry:`` is (retry, None, None)."""
    out = []
    for item in frames:
        fields = dict(line.split(": ", 1) for line in item.decode().strip().split("\n"))
        name = fields.get("event", "retry")
        out.append((name, fields.get("id"), orjson.loads(fields["data"]) if "data" in fields else None))
    return out


def take(sub: Subscription) -> list[tuple[str, str | None, dict[str, object] | None]]:
    return events(asyncio.run(sub.next(0.01)))


def ids(sub: Subscription) -> list[int]:
    return [int(i) for name, i, _ in take(sub) if name == "reading" and i is not None]


def test_every_subscriber_gets_every_reading_once_in_order() -> None:
    hub = Hub()
    subs = [hub.subscribe() for _ in range(3)]
    batch = readings(0, 12)
    hub.publish(batch[:6])
    hub.publish(batch[4:])  # an overlapping answer: the two already sent are not sent again
    for sub in subs:
        assert ids(sub) == [r.id for r in batch]


def test_a_reading_crosses_the_clock_change_with_its_local_offset() -> None:
    hub = Hub()
    sub = hub.subscribe()
    hub.publish(readings(0, 12))  # 01:59:00 BST .. 01:00:50 GMT
    times = [data["time"] for name, _, data in take(sub) if name == "reading" and data]
    assert times[5] == "2026-10-25T01:59:50+01:00"
    assert times[6] == "2026-10-25T01:00:00+00:00"  # the same wall clock again, an hour later


def test_a_new_subscriber_gets_the_retry_hint_the_status_and_the_newest_reading() -> None:
    hub = Hub()
    hub.publish(readings(0, 3))
    hub.set_status({"state": "ok", "message": "fine", "next_poll_at": None}, announce=True)
    got = take(hub.subscribe())
    assert [name for name, _, _ in got] == ["retry", "status", "reading"]
    assert got[1][2] == {"state": "ok", "message": "fine", "next_poll_at": None}
    assert got[2][1] == str(readings(2, 1)[0].id)


def test_reconnecting_with_last_event_id_gets_what_was_missed_and_nothing_twice() -> None:
    hub = Hub()
    batch = readings(0, 20)
    hub.publish(batch[:8])
    sub = hub.subscribe(last_event_id=batch[4].id)
    assert ids(sub) == [r.id for r in batch[5:8]]
    hub.publish(batch[8:])
    assert ids(sub) == [r.id for r in batch[8:]]


def test_a_subscriber_ahead_of_the_hub_is_not_sent_what_it_has() -> None:
    # The server restarted: the hub is empty and refills from before the client's last reading.
    hub = Hub()
    batch = readings(0, 10)
    sub = hub.subscribe(last_event_id=batch[6].id)
    hub.publish(batch)
    assert ids(sub) == [r.id for r in batch[7:]]


def test_a_gap_beyond_the_ring_is_told() -> None:
    hub = Hub(keep=5)
    batch = readings(0, 20)
    hub.publish(batch)
    got = take(hub.subscribe(last_event_id=batch[2].id))
    notes = [data for name, _, data in got if name == "status" and data and "no longer held" in str(data["message"])]
    assert len(notes) == 1
    assert [int(i) for name, i, _ in got if name == "reading" and i] == [r.id for r in batch[15:]]


def test_history_is_kept_but_not_sent() -> None:
    hub = Hub()
    sub = hub.subscribe()
    take(sub)
    hub.remember(readings(0, 5))
    hub.publish(readings(5, 1))
    assert ids(sub) == [readings(5, 1)[0].id]
    assert [r.id for r in hub.readings()] == [r.id for r in readings(0, 6)]


def test_a_subscriber_that_stops_reading_is_closed_and_the_others_carry_on() -> None:
    hub = Hub(behind=20)
    reader, stalled = hub.subscribe(), hub.subscribe()
    take(reader)
    received: list[int] = []
    for start in range(0, 60, 6):  # ten polls of six readings; the stalled one never reads
        hub.publish(readings(start, 6))
        received += ids(reader)
    assert received == [r.id for r in readings(0, 60)]
    assert stalled.closed
    assert hub.subscribers == 1
    assert hub.dropped == 1
    last = take(stalled)
    assert [name for name, _, _ in last] == ["resync"]
    assert "Last-Event-ID" in str(last[0][2])


def test_a_status_change_reaches_subscribers_but_a_quiet_update_does_not() -> None:
    hub = Hub()
    sub = hub.subscribe()
    take(sub)
    hub.set_status({"state": "ok", "message": "a", "next_poll_at": "x"}, announce=False)
    assert take(sub) == []
    hub.set_status({"state": "rate_limited", "message": "b", "next_poll_at": "y"}, announce=True)
    assert take(sub) == [("status", None, {"state": "rate_limited", "message": "b", "next_poll_at": "y"})]
