"""The events we publish on the `orders` bus: one module for what producers
write, what the outbox publishes and what consumers validate.

Each history entry becomes one EventBridge event (source ``SOURCE``,
detail-type = the entry's ``event``). Its detail has one shape for every
order event (``OrderEventDetail``): the envelope fields, the order as it was
right after the change (``order``, ``OrderSnapshot``) and what changed
(``data``, one ``EventData`` model per detail-type below). ``CartAbandoned``
carries a ``cart`` instead of an order.

Producers build the ``EventData`` model of their event in the domain function
(``HistoryEntry.of``), so a missing or mistyped field fails there, not in a
consumer; ``as_data()`` is the one serialisation of a model into the plain
values the store keeps and the outbox publishes (``envelope``).

Versioning: ``schema_version`` changes only for a breaking change (a field
removed, renamed or retyped). Adding an optional field is not breaking, so
consumers ignore fields they do not know (``extra="ignore"``).

docs/events.md is the human catalogue; ``json_schemas()`` is the machine one
(docs/events.schema.json, written by ``python -m local.events_schema``).

Cold starts: the API, the outbox and the sweeps import this module, and
defining its data models is part of their import (about 15 ms of CPU on a
busy development machine). Each model's validator is built the first time it
is used (``defer_build``); the detail models only when a consumer or the
schema generator asks for them, each on first use (``detail_model``).
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1
SOURCE = "shop.orders"


def _plain(value: Any) -> Any:
    """Values as the store keeps them and the outbox publishes them: times in
    ISO 8601 as ``datetime.isoformat`` writes them (``+00:00``, not ``Z``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    def as_data(self) -> dict[str, Any]:
        """The plain values of the fields the producer gave: a field left to
        its default is not written, so each event carries what its producer
        said and nothing more."""
        return _plain(self.model_dump(exclude_unset=True))


class EventData(_Model):
    """What changed, for one detail-type (``event``)."""

    event: ClassVar[str]


# --- the order snapshot -------------------------------------------------------------


class CustomerSnapshot(_Model):
    email: str
    name: str


class TotalsSnapshot(_Model):
    currency: str = Field(description="ISO 4217")
    subtotal: int = Field(description="minor units, tax included")
    shipping: int
    tax: int = Field(description="tax contained in the total (the sum over `tax_rates`)")
    total: int = Field(description="subtotal - discount + shipping")
    discount: int = Field(default=0, description="off the goods, minor units")


class ShippingSnapshot(_Model):
    method_id: str
    name: str = Field(description="in the order's locale")
    carrier: str
    price: int = Field(description="the method's price for the basket")
    charged: int = Field(description="what the customer pays (0 with a free-shipping code)")
    delivery_time: str | None = None


class PickupSnapshot(_Model):
    """Click & collect: where the customer collects the order (never its code)."""

    location_id: str
    name: str = Field(description="in the order's locale")
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str
    opening_hours: str = Field(description="in the order's locale")


class DiscountSnapshot(_Model):
    code: str
    kind: str = Field(description="percentage, fixed_amount or free_shipping")
    goods: int = Field(description="taken off the goods")
    shipping: int = Field(description="shipping waived")


class TaxRateSnapshot(_Model):
    rate: str = Field(description="percent, e.g. 19")
    goods: int
    shipping: int = Field(description="the shipping's share at this rate")
    gross: int
    net: int
    tax: int


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
    shipping: ShippingSnapshot | None = None
    pickup: PickupSnapshot | None = Field(
        default=None, description="click & collect: the location instead of `shipping`"
    )
    discount: DiscountSnapshot | None = None
    tax_rates: list[TaxRateSnapshot] = Field(
        default_factory=list, description="the VAT per rate; shipping follows the goods"
    )


# --- what changed, per detail-type ----------------------------------------------------


class OrderPlacedData(EventData):
    event: ClassVar[str] = "OrderPlaced"

    total: int
    currency: str
    terms_version: str | None = Field(
        default=None, description="the terms (AGB) the customer accepted at checkout"
    )
    terms_accepted_at: datetime | None = Field(
        default=None, description="when they were accepted: the order's placement"
    )


class OrderPaidData(EventData):
    event: ClassVar[str] = "OrderPaid"

    amount: int = Field(description="the amount received, minor units")
    currency: str
    provider: str | None = Field(default=None, description="stripe, hmac, fake, manual, ...")
    payment_reference: str | None = Field(
        default=None, description="the provider's payment id, shown on the receipt"
    )
    reference: str | None = Field(
        default=None, description="the provider's payment id, or the bank transfer's reference"
    )
    accepted_hold: bool | None = Field(
        default=None, description="true when the merchant accepted a payment held for review"
    )


class PaymentFailedData(EventData):
    event: ClassVar[str] = "PaymentFailed"

    provider: str | None = None
    reason: str | None = Field(default=None, description="the provider's reason, if given")


class PaymentProcessingData(EventData):
    event: ClassVar[str] = "PaymentProcessing"


class PaymentSessionExpiredData(EventData):
    event: ClassVar[str] = "PaymentSessionExpired"


class PaymentOnHoldData(EventData):
    event: ClassVar[str] = "PaymentOnHold"

    amount: int = Field(description="the amount received, minor units")
    currency: str
    reference: str = Field(description="the provider's payment id")
    expected_amount: int = Field(description="the order's total")
    expected_currency: str


class _RefusedPaymentData(EventData):
    amount: int = Field(description="the amount received, minor units; it goes back in full")
    currency: str
    reference: str = Field(description="the provider's payment id")
    reason: str = Field(description="why the payment was not accepted")


class LatePaymentReceivedData(_RefusedPaymentData):
    event: ClassVar[str] = "LatePaymentReceived"


class DuplicatePaymentReceivedData(_RefusedPaymentData):
    event: ClassVar[str] = "DuplicatePaymentReceived"


class OrderCancelledData(EventData):
    event: ClassVar[str] = "OrderCancelled"

    reason: str = Field(description="shown to the customer")
    previous_status: str


class OrderExpiredData(EventData):
    event: ClassVar[str] = "OrderExpired"

    reason: str = Field(default="payment not received in time", description="shown to the customer")
    previous_status: str = "pending_payment"
    payment_due_at: datetime | None = Field(default=None, description="the deadline missed")


class OrderRefundedData(EventData):
    event: ClassVar[str] = "OrderRefunded"

    amount: int = Field(description="this refund, minor units")
    currency: str
    refunded_total: int | None = Field(
        default=None, description="all refunds so far of the payment refunded (provider refunds)"
    )
    reference: str | None = Field(
        default=None, description="the provider's payment id the refund went back to"
    )
    reason: str | None = None
    refund_id: str | None = None
    total_refunded: int | None = Field(default=None, description="all refunds so far")


class PaymentReminderDueData(EventData):
    event: ClassVar[str] = "PaymentReminderDue"

    payment_due_at: datetime
    payment_url: str | None = Field(default=None, description="where the customer can pay")
    payment_method: str | None = None


class ShippedLine(_Model):
    sku: str
    quantity: int


class OrderShippedData(EventData):
    event: ClassVar[str] = "OrderShipped"

    shipment_id: str
    carrier: str = Field(description="e.g. dhl, dpd, ups")
    tracking_number: str
    tracking_url: str = Field(description="the carrier's tracking page for this parcel")
    lines: list[ShippedLine] = Field(default_factory=list)


class OrderDeliveredData(EventData):
    event: ClassVar[str] = "OrderDelivered"

    shipment_id: str | None = None
    delivered_at: datetime | None = None


class OrderReadyForPickupData(EventData):
    """The pickup code itself is never published: the email reads it from the
    order (notify/service.py)."""

    event: ClassVar[str] = "OrderReadyForPickup"

    location_id: str


class OrderPickedUpData(EventData):
    event: ClassVar[str] = "OrderPickedUp"

    location_id: str
    picked_up_at: datetime
    lines: list[ShippedLine] = Field(default_factory=list, description="what was handed over")


class NoteAddedData(EventData):
    event: ClassVar[str] = "NoteAdded"

    note: str


class ShipmentUpdatedData(EventData):
    event: ClassVar[str] = "ShipmentUpdated"

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


class ReturnRecordedData(EventData):
    event: ClassVar[str] = "ReturnRecorded"

    return_id: str
    lines: list[ReturnedLineData]
    credit: int = Field(description="value of the returned goods, minor units")
    surcharge: int = Field(description="fees withheld, minor units")
    refund: int = Field(description="refund asked with the return (its OrderRefunded follows)")
    currency: str
    reason: str | None = None


# --- withdrawals (docs/withdrawal.md) ---------------------------------------------------


class WithdrawnLineData(_Model):
    sku: str
    name: str
    quantity: int
    refund: int = Field(description="the goods' share of the refund, minor units")
    to_return: int = Field(description="of quantity, the units shipped, which come back")


class WithdrawalReceivedData(EventData):
    event: ClassVar[str] = "WithdrawalReceived"

    withdrawal_id: str
    received_at: datetime = Field(description="when the declaration was received")
    lines: list[WithdrawnLineData]
    full: bool = Field(description="nothing of the order is left after it")
    refund_goods: int = Field(description="minor units")
    refund_delivery: int = Field(description="the cheapest standard delivery, full only")
    refund_total: int
    currency: str
    refund_due_at: datetime = Field(description="the refund's legal deadline")
    awaiting_return: bool = Field(description="the refund may wait for the goods")
    late: bool = Field(default=False, description="accepted by the merchant after the period")
    timezone: str = Field(description="the shop's timezone, for showing the times")


class WithdrawalRefundedData(EventData):
    event: ClassVar[str] = "WithdrawalRefunded"

    withdrawal_id: str
    refund_total: int = Field(description="what this withdrawal made due, minor units")
    currency: str
    refunded_at: datetime


class WithdrawalReleasedData(EventData):
    event: ClassVar[str] = "WithdrawalReleased"

    withdrawal_id: str
    reason: str = Field(description="goods_returned or proof_of_dispatch")


class WithdrawalRefundReminderData(EventData):
    event: ClassVar[str] = "WithdrawalRefundReminder"

    withdrawal_id: str
    kind: Literal["due_soon", "overdue"]
    refund_total: int
    currency: str
    refund_due_at: datetime
    timezone: str


# --- invoices and credit notes (docs/invoices.md) -------------------------------------


class TaxRateAmounts(_Model):
    rate: str = Field(description="percent, e.g. 19")
    net: int
    tax: int
    gross: int


class InvoiceIssuedData(EventData):
    event: ClassVar[str] = "InvoiceIssued"

    number: str = Field(description="RE-<year>-<5 digits>, unique, never reused")
    issue_date: str = Field(description="ISO date, in the shop's timezone")
    gross: int = Field(description="the order's total, minor units")
    net: int
    tax: int
    currency: str
    rates: list[TaxRateAmounts] = Field(description="net, tax and gross per VAT rate")
    trigger: Literal["payment", "first_shipment"] = Field(
        description="what issued it: the payment, or the first shipment (a shop setting)"
    )


class CreditNoteIssuedData(EventData):
    event: ClassVar[str] = "CreditNoteIssued"

    number: str = Field(description="GS-<year>-<5 digits>, unique, never reused")
    issue_date: str = Field(description="ISO date, in the shop's timezone")
    invoice_number: str = Field(description="the invoice it corrects")
    invoice_date: str = Field(description="that invoice's issue date")
    gross: int = Field(description="negative: what is taken back, minor units")
    net: int
    tax: int
    currency: str
    rates: list[TaxRateAmounts] = Field(description="negative net, tax and gross per VAT rate")
    reason: Literal["refund", "return", "cancellation"]


class DocumentArchivedData(EventData):
    event: ClassVar[str] = "DocumentArchived"

    kind: Literal["invoice", "credit_note"]
    number: str = Field(description="the document's number (RE-... or GS-...)")
    key: str = Field(description="the PDF's object key in the invoices bucket")
    version_id: str = Field(description="the object's version: the archived bytes, locked")
    sha256: str = Field(description="hex digest of the PDF's bytes")
    size: int = Field(description="the PDF's size in bytes")


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


class AbandonedLine(_Model):
    sku: str
    quantity: int


class CartAbandonedData(EventData):
    event: ClassVar[str] = "CartAbandoned"

    cart_id: str | None = None
    email: str | None = None
    locale: str | None = None
    lines: list[AbandonedLine] | None = Field(default=None, description="the cart's lines")
    last_changed_at: datetime | None = Field(default=None, description="the cart's last change")
    recovery_token: str | None = Field(default=None, description="the secret in cart_url")
    opt_out_token: str | None = Field(default=None, description="the secret in opt_out_url")
    cart_url: str = Field(description="reopens the cart in the storefront")
    opt_out_url: str | None = Field(default=None, description="the same as unsubscribe_url")
    unsubscribe_url: str = Field(
        description="https; opts out of marketing mail on GET (page) and one-click POST"
    )


#: detail-type -> the model of its ``data``: what a producer builds.
EVENT_DATA: dict[str, type[EventData]] = {
    model.event: model
    for model in (
        OrderPlacedData,
        OrderPaidData,
        PaymentFailedData,
        PaymentProcessingData,
        PaymentSessionExpiredData,
        PaymentOnHoldData,
        LatePaymentReceivedData,
        DuplicatePaymentReceivedData,
        OrderCancelledData,
        OrderExpiredData,
        OrderRefundedData,
        PaymentReminderDueData,
        OrderShippedData,
        OrderDeliveredData,
        OrderReadyForPickupData,
        OrderPickedUpData,
        NoteAddedData,
        CartAbandonedData,
        ShipmentUpdatedData,
        ReturnRecordedData,
        WithdrawalReceivedData,
        WithdrawalRefundedData,
        WithdrawalReleasedData,
        WithdrawalRefundReminderData,
        InvoiceIssuedData,
        CreditNoteIssuedData,
        DocumentArchivedData,
    )
}


def envelope(
    *,
    event_id: str,
    occurred_at: str,
    actor: str,
    message: str,
    visibility: str,
    data: Mapping[str, Any],
    snapshots: Mapping[str, Any],
) -> dict[str, Any]:
    """The detail the outbox publishes for a stored history entry (the fields
    of ``OrderEventDetail``, or of ``CartAbandoned``): the envelope around the
    ``data`` its producer wrote and the snapshot stored with it (``order``, or
    ``cart``). Plain values in, plain values out: the outbox builds no model."""
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": event_id,
        "occurred_at": occurred_at,
        "actor": actor,
        "message": message,
        "visibility": visibility,
        "data": dict(data),
        **snapshots,
    }


# --- the detail, as consumers read it -----------------------------------------------
#
# Consumers (the notifications queue) and the schema generator need these;
# producers and the outbox do not. The detail model of each order event is
# made on first use (``detail_model``): seventeen parametrised generic
# models cost more to define than every data model above together, and this
# module is part of the cold start of the API, the outbox and the sweeps.

D = TypeVar("D", bound=EventData)


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


#: The order events and what each means (the description of its detail).
_ORDER_EVENTS: dict[type[EventData], str] = {
    OrderPlacedData: "An order was placed and its stock reserved; payment is awaited.",
    OrderPaidData: "The payment was confirmed (provider or merchant).",
    PaymentFailedData: "A payment attempt failed; the order still awaits payment.",
    PaymentProcessingData: "Checkout finished; the payment still settles (internal).",
    PaymentSessionExpiredData: "The provider's payment page expired unpaid (internal).",
    PaymentOnHoldData: "Money of another amount or currency arrived; held for review.",
    LatePaymentReceivedData: "Money arrived for an expired or cancelled order; it goes back.",
    DuplicatePaymentReceivedData: "Money arrived for an order already paid; it goes back.",
    OrderCancelledData: "The order was cancelled before shipment; its stock was released.",
    OrderExpiredData: "No payment arrived in time; the order was closed and its stock released.",
    OrderRefundedData: "Money went back to the customer.",
    PaymentReminderDueData: "An unpaid order is about to expire.",
    OrderShippedData: "A shipment left the warehouse.",
    OrderDeliveredData: "The carrier reported the order delivered.",
    OrderReadyForPickupData: "A paid pickup order is ready at its pickup location.",
    OrderPickedUpData: "The customer collected the order with its pickup code.",
    NoteAddedData: "The merchant added a note (customer-visible or internal).",
    ShipmentUpdatedData: "A carrier reported progress of one shipment (internal).",
    ReturnRecordedData: "The merchant took back shipped lines, restocked or written off.",
    WithdrawalReceivedData: "The customer withdrew from the contract for some or all lines.",
    WithdrawalRefundedData: "The refund a withdrawal made due has been paid in full.",
    WithdrawalReleasedData: "The goods of a withdrawal, or proof of their dispatch, arrived.",
    WithdrawalRefundReminderData: "A withdrawal's refund deadline is near or passed (internal).",
    InvoiceIssuedData: "The order's invoice was issued (once per order).",
    CreditNoteIssuedData: "A credit note corrected the order's invoice (a refund after it).",
    DocumentArchivedData: "An invoice's or credit note's PDF was stored in the archive (once "
    "per document); the customer is mailed it.",
}


def _order_event(data: type[EventData], summary: str) -> type[BaseModel]:
    """``class <event>(OrderEventDetail[<data>])``, documented by ``summary``."""
    namespace = {"__doc__": summary, "__module__": __name__, "__qualname__": data.event}
    return type(data.event, (OrderEventDetail[data],), namespace)  # type: ignore[valid-type]


_DATA_BY_EVENT: dict[str, tuple[type[EventData], str]] = {
    data.event: (data, doc) for data, doc in _ORDER_EVENTS.items()
}


@functools.cache
def detail_model(detail_type: str) -> type[BaseModel] | None:
    """The model of one detail-type's detail, made (and its validator built)
    the first time that detail-type is asked for: a consumer's cold start
    pays for the event it handles, not for all of them."""
    if detail_type == CartAbandonedData.event:
        return CartAbandoned
    known = _DATA_BY_EVENT.get(detail_type)
    return None if known is None else _order_event(*known)


def detail_models() -> dict[str, type[BaseModel]]:
    """detail-type -> the model of its detail (all of them: the schema
    generator and the contract tests)."""
    names = [*_DATA_BY_EVENT, CartAbandonedData.event]
    return {name: model for name in names if (model := detail_model(name)) is not None}


def parse_detail(detail_type: str, detail: dict[str, Any]) -> BaseModel | None:
    """The validated detail, or None for a detail-type we do not know."""
    model = detail_model(detail_type)
    return None if model is None else model.model_validate(detail)


def json_schemas() -> dict[str, Any]:
    """Every detail-type's JSON Schema, keyed by detail-type."""
    return {
        "source": SOURCE,
        "schema_version": SCHEMA_VERSION,
        "detail_types": {
            name: model.model_json_schema(mode="serialization")
            for name, model in detail_models().items()
        },
    }
