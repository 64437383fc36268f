"""Refunds through the payment provider that took the money, recorded on the
order in the one refund ledger (domain/payments.py).

Every refund goes through here: the merchant's (services/payments.py), the
ones a payment event makes due (late or wrong-amount payments) and the one
after a cancel (services/cancellation.py).
"""

from __future__ import annotations

from chalicelib.domain import order_withdrawal
from chalicelib.domain import payments as ledger
from chalicelib.domain.errors import NothingLeftToRefund
from chalicelib.domain.payments import RefundDue
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord


def refundable(record: OrderRecord) -> int:
    """What is paid and not yet refunded."""
    return ledger.paid_amount(record.order) - ledger.refunded_amount(record.order)


def refund(order_id: str, due: RefundDue, *, actor: str, ctx: Context) -> OrderRecord:
    """Make one refund through the provider, then record it on the order.

    The provider call comes first and carries ``due.idempotency_key``: a
    retry after a failed write makes no second refund, it records the first."""
    provider = ctx.payments.providers[due.provider]
    try:
        result = provider.refund(
            reference=due.reference,
            amount=due.amount,
            currency=due.currency,
            idempotency_key=due.idempotency_key,
        )
    except NothingLeftToRefund:
        if due.amount is not None:
            raise
        # Refunded in full already, in the provider's dashboard: its refund
        # event (queued behind this one) records the amount.
        logger.info("payment already refunded at the provider", order_id=order_id)
        return ctx.orders.get(order_id)

    def record() -> OrderRecord | None:
        current = ctx.orders.get(order_id)
        payment = next(p for p in current.order.payments if p.reference == due.reference)
        if result.refunded_total is not None:
            total = result.refunded_total
        elif due.amount is None:
            total = payment.amount
        else:
            total = payment.refunded + due.amount
        change = ledger.record_refund(
            current.order,
            due.reference,
            total,
            at=ctx.clock(),
            actor=actor,
            reason=due.reason,
            refund_key=f"refund:{result.refund_id}",
        )
        if change is None:
            return current
        # A withdrawal whose refund this completes is marked refunded in the same write.
        ctx.orders.apply(order_withdrawal.settle_refunds(change, at=ctx.clock(), actor=actor))
        return None

    recorded = retry_on_conflict(
        record, message="the order kept changing; the refund is made", order_id=order_id
    )
    if recorded is not None:
        return recorded
    logger.info("refund recorded", order_id=order_id, provider=due.provider, amount=due.amount)
    metrics.add_metric(name="RefundsIssued", unit="Count", value=1)
    return ctx.orders.get(order_id)


def refund_outstanding(order_id: str, *, actor: str, reason: str, ctx: Context) -> OrderRecord:
    """Return everything the order kept (after a cancel). Safe to repeat:
    the same refund is asked with the same idempotency key."""
    record = ctx.orders.get(order_id)
    if not any(p.outstanding and not p.refund_due for p in record.order.payments):
        return record
    for due in ledger.refunds_for(
        record.order, None, key_prefix=f"cancel:{order_id}", reason=reason
    ):
        record = refund(order_id, due, actor=actor, ctx=ctx)
    return record
