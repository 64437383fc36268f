"""The payment-events FIFO queue on SQS."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from chalicelib.domain.payments import PaymentEvent
from chalicelib.payments.messages import to_message


class SqsPaymentEvents:
    def __init__(self, client: Any, queue_name: str) -> None:
        self._client = client
        self._queue_name = queue_name

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
