"""See ARCHITECTURE.md for what lives here."""

from __future__ import annotations

__all__: list[str] = []  # nothing re-exported: import the module that holds the name
