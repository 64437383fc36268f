"""Fulfilment response bodies: the desk's listing, the merchant's full view
of an order, shipments."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalicelib.api.fulfilment_schemas import DeskListingOut, OrderDetailOut, ShipmentOut
from chalicelib.domain.order import Order
from chalicelib.domain.shipment import Shipment
from chalicelib.services.order_desk import DeskListing
from chalicelib.services.ports import OrderRecord


def _json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


def shipment(s: Shipment) -> dict[str, Any]:
    return ShipmentOut.model_validate(_json(asdict(s))).model_dump(mode="json")


def order_summary(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "number": o.number,
        "status": o.status.value,
        "payment_status": o.payment_status.value,
        "fulfilment_status": o.fulfilment_status.value,
        "payment_method": o.payment_method.value,
        "customer": asdict(o.customer),
        "total": o.totals.total,
        "currency": o.currency,
        "created_at": o.created_at.isoformat(),
        "shipping": None if o.shipping is None else asdict(o.shipping),
        "pickup": None if o.pickup is None else asdict(o.pickup),
        "discount": None if o.discount is None else asdict(o.discount),
        "tax_rates": [asdict(rate) for rate in o.tax_rates],
    }


def listing(result: DeskListing) -> dict[str, Any]:
    return DeskListingOut.model_validate(
        {
            "orders": [order_summary(o) for o in result.page.orders],
            "next_cursor": result.cursor,
            "items_read": result.page.items_read,
            "served_by": result.page.index,
        }
    ).model_dump(mode="json")


def order_detail(record: OrderRecord) -> dict[str, Any]:
    """Everything the merchant may see, internal notes included."""
    fields = _json(asdict(record.order))
    fields.pop("token_hash", None)  # the customer's secret, hashed: of no use to anyone
    # The customer shows it at the counter: the merchant checks it, never reads it.
    fields.pop("pickup_code", None)
    fields["history"] = [_json(asdict(entry)) for entry in record.history]
    fields["notes"] = [
        {"at": e.at.isoformat(), "note": e.message, "visibility": e.visibility.value, "by": e.actor}
        for e in record.history
        if e.event == "NoteAdded"
    ]
    fields["shipments"] = [shipment(s) for s in record.shipments]
    return OrderDetailOut.model_validate(fields).model_dump(mode="json")
