"""One contract, two implementations: the in-memory FakePaymentRecords the
unit tests use and the DynamoDB adapter behave the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from chalicelib.store.payments import DynamoPaymentRecords
from tests.fakes import FakePaymentRecords, FakeTable

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def records(request: Any) -> Any:
    if request.param == "fake":
        return FakePaymentRecords(FakeTable())
    table = request.getfixturevalue("table")
    return DynamoPaymentRecords(boto3.client("dynamodb"), table)


def claim(records: Any, event_id: str = "evt_1") -> bool:
    return records.claim_receipt(
        "stripe",
        event_id,
        order_id="order-1",
        event_type="checkout.session.completed",
        received_at=NOW,
        expires_at=1_800_000_000,
    )


def test_a_new_event_is_claimed(records):
    assert claim(records) is True


def test_an_event_claimed_but_never_handed_on_may_be_claimed_again(records):
    assert claim(records) is True
    assert claim(records) is True  # the first attempt died before queueing


def test_an_event_handed_on_is_a_duplicate(records):
    claim(records)
    records.mark_handed_on("stripe", "evt_1")
    assert claim(records) is False
    assert claim(records, "evt_2") is True  # other events are not affected


def test_receipts_are_per_provider(records):
    claim(records)
    records.mark_handed_on("stripe", "evt_1")
    assert (
        records.claim_receipt(
            "hmac", "evt_1", order_id="o", event_type="t", received_at=NOW, expires_at=1
        )
        is True
    )


def test_a_payment_reference_leads_to_its_order(records):
    assert records.order_for_payment("stripe", "pi_1") is None
    records.remember_payment("stripe", "pi_1", "order-1")
    records.remember_payment("stripe", "pi_1", "order-1")  # idempotent
    assert records.order_for_payment("stripe", "pi_1") == "order-1"
    assert records.order_for_payment("hmac", "pi_1") is None


def test_an_unknown_order_number_has_no_order(records):
    assert records.order_for_number("ZZZZ-ZZZZ") is None
