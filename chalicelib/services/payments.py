"""Payments: applying provider events, marking paid, refunds.

The callback path is split for speed and safety: the webhook
(services/payment_callbacks.py) only verifies, records a receipt and queues
the event; the payment-events consumer calls ``apply_payment_event``, which
decides with domain/payments.py and writes with conditional transactions.
Every entry point is safe to run twice. What checkout answers about paying
is services/placement.py's ``payment_instructions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain import payments as domain
from chalicelib.domain.errors import (
    IllegalTransition,
    OrderNotFound,
)
from chalicelib.domain.order import OrderStatus
from chalicelib.domain.payments import Decision
from chalicelib.domain.provider_events import PaymentEvent
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord

# --- applying a provider's event ------------------------------------------------------


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
        # Imported where a refund is due: the refund path (and with it the
        # withdrawal and shipment rules) is not the payment consumer's usual
        # first message, and loading it cost every cold start.
        from chalicelib.services import refunds

        refunds.refund(event.order_id, decision.refund, actor="system", ctx=ctx)
    return decision.outcome


# --- refunds -----------------------------------------------------------------------------


def refund_order(
    order_id: str, amount: int | None, *, reason: str, actor: str, ctx: Context
) -> OrderRecord:
    """The merchant refunds all (``amount`` None) or part of what was paid.

    A held payment (wrong amount) is refunded in full and the order
    cancelled, releasing its stock."""
    from chalicelib.services import cancellation, refunds

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
