"""The merchant's order desk: find orders, see one in full, add notes, ship,
hand over pickup orders, record returns, cancel, print the packing slip.
Admin API key required."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import fulfilment_presenters as present
from chalicelib.api import wiring
from chalicelib.api.auth import admin_key_authorizer, principal
from chalicelib.api.contract import HTML, documented
from chalicelib.api.fulfilment_schemas import (
    DeskListingOut,
    DeskQueryIn,
    MerchantCancelIn,
    NoteIn,
    OrderDetailOut,
    PackingSlipQueryIn,
    PickupIn,
    ReturnIn,
    ShipmentIn,
    ShipmentOut,
)
from chalicelib.api.http import parse_body, parse_query, raw_body, route
from chalicelib.documents import packing_slip
from chalicelib.domain import errors
from chalicelib.domain.fulfilment import ReturnedLine
from chalicelib.domain.order import Visibility
from chalicelib.domain.shipment import ShipmentLine
from chalicelib.services import fulfilment, order_desk, pickup
from chalicelib.services.ports import DeskQuery

admin_orders = Blueprint(__name__)
_AUTH = {"authorizer": admin_key_authorizer}


def _actor() -> str:
    return principal(admin_orders.current_request.context)


@route(admin_orders, "/admin/orders", methods=["GET"], **_AUTH)
@documented(
    "Find orders: by status, payment, method, creation time, email or number; by cursor",
    ok={200: DeskListingOut},
    query=DeskQueryIn,
    auth="admin_key",
    errors=(errors.InvalidRequest, errors.InvalidCursor, 422),
)
def list_orders() -> dict[str, Any]:
    params = parse_query(admin_orders.current_request, DeskQueryIn)
    filters = params.model_dump(exclude={"limit", "cursor"})
    listing = order_desk.list_orders(
        DeskQuery(**filters), page_size=params.limit, cursor=params.cursor, ctx=wiring.context()
    )
    return present.listing(listing)


@route(admin_orders, "/admin/orders/{order_id}", methods=["GET"], **_AUTH)
@documented(
    "An order in full: lines, payments, shipments, history and internal notes",
    ok={200: OrderDetailOut},
    auth="admin_key",
    errors=(errors.OrderNotFound,),
)
def show_order(order_id: str) -> dict[str, Any]:
    return present.order_detail(order_desk.show_order(order_id, wiring.context()))


@route(admin_orders, "/admin/orders/{order_id}/notes", methods=["POST"], **_AUTH)
@documented(
    "Add a note to an order (internal, or visible to the customer)",
    ok={201: OrderDetailOut},
    body=NoteIn,
    auth="admin_key",
    errors=(errors.OrderNotFound, errors.ConcurrentUpdate),
)
def add_note(order_id: str) -> Response:
    body = parse_body(admin_orders.current_request, NoteIn)
    record = fulfilment.add_note(
        order_id, body.note, Visibility(body.visibility), actor=_actor(), ctx=wiring.context()
    )
    return Response(body=present.order_detail(record), status_code=201)


@route(admin_orders, "/admin/orders/{order_id}/shipments", methods=["POST"], **_AUTH)
@documented(
    "Ship lines of a paid order with a carrier and tracking number",
    ok={201: ShipmentOut},
    body=ShipmentIn,
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
        errors.InvalidRequest,
        errors.ShipmentExceedsOrder,
        errors.TrackingNumberInUse,
        errors.AlreadyClaimed,
        errors.PickupOrderNotShipped,
    ),
)
def ship(order_id: str) -> Response:
    body = parse_body(admin_orders.current_request, ShipmentIn)
    command = fulfilment.ShipLines(
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=body.tracking_url,
        lines=tuple(ShipmentLine(line.sku, line.quantity) for line in body.lines),
    )
    shipment = fulfilment.ship(order_id, command, actor=_actor(), ctx=wiring.context())
    return Response(body=present.shipment(shipment), status_code=201)


@route(admin_orders, "/admin/orders/{order_id}/ready-for-pickup", methods=["POST"], **_AUTH)
@documented(
    "Mark a paid pickup order ready at its location; the customer is emailed its pickup code",
    description="Repeating it changes nothing: the first code stays.",
    ok={200: OrderDetailOut},
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
        errors.NotAPickupOrder,
    ),
)
def ready_for_pickup(order_id: str) -> dict[str, Any]:
    raw_body(admin_orders.current_request)  # no body is taken; an oversized one is refused
    record = pickup.mark_ready_for_pickup(order_id, actor=_actor(), ctx=wiring.context())
    return present.order_detail(record)


@route(admin_orders, "/admin/orders/{order_id}/pickup", methods=["POST"], **_AUTH)
@documented(
    "Hand a pickup order over against the code the customer shows",
    description="The reserved stock becomes shipped and the withdrawal period begins. "
    "A wrong code is refused and changes nothing.",
    ok={200: OrderDetailOut},
    body=PickupIn,
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
        errors.NotAPickupOrder,
        errors.PickupCodeWrong,
    ),
)
def hand_over(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_orders.current_request, PickupIn)
    record = pickup.hand_over(order_id, body.code, actor=_actor(), ctx=wiring.context())
    return present.order_detail(record)


@route(admin_orders, "/admin/orders/{order_id}/returns", methods=["POST"], **_AUTH)
@documented(
    "Record returned lines, restocked or written off, with an optional refund",
    ok={201: OrderDetailOut},
    body=ReturnIn,
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
        errors.InvalidRequest,
        errors.ReturnExceedsShipped,
        errors.RefundExceedsPaid,
        errors.RefundRejected,
        errors.PaymentProviderUnavailable,
    ),
)
def record_return(order_id: str) -> Response:
    body = parse_body(admin_orders.current_request, ReturnIn)
    command = fulfilment.RecordReturn(
        lines=tuple(ReturnedLine(ln.sku, ln.quantity, ln.restock) for ln in body.lines),
        refund=body.refund,
        surcharge=body.surcharge,
        reason=body.reason,
    )
    record = fulfilment.record_return(order_id, command, actor=_actor(), ctx=wiring.context())
    return Response(body=present.order_detail(record), status_code=201)


@route(admin_orders, "/admin/orders/{order_id}/cancel", methods=["POST"], **_AUTH)
@documented(
    "Cancel an order before it ships; its stock is released and a payment refunded",
    ok={200: OrderDetailOut},
    body=MerchantCancelIn,
    body_required=False,
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
        errors.RefundRejected,
        errors.PaymentProviderUnavailable,
    ),
)
def cancel(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_orders.current_request, MerchantCancelIn, allow_empty=True)
    record = fulfilment.cancel_as_merchant(
        order_id, body.reason, actor=_actor(), ctx=wiring.context()
    )
    return present.order_detail(record)


@route(admin_orders, "/admin/orders/{order_id}/packing-slip", methods=["GET"], **_AUTH)
@documented(
    "The packing slip of an order (or of one shipment) as a printable page",
    ok={200: HTML},
    query=PackingSlipQueryIn,
    auth="admin_key",
    errors=(errors.OrderNotFound, errors.ShipmentNotFound, 422),
)
def print_packing_slip(order_id: str) -> Response:
    ctx = wiring.context()
    params = parse_query(admin_orders.current_request, PackingSlipQueryIn)
    html = packing_slip.render(
        order_desk.show_order(order_id, ctx),
        ctx.settings,
        params.shipment_id,
        amounts=params.amounts == "true",
    )
    return Response(
        body=html, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"}
    )
