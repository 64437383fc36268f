"""What the payment services need from providers, and the facts providers
report back. Adapters: stripe_adapter.py (the Stripe API through
stripe_api.py, and Stripe's signed callbacks), hmac_adapter.py (our
documented signed callback format), fake.py (local runs and tests: Stripe's
API replaced, no network), manual.py (bank transfers: the merchant moves the
money)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain.errors import DomainError
from chalicelib.domain.order import Order
from chalicelib.domain.payments import PaymentEvent


class InvalidSignature(DomainError):
    """The callback's signature is missing, malformed or wrong."""

    code = "invalid_signature"


class StaleSignature(DomainError):
    """The callback was signed outside the tolerance window (a replay?)."""

    code = "stale_signature"


class MalformedEvent(DomainError):
    """The callback is signed correctly but is not an event we can read."""

    code = "malformed_event"


class PaymentNotFound(DomainError):
    """An event about a payment we have no record of (yet): a refund can
    arrive before the callback of the payment it refunds. The provider
    retries on a non-2xx answer, and by then the payment is known."""

    code = "payment_not_found"


class UnknownPaymentProvider(DomainError):
    code = "unknown_payment_provider"


class PaymentProviderUnavailable(DomainError):
    """The provider's API failed or timed out; the caller may retry."""

    code = "payment_provider_unavailable"


@dataclass(frozen=True)
class CheckoutRequest:
    order: Order
    success_url: str
    cancel_url: str
    expires_at: datetime | None  # None: the provider's default lifetime


@dataclass(frozen=True)
class Checkout:
    session_id: str
    redirect_url: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    # The payment's cumulative refunded amount as the provider now reports it;
    # None when the provider does not say (the caller adds the amount).
    refunded_total: int | None


class PaymentProvider(Protocol):
    """Outbound: the provider's API."""

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """A hosted payment page for the order. Idempotent per order: asking
        twice returns the same session. Raises PaymentProviderUnavailable."""
        ...

    def refund(
        self, *, reference: str, amount: int | None, currency: str, idempotency_key: str
    ) -> RefundResult:
        """Return ``amount`` of the payment ``reference`` (None: all that is
        left of it). The same
        ``idempotency_key`` makes the refund at most once. Raises
        PaymentProviderUnavailable."""
        ...


@dataclass(frozen=True)
class VerifiedCallback:
    """A callback whose signature checked out.

    ``event`` is None for event types we do not act on; its ``order_id`` is
    empty when the provider's object does not name the order (Stripe's
    charges): the service then finds the order by ``event.reference``.
    """

    event_id: str
    event_type: str
    event: PaymentEvent | None


class CallbackVerifier(Protocol):
    """Inbound: a provider's signed callbacks."""

    def verify(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> VerifiedCallback:
        """Check the signature over the raw body, then parse it. Raises
        InvalidSignature, StaleSignature or MalformedEvent; never writes."""
        ...


class RefundRejected(DomainError):
    """The provider refused the refund (e.g. more than is left to refund)."""

    code = "refund_rejected"


class PaymentRecords(Protocol):
    """What the payment flows keep in the table besides orders."""

    def claim_receipt(
        self,
        provider: str,
        event_id: str,
        *,
        order_id: str,
        event_type: str,
        received_at: datetime,
        expires_at: int,
    ) -> bool:
        """Record that a callback arrived (one conditional write). False when
        the same event was received and handed on before: a duplicate. True
        for a new event, and for one received before but never handed on
        (the earlier attempt failed half way; the caller finishes it)."""
        ...

    def mark_handed_on(self, provider: str, event_id: str) -> None:
        """The event is on the queue: a repeat is now a duplicate."""
        ...

    def remember_payment(self, provider: str, reference: str, order_id: str) -> None:
        """Which order a provider payment belongs to (refund events name the
        payment, not the order). Idempotent."""
        ...

    def order_for_payment(self, provider: str, reference: str) -> str | None: ...

    def order_for_number(self, number: str) -> str | None:
        """The order id of a human order number (bank transfer references)."""
        ...


class PaymentEventQueue(Protocol):
    def send(self, event: PaymentEvent) -> None:
        """Hand the event on, in order per order (FIFO grouped by order id),
        deduplicated by provider event id."""
        ...


@dataclass(frozen=True)
class PaymentPorts:
    """Everything the payment services are handed (see services/context.py)."""

    providers: Mapping[str, PaymentProvider]  # by Payment.provider: stripe, hmac, bank_transfer
    callbacks: Mapping[str, CallbackVerifier]  # by webhook path: /webhooks/payments/{name}
    records: PaymentRecords
    queue: PaymentEventQueue


class NothingLeftToRefund(RefundRejected):
    """The provider holds nothing more of the payment: it was refunded in
    full already (perhaps in its dashboard; its refund event follows)."""

    code = "nothing_left_to_refund"
