"""Every bad request gets a 4xx with the JSON error body and changes nothing."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.order import MAX_ORDER_LINES
from tests.conftest import ADMIN_KEY, new_key, order_body, table_snapshot

GOOD = order_body([("tea", 1)])


def with_(**changes):
    return {**GOOD, **changes}


CASES = {
    "malformed json": (b'{"lines": [', {}, 400, "malformed_json"),
    "json array body": (b"[1, 2]", {}, 422, "validation_error"),
    "unknown field": (with_(coupon="FREE"), {}, 422, "validation_error"),
    "price in request": (
        with_(lines=[{"sku": "tea", "quantity": 1, "price": 1}]),
        {},
        422,
        "validation_error",
    ),
    "quantity as string": (
        with_(lines=[{"sku": "tea", "quantity": "1"}]),
        {},
        422,
        "validation_error",
    ),
    "zero quantity": (with_(lines=[{"sku": "tea", "quantity": 0}]), {}, 422, "validation_error"),
    "negative quantity": (
        with_(lines=[{"sku": "tea", "quantity": -3}]),
        {},
        422,
        "validation_error",
    ),
    "quantity 1000": (with_(lines=[{"sku": "tea", "quantity": 1000}]), {}, 422, "validation_error"),
    "no lines": (with_(lines=[]), {}, 422, "validation_error"),
    "too many lines": (
        with_(lines=[{"sku": f"s{i}", "quantity": 1} for i in range(MAX_ORDER_LINES + 1)]),
        {},
        422,
        "validation_error",
    ),
    "unknown sku": (
        with_(lines=[{"sku": "tea", "quantity": 1}, {"sku": "ghost", "quantity": 1}]),
        {},
        422,
        "unknown_product",
    ),
    "duplicate sku": (
        with_(lines=[{"sku": "tea", "quantity": 1}, {"sku": "tea", "quantity": 1}]),
        {},
        422,
        "invalid_request",
    ),
    "bad email": (
        with_(customer={"email": "not-an-email", "name": "E"}),
        {},
        422,
        "validation_error",
    ),
    "bad payment method": (with_(payment_method="bitcoin"), {}, 422, "validation_error"),
    "bad locale": (with_(locale="fr"), {}, 422, "validation_error"),
    "bad country": (
        with_(shipping_address={**GOOD["shipping_address"], "country": "Germany"}),
        {},
        422,
        "validation_error",
    ),
    "oversized body": (
        with_(customer={"email": "e@example.com", "name": "x" * 70_000}),
        {},
        413,
        "body_too_large",
    ),
    "deep nesting": (b'{"lines": ' + b"[" * 5000 + b"]" * 5000 + b"}", {}, 400, "malformed_json"),
    "missing idempotency key": (GOOD, {"Idempotency-Key": ""}, 400, "missing_idempotency_key"),
    "short idempotency key": (GOOD, {"Idempotency-Key": "abc"}, 400, "invalid_idempotency_key"),
    "wrong content type": (GOOD, {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_checkout_requests_are_refused_and_change_nothing(api, table, case):
    body, headers, status, code = CASES[case]
    api.add_product("tea", available=5)
    before = table_snapshot(table)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = api.call("POST", "/orders", raw=raw, headers={"Idempotency-Key": new_key(), **headers})
    assert r.status_code == status, r.json
    assert r.json["error"]["code"] == code
    assert set(r.json["error"]) == {"code", "message", "details", "request_id"}
    assert table_snapshot(table) == before


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        (
            "/admin/products/tea",
            {"name": "Tea", "price": -1, "currency": "EUR", "tax_rate": "19"},
            "validation_error",
        ),
        (
            "/admin/products/tea",
            {"name": "Tea", "price": 100, "currency": "XXX", "tax_rate": "19"},
            "validation_error",
        ),
        (
            "/admin/products/tea",
            {"name": "Tea", "price": 1.5, "currency": "EUR", "tax_rate": "19"},
            "validation_error",
        ),
        (
            "/admin/products/tea",
            {"name": "Tea", "price": 100, "currency": "EUR", "tax_rate": "190"},
            "validation_error",
        ),
        ("/admin/stock/tea", {"available": -1}, "validation_error"),
        ("/admin/stock/ghost", {"available": 1}, "product_not_found"),
    ],
)
def test_bad_admin_requests_are_refused_and_change_nothing(api, table, path, body, code):
    api.add_product("tea", available=5)
    before = table_snapshot(table)
    r = api.call("PUT", path, body, {"Authorization": f"Bearer {ADMIN_KEY}"})
    assert 400 <= r.status_code < 500
    assert r.json["error"]["code"] == code
    assert table_snapshot(table) == before


def test_cancel_with_a_wrong_token_changes_nothing(api, table):
    api.add_product("tea", available=5)
    order = api.place(order_body([("tea", 1)])).json
    before = table_snapshot(table)
    r = api.call("POST", f"/orders/{order['id']}/cancel", None, {"Authorization": "Bearer forged"})
    assert r.status_code == 404
    assert table_snapshot(table) == before


def test_unknown_routes_and_methods_answer_with_the_json_error_body(api):
    r = api.call("DELETE", "/orders")
    assert r.status_code == 405
    assert r.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Erika\x00M"),
        ("name", "Erika\r\nBcc: evil@example.com"),
        ("name", "Erika\tM"),
        ("line1", "Hauptstr.\n1"),
        ("city", "Ber\x7flin"),
        ("postal_code", "101\x8515"),
    ],
)
def test_control_characters_in_names_and_addresses_are_refused(api, table, field, value):
    """One-line text (api/bodies.py ONE_LINE) takes no control character: a
    NUL or a line break cannot go on a parcel label or into a mail header."""
    api.add_product("tea", available=5)
    if field == "name":
        body = with_(customer={"email": "e@example.com", "name": value})
    else:
        body = with_(shipping_address={**GOOD["shipping_address"], field: value})
    before = table_snapshot(table)
    r = api.place(body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert field in json.dumps(r.json["error"]["details"])
    assert table_snapshot(table) == before


def test_reasons_and_notes_may_run_over_lines_but_take_no_other_control_character(api, table):
    api.add_product("tea", available=5)
    placed = api.place(GOOD).json
    r = api.admin("POST", f"/admin/orders/{placed['id']}/notes", {"note": "a\x00b"})
    assert r.status_code == 422, r.json
    note = "Called the customer.\nShe wants it gift-wrapped:\tyes"
    r = api.admin("POST", f"/admin/orders/{placed['id']}/notes", {"note": note})
    assert r.status_code == 201, r.json
    notes = api.admin("GET", f"/admin/orders/{placed['id']}").json["notes"]
    assert [n["note"] for n in notes] == [note]


def test_an_address_ses_cannot_mail_is_refused_and_an_international_domain_is_kept_ascii(
    api, table
):
    """SES does not support SMTPUTF8: a non-ASCII local part could never be
    mailed; an international domain is mailed in its Punycode form."""
    api.add_product("tea", available=5)
    before = table_snapshot(table)
    r = api.place(with_(customer={"email": "zoë@example.com", "name": "Zoë"}))
    assert r.status_code == 422, r.json
    assert "customer" in json.dumps(r.json["error"]["details"])
    assert table_snapshot(table) == before

    r = api.place(with_(customer={"email": "erika@münchen.de", "name": "Erika"}))
    assert r.status_code == 201, r.json
    assert r.json["customer"]["email"] == "erika@xn--mnchen-3ya.de"
