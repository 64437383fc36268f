"""What a checkout charges: shipping, pickup, discount codes and the VAT per rate.

Pure Python, no I/O; the checkout services will call it. Every amount is an
integer in the minor units of the basket's one currency (an order has one, see
domain/order.py), gross: tax included, as EU B2C shops show prices. A
shipping method's price and a fixed code's amount are in that currency too; a
shop selling in several currencies keeps a method and a code per currency.

The rules (docs/checkout.md, "How an order is priced"):

- A discount code is checked (``check_code``) before it is priced; each
  refusal is its own error with a stable code. Its minimum order value looks
  at the whole basket's goods before discount.
- The discount (a percentage or a fixed amount, capped at the eligible goods'
  value) is allocated to the eligible lines in proportion to their value, to
  the cent (``allocate``, largest remainder).
- The free-shipping threshold looks at the goods' value after discount.
- Shipping is an ancillary service (Nebenleistung) and follows the goods'
  tax treatment: it is split over the basket's tax rates in proportion to the
  goods' value per rate after discount (before discount when a code took the
  goods to zero).
- The tax is computed once per rate from that rate's gross total
  (``included_tax``) and then allocated to the rate's lines and shipping
  share, so the per-rate breakdown, the lines and the total agree to the cent.

Its errors live in domain/errors.py with every other domain error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from chalicelib.domain.errors import (
    DiscountCodeAlreadyUsed,
    DiscountCodeExpired,
    DiscountCodeNotApplicable,
    DiscountCodeNotYetValid,
    DiscountCodeUnknown,
    DiscountCodeUsedUp,
    DiscountMinimumNotReached,
    InvalidRequest,
    PickupLocationUnknown,
    ShippingMethodUnknown,
    ShippingNotAvailable,
)
from chalicelib.domain.money import included_tax

# --- allocation ---------------------------------------------------------------


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` into parts proportional to ``weights`` that sum to it
    exactly (largest-remainder method).

    Each part is the floor of its exact share; the units left over go one
    each to the largest remainders, and among equal remainders to the earlier
    position, so the same input always gives the same split. Every part is
    within one unit of its exact share. A zero weight gets nothing.
    """
    if amount < 0 or any(weight < 0 for weight in weights):
        raise ValueError("allocate takes a non-negative amount and weights")
    total = sum(weights)
    if total == 0:
        if amount:
            raise ValueError("cannot allocate an amount over weights that are all zero")
        return [0] * len(weights)
    parts = [amount * weight // total for weight in weights]
    remainders = [amount * weight % total for weight in weights]
    leftover = amount - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return parts


# --- shipping and pickup ------------------------------------------------------


def _in_locale(texts: Mapping[str, str], locale: str) -> str:
    """The text in ``locale``, else in English, else in German, else any."""
    for candidate in (locale, "en", "de"):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()), "")


def _country(code: str) -> str:
    return code.strip().upper()


@dataclass(frozen=True)
class ShippingMethod:
    """A way of sending the parcel, at one gross price per order.

    ``free_from``: the goods' value from which this method costs nothing. It
    looks at the goods after discount (gross, shipping excluded): "free
    shipping from 50 EUR" promises it for 50 EUR of goods paid for, as German
    shops commonly state it (Warenwert nach Abzug von Gutscheinen). Looking at
    the value before discount would let a code take the goods below the
    threshold and still ship free: two discounts the merchant never priced
    together.
    """

    id: str
    names: Mapping[str, str]  # per locale, "de" and/or "en"
    carrier: str
    price: int
    countries: frozenset[str]  # ISO 3166-1 alpha-2
    free_from: int | None = None
    delivery_times: Mapping[str, str] = field(default_factory=dict)  # per locale
    active: bool = True
    currency: str = "EUR"  # of ``price`` and ``free_from``
    version: int = 0  # bumped by every change of the merchant's

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("a shipping method needs a name")
        if self.price < 0 or (self.free_from is not None and self.free_from < 0):
            raise ValueError("shipping prices are not negative")
        object.__setattr__(self, "countries", frozenset(_country(c) for c in self.countries))

    def name(self, locale: str) -> str:
        return _in_locale(self.names, locale)

    def delivery_time(self, locale: str) -> str | None:
        return _in_locale(self.delivery_times, locale) if self.delivery_times else None

    def serves(self, country: str) -> bool:
        return self.active and _country(country) in self.countries


@dataclass(frozen=True)
class PickupLocation:
    """Click & collect: the customer fetches the order here. It costs nothing
    and needs no shipping address. Names and opening hours are per locale
    ("de" and/or "en"), like a shipping method's name."""

    id: str
    names: Mapping[str, str]
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    opening_hours: Mapping[str, str]
    line2: str | None = None
    active: bool = True
    version: int = 0  # bumped by every change of the merchant's

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("a pickup location needs a name")
        object.__setattr__(self, "country", _country(self.country))

    def name(self, locale: str) -> str:
        return _in_locale(self.names, locale)

    def hours(self, locale: str) -> str:
        return _in_locale(self.opening_hours, locale)


@dataclass(frozen=True)
class ShippingOption:
    method: ShippingMethod
    price: int


def shipping_for(method: ShippingMethod, country: str, goods_value: int) -> int:
    """The gross price of sending goods worth ``goods_value`` (after discount)
    to ``country`` with ``method``: its price, or 0 from its threshold."""
    if not method.active:
        raise ShippingMethodUnknown("this shipping method is not offered", method=method.id)
    if not method.serves(country):
        raise ShippingNotAvailable(
            "this shipping method does not deliver to that country",
            method=method.id,
            country=_country(country),
        )
    if method.free_from is not None and goods_value >= method.free_from:
        return 0
    return method.price


def shipping_options(
    methods: Sequence[ShippingMethod], country: str, goods_value: int
) -> list[ShippingOption]:
    """Every active method that delivers to ``country``, with its price for
    goods worth ``goods_value`` (after discount: ``Pricing.goods``), cheapest
    first."""
    options = [
        ShippingOption(method, shipping_for(method, country, goods_value))
        for method in methods
        if method.serves(country)
    ]
    return sorted(options, key=lambda option: (option.price, option.method.id))


@dataclass(frozen=True)
class Delivery:
    """The customer's choice: send the parcel with ``method`` to ``country``."""

    method: ShippingMethod
    country: str


@dataclass(frozen=True)
class Pickup:
    """The customer's choice: collect the order at ``location``."""

    location: PickupLocation


# --- discount codes -----------------------------------------------------------


class DiscountKind(StrEnum):
    PERCENTAGE = "percentage"  # off the eligible goods
    FIXED_AMOUNT = "fixed_amount"  # off the eligible goods, at most their value
    FREE_SHIPPING = "free_shipping"


def normalise_code(text: str) -> str:
    """Codes are case-insensitive: "summer10 " is SUMMER10."""
    return text.strip().upper()


def normalise_email(email: str) -> str:
    """The address a once-per-customer code is counted against.

    Lower-cased whole: RFC 5321 lets a local part be case-sensitive, but no
    major provider treats it so, and a customer typing "Erika@" once and
    "erika@" the next time is one customer. Dots and "+tags" are not folded:
    that is provider-specific (Gmail ignores dots, most providers do not), so
    folding would refuse legitimate, different customers of other providers.
    """
    return email.strip().lower()


@dataclass(frozen=True)
class DiscountCode:
    """A code the customer types at checkout.

    ``percent`` is a Decimal percent (Decimal("10") is 10 %), like the tax
    rates everywhere in the shop, and as the merchant writes it; at most two
    decimals, so it is as precise as basis points without a second convention.
    ``amount`` (fixed-amount codes) is in minor units, gross.
    ``valid_from`` is inclusive and ``valid_until`` exclusive, both timezone-
    aware (UTC); None leaves that side open. ``uses`` counts the orders that
    hold a use now; ``usage_limit`` None is unlimited. ``skus`` limits the code
    to those products (None: every product). ``minimum`` is the goods' value
    the whole basket must reach before discount (gross, shipping excluded).

    An inactive code is refused as unknown: the customer can do nothing with
    "switched off", and a merchant switches off codes that leaked, where
    confirming that a guessed code exists helps the guesser.
    """

    code: str
    kind: DiscountKind
    percent: Decimal | None = None
    amount: int | None = None
    minimum: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    usage_limit: int | None = None
    uses: int = 0
    once_per_customer: bool = False
    skus: frozenset[str] | None = None
    active: bool = True
    currency: str = "EUR"  # of ``amount`` and ``minimum``
    version: int = 0  # bumped by every change of the merchant's (not by uses)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", normalise_code(self.code))
        if not self.code:
            raise ValueError("a discount code needs a code")
        if self.kind is DiscountKind.PERCENTAGE:
            if self.percent is None or not Decimal(0) < self.percent <= Decimal(100):
                raise ValueError("a percentage code takes a percent above 0 and at most 100")
            if self.percent != self.percent.quantize(Decimal("0.01")):
                raise ValueError("a percentage code takes at most two decimals")
        if self.kind is DiscountKind.FIXED_AMOUNT and (self.amount is None or self.amount <= 0):
            raise ValueError("a fixed-amount code takes an amount above 0")
        if (self.percent is not None and self.kind is not DiscountKind.PERCENTAGE) or (
            self.amount is not None and self.kind is not DiscountKind.FIXED_AMOUNT
        ):
            raise ValueError("only a percentage code has a percent, only a fixed code an amount")
        for moment in (self.valid_from, self.valid_until):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("validity moments must be timezone-aware")
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise ValueError("a code must be valid from before it is valid until")
        if (
            self.minimum < 0
            or self.uses < 0
            or (self.usage_limit is not None and self.usage_limit < 0)
        ):
            raise ValueError("minimum, uses and usage limit are not negative")
        if self.skus is not None and not self.skus:
            raise ValueError("a code limited to products needs at least one SKU")

    def applies_to(self, sku: str) -> bool:
        return self.skus is None or sku in self.skus


@dataclass(frozen=True)
class BasketLine:
    sku: str
    quantity: int
    unit_price: int  # gross, minor units
    tax_rate: Decimal  # percent, e.g. Decimal("19")

    @property
    def gross(self) -> int:
        return self.unit_price * self.quantity


def check_code(
    code: DiscountCode,
    basket: Sequence[BasketLine],
    customer_email: str,
    now: datetime,
    used_by_customer: bool,
) -> None:
    """Refuse ``code`` for this basket and customer, or return.

    The caller has found the code (``DiscountCodeUnknown`` if not) and, for a
    once-per-customer code, looked up ``used_by_customer`` under
    ``normalise_email(customer_email)``. Refusals come in a fixed order: the
    code's own state first (active, dates, uses), then the customer, then the
    basket, so a customer never fixes the basket only to learn that the code
    had expired.

    This check does not redeem: the order that uses the code must claim the
    use in its own write (uses below the limit, the customer's use not yet
    recorded), or two checkouts could both pass here for the last use.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not code.active:
        raise DiscountCodeUnknown("this discount code does not exist", code=code.code)
    if code.valid_from is not None and now < code.valid_from:
        raise DiscountCodeNotYetValid(
            "this discount code is not valid yet",
            code=code.code,
            valid_from=code.valid_from.isoformat(),
        )
    if code.valid_until is not None and now >= code.valid_until:
        raise DiscountCodeExpired(
            "this discount code has expired",
            code=code.code,
            valid_until=code.valid_until.isoformat(),
        )
    if code.usage_limit is not None and code.uses >= code.usage_limit:
        raise DiscountCodeUsedUp("this discount code has been used up", code=code.code)
    if code.once_per_customer:
        if not normalise_email(customer_email):
            raise InvalidRequest("this discount code needs the customer's email", code=code.code)
        if used_by_customer:
            raise DiscountCodeAlreadyUsed("you have already used this code", code=code.code)
    if not any(code.applies_to(line.sku) for line in basket):
        raise DiscountCodeNotApplicable(
            "this discount code is not valid for these products", code=code.code
        )
    goods = sum(line.gross for line in basket)
    if goods < code.minimum:
        raise DiscountMinimumNotReached(
            "the order does not reach this code's minimum value",
            code=code.code,
            minimum=code.minimum,
            goods=goods,
        )


# --- pricing ------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price: int
    tax_rate: Decimal
    gross: int  # before discount
    discount: int  # this line's share of the discount
    total: int  # gross after discount: what the customer pays for the line
    net: int
    tax: int


@dataclass(frozen=True)
class RateTotal:
    """One line of the VAT breakdown: everything charged at one rate."""

    rate: Decimal
    goods: int  # the goods' gross after discount at this rate
    shipping: int  # the shipping's gross share at this rate
    shipping_tax: int
    gross: int  # goods + shipping
    net: int
    tax: int  # included_tax(gross, rate): computed once, here


@dataclass(frozen=True)
class Pricing:
    lines: tuple[PricedLine, ...]
    subtotal: int  # the goods before discount
    discount: int  # off the goods
    goods: int  # the goods after discount (what the free-shipping threshold looks at)
    shipping_price: int  # the chosen method's price for these goods (0 for a pickup)
    shipping_discount: int  # waived by a free-shipping code
    shipping: int  # charged: shipping_price - shipping_discount
    shipping_tax: int
    total: int
    tax: int
    rates: tuple[RateTotal, ...]  # by rate, lowest first
    code: str | None = None


def goods_discount(code: DiscountCode, lines: Sequence[BasketLine]) -> int:
    """What ``code`` takes off these goods: never more than the eligible
    goods' value. A percentage rounds half-to-even, like the tax."""
    eligible = sum(line.gross for line in lines if code.applies_to(line.sku))
    if code.kind is DiscountKind.PERCENTAGE:
        assert code.percent is not None
        exact = Decimal(eligible) * code.percent / Decimal(100)
        discount = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    elif code.kind is DiscountKind.FIXED_AMOUNT:
        assert code.amount is not None
        discount = code.amount
    else:
        discount = 0
    return min(discount, eligible)


def _shipping_price(shipping: Delivery | Pickup | None, goods: int) -> int:
    if shipping is None:
        return 0
    if isinstance(shipping, Pickup):
        if not shipping.location.active:
            raise PickupLocationUnknown(
                "this pickup location is not offered", location=shipping.location.id
            )
        return 0
    return shipping_for(shipping.method, shipping.country, goods)


def _split_shipping(
    shipping: int, rates: Sequence[Decimal], lines: Sequence[PricedLine]
) -> list[int]:
    """The shipping's gross share per rate (in the order of ``rates``).

    In proportion to the goods' value per rate after discount. When a code
    took the goods to zero: before discount, so a code does not change the
    tax treatment of what is shipped. When even that is zero (free goods
    only): all at the highest rate, which never charges too little tax.
    """
    after = [sum(ln.total for ln in lines if ln.tax_rate == rate) for rate in rates]
    if sum(after):
        return allocate(shipping, after)
    before = [sum(ln.gross for ln in lines if ln.tax_rate == rate) for rate in rates]
    if sum(before):
        return allocate(shipping, before)
    return [shipping if rate == max(rates) else 0 for rate in rates]


def _discounted(lines: Sequence[BasketLine], code: DiscountCode | None) -> list[PricedLine]:
    """The lines with the code's discount allocated to the eligible ones by
    value (tax not yet filled in)."""
    eligible = [code is not None and code.applies_to(line.sku) for line in lines]
    off = goods_discount(code, lines) if code is not None else 0
    shares = iter(allocate(off, [ln.gross for ln, ok in zip(lines, eligible, strict=True) if ok]))
    line_discounts = [next(shares) if ok else 0 for ok in eligible]
    return [
        PricedLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            gross=line.gross,
            discount=share,
            total=line.gross - share,
            net=line.gross - share,
            tax=0,
        )
        for line, share in zip(lines, line_discounts, strict=True)
    ]


def price_basket(
    lines: Sequence[BasketLine],
    shipping: Delivery | Pickup | None = None,
    discount: DiscountCode | None = None,
) -> Pricing:
    """Price a basket: discount, shipping and the VAT per rate, to the cent.

    ``discount`` must have passed ``check_code``; ``shipping`` None prices the
    goods alone (to offer shipping options for ``Pricing.goods``).
    """
    if not lines:
        raise InvalidRequest("an order needs at least one line")
    for line in lines:
        if line.quantity < 1 or line.unit_price < 0 or line.tax_rate < 0:
            raise ValueError("a basket line needs a quantity, a price and a rate, none negative")

    priced = _discounted(lines, discount)
    goods = sum(line.total for line in priced)

    shipping_price = _shipping_price(shipping, goods)
    free = discount is not None and discount.kind is DiscountKind.FREE_SHIPPING
    shipping_discount = shipping_price if free else 0
    charged = shipping_price - shipping_discount

    rates = sorted({line.tax_rate for line in priced})
    # Split from the highest rate down, so a tied cent lands on the higher rate.
    highest_first = rates[::-1]
    shipping_by_rate = dict(
        zip(highest_first, _split_shipping(charged, highest_first, priced), strict=True)
    )
    breakdown = []
    for rate in rates:
        members = [i for i, line in enumerate(priced) if line.tax_rate == rate]
        rate_goods = sum(priced[i].total for i in members)
        rate_shipping = shipping_by_rate[rate]
        gross = rate_goods + rate_shipping
        # Once per rate, from the rate's gross; the lines and the shipping
        # share then split it, so nothing is rounded twice.
        tax = included_tax(gross, rate)
        *line_taxes, shipping_tax = allocate(
            tax, [priced[i].total for i in members] + [rate_shipping]
        )
        for i, line_tax in zip(members, line_taxes, strict=True):
            priced[i] = replace(priced[i], net=priced[i].total - line_tax, tax=line_tax)
        breakdown.append(
            RateTotal(
                rate=rate,
                goods=rate_goods,
                shipping=rate_shipping,
                shipping_tax=shipping_tax,
                gross=gross,
                net=gross - tax,
                tax=tax,
            )
        )

    return Pricing(
        lines=tuple(priced),
        subtotal=sum(line.gross for line in priced),
        discount=sum(line.discount for line in priced),
        goods=goods,
        shipping_price=shipping_price,
        shipping_discount=shipping_discount,
        shipping=charged,
        shipping_tax=sum(rate.shipping_tax for rate in breakdown),
        total=goods + charged,
        tax=sum(rate.tax for rate in breakdown),
        rates=tuple(breakdown),
        code=discount.code if discount is not None else None,
    )
