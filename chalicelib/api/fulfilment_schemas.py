"""Request bodies and query parameters of the fulfilment routes: the order
desk, shipments, returns, notes, merchant cancel and carrier callbacks."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
)

from chalicelib.api.bodies import ONE_LINE, PARAGRAPHS, Answer, Reason
from chalicelib.api.schemas import (
    AppliedDiscountOut,
    PickupLineOut,
    Request,
    ShippingLineOut,
    Sku,
    TaxRateOut,
)
from chalicelib.domain.order import MAX_LINE_QUANTITY, MAX_ORDER_LINES


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-23T00:00:00Z")
    return moment.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
TrackingNumber = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{2,63}$", description="as the carrier prints it"),
]
# Printable ASCII only (a URL is percent-encoded on the wire): no control
# characters, spaces or bidi overrides in a link the customer's email shows.
HttpsUrl = Annotated[str, Field(pattern=r"^https://[\x21-\x7e]{4,500}$")]
Money = Annotated[StrictInt, Field(ge=0, le=100_000_000, description="minor units")]


class DeskQueryIn(Request):
    status: (
        Literal[
            "pending_payment",
            "paid",
            "on_hold",
            "partially_shipped",
            "shipped",
            "delivered",
            "ready_for_pickup",
            "picked_up",
            "cancelled",
            "expired",
        ]
        | None
    ) = None
    payment_status: Literal["unpaid", "paid", "partially_refunded", "refunded"] | None = None
    payment_method: Literal["card", "paypal", "bank_transfer"] | None = None
    created_from: AwareDatetime | None = Field(default=None, description="inclusive")
    created_to: AwareDatetime | None = Field(default=None, description="exclusive")
    email: (
        Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^\s@]+@[^\s@]+$")] | None
    ) = None
    number: Annotated[str, Field(pattern=r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")] | None = None
    withdrawal: Literal["open"] | None = Field(
        default=None, description="open: a withdrawal whose refund is not made yet"
    )
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="part of the customer's name, as written (case-sensitive); "
        "filters what the other filters' key reads, never a key itself",
    )
    limit: int = Field(default=50, ge=1, le=100)
    cursor: Annotated[str, Field(min_length=4, max_length=1000)] | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class PackingSlipQueryIn(Request):
    shipment_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")] | None = Field(
        default=None, description="only this shipment's lines"
    )
    amounts: Literal["true", "false"] = Field(
        default="false", description="true: the totals, the discount code and the VAT per rate"
    )


class ShipmentLineIn(Request):
    sku: Sku
    quantity: StrictInt = Field(ge=1, le=MAX_LINE_QUANTITY)


class ShipmentIn(Request):
    carrier: Annotated[str, Field(min_length=2, max_length=40)]
    tracking_number: TrackingNumber
    tracking_url: HttpsUrl | None = Field(
        default=None, description="required for a carrier without a built-in template"
    )
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)


class ParcelIn(Request):
    """One order's parcel in the back office's bulk shipment: all its lines."""

    carrier: Annotated[str, Field(min_length=2, max_length=40)]
    tracking_number: TrackingNumber


class ReturnLineIn(Request):
    sku: Sku
    quantity: StrictInt = Field(ge=1, le=MAX_LINE_QUANTITY)
    restock: StrictBool = Field(description="back to sellable stock, or written off")


class ReturnIn(Request):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)
    refund: Money = Field(default=0, description="paid back through the payment provider")
    surcharge: Money = Field(default=0, description="fees withheld, e.g. return shipping")
    reason: Reason = "returned by customer"


class NoteIn(Request):
    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=PARAGRAPHS)]
    visibility: Literal["customer", "internal"] = "internal"


class PickupIn(Request):
    """The code the customer shows at the pickup location."""

    code: Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the six-digit pickup code")]


class MerchantCancelIn(Request):
    reason: Reason = "cancelled by the shop"


class TrackingEventIn(Request):
    """The generic tracking-event format (docs/fulfilment.md)."""

    event_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,100}$")]
    tracking_number: TrackingNumber
    status: Literal[
        "label_created",
        "in_transit",
        "out_for_delivery",
        "delivery_attempted",
        "delivered",
        "exception",
        "returned_to_sender",
    ]
    occurred_at: AwareDatetime
    location: Annotated[str, Field(max_length=200, pattern=ONE_LINE)] | None = None
    description: Annotated[str, Field(max_length=500, pattern=PARAGRAPHS)] | None = None


# --- answers (the presenters validate through these; `make openapi` documents them) ---


class _Open(BaseModel):
    # The merchant's views may gain fields; documented fields keep their types.
    model_config = ConfigDict(extra="allow", defer_build=True)


class ShipmentLineOut(_Open):
    sku: str
    quantity: int


class ShipmentOut(_Open):
    id: str
    order_id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    lines: list[ShipmentLineOut]
    shipped_at: datetime
    status: str
    last_event_at: datetime | None = None
    delivered_at: datetime | None = None


class DeskCustomerOut(_Open):
    email: str
    name: str


class OrderSummaryOut(_Open):
    id: str
    number: str
    status: str
    payment_status: str
    fulfilment_status: str
    payment_method: str
    customer: DeskCustomerOut
    total: int
    currency: str
    created_at: datetime
    shipping: ShippingLineOut | None = Field(default=None, description="the method chosen")
    pickup: PickupLineOut | None = Field(default=None, description="or the pickup location")
    discount: AppliedDiscountOut | None = None
    tax_rates: list[TaxRateOut] = Field(default=[], description="the VAT per rate")


class DeskListingOut(_Open):
    orders: list[OrderSummaryOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
    items_read: int
    served_by: str


class NoteOut(_Open):
    at: datetime
    note: str
    visibility: str
    by: str


class DeskHistoryOut(_Open):
    at: datetime
    event: str
    actor: str
    message: str
    visibility: str


class OrderDetailOut(_Open):
    """Everything the merchant may see of an order, internal notes included."""

    id: str
    number: str
    status: str
    payment_status: str
    fulfilment_status: str
    payment_method: str
    locale: str
    created_at: datetime
    payment_due_at: datetime
    cancel_reason: str | None = None
    history: list[DeskHistoryOut]
    notes: list[NoteOut]
    shipments: list[ShipmentOut]
    shipping: ShippingLineOut | None = None
    pickup: PickupLineOut | None = None
    discount: AppliedDiscountOut | None = None
    tax_rates: list[TaxRateOut] = []


class TrackingAckOut(Answer):
    outcome: str
