"""The notifications queue consumer: EventBridge events -> emails.

Each SQS message is one EventBridge event. Messages are processed one by one
and failures reported per message (partial batch response), so one bad
message is retried alone and, after the queue's max receives, lands in its
DLQ; the others are not sent twice. The event source mapping must enable
ReportBatchItemFailures (infrastructure).
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

notifications = Blueprint(__name__)


def handle_record(record: QueueMessage) -> None:
    """One SQS message holding one EventBridge event."""
    # Deferred: the templates, event models and SES code load only in the
    # notifications function, not in the API functions sharing this package.
    from chalicelib.notify.service import send_event_emails

    envelope = json.loads(record.body)
    send_event_emails(envelope["detail-type"], envelope["detail"], bootstrap.notifier())


def process(event: dict[str, Any]) -> dict[str, Any]:
    return batches.process(event, handle_record)


@notifications.on_sqs_message(queue="notifications", batch_size=10, name="send_notifications")
@per_invocation
def send_notifications(event: SQSEvent) -> dict[str, Any]:
    return process(event.to_dict())


def prepare() -> None:
    """What the first email needs, made at init (bootstrap.prepare_at_init):
    the event module, the templates' environment, and the receipts' and SES
    clients.
    Each event's detail model is made by the first event of its type
    (events.detail_model): building all of them here cost more than the
    rest of the init together (docs/performance.md)."""
    from chalicelib.notify import render, service  # noqa: F401

    render.environment()
    bootstrap.notifier()


bootstrap.prepare_at_init(__name__, prepare)
