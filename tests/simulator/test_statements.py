"""The simulator's statements: balances that add up as Octopus's do (bills.md §3), VAT 5 % per charge,
newest transactions first, and the bills connection paged and filtered like the rest of the API."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, SimServer

STATEMENT = """
  id fromDate toDate status openingBalance closingBalance
  totalCharges { netTotal taxTotal grossTotal } totalCredits { grossTotal }
  transactions(first: 100) { edges { node { __typename postedDate amounts { net tax gross } balanceCarriedForward
    ... on Charge { isExport consumption { startDate endDate } } } } }
"""


def ask(sim: SimServer, query: str, **variables: Any) -> dict[str, Any]:
    with sim.client() as client:
        mint = 'mutation { obtainKrakenToken(input: {APIKey: "%s"}) { token } }' % DEMO_KEY  # noqa: UP031
        token = client.post("/v1/graphql/", json={"query": mint}).json()["data"]["obtainKrakenToken"]["token"]
        body = client.post(
            "/v1/graphql/", json={"query": query, "variables": variables}, headers={"Authorization": token}
        ).json()
    assert "errors" not in body, body
    return body["data"]["account"]  # type: ignore[no-any-return]


def every_statement(sim: SimServer, open_too: bool) -> list[dict[str, Any]]:
    query = (
        "query($a: String!, $after: String, $open: Boolean) { account(accountNumber: $a) {"
        " bills(first: 2, after: $after, includeOpenStatements: $open) { pageInfo { hasNextPage endCursor }"
        f" edges {{ node {{ ... on StatementType {{ {STATEMENT} }} }} }} }} }} }}"
    )
    out: list[dict[str, Any]] = []
    after = None
    while True:
        bills = ask(sim, query, a=DEMO_ACCOUNT, after=after, open=open_too)["bills"]
        out += [e["node"] for e in bills["edges"]]
        if not bills["pageInfo"]["hasNextPage"]:
            return out
        after = bills["pageInfo"]["endCursor"]


def test_balances_add_up_and_each_charge_carries_five_percent_vat(demo_sim: SimServer) -> None:
    statements = every_statement(demo_sim, open_too=True)
    assert [s["status"] for s in statements] == ["OPEN"] + ["CLOSED"] * 6  # newest period first
    assert [s["fromDate"] for s in statements] == sorted((s["fromDate"] for s in statements), reverse=True)
    for older, newer in zip(statements[1:], statements, strict=False):
        assert newer["openingBalance"] == older["closingBalance"]
    for st in statements[1:]:
        txs = [e["node"] for e in st["transactions"]["edges"]]
        payments = sum(t["amounts"]["net"] for t in txs if t["__typename"] == "Payment")
        charges, credits = st["totalCharges"]["grossTotal"], st["totalCredits"]["grossTotal"]
        assert st["closingBalance"] == st["openingBalance"] - charges + credits + payments
        assert txs[0]["balanceCarriedForward"] == st["closingBalance"]
        assert [t["postedDate"] for t in txs] == sorted((t["postedDate"] for t in txs), reverse=True)
        for t in txs:
            if t["__typename"] != "Charge":
                continue
            net, tax = t["amounts"]["net"], t["amounts"]["tax"]
            if t["isExport"]:
                assert (net < 0, tax) == (True, 0)
            else:
                assert tax == int((Decimal(net) * Decimal("0.05")).quantize(Decimal(1), ROUND_HALF_UP))
            assert st["fromDate"] <= t["consumption"]["startDate"] <= t["consumption"]["endDate"] <= st["toDate"]
    balance = ask(demo_sim, "query($a: String!) { account(accountNumber: $a) { balance } }", a=DEMO_ACCOUNT)
    newest = [e["node"] for e in statements[0]["transactions"]["edges"]]
    assert balance["balance"] == (newest[0]["balanceCarriedForward"] if newest else statements[0]["openingBalance"])


def test_closed_only_by_default_from_date_filters_and_one_bill_by_id(demo_sim: SimServer) -> None:
    closed = every_statement(demo_sim, open_too=False)
    assert len(closed) == 6
    assert all(s["status"] == "CLOSED" for s in closed)
    since = closed[1]["fromDate"]
    query = (
        "query($a: String!, $f: Date) { account(accountNumber: $a) { bills(fromDate: $f) { edges { node { id } } } } }"
    )
    later = ask(demo_sim, query, a=DEMO_ACCOUNT, f=since)["bills"]["edges"]
    assert [e["node"]["id"] for e in later] == [closed[0]["id"], closed[1]["id"]]
    one = "query($a: String!, $id: ID!) { account(accountNumber: $a) { bill(id: $id) { id fromDate } } }"
    assert ask(demo_sim, one, a=DEMO_ACCOUNT, id=closed[2]["id"])["bill"] == {
        "id": closed[2]["id"],
        "fromDate": closed[2]["fromDate"],
    }
    assert ask(demo_sim, one, a=DEMO_ACCOUNT, id="404")["bill"] is None


def test_a_bad_date_or_cursor_is_a_graphql_error_not_a_500(demo_sim: SimServer) -> None:
    with demo_sim.client() as client:
        mint = 'mutation { obtainKrakenToken(input: {APIKey: "%s"}) { token } }' % DEMO_KEY  # noqa: UP031
        token = client.post("/v1/graphql/", json={"query": mint}).json()["data"]["obtainKrakenToken"]["token"]
        for args in ('fromDate: "yesterday"', 'after: "!!"'):
            query = f'query {{ account(accountNumber: "{DEMO_ACCOUNT}") {{ bills({args}) {{ totalCount }} }} }}'
            answer = client.post("/v1/graphql/", json={"query": query}, headers={"Authorization": token})
            assert answer.status_code == httpx.codes.OK
            assert answer.json()["errors"][0]["message"]
