"""The simulator's fleet (simulator/fleet.py): N accounts from a seed, each with its own key, made on demand.

Determinism, the mix of households at N=50, that a key sees its own account and nothing of another's, and
one fleet account synced end to end by the real CLI with the requests a single account needs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from octoscope.simulator import ScenarioError, create_app
from octoscope.simulator.fleet import IMPORT_KINDS, Fleet, fleet_keys
from octoscope.simulator.scenario import FleetSpec, load_scenario, read_scenario_text
from octoscope.simulator.world import World
from tests.conftest import DEMO_NOW, SimServer, make_cli, serve

ANCHOR = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))
N = 50


def fleet(seed: int, accounts: int = N) -> Fleet:
    products = load_scenario("fleet", ANCHOR).products
    return Fleet(FleetSpec(accounts, seed), products, ANCHOR)


def world_of(sim: SimServer) -> World:
    world: World = sim.app.state.world
    return world


def intelligent_at_one_home(world: World, number: str) -> bool:
    account = world.account(number)
    assert account is not None
    tariff = account.properties[-1].electricity[0].agreements[-1].tariff_code
    return len(account.properties) == 1 and "INTELLI" in tariff


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with serve(create_app("fleet", now=DEMO_NOW, speed=0, fleet=N, seed=7)) as server:
        yield server


def test_same_seed_same_world_and_another_seed_another() -> None:
    a, b, c = fleet(7), fleet(7), fleet(8)
    assert [repr(a.account(i)) for i in range(N)] == [repr(b.account(i)) for i in range(N)]
    assert list(fleet_keys(N, 7)) == [(a.account(i).number, a.account(i).api_key) for i in range(N)]
    assert all(a.account(i).api_key != c.account(i).api_key for i in range(N))
    assert sum(repr(a.account(i).properties) != repr(c.account(i).properties) for i in range(N)) > N // 2
    # The half-hours served are the same too, byte for byte: two simulators of one seed
    first, second = (create_app("fleet", now=DEMO_NOW, speed=0, fleet=N, seed=7).state.world for _ in range(2))
    for world in (first, second):
        assert world.account("A-F0000003") is not None
    truths = [json.dumps(w.truth(account=w.account("A-F0000003")), sort_keys=True) for w in (first, second)]
    assert truths[0] == truths[1]
    assert json.loads(truths[0])["totals"]


def test_the_mix_at_fifty() -> None:
    accounts = [fleet(7).account(i) for i in range(N)]
    kinds, features = Counter[str](), Counter[str]()
    for account in accounts:
        current = account.properties[-1]
        for point in current.electricity:
            if not point.is_export:
                kinds[point.agreements[-1].tariff_code.split("-", 2)[2].rsplit("-", 1)[0]] += 1
                if any(m.removed is not None for m in point.meters):
                    features["exchange"] += 1
            else:
                features["export"] += 1
        features["gas"] += bool(current.gas)
        features["gas_m3"] += any(g.smets == 2 for g in current.gas)
        features["ev"] += current.household.ev is not None
        features["move"] += len(account.properties) > 1 and account.properties[0].moved_out is not None
        features["switch"] += any(len(e.agreements) > 1 for e in current.electricity)
        history = (ANCHOR - account.properties[0].moved_in).days
        assert history >= 365, f"{account.number} has {history} days of history"
    products = {p.code: p.kind for p in load_scenario("fleet", ANCHOR).products}
    assert {products[code] for code in kinds} == set(IMPORT_KINDS)
    for feature in ("exchange", "export", "gas", "gas_m3", "ev", "move", "switch"):
        assert features[feature] > 0, f"no {feature} among {N} accounts"
    # Every Intelligent account has a car, so Octopus has dispatches to tell
    for account in accounts:
        current = account.properties[-1]
        if "INTELLI" in current.electricity[0].agreements[-1].tariff_code:
            assert current.household.ev is not None


def test_nothing_is_made_until_asked() -> None:
    world = create_app("fleet", now=DEMO_NOW, speed=0, fleet=1_000_000).state.world
    assert not world._fleet_cache  # a million accounts cost nothing at start
    for i in range(40):  # only a few are kept made, however many are asked for
        assert world.account(f"A-F{i:07X}") is not None
    assert len(world._fleet_cache) <= 8
    assert world.account("A-F00F4240") is None  # index 1,000,000: beyond the fleet


def test_a_fleet_needs_sane_options() -> None:
    with pytest.raises(ScenarioError, match="--fleet"):
        create_app("fleet", now=DEMO_NOW, fleet=0)


def test_each_key_sees_only_its_account(sim: SimServer) -> None:
    keys = list(fleet_keys(N, 7))
    (mine, my_key), (theirs, _) = keys[3], keys[4]
    their_mpan = world_of(sim).account(theirs).properties[-1].electricity[0]  # type: ignore[union-attr]
    with sim.client(auth=(my_key, "")) as client:
        assert client.get(f"/v1/accounts/{mine}/").status_code == 200
        assert client.get(f"/v1/accounts/{theirs}/").status_code == 403
        serial = their_mpan.meters[0].serial
        path = f"/v1/electricity-meter-points/{their_mpan.mpan}/meters/{serial}/consumption/"
        assert client.get(path).status_code == 403
    forged = my_key[:-1] + ("0" if my_key[-1] != "0" else "1")  # the right shape, the wrong tag
    assert httpx.get(f"{sim.url}/v1/accounts/{mine}/", auth=(forged, ""), timeout=30).status_code == 401
    other_seed = dict(fleet_keys(N, 8))[mine]
    assert httpx.get(f"{sim.url}/v1/accounts/{mine}/", auth=(other_seed, ""), timeout=30).status_code == 401
    with sim.client() as client:
        mint = client.post(
            "/v1/graphql/",
            json={"query": f'mutation {{ obtainKrakenToken(input: {{APIKey: "{my_key}"}}) {{ token }} }}'},
        ).json()
        token = mint["data"]["obtainKrakenToken"]["token"]
        query = "query($n: String!) { account(accountNumber: $n) { number } }"
        own = client.post(
            "/v1/graphql/", json={"query": query, "variables": {"n": mine}}, headers={"Authorization": token}
        )
        assert own.json()["data"]["account"]["number"] == mine
        other = client.post(
            "/v1/graphql/", json={"query": query, "variables": {"n": theirs}}, headers={"Authorization": token}
        ).json()
        assert other["errors"][0]["extensions"]["errorCode"] == "KT-CT-1111"
    listed = httpx.get(f"{sim.url}/_sim/fleet", params={"offset": 3, "limit": 2}, timeout=30).json()
    assert [(k["number"], k["api_key"]) for k in listed["keys"]] == keys[3:5]


def test_one_fleet_account_syncs_end_to_end(sim: SimServer, tmp_path: Path) -> None:
    """An Intelligent account with a car: the sync asks for its account, its meters and its tariffs once each,
    and stores what the simulator knows to be true."""
    number, key = next((n, k) for n, k in fleet_keys(N, 7) if intelligent_at_one_home(world_of(sim), n))
    cli = make_cli(sim, tmp_path, key=key, account=number)
    sim.reset_log()
    summary = json.loads(cli.ok("sync", "--to", "2026-11-22", "--json"))
    entries: list[dict[str, Any]] = sim.requests_log()["requests"]  # type: ignore[assignment]
    log = [e for e in entries if e["path"].startswith("/v1/")]
    assert summary["retries"] == 0
    assert not summary["problems"]
    assert summary["requests"] == {"rest": sum(e["method"] == "GET" for e in log), "graphql": 2}
    gets = [(e["path"], e["query"]) for e in log if e["method"] == "GET"]
    assert len(gets) == len(set(gets)), "a request was made twice"
    assert all(e["status"] == 200 for e in log)
    consumption = [p for p, _ in gets if p.endswith("/consumption/")]
    account = world_of(sim).account(number)
    assert account is not None
    meters = {
        f"/v1/electricity-meter-points/{e.mpan}/meters/{m.serial}/consumption/"
        for e in account.properties[-1].electricity
        for m in e.meters
    }
    assert set(consumption) == meters  # one page each: under 25,000 half-hours per meter in the window
    assert sum(p.startswith("/v1/accounts/") for p, _ in gets) == 1
    truth = httpx.get(f"{sim.url}/_sim/truth", params={"account": number}, timeout=60).json()
    assert truth["dispatches"], "an Intelligent account with a car has dispatches"
    for name, series in summary["series"].items():
        ident = name.split(":", 1)[1]
        fuel = "gas" if name.startswith("gas") else "electricity"
        assert series["rows"] > 365 * 46
        assert not series["gaps"]
        window_rows = truth["totals"][f"{fuel}:{ident}"]["rows"]
        assert series["rows"] <= window_rows


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[fleet]\naccounts = 0\n", "fleet.accounts: must be between 1"),
        ("[fleet]\naccounts = 5\ncolour = 'red'\n", "fleet.colour: unknown key"),
        ("[fleet]\nseed = 3\n", "fleet.accounts: is required"),
    ],
)
def test_a_bad_fleet_table_is_one_line_naming_the_field(tmp_path: Path, table: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    text = _fleet_toml()
    assert "[fleet]\naccounts = 1000\n" in text
    path.write_text(text.replace("[fleet]\naccounts = 1000\n", table))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path), ANCHOR)
    assert str(caught.value).startswith("bad.toml: ")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_fleet_needs_a_flexible_product(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_fleet_toml().replace('kind = "flexible"', 'kind = "go"'))
    with pytest.raises(ScenarioError, match="a fleet needs a \\[\\[products\\]\\] entry of kind flexible"):
        load_scenario(str(path), ANCHOR)


def _fleet_toml() -> str:
    return read_scenario_text("fleet")[1]
