"""Checkout and the customer's order page through the Chalice app on moto."""

from __future__ import annotations

from tests.conftest import ADMIN_KEY, new_key, order_body, tax


def test_admin_sets_up_a_product_and_the_storefront_sees_its_availability(api):
    api.add_product("tea-001", available=12, price=1190, tax_rate="7")
    r = api.call("GET", "/products/tea-001")
    assert r.status_code == 200
    assert r.json == {
        "sku": "tea-001",
        "name": "Product tea-001",
        "names": {},  # one name stands for both locales
        "price": 1190,
        "currency": "EUR",
        "tax_rate": "7",
        "available": 12,
    }


def test_unknown_product_is_a_404_with_the_json_error_body(api):
    r = api.call("GET", "/products/nope")
    assert r.status_code == 404
    assert r.json["error"]["code"] == "product_not_found"
    assert r.json["error"]["details"] == {"sku": "nope"}
    assert r.json["error"]["request_id"] == r.headers["X-Request-Id"]


def test_admin_routes_need_the_admin_key(api):
    body = {"name": "x", "price": 1, "currency": "EUR", "tax_rate": "19"}
    assert api.call("PUT", "/admin/products/x", body).status_code in (401, 403)
    assert (
        api.call(
            "PUT", "/admin/products/x", body, {"Authorization": "Bearer wrong-key"}
        ).status_code
        == 403
    )
    assert (
        api.call("PUT", "/admin/products/x", body, {"Authorization": ADMIN_KEY}).status_code == 403
    )
    assert api.call("GET", "/products/x").status_code == 404  # nothing was written


def test_placing_an_order_prices_it_from_the_catalog_and_reserves_stock(api):
    api.add_product("tea", available=5, price=1190, tax_rate="7")
    api.add_product("mug", available=2, price=1500, tax_rate="19")
    r = api.place(order_body([("tea", 2), ("mug", 1)]))
    assert r.status_code == 201, r.json
    order = r.json
    assert order["status"] == "pending_payment"
    assert order["payment_status"] == "unpaid"
    assert order["fulfilment_status"] == "unfulfilled"
    assert order["totals"] == {
        "currency": "EUR",
        "subtotal": 3880,
        "shipping": 0,
        "tax": tax("7", 2380) + tax("19", 1500),
        "total": 3880,
        "discount": 0,
    }
    assert len(order["number"]) == 9
    assert order["token"]
    assert r.headers["Location"] == f"/orders/{order['id']}"
    assert (api.stock("tea")["available"], api.stock("tea")["reserved"]) == (3, 2)
    assert (api.stock("mug")["available"], api.stock("mug")["reserved"]) == (1, 1)


def test_a_retried_checkout_returns_the_same_order_and_reserves_once(api):
    api.add_product("tea", available=5)
    key = new_key()
    first = api.place(order_body([("tea", 2)]), key)
    again = api.place(order_body([("tea", 2)]), key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert again.json["token"] == first.json["token"]
    assert api.stock("tea")["reserved"] == 2


def test_reusing_a_key_for_another_body_is_a_422_and_changes_nothing(api):
    api.add_product("tea", available=5)
    key = new_key()
    api.place(order_body([("tea", 2)]), key)
    r = api.place(order_body([("tea", 3)]), key)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "idempotency_key_reused"
    assert api.stock("tea")["reserved"] == 2


def test_out_of_stock_is_a_409_naming_each_short_sku(api):
    api.add_product("tea", available=1)
    api.add_product("mug", available=0)
    api.add_product("pot", available=9)
    r = api.place(order_body([("tea", 2), ("mug", 1), ("pot", 1)]))
    assert r.status_code == 409
    assert r.json["error"]["code"] == "insufficient_stock"
    assert r.json["error"]["details"]["lines"] == [
        {"sku": "tea", "requested": 2, "available": 1},
        {"sku": "mug", "requested": 1, "available": 0},
    ]
    assert api.stock("pot")["reserved"] == 0


def test_a_price_change_is_charged_at_the_new_price_even_with_a_warm_cache(api):
    api.add_product("tea", available=5, price=1000)
    assert api.place(order_body([("tea", 1)])).json["totals"]["total"] == 1000  # warms the cache
    api.add_product("tea", available=5, price=1200)
    assert api.place(order_body([("tea", 1)])).json["totals"]["total"] == 1200


def test_the_order_page_needs_the_orders_own_token(api):
    api.add_product("tea", available=5)
    mine = api.place(order_body([("tea", 1)])).json
    theirs = api.place(order_body([("tea", 1)])).json
    ok = api.call(
        "GET", f"/orders/{mine['id']}", headers={"Authorization": f"Bearer {mine['token']}"}
    )
    assert ok.status_code == 200
    assert ok.json["number"] == mine["number"]
    assert [h["event"] for h in ok.json["history"]] == ["OrderPlaced"]
    assert "token" not in ok.json
    other = api.call(
        "GET", f"/orders/{mine['id']}", headers={"Authorization": f"Bearer {theirs['token']}"}
    )
    assert other.status_code == 404
    assert api.call("GET", f"/orders/{mine['id']}").status_code == 401


def test_the_customer_cancels_and_the_stock_comes_back(api):
    api.add_product("tea", available=5)
    order = api.place(order_body([("tea", 3)])).json
    auth = {"Authorization": f"Bearer {order['token']}"}
    r = api.call("POST", f"/orders/{order['id']}/cancel", {"reason": "ordered by mistake"}, auth)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "cancelled"
    assert r.json["cancel_reason"] == "ordered by mistake"
    assert [h["event"] for h in r.json["history"]] == ["OrderPlaced", "OrderCancelled"]
    stock = api.stock("tea")
    assert (stock["available"], stock["reserved"]) == (5, 0)
    again = api.call("POST", f"/orders/{order['id']}/cancel", None, auth)
    assert again.status_code == 200
    assert api.stock("tea")["available"] == 5


def test_billing_address_defaults_to_the_shipping_address(api):
    api.add_product("tea", available=5)
    order = api.place(order_body([("tea", 1)])).json
    assert order["billing_address"] == order["shipping_address"]
