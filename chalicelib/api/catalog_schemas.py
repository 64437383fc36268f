"""The catalog's bodies: a product as the storefront and the merchant see it.

Apart from the order bodies (api/schemas.py) so that a cold start answering
a product lookup builds none of the checkout's models (docs/performance.md).
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from decimal import Decimal

from pydantic import Field, StrictInt

from chalicelib.api.bodies import Answer, Currency, Request, Text


class ProductIn(Request):
    name: Text
    price: StrictInt = Field(
        ge=0, le=100_000_000, description="unit price in minor units, tax included"
    )
    currency: Currency
    tax_rate: Decimal = Field(
        ge=0, le=100, max_digits=5, decimal_places=2, description="percent, e.g. 19"
    )


class StockIn(Request):
    available: StrictInt = Field(ge=0, le=10_000_000, description="the counted sellable stock")


class ProductOut(Answer):
    sku: str
    name: str
    price: int
    currency: str
    tax_rate: str
    available: int


class StockOut(ProductOut):
    reserved: int
    shipped: int
    restocked: int
    adjusted: int
