"""The customer's order page: the order by its token, and their cancel."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import presenters, wiring
from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import bearer_token, parse_body, route
from chalicelib.api.schemas import CancelIn, OrderOut
from chalicelib.domain import errors
from chalicelib.services import customer_orders

order_page = Blueprint(__name__)


@route(order_page, "/orders/{order_id}", methods=["GET"], cors=storefront_cors())
@documented(
    "The order as its customer sees it, with its customer-visible history",
    ok={200: OrderOut},
    auth="order_token",
    errors=(errors.OrderNotFound,),
)
def get_order(order_id: str) -> dict[str, Any]:
    token = bearer_token(order_page.current_request)
    return presenters.order(customer_orders.view_order(order_id, token, wiring.context()))


@route(order_page, "/orders/{order_id}/cancel", methods=["POST"], cors=storefront_cors())
@documented(
    "Cancel the order before it ships; its stock is released",
    description="Cancelling a cancelled order again changes nothing and answers 200.",
    ok={200: OrderOut},
    body=CancelIn,
    body_required=False,
    auth="order_token",
    errors=(errors.OrderNotFound, errors.IllegalTransition, errors.ConcurrentUpdate),
)
def cancel_order(order_id: str) -> dict[str, Any]:
    request = order_page.current_request
    token = bearer_token(request)
    body = parse_body(request, CancelIn, allow_empty=True)
    record = customer_orders.cancel_order(order_id, token, body.reason, wiring.context())
    return presenters.order(record)
