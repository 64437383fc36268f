"""Merchant routes for shipping methods, pickup locations and discount codes
(docs/checkout.md)."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from chalicelib.api import checkout_presenters, wiring
from chalicelib.api.auth import admin_key_authorizer
from chalicelib.api.checkout_schemas import (
    DiscountCodeIn,
    DiscountCodeOut,
    DiscountCodesOut,
    PickupLocationIn,
    PickupLocationOut,
    PickupLocationsOut,
    ShippingMethodIn,
    ShippingMethodOut,
    ShippingMethodsOut,
)
from chalicelib.api.contract import documented
from chalicelib.api.errors import RequestError
from chalicelib.api.http import parse_body, raw_body, route
from chalicelib.api.schemas import CODE_PATTERN, LOCATION_ID_PATTERN, METHOD_ID_PATTERN
from chalicelib.domain import errors
from chalicelib.domain.pricing import DiscountCode, DiscountKind, PickupLocation, ShippingMethod
from chalicelib.services import checkout_terms

admin_checkout = Blueprint(__name__)

_METHOD_PATH = {"method_id": {"type": "string", "pattern": METHOD_ID_PATTERN}}
_CODE_PATH = {"code": {"type": "string", "pattern": CODE_PATTERN}}
_LOCATION_PATH = {"location_id": {"type": "string", "pattern": LOCATION_ID_PATTERN}}


def _method_id(method_id: str) -> str:
    if not re.fullmatch(METHOD_ID_PATTERN, method_id):
        raise RequestError(
            422, "invalid_shipping_method_id", "the id is 1-40 of a-z, 0-9, '-', '_'"
        )
    return method_id


def _location_id(location_id: str) -> str:
    if not re.fullmatch(LOCATION_ID_PATTERN, location_id):
        raise RequestError(
            422, "invalid_pickup_location_id", "the id is 1-40 of a-z, 0-9, '-', '_'"
        )
    return location_id


def _code(code: str) -> str:
    if not re.fullmatch(CODE_PATTERN, code):
        raise RequestError(422, "invalid_discount_code", "a code is 3-32 letters, digits, '-', '_'")
    return code.upper()


@route(
    admin_checkout,
    "/admin/shipping-methods/{method_id}",
    methods=["PUT"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Create or replace a shipping method: names, carrier, price, countries, free-from",
    ok={200: ShippingMethodOut},
    body=ShippingMethodIn,
    auth="admin_key",
    path_parameters=_METHOD_PATH,
    errors=(422,),
)
def put_shipping_method(method_id: str) -> dict[str, Any]:
    body = parse_body(admin_checkout.current_request, ShippingMethodIn)
    method = ShippingMethod(
        id=_method_id(method_id),
        names=body.name.texts(),
        carrier=body.carrier,
        price=body.price,
        currency=body.currency,
        countries=frozenset(body.countries),
        free_from=body.free_from,
        delivery_times=body.delivery_time.texts() if body.delivery_time else {},
        active=body.active,
    )
    saved = checkout_terms.save_shipping_method(method, wiring.context())
    return checkout_presenters.shipping_method(saved)


@route(admin_checkout, "/admin/shipping-methods", methods=["GET"], authorizer=admin_key_authorizer)
@documented(
    "Every shipping method, active or not",
    ok={200: ShippingMethodsOut},
    auth="admin_key",
)
def list_shipping_methods() -> dict[str, Any]:
    methods = checkout_terms.list_shipping_methods(wiring.context())
    return checkout_presenters.shipping_methods(methods)


@route(
    admin_checkout,
    "/admin/shipping-methods/{method_id}/deactivate",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Switch a shipping method off: checkouts no longer offer or accept it",
    ok={200: ShippingMethodOut},
    auth="admin_key",
    path_parameters=_METHOD_PATH,
    errors=(errors.ShippingMethodUnknown,),
)
def deactivate_shipping_method(method_id: str) -> dict[str, Any]:
    raw_body(admin_checkout.current_request)  # no body is taken; an oversized one is refused
    method = checkout_terms.deactivate_shipping_method(_method_id(method_id), wiring.context())
    return checkout_presenters.shipping_method(method)


@route(
    admin_checkout,
    "/admin/pickup-locations/{location_id}",
    methods=["PUT"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Create or replace a pickup location (click & collect): names, address, opening hours",
    ok={200: PickupLocationOut},
    body=PickupLocationIn,
    auth="admin_key",
    path_parameters=_LOCATION_PATH,
    errors=(422,),
)
def put_pickup_location(location_id: str) -> dict[str, Any]:
    body = parse_body(admin_checkout.current_request, PickupLocationIn)
    location = PickupLocation(
        id=_location_id(location_id),
        names=body.name.texts(),
        line1=body.line1,
        line2=body.line2,
        postal_code=body.postal_code,
        city=body.city,
        country=body.country,
        opening_hours=body.opening_hours.texts(),
        active=body.active,
    )
    saved = checkout_terms.save_pickup_location(location, wiring.context())
    return checkout_presenters.pickup_location(saved)


@route(admin_checkout, "/admin/pickup-locations", methods=["GET"], authorizer=admin_key_authorizer)
@documented(
    "Every pickup location, active or not",
    ok={200: PickupLocationsOut},
    auth="admin_key",
)
def list_pickup_locations() -> dict[str, Any]:
    locations = checkout_terms.list_pickup_locations(wiring.context())
    return checkout_presenters.pickup_locations(locations)


@route(
    admin_checkout,
    "/admin/pickup-locations/{location_id}/deactivate",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Switch a pickup location off: checkouts no longer offer or accept it",
    ok={200: PickupLocationOut},
    auth="admin_key",
    path_parameters=_LOCATION_PATH,
    errors=(errors.PickupLocationUnknown,),
)
def deactivate_pickup_location(location_id: str) -> dict[str, Any]:
    raw_body(admin_checkout.current_request)  # no body is taken; an oversized one is refused
    location = checkout_terms.deactivate_pickup_location(
        _location_id(location_id), wiring.context()
    )
    return checkout_presenters.pickup_location(location)


@route(
    admin_checkout,
    "/admin/discount-codes/{code}",
    methods=["PUT"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Create or replace a discount code's terms (its uses so far are kept)",
    description="The code in the path is case-insensitive and stored upper-case.",
    ok={200: DiscountCodeOut},
    body=DiscountCodeIn,
    auth="admin_key",
    path_parameters=_CODE_PATH,
    errors=(422,),
)
def put_discount_code(code: str) -> dict[str, Any]:
    body = parse_body(admin_checkout.current_request, DiscountCodeIn)
    discount = DiscountCode(
        code=_code(code),
        kind=DiscountKind(body.kind),
        percent=body.percent,
        amount=body.amount,
        currency=body.currency,
        minimum=body.minimum,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        usage_limit=body.usage_limit,
        once_per_customer=body.once_per_customer,
        skus=frozenset(body.skus) if body.skus is not None else None,
        active=body.active,
    )
    saved = checkout_terms.save_discount_code(discount, wiring.context())
    return checkout_presenters.discount_code(saved)


@route(admin_checkout, "/admin/discount-codes", methods=["GET"], authorizer=admin_key_authorizer)
@documented(
    "Every discount code with its uses, active or not",
    ok={200: DiscountCodesOut},
    auth="admin_key",
)
def list_discount_codes() -> dict[str, Any]:
    return checkout_presenters.discount_codes(checkout_terms.list_discount_codes(wiring.context()))


@route(
    admin_checkout,
    "/admin/discount-codes/{code}/deactivate",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Switch a discount code off: checkouts refuse it as unknown",
    ok={200: DiscountCodeOut},
    auth="admin_key",
    path_parameters=_CODE_PATH,
    errors=(errors.DiscountCodeUnknown,),
)
def deactivate_discount_code(code: str) -> dict[str, Any]:
    raw_body(admin_checkout.current_request)  # no body is taken; an oversized one is refused
    found = checkout_terms.deactivate_discount_code(_code(code), wiring.context())
    return checkout_presenters.discount_code(found)
