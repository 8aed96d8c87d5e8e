"""The shipped Grafana dashboard: valid JSON from `octoscope grafana-dashboard`, and every InfluxQL query in
it names measurements, fields and tags that the export writes (the schema; test_influx runs each query
against a real InfluxDB after an export)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from octoscope.outputs.grafana import dashboard, dashboard_text, queries
from octoscope.outputs.schema import COMMON_TAGS, MEASUREMENTS

FROM = re.compile(r'\bFROM\s+"([^"]+)"')
QUOTED = re.compile(r'"([^"]+)"')
CONFIGURED_TAGS = {"location"}  # the [influx.tags] default, which octograph's dashboards filter on


def names(query: str, vat: str) -> tuple[str, set[str], set[str]]:
    """(measurement, fields named in SELECT, tags named after WHERE) of one query."""
    query = query.replace("${vat}", vat)
    found = FROM.search(query)
    assert found, f"no FROM in {query!r}"
    select, rest = query[: found.start()], query[found.end() :]
    if query.startswith("SHOW TAG VALUES"):
        return found[1], set(), set(QUOTED.findall(rest))
    return found[1], set(QUOTED.findall(select)), set(QUOTED.findall(rest))


def test_the_command_prints_the_packaged_dashboard_as_valid_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "octoscope", "grafana-dashboard"], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == dashboard_text()
    board = json.loads(done.stdout)
    assert board["uid"] == "octoscope-energy"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["query"] == "influxdb"
    assert [o["value"] for o in variables["vat"]["options"]] == ["inc", "exc"]


def test_every_query_names_what_the_export_writes() -> None:
    found = queries(dashboard())
    assert len(found) >= 25
    used: set[str] = set()
    for query in found:
        for vat in ("inc", "exc"):
            measurement, fields, tags = names(query, vat)
            assert measurement in MEASUREMENTS, query
            schema = MEASUREMENTS[measurement]
            known_tags = {*schema.tags, *COMMON_TAGS, *CONFIGURED_TAGS}
            assert fields <= {*schema.fields, *known_tags}, (query, fields - set(schema.fields))
            assert tags <= known_tags, (query, tags - known_tags)
            used.add(measurement)
    assert used == set(MEASUREMENTS)  # every measurement has a panel


def test_every_panel_uses_the_datasource_variable_and_has_a_unique_id() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
        assert all(t["datasource"] == panel["datasource"] and t["rawQuery"] for t in panel["targets"])


@pytest.mark.parametrize(
    "command", [("export", "influx"), ("export", "csv"), ("export", "parquet"), ("grafana-dashboard",)]
)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "octoscope", *command, "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Example: octoscope " + " ".join(command) in " ".join(done.stdout.split())


def test_the_readme_documents_every_measurement_field_and_tag() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for measurement in MEASUREMENTS.values():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{measurement.name}`")), None)
        assert row is not None, measurement.name
        for name in (*measurement.fields, *measurement.tags):
            assert f"`{name}`" in row, (measurement.name, name)
