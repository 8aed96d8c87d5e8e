"""The Grafana dashboard shipped with the package: InfluxQL over what ``export influx`` writes."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

DASHBOARD = "energy-dashboard.json"


def dashboard_text() -> str:
    return resources.files("octoscope.outputs").joinpath(DASHBOARD).read_text(encoding="utf-8")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(dashboard_text())
    return loaded


def queries(board: dict[str, Any]) -> list[str]:
    """Every InfluxQL query of every panel (rows' nested panels included), and of the template variables."""
    found: list[str] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            found.extend(t["query"] for t in panel.get("targets", []) if t.get("query"))
            walk(panel.get("panels", []))

    walk(board.get("panels", []))
    found.extend(v["query"] for v in board.get("templating", {}).get("list", []) if v.get("type") == "query")
    return found
