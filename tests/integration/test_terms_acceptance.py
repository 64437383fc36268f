"""A checkout records the terms (AGB) the customer accepted, on moto: without
them, or with terms that are no longer current, POST /orders (from lines or
from a cart) is a 422 with its own code and writes nothing: no order, no
reservation, no use of a discount code (docs/legal.md, docs/checkout.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.conftest import TERMS_VERSION, Api, order_body, table_snapshot


@pytest.fixture
def shop(api: Api) -> Api:
    api.add_product("tea", available=10, price=790, tax_rate="7")
    r = api.admin(
        "PUT",
        "/admin/discount-codes/WELCOME",
        {"kind": "percentage", "percent": "10", "usage_limit": 5, "once_per_customer": True},
    )
    assert r.status_code == 200, r.json
    return api


def cart(api: Api) -> dict[str, Any]:
    r = api.call("POST", "/carts", {"lines": [{"sku": "tea", "quantity": 2}]})
    assert r.status_code == 201, r.json
    return r.json


def from_lines(api: Api, **changes: Any) -> dict[str, Any]:
    body = order_body([("tea", 2)], discount_code="welcome")
    return {**body, **changes}


def from_cart(api: Api, **changes: Any) -> dict[str, Any]:
    made = cart(api)
    body = order_body([], discount_code="welcome", cart_id=made["id"], cart_token=made["token"])
    del body["lines"]
    return {**body, **changes}


def without_terms(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "terms_accepted"}


BODIES = {"lines": from_lines, "cart": from_cart}


@pytest.mark.parametrize("source", sorted(BODIES))
@pytest.mark.parametrize(
    "change",
    [without_terms, lambda body: {**body, "terms_accepted": None}],
    ids=["missing", "null"],
)
def test_a_checkout_without_accepted_terms_is_refused_and_changes_nothing(
    shop: Api, table: str, source: str, change: Any
):
    body = change(BODIES[source](shop))
    before = table_snapshot(table)
    r = shop.place(body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "terms_not_accepted"
    assert r.json["error"]["details"] == {"current_version": TERMS_VERSION}
    assert r.json["error"]["request_id"]
    # No order, no reservation, no code use, no idempotency record.
    assert table_snapshot(table) == before
    assert shop.stock("tea")["available"] == 10
    codes = shop.admin("GET", "/admin/discount-codes").json["discount_codes"]
    assert [c["uses"] for c in codes] == [0]


@pytest.mark.parametrize("source", sorted(BODIES))
def test_terms_that_are_no_longer_current_are_refused_and_change_nothing(
    shop: Api, table: str, source: str
):
    body = BODIES[source](shop, terms_accepted={"version": "2025-01-01"})
    before = table_snapshot(table)
    r = shop.place(body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "terms_version_outdated"
    assert r.json["error"]["details"] == {
        "accepted_version": "2025-01-01",
        "current_version": TERMS_VERSION,
    }
    assert table_snapshot(table) == before


@pytest.mark.parametrize("terms", [{}, {"version": ""}, {"version": "x", "at": "now"}, "yes"])
def test_a_malformed_acceptance_is_a_validation_error(shop: Api, table: str, terms: Any):
    before = table_snapshot(table)
    r = shop.place(from_lines(shop, terms_accepted=terms))
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert table_snapshot(table) == before


def test_the_shops_current_version_is_a_setting(shop: Api, monkeypatch: pytest.MonkeyPatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("SHOP_TERMS_VERSION", "2027-01-01")
    bootstrap.reset()  # the table fixture resets again when the test ends
    assert shop.place(from_lines(shop)).json["error"]["code"] == "terms_version_outdated"
    r = shop.place(from_lines(shop, terms_accepted={"version": "2027-01-01"}))
    assert r.status_code == 201, r.json
    assert r.json["terms_version"] == "2027-01-01"


@pytest.mark.parametrize("source", sorted(BODIES))
def test_the_order_carries_the_accepted_version_and_when(shop: Api, table: str, source: str):
    r = shop.place(BODIES[source](shop))
    assert r.status_code == 201, r.json
    placed = r.json
    assert placed["terms_version"] == TERMS_VERSION
    accepted_at = datetime.fromisoformat(placed["terms_accepted_at"])
    assert accepted_at == datetime.fromisoformat(placed["created_at"])
    # Kept with the order: the customer's order page and the merchant's view.
    headers = {"Authorization": f"Bearer {placed['token']}"}
    page = shop.call("GET", f"/orders/{placed['id']}", headers=headers).json
    assert (page["terms_version"], page["terms_accepted_at"]) == (
        TERMS_VERSION,
        placed["terms_accepted_at"],
    )
    admin = shop.admin("GET", f"/admin/orders/{placed['id']}").json
    assert admin["terms_version"] == TERMS_VERSION
    # And in the data of its OrderPlaced history entry, which the outbox publishes.
    (entry,) = [
        item
        for item in table_snapshot(table)
        if item["SK"]["S"].startswith("HISTORY#") and item["event"]["S"] == "OrderPlaced"
    ]
    data = entry["data"]["M"]
    assert data["terms_version"] == {"S": TERMS_VERSION}
    assert datetime.fromisoformat(data["terms_accepted_at"]["S"]) == accepted_at
