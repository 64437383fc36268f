"""Carts for the storefront, checkout from a cart, and opting out of nudges."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from chalicelib.domain import ids
from chalicelib.domain.cart import Cart, CartContent, new_cart
from chalicelib.domain.errors import CartChanged, CartNotFound, OptOutLinkUnknown, UnknownProducts
from chalicelib.domain.order import CartConversion
from chalicelib.observability import logger
from chalicelib.retry import retry_on_conflict
from chalicelib.services import placement
from chalicelib.services.context import Context
from chalicelib.services.ports import CartStore, SuppressionList


@dataclass(frozen=True)
class LineAvailability:
    """A cart line as the shopper sees it: priced now, with the stock now."""

    sku: str
    quantity: int
    name: str
    unit_price: int
    currency: str
    line_total: int
    available: int
    in_stock: bool  # the whole quantity can be ordered right now


@dataclass(frozen=True)
class CartView:
    cart: Cart
    lines: tuple[LineAvailability, ...]


@dataclass(frozen=True)
class CreatedCart:
    view: CartView
    token: str  # shown once; only its hash is stored


def carts_of(ctx: Context) -> CartStore:
    if ctx.carts is None:
        raise RuntimeError("this context has no cart store")
    return ctx.carts


def suppressions_of(ctx: Context) -> SuppressionList:
    if ctx.suppressions is None:
        raise RuntimeError("this context has no suppression list")
    return ctx.suppressions


def nudge_delay(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.settings.cart_nudge_delay_hours)


def create_cart(content: CartContent, ctx: Context) -> CreatedCart:
    """A new cart with its secret token."""
    _check_products(content, ctx)
    token = secrets.token_urlsafe(32)
    cart = new_cart(
        cart_id=ids.new_order_id(),
        token_hash=ids.sha256_hex(token),
        content=content,
        at=ctx.clock(),
        nudge_delay=nudge_delay(ctx),
    )
    carts_of(ctx).create(cart)
    logger.info("cart created", cart_id=cart.id, lines=len(cart.lines))
    return CreatedCart(view=_view(cart, ctx), token=token)


def view_cart(cart_id: str, token: str, ctx: Context) -> CartView:
    return _view(_authorised(cart_id, token, ctx), ctx)


def update_cart(cart_id: str, token: str, content: CartContent, ctx: Context) -> CartView:
    """Replace the cart's lines, address, locale and consent. Raises
    CartConverted once the cart became an order."""
    _check_products(content, ctx)

    def attempt() -> Cart:
        cart = _authorised(cart_id, token, ctx)
        edited = cart.edit(content, at=ctx.clock(), nudge_delay=nudge_delay(ctx))
        # A lost race (e.g. the nudge sweep wrote it meanwhile) is edited again.
        carts_of(ctx).save(edited, cart.version)
        return edited

    edited = retry_on_conflict(
        attempt, message="the cart kept changing; try again", cart_id=cart_id
    )
    return _view(edited, ctx)


def place_order_from_cart(
    cart_id: str, cart_token: str, order: placement.PlaceOrder, idempotency_key: str, ctx: Context
) -> placement.PlacedOrder:
    """Place an order of the cart's lines and mark the cart converted, in the
    placement's one transaction. An edit of the cart during checkout makes
    the order be priced again from the new lines; a cart already converted is
    refused (CartConverted), unless this is a retry of the request that
    converted it, which answers with that order. The terms are checked
    before the cart is read, as for any checkout."""
    placement.check_terms(order, ctx)

    def attempt() -> placement.PlacedOrder:
        cart = _authorised(cart_id, cart_token, ctx)
        command = replace(
            order,
            lines=cart.requested_lines(),
            converts_cart=CartConversion(cart_id=cart.id, expected_version=cart.version),
        )
        return placement.place_order(command, idempotency_key, ctx)

    placed = retry_on_conflict(
        attempt,
        message="the cart kept changing; try again",
        retry_on=(CartChanged,),
        cart_id=cart_id,
    )
    if placed.created:
        logger.info("cart converted", cart_id=cart_id, order_id=placed.order.id)
    return placed


def opt_out(token: str, ctx: Context, *, source: str) -> None:
    """Put the address the opt-out link was sent to on the suppression list
    (one click; repeating it changes nothing)."""
    if not suppressions_of(ctx).opt_out(ids.sha256_hex(token), at=ctx.clock(), source=source):
        raise OptOutLinkUnknown("this opt-out link is unknown or has expired")
    logger.info("address opted out", source=source)


def check_opt_out_link(token: str, ctx: Context) -> None:
    """Raise OptOutLinkUnknown unless the link is valid (no change)."""
    if not suppressions_of(ctx).knows_token(ids.sha256_hex(token), at=ctx.clock()):
        raise OptOutLinkUnknown("this opt-out link is unknown or has expired")


def _authorised(cart_id: str, token: str, ctx: Context) -> Cart:
    cart = carts_of(ctx).get(cart_id)
    # The nudge's "back to your cart" link carries a token of its own.
    known = [cart.token_hash, cart.recovery_token_hash]
    if not any(h is not None and ids.token_matches(token, h) for h in known):
        # Like a missing cart: a wrong token tells nothing about which ids exist.
        raise CartNotFound("no such cart", cart_id=cart_id)
    return cart


def _check_products(content: CartContent, ctx: Context) -> None:
    skus = [line.sku for line in content.lines]
    products = ctx.catalog.get_many(skus)
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise UnknownProducts("these products do not exist", skus=unknown)


def _view(cart: Cart, ctx: Context) -> CartView:
    products = ctx.catalog.get_many([line.sku for line in cart.lines])
    lines = []
    for line in cart.lines:
        product = products.get(line.sku)
        if product is None:  # removed from the catalog since it was added
            lines.append(LineAvailability(line.sku, line.quantity, "", 0, "", 0, 0, False))
            continue
        lines.append(
            LineAvailability(
                sku=line.sku,
                quantity=line.quantity,
                name=product.name_in(cart.locale),
                unit_price=product.price,
                currency=product.currency,
                line_total=product.price * line.quantity,
                available=product.available,
                in_stock=product.available >= line.quantity,
            )
        )
    return CartView(cart=cart, lines=tuple(lines))
