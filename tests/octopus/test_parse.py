"""Payload parsing cases not covered by the client tests."""

from __future__ import annotations

from datetime import UTC, datetime

from octoscope.octopus.parse import rates_page


def test_a_price_with_no_start_has_been_in_force_since_ever() -> None:
    # Outgoing standing charges have been seen with valid_from and valid_to both null.
    payload = {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {"value_exc_vat": 0.0, "value_inc_vat": 0.0, "valid_from": None, "valid_to": None, "payment_method": None}
        ],
    }
    (rate,) = rates_page(payload, "standing charges").items
    assert rate.valid_from == datetime(1970, 1, 1, tzinfo=UTC)
    assert rate.valid_to is None
