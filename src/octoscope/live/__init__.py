"""Live Home Mini demand: one poller per device shared by every viewer, and a fan-out hub for SSE.

Uses ``octopus``, ``store`` and ``domain`` only; the web app and the CLI sit on top (see ``wiring.open_live``).
"""

from __future__ import annotations

__all__: list[str] = []  # nothing re-exported: import the module that holds the name
