"""Checkout: POST /orders, from lines or a cart.

The customer's order page and cancel are api/order_page.py, the product
pages api/products.py: each cold start loads only the route it answers.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import presenters, wiring
from chalicelib.api.contract import IDEMPOTENCY_KEY, documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import idempotency_key, parse_body, route
from chalicelib.api.schemas import PlacedOrderOut, PlaceOrderIn
from chalicelib.domain import errors
from chalicelib.domain.order import Address, Customer, PaymentMethod, RequestedLine
from chalicelib.services import placement

storefront = Blueprint(__name__)


@route(storefront, "/orders", methods=["POST"], cors=storefront_cors())
@documented(
    "Place an order from `lines` or a cart; reserves the stock",
    description="201 with the order and its `token` (shown once). A retry with the same "
    "Idempotency-Key and body answers 200 with the same order and token.",
    ok={201: PlacedOrderOut, 200: PlacedOrderOut},
    body=PlaceOrderIn,
    headers=(IDEMPOTENCY_KEY,),
    errors=(
        errors.InvalidRequest,
        errors.UnknownProducts,
        errors.MixedCurrencies,
        errors.IdempotencyKeyReused,
        errors.InsufficientStock,
        errors.CatalogChanged,
        errors.CartNotFound,
        errors.CartConverted,
        errors.CartChanged,
        errors.EmptyCart,
        errors.ShippingMethodUnknown,
        errors.ShippingNotAvailable,
        errors.ShippingMethodRequired,
        errors.ShippingAndPickupChosen,
        errors.ShippingAddressRequired,
        errors.PickupLocationUnknown,
        errors.DiscountCodeUnknown,
        errors.DiscountCodeNotYetValid,
        errors.DiscountCodeExpired,
        errors.DiscountCodeUsedUp,
        errors.DiscountCodeAlreadyUsed,
        errors.DiscountCodeNotApplicable,
        errors.DiscountMinimumNotReached,
        errors.TermsNotAccepted,
        errors.TermsVersionOutdated,
        errors.VatIdInvalid,
    ),
)
def place_order() -> Response:
    request = storefront.current_request
    key = idempotency_key(request)
    body = parse_body(request, PlaceOrderIn)
    if body.cart_id is not None and body.cart_token is not None:
        # Imported here: most checkouts send lines, and the cart rules are
        # then no part of the cold start (docs/performance.md).
        from chalicelib.services import carts

        placed = carts.place_order_from_cart(
            body.cart_id, body.cart_token, to_command(body), key, wiring.context()
        )
    else:
        placed = placement.place_order(to_command(body), key, wiring.context())
    return Response(
        body=presenters.placed_order(placed.order, placed.token, placed.payment),
        status_code=201 if placed.created else 200,
        headers={"Location": f"/orders/{placed.order.id}"},
    )


def to_command(body: PlaceOrderIn) -> placement.PlaceOrder:
    shipping = Address(**body.shipping_address.model_dump()) if body.shipping_address else None
    billing = Address(**body.billing_address.model_dump()) if body.billing_address else shipping
    assert billing is not None  # PlaceOrderIn asks for one of the two
    return placement.PlaceOrder(
        lines=tuple(
            RequestedLine(sku=line.sku, quantity=line.quantity) for line in body.lines or ()
        ),
        customer=Customer(email=str(body.customer.email), name=body.customer.name),
        shipping_address=shipping,
        billing_address=billing,
        payment_method=PaymentMethod(body.payment_method),
        locale=body.locale,
        shipping_method=body.shipping_method,
        discount_code=body.discount_code,
        terms_version=body.terms_accepted.version if body.terms_accepted else None,
        pickup_location=body.pickup_location,
        vat_id=body.vat_id,
        buyer_reference=body.buyer_reference,
    )
