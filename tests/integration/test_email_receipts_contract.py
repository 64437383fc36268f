"""One contract for the email receipt store: the fake and DynamoDB."""

from __future__ import annotations

import pytest

from chalicelib.services.ports import AlreadySent, ReceiptKey, SendInProgress
from tests.fakes import FakeEmailReceipts

KEY = ReceiptKey("order-1", "order_shipped", "evt-1")
T = 1_800_000_000


@pytest.fixture(params=["fake", "dynamodb"])
def receipts(request):
    if request.param == "fake":
        return FakeEmailReceipts()
    import boto3

    from chalicelib.store.email_receipts import DynamoEmailReceipts

    table = request.getfixturevalue("table")
    return DynamoEmailReceipts(boto3.client("dynamodb"), table)


def claim(receipts, key=KEY, now=T):
    return receipts.claim(key, now=now, lease_seconds=120, ttl_seconds=86400)


def test_a_sent_email_is_never_claimed_again(receipts):
    token = claim(receipts)
    receipts.complete(KEY, token, message_id="m1", now=T)
    with pytest.raises(AlreadySent):
        claim(receipts)
    with pytest.raises(AlreadySent):
        claim(receipts, now=T + 10_000)  # not even after the lease


def test_a_live_claim_blocks_a_second_sender_until_its_lease_ends(receipts):
    claim(receipts)
    with pytest.raises(SendInProgress):
        claim(receipts, now=T + 120)
    assert claim(receipts, now=T + 121)


def test_a_released_claim_can_be_taken_again_at_once(receipts):
    token = claim(receipts)
    receipts.release(KEY, token)
    assert claim(receipts)


def test_only_the_holder_can_release_or_complete(receipts):
    stale = claim(receipts)
    current = claim(receipts, now=T + 121)  # took over an expired claim
    receipts.release(KEY, stale)  # no effect
    receipts.complete(KEY, stale, message_id="m-stale", now=T + 122)  # no effect
    with pytest.raises(SendInProgress):
        claim(receipts, now=T + 122)
    receipts.complete(KEY, current, message_id="m1", now=T + 123)
    with pytest.raises(AlreadySent):
        claim(receipts, now=T + 124)


def test_receipts_are_per_kind_and_per_event(receipts):
    claim(receipts)
    assert claim(receipts, ReceiptKey("order-1", "order_delivered", "evt-1"))
    assert claim(receipts, ReceiptKey("order-1", "order_shipped", "evt-2"))
    assert claim(receipts, ReceiptKey("order-2", "order_shipped", "evt-1"))
