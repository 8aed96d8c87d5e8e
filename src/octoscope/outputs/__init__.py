"""What leaves the house besides pages: Home Assistant through MQTT (``mqtt``) and notifications through
Apprise (``notify``), both read from the store (``facts``) and never ask Octopus anything themselves."""

from __future__ import annotations

__all__: list[str] = []
