"""What a payment provider reports, normalised: the one shape every
provider's callback is turned into, queued, and applied to its order
(domain/payments.py ``decide``).

Its own module so that verifying and queueing a callback (the webhook) does
not load the order rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class PaymentEventKind(StrEnum):
    SUCCEEDED = "succeeded"  # money captured
    PROCESSING = "processing"  # checkout finished, an async method still settles
    FAILED = "failed"  # an attempt failed; the customer may retry
    SESSION_EXPIRED = "session_expired"  # the provider's checkout page timed out
    REFUNDED = "refunded"  # the provider reports a payment's cumulative refunds


@dataclass(frozen=True)
class PaymentEvent:
    """A provider's event, normalised. Amounts are minor units."""

    provider: str
    event_id: str
    kind: PaymentEventKind
    order_id: str
    occurred_at: datetime
    reference: str | None = None  # the provider's payment id
    amount: int | None = None
    currency: str | None = None
    refunded_total: int | None = None  # REFUNDED: cumulative on that payment
    reason: str | None = None  # FAILED: the provider's short code

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.event_id}"
