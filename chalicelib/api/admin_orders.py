"""The merchant's order desk: find orders, see one in full, add notes, ship,
record returns, cancel, print the packing slip. Admin API key required."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import fulfilment_presenters as present
from chalicelib.api.auth import admin_key_authorizer, principal
from chalicelib.api.fulfilment_schemas import (
    DeskQueryIn,
    MerchantCancelIn,
    NoteIn,
    ReturnIn,
    ShipmentIn,
)
from chalicelib.api.http import parse_body, route
from chalicelib.documents import packing_slip
from chalicelib.domain.fulfilment import ReturnedLine
from chalicelib.domain.order import Visibility
from chalicelib.domain.shipment import ShipmentLine
from chalicelib.services import fulfilment, order_desk
from chalicelib.services.ports import DeskQuery

admin_orders = Blueprint(__name__)
_AUTH = {"authorizer": admin_key_authorizer}


def _actor() -> str:
    return principal(admin_orders.current_request.context)


@route(admin_orders, "/admin/orders", methods=["GET"], **_AUTH)
def list_orders() -> dict[str, Any]:
    params = DeskQueryIn.model_validate(admin_orders.current_request.query_params or {})
    filters = params.model_dump(exclude={"limit", "cursor"})
    listing = order_desk.list_orders(
        DeskQuery(**filters), page_size=params.limit, cursor=params.cursor, ctx=bootstrap.context()
    )
    return present.listing(listing)


@route(admin_orders, "/admin/orders/{order_id}", methods=["GET"], **_AUTH)
def show_order(order_id: str) -> dict[str, Any]:
    return present.order_detail(order_desk.show_order(order_id, bootstrap.context()))


@route(admin_orders, "/admin/orders/{order_id}/notes", methods=["POST"], **_AUTH)
def add_note(order_id: str) -> Response:
    body = parse_body(admin_orders.current_request, NoteIn)
    record = fulfilment.add_note(
        order_id, body.note, Visibility(body.visibility), actor=_actor(), ctx=bootstrap.context()
    )
    return Response(body=present.order_detail(record), status_code=201)


@route(admin_orders, "/admin/orders/{order_id}/shipments", methods=["POST"], **_AUTH)
def ship(order_id: str) -> Response:
    body = parse_body(admin_orders.current_request, ShipmentIn)
    command = fulfilment.ShipLines(
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=body.tracking_url,
        lines=tuple(ShipmentLine(line.sku, line.quantity) for line in body.lines),
    )
    shipment = fulfilment.ship(order_id, command, actor=_actor(), ctx=bootstrap.context())
    return Response(body=present.shipment(shipment), status_code=201)


@route(admin_orders, "/admin/orders/{order_id}/returns", methods=["POST"], **_AUTH)
def record_return(order_id: str) -> Response:
    body = parse_body(admin_orders.current_request, ReturnIn)
    command = fulfilment.RecordReturn(
        lines=tuple(ReturnedLine(ln.sku, ln.quantity, ln.restock) for ln in body.lines),
        refund=body.refund,
        surcharge=body.surcharge,
        reason=body.reason,
    )
    record = fulfilment.record_return(order_id, command, actor=_actor(), ctx=bootstrap.context())
    return Response(body=present.order_detail(record), status_code=201)


@route(admin_orders, "/admin/orders/{order_id}/cancel", methods=["POST"], **_AUTH)
def cancel(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_orders.current_request, MerchantCancelIn, allow_empty=True)
    record = fulfilment.cancel_as_merchant(
        order_id, body.reason, actor=_actor(), ctx=bootstrap.context()
    )
    return present.order_detail(record)


@route(admin_orders, "/admin/orders/{order_id}/packing-slip", methods=["GET"], **_AUTH)
def print_packing_slip(order_id: str) -> Response:
    ctx = bootstrap.context()
    params: Any = admin_orders.current_request.query_params or {}
    shipment_id = params.get("shipment_id")
    html = packing_slip.render(order_desk.show_order(order_id, ctx), ctx.settings, shipment_id)
    return Response(
        body=html, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"}
    )
