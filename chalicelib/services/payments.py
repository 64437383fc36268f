"""Payments: paying at checkout, provider callbacks, marking paid, refunds.

The callback path is split for speed and safety: ``accept_callback`` (the
webhook) only verifies, records a receipt and queues the event; the
payment-events consumer calls ``apply_payment_event``, which decides with
domain/payments.py and writes with conditional transactions. Every entry
point is safe to run twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.domain import payments as domain
from chalicelib.domain.errors import (
    IllegalTransition,
    OrderNotFound,
    PaymentNotFound,
    UnknownPaymentProvider,
)
from chalicelib.domain.order import Order, OrderStatus, PaymentMethod
from chalicelib.domain.payments import Decision, PaymentEvent, PaymentEventKind
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services import cancellation, refunds
from chalicelib.services.context import Context
from chalicelib.services.ports import CheckoutRequest, OrderRecord

#: Stripe refuses a Checkout Session that expires sooner than this, or later
#: than 24 hours after creation.
_MIN_SESSION = timedelta(minutes=30, seconds=60)
_MAX_SESSION = timedelta(hours=23, minutes=59)


# --- at checkout -------------------------------------------------------------------------


@dataclass(frozen=True)
class BankTransfer:
    account_holder: str
    iban: str
    bic: str
    reference: str  # the order number: what the customer writes on the transfer
    amount: int
    currency: str
    due_at: datetime


@dataclass(frozen=True)
class PaymentInstructions:
    method: PaymentMethod
    redirect_url: str | None = None  # card, paypal: the provider's payment page
    session_id: str | None = None
    bank_transfer: BankTransfer | None = None


def payment_instructions(order: Order, ctx: Context) -> PaymentInstructions:
    """What the storefront needs to take the payment. For card and PayPal a
    provider Checkout Session (the same one when asked again for the order)."""
    settings = ctx.settings
    if order.payment_method is PaymentMethod.BANK_TRANSFER:
        return PaymentInstructions(
            method=order.payment_method,
            bank_transfer=BankTransfer(
                account_holder=settings.bank_account_holder,
                iban=settings.bank_iban,
                bic=settings.bank_bic,
                reference=order.number,
                amount=order.totals.total,
                currency=order.currency,
                due_at=order.payment_due_at,
            ),
        )
    window = order.payment_due_at - ctx.clock()
    # The session should close with the order's payment window; where Stripe
    # does not allow that, its default (24 h) applies and a payment after the
    # window is refunded as a late payment.
    expires_at = order.payment_due_at if _MIN_SESSION <= window <= _MAX_SESSION else None
    checkout = ctx.payments.providers["stripe"].start_checkout(
        CheckoutRequest(
            order=order,
            success_url=settings.checkout_success_url.replace("{order_id}", order.id),
            cancel_url=settings.checkout_cancel_url.replace("{order_id}", order.id),
            expires_at=expires_at,
        )
    )
    return PaymentInstructions(
        method=order.payment_method,
        redirect_url=checkout.redirect_url,
        session_id=checkout.session_id,
    )


# --- callbacks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackAck:
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


def apply_payment_event(event: PaymentEvent, ctx: Context) -> str:
    """Apply one queued provider event to its order (the SQS consumer).

    Idempotent and order-independent by construction (domain/payments.py);
    a provider failure while refunding raises, so the message is retried."""

    def attempt() -> Decision | None:
        try:
            record = ctx.orders.get(event.order_id)
        except OrderNotFound:
            return None
        decision = domain.decide(record.order, event, ctx.clock())
        if decision.change is not None:
            # A lost race (the sweep, a cancel or another event got there
            # first) is decided again on the order as it is now.
            ctx.orders.apply(decision.change)
        return decision

    decision = retry_on_conflict(
        attempt, message="the order kept changing", order_id=event.order_id
    )
    if decision is None:
        logger.warning("payment event for an unknown order", order_id=event.order_id)
        return "unknown_order"
    logger.info(
        "payment event applied",
        order_id=event.order_id,
        provider=event.provider,
        kind=event.kind.value,
        outcome=decision.outcome,
    )
    metrics.add_metric(name=f"PaymentEvent_{decision.outcome}", unit="Count", value=1)
    if decision.refund is not None:
        refunds.refund(event.order_id, decision.refund, actor="system", ctx=ctx)
    return decision.outcome


# --- refunds -----------------------------------------------------------------------------


def refund_order(
    order_id: str, amount: int | None, *, reason: str, actor: str, ctx: Context
) -> OrderRecord:
    """The merchant refunds all (``amount`` None) or part of what was paid.

    A held payment (wrong amount) is refunded in full and the order
    cancelled, releasing its stock."""
    record = ctx.orders.get(order_id)
    if record.order.status is OrderStatus.ON_HOLD:
        return cancellation.cancel_order(
            order_id,
            actor=actor,
            reason="held payment refunded",
            refund_reason=reason,
            only_from={OrderStatus.ON_HOLD},
            ctx=ctx,
        )
    dues = domain.refunds_for(
        record.order,
        amount,
        key_prefix=f"refund:{order_id}:v{record.order.version}",
        reason=reason,
    )
    for due in dues:
        record = refunds.refund(order_id, due, actor=actor, ctx=ctx)
    return record


# --- bank transfers ----------------------------------------------------------------------


def mark_paid(order_id: str, reference: str, *, actor: str, ctx: Context) -> OrderRecord:
    """The merchant confirms a bank transfer (or accepts a held payment).
    Repeating it with the same reference changes nothing."""

    def attempt() -> OrderRecord | None:
        record = ctx.orders.get(order_id)
        order = record.order
        if any(p.reference == reference for p in order.payments) and order.status is not (
            OrderStatus.ON_HOLD
        ):
            return record
        ctx.orders.apply(domain.mark_paid(order, reference=reference, actor=actor, at=ctx.clock()))
        return None

    unchanged = retry_on_conflict(attempt, message="the order kept changing", order_id=order_id)
    if unchanged is not None:
        return unchanged
    logger.info("order marked paid", order_id=order_id)
    metrics.add_metric(name="OrdersMarkedPaid", unit="Count", value=1)
    return ctx.orders.get(order_id)


@dataclass(frozen=True)
class BankTransferSeen:
    number: str
    reference: str


@dataclass(frozen=True)
class MarkPaidResult:
    number: str
    outcome: str  # "paid", "already_paid", "not_found", "not_payable"
    order_id: str | None = None
    status: str | None = None


def mark_paid_in_bulk(
    transfers: Sequence[BankTransferSeen], *, actor: str, ctx: Context
) -> list[MarkPaidResult]:
    """Mark many orders paid from a bank statement; one result per line,
    and one line's failure does not stop the others."""
    results = []
    for transfer in transfers:
        order_id = ctx.payments.records.order_for_number(transfer.number)
        if order_id is None:
            results.append(MarkPaidResult(transfer.number, "not_found"))
            continue
        before = ctx.orders.get(order_id).order
        try:
            after = mark_paid(order_id, transfer.reference, actor=actor, ctx=ctx).order
        except IllegalTransition:
            results.append(
                MarkPaidResult(transfer.number, "not_payable", order_id, before.status.value)
            )
            continue
        outcome = "paid" if after.version != before.version else "already_paid"
        results.append(MarkPaidResult(transfer.number, outcome, order_id, after.status.value))
    return results
