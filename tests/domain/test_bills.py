"""Statements parsed and reconciled, pure: the odd payloads (no transactions, a credit larger than the
charges, a period straddling a move-out, an unknown transaction type, a broken statement) each give a
clear line; the arithmetic of a bill (net to the penny, VAT 5 % half up, export without VAT)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from octoscope.domain.bills import (
    OurCost,
    Window,
    balances,
    billed,
    billed_kwh,
    reconcile,
    statement_from_dict,
    statement_to_dict,
    windows_needed,
)
from octoscope.octopus.errors import UnexpectedResponse
from octoscope.octopus.parse import statements_page

FUELS = ("electricity", "gas", "export")


def charge(start: str, end: str, kwh: str, net: int, usage: int, supply: int, **extra: Any) -> dict[str, Any]:
    tax = 0 if extra.get("isExport") else round(net * 0.05)
    return {
        "__typename": "Charge",
        "id": f"-{start}{kwh}",
        "postedDate": end,
        "title": extra.pop("title", "Electricity"),
        "amounts": {"net": net, "tax": tax, "gross": net + tax},
        "isExport": False,
        "consumption": {
            "startDate": start,
            "endDate": end,
            "quantity": kwh,
            "unit": "kWh",
            "usageCost": usage,
            "supplyCharge": supply,
        },
        **extra,
    }


def node(transactions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "__typename": "StatementType",
        "id": "9001",
        "billType": "STATEMENT",
        "fromDate": "2026-10-01",
        "toDate": "2026-10-31",  # 25 October has 50 half-hours
        "issuedDate": "2026-11-01",
        "status": "CLOSED",
        "openingBalance": 1000,
        "closingBalance": 2000,
        "transactions": {"pageInfo": {"hasNextPage": False}, "edges": [{"node": t} for t in transactions]},
        **extra,
    }


def page(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"account": {"bills": {"pageInfo": {"hasNextPage": False}, "edges": [{"node": n} for n in nodes]}}}


def ours(kwh: float, usage: float, supply: float, **extra: Any) -> OurCost:
    held = extra.pop("half_hours", 1490)
    return OurCost(kwh, usage, supply, held, extra.pop("expected", 1490), **extra)


OCTOBER = Window("electricity", date(2026, 10, 1), date(2026, 10, 31))


def test_a_bill_rounds_net_to_the_penny_and_vat_half_up() -> None:
    assert billed("electricity", ours(10, 2710.5, 0)) == (2711, 136)  # 135.55 -> 136, as CAP's charge
    assert billed("export", ours(10, 5122.6, 0)) == (-5123, 0)
    assert billed_kwh(0.125) == 0.12  # half to even, as costs' billing rounding
    assert billed_kwh(0.135) == 0.14


def test_when_everything_agrees_then_the_line_matches_to_the_penny() -> None:
    st = statements_page(page(node([charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609)]))).statements[0]
    assert windows_needed(st, ("electricity",)) == [OCTOBER]
    report = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8053.2, 1609.1)})
    (line,) = report.lines
    assert (line.theirs, line.ours, line.difference, line.matches) == (10145, 10145, 0, True)
    assert not report.flagged


def test_when_the_kwh_differ_on_complete_data_then_it_is_their_estimated_read() -> None:
    st = statements_page(page(node([charge("2026-10-01", "2026-10-31", "500.00", 11000, 9391, 1609)]))).statements[0]
    line = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8053.2, 1609.1)}).lines[0]
    assert not line.matches
    assert [r.cause for r in line.reasons] == ["estimated_read"]
    assert "500.00 kWh" in line.reasons[0].text


def test_when_our_half_hours_are_missing_then_it_is_our_missing_readings() -> None:
    st = statements_page(page(node([charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609)]))).statements[0]
    line = reconcile(st, ("electricity",), {OCTOBER: ours(400.0, 7600.0, 1609.1, half_hours=1400)}).lines[0]
    assert [r.cause for r in line.reasons] == ["missing_readings"]
    assert "1400 of 1490 half-hours" in line.reasons[0].text


def test_when_the_days_are_recent_then_our_readings_may_still_change() -> None:
    st = statements_page(page(node([charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609)]))).statements[0]
    line = reconcile(
        st, ("electricity",), {OCTOBER: ours(419.0, 8010.0, 1609.1, half_hours=1480, unsettled_days=2)}
    ).lines[0]
    assert [r.cause for r in line.reasons] == ["provisional_readings"]
    assert "2 recent day(s)" in line.reasons[0].text


def test_a_statement_with_no_transactions_says_so_and_what_is_unbilled() -> None:
    st = statements_page(page(node([]))).statements[0]
    report = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8053.2, 1609.1)})
    assert "the statement has no transactions" in report.notes
    (line,) = report.lines
    assert (line.theirs, line.ours) == (0, 10145)
    assert [r.cause for r in line.reasons] == ["not_billed"]


def test_a_credit_larger_than_the_charges_is_a_note_not_a_fuel() -> None:
    credit = {
        "__typename": "Credit",
        "id": "77",
        "postedDate": "2026-10-20",
        "title": "Goodwill",
        "amounts": {"net": 47619, "tax": 2381, "gross": 50000},
        "balanceCarriedForward": 51000,
    }
    st = statements_page(
        page(node([charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609), credit]))
    ).statements[0]
    report = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8053.2, 1609.1)})
    assert report.lines[0].matches
    assert any("credits of £500.00" in n for n in report.notes)
    assert any("exceed the charges (£101.45)" in n for n in report.notes)


def test_a_period_straddling_a_move_out_is_compared_on_the_days_before_it() -> None:
    st = statements_page(page(node([charge("2026-10-01", "2026-10-14", "200.00", 4000, 3300, 700)]))).statements[0]
    after = Window("electricity", date(2026, 10, 15), date(2026, 10, 31))
    assert windows_needed(st, ("electricity",)) == [Window("electricity", date(2026, 10, 1), date(2026, 10, 14)), after]
    costs = {
        Window("electricity", date(2026, 10, 1), date(2026, 10, 14)): ours(200.0, 3300.2, 700.0, expected=672),
        after: ours(0, 0, 0, half_hours=0, expected=0, days_outside=17),
    }
    line = reconcile(st, ("electricity",), costs).lines[0]
    assert line.matches
    assert [r.cause for r in line.reasons] == ["outside_data"]
    assert "17 day(s) of 2026-10-15..2026-10-31" in line.reasons[0].text


def test_an_unknown_transaction_type_is_kept_as_a_line_and_not_counted() -> None:
    odd = {"__typename": "Adjustment", "id": "5", "postedDate": "2026-10-03", "amounts": {"net": 999, "tax": 0}}
    st = statements_page(page(node([charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609), odd]))).statements[
        0
    ]
    report = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8053.2, 1609.1)})
    assert "transaction 5 is of an unknown type 'Adjustment': not counted" in report.notes
    assert report.lines[0].matches


def test_a_charge_without_a_window_is_counted_and_said_not_compared() -> None:
    windowless = charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609)
    windowless["consumption"] = None
    st = statements_page(page(node([windowless]))).statements[0]
    report = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8053.2, 1609.1)})
    assert report.notes == ("charge -2026-10-01421.30 (Electricity) has no consumption window: counted, not compared",)
    assert (report.lines[0].theirs, report.lines[0].ours, report.lines[0].matches) == (10145, 10145, True)
    assert report.lines[0].reasons == ()


def test_a_missed_export_credit_and_a_correction_of_earlier_days() -> None:
    export = Window("export", date(2026, 10, 1), date(2026, 10, 31))
    earlier = Window("electricity", date(2026, 9, 24), date(2026, 9, 30))
    st = statements_page(
        page(
            node(
                [
                    charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609),
                    charge("2026-09-24", "2026-09-30", "-23.23", -506, -506, 0),
                ]
            )
        )
    ).statements[0]
    costs = {OCTOBER: ours(421.30, 8053.2, 1609.1), export: ours(155.0, 2435.0, 0), earlier: ours(77.4, 1690, 300)}
    lines = {line.fuel: line for line in reconcile(st, FUELS, costs).lines}
    assert [r.cause for r in lines["electricity"].reasons] == ["estimate_correction"]
    assert lines["electricity"].difference == -531
    assert [r.cause for r in lines["export"].reasons] == ["missed_export"]
    assert (lines["export"].theirs, lines["export"].ours) == (0, -2435)
    assert "gas" not in lines  # neither side has gas


def test_same_kwh_cheaper_usage_without_dispatches_is_dispatch_pricing_and_a_dearer_standing_charge() -> None:
    st = statements_page(page(node([charge("2026-10-01", "2026-10-31", "421.30", 9800, 8053, 1747)]))).statements[0]
    line = reconcile(st, ("electricity",), {OCTOBER: ours(421.30, 8240.0, 1609.1, dispatches_known=False)}).lines[0]
    assert [r.cause for r in line.reasons] == ["dispatch_pricing", "standing_charge"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"fromDate": None}, "statement 9001 has no period (fromDate/toDate)"),
        ({"toDate": "2026-09-01"}, "statement 9001 ends (2026-09-01) before it starts (2026-10-01)"),
        ({"openingBalance": "lots"}, "openingBalance is not a whole number: 'lots'"),
        ({"fromDate": "1st October"}, "fromDate = '1st October' is not a date"),
    ],
)
def test_a_broken_statement_is_one_line_naming_the_field(broken: dict[str, Any], message: str) -> None:
    with pytest.raises(UnexpectedResponse) as err:
        statements_page(page(node([], **broken)))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_payload_without_bills_is_one_line() -> None:
    with pytest.raises(UnexpectedResponse, match=r"bills: account\.bills is missing"):
        statements_page({"account": {}})


def test_kept_statements_round_trip_and_the_balance_follows_the_transactions() -> None:
    payment = {
        "__typename": "Payment",
        "id": "8",
        "postedDate": "2026-10-15",
        "title": "Direct debit",
        "amounts": {"net": 15000, "tax": 0, "gross": 0},
        "balanceCarriedForward": 16000,
    }
    bill = charge("2026-10-01", "2026-10-31", "421.30", 9662, 8053, 1609, balanceCarriedForward=5855)
    st = statements_page(page(node([bill, payment], closingBalance=5855))).statements[0]
    assert statement_from_dict(statement_to_dict(st)) == st
    assert st.transactions[1].gross == 15000  # a payment carries only its net
    assert balances([st]) == [(date(2026, 10, 1), 1000), (date(2026, 10, 15), 16000), (date(2026, 10, 31), 5855)]
