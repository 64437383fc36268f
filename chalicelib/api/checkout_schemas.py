"""Bodies of the checkout terms: shipping methods, pickup locations, discount
codes and the storefront's shipping options (docs/checkout.md)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StrictBool, StrictInt, model_validator

from chalicelib.api.bodies import Answer, Currency, PerLocale, Request, ShortText, Sku, Text
from chalicelib.api.schemas import Country, Locale

Amount = Annotated[StrictInt, Field(ge=0, le=100_000_000, description="minor units, gross")]


def _aware(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("give the time zone, e.g. 2026-12-01T00:00:00Z")
    return moment.astimezone(UTC)


Moment = Annotated[datetime, AfterValidator(_aware)]


class ShippingMethodIn(Request):
    name: PerLocale
    carrier: Text
    price: Amount
    currency: Currency = "EUR"
    countries: list[Country] = Field(min_length=1, max_length=60)
    free_from: Amount | None = Field(
        default=None, description="free from this goods value (after discount)"
    )
    delivery_time: PerLocale | None = None
    active: StrictBool = True


class ShippingMethodOut(Answer):
    id: str
    name: dict[str, str]
    carrier: str
    price: int
    currency: str
    countries: list[str]
    free_from: int | None = None
    delivery_time: dict[str, str] = {}
    active: bool
    version: int


class ShippingMethodsOut(Answer):
    shipping_methods: list[ShippingMethodOut]


class PickupLocationIn(Request):
    name: PerLocale
    line1: Text
    line2: Text | None = None
    postal_code: ShortText
    city: Text
    country: Country
    opening_hours: PerLocale = Field(description="as the customer reads it, per locale")
    active: StrictBool = True


class PickupLocationOut(Answer):
    id: str
    name: dict[str, str]
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str
    opening_hours: dict[str, str]
    active: bool
    version: int


class PickupLocationsOut(Answer):
    pickup_locations: list[PickupLocationOut]


class DiscountCodeIn(Request):
    kind: Literal["percentage", "fixed_amount", "free_shipping"]
    percent: Decimal | None = Field(
        default=None, gt=0, le=100, max_digits=5, decimal_places=2, description="percentage"
    )
    amount: Amount | None = Field(default=None, description="fixed_amount: off the goods")
    currency: Currency = "EUR"
    minimum: Amount = Field(default=0, description="the goods before discount must reach it")
    valid_from: Moment | None = Field(default=None, description="inclusive")
    valid_until: Moment | None = Field(default=None, description="exclusive")
    usage_limit: StrictInt | None = Field(
        default=None, ge=1, le=10_000_000, description="orders in total"
    )
    once_per_customer: StrictBool = False
    skus: list[Sku] | None = Field(
        default=None, min_length=1, max_length=100, description="only for these products"
    )
    active: StrictBool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.kind == "percentage") != (self.percent is not None):
            raise ValueError("a percentage code, and only it, takes `percent`")
        if (self.kind == "fixed_amount") != (self.amount is not None and self.amount > 0):
            raise ValueError("a fixed_amount code, and only it, takes an `amount` above 0")
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise ValueError("`valid_from` must be before `valid_until`")
        return self


class DiscountCodeOut(Answer):
    code: str
    kind: str
    percent: str | None = None
    amount: int | None = None
    currency: str
    minimum: int
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    usage_limit: int | None = None
    uses: int = Field(description="orders that hold a use now")
    once_per_customer: bool
    skus: list[str] | None = None
    active: bool
    version: int


class DiscountCodesOut(Answer):
    discount_codes: list[DiscountCodeOut]


#: "sku:quantity" pairs, comma-separated: tea:2,mug:1
_PAIR = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[0-9]{1,3}"
LINES_PATTERN = rf"^{_PAIR}(,{_PAIR}){{0,49}}$"


class ShippingOptionsQueryIn(Request):
    country: Country
    lines: Annotated[str, Field(pattern=LINES_PATTERN, max_length=3500)] | None = Field(
        default=None, description="`sku:quantity`, comma-separated; or `cart_id`"
    )
    cart_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = Field(
        default=None, description="the cart's lines; send its token as Bearer"
    )
    locale: Locale = "en"

    @model_validator(mode="after")
    def _lines_or_cart(self) -> Self:
        if (self.lines is None) == (self.cart_id is None):
            raise ValueError("send either `lines` or `cart_id`, not both")
        return self


class ShippingOptionOut(Answer):
    id: str
    name: str
    carrier: str
    price: int = Field(description="for this basket; 0 from the method's free_from")
    free_from: int | None = None
    delivery_time: str | None = None


class PickupOptionOut(Answer):
    """A pickup location the customer may collect the order at (click & collect)."""

    id: str
    name: str
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str
    opening_hours: str
    price: int = Field(default=0, description="always 0: collecting costs nothing")


class ShippingOptionsOut(Answer):
    country: str
    currency: str
    goods: int
    shipping_options: list[ShippingOptionOut]
    pickup_locations: list[PickupOptionOut] = Field(
        default=[], description="send its id as `pickup_location` instead of `shipping_method`"
    )
