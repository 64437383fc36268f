"""Request ids, CORS and the served contract, through the Chalice app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import order_body

pytestmark = pytest.mark.integration
DOCS = Path(__file__).parents[2] / "docs"
ALLOWED = "http://localhost:3000"  # config.DEFAULT_CORS_ORIGINS


def test_the_served_document_is_the_committed_one(api):
    r = api.call("GET", "/openapi.json")
    assert r.status_code == 200
    assert r.json == json.loads((DOCS / "openapi.json").read_text())
    assert r.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("method", "path", "raw", "headers", "status", "code"),
    [
        ("GET", "/products/nope", None, {}, 404, "product_not_found"),
        ("POST", "/orders", b"{not json", {"Idempotency-Key": "k" * 20}, 400, "malformed_json"),
        ("POST", "/orders", b"{}", {"Idempotency-Key": "k" * 20}, 422, "validation_error"),
        ("POST", "/orders", b"{}", {}, 400, "missing_idempotency_key"),
        ("POST", "/orders", b"a=1", {"Content-Type": "text/plain"}, 415, None),
        ("DELETE", "/products/x", None, {}, 405, "method_not_allowed"),
        ("GET", "/orders/123", None, {}, 401, "unauthorized"),
        ("PUT", "/carts", None, {}, 405, "method_not_allowed"),
        ("POST", "/carts", b" " * 70_000, {}, 413, "body_too_large"),
    ],
)
def test_every_error_answer_carries_its_request_id_in_header_and_body(
    api, method, path, raw, headers, status, code
):
    r = api.call(method, path, raw=raw or b"", headers=headers)
    assert r.status_code == status
    error = r.json["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert code is None or error["code"] == code
    assert error["request_id"] and error["request_id"] == r.headers["X-Request-Id"]


def test_each_request_gets_its_own_id(api):
    api.add_product("tea", available=5)
    ids = {api.call("GET", "/products/tea").headers["X-Request-Id"] for _ in range(3)}
    ids.add(api.place(order_body([("tea", 1)])).headers["X-Request-Id"])
    assert len(ids) == 4


def test_a_storefront_origin_from_the_settings_may_read_the_answer(api):
    api.add_product("tea", available=5)
    r = api.call("GET", "/products/tea", headers={"Origin": ALLOWED})
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert r.headers["Vary"] == "Origin"
    assert "X-Request-Id" in r.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_an_error_answer_is_readable_by_the_storefront_too(api):
    r = api.call("GET", "/products/ghost", headers={"Origin": ALLOWED})
    assert r.status_code == 404
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_another_origin_gets_no_cors_permission(api):
    api.add_product("tea", available=5)
    r = api.call("GET", "/products/tea", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


def test_admin_routes_are_not_open_to_browsers_elsewhere(api):
    api.add_product("tea", available=5)
    r = api.call(
        "GET",
        "/admin/stock/tea",
        headers={"Origin": ALLOWED, "Authorization": "Bearer test-admin-key-0123456789"},
    )
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("sku", ["%C3%89%11", "-leading-dash", "x" * 65, "tea%0A"])
def test_a_product_cannot_be_created_under_an_sku_no_order_line_could_name(api, sku):
    # Found by the contract fuzzer: the path's SKU was stored unchecked.
    body = {"name": "Tea", "price": 990, "currency": "EUR", "tax_rate": "7"}
    r = api.admin("PUT", f"/admin/products/{sku}", body)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "invalid_sku"
    assert api.admin("GET", f"/admin/stock/{sku}").status_code == 404
