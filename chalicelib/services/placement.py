"""Checkout: placing an order and the payment instructions it answers with.

The customer's page and cancel of an order are services/customer_orders.py."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from chalicelib.domain import ids, pricing
from chalicelib.domain import order as orders
from chalicelib.domain.errors import (
    CatalogChanged,
    ConcurrentUpdate,
    DiscountCodeUnknown,
    IdempotencyKeyReused,
    PickupLocationUnknown,
    ShippingAddressRequired,
    ShippingAndPickupChosen,
    ShippingMethodUnknown,
    TemporarilyUnavailable,
)
from chalicelib.domain.order import (
    Address,
    CartConversion,
    Customer,
    Order,
    OrderStatus,
    PaymentMethod,
    RequestedLine,
)
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.context import Context
from chalicelib.services.ports import (
    CheckoutRequest,
    CheckoutTerms,
    DuplicateRequest,
    IdempotencyRecord,
    OrderNumberTaken,
)


@dataclass(frozen=True)
class PlaceOrder:
    lines: tuple[RequestedLine, ...]
    customer: Customer
    shipping_address: Address | None  # None only for a pickup
    billing_address: Address
    payment_method: PaymentMethod
    locale: str
    converts_cart: CartConversion | None = None  # placed from this cart
    shipping_method: str | None = None  # a method's id (docs/checkout.md)
    discount_code: str | None = None  # as typed: case and spaces do not matter
    #: The terms version the customer accepted; None is refused (docs/legal.md).
    terms_version: str | None = None
    pickup_location: str | None = None  # a pickup location's id, instead of a method
    vat_id: str | None = None  # a business buyer's EU VAT ID, as typed
    buyer_reference: str | None = None  # for the invoice (BT-10): a Leitweg-ID

    def fingerprint(self) -> str:
        """Identifies the request's content, to tell a retry from a reuse."""
        content = asdict(self)
        # Fingerprints from before shipping methods, codes, terms and pickup stay valid.
        for name in (
            "shipping_method",
            "discount_code",
            "terms_version",
            "pickup_location",
            "vat_id",
            "buyer_reference",
        ):
            if content[name] is None:
                del content[name]
        if content.get("discount_code") is not None:
            content["discount_code"] = pricing.normalise_code(content["discount_code"])
        if self.converts_cart is None:
            del content["converts_cart"]  # fingerprints from before carts stay valid
        else:
            # The cart, not its version: a retry after the cart was converted
            # (its version moved on) is the same request.
            content["converts_cart"] = self.converts_cart.cart_id
        return ids.sha256_hex(json.dumps(content, sort_keys=True, default=str))


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    token: str
    created: bool  # False when an earlier identical request placed it
    # How to pay (below); None once the order is past paying.
    payment: PaymentInstructions | None = None


def _with_payment(placed: PlacedOrder, ctx: Context) -> PlacedOrder:
    """Attach the payment instructions. A provider failure here leaves the
    order placed: the client retries with the same Idempotency-Key and gets
    the same order with its (same) payment session."""
    if placed.order.status is not OrderStatus.PENDING_PAYMENT:
        return placed
    return replace(placed, payment=payment_instructions(placed.order, ctx))


def place_order(command: PlaceOrder, idempotency_key: str, ctx: Context) -> PlacedOrder:
    """Place an order and reserve its stock in one transaction.

    Idempotent per ``idempotency_key``: the same key with the same request
    returns the order it placed the first time; with another request it is
    refused. A stale catalog cache, an order-number collision or a
    transaction conflict (or throttling) are retried here; running out of
    stock is not. Still failing after that: TemporarilyUnavailable, with
    nothing placed, so the client retries with the same key.

    The customer must have accepted the shop's current terms
    (TermsNotAccepted, TermsVersionOutdated): checked before anything is read.
    """
    terms_version = check_terms(command, ctx)
    check_delivery_choice(command)
    key_hash = ids.sha256_hex(idempotency_key)
    fingerprint = command.fingerprint()
    skus = [line.sku for line in command.lines]
    code = pricing.normalise_code(command.discount_code) if command.discount_code else None
    fresh = False

    def attempt() -> PlacedOrder:
        nonlocal fresh
        now = ctx.clock()
        order_id, salt = ids.new_order_id(), ids.new_salt()
        token = ids.order_token(idempotency_key, order_id, salt)
        terms = ctx.catalog.checkout_terms(
            skus,
            shipping_method=command.shipping_method,
            discount_code=code,
            pickup_location=command.pickup_location,
            fresh=fresh,
        )
        delivery, discount = _checked_terms(command, terms, now)
        placement = orders.place(
            order_id=order_id,
            number=ids.new_order_number(),
            token_hash=ids.sha256_hex(token),
            requested=command.lines,
            products=terms.products,
            customer=command.customer,
            shipping_address=command.shipping_address,
            billing_address=command.billing_address,
            payment_method=command.payment_method,
            locale=command.locale,
            now=now,
            payment_window=timedelta(
                minutes=ctx.settings.payment_window_minutes(command.payment_method)
            ),
            converts_cart=command.converts_cart,
            shipping=delivery,
            discount=discount,
            terms_version=terms_version,
            vat_id=command.vat_id,
            buyer_reference=command.buyer_reference,
        )
        record = IdempotencyRecord(
            key_hash=key_hash,
            fingerprint=fingerprint,
            order_id=order_id,
            token_salt=salt,
            expires_at=int(now.timestamp()) + ctx.settings.idempotency_ttl_hours * 3600,
        )
        try:
            ctx.orders.place(placement, record)
        except DuplicateRequest as duplicate:
            return _replay(duplicate.previous, fingerprint, idempotency_key, ctx)
        except CatalogChanged as exc:
            logger.info("catalog changed during checkout", skus=exc.details.get("skus"))
            ctx.catalog.forget(skus)
            fresh = True
            raise
        logger.info(
            "order placed",
            order_id=order_id,
            lines=len(placement.order.lines),
            total=placement.order.totals.total,
            currency=placement.order.currency,
        )
        metrics.add_metric(name="OrdersPlaced", unit="Count", value=1)
        return PlacedOrder(order=placement.order, token=token, created=True)

    try:
        placed = retry_on_conflict(
            attempt,
            message="the order could not be placed",
            retry_on=(ConcurrentUpdate, CatalogChanged, OrderNumberTaken),
        )
    except ConcurrentUpdate:
        raise TemporarilyUnavailable("the order could not be placed right now; try again") from None
    return _with_payment(placed, ctx)


def check_terms(command: PlaceOrder, ctx: Context) -> str:
    """The accepted terms version, refused unless it is the shop's current one."""
    return orders.check_terms(command.terms_version, ctx.settings.terms_version)


def check_delivery_choice(command: PlaceOrder) -> None:
    """Sent or collected, not both; what is sent needs an address. Checked
    before anything is read."""
    if command.shipping_method is not None and command.pickup_location is not None:
        raise ShippingAndPickupChosen(
            "choose a shipping method or a pickup location, not both",
            shipping_method=command.shipping_method,
            pickup_location=command.pickup_location,
        )
    if command.pickup_location is None and command.shipping_address is None:
        raise ShippingAddressRequired(
            "an order that is sent needs a shipping address; or choose a pickup location"
        )


def _checked_terms(
    command: PlaceOrder, terms: CheckoutTerms, now: datetime
) -> tuple[pricing.Delivery | pricing.Pickup | None, pricing.DiscountCode | None]:
    """The chosen shipping method or pickup location and the discount code,
    refused with their own errors. Whether a code has uses left (in total,
    for this customer) is decided by the placement transaction, not by what
    was read here."""
    delivery: pricing.Delivery | pricing.Pickup | None = None
    if command.pickup_location is not None:
        location = terms.pickup_location
        if location is None or not location.active:
            raise PickupLocationUnknown(
                "this pickup location is not offered", location=command.pickup_location
            )
        delivery = pricing.Pickup(location)
    elif command.shipping_method is not None:
        if terms.shipping_method is None:
            raise ShippingMethodUnknown(
                "this shipping method is not offered", method=command.shipping_method
            )
        assert command.shipping_address is not None  # check_delivery_choice
        delivery = pricing.Delivery(terms.shipping_method, command.shipping_address.country)
    if command.discount_code is None:
        return delivery, None
    code = terms.discount_code
    if code is None:
        raise DiscountCodeUnknown(
            "this discount code does not exist",
            code=pricing.normalise_code(command.discount_code),
        )
    orders.check_request(command.lines, terms.products)
    pricing.check_code(
        replace(code, uses=0),
        orders.basket(command.lines, terms.products),
        command.customer.email,
        now,
        used_by_customer=False,
    )
    return delivery, code


def _replay(
    previous: IdempotencyRecord, fingerprint: str, idempotency_key: str, ctx: Context
) -> PlacedOrder:
    if previous.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different order request"
        )
    record = ctx.orders.get(previous.order_id)
    return PlacedOrder(
        order=record.order,
        token=ids.order_token(idempotency_key, record.order.id, previous.token_salt),
        created=False,
    )


# --- how to pay --------------------------------------------------------------------------


#: Stripe refuses a Checkout Session that expires sooner than this, or later
#: than 24 hours after creation.
_MIN_SESSION = timedelta(minutes=30, seconds=60)
_MAX_SESSION = timedelta(hours=23, minutes=59)


@dataclass(frozen=True)
class BankTransfer:
    account_holder: str
    iban: str
    bic: str
    reference: str  # the order number: what the customer writes on the transfer
    amount: int
    currency: str
    due_at: datetime


@dataclass(frozen=True)
class PaymentInstructions:
    method: PaymentMethod
    redirect_url: str | None = None  # card, paypal: the provider's payment page
    session_id: str | None = None
    bank_transfer: BankTransfer | None = None


def payment_instructions(order: Order, ctx: Context) -> PaymentInstructions:
    """What the storefront needs to take the payment. For card and PayPal a
    provider Checkout Session (the same one when asked again for the order)."""
    settings = ctx.settings
    if order.payment_method is PaymentMethod.BANK_TRANSFER:
        return PaymentInstructions(
            method=order.payment_method,
            bank_transfer=BankTransfer(
                account_holder=settings.bank_account_holder,
                iban=settings.bank_iban,
                bic=settings.bank_bic,
                reference=order.number,
                amount=order.totals.total,
                currency=order.currency,
                due_at=order.payment_due_at,
            ),
        )
    window = order.payment_due_at - ctx.clock()
    # The session should close with the order's payment window; where Stripe
    # does not allow that, its default (24 h) applies and a payment after the
    # window is refunded as a late payment.
    expires_at = order.payment_due_at if _MIN_SESSION <= window <= _MAX_SESSION else None
    checkout = ctx.payments.providers["stripe"].start_checkout(
        CheckoutRequest(
            order=order,
            success_url=settings.checkout_success_url.replace("{order_id}", order.id),
            cancel_url=settings.checkout_cancel_url.replace("{order_id}", order.id),
            expires_at=expires_at,
        )
    )
    return PaymentInstructions(
        method=order.payment_method,
        redirect_url=checkout.redirect_url,
        session_id=checkout.session_id,
    )
