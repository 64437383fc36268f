"""Products and stock as the API answers them (api/catalog_schemas.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.api.catalog_schemas import ProductOut, StockOut
from chalicelib.domain.catalog import Product


def product(p: Product) -> dict[str, Any]:
    return ProductOut(
        sku=p.sku,
        name=p.name,
        names=dict(p.names),
        price=p.price,
        currency=p.currency,
        tax_rate=str(p.tax_rate),
        available=p.available,
    ).model_dump(mode="json")


def stock(p: Product) -> dict[str, Any]:
    return StockOut(
        **product(p),
        reserved=p.reserved,
        shipped=p.shipped,
        restocked=p.restocked,
        adjusted=p.adjusted,
    ).model_dump(mode="json")
