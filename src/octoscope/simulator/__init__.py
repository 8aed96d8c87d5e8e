"""A local Octopus Energy API (REST and GraphQL) built from a scenario: demo, tests and benchmarks.

It imports nothing from ``octoscope.octopus``, ``store``, ``sync`` or ``domain``: it is the other side of
the API, so a mistake in our client cannot be mirrored by the same mistake here.
"""

from octoscope.simulator.app import build_app, create_app
from octoscope.simulator.faults import FaultSpecError, parse_fault_spec
from octoscope.simulator.scenario import ScenarioError, builtin_scenarios, load_scenario

__all__ = [
    "FaultSpecError",
    "ScenarioError",
    "build_app",
    "builtin_scenarios",
    "create_app",
    "load_scenario",
    "parse_fault_spec",
]
