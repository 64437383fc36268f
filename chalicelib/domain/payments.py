"""Payments: what a provider's event means for an order.

Providers deliver events at least once and in any order. ``decide`` turns
one event and the order as it is now into at most one ``OrderChange`` and
at most one refund to make, so that replaying any event, in any order, never
changes an order twice and never moves it backwards:

- a payment is identified by the provider's reference: the second report of
  the same payment changes nothing;
- refunds are tracked as the provider's cumulative refunded amount per
  payment, and only ever grow (``max``), so refund reports commute;
- other events (failures, session expiries) are remembered by event key in
  ``Order.applied_payment_events``.

Money conservation: for every payment ``0 <= refunded <= amount``; money that
must go back (a late or duplicate payment) is marked ``refund_due`` and is
refunded in full by the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.events import (
    DuplicatePaymentReceivedData,
    LatePaymentReceivedData,
    OrderPaidData,
    OrderRefundedData,
    PaymentFailedData,
    PaymentOnHoldData,
    PaymentProcessingData,
    PaymentSessionExpiredData,
)
from chalicelib.domain.order import (
    HistoryEntry,
    Order,
    OrderChange,
    OrderStatus,
    Payment,
    PaymentStatus,
    Visibility,
)
from chalicelib.domain.provider_events import PaymentEvent, PaymentEventKind

#: How many applied event keys an order remembers. Failures and session
#: expiries are the only events deduplicated this way; a customer who fails
#: more than this many attempts gets one more history entry per replay.
MAX_REMEMBERED_EVENTS = 50

_PAST_PAYMENT = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.ON_HOLD,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.PICKED_UP,
    }
)
_CLOSED_UNPAID = frozenset({OrderStatus.EXPIRED, OrderStatus.CANCELLED})


@dataclass(frozen=True)
class RefundDue:
    """Money to send back through the provider for one payment."""

    provider: str
    reference: str
    # None: everything the provider still holds of the payment. Full refunds
    # ask for "the rest", so a refund made meanwhile in the provider's
    # dashboard (and not reported to us yet) cannot make them fail.
    amount: int | None
    currency: str
    idempotency_key: str  # the same refund asked twice is made once
    reason: str


@dataclass(frozen=True)
class Decision:
    """What one provider event does to an order: its change and the refund to make."""

    outcome: str  # for logs and metrics: "paid", "on_hold", "noop", ...
    change: OrderChange | None = None
    refund: RefundDue | None = None


# --- derived amounts ----------------------------------------------------------------


def paid_amount(order: Order) -> int:
    return sum(p.amount for p in order.payments)


def refunded_amount(order: Order) -> int:
    return sum(p.refunded for p in order.payments)


def payment_status(payments: Sequence[Payment]) -> PaymentStatus:
    """Derived from the payments the order keeps; a payment that must go
    back counts only when there is nothing else (a late payment's order
    then reads paid, then refunded)."""
    kept = [p for p in payments if not p.refund_due] or list(payments)
    paid = sum(p.amount for p in kept)
    refunded = sum(p.refunded for p in kept)
    if paid == 0:
        return PaymentStatus.UNPAID
    if refunded == 0:
        return PaymentStatus.PAID
    if refunded >= paid:
        return PaymentStatus.REFUNDED
    return PaymentStatus.PARTIALLY_REFUNDED


# --- changes that keep the status ----------------------------------------------------


def amend(
    order: Order, *, at: datetime, history: Sequence[HistoryEntry], **fields: object
) -> OrderChange:
    """A change that keeps the order's status (payments recorded on a
    terminal order, a failure noted on a pending one), still conditional on
    the status and version the order has now."""
    new = replace(order, updated_at=at, version=order.version + 1, **fields)  # type: ignore[arg-type]
    return OrderChange(
        order=new,
        expected_status=order.status,
        expected_version=order.version,
        history=tuple(history),
    )


def _remember(order: Order, key: str) -> tuple[str, ...]:
    return (*order.applied_payment_events, key)[-MAX_REMEMBERED_EVENTS:]


def _with_payment(order: Order, payment: Payment) -> tuple[Payment, ...]:
    return (*order.payments, payment)


def _refund_due(payment: Payment, reason: str) -> RefundDue:
    return RefundDue(
        provider=payment.provider,
        reference=payment.reference,
        amount=None,
        currency=payment.currency,
        idempotency_key=f"refund-due:{payment.provider}:{payment.reference}",
        reason=reason,
    )


# --- the decision -------------------------------------------------------------------


def decide(order: Order, event: PaymentEvent, at: datetime) -> Decision:
    """What ``event`` does to ``order``. Pure: the service writes the change
    (conditionally) and makes the refund."""
    known = next((p for p in order.payments if p.reference == event.reference), None)
    if event.kind is PaymentEventKind.SUCCEEDED:
        if known is not None:
            return _finish_refund(known)
        return _payment_received(order, event, at)
    if event.kind is PaymentEventKind.REFUNDED:
        return _refund_reported(order, event, known, at)
    if event.key in order.applied_payment_events or order.status is not OrderStatus.PENDING_PAYMENT:
        return Decision("noop")  # already noted, or the order is past that point
    remembered = _remember(order, event.key)
    if event.kind is PaymentEventKind.FAILED:
        entry = HistoryEntry.of(
            PaymentFailedData(provider=event.provider, reason=event.reason or "unknown"),
            at=at,
            actor=f"provider:{event.provider}",
            message="Payment attempt failed; you can try again",
        )
        return Decision(
            "failure_noted", amend(order, at=at, history=[entry], applied_payment_events=remembered)
        )
    noted, message = {
        PaymentEventKind.PROCESSING: (
            PaymentProcessingData,
            "Checkout completed; the payment is still being processed",
        ),
        PaymentEventKind.SESSION_EXPIRED: (
            PaymentSessionExpiredData,
            "The payment page expired without a payment",
        ),
    }[event.kind]
    entry = HistoryEntry.of(
        noted(),
        at=at,
        actor=f"provider:{event.provider}",
        message=message,
        visibility=Visibility.INTERNAL,
    )
    return Decision(
        event.kind.value, amend(order, at=at, history=[entry], applied_payment_events=remembered)
    )


def _finish_refund(known: Payment) -> Decision:
    # A replay of a payment we recorded. If its refund has not gone through
    # yet (the provider failed last time), this is the retry.
    if known.refund_due and known.outstanding > 0:
        return Decision("refund_retry", refund=_refund_due(known, "payment not accepted"))
    return Decision("noop")


def _payment_received(order: Order, event: PaymentEvent, at: datetime) -> Decision:
    if event.reference is None or event.amount is None or event.currency is None:
        raise InvalidRequest("a payment event needs a reference, an amount and a currency")
    actor = f"provider:{event.provider}"
    amount, currency, reference = event.amount, event.currency, event.reference
    if order.status is OrderStatus.PENDING_PAYMENT:
        matches = (event.amount, event.currency) == (order.totals.total, order.currency)
        payment = Payment(
            provider=event.provider,
            reference=event.reference,
            amount=event.amount,
            currency=event.currency,
            received_at=at,
        )
        payments = _with_payment(order, payment)
        if matches:
            entry = HistoryEntry.of(
                OrderPaidData(
                    amount=amount,
                    currency=currency,
                    provider=event.provider,
                    payment_reference=reference,
                    reference=reference,
                ),
                at=at,
                actor=actor,
                message="Payment received",
            )
            change = order.change(
                OrderStatus.PAID,
                at=at,
                history=[entry],
                payments=payments,
                payment_status=payment_status(payments),
            )
            return Decision("paid", change)
        entry = HistoryEntry.of(
            PaymentOnHoldData(
                amount=amount,
                currency=currency,
                reference=reference,
                expected_amount=order.totals.total,
                expected_currency=order.currency,
            ),
            at=at,
            actor=actor,
            message="Payment received with a different amount or currency; held for review",
        )
        change = order.change(
            OrderStatus.ON_HOLD,
            at=at,
            history=[entry],
            payments=payments,
            payment_status=payment_status(payments),
        )
        return Decision("on_hold", change)

    # Money for an order that can no longer take it: record it, then send it
    # back in full (the service makes the refund and records it).
    late = order.status in _CLOSED_UNPAID
    payment = Payment(
        provider=event.provider,
        reference=event.reference,
        amount=event.amount,
        currency=event.currency,
        received_at=at,
        refund_due=True,
    )
    payments = _with_payment(order, payment)
    reason = (
        f"payment arrived after the order was {order.status.value}"
        if late
        else "the order was already paid"
    )
    refused = LatePaymentReceivedData if late else DuplicatePaymentReceivedData
    entry = HistoryEntry.of(
        refused(amount=amount, currency=currency, reference=reference, reason=reason),
        at=at,
        actor=actor,
        message=f"Payment received but not accepted ({reason}); it will be refunded",
    )
    change = amend(
        order, at=at, history=[entry], payments=payments, payment_status=payment_status(payments)
    )
    return Decision("refund_due", change, _refund_due(payment, reason))


def _refund_reported(
    order: Order, event: PaymentEvent, known: Payment | None, at: datetime
) -> Decision:
    if event.reference is None or event.refunded_total is None:
        raise InvalidRequest("a refund event needs a reference and the refunded total")
    if known is None:
        # The refund overtook the payment's own event: the charge it refunds
        # was captured, so record the payment first, then the refund on top.
        received = decide(order, replace(event, kind=PaymentEventKind.SUCCEEDED), at)
        if received.change is None:
            return received
        after = received.change.order
        refunded = record_refund(
            after, event.reference, event.refunded_total, at=at, actor=f"provider:{event.provider}"
        )
        if refunded is None:
            return received
        change = replace(
            received.change,
            order=replace(refunded.order, version=after.version),
            history=received.change.history + refunded.history,
        )
        payment = next(p for p in change.order.payments if p.reference == event.reference)
        refund = (
            _refund_due(payment, "payment not accepted")
            if payment.outstanding and payment.refund_due
            else None
        )
        return Decision("paid_and_refunded", change, refund)
    reconciled = record_refund(
        order, event.reference, event.refunded_total, at=at, actor=f"provider:{event.provider}"
    )
    return Decision("refund_reconciled", reconciled) if reconciled else Decision("noop")


def record_refund(
    order: Order,
    reference: str,
    refunded_total: int,
    *,
    at: datetime,
    actor: str,
    reason: str | None = None,
    refund_key: str | None = None,
) -> OrderChange | None:
    """Raise one payment's refunded amount to ``refunded_total`` (capped at
    the payment); None when that is nothing new. ``refund_key`` names one
    refund we made: recorded once, however often this is called."""
    if refund_key is not None and refund_key in order.applied_payment_events:
        return None
    payment = next(p for p in order.payments if p.reference == reference)
    total = min(max(payment.refunded, refunded_total), payment.amount)
    if total == payment.refunded:
        return None
    payments = tuple(
        replace(p, refunded=total) if p.reference == reference else p for p in order.payments
    )
    entry = HistoryEntry.of(
        OrderRefundedData(
            amount=total - payment.refunded,
            currency=payment.currency,
            refunded_total=total,
            # The receipt's "refunded so far": every payment of the order.
            total_refunded=sum(p.refunded for p in payments),
            reference=reference,
            # A refund the provider reported has no reason: none is written.
            **({"reason": reason} if reason else {}),
        ),
        at=at,
        actor=actor,
        message="Refund issued",
    )
    remembered = (
        _remember(order, refund_key) if refund_key is not None else order.applied_payment_events
    )
    return amend(
        order,
        at=at,
        history=[entry],
        payments=payments,
        payment_status=payment_status(payments),
        applied_payment_events=remembered,
    )


def refunds_for(
    order: Order, amount: int | None, *, key_prefix: str, reason: str
) -> list[RefundDue]:
    """Refunds that return ``amount`` (all that was kept when None) from the
    order's payments, newest first. Money that must go back anyway is
    refunded in full by the event path, not here."""
    kept = [p for p in order.payments if not p.refund_due and p.outstanding > 0]
    available = sum(p.outstanding for p in kept)
    wanted = available if amount is None else amount
    if wanted <= 0:
        raise InvalidRequest("there is nothing to refund", refundable=available)
    if wanted > available:
        raise InvalidRequest(
            "the refund exceeds what was paid and not yet refunded",
            requested=wanted,
            refundable=available,
        )
    refunds = []
    for payment in reversed(kept):
        part = min(wanted, payment.outstanding)
        if part <= 0:
            break
        refunds.append(
            RefundDue(
                provider=payment.provider,
                reference=payment.reference,
                amount=None if part == payment.outstanding else part,
                currency=payment.currency,
                idempotency_key=f"{key_prefix}:{payment.reference}:{payment.refunded}:{part}",
                reason=reason,
            )
        )
        wanted -= part
    return refunds


def mark_paid(order: Order, *, reference: str, actor: str, at: datetime) -> OrderChange:
    """The merchant saw the bank transfer arrive (pending -> paid), or
    accepts a payment held for review (on_hold -> paid)."""
    if order.status is OrderStatus.ON_HOLD:
        held = [p for p in order.payments if not p.refund_due]
        entry = HistoryEntry.of(
            # The amount received (the held payment's, which is why it was
            # held) and its currency.
            OrderPaidData(
                amount=sum(p.amount for p in held),
                currency=held[0].currency if held else order.currency,
                provider=held[0].provider if held else None,
                payment_reference=held[0].reference if held else None,
                reference=reference,
                accepted_hold=True,
            ),
            at=at,
            actor=actor,
            message="Payment accepted",
        )
        return order.change(OrderStatus.PAID, at=at, history=[entry])
    payment = Payment(
        provider="bank_transfer",
        reference=reference,
        amount=order.totals.total,
        currency=order.currency,
        received_at=at,
    )
    payments = _with_payment(order, payment)
    entry = HistoryEntry.of(
        OrderPaidData(
            amount=payment.amount,
            currency=payment.currency,
            provider=payment.provider,
            payment_reference=reference,
            reference=reference,
        ),
        at=at,
        actor=actor,
        message="Bank transfer received",
    )
    return order.change(
        OrderStatus.PAID,
        at=at,
        history=[entry],
        payments=payments,
        payment_status=payment_status(payments),
    )
