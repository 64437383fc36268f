"""Orders placed, paid, shipped and cancelled on moto; their history entries
flow stream -> outbox -> EventBridge rule -> SQS -> consumer -> SES, and the
mails are read back from moto's SES."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.domain.order import FulfilmentStatus, HistoryEntry, OrderStatus, PaymentStatus
from tests.pipeline import MAX_RECEIVES, place


def test_placing_an_order_mails_the_customer_in_their_language_and_the_merchant(api, pipeline):
    order = place(api, locale="de")
    event = pipeline.flow()
    assert [json.loads(r["body"])["detail-type"] for r in event["Records"]] == ["OrderPlaced"]
    assert pipeline.consume(event) == []

    customer, merchant = sorted(pipeline.mails(), key=lambda m: m.to)
    assert customer.to == "erika@example.com"
    assert customer.subject == f"Ihre Bestellung {order['number']} bei Teeladen"
    assert customer.locale == "de"
    assert "23,80 €" in customer.text and "23,80 €" in customer.html
    assert customer.headers["List-Unsubscribe"] is None  # transactional
    assert merchant.to == "merchant@example.com"
    assert merchant.subject == f"New order {order['number']} for €23.80"
    assert merchant.locale == "en"


def test_a_bank_transfer_confirmation_reaches_ses_with_its_girocode_and_the_contract(api, pipeline):
    order = place(api, locale="de", payment_method="bank_transfer")
    assert pipeline.consume(pipeline.flow()) == []
    customer = next(m for m in pipeline.mails() if m.to == "erika@example.com")
    # The SES adapter's raw MIME: the HTML and its GiroCode as one related part.
    kinds = [part.get_content_type() for part in customer.headers.walk()]
    assert kinds == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    image = next(p for p in customer.headers.walk() if p.get_content_type() == "image/png")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in customer.html
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    for needle in ("Teeladen GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "23,80 €"):
        assert needle in customer.text
    assert f"Verwendungszweck: {order['number']}" in customer.text
    assert f"Fassung {order['terms_version']}" in customer.text
    assert "WIDERRUFSBELEHRUNG" in customer.text and "MUSTER-WIDERRUFSFORMULAR" in customer.text


def test_the_same_stream_record_twice_sends_no_duplicate(api, pipeline):
    place(api, locale="en")
    records = pipeline.new_stream_records()
    pipeline.publish(records)
    pipeline.publish(records)  # the stream redelivers the batch
    event = pipeline.receive()
    assert len(event["Records"]) == 2  # two events, one event_id
    assert pipeline.consume(event) == []
    assert sorted(m.to for m in pipeline.mails()) == ["erika@example.com", "merchant@example.com"]


def test_the_same_sqs_message_twice_sends_no_duplicate(api, pipeline):
    place(api, locale="en")
    event = pipeline.flow()
    assert pipeline.consume(event) == []
    assert pipeline.consume(event) == []  # SQS redelivers
    assert len(pipeline.mails()) == 2


def test_cancelling_through_the_api_mails_the_reason(api, pipeline):
    order = place(api, locale="en")
    pipeline.consume(pipeline.flow())
    r = api.cancel(order, "ordered the wrong tea")
    assert r.status_code == 200, r.json
    event = pipeline.flow()
    assert [json.loads(r["body"])["detail-type"] for r in event["Records"]] == ["OrderCancelled"]
    assert pipeline.consume(event) == []
    cancelled = pipeline.mails()[-1]
    assert cancelled.to == "erika@example.com"
    assert cancelled.subject == f"Your order {order['number']} has been cancelled"
    assert "Reason: ordered the wrong tea" in cancelled.text
    assert "ordered the wrong tea" in cancelled.html


def test_paying_and_shipping_mail_the_receipt_and_the_tracking_link(api, pipeline, clock):
    from chalicelib import bootstrap

    order = place(api, locale="en")
    pipeline.consume(pipeline.flow())
    # Payment and shipping have no API on this branch yet: their changes go
    # through the same store path (OrderStore.apply) the services will use.
    store = bootstrap.context().orders
    current = store.get(order["id"]).order
    now = current.updated_at + timedelta(minutes=1)
    paid = current.change(
        OrderStatus.PAID,
        at=now,
        payment_status=PaymentStatus.PAID,
        history=[
            HistoryEntry(
                at=now,
                event="OrderPaid",
                actor="provider:fake",
                message="Payment received",
                data={"amount": 2380, "currency": "EUR", "provider": "fake"},
            )
        ],
    )
    store.apply(paid)
    url = "https://www.dhl.de/track?piececode=00340434161094042557"
    shipped = paid.order.change(
        OrderStatus.SHIPPED,
        at=now + timedelta(hours=2),
        fulfilment_status=FulfilmentStatus.SHIPPED,
        history=[
            HistoryEntry(
                at=now + timedelta(hours=2),
                event="OrderShipped",
                actor="merchant",
                message="Shipped with DHL",
                data={
                    "shipment_id": "shp_1",
                    "carrier": "dhl",
                    "tracking_number": "00340434161094042557",
                    "tracking_url": url,
                    "lines": [{"sku": "tea", "quantity": 2}],
                },
            )
        ],
    )
    store.apply(shipped)
    event = pipeline.flow()
    assert [json.loads(r["body"])["detail-type"] for r in event["Records"]] == [
        "OrderPaid",
        "OrderShipped",
    ]
    assert pipeline.consume(event) == []
    receipt, shipping = pipeline.mails()[-2:]
    assert receipt.subject == f"Payment received for order {order['number']}"
    assert "€23.80" in receipt.text
    assert shipping.subject == f"Your order {order['number']} is on its way"
    assert f'href="{url}"' in shipping.html
    assert url in shipping.text
    assert "Tracking number: 00340434161094042557" in shipping.text


def test_after_a_failed_send_the_retry_sends_exactly_once(api, pipeline):
    place(api, locale="en")
    event = pipeline.flow()
    pipeline.unverify_sender()  # SES refuses: MessageRejected
    failed = pipeline.consume(event)
    assert failed == [event["Records"][0]["messageId"]]
    assert pipeline.mails() == []
    pipeline.verify_sender()
    retry = pipeline.receive()  # the message is back on the queue
    assert [r["messageId"] for r in retry["Records"]] == failed
    assert pipeline.consume(retry) == []
    assert pipeline.consume(retry) == []
    assert sorted(m.to for m in pipeline.mails()) == ["erika@example.com", "merchant@example.com"]


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(api, pipeline):
    place(api, locale="en")
    pipeline.publish(pipeline.new_stream_records())
    pipeline.unverify_sender()
    for _ in range(MAX_RECEIVES):
        event = pipeline.receive()
        assert len(event["Records"]) == 1
        assert pipeline.consume(event) == [event["Records"][0]["messageId"]]
    assert pipeline.receive()["Records"] == []
    dead = pipeline.sqs.receive_message(QueueUrl=pipeline.dlq_url).get("Messages", [])
    assert [json.loads(m["Body"])["detail-type"] for m in dead] == ["OrderPlaced"]
    assert pipeline.mails() == []
