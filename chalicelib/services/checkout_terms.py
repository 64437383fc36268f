"""The merchant's shipping methods, pickup locations and discount codes, and
the storefront's shipping options for a basket (docs/checkout.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain import order as orders
from chalicelib.domain import pricing
from chalicelib.domain.order import RequestedLine
from chalicelib.domain.pricing import DiscountCode, PickupLocation, ShippingMethod, ShippingOption
from chalicelib.services.context import Context
from chalicelib.services.ports import ShippingAndCodes


def terms_of(ctx: Context) -> ShippingAndCodes:
    if ctx.terms is None:
        raise RuntimeError("this context has no shipping methods and codes store")
    return ctx.terms


# --- merchant -------------------------------------------------------------------


def save_shipping_method(method: ShippingMethod, ctx: Context) -> ShippingMethod:
    """Create or replace a method. Orders placed keep the method as priced;
    a checkout racing the change is priced again."""
    return terms_of(ctx).put_shipping_method(method)


def list_shipping_methods(ctx: Context) -> list[ShippingMethod]:
    return terms_of(ctx).shipping_methods()


def deactivate_shipping_method(method_id: str, ctx: Context) -> ShippingMethod:
    return terms_of(ctx).deactivate_shipping_method(method_id)


def save_pickup_location(location: PickupLocation, ctx: Context) -> PickupLocation:
    """Create or replace a pickup location. Orders placed keep the location
    as it was; a checkout racing the change is priced again."""
    return terms_of(ctx).put_pickup_location(location)


def list_pickup_locations(ctx: Context) -> list[PickupLocation]:
    return terms_of(ctx).pickup_locations()


def deactivate_pickup_location(location_id: str, ctx: Context) -> PickupLocation:
    return terms_of(ctx).deactivate_pickup_location(location_id)


def save_discount_code(code: DiscountCode, ctx: Context) -> DiscountCode:
    """Create or replace a code's terms; the uses counted so far stay."""
    return terms_of(ctx).put_discount_code(code)


def list_discount_codes(ctx: Context) -> list[DiscountCode]:
    return terms_of(ctx).discount_codes()


def deactivate_discount_code(code: str, ctx: Context) -> DiscountCode:
    return terms_of(ctx).deactivate_discount_code(pricing.normalise_code(code))


# --- storefront -----------------------------------------------------------------


@dataclass(frozen=True)
class ShippingOptions:
    currency: str
    goods: int  # the basket's goods value the prices were computed for
    options: tuple[ShippingOption, ...]
    #: Click & collect: the active pickup locations (free), by id.
    pickup_locations: tuple[PickupLocation, ...] = ()


def shipping_options_for_cart(
    cart_id: str, cart_token: str, country: str, ctx: Context
) -> ShippingOptions:
    from chalicelib.services import carts

    cart = carts.view_cart(cart_id, cart_token, ctx).cart
    return shipping_options(cart.requested_lines(), country, ctx)


def shipping_options(lines: Sequence[RequestedLine], country: str, ctx: Context) -> ShippingOptions:
    """Every active method that delivers to ``country``, priced for these
    lines (the goods before any discount code), cheapest first; and every
    active pickup location, which costs nothing wherever the customer lives."""
    products = ctx.catalog.get_many([line.sku for line in lines])
    currency = orders.check_request(lines, products)
    goods = sum(line.gross for line in orders.basket(lines, products))
    # A method priced in another currency is not offered for this basket.
    methods = [m for m in list_shipping_methods(ctx) if m.currency == currency]
    return ShippingOptions(
        currency=currency,
        goods=goods,
        options=tuple(pricing.shipping_options(methods, country, goods)),
        pickup_locations=tuple(loc for loc in list_pickup_locations(ctx) if loc.active),
    )
