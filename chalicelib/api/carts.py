"""Storefront carts, and the opt-out link of the abandoned-cart email.

Carts are authorised by their own token (``Authorization: Bearer <cart
token>``), returned once by POST /carts; the nudge email's link carries a
second token that works the same way. The opt-out link follows RFC 8058: a
mail client POSTs ``List-Unsubscribe=One-Click`` to it; a person opening it
gets a page whose button sends the same POST (a GET never opts out, since
mail scanners prefetch links).
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

import re
from datetime import datetime
from typing import Annotated, Any

from chalice import Blueprint, Response
from pydantic import Field, StrictBool

from chalicelib.api import wiring
from chalicelib.api.bodies import Answer
from chalicelib.api.contract import HTML, documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import bearer_token, parse_body, raw_body, route
from chalicelib.api.schemas import Email, LineIn, Locale, Request
from chalicelib.domain import errors
from chalicelib.domain.cart import MAX_CART_LINES, CartContent, CartLine
from chalicelib.domain.errors import CartConverted, CartNotFound, OptOutLinkUnknown
from chalicelib.services import carts

cart_routes = Blueprint(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json"]


class ConsentIn(Request):
    granted: StrictBool
    source: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,40}$")] = "storefront"


class CartIn(Request):
    lines: list[LineIn] = Field(default_factory=list, max_length=MAX_CART_LINES)
    email: Email | None = None
    locale: Locale = "en"
    marketing_consent: ConsentIn | None = Field(
        default=None, description="the shopper's answer; its time is recorded by the server"
    )


class CartLineOut(Answer):
    sku: str
    quantity: int
    name: str
    unit_price: int
    currency: str
    line_total: int
    available: int
    in_stock: bool


class ConsentOut(Answer):
    granted: bool
    at: datetime
    source: str


class CartOut(Answer):
    id: str
    status: str
    lines: list[CartLineOut]
    email: str | None
    locale: str
    marketing_consent: ConsentOut | None
    created_at: datetime
    updated_at: datetime
    order_id: str | None


class CreatedCartOut(CartOut):
    token: str = Field(description="the cart's secret; shown once; send as a Bearer token")


@route(cart_routes, "/carts", methods=["POST"], cors=storefront_cors())
@documented(
    "Start a cart; 201 with its `token` (shown once)",
    ok={201: CreatedCartOut},
    body=CartIn,
    body_required=False,
    errors=(errors.UnknownProducts, errors.MixedCurrencies, errors.InvalidRequest),
)
def create_cart() -> Response:
    body = parse_body(cart_routes.current_request, CartIn, allow_empty=True)
    created = carts.create_cart(to_content(body), wiring.context())
    return Response(
        body=CreatedCartOut(**present(created.view), token=created.token).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/carts/{created.view.cart.id}"},
    )


@route(cart_routes, "/carts/{cart_id}", methods=["GET"], cors=storefront_cors())
@documented(
    "The cart, priced from the catalog now",
    ok={200: CartOut},
    auth="cart_token",
    errors=(CartNotFound,),
)
def get_cart(cart_id: str) -> dict[str, Any]:
    token = bearer_token(cart_routes.current_request)
    return CartOut(**present(carts.view_cart(cart_id, token, wiring.context()))).model_dump(
        mode="json"
    )


@route(cart_routes, "/carts/{cart_id}", methods=["PUT"], cors=storefront_cors())
@documented(
    "Replace the cart's lines, email, locale and marketing consent",
    ok={200: CartOut},
    body=CartIn,
    auth="cart_token",
    errors=(
        CartNotFound,
        CartConverted,
        errors.UnknownProducts,
        errors.MixedCurrencies,
        errors.InvalidRequest,
        errors.ConcurrentUpdate,
    ),
)
def put_cart(cart_id: str) -> dict[str, Any]:
    request = cart_routes.current_request
    token = bearer_token(request)
    body = parse_body(request, CartIn)
    view = carts.update_cart(cart_id, token, to_content(body), wiring.context())
    return CartOut(**present(view)).model_dump(mode="json")


@route(cart_routes, "/opt-out/{token}", methods=["GET"])
@documented(
    "The opt-out page of the cart reminder email (a GET never opts out)",
    ok={200: HTML},
    errors=(OptOutLinkUnknown,),
    tags=("opt-out",),
)
def opt_out_page(token: str) -> Response:
    carts.check_opt_out_link(valid_token(token), wiring.context())
    return _html(_CONFIRM_PAGE)


@route(cart_routes, "/opt-out/{token}", methods=["POST"], content_types=_FORM_TYPES)
@documented(
    "Opt out of cart reminder emails (RFC 8058 one-click, or the page's button)",
    ok={200: HTML},
    errors=(OptOutLinkUnknown, 413, 415),
    tags=("opt-out",),
)
def opt_out(token: str) -> Response:
    one_click = b"List-Unsubscribe=One-Click" in raw_body(cart_routes.current_request)
    source = "one_click" if one_click else "opt_out_page"
    carts.opt_out(valid_token(token), wiring.context(), source=source)
    return _html(_DONE_PAGE)


def valid_token(token: str) -> str:
    if not _TOKEN.match(token):
        raise OptOutLinkUnknown("this opt-out link is unknown or has expired")
    return token


def to_content(body: CartIn) -> CartContent:
    consent = body.marketing_consent
    return CartContent(
        lines=tuple(CartLine(sku=line.sku, quantity=line.quantity) for line in body.lines),
        email=str(body.email) if body.email else None,
        locale=body.locale,
        consent_granted=consent.granted if consent else None,
        consent_source=consent.source if consent else None,
    )


def present(view: carts.CartView) -> dict[str, Any]:
    cart = view.cart
    consent = cart.consent
    return {
        "id": cart.id,
        "status": cart.status.value,
        "lines": [line.__dict__ for line in view.lines],
        "email": cart.email,
        "locale": cart.locale,
        "marketing_consent": (
            {"granted": consent.granted, "at": consent.at, "source": consent.source}
            if consent
            else None
        ),
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
        "order_id": cart.order_id,
    }


def _html(page: str) -> Response:
    return Response(
        body=page,
        status_code=200,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )


# Static pages: nothing of the request is echoed into them. The form posts to
# the page's own URL, whatever stage prefix the API is served under.
_CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title>
<meta name="robots" content="noindex"></head>
<body><h1>Stop cart reminder emails?</h1>
<p>We will not send reminders about carts to this address again.</p>
<form method="post"><input type="hidden" name="confirm" value="yes">
<button type="submit">Unsubscribe</button></form></body></html>
"""

_DONE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribed</title>
<meta name="robots" content="noindex"></head>
<body><h1>You are unsubscribed</h1>
<p>This address will get no more cart reminder emails from us.</p></body></html>
"""
