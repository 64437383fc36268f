"""Domain objects to response bodies."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalicelib.api.schemas import OrderOut, PlacedOrderOut
from chalicelib.domain.order import Order
from chalicelib.services.ports import OrderRecord


def _order_fields(order: Order) -> dict[str, Any]:
    fields = asdict(order)
    fields.pop("pickup_code", None)  # shown at the counter; only its email carries it
    for name in ("status", "payment_status", "fulfilment_status", "payment_method"):
        fields[name] = getattr(order, name).value
    return fields


def order(record: OrderRecord) -> dict[str, Any]:
    fields = _order_fields(record.order)
    fields["history"] = [asdict(entry) for entry in record.history]
    fields["shipments"] = [{**asdict(s), "status": s.status.value} for s in record.shipments]
    return OrderOut.model_validate(fields).model_dump(mode="json")


def placed_order(o: Order, token: str, payment: Any = None) -> dict[str, Any]:
    fields = _order_fields(o)
    fields["history"] = []
    if payment is not None:
        fields["payment"] = asdict(payment)
    return PlacedOrderOut.model_validate({**fields, "token": token}).model_dump(mode="json")
