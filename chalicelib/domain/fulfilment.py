"""The merchant's actions after payment, as ``OrderChange``s: shipping lines,
taking carrier tracking events, recording returns and adding notes.

Pure decisions: each function gets the order (and its shipments) as read and
returns the one change the store writes in one transaction, or raises an
error naming the business fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.errors import (
    IllegalTransition,
    InvalidRequest,
    PickupOrderNotShipped,
    ReturnExceedsShipped,
    ShipmentExceedsOrder,
)
from chalicelib.domain.events import (
    NoteAddedData,
    OrderDeliveredData,
    OrderShippedData,
    ReturnedLineData,
    ReturnRecordedData,
    ShipmentUpdatedData,
    ShippedLine,
)
from chalicelib.domain.money import unit_share
from chalicelib.domain.order import (
    FulfilmentStatus,
    HistoryEntry,
    Order,
    OrderChange,
    OrderStatus,
    StockMove,
    Visibility,
)
from chalicelib.domain.shipment import Claim, Shipment, ShipmentLine, TrackingEvent

SHIPPABLE = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED})
RETURNABLE = frozenset(
    {
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.PICKED_UP,  # click & collect: handed over at the counter
    }
)


def _merge(lines: Sequence[ShipmentLine]) -> dict[str, int]:
    if not lines:
        raise InvalidRequest("name at least one line")
    skus = [line.sku for line in lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise InvalidRequest("each SKU may appear on one line only", skus=duplicates)
    return {line.sku: line.quantity for line in lines}


# --- shipping --------------------------------------------------------------------------


def ship(
    order: Order,
    *,
    shipment_id: str,
    carrier: str,
    tracking_number: str,
    tracking_url: str,
    lines: Sequence[ShipmentLine],
    actor: str,
    at: datetime,
) -> OrderChange:
    """Ship ``lines`` of a paid order: the reserved stock becomes shipped.
    A pickup order is handed over instead (domain/pickup.py)."""
    if order.pickup is not None:
        raise PickupOrderNotShipped(
            "this order is collected at its pickup location, not shipped",
            location=order.pickup.location_id,
        )
    if order.status not in SHIPPABLE:
        raise IllegalTransition(
            f"only paid orders ship; this one is {order.status}", status=order.status.value
        )
    wanted = _merge(lines)
    by_sku = {line.sku: line for line in order.lines}
    unknown = sorted(sku for sku in wanted if sku not in by_sku)
    if unknown:
        raise InvalidRequest("these SKUs are not on the order", skus=unknown)
    excess = [
        {"sku": sku, "requested": q, "unshipped": by_sku[sku].unshipped_quantity}
        for sku, q in wanted.items()
        if q > by_sku[sku].unshipped_quantity
    ]
    if excess:
        raise ShipmentExceedsOrder("more than was ordered and not yet shipped", lines=excess)

    new_lines = tuple(
        replace(line, shipped_quantity=line.shipped_quantity + wanted.get(line.sku, 0))
        for line in order.lines
    )
    complete = all(line.unshipped_quantity == 0 for line in new_lines)
    target = OrderStatus.SHIPPED if complete else OrderStatus.PARTIALLY_SHIPPED
    shipment = Shipment(
        id=shipment_id,
        order_id=order.id,
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=tracking_url,
        lines=tuple(ShipmentLine(sku, q) for sku, q in wanted.items()),
        shipped_at=at,
    )
    entry = HistoryEntry.of(
        OrderShippedData(
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            lines=[ShippedLine(sku=sku, quantity=q) for sku, q in wanted.items()],
        ),
        at=at,
        actor=actor,
        message=f"Shipped with {carrier.upper()}, tracking number {tracking_number}",
    )
    change = order.change(
        target,
        at=at,
        history=[entry],
        stock_moves=[StockMove(sku=sku, reserved=-q, shipped=q) for sku, q in wanted.items()],
        lines=new_lines,
        fulfilment_status=FulfilmentStatus(target.value),
    )
    return replace(
        change,
        shipments=(shipment,),
        claims=(
            Claim(
                "tracking_number",
                carrier,
                tracking_number,
                order_id=order.id,
                shipment_id=shipment_id,
            ),
        ),
    )


# --- tracking --------------------------------------------------------------------------


def track(
    order: Order, shipments: Sequence[Shipment], shipment_id: str, event: TrackingEvent
) -> OrderChange | None:
    """The change a carrier event makes, or None when it makes none.

    When every shipment of a fully shipped order is delivered, the order is
    delivered in the same change."""
    current = next((s for s in shipments if s.id == shipment_id), None)
    if current is None:
        return None
    updated = current.track(event)
    if updated is None:
        return None
    history = [
        HistoryEntry.of(
            ShipmentUpdatedData(
                shipment_id=updated.id,
                carrier=updated.carrier,
                tracking_number=updated.tracking_number,
                status=event.status.value,
                previous_status=current.status.value,
                occurred_at=event.occurred_at,
                # Written even when the carrier gave none (null).
                location=event.location,
                carrier_event_id=event.event_id,
            ),
            at=event.occurred_at,
            actor=f"carrier:{event.carrier}",
            message=f"Shipment {event.tracking_number}: {event.status.value.replace('_', ' ')}",
            visibility=Visibility.INTERNAL,
        )
    ]
    after = [updated if s.id == updated.id else s for s in shipments]
    claim = Claim("carrier_event", event.carrier, event.event_id, order_id=order.id)
    if (
        updated.is_delivered
        and order.status is OrderStatus.SHIPPED
        and all(s.is_delivered for s in after)
    ):
        # Delivered when its last parcel arrived, whichever report came last.
        last = max(after, key=lambda s: s.delivered_at or event.occurred_at)
        delivered_at = last.delivered_at or event.occurred_at
        history.append(
            HistoryEntry.of(
                OrderDeliveredData(shipment_id=last.id, delivered_at=delivered_at),
                at=delivered_at,
                actor=f"carrier:{event.carrier}",
                message="Order delivered",
            )
        )
        change = order.change(
            OrderStatus.DELIVERED,
            at=event.occurred_at,
            history=history,
            fulfilment_status=FulfilmentStatus.DELIVERED,
        )
    else:
        change = order.record(at=event.occurred_at, history=history)
    return replace(change, shipments=(updated,), claims=(claim,))


# --- returns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnedLine:
    sku: str
    quantity: int
    restock: bool  # back to sellable stock, or written off (damaged, used)


def record_return(
    order: Order,
    *,
    return_id: str,
    lines: Sequence[ReturnedLine],
    surcharge: int,
    refund: int,
    reason: str,
    actor: str,
    at: datetime,
) -> OrderChange:
    """Take back shipped lines. Restocked lines become available again
    (``available += q, restocked += q``); the value of the goods (credit) and
    the fees withheld (surcharge) are added to the order's totals."""
    if order.status not in RETURNABLE:
        raise IllegalTransition(
            f"only shipped orders take returns; this one is {order.status}",
            status=order.status.value,
        )
    if not lines:
        raise InvalidRequest("name at least one returned line")
    skus = [line.sku for line in lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise InvalidRequest("each SKU may appear on one line only", skus=duplicates)
    by_sku = {line.sku: line for line in order.lines}
    unknown = sorted(sku for sku in skus if sku not in by_sku)
    if unknown:
        raise InvalidRequest("these SKUs are not on the order", skus=unknown)
    excess = [
        {
            "sku": line.sku,
            "requested": line.quantity,
            "returnable": by_sku[line.sku].shipped_quantity - by_sku[line.sku].returned_quantity,
        }
        for line in lines
        if line.quantity > by_sku[line.sku].shipped_quantity - by_sku[line.sku].returned_quantity
    ]
    if excess:
        raise ReturnExceedsShipped("more than was shipped and not yet returned", lines=excess)
    returned = {line.sku: line.quantity for line in lines}
    # What the customer paid for these units (after the code's discount),
    # cut from the line's running total so a line returned in several steps
    # credits exactly what was paid for it.
    credit = sum(
        unit_share(by_sku[sku].paid, by_sku[sku].quantity, by_sku[sku].returned_quantity, q)
        for sku, q in returned.items()
    )
    if surcharge > credit:
        raise InvalidRequest("the surcharge exceeds the value of the returned goods", credit=credit)
    new_lines = tuple(
        replace(line, returned_quantity=line.returned_quantity + returned.get(line.sku, 0))
        for line in order.lines
    )
    entry = HistoryEntry.of(
        ReturnRecordedData(
            return_id=return_id,
            lines=[
                ReturnedLineData(sku=line.sku, quantity=line.quantity, restock=line.restock)
                for line in lines
            ],
            credit=credit,
            surcharge=surcharge,
            refund=refund,
            currency=order.currency,
            reason=reason,
        ),
        at=at,
        actor=actor,
        message=f"Return received: {sum(returned.values())} item(s)",
    )
    change = order.record(
        at=at,
        history=[entry],
        lines=new_lines,
        return_credit_total=order.return_credit_total + credit,
        return_surcharge_total=order.return_surcharge_total + surcharge,
    )
    moves = tuple(
        StockMove(sku=line.sku, available=line.quantity, restocked=line.quantity)
        for line in lines
        if line.restock
    )
    return replace(change, stock_moves=moves)


# --- notes -----------------------------------------------------------------------------


def add_note(
    order: Order, *, note: str, visibility: Visibility, actor: str, at: datetime
) -> OrderChange:
    """A merchant note; a customer-visible one is emailed to the customer."""
    entry = HistoryEntry.of(
        NoteAddedData(note=note), at=at, actor=actor, message=note, visibility=visibility
    )
    return order.record(at=at, history=[entry])
