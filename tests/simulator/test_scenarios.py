"""Scenario loading: every shipped scenario loads, and each kind of mistake gets one line naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from octoscope.simulator import ScenarioError, builtin_scenarios, load_scenario
from octoscope.simulator.scenario import read_scenario_text

ANCHOR = datetime(2026, 11, 21, 9, tzinfo=UTC)
SHIPPED = {"demo", "e7", "agile", "meter_exchange", "moved_house", "no_home_mini"}


def test_the_documented_scenarios_are_shipped() -> None:
    assert set(builtin_scenarios()) >= SHIPPED


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_scenario_loads(name: str) -> None:
    scenario = load_scenario(name, ANCHOR)
    assert scenario.accounts
    assert scenario.products


def test_demo_scenario_is_what_the_readme_promises() -> None:
    demo = load_scenario("demo", ANCHOR)
    account = demo.accounts[0]
    assert (account.number, account.api_key) == ("A-DE30DE30", "sk_live_octoscope_demo")
    prop = account.properties[0]
    assert prop.moved_in == datetime(2024, 11, 21, tzinfo=UTC)  # two years before the anchor day (GMT)
    imports = [e for e in prop.electricity if not e.is_export]
    exports = [e for e in prop.electricity if e.is_export]
    assert [a.tariff_code for a in imports[0].agreements] == ["E-1R-VAR-22-11-01-J", "E-1R-INTELLI-VAR-24-10-29-J"]
    assert exports[0].agreements[0].tariff_code.startswith("E-1R-OUTGOING-")
    assert prop.gas[0].smets == 2
    assert imports[0].home_mini is not None
    assert prop.household.ev is not None


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return str(path)


def _demo_with(old: str, new: str) -> str:
    _, text = read_scenario_text("demo")
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('number = "A-DE30DE30"', 'number = "A-12345"', "accounts[0].number: expected A- and 8 upper-case hex"),
        ('mpan = "1900000000101"', 'mpan = "19x"', "accounts[0].properties[0].electricity[0].mpan: expected 13 digits"),
        ('region = "J"', 'region = "I"', "accounts[0].properties[0].region: expected a region letter"),
        ('kind = "agile"', 'kind = "agile2"', "products[1].kind: expected one of"),
        ('from = "-730d", to = "-365d"', 'from = "-365d", to = "-730d"', "agreements[0].to: must be after 'from'"),
        ('from = "-730d", to = "-365d"', 'from = "yesterday"', "agreements[0].from: expected a date"),
        ("charger_kw = 7.0", "charger_kw = 70.0", "household.ev.charger_kw: must be between"),
        ("charger_kw = 7.0", 'charger_kw = "fast"', "household.ev.charger_kw: expected int or float"),
        ('window = "17:00-19:30"', 'window = "evening"', "appliances[0].window: expected windows like 23:30-05:30"),
        ('tariff = "E-1R-VAR-22-11-01-J"', 'tariff = "E-1R-NOPE-22-11-01-J"', "product NOPE-22-11-01 is not in"),
        ('api_key = "sk_live_octoscope_demo"', 'api_key = "secret"', "accounts[0].api_key: expected an API key"),
        ("seed = 20261121", 'seed = 1\ncolour = "red"', "colour: unknown key"),
    ],
)
def test_bad_scenarios_get_one_line_naming_the_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, _demo_with(old, new)), ANCHOR)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("bad.toml: ")
    assert expected in message


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"^bad\.toml: not valid TOML \(") as caught:
        load_scenario(_write(tmp_path, "name = [unclosed"), ANCHOR)
    assert "\n" not in str(caught.value)


def test_unknown_scenario_name_lists_the_builtin_ones() -> None:
    with pytest.raises(ScenarioError, match=r"no scenario named 'nope'; built-in ones are .*demo"):
        load_scenario("nope", ANCHOR)


def test_missing_scenario_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario file"):
        load_scenario(str(tmp_path / "missing.toml"), ANCHOR)
