"""Carts: what a shopper intends to buy, before there is an order.

A cart is authorised by its own secret token (stored hashed, like an order's).
It may be nudged once by email when it is abandoned, but only while it has
lines, an address, marketing consent, no order and no earlier nudge; the
moment at which a nudge falls due is computed here on every change, and the
store keeps the cart in the sparse NUDGE_DUE index exactly while that moment
is set. Pure Python: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Any

from chalicelib.domain import events
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import CartConverted, EmptyCart, InvalidRequest
from chalicelib.domain.order import (
    MAX_ORDER_LINES,
    RequestedLine,
    check_line_count_and_skus,
    check_quantities,
)

#: A cart becomes an order, so it is bounded like one.
MAX_CART_LINES = MAX_ORDER_LINES


class CartStatus(StrEnum):
    OPEN = "open"
    CONVERTED = "converted"  # an order was placed from it


@dataclass(frozen=True)
class MarketingConsent:
    """The shopper's answer to "may we email you about this cart?", with when
    and where it was given: the proof a nudge needs."""

    granted: bool
    at: datetime
    source: str  # e.g. "cart_page", "checkout_checkbox"


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CartContent:
    """What the shopper sends: the full new state of the editable fields."""

    lines: tuple[CartLine, ...] = ()
    email: str | None = None
    locale: str = "en"
    consent_granted: bool | None = None  # None: no answer given
    consent_source: str | None = None


@dataclass(frozen=True)
class Cart:
    id: str
    token_hash: str
    status: CartStatus
    lines: tuple[CartLine, ...]
    email: str | None
    locale: str
    consent: MarketingConsent | None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    order_id: str | None = None
    #: When the abandoned-cart nudge falls due; None when it never should.
    nudge_due_at: datetime | None = None
    nudged_at: datetime | None = None
    #: Hash of the token in the nudge's "back to your cart" link.
    recovery_token_hash: str | None = None
    #: The address was on the suppression list when the nudge fell due.
    nudge_suppressed: bool = False

    @property
    def nudgeable(self) -> bool:
        """Whether this cart may ever be nudged, as it stands now."""
        return (
            self.status is CartStatus.OPEN
            and bool(self.lines)
            and bool(self.email)
            and self.consent is not None
            and self.consent.granted
            and self.nudged_at is None
            and not self.nudge_suppressed
        )

    def is_nudge_due(self, now: datetime) -> bool:
        return self.nudgeable and self.nudge_due_at is not None and self.nudge_due_at <= now

    def requested_lines(self) -> tuple[RequestedLine, ...]:
        if not self.lines:
            raise EmptyCart("the cart has no lines", cart_id=self.id)
        return tuple(RequestedLine(sku=line.sku, quantity=line.quantity) for line in self.lines)

    def edit(self, content: CartContent, *, at: datetime, nudge_delay: timedelta) -> Cart:
        """The cart with the shopper's new content. Every edit restarts the
        abandonment clock; consent keeps its original timestamp while the
        answer stays the same, and is dropped when the address changes
        without a fresh answer (consent belongs to an address)."""
        if self.status is not CartStatus.OPEN:
            raise CartConverted(
                "this cart became an order and can no longer change",
                cart_id=self.id,
                order_id=self.order_id,
            )
        _check_lines(content.lines)
        consent = _consent(self, content, at)
        edited = replace(
            self,
            lines=content.lines,
            email=content.email,
            locale=content.locale,
            consent=consent,
            updated_at=at,
            version=self.version + 1,
        )
        return replace(edited, nudge_due_at=(at + nudge_delay) if edited.nudgeable else None)

    def nudge(self, *, at: datetime, recovery_token_hash: str) -> Cart:
        """The cart once its one nudge is sent: out of the nudge index for good."""
        return replace(
            self,
            nudged_at=at,
            nudge_due_at=None,
            recovery_token_hash=recovery_token_hash,
            version=self.version + 1,
        )

    def suppress_nudge(self) -> Cart:
        """The address opted out: never nudge this cart (leaves the index)."""
        return replace(self, nudge_suppressed=True, nudge_due_at=None, version=self.version + 1)


def email_hash(email: str) -> str:
    """How the suppression list names an address: never the address itself."""
    return sha256(email.strip().lower().encode()).hexdigest()


def new_cart(
    *, cart_id: str, token_hash: str, content: CartContent, at: datetime, nudge_delay: timedelta
) -> Cart:
    empty = Cart(
        id=cart_id,
        token_hash=token_hash,
        status=CartStatus.OPEN,
        lines=(),
        email=None,
        locale=content.locale,
        consent=None,
        created_at=at,
        updated_at=at,
        version=0,
    )
    return empty.edit(content, at=at, nudge_delay=nudge_delay)


def _check_lines(lines: Sequence[CartLine]) -> None:
    # The same rules as an order's lines: a cart becomes one.
    check_line_count_and_skus(lines, max_lines=MAX_CART_LINES, holder="a cart")
    check_quantities(lines)


def _consent(cart: Cart, content: CartContent, at: datetime) -> MarketingConsent | None:
    same_address = (cart.email or "").lower() == (content.email or "").lower()
    if content.consent_granted is None:
        return cart.consent if same_address else None
    if (
        same_address
        and cart.consent is not None
        and cart.consent.granted == content.consent_granted
    ):
        return cart.consent  # the same answer again: keep when it was first given
    return MarketingConsent(
        granted=content.consent_granted, at=at, source=content.consent_source or "unspecified"
    )


# --- the nudge ---------------------------------------------------------------------


@dataclass(frozen=True)
class CartEvent:
    """An event of a cart, published by the outbox like an order's history
    entry (see docs/schedules.md for the item's shape)."""

    at: datetime
    event: str  # the detail-type, e.g. "CartAbandoned"
    #: What happened, as plain values (``EventData.as_data``).
    data: Mapping[str, Any]
    #: The cart as the email shows it, priced from the catalog at the event
    #: (docs/events.md, CartSnapshot); published as the event's ``cart``.
    cart: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, data: events.EventData, *, at: datetime, cart: events.CartSnapshot) -> CartEvent:
        """The event ``data`` describes, with the cart as it is now."""
        return cls(at=at, event=data.event, data=data.as_data(), cart=cart.as_data())


@dataclass(frozen=True)
class CartNudge:
    """Everything the nudge writes in one transaction: the cart (out of the
    index), its CartAbandoned event and the opt-out token for the email."""

    cart: Cart
    expected_version: int
    event: CartEvent
    email_hash: str
    opt_out_token_hash: str


def priced_snapshot(cart: Cart, products: Mapping[str, Product]) -> events.CartSnapshot:
    """The cart with names and current prices; lines whose product is gone
    are left out (the storefront shows what is still for sale)."""
    lines = [
        events.CartLine(
            sku=line.sku,
            name=products[line.sku].name_in(cart.locale),
            quantity=line.quantity,
            unit_price=products[line.sku].price,
            line_total=products[line.sku].price * line.quantity,
        )
        for line in cart.lines
        if line.sku in products
    ]
    currencies = [products[line.sku].currency for line in cart.lines if line.sku in products]
    return events.CartSnapshot(
        id=cart.id,
        email=cart.email,
        locale=cart.locale,
        currency=currencies[0] if currencies else "EUR",
        lines=lines,
        total=sum(line.line_total for line in lines),
    )


def abandoned(
    cart: Cart,
    *,
    at: datetime,
    recovery_token: str,
    recovery_token_hash: str,
    opt_out_token: str,
    opt_out_token_hash: str,
    email_hash: str,
    cart_url: str,
    opt_out_url: str,
    products: Mapping[str, Product] | None = None,
) -> CartNudge:
    """The one nudge of an abandoned cart. The tokens travel in the event (the
    email needs them for its links); the cart keeps only their hashes."""
    if not cart.is_nudge_due(at):
        raise InvalidRequest("this cart is not due for a nudge", cart_id=cart.id)
    nudged = cart.nudge(at=at, recovery_token_hash=recovery_token_hash)
    event = CartEvent.of(
        events.CartAbandonedData(
            cart_id=cart.id,
            email=cart.email,
            locale=cart.locale,
            lines=[
                events.AbandonedLine(sku=line.sku, quantity=line.quantity) for line in cart.lines
            ],
            last_changed_at=cart.updated_at,
            recovery_token=recovery_token,
            opt_out_token=opt_out_token,
            cart_url=cart_url,
            opt_out_url=opt_out_url,
            # The name the email templates read (RFC 8058 List-Unsubscribe).
            unsubscribe_url=opt_out_url,
        ),
        at=at,
        cart=priced_snapshot(cart, products or {}),
    )
    return CartNudge(
        cart=nudged,
        expected_version=cart.version,
        event=event,
        email_hash=email_hash,
        opt_out_token_hash=opt_out_token_hash,
    )
