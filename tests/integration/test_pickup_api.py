"""Click & collect through the API, on moto: the merchant's pickup locations,
the storefront's options, a checkout that is collected instead of sent, and
every refusal with its own code and nothing written (docs/checkout.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, order_body, table_snapshot
from tests.integration.test_checkout_terms_api import DHL, code, method

MITTE = {
    "name": {"de": "Laden Berlin-Mitte", "en": "Berlin-Mitte shop"},
    "line1": "Torstr. 12",
    "postal_code": "10119",
    "city": "Berlin",
    "country": "DE",
    "opening_hours": {"de": "Mo-Fr 10-19 Uhr, Sa 10-16 Uhr", "en": "Mon-Fri 10am-7pm"},
}
LAGER = {
    "name": {"de": "Lager Spandau"},
    "line1": "Am Juliusturm 3",
    "postal_code": "13599",
    "city": "Berlin",
    "country": "DE",
    "opening_hours": {"de": "Mo-Fr 8-16 Uhr"},
}


def location(api: Api, location_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.admin("PUT", f"/admin/pickup-locations/{location_id}", body)
    assert r.status_code == 200, r.json
    return r.json


@pytest.fixture
def shop(api: Api) -> Api:
    api.add_product("tea", available=100, price=790, tax_rate="7")
    api.add_product("mug", available=100, price=1490, tax_rate="19")
    method(api, "dhl", DHL)
    location(api, "mitte", MITTE)
    location(api, "lager", LAGER)
    return api


def collect(api: Api, lines: list[tuple[str, int]], **extra: Any) -> Any:
    body = order_body(lines, pickup_location="mitte", **extra)
    body["billing_address"] = body.pop("shipping_address")
    return api.place(body)


def test_locations_are_listed_versioned_and_deactivated(shop: Api):
    listed = shop.admin("GET", "/admin/pickup-locations").json["pickup_locations"]
    assert [(loc["id"], loc["version"], loc["active"]) for loc in listed] == [
        ("lager", 1, True),
        ("mitte", 1, True),
    ]
    assert listed[1]["opening_hours"] == MITTE["opening_hours"]
    again = location(shop, "mitte", {**MITTE, "line2": "Hinterhof"})
    assert (again["version"], again["line2"]) == (2, "Hinterhof")
    r = shop.admin("POST", "/admin/pickup-locations/lager/deactivate")
    assert (r.status_code, r.json["active"], r.json["version"]) == (200, False, 2)
    r = shop.admin("POST", "/admin/pickup-locations/nope/deactivate")
    assert (r.status_code, r.json["error"]["code"]) == (422, "pickup_location_unknown")


def test_the_locations_need_the_admin_key(shop: Api):
    assert shop.call("GET", "/admin/pickup-locations").status_code == 401
    r = shop.call("PUT", "/admin/pickup-locations/x", MITTE)
    assert r.status_code == 401


def test_shipping_options_list_the_active_locations_for_free_beside_the_methods(shop: Api):
    shop.admin("POST", "/admin/pickup-locations/lager/deactivate")
    r = shop.call("GET", "/shipping-options?country=AT&lines=tea:1&locale=de")
    assert r.status_code == 200, r.json
    assert [o["id"] for o in r.json["shipping_options"]] == ["dhl"]
    assert r.json["pickup_locations"] == [
        {
            "id": "mitte",
            "name": "Laden Berlin-Mitte",
            "line1": "Torstr. 12",
            "line2": None,
            "postal_code": "10119",
            "city": "Berlin",
            "country": "DE",
            "opening_hours": "Mo-Fr 10-19 Uhr, Sa 10-16 Uhr",
            "price": 0,
        }
    ]


def test_a_pickup_order_costs_no_shipping_and_keeps_no_shipping_address(shop: Api):
    code(shop, "TEN", kind="percentage", percent="10")
    r = collect(shop, [("tea", 2), ("mug", 1)], discount_code="ten")
    assert r.status_code == 201, r.json
    order = r.json
    assert order["shipping"] is None and order["shipping_address"] is None
    assert order["totals"]["shipping"] == 0
    assert order["totals"]["total"] == 3070 - 307
    assert order["pickup"] == {
        "location_id": "mitte",
        "name": "Laden Berlin-Mitte",
        "line1": "Torstr. 12",
        "line2": None,
        "postal_code": "10119",
        "city": "Berlin",
        "country": "DE",
        "opening_hours": "Mo-Fr 10-19 Uhr, Sa 10-16 Uhr",
    }
    assert all(rate["shipping"] == 0 for rate in order["tax_rates"])
    shown = shop.call(
        "GET", f"/orders/{order['id']}", headers={"Authorization": f"Bearer {order['token']}"}
    ).json
    assert shown["pickup"] == order["pickup"]
    desk = shop.admin("GET", f"/admin/orders/{order['id']}").json
    assert desk["pickup"]["location_id"] == "mitte" and desk["shipping"] is None


def test_a_cart_checks_out_for_pickup(shop: Api):
    cart = shop.call("POST", "/carts", {"lines": [{"sku": "tea", "quantity": 3}]}).json
    body = order_body([], pickup_location="lager")
    del body["lines"]
    body.update(cart_id=cart["id"], cart_token=cart["token"])
    r = shop.place(body)
    assert r.status_code == 201, r.json
    assert r.json["pickup"]["location_id"] == "lager" and r.json["totals"]["total"] == 3 * 790


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"shipping_method": "dhl"}, "shipping_method_and_pickup_location"),
        ({"pickup_location": "nope"}, "pickup_location_unknown"),
        ({"pickup_location": "closed"}, "pickup_location_unknown"),
        ({"pickup_location": None}, "shipping_address_required"),
    ],
)
def test_a_wrong_pickup_choice_is_refused_with_its_code_and_nothing_written(
    shop: Api, table: str, change: dict[str, Any], error: str
):
    location(shop, "closed", {**LAGER, "active": False})
    before = table_snapshot(table)
    body = order_body([("tea", 1)], pickup_location="mitte")
    body["billing_address"] = body.pop("shipping_address")
    body.update(change)
    if body["pickup_location"] is None:
        del body["pickup_location"]
    r = shop.place(body)
    assert (r.status_code, r.json["error"]["code"]) == (422, error), r.json
    assert table_snapshot(table) == before


def test_an_order_without_any_address_is_a_validation_error(shop: Api, table: str):
    before = table_snapshot(table)
    body = order_body([("tea", 1)], pickup_location="mitte")
    del body["shipping_address"]
    r = shop.place(body)
    assert (r.status_code, r.json["error"]["code"]) == (422, "validation_error")
    assert table_snapshot(table) == before


def test_a_location_changed_during_checkout_is_read_again(shop: Api):
    # Warm the cache with version 1, then move the location on: the
    # transaction's version check makes the checkout read it again.
    assert collect(shop, [("tea", 1)]).status_code == 201
    location(shop, "mitte", {**MITTE, "opening_hours": {"de": "Sa 10-14 Uhr"}})
    r = collect(shop, [("tea", 1)])
    assert r.status_code == 201 and r.json["pickup"]["opening_hours"] == "Sa 10-14 Uhr"
    shop.admin("POST", "/admin/pickup-locations/mitte/deactivate")
    r = collect(shop, [("tea", 1)])
    assert r.json["error"]["code"] == "pickup_location_unknown"
