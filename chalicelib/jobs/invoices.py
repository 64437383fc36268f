"""The invoices queue consumer: OrderPaid, OrderShipped and OrderRefunded ->
invoices and credit notes (docs/invoices.md).

Each SQS message is one EventBridge event, processed alone and reported per
message (partial batch response): a message that fails (the number series
kept moving, DynamoDB was unreachable) is retried, and after the queue's max
receives lands in its DLQ. Redeliveries issue nothing twice: the invoice is
keyed by the order, the credit note by the refund's event id.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.jobs import batches
from chalicelib.jobs.batches import QueueMessage
from chalicelib.observability import per_invocation

invoice_jobs = Blueprint(__name__)


def handle_record(record: QueueMessage) -> None:
    """One SQS message holding one EventBridge event."""
    # Deferred: the invoice domain loads in the invoices function only.
    from chalicelib.services.invoices import issue_documents

    envelope = json.loads(record.body)
    issue_documents(envelope["detail-type"], envelope["detail"], bootstrap.invoicing())


def process(event: dict[str, Any]) -> dict[str, Any]:
    return batches.process(event, handle_record)


@invoice_jobs.on_sqs_message(queue="invoices", batch_size=10, name="issue_invoices")
@per_invocation
def issue_invoices(event: SQSEvent) -> dict[str, Any]:
    return process(event.to_dict())


def prepare() -> None:
    """The invoice service and its stores, made at init
    (bootstrap.prepare_at_init)."""
    from chalicelib.services import invoices  # noqa: F401

    bootstrap.invoicing()


bootstrap.prepare_at_init(__name__, prepare)
