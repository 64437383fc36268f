"""Storefront: the shipping options for a basket (docs/checkout.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import checkout_presenters, wiring
from chalicelib.api.checkout_schemas import ShippingOptionsOut, ShippingOptionsQueryIn
from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import bearer_token, parse_query, route
from chalicelib.domain import errors
from chalicelib.domain.order import RequestedLine
from chalicelib.services import checkout_terms

checkout_routes = Blueprint(__name__)


@route(checkout_routes, "/shipping-options", methods=["GET"], cors=storefront_cors())
@documented(
    "The shipping methods that deliver a basket (`lines` or a cart) to a country, "
    "each with its price for that basket",
    description="Cheapest first. For a cart, send `cart_id` and its token as Bearer.",
    ok={200: ShippingOptionsOut},
    query=ShippingOptionsQueryIn,
    errors=(
        errors.InvalidRequest,
        errors.UnknownProducts,
        errors.MixedCurrencies,
        errors.CartNotFound,
        errors.EmptyCart,
        errors.Unauthorized,  # a cart_id without its token
    ),
)
def shipping_options() -> dict[str, Any]:
    request = checkout_routes.current_request
    query = parse_query(request, ShippingOptionsQueryIn)
    ctx = wiring.context()
    if query.cart_id is not None:
        found = checkout_terms.shipping_options_for_cart(
            query.cart_id, bearer_token(request), query.country, ctx
        )
    else:
        found = checkout_terms.shipping_options(_lines(query.lines or ""), query.country, ctx)
    return checkout_presenters.shipping_options(found, query.country, query.locale)


def _lines(text: str) -> tuple[RequestedLine, ...]:
    pairs = (pair.rpartition(":") for pair in text.split(","))
    return tuple(RequestedLine(sku=sku, quantity=int(quantity)) for sku, _, quantity in pairs)
