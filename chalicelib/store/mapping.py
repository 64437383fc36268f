"""Domain objects to DynamoDB items and back.

Items are built as plain Python values here; the stores convert them to
DynamoDB's typed JSON and back at their edge (store/attributes.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import AlreadyClaimed, DomainError, TrackingNumberInUse
from chalicelib.domain.events import (
    CustomerSnapshot,
    DiscountSnapshot,
    LineSnapshot,
    OrderSnapshot,
    PickupSnapshot,
    ShippingSnapshot,
    TaxRateSnapshot,
    TotalsSnapshot,
)
from chalicelib.domain.order import (
    Address,
    AppliedDiscount,
    Customer,
    FulfilmentStatus,
    HistoryEntry,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PickupLine,
    ShippingLine,
    TaxRateLine,
    Totals,
    Visibility,
)
from chalicelib.domain.pricing import DiscountCode, DiscountKind, PickupLocation, ShippingMethod
from chalicelib.store import keys

if TYPE_CHECKING:
    # Imported where items are turned back into them: placing an order (a
    # checkout's cold start) reads no shipment and no withdrawal, and their
    # modules are a dozen dataclasses (docs/performance.md).
    from chalicelib.domain.shipment import Claim, Shipment
    from chalicelib.domain.withdrawal import Withdrawal


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# --- products -----------------------------------------------------------------


def product_from_item(item: dict[str, Any]) -> Product:
    return Product(
        sku=item["sku"],
        name=item["name"],
        # Products saved before names per locale have one name for both.
        names=item.get("names") or {},
        price=item["price"],
        currency=item["currency"],
        tax_rate=Decimal(item["tax_rate"]),
        catalog_version=item["catalog_version"],
        available=item.get("available", 0),
        reserved=item.get("reserved", 0),
        shipped=item.get("shipped", 0),
        restocked=item.get("restocked", 0),
        adjusted=item.get("adjusted", 0),
    )


# --- orders -------------------------------------------------------------------


def order_to_item(order: Order) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.order(order.id),
        "entity": "order",
        "id": order.id,
        "number": order.number,
        "status": order.status.value,
        "payment_status": order.payment_status.value,
        "fulfilment_status": order.fulfilment_status.value,
        "payment_method": order.payment_method.value,
        "locale": order.locale,
        "lines": [_line_to_item(line) for line in order.lines],
        "totals": asdict(order.totals),
        "customer": asdict(order.customer),
        "shipping_address": (
            None if order.shipping_address is None else _drop_none(asdict(order.shipping_address))
        ),
        "billing_address": _drop_none(asdict(order.billing_address)),
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
        "payment_due_at": order.payment_due_at.isoformat(),
        "token_hash": order.token_hash,
        "version": order.version,
        "cancel_reason": order.cancel_reason,
        "payment_attempt_at": _iso(order.payment_attempt_at),
        "payment_reminder_sent_at": _iso(order.payment_reminder_sent_at),
        "payments": [payment_to_item(p) for p in order.payments],
        "applied_payment_events": list(order.applied_payment_events),
        "processing_restricted_at": _iso(order.processing_restricted_at),
        # index keys
        "status_key": keys.status_key(order.status.value),
        "customer_key": keys.customer_key(order.customer.email),
        "listed_at": keys.listed_at(order.created_at, order.id),
        # fulfilment: returns, and the order desk's indexes
        "return_credit_total": order.return_credit_total,
        "return_surcharge_total": order.return_surcharge_total,
        "payment_status_key": keys.payment_status_key(order.payment_status.value),
        "payment_method_key": keys.payment_method_key(order.payment_method.value),
        "month_key": keys.month_key(order.created_at),
    }
    if order.status is OrderStatus.PENDING_PAYMENT:
        # Sparse: the sweep index only holds orders that still await payment.
        item["due_shard"] = keys.sweep_shard(order.id)
    if order.shipping is not None:
        item["shipping"] = _drop_none(asdict(order.shipping))
    if order.discount is not None:
        item["discount"] = _drop_none(asdict(order.discount))
    if order.pickup is not None:
        item["pickup"] = _drop_none(asdict(order.pickup))
    if order.pickup_code is not None:
        # Never in the history's snapshot (an event) nor in any answer.
        item["pickup_code"] = order.pickup_code
    if order.picked_up_at is not None:
        item["picked_up_at"] = order.picked_up_at.isoformat()
    if order.tax_rates:
        item["tax_rates"] = [asdict(rate) for rate in order.tax_rates]
    if order.terms_version is not None:
        item["terms_version"] = order.terms_version
        item["terms_accepted_at"] = _iso(order.terms_accepted_at)
    for name in ("vat_id", "buyer_reference"):
        if getattr(order, name) is not None:
            item[name] = getattr(order, name)
    if order.withdrawals:
        item["withdrawals"] = [withdrawal_to_item(w) for w in order.withdrawals]
    if any(w.refunded_at is None for w in order.withdrawals):
        # Sparse: the by_withdrawal index holds orders with a withdrawal
        # whose refund is still open (the desk's filter, the refund job).
        item["withdrawal_key"] = keys.WITHDRAWAL_OPEN
    return item


def _line_to_item(line: OrderLine) -> dict[str, Any]:
    fields = asdict(line)
    if not fields["names"]:
        # One name for every locale: the line is stored as before names per locale.
        del fields["names"]
    return fields


def order_from_item(item: dict[str, Any]) -> Order:
    return Order(
        id=item["id"],
        number=item["number"],
        status=OrderStatus(item["status"]),
        payment_status=PaymentStatus(item["payment_status"]),
        fulfilment_status=FulfilmentStatus(item["fulfilment_status"]),
        payment_method=PaymentMethod(item["payment_method"]),
        locale=item["locale"],
        lines=tuple(OrderLine(**line) for line in item["lines"]),
        totals=Totals(**item["totals"]),
        customer=Customer(**item["customer"]),
        shipping_address=(
            Address(**item["shipping_address"]) if item.get("shipping_address") else None
        ),
        billing_address=Address(**item["billing_address"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        payment_due_at=datetime.fromisoformat(item["payment_due_at"]),
        token_hash=item["token_hash"],
        version=item["version"],
        cancel_reason=item.get("cancel_reason"),
        payment_attempt_at=_parse_iso(item.get("payment_attempt_at")),
        payment_reminder_sent_at=_parse_iso(item.get("payment_reminder_sent_at")),
        return_credit_total=item.get("return_credit_total", 0),
        return_surcharge_total=item.get("return_surcharge_total", 0),
        payments=tuple(payment_from_item(p) for p in item.get("payments", [])),
        applied_payment_events=tuple(item.get("applied_payment_events", [])),
        withdrawals=tuple(withdrawal_from_item(w) for w in item.get("withdrawals", [])),
        shipping=ShippingLine(**item["shipping"]) if item.get("shipping") else None,
        discount=AppliedDiscount(**item["discount"]) if item.get("discount") else None,
        pickup=PickupLine(**item["pickup"]) if item.get("pickup") else None,
        pickup_code=item.get("pickup_code"),
        picked_up_at=_parse_iso(item.get("picked_up_at")),
        tax_rates=tuple(TaxRateLine(**rate) for rate in item.get("tax_rates", [])),
        processing_restricted_at=_parse_iso(item.get("processing_restricted_at")),
        terms_version=item.get("terms_version"),
        terms_accepted_at=_parse_iso(item.get("terms_accepted_at")),
        vat_id=item.get("vat_id"),
        buyer_reference=item.get("buyer_reference"),
    )


# --- checkout: shipping methods and discount codes ----------------------------------


def shipping_method_to_item(method: ShippingMethod) -> dict[str, Any]:
    """The method's fields (not its key, not its version: the store sets those)."""
    return {
        "entity": "shipping_method",
        "id": method.id,
        "names": dict(method.names),
        "carrier": method.carrier,
        "price": method.price,
        "currency": method.currency,
        "countries": sorted(method.countries),
        "free_from": method.free_from,
        "delivery_times": dict(method.delivery_times),
        "active": method.active,
    }


def shipping_method_from_item(item: dict[str, Any]) -> ShippingMethod:
    return ShippingMethod(
        id=item["id"],
        names=item["names"],
        carrier=item["carrier"],
        price=item["price"],
        currency=item["currency"],
        countries=frozenset(item["countries"]),
        free_from=item.get("free_from"),
        delivery_times=item.get("delivery_times") or {},
        active=item["active"],
        version=item["version"],
    )


def pickup_location_to_item(location: PickupLocation) -> dict[str, Any]:
    """The location's fields (not its key, not its version: the store sets those)."""
    return {
        "entity": "pickup_location",
        "id": location.id,
        "names": dict(location.names),
        "line1": location.line1,
        "line2": location.line2,
        "postal_code": location.postal_code,
        "city": location.city,
        "country": location.country,
        "opening_hours": dict(location.opening_hours),
        "active": location.active,
    }


def pickup_location_from_item(item: dict[str, Any]) -> PickupLocation:
    return PickupLocation(
        id=item["id"],
        names=item["names"],
        line1=item["line1"],
        line2=item.get("line2"),
        postal_code=item["postal_code"],
        city=item["city"],
        country=item["country"],
        opening_hours=item.get("opening_hours") or {},
        active=item["active"],
        version=item["version"],
    )


def discount_code_to_item(code: DiscountCode) -> dict[str, Any]:
    """The code's terms (not its uses, not its version: the store keeps those)."""
    return {
        "entity": "discount_code",
        "code": code.code,
        "kind": code.kind.value,
        "percent": None if code.percent is None else str(code.percent),
        "amount": code.amount,
        "currency": code.currency,
        "minimum": code.minimum,
        "valid_from": _iso(code.valid_from),
        "valid_until": _iso(code.valid_until),
        "usage_limit": code.usage_limit,
        "once_per_customer": code.once_per_customer,
        "skus": None if code.skus is None else sorted(code.skus),
        "active": code.active,
    }


def discount_code_from_item(item: dict[str, Any]) -> DiscountCode:
    return DiscountCode(
        code=item["code"],
        kind=DiscountKind(item["kind"]),
        percent=None if item.get("percent") is None else Decimal(item["percent"]),
        amount=item.get("amount"),
        currency=item["currency"],
        minimum=item.get("minimum", 0),
        valid_from=_parse_iso(item.get("valid_from")),
        valid_until=_parse_iso(item.get("valid_until")),
        usage_limit=item.get("usage_limit"),
        uses=item.get("uses", 0),
        once_per_customer=item.get("once_per_customer", False),
        skus=None if item.get("skus") is None else frozenset(item["skus"]),
        active=item["active"],
        version=item["version"],
    )


def withdrawal_to_item(withdrawal: Withdrawal) -> dict[str, Any]:
    return {
        "id": withdrawal.id,
        "received_at": withdrawal.received_at.isoformat(),
        "lines": [asdict(line) for line in withdrawal.lines],
        "full": withdrawal.full,
        "refund": asdict(withdrawal.refund),
        "refund_due_at": withdrawal.refund_due_at.isoformat(),
        "hold": withdrawal.hold.value,
        "refunded_at": _iso(withdrawal.refunded_at),
        "reminded_at": _iso(withdrawal.reminded_at),
        "overdue_reported_at": _iso(withdrawal.overdue_reported_at),
        "late": withdrawal.late,
        "refund_target": withdrawal.refund_target,
    }


def withdrawal_from_item(item: dict[str, Any]) -> Withdrawal:
    from chalicelib.domain.withdrawal import Refund, RefundHold, Withdrawal, WithdrawnLine

    return Withdrawal(
        id=item["id"],
        received_at=datetime.fromisoformat(item["received_at"]),
        lines=tuple(WithdrawnLine(**line) for line in item["lines"]),
        full=item["full"],
        refund=Refund(**item["refund"]),
        refund_due_at=datetime.fromisoformat(item["refund_due_at"]),
        hold=RefundHold(item["hold"]),
        refunded_at=_parse_iso(item.get("refunded_at")),
        reminded_at=_parse_iso(item.get("reminded_at")),
        overdue_reported_at=_parse_iso(item.get("overdue_reported_at")),
        late=item.get("late", False),
        refund_target=item["refund_target"],
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def payment_to_item(payment: Payment) -> dict[str, Any]:
    return {**asdict(payment), "received_at": payment.received_at.isoformat()}


def payment_from_item(item: dict[str, Any]) -> Payment:
    return Payment(**{**item, "received_at": datetime.fromisoformat(item["received_at"])})


def order_snapshot(order: Order) -> dict[str, Any]:
    """What an event needs to know of the order, frozen at the change.

    Stored on each history entry, so the outbox publishes the order as it was
    when the entry was written, without reading the order again.
    """
    return OrderSnapshot(
        id=order.id,
        number=order.number,
        status=order.status.value,
        payment_status=order.payment_status.value,
        fulfilment_status=order.fulfilment_status.value,
        payment_method=order.payment_method.value,
        locale=order.locale,
        customer=CustomerSnapshot(**asdict(order.customer)),
        totals=TotalsSnapshot(**asdict(order.totals)),
        lines=[
            LineSnapshot(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
                shipped_quantity=line.shipped_quantity,
            )
            for line in order.lines
        ],
        version=order.version,
        payment_due_at=order.payment_due_at,
        **_checkout_snapshot(order),
    ).as_data()


def _checkout_snapshot(order: Order) -> dict[str, Any]:
    """Shipping, code and VAT per rate, only when the order has them (so
    orders placed before them publish what they did)."""
    fields: dict[str, Any] = {}
    if order.shipping is not None:
        shipping = asdict(order.shipping)
        del shipping["country"]
        fields["shipping"] = ShippingSnapshot(**_drop_none(shipping))
    if order.pickup is not None:
        fields["pickup"] = PickupSnapshot(**_drop_none(asdict(order.pickup)))
    if order.discount is not None:
        discount = asdict(order.discount)
        del discount["customer_key"]
        fields["discount"] = DiscountSnapshot(**discount)
    if order.tax_rates:
        fields["tax_rates"] = [TaxRateSnapshot(**asdict(rate)) for rate in order.tax_rates]
    return fields


def history_to_item(order: Order, entry: HistoryEntry, index: int) -> dict[str, Any]:
    return {
        **keys.history(order.id, order.version, index),
        "entity": "history",
        "order_id": order.id,
        "at": entry.at.isoformat(),
        "event": entry.event,
        "actor": entry.actor,
        "message": entry.message,
        "visibility": entry.visibility.value,
        "data": dict(entry.data),
        "order": order_snapshot(order),
    }


def history_from_item(item: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        at=datetime.fromisoformat(item["at"]),
        event=item["event"],
        actor=item["actor"],
        message=item["message"],
        visibility=Visibility(item["visibility"]),
        data=item.get("data", {}),
    )


# --- shipments (fulfilment) -------------------------------------------------------------


def shipment_to_item(shipment: Shipment) -> dict[str, Any]:
    return {
        **keys.shipment(shipment.order_id, shipment.id),
        "entity": "shipment",
        "id": shipment.id,
        "order_id": shipment.order_id,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "lines": [asdict(line) for line in shipment.lines],
        "shipped_at": shipment.shipped_at.isoformat(),
        "status": shipment.status.value,
        "last_event_at": _iso(shipment.last_event_at),
        "delivered_at": _iso(shipment.delivered_at),
    }


def shipment_from_item(item: dict[str, Any]) -> Shipment:
    from chalicelib.domain.shipment import Shipment, ShipmentLine, TrackingStatus

    return Shipment(
        id=item["id"],
        order_id=item["order_id"],
        carrier=item["carrier"],
        tracking_number=item["tracking_number"],
        tracking_url=item["tracking_url"],
        lines=tuple(ShipmentLine(**line) for line in item["lines"]),
        shipped_at=datetime.fromisoformat(item["shipped_at"]),
        status=TrackingStatus(item["status"]),
        last_event_at=_parse_iso(item.get("last_event_at")),
        delivered_at=_parse_iso(item.get("delivered_at")),
    )


#: Carrier event ids and refund keys are kept this long: carriers retry for
#: days, not months. Tracking numbers stay (they find the shipment).
CLAIM_TTL_SECONDS = 90 * 24 * 3600


def claim_item(claim: Claim, now: float | None = None) -> dict[str, Any]:
    import time

    item: dict[str, Any] = {
        **keys.claim(claim.kind, claim.scope, claim.value),
        "entity": "claim",
        "kind": claim.kind,
        "order_id": claim.order_id,
        "shipment_id": claim.shipment_id,
    }
    if claim.kind != "tracking_number":
        item["expires_at"] = int(now if now is not None else time.time()) + CLAIM_TTL_SECONDS
    return item


def claim_refused(claim: Claim) -> DomainError:
    if claim.kind == "tracking_number":
        return TrackingNumberInUse(
            "this carrier's tracking number belongs to another shipment",
            carrier=claim.scope,
            tracking_number=claim.value,
        )
    return AlreadyClaimed(claim.kind)
