"""The Octopus clients a sync works with, for one API key: those of the process's facade
(:class:`octoscope.octopus.facade.Octopus`, its ``clients``), built once at start-up in ``octoscope.wiring``."""

from __future__ import annotations

from octoscope.octopus.facade import Clients

__all__ = ["Clients"]
