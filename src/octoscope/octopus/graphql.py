"""The GraphQL client: a token kept in the store and renewed with its refresh token, errors classified.

GraphQL answers HTTP 200 even when it refuses, so rate limits (KT-CT-1199, KT-GB-4042) and expired tokens
are read from ``errors[].extensions.errorCode``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol

import httpx

from octoscope.domain.bills import Transaction
from octoscope.domain.models import DispatchRecord, IssuedToken, TelemetryReading
from octoscope.domain.secret import Secret
from octoscope.domain.uktime import iso_z
from octoscope.octopus import documents, parse
from octoscope.octopus.errors import (
    CredentialsRejected,
    KeyHeld,
    NotFound,
    OctopusError,
    RateLimited,
    RequestRejected,
    TemporarilyUnavailable,
    UnexpectedResponse,
)
from octoscope.octopus.http import KEY_HINT, exchange
from octoscope.octopus.policy import RequestPolicy

log = logging.getLogger(__name__)

RATE_LIMIT_CODES = {"KT-CT-1199", "KT-GB-4042"}
# The access token expired or is no longer accepted: renew it and ask again.
EXPIRED_TOKEN_CODES = {"KT-CT-1124", "KT-CT-1120", "KT-CT-1143"}
BAD_REFRESH_CODES = {"KT-CT-1134", "KT-CT-1135"}  # the refresh token: fall back to the API key
BAD_KEY_CODES = {"KT-CT-1139", "KT-CT-1111", "KT-CT-1112", "OE-0103"}
NOT_FOUND_CODES = {"KT-CT-4301", "KT-GB-4050"}
TEMPORARY_CODES = {"KT-GB-4039", "KT-GB-4043", "KT-CT-7899"}
RENEW_BEFORE = 300.0  # renew five minutes before the token expires


class TokenVault(Protocol):
    """Where the token and refresh token live between runs (the store implements it)."""

    def load_token(self, key_id: str) -> IssuedToken | None: ...

    def save_token(self, key_id: str, token: IssuedToken) -> None: ...


class GraphQLError(OctopusError):
    """A GraphQL error that is none of the above; ``code`` is Kraken's errorCode."""

    def __init__(self, message: str, code: str | None) -> None:
        super().__init__(message)
        self.code = code


class _ExpiredToken(Exception):
    pass


def _first_error(body: dict[str, Any]) -> tuple[str | None, str]:
    errors = body.get("errors") or []
    first: dict[str, Any] = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    extensions: dict[str, Any] = first["extensions"] if isinstance(first.get("extensions"), dict) else {}
    code = extensions.get("errorCode")
    message = str(extensions.get("errorDescription") or first.get("message") or "unknown error")
    return (code if isinstance(code, str) else None), message


class GraphQLClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        api_key: Secret,
        policy: RequestPolicy,
        vault: TokenVault,
        clock: Callable[[], float],
    ) -> None:
        self.http = http
        self.url = url
        self._api_key = api_key
        self.policy = policy
        self.vault = vault
        self.clock = clock
        self._token: IssuedToken | None = None
        self._token_lock = asyncio.Lock()

    async def _post(
        self,
        document: str,
        variables: dict[str, Any],
        what: str,
        token: str | None,
        attempts: int | None = None,
        priority: bool = False,
        wait_for_hold: bool = True,
    ) -> dict[str, Any]:
        headers = {"Authorization": token} if token else {}
        request = self.http.build_request(
            "POST", self.url, json={"query": document, "variables": variables}, headers=headers
        )

        async def send() -> dict[str, Any]:
            body = await exchange(self.http, request, what, self.clock)
            if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
                raise UnexpectedResponse(f"{what}: the answer is not a GraphQL response")
            code, message = _first_error(body)
            if code in RATE_LIMIT_CODES:
                raise RateLimited(f"{what}: {code} {message}")
            if code in TEMPORARY_CODES:
                raise TemporarilyUnavailable(f"{what}: {code} {message}")
            return body

        return await self.policy.call(
            "graphql", what, send, attempts=attempts, priority=priority, wait_for_hold=wait_for_hold
        )

    async def _obtain(self, use_refresh: bool, attempts: int | None = None, wait_for_hold: bool = True) -> IssuedToken:
        stored = self._token
        if use_refresh and stored is not None and stored.refresh_token:
            variables = {"input": {"refreshToken": stored.refresh_token}}
            what = "renewing the GraphQL token"
        else:
            variables = {"input": {"APIKey": self._api_key.reveal()}}
            what = "obtaining a GraphQL token"
        # Everyone needs it (priority); as many tries and as much waiting as the query it is for.
        body = await self._post(documents.AUTHENTICATE, variables, what, None, attempts, True, wait_for_hold)
        code, message = _first_error(body)
        if code in BAD_REFRESH_CODES and use_refresh:
            log.info("the refresh token was refused (%s); obtaining a new token with the API key", code)
            return await self._obtain(False, attempts, wait_for_hold)
        if body.get("errors"):
            raise CredentialsRejected(f"{what}: {code or ''} {message}; {KEY_HINT}".strip(), "api_key")
        return parse.issued_token(body.get("data"), self.clock())

    async def token(self, attempts: int | None = None, wait_for_hold: bool = True) -> str:
        """A live access token: from memory, else the store, else renewed, else obtained with the API key;
        ``attempts`` and ``wait_for_hold`` as for the query it is for (the live poller's one try, no waiting)."""
        async with self._token_lock:
            now = self.clock()
            if self._token is None:
                self._token = self.vault.load_token(self.policy.key_id)
            token = self._token
            if token is not None and token.expires_at - RENEW_BEFORE > now:
                return token.token
            refreshable = (
                token is not None and token.refresh_token is not None and (token.refresh_expires_at or 0) > now
            )
            self._token = await self._obtain(refreshable, attempts, wait_for_hold)
            self.vault.save_token(self.policy.key_id, self._token)
            return self._token.token

    async def _drop_token(self, stale: str) -> None:
        async with self._token_lock:
            if self._token is not None and self._token.token == stale:
                # Keep the refresh token: only the access token is stale.
                self._token = self._token._replace(expires_at=0.0)

    async def query(
        self,
        document: str,
        variables: dict[str, Any],
        what: str,
        *,
        tolerate: frozenset[str] = frozenset(),
        attempts: int | None = None,
        priority: bool = False,
        wait_for_hold: bool = True,
    ) -> dict[str, Any]:
        """The ``data`` of a query. Errors whose code is in ``tolerate`` leave their fields null instead.
        ``attempts``: tries of the query itself (not of renewing the token), if not the policy's;
        ``priority``: a watched live view's call, which may use the budget's share kept for live;
        ``wait_for_hold=False``: raise ``KeyHeld`` rather than wait while a rate limit holds the key."""
        for _ in range(2):
            if not wait_for_hold:
                held = self.policy.held_until()
                if held is not None or self.policy.hold.probing:
                    until = held if held is not None else self.clock() + 10.0
                    cause = RateLimited(self.policy.hold.reason or "a rate limit holds the key")
                    raise KeyHeld(f"{what}: a rate limit holds the key", cause, until)
            token = await self.token(attempts, wait_for_hold)
            body = await self._post(document, variables, what, token, attempts, priority, wait_for_hold)
            code, message = _first_error(body)
            if code in EXPIRED_TOKEN_CODES:
                await self._drop_token(token)
                continue
            if body.get("errors") and not self._all_tolerated(body, tolerate):
                raise self._error(code, message, what)
            data = body.get("data")
            if not isinstance(data, dict):
                raise UnexpectedResponse(f"{what}: the answer has no data")
            return data
        raise CredentialsRejected(f"{what}: a fresh GraphQL token was refused at once; {KEY_HINT}", "api_key")

    @staticmethod
    def _all_tolerated(body: dict[str, Any], tolerate: frozenset[str]) -> bool:
        codes = [(e.get("extensions") or {}).get("errorCode") for e in body["errors"] if isinstance(e, dict)]
        return bool(codes) and all(c in tolerate for c in codes)

    @staticmethod
    def _error(code: str | None, message: str, what: str) -> OctopusError:
        if code in BAD_KEY_CODES:
            return CredentialsRejected(f"{what}: {code} {message}; {KEY_HINT}", "api_key")
        if code in NOT_FOUND_CODES:
            return NotFound(f"{what}: {code} {message}")
        if code == "GRAPHQL_VALIDATION_FAILED":
            return RequestRejected(f"{what}: {message}")
        return GraphQLError(f"{what}: {code or 'error'} {message}", code)

    async def account_details(self, number: str) -> parse.AccountDetails:
        # A missing devices list (no Intelligent device, KT-CT-4301/4340) is not an error for discovery.
        data = await self.query(
            documents.ACCOUNT_DETAILS,
            {"account": number},
            f"account {number} details",
            tolerate=frozenset({"KT-CT-4301", "KT-CT-4340"}),
        )
        return parse.graphql_account_details(data)

    async def dispatches(
        self, number: str, device_id: str, *, attempts: int | None = None
    ) -> tuple[str | None, list[DispatchRecord]]:
        """The device's state and its planned and completed dispatches, in one call; the deprecated
        ``plannedDispatches`` where ``flexPlannedDispatches`` is not offered. ``attempts=1`` leaves retrying
        to a caller that keeps its own limits (the dispatch schedule)."""
        variables = {"account": number, "device": device_id}
        what = f"dispatches of {device_id}"
        tolerate = frozenset({"KT-CT-4340"})
        try:
            data = await self.query(documents.DISPATCHES, variables, what, tolerate=tolerate, attempts=attempts)
        except RequestRejected:
            data = await self.query(documents.DISPATCHES_LEGACY, variables, what, tolerate=tolerate, attempts=attempts)
        return parse.dispatches(data, device_id)

    async def telemetry(
        self,
        device_id: str,
        start: datetime,
        end: datetime,
        grouping: str = "TEN_SECONDS",
        *,
        attempts: int | None = None,
        priority: bool = False,
        wait_for_hold: bool = True,
    ) -> list[TelemetryReading]:
        """A Home Mini's readings in [start, end), oldest first. One call answers any range, so a poller asks
        from its last reading to now; ``attempts=1`` leaves retrying (and saying so) to the caller."""
        variables = {"device": device_id, "start": iso_z(start), "end": iso_z(end), "grouping": grouping}
        what = f"telemetry of {device_id}"
        data = await self.query(
            documents.TELEMETRY, variables, what, attempts=attempts, priority=priority, wait_for_hold=wait_for_hold
        )
        return parse.telemetry(data)


# --- bills and statements (issue 21) -----------------------------------------------------------------

_TRANSACTION_FIELDS = """
      pageInfo { hasNextPage endCursor }
      edges { node {
        __typename id postedDate title note balanceCarriedForward isHeld isReversed
        amounts { net tax gross }
        ... on Charge { isExport consumption { startDate endDate quantity unit usageCost supplyCharge } }
      } }
"""
_STATEMENT_FIELDS = f"""
    __typename id billType fromDate toDate issuedDate
    ... on StatementType {{
      status openingBalance closingBalance
      totalCharges {{ netTotal taxTotal grossTotal }}
      totalCredits {{ netTotal taxTotal grossTotal }}
      transactions(first: $transactions, after: $transactionsAfter) {{ {_TRANSACTION_FIELDS} }}
    }}
"""
BILLS = f"""
query Bills($account: String!, $fromDate: Date, $first: Int, $after: String, $transactions: Int,
            $transactionsAfter: String) {{
  account(accountNumber: $account) {{
    bills(fromDate: $fromDate, first: $first, after: $after, includeOpenStatements: true) {{
      pageInfo {{ hasNextPage endCursor }}
      edges {{ node {{ {_STATEMENT_FIELDS} }} }}
    }}
  }}
}}
"""
BILL = f"""
query Bill($account: String!, $id: ID!, $transactions: Int, $transactionsAfter: String) {{
  account(accountNumber: $account) {{ bill(id: $id, billType: STATEMENT) {{ {_STATEMENT_FIELDS} }} }}
}}
"""
STATEMENTS_PER_PAGE = 12
TRANSACTIONS_PER_PAGE = 100  # the UK maximum is not documented; an OEJP note says under 100 is safe


async def bills_page(
    client: GraphQLClient, number: str, from_date: date | None, after: str | None
) -> parse.StatementsPage:
    """One page of the account's statements whose period starts on ``from_date`` or later (all if None),
    the open one included, each with its first page of transactions."""
    variables = {
        "account": number,
        "fromDate": from_date.isoformat() if from_date else None,
        "first": STATEMENTS_PER_PAGE,
        "after": after,
        "transactions": TRANSACTIONS_PER_PAGE,
        "transactionsAfter": None,
    }
    data = await client.query(BILLS, variables, f"statements of {number}")
    return parse.statements_page(data)


async def bill_transactions(
    client: GraphQLClient, number: str, ident: str, after: str
) -> tuple[list[Transaction], list[str], str | None]:
    """The next page of one statement's transactions."""
    variables = {"account": number, "id": ident, "transactions": TRANSACTIONS_PER_PAGE, "transactionsAfter": after}
    data = await client.query(BILL, variables, f"statement {ident} of {number}")
    return parse.more_transactions(data, ident)
