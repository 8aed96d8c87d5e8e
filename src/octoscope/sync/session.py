"""The Octopus clients a sync works with, for one API key (the CLI builds them: see ``octoscope.wiring``)."""

from __future__ import annotations

from dataclasses import dataclass

from octoscope.octopus.graphql import GraphQLClient
from octoscope.octopus.policy import RequestPolicy
from octoscope.octopus.rest import RestClient


@dataclass(frozen=True)
class Clients:
    rest: RestClient
    graphql: GraphQLClient
    policy: RequestPolicy
