"""Merchant routes. Every route here requires an admin API key."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from chalicelib.api import catalog_presenters, wiring
from chalicelib.api.auth import admin_key_authorizer
from chalicelib.api.bodies import SKU_PATTERN
from chalicelib.api.catalog_schemas import ProductIn, StockIn, StockOut
from chalicelib.api.contract import documented
from chalicelib.api.errors import RequestError
from chalicelib.api.http import parse_body, route
from chalicelib.domain import errors
from chalicelib.services import catalog

admin = Blueprint(__name__)


@route(admin, "/admin/products/{sku}", methods=["PUT"], authorizer=admin_key_authorizer)
@documented(
    "Create or change a product's name, price, currency and tax rate",
    ok={200: StockOut},
    body=ProductIn,
    auth="admin_key",
    errors=(errors.InvalidRequest, errors.ConcurrentUpdate),
)
def put_product(sku: str) -> dict[str, Any]:
    body = parse_body(admin.current_request, ProductIn)
    # The path is the product's key: an SKU no order line could name is refused.
    if not re.fullmatch(SKU_PATTERN, sku):
        raise RequestError(422, "invalid_sku", "the SKU is 1-64 letters, digits, '.', '_', '-'")
    name = body.name.one_name() or body.name.texts()
    product = catalog.save_product(
        sku,
        name=name,
        price=body.price,
        currency=body.currency,
        tax_rate=body.tax_rate,
        ctx=wiring.context(),
    )
    return catalog_presenters.stock(product)


@route(admin, "/admin/stock/{sku}", methods=["PUT"], authorizer=admin_key_authorizer)
@documented(
    "Set the counted sellable stock of a product",
    ok={200: StockOut},
    body=StockIn,
    auth="admin_key",
    errors=(errors.ProductNotFound, errors.ConcurrentUpdate),
)
def put_stock(sku: str) -> dict[str, Any]:
    body = parse_body(admin.current_request, StockIn)
    return catalog_presenters.stock(catalog.count_stock(sku, body.available, wiring.context()))


@route(admin, "/admin/stock/{sku}", methods=["GET"], authorizer=admin_key_authorizer)
@documented(
    "A product's stock counters: available, reserved, shipped, restocked, adjusted",
    ok={200: StockOut},
    auth="admin_key",
    errors=(errors.ProductNotFound,),
)
def get_stock(sku: str) -> dict[str, Any]:
    return catalog_presenters.stock(catalog.show_product(sku, wiring.context()))
