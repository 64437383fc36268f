"""The packing slip: printable HTML for the parcel, in the order's language.

HTML, not PDF: every browser prints HTML to paper or PDF, and the pure-Python
PDF libraries that do layout well (fpdf2, reportlab) bring Pillow or C
extensions of several MB, against a Lambda package kept under 5 MB
(docs/fulfilment.md). It names how the order goes: the shipping method, or the
pickup location for an order that is collected. Prices are left off unless the
merchant asks for them (``amounts``): the slip travels with the goods, maybe as
a gift; asked for, it lists the totals, the discount code and the VAT per rate.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chalicelib.domain.errors import InvalidRequest
from chalicelib.services.ports import OrderRecord
from chalicelib.settings import ShopSettings

TEMPLATES = Path(__file__).parent / "templates"

LABELS = {
    "de": {
        "title": "Lieferschein",
        "order": "Bestellung",
        "date": "Bestelldatum",
        "ship_to": "Lieferadresse",
        "shipment": "Sendung",
        "sku": "Artikelnr.",
        "item": "Artikel",
        "quantity": "Menge",
        "thanks": "Vielen Dank für Ihre Bestellung!",
        "shipping": "Versandart",
        "pickup": "Abholung",
        "collected_by": "Abholung durch",
        "opening_hours": "Öffnungszeiten",
        "subtotal": "Zwischensumme",
        "discount": "Gutschein",
        "shipping_cost": "Versand",
        "total": "Gesamt",
        "vat": "enthaltene MwSt.",
        "on": "auf",
    },
    "en": {
        "title": "Packing slip",
        "order": "Order",
        "date": "Order date",
        "ship_to": "Ship to",
        "shipment": "Shipment",
        "sku": "SKU",
        "item": "Item",
        "quantity": "Quantity",
        "thanks": "Thank you for your order!",
        "shipping": "Shipping method",
        "pickup": "Pickup at",
        "collected_by": "Collected by",
        "opening_hours": "Opening hours",
        "subtotal": "Subtotal",
        "discount": "Discount code",
        "shipping_cost": "Shipping",
        "total": "Total",
        "vat": "incl. VAT",
        "on": "on",
    },
}


@functools.cache
def _environment() -> Any:
    # jinja2 on first use: only this route renders a document.
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    record: OrderRecord,
    settings: ShopSettings,
    shipment_id: str | None = None,
    *,
    amounts: bool = False,
) -> str:
    """The slip of the whole order, or of one shipment's lines; with
    ``amounts``, the order's totals, discount code and VAT per rate too."""
    return _render([_slip(record, settings, shipment_id, amounts=amounts)])


def render_many(records: Sequence[OrderRecord], settings: ShopSettings) -> str:
    """The slips of several whole orders as one document, a page each (the
    back office's bulk print), each in its order's language."""
    if not records:
        raise InvalidRequest("choose at least one order")
    return _render([_slip(record, settings) for record in records])


def _render(slips: list[dict[str, Any]]) -> str:
    return str(_environment().get_template("packing_slip.html").render(slips=slips))


def _slip(
    record: OrderRecord,
    settings: ShopSettings,
    shipment_id: str | None = None,
    *,
    amounts: bool = False,
) -> dict[str, Any]:
    order = record.order
    names = {line.sku: line.name for line in order.lines}
    if shipment_id is not None:
        shipment = next((s for s in record.shipments if s.id == shipment_id), None)
        if shipment is None:
            raise InvalidRequest("no such shipment on this order", shipment_id=shipment_id)
        rows = [
            {"sku": line.sku, "name": names[line.sku], "quantity": line.quantity}
            for line in shipment.lines
        ]
    else:
        shipment = None
        rows = [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity} for line in order.lines
        ]
    locale = order.locale if order.locale in LABELS else "en"

    def money(amount: int) -> str:
        from chalicelib.notify.formatting import money as formatted

        return formatted(amount, order.currency, locale)

    return {
        "order": order,
        "shipment": shipment,
        "rows": rows,
        "address": order.shipping_address,
        # A pickup order has no shipping address: the customer collects it.
        "collector": order.billing_address,
        "amounts": amounts,
        "money": money,
        "shop": {"name": settings.display_name, "address": settings.postal_address},
        "t": LABELS[locale],
        "locale": locale,
    }
