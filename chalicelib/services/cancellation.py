"""Cancelling an order: the one path every cancel takes (the customer's, the
merchant's, and a held payment's refund), so each releases the stock and
returns the money the same way."""

from __future__ import annotations

from collections.abc import Collection

from chalicelib.domain.order import OrderStatus
from chalicelib.observability import logger
from chalicelib.retry import retry_on_conflict
from chalicelib.services import refunds
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord


def cancel_order(
    order_id: str,
    *,
    actor: str,
    reason: str,
    ctx: Context,
    refund_reason: str = "order cancelled",
    only_from: Collection[OrderStatus] | None = None,
) -> OrderRecord:
    """Cancel before the first shipment, releasing the reserved stock, then
    refund through each payment's provider whatever was paid.

    Safe to repeat: a cancelled order is not cancelled again, and its refund
    is asked with the same idempotency keys (a refund the provider failed
    the first time is retried, one that succeeded is not made twice).
    ``only_from`` cancels only an order (still) in one of these statuses;
    the refund of what it kept is made either way."""

    def cancel() -> None:
        order = ctx.orders.get(order_id).order
        if order.status is OrderStatus.CANCELLED:
            return
        if only_from is not None and order.status not in only_from:
            return
        ctx.orders.apply(order.cancel(actor=actor, reason=reason, at=ctx.clock()))
        logger.info("order cancelled", order_id=order_id, actor=actor)

    retry_on_conflict(cancel, message="the order kept changing; try again", order_id=order_id)
    return refunds.refund_outstanding(order_id, actor=actor, reason=refund_reason, ctx=ctx)
