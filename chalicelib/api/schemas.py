"""Request and response bodies. Requests reject unknown fields and carry
bounds on every value; responses are what the API contract documents."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)

from chalicelib.api.bodies import (
    Answer,
    Reason,
    Request,
    ShortText,
    Sku,
    Text,
)
from chalicelib.api.email_address import valid_email
from chalicelib.api.payment_schemas import PaymentInstructionsOut
from chalicelib.domain.order import MAX_LINE_QUANTITY, MAX_ORDER_LINES, TERMS_VERSION_PATTERN

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


#: An email address (validated by email-validator, lazily: api/email_address.py).
Email = Annotated[
    str, Field(max_length=254, json_schema_extra={"format": "email"}), AfterValidator(valid_email)
]


Locale = Literal["de", "en"]

#: A shipping method's id, as the merchant chose it (the path of its PUT).
METHOD_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
MethodId = Annotated[str, Field(pattern=METHOD_ID_PATTERN)]
#: A pickup location's id, likewise.
LOCATION_ID_PATTERN = METHOD_ID_PATTERN
LocationId = Annotated[str, Field(pattern=LOCATION_ID_PATTERN)]
#: A discount code as typed: letters, digits, '-' and '_', any case.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$"
CodeText = Annotated[str, Field(pattern=CODE_PATTERN)]
PaymentMethodName = Literal["card", "paypal", "bank_transfer"]
#: A VAT ID as typed: its bounds here, its rules in domain/vat_id.py.
VatIdText = Annotated[str, Field(pattern=r"^[A-Za-z]{2}[A-Za-z0-9 .+*/-]{1,18}$")]
#: An invoice's buyer reference (BT-10), e.g. the Leitweg-ID 04011000-1234512345-06.
BuyerReference = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/:-]{0,59}$")]


# --- orders ---------------------------------------------------------------------


class LineIn(Request):
    sku: Sku
    quantity: StrictInt = Field(ge=1, le=MAX_LINE_QUANTITY)


class CustomerIn(Request):
    email: Email
    name: Text


class AddressIn(Request):
    name: Text
    company: Text | None = None
    line1: Text
    line2: Text | None = None
    postal_code: ShortText
    city: Text
    country: Country


class TermsAcceptedIn(Request):
    version: Annotated[str, Field(pattern=TERMS_VERSION_PATTERN)] = Field(
        description="the version of the terms (AGB) the customer saw and accepted, e.g. 2026-06-19"
    )


def _terms_required(schema: dict[str, Any]) -> None:
    # The model takes a missing (or null) `terms_accepted` so the checkout can
    # refuse it with its own code, terms_not_accepted; the contract says what
    # a client must send: the object, always.
    terms = schema["properties"]["terms_accepted"]
    terms.pop("default", None)
    terms.update(next(option for option in terms.pop("anyOf") if "$ref" in option))
    schema.setdefault("required", []).append("terms_accepted")


class PlaceOrderIn(Request):
    model_config = ConfigDict(json_schema_extra=_terms_required)

    lines: list[LineIn] | None = Field(
        default=None, min_length=1, max_length=MAX_ORDER_LINES, description="or `cart_id`"
    )
    cart_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = Field(
        default=None, description="order the cart's lines instead of `lines`"
    )
    cart_token: Annotated[str, Field(min_length=20, max_length=100)] | None = Field(
        default=None, description="the cart's token; required with `cart_id`"
    )
    customer: CustomerIn
    shipping_address: AddressIn | None = Field(
        default=None, description="required unless the order is collected (`pickup_location`)"
    )
    billing_address: AddressIn | None = Field(
        default=None, description="defaults to the shipping address; required without one"
    )
    payment_method: PaymentMethodName
    locale: Locale = "en"
    shipping_method: MethodId | None = Field(
        default=None,
        description="a method of GET /shipping-options; required once the shop offers any",
    )
    discount_code: CodeText | None = Field(
        default=None, description="case-insensitive; one code per order"
    )
    terms_accepted: TermsAcceptedIn | None = Field(
        default=None,
        description="required: the shop's current terms, accepted by the customer; "
        "missing 422 `terms_not_accepted`, another version 422 `terms_version_outdated`",
    )
    pickup_location: LocationId | None = Field(
        default=None,
        description="click & collect: a location of GET /shipping-options, instead of "
        "`shipping_method`; then no `shipping_address` is needed",
    )
    vat_id: VatIdText | None = Field(
        default=None,
        description="a business buyer's EU VAT ID (USt-IdNr.), e.g. DE136695976; its format "
        "and check digits are checked (422 `vat_id_invalid`), not its registration. The "
        "company is the billing address's `company`",
    )
    buyer_reference: BuyerReference | None = Field(
        default=None,
        description="what the invoice names as the buyer's reference (BT-10): a public "
        "buyer's Leitweg-ID; default the order number",
    )

    @model_validator(mode="after")
    def _lines_or_cart(self) -> Self:
        if (self.lines is None) == (self.cart_id is None):
            raise ValueError("send either `lines` or `cart_id`, not both")
        if (self.cart_id is None) != (self.cart_token is None):
            raise ValueError("`cart_id` and `cart_token` go together")
        if self.shipping_address is None and self.billing_address is None:
            raise ValueError("send `shipping_address`, or `billing_address` for a pickup")
        return self


class CancelIn(Request):
    reason: Reason = "cancelled by customer"


class LineOut(Answer):
    sku: str
    name: str
    quantity: int
    unit_price: int
    line_total: int
    tax_rate: str
    tax_amount: int
    shipped_quantity: int
    discount: int = Field(default=0, description="this line's share of the discount")


class TotalsOut(Answer):
    currency: str
    subtotal: int = Field(description="the goods before discount, tax included")
    discount: int = Field(default=0, description="off the goods")
    shipping: int = Field(description="charged, after a free-shipping code")
    tax: int = Field(description="the sum of the per-rate taxes (`tax_rates`)")
    total: int = Field(description="subtotal - discount + shipping")


class ShippingLineOut(Answer):
    method_id: str
    name: str
    carrier: str
    country: str
    price: int = Field(description="the method's price for this basket")
    charged: int = Field(description="what is paid: 0 with a free-shipping code")
    delivery_time: str | None = None


class PickupLineOut(Answer):
    """The pickup location the customer collects the order at (click & collect)."""

    location_id: str
    name: str
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str
    opening_hours: str


class AppliedDiscountOut(Answer):
    code: str
    kind: str
    goods: int = Field(description="taken off the goods")
    shipping: int = Field(description="shipping waived")


class TaxRateOut(Answer):
    """Everything charged at one VAT rate; shipping follows the goods."""

    rate: str
    goods: int
    shipping: int
    gross: int
    net: int
    tax: int


class HistoryOut(Answer):
    at: datetime
    event: str
    message: str


class ShipmentOut(Answer):
    """A parcel as the customer sees it (fulfilment)."""

    id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    status: str
    lines: list[dict[str, object]]
    shipped_at: datetime
    delivered_at: datetime | None = None


class OrderOut(Answer):
    id: str
    number: str
    status: str
    payment_status: str
    fulfilment_status: str
    payment_method: str
    locale: str
    lines: list[LineOut]
    totals: TotalsOut
    customer: CustomerIn
    shipping_address: AddressIn | None = Field(description="None for a pickup order")
    billing_address: AddressIn
    created_at: datetime
    payment_due_at: datetime
    cancel_reason: str | None = None
    history: list[HistoryOut] = []
    shipments: list[ShipmentOut] = []  # with tracking links (fulfilment)
    shipping: ShippingLineOut | None = None
    pickup: PickupLineOut | None = None
    discount: AppliedDiscountOut | None = None
    tax_rates: list[TaxRateOut] = []
    terms_version: str | None = Field(
        default=None, description="the terms the customer accepted (none on older orders)"
    )
    terms_accepted_at: datetime | None = None
    vat_id: str | None = Field(default=None, description="the business buyer's VAT ID, compact")
    buyer_reference: str | None = None


class PlacedOrderOut(OrderOut):
    token: str = Field(
        description="the order's secret; shown once; send as `Authorization: Bearer <token>`"
    )
    # How to pay: a redirect (card, paypal) or bank transfer instructions.
    payment: PaymentInstructionsOut | None = None


class ErrorBody(Answer):
    code: str
    message: str
    details: dict[str, object]
    request_id: str


class ErrorOut(Answer):
    error: ErrorBody
