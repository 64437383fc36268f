"""Drives the asynchronous half of the system by hand, as Lambda would:
DynamoDB stream -> outbox -> EventBridge rule -> SQS -> consumer -> SES
(moto), with the mails read back from moto's SES. Shared by the integration
tests that follow an order past the API (``pipeline`` fixture in
tests/integration/conftest.py)."""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from infrastructure.definitions import RULES, Definitions
from local.delivery import sqs_lambda_event, stream_lambda_records
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


@dataclass
class Delivery:
    """What driving the pipeline took: outbox invocations and how many of them
    raised, stream records published, queue messages received and reported
    failed by the consumer."""

    invocations: int = 0
    crashes: int = 0
    records: int = 0
    receives: int = 0
    failures: int = 0

    def add(self, other: Delivery) -> None:
        for name in ("invocations", "crashes", "records", "receives", "failures"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


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
            records.extend(stream_lambda_records(response["Records"], self.stream_arn))
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

    def deliver_stream(self, max_attempts: int = 10) -> Delivery:
        """New stream records -> the outbox, as Lambda's stream poller does:
        a batch whose handler raises is handed over again, whole, until it
        goes through (at most ``max_attempts`` times)."""
        delivery = Delivery()
        records = self.new_stream_records()
        if not records:
            return delivery
        for _ in range(max_attempts):
            delivery.invocations += 1
            try:
                self.publish(records)
            except Exception:
                delivery.crashes += 1
                continue
            delivery.records += len(records)
            return delivery
        raise AssertionError(f"the outbox kept failing on {len(records)} records")

    def run_until_quiet(self, max_rounds: int = 50) -> Delivery:
        """Stream -> outbox -> bus -> queue -> consumer, over and over, until a
        round moves nothing: what Lambda's pollers do over time. A message the
        consumer reports failed comes back at once (visibility timeout 0) and
        the queue's redrive policy dead-letters it after MAX_RECEIVES."""
        total = Delivery()
        for _ in range(max_rounds):
            round_ = self.deliver_stream()
            event = self.receive()
            if not round_.invocations and not event["Records"]:
                return total
            total.add(round_)
            if event["Records"]:
                total.receives += len(event["Records"])
                total.failures += len(self.consume(event))
        raise AssertionError(f"not quiet after {max_rounds} rounds")

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )

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


def running_pipeline(api: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The body of the ``pipeline`` fixture: a fresh bus, queue and DLQ per test."""
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


def place(
    api, locale="de", email_address="erika@example.com", payment_method="card"
) -> dict[str, Any]:
    api.add_product("tea", available=10, price=1190, tax_rate="7")
    body = order_body(
        [("tea", 2)],
        locale=locale,
        customer={"email": email_address, "name": "Erika Mustermann"},
        payment_method=payment_method,
    )
    r = api.place(body)
    assert r.status_code == 201, r.json
    return r.json
