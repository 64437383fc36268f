"""Exactly one email per (order, kind, event), with fakes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chalicelib.jobs.outbox import PublishFailed, event_for, event_id, publish
from chalicelib.notify.emails import Shop
from chalicelib.notify.service import Notifier, send_event_emails
from chalicelib.services.ports import ReceiptKey, SendFailed, SendInProgress
from local.email_samples import sample
from tests.fakes import FakeEmailReceipts, FakeMailer


@pytest.fixture
def mailer():
    return FakeMailer()


@pytest.fixture
def receipts():
    return FakeEmailReceipts()


@pytest.fixture
def notifier(receipts, mailer, settings, clock):
    return Notifier(
        receipts=receipts,
        mailer=mailer,
        shop=Shop.from_settings(settings),
        settings=settings,
        clock=clock,
    )


def test_placement_sends_confirmation_and_merchant_mail_once(notifier, mailer):
    detail = sample("OrderPlaced", "en")
    assert send_event_emails("OrderPlaced", detail, notifier) == [
        "order_confirmation",
        "new_order",
    ]
    assert send_event_emails("OrderPlaced", detail, notifier) == []
    assert [(m.kind, m.to) for m in mailer.sent] == [
        ("order_confirmation", "erika@example.com"),
        ("new_order", "orders@example.com"),
    ]


def test_another_event_of_the_same_kind_sends_again(notifier, mailer):
    send_event_emails("OrderRefunded", sample("OrderRefunded", event_id="refund-1"), notifier)
    send_event_emails("OrderRefunded", sample("OrderRefunded", event_id="refund-2"), notifier)
    assert len(mailer.sent) == 2


def test_a_failed_send_leaves_no_receipt_and_the_retry_sends_once(notifier, mailer):
    detail = sample("OrderShipped", "de")
    mailer.fail_next = 1
    with pytest.raises(SendFailed):
        send_event_emails("OrderShipped", detail, notifier)
    assert mailer.sent == []
    assert send_event_emails("OrderShipped", detail, notifier) == ["order_shipped"]
    assert send_event_emails("OrderShipped", detail, notifier) == []
    assert len(mailer.sent) == 1


def test_a_partly_failed_event_resends_only_what_failed(notifier, mailer):
    detail = sample("OrderPlaced", "de")

    class FailMerchantOnce(FakeMailer):
        failed = False

        def send(self, email):
            if email.kind == "new_order" and not self.failed:
                self.failed = True
                raise SendFailed("Throttling")
            return super().send(email)

    flaky = FailMerchantOnce()
    n = Notifier(notifier.receipts, flaky, notifier.shop, notifier.settings, notifier.clock)
    with pytest.raises(SendFailed):
        send_event_emails("OrderPlaced", detail, n)
    assert send_event_emails("OrderPlaced", detail, n) == ["new_order"]
    assert [m.kind for m in flaky.sent] == ["order_confirmation", "new_order"]


def test_a_claim_in_flight_defers_the_duplicate_until_its_lease_ends(
    notifier, receipts, mailer, clock
):
    detail = sample("OrderDelivered", "en")
    key = ReceiptKey(detail["order"]["id"], "order_delivered", detail["event_id"])
    receipts.claim(key, now=int(clock().timestamp()), lease_seconds=120, ttl_seconds=3600)
    with pytest.raises(SendInProgress):
        send_event_emails("OrderDelivered", detail, notifier)
    assert mailer.sent == []
    clock.advance(seconds=121)  # the worker holding the claim died
    assert send_event_emails("OrderDelivered", detail, notifier) == ["order_delivered"]


def test_a_detail_that_breaks_its_schema_is_refused(notifier, mailer):
    detail = sample("OrderShipped")
    del detail["data"]["tracking_number"]
    with pytest.raises(ValueError):
        send_event_emails("OrderShipped", detail, notifier)
    assert mailer.sent == []


# --- outbox ----------------------------------------------------------------------------


def history_item(**overrides):
    return {
        "PK": "ORDER#o1",
        "SK": "HISTORY#2026-11-23T12:00:00+00:00#ab12",
        "entity": "history",
        "order_id": "o1",
        "at": "2026-11-23T12:00:00+00:00",
        "event": "OrderCancelled",
        "actor": "customer",
        "message": "Order cancelled: x",
        "visibility": "customer",
        "data": {"reason": "x", "previous_status": "pending_payment"},
        "order": sample("OrderCancelled")["order"],
        **overrides,
    }


def test_a_history_item_becomes_its_event_with_a_stable_id():
    detail_type, detail = event_for(history_item())
    assert detail_type == "OrderCancelled"
    assert (
        detail["event_id"] == event_id(history_item()) == event_for(history_item())[1]["event_id"]
    )
    assert detail["event_id"] != event_for(history_item(SK="HISTORY#other"))[1]["event_id"]
    assert detail["order"]["number"] == "K7Q-4M2-XP"
    assert detail["data"] == {"reason": "x", "previous_status": "pending_payment"}
    assert detail["schema_version"] == 1


def test_other_items_are_not_events():
    assert event_for({"PK": "ORDER#o1", "SK": "ORDER", "entity": "order"}) is None
    assert event_for({"PK": "EMAILRECEIPT#o1", "SK": "x", "entity": "email_receipt"}) is None


class RecordingEvents:
    def __init__(self, fail_entry: int | None = None):
        self.calls = []
        self.fail_entry = fail_entry

    def put_events(self, Entries):
        self.calls.append(Entries)
        entries = [{"EventId": str(i)} for i in range(len(Entries))]
        failed = 0
        if self.fail_entry is not None and self.fail_entry < len(Entries):
            entries[self.fail_entry] = {"ErrorCode": "InternalFailure"}
            failed = 1
        return {"FailedEntryCount": failed, "Entries": entries}


def test_events_are_put_in_chunks_of_ten_on_the_bus():
    events = [("OrderPlaced", {"n": i}) for i in range(23)]
    client = RecordingEvents()
    assert publish(events, client, "orders") == 23
    assert [len(call) for call in client.calls] == [10, 10, 3]
    first = client.calls[0][0]
    assert (first["EventBusName"], first["Source"], first["DetailType"]) == (
        "orders",
        "shop.orders",
        "OrderPlaced",
    )
    assert json.loads(first["Detail"]) == {"n": 0}


def test_a_refused_entry_fails_the_batch_so_the_stream_retries_it():
    with pytest.raises(PublishFailed):
        publish([("OrderPlaced", {})] * 3, RecordingEvents(fail_entry=1), "orders")


class PickupCodes:
    def __init__(self, codes: dict[str, str]) -> None:
        self.codes = codes

    def pickup_code(self, order_id: str) -> str | None:
        return self.codes.get(order_id)


def test_the_ready_for_pickup_email_shows_the_code_read_from_the_order(notifier, mailer):
    detail = sample("OrderReadyForPickup", "de")
    with_codes = replace(notifier, pickup_codes=PickupCodes({detail["order"]["id"]: "070809"}))
    assert send_event_emails("OrderReadyForPickup", detail, with_codes) == ["ready_for_pickup"]
    (email,) = mailer.sent
    assert "070809" in email.text and "070809" in email.html
    assert "Laden Berlin-Mitte" in email.text and "Torstr. 12" in email.text
    assert "Mo-Fr 10-19 Uhr, Sa 10-16 Uhr" in email.text
    assert email.subject == "Ihre Bestellung K7Q-4M2-XP liegt zur Abholung bereit"


def test_without_the_order_s_code_the_email_is_not_sent_and_retried(notifier, mailer):
    detail = sample("OrderReadyForPickup", "en")
    with pytest.raises(RuntimeError):
        send_event_emails(
            "OrderReadyForPickup", detail, replace(notifier, pickup_codes=PickupCodes({}))
        )
    assert mailer.sent == []
