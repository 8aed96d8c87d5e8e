"""Fault injection: the ways the real API fails, on demand, seeded.

A fault spec is a comma-separated list of ``KIND[:PROBABILITY][:key=value...]``; keys are ``route`` (which
requests it applies to), ``times`` (at most this many injections) and the kind's own parameters::

    503:0.2                         20% of requests answer 503
    429:0.1:retry_after=5           10% answer 429 with Retry-After: 5
    429:0.1:retry_after=date        ... with Retry-After as an HTTP date 5 s ahead (date_seconds=N)
    kt-ct-1199:0.1:route=graphql    GraphQL throttling inside HTTP 200
    truncated:0.03                  a body cut short (valid HTTP, broken JSON)
    latency:1:ms=250                every request 250 ms slower
    html403:0.01                    the edge's HTML 403 page
    drop:0.01                       the connection closed with no complete response
    503:1:times=3                   the first three requests fail, then all is well

Routes: ``*`` (default), ``rest``, ``consumption``, ``rates``, ``products``, ``account``, ``gsp``,
``meter-point``, ``graphql``, or ``graphql:<rootField>`` such as ``graphql:obtainKrakenToken``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from octoscope.simulator.scenario import FaultSpec

KINDS = ("500", "502", "503", "429", "kt-ct-1199", "kt-gb-4042", "latency", "truncated", "html403", "drop")
PARAMS = {"429": ("retry_after", "date_seconds"), "latency": ("ms",)}
ROUTES = ("*", "rest", "consumption", "rates", "products", "account", "gsp", "meter-point", "graphql")


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message says which part and what is expected."""


def parse_fault_spec(text: str) -> tuple[FaultSpec, ...]:
    faults = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        pieces = item.split(":")
        kind = pieces[0].lower()
        if kind not in KINDS:
            raise FaultSpecError(f"fault {item!r}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        probability = 1.0
        params: dict[str, str] = {}
        rest = pieces[1:]
        # "graphql:obtainKrakenToken" inside route=... contains a colon: rejoin key=value pieces.
        merged: list[str] = []
        for piece in rest:
            if merged and "=" not in piece and merged[-1].startswith("route="):
                merged[-1] += f":{piece}"
            else:
                merged.append(piece)
        for i, piece in enumerate(merged):
            if "=" in piece:
                key, _, value = piece.partition("=")
                params[key.strip()] = value.strip()
            elif i == 0:
                try:
                    probability = float(piece)
                except ValueError:
                    raise FaultSpecError(f"fault {item!r}: probability {piece!r} is not a number") from None
                if not 0 <= probability <= 1:
                    raise FaultSpecError(f"fault {item!r}: probability must be between 0 and 1")
            else:
                raise FaultSpecError(f"fault {item!r}: expected key=value, got {piece!r}")
        unknown = set(params) - {"route", "times"} - set(PARAMS.get(kind, ()))
        if unknown:
            allowed = ", ".join(("route", "times", *PARAMS.get(kind, ())))
            raise FaultSpecError(f"fault {item!r}: unknown key {sorted(unknown)[0]!r}; expected {allowed}")
        route = params.pop("route", "*")
        if route not in ROUTES and not route.startswith("graphql:"):
            raise FaultSpecError(
                f"fault {item!r}: unknown route {route!r}; expected one of {', '.join(ROUTES)} or graphql:<field>"
            )
        times = params.pop("times", None)
        if times is not None and not times.isdigit():
            raise FaultSpecError(f"fault {item!r}: times must be a whole number")
        faults.append(FaultSpec(kind, probability, route, params, int(times) if times else None))
    return tuple(faults)


def category_of(path: str) -> str:
    if path.startswith("/v1/graphql"):
        return "graphql"
    if "/consumption/" in path:
        return "consumption"
    if "-tariffs/" in path:
        return "rates"
    if path.startswith("/v1/products"):
        return "products"
    if path.startswith("/v1/accounts"):
        return "account"
    if path.startswith("/v1/industry"):
        return "gsp"
    if path.startswith("/v1/electricity-meter-points"):
        return "meter-point"
    return "other"


@dataclass
class FaultInjector:
    faults: tuple[FaultSpec, ...]
    seed: int
    used: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed ^ 0x5EED_FA17)

    def replace(self, faults: tuple[FaultSpec, ...]) -> None:
        self.faults = faults
        self.used.clear()

    def _applies(self, fault: FaultSpec, category: str, fields: list[str]) -> bool:
        route = fault.route
        if fault.kind in ("kt-ct-1199", "kt-gb-4042") and category != "graphql":
            return False
        if route == "*":
            return True
        if route == "rest":
            return category != "graphql"
        if route.startswith("graphql:"):
            return category == "graphql" and route.split(":", 1)[1] in fields
        return route == category

    def pick(self, category: str, fields: list[str]) -> list[FaultSpec]:
        """The faults to inject into one request: at most one that answers, plus any latency."""
        chosen: list[FaultSpec] = []
        answered = False
        for index, fault in enumerate(self.faults):
            if not self._applies(fault, category, fields):
                continue
            if fault.times is not None and self.used.get(index, 0) >= fault.times:
                continue
            if fault.kind != "latency" and answered:
                continue
            if self.rng.random() < fault.probability:
                self.used[index] = self.used.get(index, 0) + 1
                chosen.append(fault)
                answered = answered or fault.kind != "latency"
        return chosen
