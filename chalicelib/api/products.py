"""The storefront's product lookup.

A module of its own, apart from the checkout's routes (api/storefront.py):
the route table loads only the module of the route a cold start answers, so
a product page's first request loads no order, cart or payment code.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import catalog_presenters, wiring
from chalicelib.api.catalog_schemas import ProductOut
from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import route
from chalicelib.domain import errors
from chalicelib.services import catalog

products = Blueprint(__name__)


@route(products, "/products/{sku}", methods=["GET"], cors=storefront_cors())
@documented(
    "A product: name, price and how many are available",
    ok={200: ProductOut},
    errors=(errors.ProductNotFound,),
)
def get_product(sku: str) -> dict[str, Any]:
    return catalog_presenters.product(catalog.show_product(sku, wiring.context()))
