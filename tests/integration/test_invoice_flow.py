"""Invoices issued through the event path on moto: the API pays and refunds an
order, its history entries go stream -> outbox -> EventBridge rule
``invoice-order-events`` -> the invoices queue -> ``issue_invoices``."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from chalicelib import bootstrap
from infrastructure.definitions import RULES
from local.delivery import sqs_lambda_event
from tests.conftest import order_body


class InvoiceQueue:
    """The invoices queue on the pipeline's bus, with the deployed rule."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(
            QueueName=f"invoices-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "0"}
        )["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule = next(r for r in RULES if r.queue == "invoices")
        events = boto3.client("events")
        events.put_rule(
            Name=rule.name, EventBusName=pipeline.bus, EventPattern=json.dumps(rule.pattern)
        )
        events.put_targets(
            Rule=rule.name, EventBusName=pipeline.bus, Targets=[{"Id": "inv", "Arn": self.arn}]
        )

    def flow(self):
        """Stream -> bus -> this queue; the SQS event that arrived."""
        self.pipeline.publish(self.pipeline.new_stream_records())
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return sqs_lambda_event(messages, self.arn)

    def consume(self, event):
        payload = self.pipeline.lambdas.invoke("issue_invoices", event).payload
        return [f["itemIdentifier"] for f in payload["batchItemFailures"]]


@pytest.fixture
def invoices(pipeline):
    return InvoiceQueue(pipeline)


def detail_types(event):
    return [json.loads(r["body"])["detail-type"] for r in event["Records"]]


def paid_bank_transfer(api):
    api.add_product("tea", available=10, price=1190, tax_rate="7")
    api.add_product("mug", available=10, price=1900, tax_rate="19")
    r = api.place(order_body([("tea", 2), ("mug", 1)], payment_method="bank_transfer"))
    assert r.status_code == 201, r.json
    order = r.json
    r = api.admin("POST", f"/admin/orders/{order['id']}/payments", {"bank_reference": "TX-1"})
    assert r.status_code == 200, r.json
    return order


def test_paying_an_order_issues_its_invoice_once_through_the_events(api, invoices):
    order = paid_bank_transfer(api)
    event = invoices.flow()
    assert detail_types(event) == ["OrderPaid"]  # OrderPlaced is not routed here
    assert invoices.consume(event) == []
    assert invoices.consume(event) == []  # SQS redelivers the message

    store = bootstrap.invoicing().invoices
    issued = store.invoice_of(order["id"])
    assert issued is not None and issued.invoice.number.endswith("-00001")
    assert issued.invoice.gross == order["totals"]["total"] == 4280
    assert store.last_number(issued.invoice.number[:7]) == 1
    # Its InvoiceIssued entry is on the order's history and published.
    r = api.admin("GET", f"/admin/orders/{order['id']}")
    assert "InvoiceIssued" in [e["event"] for e in r.json["history"]]


def test_a_refund_after_the_invoice_issues_a_credit_note_naming_it(api, invoices):
    order = paid_bank_transfer(api)
    invoices.consume(invoices.flow())
    r = api.admin("POST", f"/admin/orders/{order['id']}/refunds", {"amount": 1000})
    assert r.status_code == 200, r.json
    event = invoices.flow()
    assert "OrderRefunded" in detail_types(event)
    assert invoices.consume(event) == []
    invoices.consume(event)

    store = bootstrap.invoicing().invoices
    (note,) = store.credit_notes_of(order["id"])
    issued = store.invoice_of(order["id"])
    assert note.invoice_number == issued.invoice.number
    assert note.gross == -1000
    assert issued.credit_notes == 1


def test_a_message_that_fails_is_reported_alone_and_the_others_are_issued(api, invoices):
    order = paid_bank_transfer(api)
    good = invoices.flow()
    (record,) = good["Records"]
    envelope = json.loads(record["body"])
    unknown = {**envelope, "detail": {**envelope["detail"], "order": {"id": "no-such-order"}}}
    invoices.sqs.send_message(QueueUrl=invoices.url, MessageBody=json.dumps(unknown))
    messages = invoices.sqs.receive_message(
        QueueUrl=invoices.url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    event = sqs_lambda_event(messages["Messages"], invoices.arn)
    (bad,) = [r for r in event["Records"] if "no-such-order" in r["body"]]
    failed = invoices.consume({"Records": [*good["Records"], bad]})
    assert failed == [bad["messageId"]]
    assert bootstrap.invoicing().invoices.invoice_of(order["id"]) is not None
