"""The application layer (see ARCHITECTURE.md): costing, pricing and the tariff comparison, bills, the
scheduler that keeps the data fresh, the recorded sync run, and the installation checks (``doctor``). Takes a
store and the Octopus clients, returns typed results for the web app, the CLI and the outputs to render."""

from __future__ import annotations

__all__: list[str] = []
