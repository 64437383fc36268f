"""The catalog's bodies: a product as the storefront and the merchant see it.

Apart from the order bodies (api/schemas.py) so that a cold start answering
a product lookup builds none of the checkout's models (docs/performance.md).
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field, StrictInt, model_validator

from chalicelib.api.bodies import ONE_LINE, Answer, Currency, PerLocale, Request


def _string_or_object(schema: dict[str, Any]) -> None:
    """Documented as what it takes: a plain string, or the object per locale."""
    per_locale = dict(schema)
    schema.clear()
    schema["anyOf"] = [
        {"type": "string", "minLength": 1, "maxLength": 200, "pattern": ONE_LINE},
        per_locale,
    ]


# Not a union of a string and the object: its errors then name the field
# (``name.de``), not a member of the union.
class ProductName(PerLocale):
    """A product's name per locale ({de, en}); a plain string is the name in both."""

    model_config = ConfigDict(**PerLocale.model_config, json_schema_extra=_string_or_object)

    @model_validator(mode="before")
    @classmethod
    def _one_for_both(cls, value: Any) -> Any:
        return {"de": value, "en": value} if isinstance(value, str) else value

    def one_name(self) -> str | None:
        """The name when one stands for both locales."""
        return self.de if self.de == self.en else None


class ProductIn(Request):
    name: ProductName = Field(description="one name for every locale, or one per locale: {de, en}")
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
    name: str = Field(description="in `locale` (German by default)")
    names: dict[str, str] = Field(
        default={}, description="per locale; empty when one name stands for both"
    )
    price: int
    currency: str
    tax_rate: str
    available: int


class StockOut(ProductOut):
    reserved: int
    shipped: int
    restocked: int
    adjusted: int
