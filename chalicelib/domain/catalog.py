"""Products and their stock counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """A sellable SKU with its catalog data and stock counters.

    ``catalog_version`` changes whenever name, price, currency or tax rate
    change; a reservation is only valid against the version it priced with.
    Stock counters (docs/architecture.md): ``available`` is sellable now,
    ``reserved`` is held by unshipped orders; ``shipped``, ``restocked`` and
    ``adjusted`` are running totals so stock conservation can be checked:
    available + reserved + shipped - restocked == adjusted.

    ``name`` is the product's name where no locale is asked for (German when
    the merchant gave one); ``names`` its name per locale ("de", "en"), empty
    when one name stands for both (products saved before names per locale).
    """

    sku: str
    name: str
    price: int
    currency: str
    tax_rate: Decimal
    catalog_version: int = 1
    available: int = 0
    reserved: int = 0
    shipped: int = 0
    restocked: int = 0
    adjusted: int = 0
    names: Mapping[str, str] = field(default_factory=dict)

    def name_in(self, locale: str) -> str:
        """The name in ``locale``; else the other locale's; else ``name``."""
        for candidate in (locale, "de", "en"):
            if candidate in self.names:
                return self.names[candidate]
        return self.name

    def is_conserved(self) -> bool:
        return (
            self.available + self.reserved + self.shipped - self.restocked == self.adjusted
            and self.available >= 0
            and self.reserved >= 0
        )
