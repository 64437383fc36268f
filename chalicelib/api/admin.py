"""Merchant routes. Every route here requires an admin API key."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api import presenters
from chalicelib.api.auth import admin_key_authorizer
from chalicelib.api.http import parse_body, route
from chalicelib.api.schemas import ProductIn, StockIn
from chalicelib.services import catalog

admin = Blueprint(__name__)


@route(admin, "/admin/products/{sku}", methods=["PUT"], authorizer=admin_key_authorizer)
def put_product(sku: str) -> dict[str, Any]:
    body = parse_body(admin.current_request, ProductIn)
    product = catalog.save_product(sku, **body.model_dump(), ctx=bootstrap.context())
    return presenters.stock(product)


@route(admin, "/admin/stock/{sku}", methods=["PUT"], authorizer=admin_key_authorizer)
def put_stock(sku: str) -> dict[str, Any]:
    body = parse_body(admin.current_request, StockIn)
    return presenters.stock(catalog.count_stock(sku, body.available, bootstrap.context()))


@route(admin, "/admin/stock/{sku}", methods=["GET"], authorizer=admin_key_authorizer)
def get_stock(sku: str) -> dict[str, Any]:
    return presenters.stock(catalog.show_product(sku, bootstrap.context()))
