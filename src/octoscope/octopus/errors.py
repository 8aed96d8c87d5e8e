"""What can go wrong talking to Octopus, named for what the caller does about it.

Messages are one line, safe to show: they never contain the API key or a token.
"""

from __future__ import annotations

from octoscope.errors import UpstreamError


class OctopusError(UpstreamError):
    """The root: anything the Octopus clients raise."""


class CredentialsRejected(OctopusError):
    """Fatal: a credential is wrong. ``credential`` names the setting to fix."""

    def __init__(self, message: str, credential: str) -> None:
        super().__init__(message)
        self.credential = credential


class NotFound(OctopusError):
    """The thing asked for does not exist (an unknown account, meter point or tariff)."""


class RequestRejected(OctopusError):
    """The API refused the request as malformed (HTTP 400, a GraphQL validation error): fix the input."""


class UnexpectedResponse(OctopusError):
    """The API answered with something we cannot use (HTML where JSON was due, missing fields)."""


class Retryable(OctopusError):
    """Worth trying again later; ``retry_after`` is the server's own wait, in seconds, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None, *, blocked: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.blocked = blocked  # the edge refused this address: wait long before asking again


class RateLimited(Retryable):
    """HTTP 429, or KT-CT-1199 / KT-GB-4042 inside an HTTP 200: slow down."""


class TemporarilyUnavailable(Retryable):
    """5xx, a timeout, a dropped connection, a truncated body, or the edge's HTML 403 block."""


class GaveUp(OctopusError):
    """Retries ran out, or the wait asked for is longer than allowed: try again later. ``last`` is the last
    retryable answer, if there was one (a caller may treat a rate limit differently from an outage)."""

    def __init__(self, message: str, last: Retryable | None = None) -> None:
        super().__init__(message)
        self.last = last


class BudgetExhausted(OctopusError):
    """This hour's request budget for the API key is spent: wait, or raise the budget."""


class KeyHeld(GaveUp):
    """A caller that keeps its own schedule (the live poller) asked not to wait: a rate limit holds the key
    until ``until`` (or another caller is probing whether it still does). No request was sent."""

    def __init__(self, message: str, last: Retryable | None, until: float) -> None:
        super().__init__(message, last)
        self.until = until
