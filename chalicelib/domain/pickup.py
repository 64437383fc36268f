"""Click & collect after payment, as ``OrderChange``s: the merchant marks a
paid pickup order ready (with the code the customer will show) and hands it
over when the customer shows that code.

``paid -> ready_for_pickup -> picked_up``. The hand-over consumes the
reserved stock as a shipment does, and starts the withdrawal period as a
carrier's delivery does (domain/order_withdrawal.py ``period``). The pickup
code is kept on the order only: the events carry the location, never the code.
"""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.errors import IllegalTransition, NotAPickupOrder, PickupCodeWrong
from chalicelib.domain.events import OrderPickedUpData, OrderReadyForPickupData, ShippedLine
from chalicelib.domain.order import (
    FulfilmentStatus,
    HistoryEntry,
    Order,
    OrderChange,
    OrderStatus,
    PickupLine,
    StockMove,
)

#: Digits of a pickup code: read out at a counter, typed by the merchant.
CODE_DIGITS = 6


def _pickup_of(order: Order) -> PickupLine:
    if order.pickup is None:
        raise NotAPickupOrder(
            "this order is sent, not collected at a pickup location", order_id=order.id
        )
    return order.pickup


def ready_for_pickup(order: Order, *, code: str, actor: str, at: datetime) -> OrderChange | None:
    """A paid pickup order is ready at its location; ``code`` (from the
    caller's random source) is what the customer will show. None when it is
    ready already: a repeated request keeps the first code and sends no
    second email."""
    pickup = _pickup_of(order)
    if order.status is OrderStatus.READY_FOR_PICKUP:
        return None
    if order.status is not OrderStatus.PAID:
        raise IllegalTransition(
            f"only a paid pickup order becomes ready; this one is {order.status}",
            status=order.status.value,
            requested=OrderStatus.READY_FOR_PICKUP.value,
        )
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise ValueError("a pickup code is six digits")
    entry = HistoryEntry.of(
        OrderReadyForPickupData(location_id=pickup.location_id),
        at=at,
        actor=actor,
        message=f"Ready for pickup at {pickup.name}",
    )
    return order.change(
        OrderStatus.READY_FOR_PICKUP,
        at=at,
        history=[entry],
        fulfilment_status=FulfilmentStatus.READY_FOR_PICKUP,
        pickup_code=code,
    )


def hand_over(order: Order, *, code: str, actor: str, at: datetime) -> OrderChange | None:
    """The customer showed ``code``: the order is picked up, its reserved
    stock becomes shipped. A wrong code changes nothing. None when it was
    handed over already with this code (a repeated request)."""
    pickup = _pickup_of(order)
    if order.status is OrderStatus.PICKED_UP and _matches(code, order.pickup_code):
        return None
    if order.status is not OrderStatus.READY_FOR_PICKUP or order.pickup_code is None:
        raise IllegalTransition(
            f"only an order ready for pickup is handed over; this one is {order.status}",
            status=order.status.value,
            requested=OrderStatus.PICKED_UP.value,
        )
    if not _matches(code, order.pickup_code):
        raise PickupCodeWrong("this is not the order's pickup code")
    handed = {line.sku: line.unshipped_quantity for line in order.lines if line.unshipped_quantity}
    entry = HistoryEntry.of(
        OrderPickedUpData(
            location_id=pickup.location_id,
            picked_up_at=at,
            lines=[ShippedLine(sku=sku, quantity=q) for sku, q in handed.items()],
        ),
        at=at,
        actor=actor,
        message=f"Picked up at {pickup.name}",
    )
    return order.change(
        OrderStatus.PICKED_UP,
        at=at,
        history=[entry],
        stock_moves=[StockMove(sku=sku, reserved=-q, shipped=q) for sku, q in handed.items()],
        lines=tuple(replace(line, shipped_quantity=line.quantity) for line in order.lines),
        fulfilment_status=FulfilmentStatus.PICKED_UP,
        picked_up_at=at,
    )


def _matches(code: str, expected: str | None) -> bool:
    # Constant time: the comparison tells nothing about how much was right.
    return expected is not None and hmac.compare_digest(code.encode(), expected.encode())
