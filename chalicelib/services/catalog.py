"""Merchant catalog and stock maintenance; storefront product lookup."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from chalicelib.domain.catalog import Product
from chalicelib.services.context import Context


def show_product(sku: str, ctx: Context) -> Product:
    return ctx.catalog.get(sku)


def save_product(
    sku: str,
    *,
    name: str | Mapping[str, str],
    price: int,
    currency: str,
    tax_rate: Decimal,
    ctx: Context,
) -> Product:
    """Create or update a product. Orders already placed keep the price (and
    the names) they were placed at; checkouts racing this change are
    re-priced. ``name`` is one name for every locale, or one per locale
    ({"de": ..., "en": ...}; the German one is the default name)."""
    if isinstance(name, str):
        names: dict[str, str] = {}
        default = name
    else:
        names = dict(name)
        default = names.get("de") or names["en"]
    return ctx.catalog.put_product(
        sku, name=default, names=names, price=price, currency=currency, tax_rate=tax_rate
    )


def count_stock(sku: str, available: int, ctx: Context) -> Product:
    """Record a stock count: ``available`` becomes the sellable quantity.
    Units reserved by open orders are not part of the count."""
    return ctx.catalog.set_available(sku, available)
