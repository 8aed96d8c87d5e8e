"""The notification rules on plain facts (no store, no network): which events, with which keys, so that
"each once" means what it should: a cheap run keeps its key while it goes on, a changed plan is a new event,
tomorrow's prices only for a day-ahead tariff; on the clock-change days too; a statement's difference only
when closed, settled, over the threshold and not rounding."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from octoscope.config_outputs import NOTIFY_RULES, NotifySettings
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import UK
from octoscope.outputs.facts import Facts
from octoscope.outputs.notify import events

OPTIONS = NotifySettings(urls=(Secret("json://127.0.0.1/x"),), rules=NOTIFY_RULES, price_below_pence=0.0)


def half_hours(start: str, prices: list[float]) -> list[tuple[str, str, float]]:
    at = datetime.fromisoformat(start)
    out = []
    for price in prices:
        end = at + timedelta(minutes=30)
        out.append((at.astimezone(UK).isoformat(), end.astimezone(UK).isoformat(), price))
        at = end
    return out


def facts(now: str, prices: dict[str, Any] | None = None, dispatches: dict[str, Any] | None = None) -> Facts:
    return Facts(
        account="A-DE30DE30",
        now=datetime.fromisoformat(now),
        points=(),
        devices=(),
        prices=prices,
        energy={},
        dispatches=dispatches or {},
        health={"last_outcome": "ok", "data_age_hours": 2.0, "data_until": "2026-10-25T00:00:00+01:00"},
    )


def keys(found: Facts) -> list[str]:
    return [e.key for e in events(found, OPTIONS)]


def test_a_negative_run_over_the_repeated_hour_keeps_its_key_until_it_ends() -> None:
    # 2026-10-25: 01:00-02:00 happens twice; the run is 00:30 BST (23:30 UTC) to 01:30 GMT, five half-hours.
    rates = half_hours("2026-10-24T22:30:00+00:00", [5.0, -1.0, -2.5, -3.0, -0.5, -0.1, 4.0, 6.0])
    prices = {"tariff": "E-1R-AGILE-24-10-01-J", "rates": rates, "day_ahead": True, "tomorrow": None}
    seen = {
        now: keys(facts(now, prices))
        for now in ("2026-10-24T20:00:00Z", "2026-10-25T00:40:00Z", "2026-10-25T01:10:00Z")
    }
    assert seen["2026-10-24T20:00:00Z"] == ["price_below:E-1R-AGILE-24-10-01-J:0:2026-10-25T00:00:00+01:00"]
    assert seen["2026-10-25T00:40:00Z"] == seen["2026-10-24T20:00:00Z"]  # under way: the same event
    assert seen["2026-10-25T01:10:00Z"] == seen["2026-10-24T20:00:00Z"]
    assert keys(facts("2026-10-25T01:30:00Z", prices)) == []  # over
    (event,) = events(facts("2026-10-24T20:00:00Z", prices), OPTIONS)
    assert event.title == "Negative prices ahead"
    assert event.body == "Sun 00:00 to Sun 01:30: down to -3.00p/kWh (E-1R-AGILE-24-10-01-J)."


def test_tomorrow_on_the_short_day_is_told_for_a_day_ahead_tariff_only() -> None:
    rates = half_hours("2026-03-29T00:00:00+00:00", [20.0] * 46)  # 2026-03-29: 23 hours
    tomorrow = {"date": "2026-03-29", "rates": [(start, price) for start, _, price in rates]}
    agile = {"tariff": "E-1R-AGILE-24-10-01-J", "rates": [], "day_ahead": True, "tomorrow": tomorrow}
    flat = {**agile, "tariff": "E-1R-VAR-22-11-01-J", "day_ahead": False}
    assert keys(facts("2026-03-28T16:05:00Z", agile)) == ["tomorrow_prices:E-1R-AGILE-24-10-01-J:2026-03-29"]
    assert keys(facts("2026-03-28T16:05:00Z", flat)) == []


def test_a_changed_plan_is_a_new_event_and_the_same_plan_is_not() -> None:
    plan = [{"start": "2026-11-21T23:30:00+00:00", "end": "2026-11-22T01:00:00+00:00", "type": "SMART", "kwh": 7.0}]
    moved = [{**plan[0], "end": "2026-11-22T02:00:00+00:00"}]

    def device(planned: list[dict[str, Any]]) -> dict[str, Any]:
        return {"d1": {"state": "SMART_CONTROL_CAPABLE", "dispatching": False, "planned": planned}}

    first = keys(facts("2026-11-21T20:00:00Z", dispatches=device(plan)))
    later = keys(facts("2026-11-21T21:00:00Z", dispatches=device(plan)))
    changed = keys(facts("2026-11-21T21:30:00Z", dispatches=device(moved)))
    assert first == later
    assert len(first) == 1
    assert first[0].startswith("dispatch:d1:")
    assert changed != first
    assert keys(facts("2026-11-21T21:30:00Z", dispatches=device([]))) == []


def line(fuel: str, theirs: int, ours: int, *causes: str) -> dict[str, Any]:
    reasons = [{"cause": c, "text": f"the {c.replace('_', ' ')}"} for c in causes]
    return {
        "fuel": fuel,
        "octopus_pence": theirs,
        "octoscope_pence": ours,
        "difference_pence": theirs - ours,
        "reasons": reasons,
    }


def statement(ident: str, status: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"id": ident, "from": "2026-10-01", "to": "2026-10-31", "status": status, "fuels": list(lines)}


def bill_keys(threshold: int | None, *statements: dict[str, Any]) -> list[str]:
    options = replace(OPTIONS, rules=(), bill_difference_pence=threshold)
    return [e.key for e in events(replace(facts("2026-11-21T09:00:00Z"), statements=statements), options)]


def test_a_statement_differing_by_more_than_the_threshold_is_one_event_per_fuel() -> None:
    st = statement(
        "s1",
        "CLOSED",
        line("electricity", 10_000, 9_800, "unit_rate"),
        line("gas", 5_000, 4_900, "standing_charge"),
        line("export", -2_000, -2_000),
    )
    assert bill_keys(150, st) == ["bill_difference:A-DE30DE30:s1:electricity"]
    assert bill_keys(100, st) == ["bill_difference:A-DE30DE30:s1:electricity"]  # more than 100p, not 100p
    assert bill_keys(99, st) == ["bill_difference:A-DE30DE30:s1:electricity", "bill_difference:A-DE30DE30:s1:gas"]
    assert bill_keys(None, st) == []  # off unless set
    (event,) = events(
        replace(facts("2026-11-21T09:00:00Z"), statements=(st,)),
        replace(OPTIONS, rules=(), bill_difference_pence=150),
    )
    assert event.title == "Your bill differs: electricity, 2026-10-01 to 2026-10-31"
    assert event.body == (
        "Statement 2026-10-01 to 2026-10-31, electricity: Octopus charged £100.00, octoscope's costs are £98.00,"
        " a difference of +200p. Reason: the unit rate."
    )


def test_rounding_an_open_statement_and_unsettled_readings_are_not_told() -> None:
    rounding = statement("s1", "CLOSED", line("electricity", 10_001, 10_000, "rounding"))
    assert bill_keys(0, rounding) == []
    opened = statement("s2", "OPEN", line("electricity", 10_500, 10_000, "unexplained"))
    assert bill_keys(0, opened) == []
    unsettled = statement("s3", "CLOSED", line("gas", 6_000, 5_000, "provisional_readings", "estimated_read"))
    assert bill_keys(0, unsettled) == []  # told once octoscope's readings are settled, if it still differs
    settled = statement("s3", "CLOSED", line("gas", 6_000, 5_000, "estimated_read"))
    assert bill_keys(0, settled) == ["bill_difference:A-DE30DE30:s3:gas"]
