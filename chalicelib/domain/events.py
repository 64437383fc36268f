"""The events we publish on the `orders` bus, as versioned pydantic models.

Each history entry becomes one EventBridge event (source ``shop.orders``,
detail-type = the entry's ``event``). Its detail has one shape for every
order event (``OrderEventDetail``): the envelope fields, the order as it was
right after the change (``order``) and what changed (``data``, one model per
detail-type below). ``CartAbandoned`` carries a ``cart`` instead of an order.

Versioning: ``schema_version`` changes only for a breaking change (a field
removed, renamed or retyped). Adding an optional field is not breaking, so
consumers ignore fields they do not know (``extra="ignore"``).

Producers fill ``data`` from ``HistoryEntry.data``; the outbox adds the
envelope and the snapshot. docs/events.md is the human catalogue;
``json_schemas()`` is the machine one (docs/events.schema.json).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.event_envelope import SCHEMA_VERSION, SOURCE


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


# --- the order snapshot -------------------------------------------------------------


class CustomerSnapshot(_Model):
    email: str
    name: str


class TotalsSnapshot(_Model):
    currency: str = Field(description="ISO 4217")
    subtotal: int = Field(description="minor units, tax included")
    shipping: int
    tax: int = Field(description="tax contained in subtotal and shipping")
    total: int


class LineSnapshot(_Model):
    sku: str
    name: str
    quantity: int
    unit_price: int = Field(description="minor units, tax included")
    line_total: int
    shipped_quantity: int = 0


class OrderSnapshot(_Model):
    """The order right after the change (store/mapping.py order_snapshot)."""

    id: str
    number: str = Field(description="short, human-readable order number")
    status: str
    payment_status: str
    fulfilment_status: str
    payment_method: str
    locale: str = Field(description="the customer's language: de or en")
    customer: CustomerSnapshot
    totals: TotalsSnapshot
    lines: list[LineSnapshot]
    version: int
    payment_due_at: datetime | None = None


# --- what changed, per detail-type ----------------------------------------------------


class OrderPlacedData(_Model):
    total: int
    currency: str


class OrderPaidData(_Model):
    amount: int = Field(description="the amount received, minor units")
    currency: str
    provider: str | None = Field(default=None, description="stripe, hmac, fake, manual, ...")
    payment_reference: str | None = Field(
        default=None, description="the provider's payment id, shown on the receipt"
    )


class PaymentFailedData(_Model):
    provider: str | None = None
    reason: str | None = Field(default=None, description="the provider's reason, if given")


class OrderCancelledData(_Model):
    reason: str = Field(description="shown to the customer")
    previous_status: str


class OrderExpiredData(_Model):
    reason: str = Field(default="payment not received in time", description="shown to the customer")
    previous_status: str = "pending_payment"


class OrderRefundedData(_Model):
    amount: int = Field(description="this refund, minor units")
    currency: str
    reason: str | None = None
    refund_id: str | None = None
    total_refunded: int | None = Field(default=None, description="all refunds so far")


class PaymentReminderDueData(_Model):
    payment_due_at: datetime
    payment_url: str | None = Field(default=None, description="where the customer can pay")


class ShippedLine(_Model):
    sku: str
    quantity: int


class OrderShippedData(_Model):
    shipment_id: str
    carrier: str = Field(description="e.g. dhl, dpd, ups")
    tracking_number: str
    tracking_url: str = Field(description="the carrier's tracking page for this parcel")
    lines: list[ShippedLine] = Field(default_factory=list)


class OrderDeliveredData(_Model):
    shipment_id: str | None = None
    delivered_at: datetime | None = None


class NoteAddedData(_Model):
    note: str


class ShipmentUpdatedData(_Model):
    shipment_id: str
    carrier: str
    tracking_number: str
    status: str = Field(description="the shipment's tracking status after the event")
    previous_status: str
    occurred_at: datetime = Field(description="when it happened at the carrier")
    location: str | None = None
    carrier_event_id: str | None = None


class ReturnedLineData(_Model):
    sku: str
    quantity: int
    restock: bool = Field(description="back to sellable stock, or written off")


class ReturnRecordedData(_Model):
    return_id: str
    lines: list[ReturnedLineData]
    credit: int = Field(description="value of the returned goods, minor units")
    surcharge: int = Field(description="fees withheld, minor units")
    refund: int = Field(description="refund asked with the return (its OrderRefunded follows)")
    currency: str
    reason: str | None = None


D = TypeVar("D", bound=BaseModel)


class OrderEventDetail(_Model, Generic[D]):
    """The detail of every order event."""

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str = Field(description="stable per history entry: deduplicate on it")
    occurred_at: datetime
    actor: str = Field(description="customer, merchant, system, provider:<name>, ...")
    message: str
    visibility: Literal["customer", "internal"] = "customer"
    order: OrderSnapshot
    data: D


class OrderPlaced(OrderEventDetail[OrderPlacedData]):
    """An order was placed and its stock reserved; payment is awaited."""


class OrderPaid(OrderEventDetail[OrderPaidData]):
    """The payment was confirmed (provider or merchant)."""


class PaymentFailed(OrderEventDetail[PaymentFailedData]):
    """A payment attempt failed; the order still awaits payment."""


class OrderCancelled(OrderEventDetail[OrderCancelledData]):
    """The order was cancelled before shipment; its stock was released."""


class OrderExpired(OrderEventDetail[OrderExpiredData]):
    """No payment arrived in time; the order was closed and its stock released."""


class OrderRefunded(OrderEventDetail[OrderRefundedData]):
    """Money went back to the customer."""


class PaymentReminderDue(OrderEventDetail[PaymentReminderDueData]):
    """An unpaid order is about to expire."""


class OrderShipped(OrderEventDetail[OrderShippedData]):
    """A shipment left the warehouse."""


class OrderDelivered(OrderEventDetail[OrderDeliveredData]):
    """The carrier reported the order delivered."""


class NoteAdded(OrderEventDetail[NoteAddedData]):
    """The merchant added a note (customer-visible or internal)."""


class ShipmentUpdated(OrderEventDetail[ShipmentUpdatedData]):
    """A carrier reported progress of one shipment (internal)."""


class ReturnRecorded(OrderEventDetail[ReturnRecordedData]):
    """The merchant took back shipped lines, restocked or written off."""


# --- carts ------------------------------------------------------------------------------


class CartLine(_Model):
    sku: str
    name: str
    quantity: int
    unit_price: int
    line_total: int


class CartSnapshot(_Model):
    id: str
    email: str
    locale: str = Field(description="de or en")
    currency: str
    lines: list[CartLine]
    total: int


class CartAbandonedData(_Model):
    cart_url: str = Field(description="reopens the cart in the storefront")
    unsubscribe_url: str = Field(
        description="https; opts out of marketing mail on GET (page) and one-click POST"
    )


class CartAbandoned(_Model):
    """A cart with consent and an address was left without an order."""

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str
    occurred_at: datetime
    actor: str = "system"
    message: str = ""
    visibility: Literal["customer", "internal"] = "customer"
    cart: CartSnapshot
    data: CartAbandonedData


#: detail-type -> the model of its detail.
DETAIL_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        OrderPlaced,
        OrderPaid,
        PaymentFailed,
        OrderCancelled,
        OrderExpired,
        OrderRefunded,
        PaymentReminderDue,
        OrderShipped,
        OrderDelivered,
        NoteAdded,
        CartAbandoned,
        ShipmentUpdated,
        ReturnRecorded,
    )
}


def parse_detail(detail_type: str, detail: dict[str, Any]) -> BaseModel | None:
    """The validated detail, or None for a detail-type we do not know."""
    model = DETAIL_MODELS.get(detail_type)
    return None if model is None else model.model_validate(detail)


def json_schemas() -> dict[str, Any]:
    """Every detail-type's JSON Schema, keyed by detail-type."""
    return {
        "source": SOURCE,
        "schema_version": SCHEMA_VERSION,
        "detail_types": {
            name: model.model_json_schema(mode="serialization")
            for name, model in DETAIL_MODELS.items()
        },
    }
