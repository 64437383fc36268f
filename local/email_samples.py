"""One sample event detail per detail-type that sends email, as the outbox
publishes them. Used by `make emails` (previews) and the rendering tests."""

from __future__ import annotations

import copy
from typing import Any

ORDER: dict[str, Any] = {
    "id": "ord_01JDX5M1R2Q3S4T5V6W7X8Y9Z0",
    "number": "K7Q-4M2-XP",
    "status": "pending_payment",
    "payment_status": "unpaid",
    "fulfilment_status": "unfulfilled",
    "payment_method": "card",
    "locale": "de",
    "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
    "totals": {"currency": "EUR", "subtotal": 123456, "shipping": 0, "tax": 19711, "total": 123456},
    "lines": [
        {
            "sku": "tea-001",
            "name": "Darjeeling First Flush 100 g",
            "quantity": 2,
            "unit_price": 1190,
            "line_total": 2380,
            "shipped_quantity": 0,
        },
        {
            "sku": "kettle-9",
            "name": "Kettle <Deluxe> & Co",
            "quantity": 1,
            "unit_price": 121076,
            "line_total": 121076,
            "shipped_quantity": 0,
        },
    ],
    "version": 1,
    "payment_due_at": "2026-11-23T12:30:00+00:00",
}

_DATA: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # detail-type: (order fields that differ, data)
    "OrderPlaced": (
        {},
        {
            "total": 123456,
            "currency": "EUR",
            "terms_version": "2026-06-19",
            "terms_accepted_at": "2026-11-16T12:30:00+00:00",
        },
    ),
    "OrderPaid": (
        {"status": "paid", "payment_status": "paid"},
        {"amount": 123456, "currency": "EUR", "provider": "stripe", "payment_reference": "pi_3Q"},
    ),
    "OrderShipped": (
        {"status": "shipped", "payment_status": "paid", "fulfilment_status": "shipped"},
        {
            "shipment_id": "shp_1",
            "carrier": "dhl",
            "tracking_number": "00340434161094042557",
            "tracking_url": "https://www.dhl.de/de/privatkunden/dhl-sendungsverfolgung.html?piececode=00340434161094042557",
            "lines": [{"sku": "tea-001", "quantity": 2}, {"sku": "kettle-9", "quantity": 1}],
        },
    ),
    "OrderDelivered": (
        {"status": "delivered", "payment_status": "paid", "fulfilment_status": "delivered"},
        {"shipment_id": "shp_1", "delivered_at": "2026-11-25T10:15:00+00:00"},
    ),
    "OrderCancelled": (
        {"status": "cancelled"},
        {"reason": "cancelled by customer", "previous_status": "pending_payment"},
    ),
    "OrderExpired": (
        {"status": "expired"},
        {"reason": "payment not received in time", "previous_status": "pending_payment"},
    ),
    "OrderRefunded": (
        {"status": "delivered", "payment_status": "partially_refunded"},
        {
            "amount": 2380,
            "currency": "EUR",
            "reason": "item returned",
            "refund_id": "re_1",
            "total_refunded": 2380,
        },
    ),
    "DocumentArchived": (
        {"status": "paid", "payment_status": "paid"},
        {
            "kind": "invoice",
            "number": "RE-2026-00042",
            "key": "invoices/2026/RE-2026-00042.pdf",
            "version_id": "v1",
            "sha256": "0" * 64,
            "size": 12345,
        },
    ),
    "OrderReadyForPickup": (
        {
            "status": "ready_for_pickup",
            "payment_status": "paid",
            "fulfilment_status": "ready_for_pickup",
            "pickup": {
                "location_id": "mitte",
                "name": "Laden Berlin-Mitte",
                "line1": "Torstr. 12",
                "line2": "Hinterhof",
                "postal_code": "10119",
                "city": "Berlin",
                "country": "DE",
                "opening_hours": "Mo-Fr 10-19 Uhr, Sa 10-16 Uhr",
            },
        },
        {"location_id": "mitte"},
    ),
    "NoteAdded": (
        {"status": "shipped", "payment_status": "paid", "fulfilment_status": "shipped"},
        {"note": "Ihr Wasserkocher kommt in einem zweiten Paket.\nDanke für Ihre Geduld!"},
    ),
    "PaymentReminderDue": (
        {"payment_method": "bank_transfer"},
        {
            "payment_due_at": "2026-11-30T12:00:00+00:00",
            "payment_url": "https://shop.example.com/orders/ord_01JDX5M1R2Q3S4T5V6W7X8Y9Z0/pay",
        },
    ),
    "WithdrawalReceived": (
        {"status": "delivered", "payment_status": "paid", "fulfilment_status": "delivered"},
        {
            "withdrawal_id": "wd_1",
            "received_at": "2026-11-27T09:30:00+00:00",
            "lines": [
                {
                    "sku": "tea-001",
                    "name": "Darjeeling First Flush 100 g",
                    "quantity": 1,
                    "refund": 1190,
                    "to_return": 1,
                },
            ],
            "full": False,
            "refund_goods": 1190,
            "refund_delivery": 0,
            "refund_total": 1190,
            "currency": "EUR",
            "refund_due_at": "2026-12-11T23:00:00+00:00",
            "awaiting_return": True,
            "late": False,
            "timezone": "Europe/Berlin",
        },
    ),
    "WithdrawalRefundReminder": (
        {"status": "delivered", "payment_status": "paid", "fulfilment_status": "delivered"},
        {
            "withdrawal_id": "wd_1",
            "kind": "due_soon",
            "refund_total": 1190,
            "currency": "EUR",
            "refund_due_at": "2026-12-11T23:00:00+00:00",
            "timezone": "Europe/Berlin",
        },
    ),
}

CART: dict[str, Any] = {
    "id": "cart_01JDX6A",
    "email": "erika@example.com",
    "locale": "de",
    "currency": "EUR",
    "lines": [
        {
            "sku": "tea-001",
            "name": "Darjeeling First Flush 100 g",
            "quantity": 3,
            "unit_price": 1190,
            "line_total": 3570,
        }
    ],
    "total": 3570,
}


def sample(detail_type: str, locale: str = "de", event_id: str | None = None) -> dict[str, Any]:
    """The detail of a sample event of ``detail_type`` for a ``locale`` reader."""
    base = {
        "schema_version": 1,
        "event_id": event_id or f"evt-{detail_type.lower()}",
        "occurred_at": "2026-11-23T12:00:00+00:00",
        "actor": "system",
        "message": detail_type,
        "visibility": "customer",
    }
    if detail_type == "CartAbandoned":
        return {
            **base,
            "cart": {**copy.deepcopy(CART), "locale": locale},
            "data": {
                "cart_url": "https://shop.example.com/carts/cart_01JDX6A",
                "unsubscribe_url": "https://shop.example.com/unsubscribe?t=opaque-token",
            },
        }
    changes, data = _DATA[detail_type]
    return {
        **base,
        "order": {**copy.deepcopy(ORDER), **changes, "locale": locale},
        "data": copy.deepcopy(data),
    }


DETAIL_TYPES = (*_DATA, "CartAbandoned")

#: What an email shows that its event must not carry (notify/emails.py
#: SECRETS_BY_EVENT): a sample pickup code.
SECRETS: dict[str, dict[str, str]] = {"OrderReadyForPickup": {"pickup_code": "482913"}}


def secrets(detail_type: str) -> dict[str, str]:
    return dict(SECRETS.get(detail_type, {}))
