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
from chalicelib.observability import per_invocation
from chalicelib.triggers import PAYMENT_EVENTS_QUEUE

payment_jobs = Blueprint(__name__)


def _apply(record: Any) -> str:
    # Imported here: the batch utility must load before pydantic does
    # (chalicelib/jobs/batches.py).
    from chalicelib.payments.messages import from_message
    from chalicelib.services import payments

    return payments.apply_payment_event(from_message(record.body), bootstrap.context())


def process_batch(raw_event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    """Apply each message; answer which ones failed. In a FIFO batch, once a
    message of an order fails, that order's later messages are reported
    failed too (unprocessed), so its events never apply out of order; other
    orders go on."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    from chalicelib.jobs.batches import LoggedFifoProcessor

    return dict(
        process_partial_response(
            event=raw_event,
            record_handler=_apply,
            processor=LoggedFifoProcessor(),
            context=lambda_context,
        )
    )


@payment_jobs.on_sqs_message(queue=PAYMENT_EVENTS_QUEUE, batch_size=10)
@per_invocation
def apply_payment_events(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict(), event.context)


def prepare() -> None:
    """What the first batch needs, made at init (bootstrap.prepare_at_init):
    the batch utility before pydantic, then the message models, the payment
    service and the stores."""
    import chalicelib.jobs.batches  # noqa: F401
    from chalicelib.payments import messages  # noqa: F401
    from chalicelib.services import payments  # noqa: F401

    ctx = bootstrap.context()
    bootstrap.build_now(ctx.orders, ctx.payments)


bootstrap.prepare_at_init(__name__, prepare)
