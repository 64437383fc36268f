"""Orders, their lifecycle and the changes that move them on.

Every state change is expressed as an ``OrderChange``: the order's new state,
the status and version it must still have when written (so two racing writers
can never both win), the history entries it appends and the stock it moves.
The store writes an ``OrderChange`` in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain import ids
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import (
    IllegalTransition,
    InvalidRequest,
    MixedCurrencies,
    TermsNotAccepted,
    TermsVersionOutdated,
    UnknownProducts,
)
from chalicelib.domain.events import EventData, OrderCancelledData, OrderPlacedData
from chalicelib.domain.pricing import (
    BasketLine,
    Delivery,
    DiscountCode,
    Pickup,
    Pricing,
    normalise_email,
    price_basket,
)
from chalicelib.domain.vat_id import checked_vat_id

if TYPE_CHECKING:
    from chalicelib.domain.shipment import Claim, Shipment
    from chalicelib.domain.withdrawal import Withdrawal

#: Lines per order. A placement transaction writes one stock item per line
#: plus at most eight items (order, order number, history entry, idempotency
#: record, cart, shipping check, discount code use and its per-customer
#: claim), and DynamoDB allows 100 items per transaction; 50 keeps a wide
#: margin and keeps the order item small.
MAX_ORDER_LINES = 50
MAX_LINE_QUANTITY = 999


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    ON_HOLD = "on_hold"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    READY_FOR_PICKUP = "ready_for_pickup"  # click & collect
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class FulfilmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"


class PaymentMethod(StrEnum):
    CARD = "card"
    PAYPAL = "paypal"
    BANK_TRANSFER = "bank_transfer"


class Visibility(StrEnum):
    CUSTOMER = "customer"  # shown to the customer on their order page
    INTERNAL = "internal"  # merchant only


_S = OrderStatus
#: The lifecycle (docs/architecture.md). Anything not listed is illegal; nothing moves back.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.PENDING_PAYMENT: frozenset({_S.PAID, _S.EXPIRED, _S.CANCELLED, _S.ON_HOLD}),
    _S.ON_HOLD: frozenset({_S.PAID, _S.CANCELLED}),
    _S.PAID: frozenset({_S.CANCELLED, _S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.READY_FOR_PICKUP}),
    _S.PARTIALLY_SHIPPED: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED}),
    _S.SHIPPED: frozenset({_S.DELIVERED}),
    _S.DELIVERED: frozenset(),
    # Click & collect: a paid pickup order waits at its location, then is
    # handed over (or cancelled while it was never collected).
    _S.READY_FOR_PICKUP: frozenset({_S.PICKED_UP, _S.CANCELLED}),
    _S.PICKED_UP: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.EXPIRED: frozenset(),
}
TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def can_move(source: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[source]


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class Customer:
    email: str
    name: str


@dataclass(frozen=True)
class OrderLine:
    """A snapshot of what was bought, at the catalog's price at placement."""

    sku: str
    name: str
    quantity: int
    unit_price: int
    tax_rate: str  # decimal percent as text, e.g. "19" or "7.5"
    line_total: int  # quantity x unit price, before any discount
    tax_amount: int  # the tax in what is paid for the line (after its discount)
    catalog_version: int
    shipped_quantity: int = 0
    returned_quantity: int = 0  # of the shipped quantity (fulfilment: returns)
    discount: int = 0  # this line's share of the discount code's amount
    # Withdrawn before they were shipped: never shipped, their stock released.
    withdrawn_unshipped: int = 0
    #: The product's names per locale at placement (``name`` is the one in
    #: the order's locale); empty for orders placed before names per locale.
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def unshipped_quantity(self) -> int:
        """Still to ship (and reserved for it)."""
        return self.quantity - self.shipped_quantity - self.withdrawn_unshipped

    @property
    def paid(self) -> int:
        """What the customer paid for the whole line: its total after its
        share of the discount. Returns and withdrawals credit from this,
        never from the list price."""
        return self.line_total - self.discount


@dataclass(frozen=True)
class Totals:
    currency: str
    subtotal: int  # sum of line totals, tax included, before discount
    shipping: int  # charged (after a free-shipping code)
    tax: int  # tax contained in the total (the sum of the per-rate taxes)
    total: int  # subtotal - discount + shipping
    discount: int = 0  # off the goods


@dataclass(frozen=True)
class ShippingLine:
    """The shipping method chosen at checkout, as it was priced then."""

    method_id: str
    name: str  # in the order's locale
    carrier: str
    country: str
    price: int  # the method's price for this basket (0 from its threshold)
    charged: int  # what the customer pays: 0 with a free-shipping code
    delivery_time: str | None = None


@dataclass(frozen=True)
class PickupLine:
    """The pickup location chosen at checkout (click & collect), as it was
    then, in the order's locale: what the customer's emails show."""

    location_id: str
    name: str
    line1: str
    postal_code: str
    city: str
    country: str
    opening_hours: str
    line2: str | None = None


@dataclass(frozen=True)
class AppliedDiscount:
    """The discount code the order used. ``customer_key`` (the normalised
    email's hash) is set for a once-per-customer code: the claim to give
    back when the order is cancelled or expires unpaid."""

    code: str
    kind: str  # percentage, fixed_amount, free_shipping
    goods: int  # taken off the goods
    shipping: int  # shipping waived
    customer_key: str | None = None


@dataclass(frozen=True)
class TaxRateLine:
    """One line of the VAT breakdown: what the order charges at one rate."""

    rate: str  # decimal percent as text, e.g. "19"
    goods: int  # goods' gross after discount
    shipping: int  # the shipping's gross share
    gross: int
    net: int
    tax: int


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an order's history; each becomes one published event.

    Producers make entries with ``HistoryEntry.of``, from the event's model;
    the store reads them back as they were written."""

    at: datetime
    event: str  # the event's detail-type, e.g. "OrderPlaced"
    actor: str  # "customer", "merchant", "system", "provider:stripe", ...
    message: str
    visibility: Visibility = Visibility.CUSTOMER
    #: What changed, as plain values (``EventData.as_data``): what the store
    #: keeps and the outbox publishes.
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        data: EventData,
        *,
        at: datetime,
        actor: str,
        message: str,
        visibility: Visibility = Visibility.CUSTOMER,
    ) -> HistoryEntry:
        """The entry of the event ``data`` describes: its detail-type is the
        model's, its data the model's fields, checked as it is built."""
        return cls(
            at=at,
            event=data.event,
            actor=actor,
            message=message,
            visibility=visibility,
            data=data.as_data(),
        )


@dataclass(frozen=True)
class StockMove:
    """Deltas to one SKU's counters. The store refuses any move that would
    take a counter below zero; ``catalog_version`` (when set) must still match."""

    sku: str
    available: int = 0
    reserved: int = 0
    shipped: int = 0
    restocked: int = 0
    catalog_version: int | None = None


@dataclass(frozen=True)
class Payment:
    """Money received for an order through one provider payment (see
    domain/payments.py). ``refunded`` is the cumulative amount returned."""

    provider: str  # "stripe", "hmac", "bank_transfer"
    reference: str  # the provider's payment id (Stripe: the PaymentIntent)
    amount: int
    currency: str
    received_at: datetime
    refunded: int = 0
    # True when the money must go back in full: it came for an expired or
    # cancelled order, or twice for the same order.
    refund_due: bool = False

    @property
    def outstanding(self) -> int:
        return self.amount - self.refunded


@dataclass(frozen=True)
class Order:
    id: str
    number: str
    status: OrderStatus
    payment_status: PaymentStatus
    fulfilment_status: FulfilmentStatus
    payment_method: PaymentMethod
    locale: str
    lines: tuple[OrderLine, ...]
    totals: Totals
    customer: Customer
    shipping_address: Address | None  # None: collected at a pickup location
    billing_address: Address
    created_at: datetime
    updated_at: datetime
    payment_due_at: datetime
    token_hash: str
    version: int = 1
    cancel_reason: str | None = None
    #: When the provider last reported a payment as started or pending; the
    #: expiry sweep gives such an order a grace period (domain/deadlines.py).
    payment_attempt_at: datetime | None = None
    #: When the bank-transfer payment reminder went out (at most once).
    payment_reminder_sent_at: datetime | None = None
    # Returns (fulfilment): the value of the goods taken back, and the fees
    # (return shipping, restocking) the merchant withheld, in minor units.
    return_credit_total: int = 0
    return_surcharge_total: int = 0
    # Payments (docs/payments.md): money received, oldest first, and the provider
    # events already applied (bounded), so a redelivered event is a no-op.
    payments: tuple[Payment, ...] = ()
    applied_payment_events: tuple[str, ...] = ()
    # Withdrawals (Widerruf) received, oldest first (domain/order_withdrawal.py).
    withdrawals: tuple[Withdrawal, ...] = ()
    # Checkout (docs/checkout.md): the shipping method, the discount code and
    # the VAT per rate. Orders placed before shipping methods have none.
    shipping: ShippingLine | None = None
    discount: AppliedDiscount | None = None
    tax_rates: tuple[TaxRateLine, ...] = ()
    #: Click & collect: the location instead of a shipping method (then
    #: ``shipping`` and ``shipping_address`` are None).
    pickup: PickupLine | None = None
    #: Set when the order is ready for pickup: the customer shows it at the
    #: counter. Kept on the order item only: never in an event, a log or an answer.
    pickup_code: str | None = None
    #: When the customer collected it: the withdrawal period starts here.
    picked_up_at: datetime | None = None
    #: A data subject asked for erasure or restriction (docs/gdpr.md): the
    #: order is kept for tax and commercial law only, never used for marketing.
    processing_restricted_at: datetime | None = None
    #: The terms (AGB) the customer accepted at checkout, and when (docs/legal.md).
    #: Orders placed before checkout recorded them have none.
    terms_version: str | None = None
    terms_accepted_at: datetime | None = None
    #: A business buyer's EU VAT ID, checked and compact (domain/vat_id.py),
    #: and the reference it asked the invoice to carry (a public buyer's
    #: Leitweg-ID): both go on the invoice (docs/invoices.md).
    vat_id: str | None = None
    buyer_reference: str | None = None

    @property
    def currency(self) -> str:
        return self.totals.currency

    @property
    def marketing_allowed(self) -> bool:
        """Whether any marketing may use this order (its address, its lines)."""
        return self.processing_restricted_at is None

    def restrict_processing(self, *, at: datetime) -> OrderChange | None:
        """The change that marks the order restricted; None when it is already.
        No history entry: entries are published as events, and the request's
        own record (domain/data_requests.py) is the trail."""
        if self.processing_restricted_at is not None:
            return None
        return self.record(at=at, history=(), processing_restricted_at=at)

    def change(
        self,
        target: OrderStatus,
        *,
        at: datetime,
        history: Sequence[HistoryEntry],
        stock_moves: Sequence[StockMove] = (),
        **fields: Any,
    ) -> OrderChange:
        """The change that moves this order to ``target`` (the same status only
        where the lifecycle lists it), conditional on its current state."""
        if not can_move(self.status, target):
            raise IllegalTransition(
                f"an order that is {self.status} cannot become {target}",
                status=self.status.value,
                requested=target.value,
            )
        new = replace(self, status=target, updated_at=at, version=self.version + 1, **fields)
        return OrderChange(
            order=new,
            expected_status=self.status,
            expected_version=self.version,
            history=tuple(history),
            stock_moves=tuple(stock_moves),
        )

    def record(
        self, *, at: datetime, history: Sequence[HistoryEntry], **fields: Any
    ) -> OrderChange:
        """A change that keeps the status (a note, a failed payment attempt),
        still conditional on the current state so history stays in order."""
        new = replace(self, updated_at=at, version=self.version + 1, **fields)
        return OrderChange(
            order=new,
            expected_status=self.status,
            expected_version=self.version,
            history=tuple(history),
        )

    def cancel(self, *, actor: str, reason: str, at: datetime) -> OrderChange:
        """Cancel before the first shipment, releasing the reserved stock."""
        entry = HistoryEntry.of(
            OrderCancelledData(reason=reason, previous_status=self.status.value),
            at=at,
            actor=actor,
            message=f"Order cancelled: {reason}",
        )
        change = self.change(
            OrderStatus.CANCELLED,
            at=at,
            history=[entry],
            stock_moves=self.release_reservations(),
            cancel_reason=reason,
        )
        return replace(change, discount_release=self.discount_to_give_back())

    def discount_to_give_back(self) -> DiscountUse | None:
        """The code use a cancel or an expiry gives back: only while no money
        was ever received. A paid order keeps its use, even when it is later
        cancelled or refunded (docs/checkout.md, "Uses")."""
        if self.discount is None or self.payments:
            return None
        return DiscountUse(
            code=self.discount.code,
            version=None,
            customer_key=self.discount.customer_key,
            order_id=self.id,
        )

    def release_reservations(self) -> list[StockMove]:
        return [
            StockMove(
                sku=line.sku, available=line.unshipped_quantity, reserved=-line.unshipped_quantity
            )
            for line in self.lines
            if line.unshipped_quantity > 0
        ]


@dataclass(frozen=True)
class OrderChange:
    order: Order
    expected_status: OrderStatus
    expected_version: int
    history: tuple[HistoryEntry, ...]
    stock_moves: tuple[StockMove, ...] = ()
    # Fulfilment: shipment items written (in the order's partition) and
    # one-time claims (tracking numbers, carrier event ids, refund keys).
    shipments: tuple[Shipment, ...] = ()
    claims: tuple[Claim, ...] = ()
    # Checkout: a cancelled or expired unpaid order gives its code's use back.
    discount_release: DiscountUse | None = None


@dataclass(frozen=True)
class DiscountUse:
    """One use of a discount code. Placing claims it in the placement
    transaction (only while the code, at ``version``, has uses left, and for
    a once-per-customer code only if ``customer_key`` has no claim yet); a
    cancel or expiry of an unpaid order gives it back (``version`` None)."""

    code: str
    version: int | None
    customer_key: str | None
    order_id: str


@dataclass(frozen=True)
class ShippingCheck:
    """What the placement transaction re-checks of the shipping terms: the
    method priced (or the pickup location, ``location_id``) is still at
    ``version``; or, with neither chosen, that the shop still offers no
    shipping method."""

    method_id: str | None = None
    version: int | None = None
    location_id: str | None = None


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Placement:
    """A new order with everything its placement transaction writes."""

    order: Order
    history: HistoryEntry
    stock_moves: tuple[StockMove, ...]
    converts_cart: CartConversion | None = None
    shipping_check: ShippingCheck | None = None
    discount_use: DiscountUse | None = None


@dataclass(frozen=True)
class CartConversion:
    """Placing an order from a cart marks the cart converted in the placement
    transaction, only if the cart is still open at the version priced."""

    cart_id: str
    expected_version: int


class SkuAndQuantity(Protocol):
    """A line someone asked for: an order's or a cart's."""

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


def check_line_count_and_skus(
    lines: Sequence[SkuAndQuantity], *, max_lines: int, holder: str
) -> None:
    """At most ``max_lines`` lines, each SKU on one line only."""
    if len(lines) > max_lines:
        raise InvalidRequest(
            f"{holder} may have at most {max_lines} lines", max_lines=max_lines, lines=len(lines)
        )
    skus = [line.sku for line in lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise InvalidRequest("each SKU may appear on one line only", skus=duplicates)


def check_quantities(lines: Sequence[SkuAndQuantity]) -> None:
    for line in lines:
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            raise InvalidRequest("quantity out of range", sku=line.sku, max=MAX_LINE_QUANTITY)


def price_lines(
    requested: Sequence[RequestedLine],
    products: Mapping[str, Product],
    shipping: Delivery | Pickup | None = None,
    discount: DiscountCode | None = None,
) -> tuple[tuple[OrderLine, ...], Totals]:
    """Price the requested lines from the catalog (never from the request)."""
    lines, totals, _ = price_order(requested, products, shipping, discount)
    return lines, totals


#: A terms version: an identifier such as a date ("2026-06-19") or "v3.1".
TERMS_VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


def check_terms(accepted: str | None, current: str) -> str:
    """The terms version the checkout accepted, which must be the shop's
    current one: an order is a contract on the terms the customer saw."""
    if accepted is None:
        raise TermsNotAccepted(
            "accept the shop's terms: send terms_accepted with their version",
            current_version=current,
        )
    if accepted != current:
        raise TermsVersionOutdated(
            "these terms are no longer current; show the customer the current ones",
            accepted_version=accepted,
            current_version=current,
        )
    return accepted


def check_request(requested: Sequence[RequestedLine], products: Mapping[str, Product]) -> str:
    """Refuse lines that cannot be ordered; the order's one currency."""
    if not requested:
        raise InvalidRequest("an order needs at least one line")
    check_line_count_and_skus(requested, max_lines=MAX_ORDER_LINES, holder="an order")
    skus = [line.sku for line in requested]
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise UnknownProducts("these products do not exist", skus=unknown)
    currencies = sorted({products[sku].currency for sku in skus})
    if len(currencies) > 1:
        raise MixedCurrencies(
            "all products of an order must share one currency", currencies=currencies
        )
    check_quantities(requested)
    return currencies[0]


def basket(requested: Sequence[RequestedLine], products: Mapping[str, Product]) -> list[BasketLine]:
    return [
        BasketLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=products[line.sku].price,
            tax_rate=products[line.sku].tax_rate,
        )
        for line in requested
    ]


def price_order(
    requested: Sequence[RequestedLine],
    products: Mapping[str, Product],
    shipping: Delivery | Pickup | None = None,
    discount: DiscountCode | None = None,
    locale: str = "de",
) -> tuple[tuple[OrderLine, ...], Totals, Pricing]:
    """The order's lines and totals, priced by domain/pricing.py: the
    discount allocated to the lines, the shipping and the VAT per rate; each
    line named in ``locale`` (the order's)."""
    currency = check_request(requested, products)
    priced_in = {
        "shipping method": shipping.method.currency if isinstance(shipping, Delivery) else currency,
        "discount code": discount.currency if discount is not None else currency,
    }
    for what, other in priced_in.items():
        if other != currency:
            raise MixedCurrencies(
                f"this {what} is priced in another currency than the products",
                currencies=sorted({currency, other}),
            )
    pricing = price_basket(basket(requested, products), shipping, discount)
    lines = tuple(
        OrderLine(
            sku=line.sku,
            name=products[line.sku].name_in(locale),
            names=dict(products[line.sku].names),
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=str(line.tax_rate),
            line_total=line.gross,
            tax_amount=line.tax,
            catalog_version=products[line.sku].catalog_version,
            discount=line.discount,
        )
        for line in pricing.lines
    )
    totals = Totals(
        currency=currency,
        subtotal=pricing.subtotal,
        shipping=pricing.shipping,
        tax=pricing.tax,
        total=pricing.total,
        discount=pricing.discount,
    )
    return lines, totals, pricing


def place(
    *,
    order_id: str,
    number: str,
    token_hash: str,
    requested: Sequence[RequestedLine],
    products: Mapping[str, Product],
    customer: Customer,
    shipping_address: Address | None,
    billing_address: Address,
    payment_method: PaymentMethod,
    locale: str,
    now: datetime,
    payment_window: timedelta,
    converts_cart: CartConversion | None = None,
    shipping: Delivery | Pickup | None = None,
    discount: DiscountCode | None = None,
    terms_version: str | None = None,
    vat_id: str | None = None,
    buyer_reference: str | None = None,
) -> Placement:
    """A new order awaiting payment, with the reservations for every line,
    the shipping terms its transaction re-checks and the code use it claims.

    ``shipping`` None: the shop offers no shipping method (the transaction
    checks that), and the order ships free as before. A ``Pickup`` costs
    nothing and keeps no shipping address. ``discount`` must have passed
    ``pricing.check_code``; ``terms_version`` ``check_terms``, and the
    order records it as accepted ``now``. ``vat_id`` must be a valid EU VAT
    ID (``VatIdInvalid`` otherwise); the order keeps its compact form."""
    vat_id = checked_vat_id(vat_id) if vat_id is not None else None
    lines, totals, pricing = price_order(requested, products, shipping, discount, locale)
    shipping_line = pickup_line = None
    if isinstance(shipping, Pickup):
        location = shipping.location
        pickup_line = PickupLine(
            location_id=location.id,
            name=location.name(locale),
            line1=location.line1,
            line2=location.line2,
            postal_code=location.postal_code,
            city=location.city,
            country=location.country,
            opening_hours=location.hours(locale),
        )
        shipping_address = None
    elif shipping is not None:
        method = shipping.method
        shipping_line = ShippingLine(
            method_id=method.id,
            name=method.name(locale),
            carrier=method.carrier,
            country=shipping.country.strip().upper(),
            price=pricing.shipping_price,
            charged=pricing.shipping,
            delivery_time=method.delivery_time(locale),
        )
    applied = use = None
    if discount is not None:
        customer_key = (
            ids.sha256_hex(normalise_email(customer.email)) if discount.once_per_customer else None
        )
        applied = AppliedDiscount(
            code=discount.code,
            kind=discount.kind.value,
            goods=pricing.discount,
            shipping=pricing.shipping_discount,
            customer_key=customer_key,
        )
        use = DiscountUse(
            code=discount.code,
            version=discount.version,
            customer_key=customer_key,
            order_id=order_id,
        )
    order = Order(
        id=order_id,
        number=number,
        status=OrderStatus.PENDING_PAYMENT,
        payment_status=PaymentStatus.UNPAID,
        fulfilment_status=FulfilmentStatus.UNFULFILLED,
        payment_method=payment_method,
        locale=locale,
        lines=lines,
        totals=totals,
        customer=customer,
        shipping_address=shipping_address,
        billing_address=billing_address,
        created_at=now,
        pickup=pickup_line,
        updated_at=now,
        payment_due_at=now + payment_window,
        token_hash=token_hash,
        shipping=shipping_line,
        discount=applied,
        tax_rates=tuple(
            TaxRateLine(
                rate=str(rate.rate),
                goods=rate.goods,
                shipping=rate.shipping,
                gross=rate.gross,
                net=rate.net,
                tax=rate.tax,
            )
            for rate in pricing.rates
        ),
        terms_version=terms_version,
        terms_accepted_at=now if terms_version is not None else None,
        vat_id=vat_id,
        buyer_reference=buyer_reference,
    )
    terms: dict[str, Any] = {}
    if terms_version is not None:
        terms = {"terms_version": terms_version, "terms_accepted_at": now}
    entry = HistoryEntry.of(
        OrderPlacedData(total=totals.total, currency=totals.currency, **terms),
        at=now,
        actor="customer",
        message=f"Order {number} placed",
    )
    moves = tuple(
        StockMove(
            sku=line.sku,
            available=-line.quantity,
            reserved=line.quantity,
            catalog_version=line.catalog_version,
        )
        for line in lines
    )
    if isinstance(shipping, Pickup):
        check = ShippingCheck(location_id=shipping.location.id, version=shipping.location.version)
    elif shipping is not None:
        check = ShippingCheck(method_id=shipping.method.id, version=shipping.method.version)
    else:
        check = ShippingCheck()
    return Placement(
        order=order,
        history=entry,
        stock_moves=moves,
        converts_cart=converts_cart,
        shipping_check=check,
        discount_use=use,
    )
