"""The simulator's EV: a car on one charger never draws more than the charger's power."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from itertools import pairwise

import pytest

from octoscope.clock import frozen
from octoscope.simulator import load_scenario
from octoscope.simulator.world import World
from tests.conftest import DEMO_NOW


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
@pytest.mark.parametrize("name", ["demo", "ev_11kw_intelligent"])
def test_a_boost_and_smart_dispatches_never_charge_at_once(name: str, seed: int | None) -> None:
    # Every plug-in over the scenario's history (boosts in both, 5 % and 15 % of smart plug-ins): its charging
    # runs follow one another, so the car draws at most the charger's power; each smart run inside a dispatch.
    now = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
    scenario = load_scenario(name, now)
    if seed is not None:
        scenario = replace(scenario, seed=seed)
    world = World(scenario, frozen(now))
    (ev,) = world.evs.values()
    plans = world.charge_plans(ev, ev.prop.moved_in.timestamp(), now.timestamp())
    boosted = [p for p in plans if any(d.kind == "BOOST" for d in p.dispatches)]
    assert len(boosted) >= 3
    for plan in plans:
        runs = sorted(plan.runs, key=lambda r: r.start)
        assert all(a.end <= b.start for a, b in pairwise(runs)), (plan.mode, runs)
        for run in runs:
            assert any(d.start <= run.start and run.end <= d.end for d in plan.dispatches) or plan.mode != "smart"
