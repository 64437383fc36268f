"""Every non-HTTP handler publishes its own metrics at the end of each
invocation (chalicelib/observability.py ``per_invocation``), read back from
the EMF lines powertools prints, and starts each invocation with a clean
logger carrying its Lambda context. Invoked as Lambda would, through
chalice's test client, with real event shapes on moto."""

# ruff: noqa: F811 - the imported `shop` fixture is taken as a parameter of the same name
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.observability import logger, metrics
from tests.conftest import order_body
from tests.integration.test_payments_api import consume, order_of, placed, post_stripe
from tests.integration.test_schedules import shop  # noqa: F401 - fixture
from tests.pipeline import place

#: Every handler app.py registers that is not the HTTP API or its authorizer.
JOB_HANDLERS = {
    "publish_order_events",
    "send_notifications",
    "apply_payment_events",
    "expire_unpaid_orders",
    "send_payment_reminders",
    "nudge_abandoned_carts",
    "send_withdrawal_reminders",
    "issue_invoices",
}
#: The functions outside the Chalice app (infrastructure/definitions.py OWN_FUNCTIONS).
OWN_JOB_HANDLERS = {"render_documents"}


def emf_records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF records printed since the last call: one per flush."""
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [r for r in records if "_aws" in r]


def metric_names(record: dict[str, Any]) -> set[str]:
    (block,) = record["_aws"]["CloudWatchMetrics"]
    return {m["Name"] for m in block["Metrics"]}


def values(record: dict[str, Any], name: str) -> list[float]:
    value = record[name]
    return value if isinstance(value, list) else [value]


@pytest.fixture
def fresh(capsys: pytest.CaptureFixture[str]) -> Any:
    """Nothing pending or printed before the invocations under test."""
    metrics.clear_metrics()
    capsys.readouterr()
    yield lambda: emf_records(capsys)
    logger.clear_state()  # the handlers' Lambda context stays out of later tests


@pytest.fixture
def lambdas(table: str) -> Any:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:
        yield client.lambda_


def test_the_handlers_covered_here_are_all_the_apps_non_http_handlers():
    from app import app

    assert {source.name for source in app.event_sources} == JOB_HANDLERS
    from infrastructure.definitions import OWN_FUNCTIONS

    assert {function.name for function in OWN_FUNCTIONS} == OWN_JOB_HANDLERS


# --- stream ------------------------------------------------------------------------------


def test_the_outbox_publishes_each_invocations_event_count_when_it_ends(api, pipeline, fresh):
    place(api)
    fresh()  # the API's own requests
    pipeline.publish(pipeline.new_stream_records())
    (first,) = fresh()
    place(api)
    place(api)
    fresh()
    pipeline.publish(pipeline.new_stream_records())
    (second,) = fresh()

    assert "EventsPublished" in metric_names(first)
    assert values(first, "EventsPublished") == [1]
    assert values(second, "EventsPublished") == [2]


# --- queues ------------------------------------------------------------------------------


def test_the_notifications_consumer_publishes_sent_and_failed_emails_per_invocation(
    api, pipeline, fresh
):
    place(api, locale="en")
    event = pipeline.flow()
    fresh()  # the API's requests and the outbox's invocation
    assert pipeline.consume(event) == []
    (sent,) = fresh()
    place(api, locale="en")
    event = pipeline.flow()
    pipeline.unverify_sender()  # SES refuses: MessageRejected
    fresh()
    assert len(pipeline.consume(event)) == 1
    (failed,) = fresh()

    assert metric_names(sent) == {"EmailsSent"}
    assert values(sent, "EmailsSent") == [1, 1]  # the customer's and the merchant's
    assert metric_names(failed) == {"EmailSendFailures"}
    assert values(failed, "EmailSendFailures") == [1]


def test_the_payment_consumer_publishes_each_invocations_outcomes(api, lambdas, fresh):
    order = order_of(placed(api)["id"])
    stripe = bootstrap.fake_stripe()
    post_stripe(api, stripe.pay(order))
    fresh()  # the webhook's own request
    consume(lambdas)
    (paid,) = fresh()
    reference = order_of(order.id).payments[0].reference
    post_stripe(api, stripe.refund_in_dashboard(reference, 400))
    fresh()
    consume(lambdas)
    (refunded,) = fresh()

    assert metric_names(paid) == {"PaymentEvent_paid"}
    assert values(paid, "PaymentEvent_paid") == [1]
    (refund_outcome,) = metric_names(refunded)
    assert refund_outcome.startswith("PaymentEvent_") and refund_outcome != "PaymentEvent_paid"
    assert values(refunded, refund_outcome) == [1]


def test_the_invoice_consumer_publishes_each_invocations_documents(api, pipeline, fresh):
    from tests.integration.test_invoice_flow import InvoiceQueue, paid_bank_transfer

    invoices = InvoiceQueue(pipeline)
    order = paid_bank_transfer(api)
    event = invoices.flow()
    fresh()  # the API's requests and the outbox's invocation
    assert invoices.consume(event) == []
    (issued,) = fresh()
    r = api.admin("POST", f"/admin/orders/{order['id']}/refunds", {"amount": 500, "reason": "x"})
    assert r.status_code in (200, 201), r.json
    event = invoices.flow()
    fresh()
    assert invoices.consume(event) == []
    (credited,) = fresh()

    assert metric_names(issued) == {"InvoicesIssued"}
    assert values(issued, "InvoicesIssued") == [1]
    assert metric_names(credited) == {"CreditNotesIssued"}
    assert values(credited, "CreditNotesIssued") == [1]


def test_the_documents_function_publishes_each_invocations_archived_pdfs(
    api, pipeline, invoice_bucket, fresh
):
    from chalicelib.jobs.batches import records_of
    from invoice_pdf.handler import render_documents
    from local.delivery import LambdaContext
    from tests.integration.test_document_archive import DocumentQueue
    from tests.integration.test_invoice_flow import InvoiceQueue, paid_bank_transfer

    invoices, documents = InvoiceQueue(pipeline), DocumentQueue(pipeline)
    paid_bank_transfer(api)
    invoices.consume(invoices.flow())
    event = documents.flow()
    assert len(records_of(event)) == 1
    fresh()
    logger.append_keys(order_id="left-over")  # as if an earlier invocation leaked
    context = LambdaContext("render_documents", memory_size=1024, max_runtime_ms=60_000)
    assert render_documents(event, context) == {"batchItemFailures": []}
    (archived,) = fresh()
    render_documents(event, context)  # the repeat archives nothing: no metric, no record

    assert metric_names(archived) == {"DocumentsArchived"}
    assert values(archived, "DocumentsArchived") == [1]
    assert fresh() == []
    keys = logger.get_current_keys()
    assert "order_id" not in keys and keys["function_name"] == "render_documents"


def test_an_invocation_that_raises_still_publishes_its_metrics_and_clears_the_logger(
    api, lambdas, fresh
):
    from chalicelib.jobs.batches import BatchFailed
    from local.delivery import sqs_lambda_event
    from tests.integration.test_payments_api import PAYMENT_EVENTS_ARN

    unreadable = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "not json",
        "MD5OfBody": "",
        "Attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "order-1"},
    }
    metrics.add_metric(name="LeftOver", unit="Count", value=1)  # as if an earlier run leaked
    logger.append_keys(order_id="left-over")
    with pytest.raises(BatchFailed):
        lambdas.invoke("apply_payment_events", sqs_lambda_event([unreadable], PAYMENT_EVENTS_ARN))
    (flushed,) = fresh()

    assert metric_names(flushed) == {"LeftOver"}  # flushed although the handler raised
    keys = logger.get_current_keys()
    assert "order_id" not in keys
    assert keys["function_name"] == "apply_payment_events"
    assert "function_request_id" in keys and "cold_start" in keys


# --- schedules ---------------------------------------------------------------------------


def due_order(shop: Any, clock: Any) -> None:
    r = shop.place(order_body([("tea", 1)], payment_method="card"))
    assert r.status_code == 201, r.json
    clock.advance(minutes=31)


def reminder_due(shop: Any, clock: Any) -> None:
    r = shop.place(order_body([("tea", 1)], payment_method="bank_transfer"))
    assert r.status_code == 201, r.json
    clock.advance(days=5, minutes=1)


def withdrawal_refund_due(shop: Any, clock: Any) -> None:
    r = shop.place(order_body([("tea", 1)], payment_method="bank_transfer"))
    assert r.status_code == 201, r.json
    order_id = r.json["id"]
    paid = shop.admin("POST", f"/admin/orders/{order_id}/payments", {"bank_reference": "TX-9"})
    assert paid.status_code == 200, paid.json
    # Withdrawn before shipping: nothing to send back, so nothing holds the refund.
    assert shop.admin("POST", f"/admin/orders/{order_id}/withdrawals", {}).status_code == 201
    clock.advance(days=12)


def abandoned_cart(shop: Any, clock: Any) -> None:
    cart = {
        "lines": [{"sku": "tea", "quantity": 1}],
        "email": "erika@example.com",
        "locale": "de",
        "marketing_consent": {"granted": True, "source": "cart_page"},
    }
    assert shop.call("POST", "/carts", cart).status_code == 201
    clock.advance(hours=10)


@pytest.mark.parametrize(
    ("handler", "make_due"),
    [
        ("expire_unpaid_orders", due_order),
        ("send_payment_reminders", reminder_due),
        ("nudge_abandoned_carts", abandoned_cart),
        ("send_withdrawal_reminders", withdrawal_refund_due),
    ],
)
def test_each_schedule_publishes_its_runs_figures_once_per_invocation(
    shop, clock, lambdas, fresh, handler, make_due
):
    make_due(shop, clock)
    event = {  # what EventBridge hands a scheduled function
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-23T12:00:00Z",
        "region": "eu-central-1",
        "resources": [f"arn:aws:events:eu-central-1:123456789012:rule/{handler}"],
        "detail": {},
    }
    fresh()
    lambdas.invoke(handler, event)
    (first,) = fresh()
    lambdas.invoke(handler, event)
    (second,) = fresh()

    for record in (first, second):
        assert record["job"] == handler
        assert {"SweepFound", "SweepActed", "SweepErrors"} <= metric_names(record)
    assert values(first, "SweepActed") == [1]
    assert values(second, "SweepActed") == [0]
    assert logger.get_current_keys()["function_name"] == handler
