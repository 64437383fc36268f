"""Provider callbacks: verify, record the receipt, queue; nothing more.

The webhook answers within the provider's timeout and loads only this: the
event is applied to its order later, by the payment-events consumer
(services/payments.py ``apply_payment_event``), so a webhook's cold start
needs none of the order rules (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from chalicelib.domain.errors import PaymentNotFound, UnknownPaymentProvider
from chalicelib.domain.provider_events import PaymentEvent, PaymentEventKind
from chalicelib.observability import logger
from chalicelib.services.context import Context


@dataclass(frozen=True)
class CallbackAck:
    """The webhook's answer: what happened to the event."""

    outcome: str  # "queued", "duplicate", "ignored"
    event_id: str


def accept_callback(
    provider: str, raw_body: bytes, headers: Mapping[str, str], ctx: Context
) -> CallbackAck:
    """Verify a provider's signed callback, record its receipt and queue it.

    Nothing is written unless the signature holds. A repeated event id is
    acknowledged without being queued again."""
    ports = ctx.payments
    verifier = ports.callbacks.get(provider)
    if verifier is None:
        raise UnknownPaymentProvider("no such payment provider", provider=provider)
    now = ctx.clock()
    callback = verifier.verify(raw_body, headers, now)
    event = callback.event
    if event is None:
        logger.info("payment callback ignored", provider=provider, event_type=callback.event_type)
        return CallbackAck("ignored", callback.event_id)
    if not event.order_id:
        order_id = ports.records.order_for_payment(event.provider, event.reference or "")
        if order_id is None:
            # Not acknowledged: a refund that overtook its payment's callback
            # would be lost for good (the provider does not send it again
            # after a 2xx). Refused, it comes back once the payment is known.
            logger.warning(
                "payment callback for an unknown payment",
                provider=provider,
                event_type=callback.event_type,
            )
            raise PaymentNotFound(
                "no payment with this reference is known (yet); retry later",
                provider=event.provider,
            )
        event = _with_order(event, order_id)
    if event.kind is PaymentEventKind.SUCCEEDED and event.reference:
        # Before queueing: a refund reported right after may otherwise find
        # no order for the payment.
        ports.records.remember_payment(event.provider, event.reference, event.order_id)
    fresh = ports.records.claim_receipt(
        event.provider,
        event.event_id,
        order_id=event.order_id,
        event_type=callback.event_type,
        received_at=now,
        expires_at=int(now.timestamp()) + ctx.settings.webhook_receipt_ttl_days * 86400,
    )
    if not fresh:
        logger.info("payment callback repeated", provider=provider, order_id=event.order_id)
        return CallbackAck("duplicate", callback.event_id)
    ports.queue.send(event)
    ports.records.mark_handed_on(event.provider, event.event_id)
    logger.info(
        "payment callback queued",
        provider=provider,
        event_type=callback.event_type,
        order_id=event.order_id,
    )
    return CallbackAck("queued", callback.event_id)


def _with_order(event: PaymentEvent, order_id: str) -> PaymentEvent:
    return replace(event, order_id=order_id)
