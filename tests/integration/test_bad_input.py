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
