"""The payment-events FIFO queue on SQS."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from chalicelib.domain.provider_events import PaymentEvent
from chalicelib.payments.messages import to_message


class SqsPaymentEvents:
    """``sqs`` makes the client on first use: every API request builds the
    payment ports, but only a callback sends, so no other route pays for an
    SQS client on a cold start."""

    def __init__(self, sqs: Callable[[], Any], queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name

    @functools.cached_property
    def _client(self) -> Any:
        return self._sqs()

    @functools.cached_property
    def _url(self) -> str:
        return str(self._client.get_queue_url(QueueName=self._queue_name)["QueueUrl"])

    def send(self, event: PaymentEvent) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=to_message(event),
            # One group per order: its events apply one at a time, in order;
            # other orders' events do not wait behind them.
            MessageGroupId=event.order_id,
            # Within SQS's five-minute window a re-sent event is dropped; the
            # consumer is idempotent for anything later.
            MessageDeduplicationId=hashlib.sha256(event.key.encode()).hexdigest(),
        )
