"""A small demo catalog for the local stack."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.services import catalog
from chalicelib.services.context import Context

#: sku, name, price (cents, tax included), tax rate, stock
DEMO_CATALOG: tuple[tuple[str, str, int, str, int], ...] = (
    ("TEA-SENCHA-100", "Sencha green tea, 100 g", 890, "7", 120),
    ("TEA-EARLGREY-250", "Earl Grey, 250 g", 1490, "7", 60),
    ("MUG-STONE-01", "Stoneware mug", 1900, "19", 25),
    ("POT-CAST-IRON", "Cast-iron teapot", 5900, "19", 8),
    ("GIFT-CARD-LAST", "Gift box (last units)", 2500, "19", 3),
)


def seed_catalog(ctx: Context) -> int:
    for sku, name, price, tax_rate, stock in DEMO_CATALOG:
        catalog.save_product(
            sku, name=name, price=price, currency="EUR", tax_rate=Decimal(tax_rate), ctx=ctx
        )
        catalog.count_stock(sku, stock, ctx)
    return len(DEMO_CATALOG)
