"""Shipping methods, discount codes and shipping options to response bodies."""

from __future__ import annotations

from typing import Any

from chalicelib.api.checkout_schemas import (
    DiscountCodeOut,
    DiscountCodesOut,
    PickupLocationOut,
    PickupLocationsOut,
    ShippingMethodOut,
    ShippingMethodsOut,
    ShippingOptionsOut,
)
from chalicelib.domain.pricing import DiscountCode, PickupLocation, ShippingMethod
from chalicelib.services.checkout_terms import ShippingOptions


def _method(method: ShippingMethod) -> dict[str, Any]:
    return {
        "id": method.id,
        "name": dict(method.names),
        "carrier": method.carrier,
        "price": method.price,
        "currency": method.currency,
        "countries": sorted(method.countries),
        "free_from": method.free_from,
        "delivery_time": dict(method.delivery_times),
        "active": method.active,
        "version": method.version,
    }


def shipping_method(method: ShippingMethod) -> dict[str, Any]:
    return ShippingMethodOut.model_validate(_method(method)).model_dump(mode="json")


def shipping_methods(methods: list[ShippingMethod]) -> dict[str, Any]:
    body = {"shipping_methods": [_method(m) for m in methods]}
    return ShippingMethodsOut.model_validate(body).model_dump(mode="json")


def _location(location: PickupLocation) -> dict[str, Any]:
    return {
        "id": location.id,
        "name": dict(location.names),
        "line1": location.line1,
        "line2": location.line2,
        "postal_code": location.postal_code,
        "city": location.city,
        "country": location.country,
        "opening_hours": dict(location.opening_hours),
        "active": location.active,
        "version": location.version,
    }


def pickup_location(location: PickupLocation) -> dict[str, Any]:
    return PickupLocationOut.model_validate(_location(location)).model_dump(mode="json")


def pickup_locations(locations: list[PickupLocation]) -> dict[str, Any]:
    body = {"pickup_locations": [_location(loc) for loc in locations]}
    return PickupLocationsOut.model_validate(body).model_dump(mode="json")


def _code(code: DiscountCode) -> dict[str, Any]:
    return {
        "code": code.code,
        "kind": code.kind.value,
        "percent": None if code.percent is None else str(code.percent),
        "amount": code.amount,
        "currency": code.currency,
        "minimum": code.minimum,
        "valid_from": code.valid_from,
        "valid_until": code.valid_until,
        "usage_limit": code.usage_limit,
        "uses": code.uses,
        "once_per_customer": code.once_per_customer,
        "skus": None if code.skus is None else sorted(code.skus),
        "active": code.active,
        "version": code.version,
    }


def discount_code(code: DiscountCode) -> dict[str, Any]:
    return DiscountCodeOut.model_validate(_code(code)).model_dump(mode="json")


def discount_codes(codes: list[DiscountCode]) -> dict[str, Any]:
    body = {"discount_codes": [_code(c) for c in codes]}
    return DiscountCodesOut.model_validate(body).model_dump(mode="json")


def shipping_options(found: ShippingOptions, country: str, locale: str) -> dict[str, Any]:
    body = {
        "country": country,
        "currency": found.currency,
        "goods": found.goods,
        "shipping_options": [
            {
                "id": option.method.id,
                "name": option.method.name(locale),
                "carrier": option.method.carrier,
                "price": option.price,
                "free_from": option.method.free_from,
                "delivery_time": option.method.delivery_time(locale),
            }
            for option in found.options
        ],
        "pickup_locations": [
            {
                "id": location.id,
                "name": location.name(locale),
                "line1": location.line1,
                "line2": location.line2,
                "postal_code": location.postal_code,
                "city": location.city,
                "country": location.country,
                "opening_hours": location.hours(locale),
                "price": 0,
            }
            for location in found.pickup_locations
        ],
    }
    return ShippingOptionsOut.model_validate(body).model_dump(mode="json")
