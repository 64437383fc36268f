"""Fulfilment use cases: ship, take carrier tracking events, record returns,
add notes, cancel as the merchant.

Each reads the order, lets the domain decide (chalicelib/domain/fulfilment.py)
and writes the one change with ``OrderStore.apply``, which is conditional on
the order's status and version; a lost race is re-read and decided again.

Refunds go through the payment provider that took the money
(services/payments.py); a merchant cancel takes the one cancel path
(services/cancellation.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from chalicelib.domain import carriers as links
from chalicelib.domain import fulfilment as domain
from chalicelib.domain import order_withdrawal
from chalicelib.domain.errors import (
    AlreadyClaimed,
    DomainError,
    InvalidCarrierSignature,
    InvalidRequest,
    RefundExceedsPaid,
    ShipmentNotFound,
)
from chalicelib.domain.order import Visibility
from chalicelib.domain.shipment import Shipment, ShipmentLine, TrackingEvent
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services import cancellation, payments, refunds
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord

T = TypeVar("T")


def _retrying(order_id: str, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` again when the order changed between read and write."""
    return retry_on_conflict(
        attempt, message="the order kept changing; try again", order_id=order_id
    )


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


def ship_remaining(
    order_id: str,
    carrier: str,
    tracking_number: str,
    *,
    actor: str,
    ctx: Context,
    tracking_url: str | None = None,
) -> Shipment:
    """Ship everything of the order not shipped yet, in one parcel."""
    lines = tuple(
        ShipmentLine(line.sku, line.unshipped_quantity)
        for line in ctx.orders.get(order_id).order.lines
        if line.unshipped_quantity > 0
    )
    if not lines:
        raise InvalidRequest("nothing of this order is left to ship")
    command = ShipLines(carrier, tracking_number, lines, tracking_url)
    return ship(order_id, command, actor=actor, ctx=ctx)


@dataclass(frozen=True)
class ParcelSent:
    """One order of a bulk shipment: its parcel's carrier and tracking number."""

    order_id: str
    carrier: str
    tracking_number: str


@dataclass(frozen=True)
class ShipResult:
    order_id: str
    outcome: str  # "shipped", or the refusal's error code
    shipment_id: str | None = None


def ship_many(parcels: Sequence[ParcelSent], *, actor: str, ctx: Context) -> list[ShipResult]:
    """Ship each order's remaining lines; one result per order, and one
    order's refusal (not paid, already shipped, a used tracking number) does
    not stop the others."""
    results = []
    for parcel in parcels:
        try:
            shipment = ship_remaining(
                parcel.order_id, parcel.carrier, parcel.tracking_number, actor=actor, ctx=ctx
            )
        except DomainError as refused:
            results.append(ShipResult(parcel.order_id, refused.code))
            continue
        results.append(ShipResult(parcel.order_id, "shipped", shipment.id))
    return results


# --- tracking --------------------------------------------------------------------------


def verify_tracking_callback(raw_body: bytes, signature: str | None, ctx: Context) -> None:
    """Refuse a carrier callback unless one of the active carrier secrets
    signed these bytes recently (checked before anything is parsed)."""
    if ctx.carrier_callbacks is None:
        raise InvalidCarrierSignature("carrier callbacks are not configured")
    ctx.carrier_callbacks.verify(raw_body, signature, ctx.clock())


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


# --- returns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordReturn:
    lines: tuple[domain.ReturnedLine, ...]
    refund: int = 0  # minor units paid back through the payment provider
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
            # The goods are back: a withdrawal's refund is no longer held for them.
            order_withdrawal.release_after_return(
                domain.record_return(
                    ctx.orders.get(order_id).order,
                    return_id=return_id,
                    lines=command.lines,
                    surcharge=command.surcharge,
                    refund=command.refund,
                    reason=command.reason,
                    actor=actor,
                    at=ctx.clock(),
                ),
                at=ctx.clock(),
                actor=actor,
            )
        ),
    )
    logger.info("return recorded", order_id=order_id, return_id=return_id, refund=command.refund)
    if command.refund:
        return payments.refund_order(
            order_id, command.refund, reason=command.reason, actor=actor, ctx=ctx
        )
    return ctx.orders.get(order_id)


def check_return(order_id: str, command: RecordReturn, ctx: Context) -> None:
    """Refuse a refund larger than what is left before anything is written."""
    if command.refund:
        left = refunds.refundable(ctx.orders.get(order_id))
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
    return cancellation.cancel_order(order_id, actor=actor, reason=reason, ctx=ctx)
