"""The live API over real sockets against the simulator, its clock and ours moved together by the test, ten
seconds a step (an hour passes in seconds, every poll at the same instant run after run): one poller however
many viewers, every reading to every viewer once and in order, resuming with Last-Event-ID, tokens kept across
restarts, and every failure told to viewers who stay connected."""

from __future__ import annotations

import asyncio
import itertools
import socket
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.config import Settings
from octoscope.domain.models import IssuedToken, TelemetryReading
from octoscope.domain.secret import Secret
from octoscope.octopus.documents import AUTHENTICATE
from octoscope.octopus.policy import key_fingerprint
from octoscope.services.costing import live_day_rates
from octoscope.store.sqlite import Store
from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, DEMO_NOW, Cli, SimServer, simulator
from tests.live.support import (
    HOME_MINI,
    ManualClock,
    Scenario,
    Session,
    Viewer,
    contiguous,
    copy_synced,
    live_app,
    play,
    set_sim_clock,
    settings_for,
    telemetry_calls,
)

HOUR = 3600.0
START = datetime.fromisoformat(DEMO_NOW).timestamp()


def stalled_socket(base: str) -> socket.socket:
    """A client that asks for the stream and never reads a byte of it."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/live/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


async def an_hour_watched(sim: SimServer, base: str, clock: ManualClock, count: int) -> list[Viewer]:
    session = Session(sim, base, clock)
    viewers = [Viewer() for _ in range(count)]
    until = clock() + HOUR
    for viewer in viewers:
        session.watch(viewer, until=until)
    await session.viewers(count + 1)  # and the stalled one
    await session.advance(HOUR + 30)
    await asyncio.gather(*session.tasks)
    await session.close()
    return viewers


@pytest.mark.slow
def test_one_ten_and_a_hundred_viewers_cost_the_same_calls_and_each_gets_every_reading(
    synced_demo: Cli, tmp_path: Path
) -> None:
    counts: dict[int, list[float]] = {}
    for count in (1, 10, 100):
        with simulator() as sim:  # frozen: the test moves it
            clock = ManualClock(START)
            db = copy_synced(synced_demo.db, tmp_path / f"viewers-{count}.db")
            with live_app(settings_for(sim, db), clock) as base:
                stalled = stalled_socket(base)
                try:
                    viewers = asyncio.run(an_hour_watched(sim, base, clock, count))
                finally:
                    stalled.close()
            calls = [datetime.fromisoformat(e["sim_at"]).timestamp() for e in telemetry_calls(sim)]
        counts[count] = calls
        # Within the budget: never more than 60 in any rolling hour.
        assert max(sum(1 for t in calls if a <= t < a + HOUR) for a in calls) <= 60
        assert len(viewers) == count
        for viewer in viewers:
            assert contiguous(viewer.readings), "a reading was missed, repeated or out of order"
            assert viewer.readings[0] == START - START % 10 - 10  # the newest when it connected...
            assert viewer.readings[-1] >= START + HOUR - 70  # ...to the end of the hour, every 10 seconds
            assert set(viewer.states) <= {"starting", "ok"}
            assert viewer.states[-1] == "ok"
            assert not viewer.other  # no resync: nobody fell behind (the stalled client held no one back)
    in_hour = {count: [t for t in calls if t < START + HOUR] for count, calls in counts.items()}
    assert in_hour[1] == in_hour[10] == in_hour[100]  # the same calls, at the same instants
    assert len(in_hour[1]) == 60


# --- one session on a stepped clock per test -----------------------------------------------------------------


def run_session(sim: SimServer, settings: Settings, clock: ManualClock, scenario: Scenario) -> None:
    with live_app(settings, clock) as base:
        play(sim, base, clock, scenario)


@pytest.fixture
def synced_copy(synced_demo: Cli, tmp_path: Path) -> Path:
    return copy_synced(synced_demo.db, tmp_path / "live.db")


def test_a_viewer_back_with_last_event_id_gets_what_it_missed_even_after_the_poller_stopped(
    synced_copy: Path,
) -> None:
    first, again = Viewer(), Viewer()
    polled_while_away: list[int] = []

    async def scenario(s: Session) -> None:
        s.watch(first)
        await s.viewers(1)
        await s.advance(300)
        await s.leave()
        calls_before = len(telemetry_calls(s.sim))
        await s.advance(600)  # away ten minutes: the poller stops after the two-minute grace period
        assert (await s.status())["state"] == "idle"
        polled_while_away.append(len(telemetry_calls(s.sim)) - calls_before)
        s.watch(again, headers={"Last-Event-ID": str(first.readings[-1])})
        await s.viewers(1)
        await s.advance(120)

    with simulator() as sim:
        run_session(sim, settings_for(sim, synced_copy), ManualClock(START), scenario)
    assert polled_while_away[0] <= 2  # the grace period's polls, then none
    assert again.readings[0] == first.readings[-1] + 10
    assert contiguous(first.readings + again.readings)  # nothing missed, nothing twice
    assert again.readings[-1] >= START + 900


def test_three_restarts_within_an_hour_mint_one_token_and_a_viewer_misses_nothing(tmp_path: Path) -> None:
    viewer = Viewer()
    with simulator() as sim:
        db = tmp_path / "fresh.db"  # no token yet, nothing synced: the service finds the Home Mini itself
        clock = ManualClock(START)
        settings = settings_for(sim, db)
        for run in range(4):  # a start and three restarts, ten minutes each, two minutes down between

            async def scenario(s: Session, run: int = run) -> None:
                headers = {"Last-Event-ID": str(viewer.readings[-1])} if run else None
                s.watch(viewer, headers=headers)
                await s.viewers(1)
                await s.advance(600)

            run_session(sim, settings, clock, scenario)
            at = datetime.fromtimestamp(clock() + 120, UTC).isoformat()
            httpx.post(f"{sim.url}/_sim/clock", json={"now": at, "speed": 0}, timeout=10).raise_for_status()
            clock.advance(120)
        counts = sim.requests_log()["counts"]
    assert clock() - START < HOUR
    assert counts["graphql:obtainKrakenToken"] == 1  # kept in the database and reused: no new token
    assert contiguous(viewer.readings)  # the readings from while the server was down came after the restart
    assert viewer.readings[-1] >= START + 4 * 600 + 3 * 120 - 70


@pytest.mark.parametrize("kind", ["kt-gb-4042", "kt-ct-1199"])
def test_a_rate_limit_is_told_backed_off_from_and_no_reading_is_lost(synced_copy: Path, kind: str) -> None:
    viewer = Viewer()
    limited: list[dict[str, Any]] = []

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(180)
        fault = f"{kind}:1:route=graphql:smartMeterTelemetry:times=3"
        (await s.http.post(f"{s.sim.url}/_sim/faults", content=fault)).raise_for_status()
        await s.advance(120)
        limited.append(await s.status())
        await s.advance(900)

    with simulator() as sim:
        run_session(sim, settings_for(sim, synced_copy), ManualClock(START), scenario)
        calls = [datetime.fromisoformat(e["sim_at"]).timestamp() for e in telemetry_calls(sim)]
    status = limited[0]
    assert status["state"] == "rate_limited"
    assert "too many requests" in status["message"].lower()
    assert status["next_poll_at"] is not None
    assert viewer.states[-1] == "ok"
    assert "rate_limited" in viewer.states  # told, while connected
    assert contiguous(viewer.readings)  # the readings from the backoff came after it
    assert any(d["stale"] for d in viewer.data)  # and say they came late
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert max(gaps) >= 200  # backing off: about 60, 120, 240 s
    assert min(gaps) >= 50


@pytest.mark.parametrize("refresh_expired", [False, True])
def test_an_expired_token_is_renewed_and_viewers_see_nothing_wrong(synced_copy: Path, refresh_expired: bool) -> None:
    viewer = Viewer()
    with simulator() as sim:
        # A token kept from an earlier run, which our clock thinks good but Octopus says expired (KT-CT-1124);
        # eight days old, its refresh token has expired too (KT-CT-1134).
        ago = 8 * 86400 if refresh_expired else 5400
        set_sim_clock(sim, now=datetime.fromtimestamp(START - ago, UTC).isoformat())
        minted = httpx.post(
            f"{sim.url}/v1/graphql/",
            json={"query": AUTHENTICATE, "variables": {"input": {"APIKey": DEMO_KEY}}},
            timeout=10,
        ).json()["data"]["obtainKrakenToken"]
        set_sim_clock(sim, now=DEMO_NOW)
        with Store.open(synced_copy) as store:
            kept = IssuedToken(minted["token"], START + 3000, minted["refreshToken"], START + 86400)
            store.save_token(key_fingerprint(DEMO_KEY), kept)
        sim.reset_log()

        async def scenario(s: Session) -> None:
            s.watch(viewer)
            await s.viewers(1)
            await s.advance(400)

        run_session(sim, settings_for(sim, synced_copy), ManualClock(START), scenario)
        counts = sim.requests_log()["counts"]
    assert set(viewer.states) <= {"starting", "ok"}
    assert contiguous(viewer.readings)
    assert len(viewer.readings) >= 30
    assert counts["graphql:obtainKrakenToken"] == (2 if refresh_expired else 1)  # refresh; then the key
    with Store.open(synced_copy) as store:
        assert store.load_token(key_fingerprint(DEMO_KEY)).token != minted["token"]  # type: ignore[union-attr]


def test_a_silent_home_mini_is_stale_then_catches_up(synced_copy: Path) -> None:
    viewer = Viewer()
    silent: list[dict[str, Any]] = []

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(120)
        await s.advance(600, sim_follows=False)  # Octopus has nothing newer: empty answers
        silent.append(await s.status())
        at = datetime.fromtimestamp(s.clock(), UTC).isoformat()
        (await s.http.post(f"{s.sim.url}/_sim/clock", json={"now": at, "speed": 0})).raise_for_status()
        await s.advance(120)

    with simulator() as sim:
        run_session(sim, settings_for(sim, synced_copy), ManualClock(START), scenario)
    assert silent[0]["state"] == "stale"
    assert "no new reading since 09:02" in silent[0]["message"]
    assert "stale" in viewer.states
    assert viewer.states[-1] == "ok"
    assert contiguous(viewer.readings)
    assert viewer.readings[-1] >= START + 780
    late = [d for d in viewer.data if d["stale"]]
    assert len(late) >= 50  # the ten silent minutes, delivered late and marked so


def test_a_home_mini_that_disappears_is_told_and_found_again(synced_copy: Path) -> None:
    viewer = Viewer()
    gone: list[dict[str, Any]] = []

    async def scenario(s: Session) -> None:
        world = s.sim.app.state.world
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(120)
        ref = world.home_minis.pop(HOME_MINI)  # Octopus no longer knows it: KT-GB-4050
        await s.advance(120)
        gone.append(await s.status())
        gone.append((await s.http.get(f"{s.base}/api/live/dashboard")).json())
        world.home_minis[HOME_MINI] = ref
        await s.advance(1800)

    with simulator() as sim:
        run_session(sim, settings_for(sim, synced_copy), ManualClock(START), scenario)
    status, dashboard = gone
    assert status["state"] == "no_device"
    assert status["available"] is False
    assert "KT-GB-4050" in status["message"]
    assert dashboard["status"]["state"] == "no_device"
    assert dashboard["current"] is not None  # what was received is still shown
    assert "no_device" in viewer.states
    assert viewer.states[-1] == "ok"
    assert contiguous(viewer.readings)


def test_an_account_without_a_home_mini_is_told_and_nothing_breaks(tmp_path: Path) -> None:
    viewer = Viewer()
    answers: list[dict[str, Any]] = []

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(1200)
        answers.append(await s.status())
        answers.append((await s.http.get(f"{s.base}/api/live/dashboard")).json())
        answers.append((await s.http.get(f"{s.base}/api/live/telemetry", params={"minutes": 60})).json())
        assert not s.tasks[0].done()  # still connected

    with simulator("no_home_mini", now="2026-11-21T09:00:00Z") as sim:
        settings = settings_for(sim, tmp_path / "nomini.db", key="sk_live_octoscope_nomini_test", account="A-00000000")
        run_session(sim, settings, ManualClock(START), scenario)
        calls = telemetry_calls(sim)
    status, dashboard, telemetry = answers
    assert status["state"] == "no_device"
    assert status["available"] is False
    assert status["message"].startswith("no Home Mini on the account")
    assert dashboard["current"] is None
    assert dashboard["stats"] is None
    assert telemetry["count"] == 0
    assert viewer.readings == []
    assert "no_device" in viewer.states
    assert len(calls) <= 3  # backing off: ten minutes, then twenty


def test_plain_requests_cost_no_calls_and_agree_with_the_stream(synced_copy: Path) -> None:
    viewer = Viewer()
    got: dict[str, Any] = {}

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(900)
        before = len(telemetry_calls(s.sim))
        for _ in range(20):
            got["dashboard"] = (await s.http.get(f"{s.base}/api/live/dashboard", params={"minutes": 10})).json()
            got["minutes"] = (
                await s.http.get(f"{s.base}/api/live/telemetry", params={"minutes": 10, "grouping": "ONE_MINUTE"})
            ).json()
            got["tens"] = (await s.http.get(f"{s.base}/api/live/telemetry", params={"minutes": 10})).json()
            got["current"] = (await s.http.get(f"{s.base}/api/live/current")).json()
        got["calls"] = len(telemetry_calls(s.sim)) - before

    with simulator() as sim:
        run_session(sim, settings_for(sim, synced_copy), ManualClock(START), scenario)
    assert got["calls"] == 0
    tens, minutes, dashboard = got["tens"], got["minutes"], got["dashboard"]
    assert tens["count"] >= 54  # ten minutes to now, the last poll a minute ago at most
    assert minutes["count"] == len({r["time"][:16] for r in tens["readings"]})
    assert sum(r["kwh"] for r in minutes["readings"]) == pytest.approx(sum(r["kwh"] for r in tens["readings"]))
    assert [r["time"] for r in tens["readings"]][-1] == dashboard["current"]["time"]
    assert dashboard["current"]["time"] == got["current"]["reading"]["time"]
    assert dashboard["recent"] == tens["readings"]
    assert viewer.data[-len(tens["readings"]) :] == tens["readings"]  # the stream said the same
    stats = dashboard["stats"]
    assert stats["consumption_kwh"] == pytest.approx(sum(r["kwh"] for r in tens["readings"]), abs=1e-4)
    assert stats["demand_peak_kw"] == pytest.approx(max(r["demand_w"] for r in tens["readings"]) / 1000, abs=1e-3)
    assert stats["cost_pounds"] == pytest.approx(stats["cost_pence"] / 100, abs=1e-5)
    cost = dashboard["cost"]
    with Store.open(synced_copy) as store:
        rates = live_day_rates(store, settings_for_db(synced_copy), HOME_MINI, date(2026, 11, 21))
    assert rates is not None
    now = datetime.fromisoformat(dashboard["current"]["time"])
    assert cost["rate_pence_per_kwh"] == pytest.approx(rates.rate_at(now), abs=1e-4)
    assert cost["cost_per_hour_pence"] == pytest.approx(
        dashboard["current"]["demand_w"] / 1000 * cost["rate_pence_per_kwh"], rel=1e-3
    )
    assert cost["projected_day_pence"] > 0
    assert cost["projected_month_pence"] > 28 * cost["projected_day_pence"]
    assert all(
        r["pence"] == pytest.approx(r["kwh"] * rates.rate_at(datetime.fromisoformat(r["time"])), abs=1e-5)
        for r in tens["readings"]
    )


def settings_for_db(db: Path) -> Settings:
    return Settings(api_key=Secret(DEMO_KEY), account=DEMO_ACCOUNT, db=db, config_path=db.parent / "none.toml")


def test_the_stream_crosses_the_clock_change_and_today_has_25_hours(synced_copy: Path) -> None:
    viewer = Viewer()
    got: dict[str, Any] = {}
    start = datetime(2026, 10, 25, 0, 50, tzinfo=UTC).timestamp()  # 01:50 BST; at 01:00 UTC it is 01:00 GMT

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(1200)
        got["dashboard"] = (await s.http.get(f"{s.base}/api/live/dashboard", params={"minutes": 60})).json()

    with simulator(now="2026-10-25T00:50:00Z") as sim:
        run_session(sim, settings_for(sim, synced_copy), ManualClock(start), scenario)
    times = [d["time"] for d in viewer.data]
    assert contiguous(viewer.readings)
    assert "2026-10-25T01:59:50+01:00" in times
    assert times[times.index("2026-10-25T01:59:50+01:00") + 1] == "2026-10-25T01:00:00+00:00"
    dashboard = got["dashboard"]
    with Store.open(synced_copy) as store:
        rates = live_day_rates(store, settings_for_db(synced_copy), HOME_MINI, date(2026, 10, 25))
    assert rates is not None
    assert len(rates.rates) == 50
    recent = dashboard["recent"]
    average_kw = sum(r["demand_w"] for r in recent) / len(recent) / 1000
    expected = average_kw * sum(0.5 * rate for rate in rates.rates.values())
    assert dashboard["cost"]["projected_day_pence"] == pytest.approx(expected, rel=1e-3)


def test_recording_keeps_readings_while_nobody_watches_and_forgets_old_ones(synced_copy: Path) -> None:
    old = TelemetryReading(datetime.fromtimestamp(START - 40 * 86400, UTC), 1.0, 1.0, 360.0, 0.0)
    with Store.open(synced_copy) as store:
        store.write_telemetry(HOME_MINI, [old])

    async def scenario(s: Session) -> None:
        await s.advance(600)

    with simulator() as sim:
        settings = settings_for(sim, synced_copy, record=True, retention_days=30)
        run_session(sim, settings, ManualClock(START), scenario)
        calls = telemetry_calls(sim)
    with Store.open(synced_copy) as store:
        kept = store.telemetry(
            HOME_MINI, datetime.fromtimestamp(START - 50 * 86400, UTC), datetime.fromtimestamp(START + 3600, UTC)
        )
    assert 9 <= len(calls) <= 11  # one a minute, nobody watching
    assert old.read_at not in {r.read_at for r in kept}  # older than the retention: gone
    recent = [r for r in kept if r.read_at.timestamp() >= START]
    assert len(recent) >= 55
    assert kept[0].read_at.timestamp() <= START - 3000  # the hour before the start came with the first poll


@pytest.mark.parametrize(
    ("path", "params", "headers", "status", "words"),
    [
        ("/api/live/telemetry", {"minutes": "0"}, {}, 400, "minutes must be between 1 and 60"),
        ("/api/live/dashboard", {"minutes": "61"}, {}, 400, "minutes must be between 1 and 60"),
        ("/api/live/telemetry", {"grouping": "HOURLY"}, {}, 400, "grouping must be one of TEN_SECONDS"),
        ("/api/live/current", {"device": "11-22"}, {}, 404, "is not a smart meter on the account"),
        ("/api/live/stream", {}, {"Last-Event-ID": "yesterday"}, 400, "is not a reading id"),
    ],
)
def test_bad_requests_are_one_clear_line(
    synced_copy: Path, path: str, params: dict[str, str], headers: dict[str, str], status: int, words: str
) -> None:
    with simulator() as sim, live_app(settings_for(sim, synced_copy), ManualClock(START)) as base:
        answer = httpx.get(f"{base}{path}", params=params, headers=headers, timeout=10)
    assert answer.status_code == status
    assert words in answer.json()["detail"]
    assert "\n" not in answer.json()["detail"]


@pytest.mark.parametrize("synced", [True, False])
def test_a_wrong_key_is_a_token_error_that_names_the_setting(synced_copy: Path, tmp_path: Path, synced: bool) -> None:
    viewer = Viewer()
    wrong = "sk_live_not_the_right_key_0000"
    told: list[dict[str, Any]] = []

    async def scenario(s: Session) -> None:
        s.watch(viewer)
        await s.viewers(1)
        await s.advance(120)
        told.append(await s.status())

    with simulator() as sim:
        db = synced_copy if synced else tmp_path / "fresh.db"  # the device known, or to be found
        run_session(sim, settings_for(sim, db, key=wrong), ManualClock(START), scenario)
    status = told[0]
    assert status["state"] == "token_error"
    assert "OCTOSCOPE_API_KEY" in status["message"]
    assert status["next_poll_at"] is not None
    assert "token_error" in viewer.states
    assert wrong not in repr(told) + repr(viewer)


def test_other_work_on_a_tight_shared_budget_slows_live_polling(synced_copy: Path) -> None:
    told: list[dict[str, Any]] = []
    with Store.open(synced_copy) as store:
        for i in range(29):  # dispatches, a sync: twenty-nine GraphQL calls in the last hour
            store.record_request(key_fingerprint(DEMO_KEY), "graphql", START - 1800 + i)

    async def scenario(s: Session) -> None:
        s.watch(Viewer())
        await s.viewers(1)
        await s.advance(1230)
        told.append(await s.status())

    with simulator() as sim:
        run_session(sim, settings_for(sim, synced_copy, graphql_per_hour=60), ManualClock(START), scenario)
        calls = telemetry_calls(sim)
    status = told[0]
    # 60 an hour shared, 30 (with the token) used by other work: live gets what the hour still holds, 30 (its
    # share is 40, which other work leaves it from now on), one per 120 s.
    assert status["poll_interval_seconds"] == 120.0
    assert "the shared GraphQL budget (60 an hour, 30 used by other work" in status["pace_reason"]
    assert "30 calls an hour" in status["message"]
    assert len(calls) == 11  # at 0, 2, 4, ... and 20 minutes
