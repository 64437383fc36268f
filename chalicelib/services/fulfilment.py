"""Fulfilment use cases: ship, take carrier tracking events, record returns,
add notes, cancel as the merchant.

Each reads the order, lets the domain decide (chalicelib/domain/fulfilment.py)
and writes the one change with ``OrderStore.apply``, which is conditional on
the order's status and version; a lost race is re-read and decided again.

Refunds go through ``Refunds`` (below): with payment ports in the context
(the app's), the payment provider refunds (services/payments.py); a context
without them records a refund the merchant makes outside the system
(``RecordedRefunds``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from chalicelib.carriers import links
from chalicelib.domain import fulfilment as domain
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.order import OrderStatus, PaymentStatus, Visibility
from chalicelib.domain.shipment import (
    AlreadyClaimed,
    RefundExceedsPaid,
    Shipment,
    ShipmentLine,
    ShipmentNotFound,
    TrackingEvent,
)
from chalicelib.observability import logger, metrics
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord

_ATTEMPTS = 4
T = TypeVar("T")


def _retrying(order_id: str, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` again when the order changed between read and write."""
    for n in range(_ATTEMPTS):
        try:
            return attempt()
        except ConcurrentUpdate:
            time.sleep(0.01 * n)
    raise ConcurrentUpdate("the order kept changing; try again", order_id=order_id)


# --- shipping --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipLines:
    carrier: str
    tracking_number: str
    lines: tuple[ShipmentLine, ...]
    tracking_url: str | None = None  # required for carriers without a template


def ship(order_id: str, command: ShipLines, *, actor: str, ctx: Context) -> Shipment:
    """Ship lines of a paid order; the reserved stock becomes shipped in the
    same transaction. A tracking number is used once per carrier, so a
    retried request is refused (409) instead of shipping twice."""
    carrier = links.normalise_carrier(command.carrier)
    url = links.tracking_url(carrier, command.tracking_number, command.tracking_url)
    shipment_id = f"shp_{uuid.uuid4().hex[:16]}"

    def attempt() -> Shipment:
        record = ctx.orders.get(order_id)
        change = domain.ship(
            record.order,
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=command.tracking_number,
            tracking_url=url,
            lines=command.lines,
            actor=actor,
            at=ctx.clock(),
        )
        ctx.orders.apply(change)
        return change.shipments[0]

    shipment = _retrying(order_id, attempt)
    logger.info(
        "order shipped",
        order_id=order_id,
        shipment_id=shipment.id,
        carrier=carrier,
        lines=len(shipment.lines),
    )
    metrics.add_metric(name="ShipmentsCreated", unit="Count", value=1)
    return shipment


# --- tracking --------------------------------------------------------------------------


def apply_tracking_event(event: TrackingEvent, ctx: Context) -> str:
    """Attach a carrier event to its shipment. Returns ``applied``,
    ``duplicate`` (its id was seen) or ``ignored`` (older than what we know,
    or after the shipment's end). Safe to deliver any number of times, in
    any order: the change is conditional on the order's version and claims
    the event id in the same transaction."""
    found = ctx.orders.shipment_for_tracking(event.carrier, event.tracking_number)
    if found is None:
        raise ShipmentNotFound(
            "no shipment has this tracking number",
            carrier=event.carrier,
            tracking_number=event.tracking_number,
        )
    order_id, shipment_id = found

    def attempt() -> str:
        record = ctx.orders.get(order_id)
        change = domain.track(record.order, record.shipments, shipment_id, event)
        if change is None:
            return "ignored"
        try:
            ctx.orders.apply(change)
        except AlreadyClaimed:
            return "duplicate"
        return "applied"

    outcome = _retrying(order_id, attempt)
    logger.info(
        "tracking event handled",
        order_id=order_id,
        shipment_id=shipment_id,
        status=event.status.value,
        outcome=outcome,
    )
    return outcome


# --- refunds: the hook for the payments port --------------------------------------------


class Refunds(Protocol):
    """Pays money back and records it on the order (an ``OrderRefunded``
    history entry and the payment status), at most once per ``key``."""

    def refund(
        self, order_id: str, amount: int, *, reason: str, actor: str, key: str
    ) -> OrderRecord: ...


class RecordedRefunds:
    """Until the payments port is connected: records a refund the merchant
    makes outside the system (e.g. a bank transfer back), once per key."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def refund(
        self, order_id: str, amount: int, *, reason: str, actor: str, key: str
    ) -> OrderRecord:
        ctx = self._ctx

        def attempt() -> OrderRecord:
            record = ctx.orders.get(order_id)
            change = domain.record_refund(
                record.order,
                amount=amount,
                refunded_before=domain.refunded_so_far(record.history),
                refund_id=key,
                reason=reason,
                actor=actor,
                at=ctx.clock(),
            )
            try:
                ctx.orders.apply(change)
            except AlreadyClaimed:
                pass  # this refund was recorded before: a retried request
            return ctx.orders.get(order_id)

        return _retrying(order_id, attempt)


class ProviderRefunds:
    """Refunds through the payment provider that took the money: the
    payments service spreads the amount over the order's payments, asks each
    provider with an idempotency key and records what it confirms."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def refund(
        self, order_id: str, amount: int, *, reason: str, actor: str, key: str
    ) -> OrderRecord:
        from chalicelib.services import payments

        return payments.refund_order(order_id, amount, reason=reason, actor=actor, ctx=self._ctx)


def refunds(ctx: Context) -> Refunds:
    """The refund port the merchant's actions use (see the module docstring)."""
    if ctx.refunds is not None:
        return ctx.refunds
    if ctx.payments is not None:
        return ProviderRefunds(ctx)
    return RecordedRefunds(ctx)


def refundable(record: OrderRecord, ctx: Context) -> int:
    """What is paid and not yet refunded."""
    if ctx.payments is not None:
        from chalicelib.domain import payments as ledger

        return ledger.paid_amount(record.order) - ledger.refunded_amount(record.order)
    if record.order.payment_status not in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
        return 0
    return record.order.totals.total - domain.refunded_so_far(record.history)


# --- returns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordReturn:
    lines: tuple[domain.ReturnedLine, ...]
    refund: int = 0  # minor units paid back through the refund port
    surcharge: int = 0  # fees withheld (return shipping, restocking)
    reason: str = "returned by customer"


def record_return(order_id: str, command: RecordReturn, *, actor: str, ctx: Context) -> OrderRecord:
    """Record returned lines (restocked or not), then refund if asked.

    The return is written first: the goods are back whatever happens to the
    refund. A failed refund raises (the merchant retries it as a refund)."""
    check_return(order_id, command, ctx)
    return_id = f"ret_{uuid.uuid4().hex[:16]}"
    _retrying(
        order_id,
        lambda: ctx.orders.apply(
            domain.record_return(
                ctx.orders.get(order_id).order,
                return_id=return_id,
                lines=command.lines,
                surcharge=command.surcharge,
                refund=command.refund,
                reason=command.reason,
                actor=actor,
                at=ctx.clock(),
            )
        ),
    )
    logger.info("return recorded", order_id=order_id, return_id=return_id, refund=command.refund)
    if command.refund:
        return refunds(ctx).refund(
            order_id, command.refund, reason=command.reason, actor=actor, key=return_id
        )
    return ctx.orders.get(order_id)


def check_return(order_id: str, command: RecordReturn, ctx: Context) -> None:
    """Refuse a refund larger than what is left before anything is written."""
    if command.refund:
        left = refundable(ctx.orders.get(order_id), ctx)
        if command.refund > left:
            raise RefundExceedsPaid("the refund exceeds what is left to refund", refundable=left)


# --- notes -----------------------------------------------------------------------------


def add_note(
    order_id: str, note: str, visibility: Visibility, *, actor: str, ctx: Context
) -> OrderRecord:
    """A merchant note; customer-visible notes are emailed (NoteAdded event)."""
    _retrying(
        order_id,
        lambda: ctx.orders.apply(
            domain.add_note(
                ctx.orders.get(order_id).order,
                note=note,
                visibility=visibility,
                actor=actor,
                at=ctx.clock(),
            )
        ),
    )
    logger.info("note added", order_id=order_id, visibility=visibility.value)
    return ctx.orders.get(order_id)


# --- merchant cancel -------------------------------------------------------------------


def cancel_as_merchant(order_id: str, reason: str, *, actor: str, ctx: Context) -> OrderRecord:
    """Cancel before the first shipment, releasing the stock; a paid order is
    then refunded in full. Repeating it is safe: a cancelled order is not
    cancelled again, and its refund is asked with the same key (so a refund
    that failed the first time is retried, and one that succeeded is not
    made twice)."""

    def cancel() -> None:
        order = ctx.orders.get(order_id).order
        if order.status is not OrderStatus.CANCELLED:
            ctx.orders.apply(order.cancel(actor=actor, reason=reason, at=ctx.clock()))
            logger.info("order cancelled", order_id=order_id, actor="merchant")

    if ctx.payments is not None:
        from chalicelib.services import placement

        # The payments service's cancel: release the stock, then refund
        # everything kept through each payment's provider, with stable keys.
        return placement.cancel_order(order_id, actor=actor, reason=reason, ctx=ctx)
    _retrying(order_id, cancel)
    record = ctx.orders.get(order_id)
    left = refundable(record, ctx)
    if record.order.payment_status is PaymentStatus.PAID and left > 0:
        record = refunds(ctx).refund(
            order_id, left, reason=reason, actor=actor, key=f"cancel:{order_id}"
        )
    return record
