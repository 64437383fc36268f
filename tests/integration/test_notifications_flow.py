"""Orders placed, paid, shipped and cancelled on moto; their history entries
flow stream -> outbox -> EventBridge rule -> SQS -> consumer -> SES, and the
mails are read back from moto's SES."""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib.domain.order import FulfilmentStatus, HistoryEntry, OrderStatus, PaymentStatus
from infrastructure.definitions import RULES, Definitions
from local.delivery import sqs_lambda_event
from tests.conftest import order_body

REGION = "eu-central-1"
MAX_RECEIVES = next(q for q in Definitions().queues if q.name == "notifications").max_receive_count


@dataclass
class Mail:
    to: str
    subject: str
    locale: str
    text: str
    html: str
    headers: Any


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


class Pipeline:
    """Drives the asynchronous half of the system by hand, as Lambda would."""

    def __init__(self, table: str, client: Any, sender_domain: str) -> None:
        self.table = table
        self.lambdas = client.lambda_
        self.sender_domain = sender_domain
        self.ses = boto3.client("sesv2")
        self.sqs = boto3.client("sqs")
        # An explicit endpoint: botocore would otherwise pick an account-based
        # host that moto routes to its DynamoDB backend, not to streams.
        self.streams = boto3.client(
            "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com"
        )
        self.bus = f"orders-{uuid.uuid4().hex[:8]}"
        events = boto3.client("events")
        events.create_event_bus(Name=self.bus)
        self.dlq_url = self.sqs.create_queue(QueueName=f"notify-dlq-{uuid.uuid4().hex[:8]}")[
            "QueueUrl"
        ]
        dlq_arn = self._arn(self.dlq_url)
        self.queue_url = self.sqs.create_queue(
            QueueName=f"notify-{uuid.uuid4().hex[:8]}",
            Attributes={
                # 0 so a failed message can be received again at once.
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}
                ),
            },
        )["QueueUrl"]
        rule = next(r for r in RULES if r.queue == "notifications")
        events.put_rule(
            Name=rule.name, EventBusName=self.bus, EventPattern=json.dumps(rule.pattern)
        )
        events.put_targets(
            Rule=rule.name,
            EventBusName=self.bus,
            Targets=[{"Id": "notifications", "Arn": self._arn(self.queue_url)}],
        )
        stream_arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        self.iterators = [
            self.streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for s in shards
        ]
        self.stream_arn = stream_arn
        self.mails_before = len(sent_messages())
        self.verify_sender()

    def _arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def verify_sender(self) -> None:
        self.ses.create_email_identity(EmailIdentity=self.sender_domain)

    def unverify_sender(self) -> None:
        self.ses.delete_email_identity(EmailIdentity=self.sender_domain)

    # stream -> outbox
    def new_stream_records(self) -> list[dict[str, Any]]:
        records = []
        for i, iterator in enumerate(self.iterators):
            response = self.streams.get_records(ShardIterator=iterator)
            self.iterators[i] = response["NextShardIterator"]
            for record in response["Records"]:
                record["dynamodb"].pop("ApproximateCreationDateTime", None)
                records.append({**record, "eventSourceARN": self.stream_arn})
        return records

    def publish(self, records: list[dict[str, Any]]) -> None:
        self.lambdas.invoke("publish_order_events", {"Records": records})

    # SQS -> consumer
    def receive(self) -> dict[str, Any]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return sqs_lambda_event(messages, self._arn(self.queue_url))

    def consume(self, event: dict[str, Any]) -> list[str]:
        """Runs the consumer; deletes what succeeded, as Lambda does. Returns
        the ids reported as failed."""
        payload = self.lambdas.invoke("send_notifications", event).payload
        failed = [f["itemIdentifier"] for f in payload["batchItemFailures"]]
        for record in event["Records"]:
            if record["messageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"]
                )
        return failed

    def flow(self) -> dict[str, Any]:
        """Stream -> bus -> queue; returns the SQS event that arrived."""
        self.publish(self.new_stream_records())
        return self.receive()

    def mails(self) -> list[Mail]:
        out = []
        for message in sent_messages()[self.mails_before :]:
            parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
            out.append(
                Mail(
                    to=parsed["To"],
                    subject=parsed["Subject"],
                    locale=parsed["Content-Language"],
                    text=parsed.get_body(("plain",)).get_content(),
                    html=parsed.get_body(("html",)).get_content(),
                    headers=parsed,
                )
            )
        return out


@pytest.fixture
def pipeline(api, table, monkeypatch) -> Pipeline:
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap

    domain = f"{uuid.uuid4().hex[:8]}.example.com"
    monkeypatch.setenv("SHOP_EMAIL_SENDER", f"Teeladen <shop@{domain}>")
    monkeypatch.setenv("SHOP_DISPLAY_NAME", "Teeladen")
    monkeypatch.setenv("SHOP_MERCHANT_EMAIL", "merchant@example.com")
    monkeypatch.setenv("SHOP_MERCHANT_LOCALE", "en")
    with Client(app, stage_name="dev") as client:
        p = Pipeline(table, client, domain)
        monkeypatch.setenv("SHOP_EVENT_BUS_NAME", p.bus)
        bootstrap.reset()
        yield p


def place(api, locale="de", email_address="erika@example.com") -> dict[str, Any]:
    api.add_product("tea", available=10, price=1190, tax_rate="7")
    body = order_body(
        [("tea", 2)],
        locale=locale,
        customer={"email": email_address, "name": "Erika Mustermann"},
    )
    r = api.place(body)
    assert r.status_code == 201, r.json
    return r.json


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
    r = api.call(
        "POST",
        f"/orders/{order['id']}/cancel",
        {"reason": "ordered the wrong tea"},
        {"Authorization": f"Bearer {order['token']}"},
    )
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
