"""Fetching the account's statements with their transactions, once each.

A closed statement is kept and never asked for again: the list is asked from the day after the newest
closed statement kept (``fromDate``), so only newer ones and the open one come back. The open statement
is read again at most once a day. Every call goes through the GraphQL client, so through the one request
policy and its budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from octoscope.domain.bills import Statement
from octoscope.octopus.graphql import GraphQLClient, bill_transactions, bills_page
from octoscope.store.ports import StoreProtocol

OPEN_REFRESH = timedelta(days=1)
MAX_PAGES = 50  # a runaway cursor stops here, not at the budget's end


@dataclass(frozen=True)
class FetchResult:
    requests: int
    fetched: int  # statements read this time
    kept: int  # statements in the store afterwards
    skipped: str | None  # why nothing was asked, when nothing was


def next_from_date(kept: list[tuple[Statement, datetime]]) -> date | None:
    """The first period start to ask for: the day after the newest closed statement kept."""
    closed = [st.last for st, _ in kept if st.closed]
    return max(closed) + timedelta(days=1) if closed else None


def next_fetch(kept: list[tuple[Statement, datetime]]) -> datetime | None:
    """When the statements are next to be asked for: a day after the earliest read of an open one kept (with
    none open, a day after the last read: ask daily whether one began); None: nothing kept, ask now."""
    if not kept:
        return None
    opened = [at for st, at in kept if not st.closed]
    return (min(opened) if opened else max(at for _, at in kept)) + OPEN_REFRESH


def fresh_enough(kept: list[tuple[Statement, datetime]], now: datetime) -> bool:
    """Nothing to ask: statements are kept, and every open one was read within the day."""
    due = next_fetch(kept)
    return due is not None and now < due


async def fetch_statements(client: GraphQLClient, store: StoreProtocol, number: str, now: datetime) -> FetchResult:
    kept = store.statements(number)
    if fresh_enough(kept, now):
        return FetchResult(0, 0, len(kept), "statements read within the last day")
    from_date = next_from_date(kept)
    requests = 0
    read: list[Statement] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = await bills_page(client, number, from_date, after)
        requests += 1
        for st in page.statements:
            cursor = page.more_transactions.get(st.ident)
            extra, problems = [], []
            while cursor is not None and requests < MAX_PAGES:
                more, odd, cursor = await bill_transactions(client, number, st.ident, cursor)
                requests += 1
                extra += more
                problems += odd
            whole = st
            if extra or problems:
                whole = replace(st, transactions=st.transactions + tuple(extra), problems=st.problems + tuple(problems))
            read.append(whole)
        after = page.next_cursor
        if after is None:
            break
    # A kept open statement that came back (open or closed) is replaced by what was read; one that did not
    # come back although its period was asked for was superseded, and goes.
    store.save_statements(number, read, now)
    returned = {st.ident for st in read}
    store.forget_statements(
        number,
        [
            st.ident
            for st, _ in kept
            if not st.closed and st.ident not in returned and (from_date is None or st.first >= from_date)
        ],
    )
    return FetchResult(requests, len(read), len(store.statements(number)), None)
