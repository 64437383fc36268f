"""The payment-events FIFO consumer.

Chalice's SQS event source has no "report batch item failures" flag; the
handler returns ``batchItemFailures`` anyway and the infrastructure sets
``FunctionResponseTypes: [ReportBatchItemFailures]`` on the event source
mapping. A failed message is retried (visibility timeout) and, after
``max_receive_count`` receives, dead-lettered.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.jobs import batches
from chalicelib.jobs.batches import QueueMessage
from chalicelib.observability import per_invocation
from chalicelib.triggers import PAYMENT_EVENTS_QUEUE

payment_jobs = Blueprint(__name__)


def _apply(record: QueueMessage) -> str:
    # Imported here: the API function imports this module to register the
    # handler, and never applies a payment event.
    from chalicelib.payments.messages import from_message
    from chalicelib.services import payments

    return payments.apply_payment_event(from_message(record.body), bootstrap.context())


def process_batch(raw_event: dict[str, Any]) -> dict[str, Any]:
    """Apply each message; answer which ones failed. In a FIFO batch, once a
    message of an order fails, that order's later messages are reported
    failed too (unprocessed), so its events never apply out of order; other
    orders go on (jobs/batches.py)."""
    return batches.process_fifo(raw_event, _apply)


@payment_jobs.on_sqs_message(queue=PAYMENT_EVENTS_QUEUE, batch_size=10)
@per_invocation
def apply_payment_events(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict())


def prepare() -> None:
    """What the first batch needs, made at init (bootstrap.prepare_at_init):
    the message models, the payment service and the stores."""
    from chalicelib.payments import messages  # noqa: F401
    from chalicelib.services import payments  # noqa: F401

    ctx = bootstrap.context()
    bootstrap.build_now(ctx.orders, ctx.payments)


bootstrap.prepare_at_init(__name__, prepare)
