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


# --- after payment: ready for pickup, picked up -------------------------------------------


def pickup_code_of(table: str, order_id: str) -> str:
    """Read off the order item, as the notifications function's email does."""
    import boto3

    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": "ORDER"}}
    )["Item"]
    return item["pickup_code"]["S"]


def stock(api: Api, sku: str) -> tuple[int, int, int]:
    s = api.admin("GET", f"/admin/stock/{sku}").json
    return (s["available"], s["reserved"], s["shipped"])


@pytest.fixture
def paid_pickup(shop: Api) -> str:
    r = collect(shop, [("tea", 2)], payment_method="bank_transfer")
    assert r.status_code == 201, r.json
    paid = shop.admin("POST", f"/admin/orders/{r.json['id']}/payments", {"bank_reference": "TX-9"})
    assert paid.status_code == 200, paid.json
    return str(r.json["id"])


def test_a_pickup_order_is_made_ready_then_handed_over_against_its_code(
    shop: Api, table: str, paid_pickup: str
):
    assert stock(shop, "tea") == (98, 2, 0)
    r = shop.admin("POST", f"/admin/orders/{paid_pickup}/ready-for-pickup")
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["fulfilment_status"]) == ("ready_for_pickup",) * 2
    assert "pickup_code" not in r.json  # the merchant checks it, never reads it
    code = pickup_code_of(table, paid_pickup)
    assert len(code) == 6 and code.isdigit()
    # Asked again: nothing changes, the first code stays (no second email).
    again = shop.admin("POST", f"/admin/orders/{paid_pickup}/ready-for-pickup")
    assert again.status_code == 200 and again.json["version"] == r.json["version"]
    assert pickup_code_of(table, paid_pickup) == code

    wrong = "000000" if code != "000000" else "111111"
    before = table_snapshot(table)
    refused = shop.admin("POST", f"/admin/orders/{paid_pickup}/pickup", {"code": wrong})
    assert (refused.status_code, refused.json["error"]["code"]) == (422, "pickup_code_wrong")
    assert table_snapshot(table) == before

    done = shop.admin("POST", f"/admin/orders/{paid_pickup}/pickup", {"code": code})
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["fulfilment_status"]) == ("picked_up", "picked_up")
    assert done.json["picked_up_at"] is not None
    assert [line["shipped_quantity"] for line in done.json["lines"]] == [2]
    assert stock(shop, "tea") == (98, 0, 2)  # consumed as a shipment does
    events = [h["event"] for h in done.json["history"]]
    assert events[-2:] == ["OrderReadyForPickup", "OrderPickedUp"]
    assert all(code not in str(h) for h in done.json["history"])
    # A retried hand-over with the same code is the same hand-over.
    repeat = shop.admin("POST", f"/admin/orders/{paid_pickup}/pickup", {"code": code})
    assert repeat.status_code == 200 and repeat.json["version"] == done.json["version"]


def test_shipping_refuses_a_pickup_order_and_the_pickup_routes_a_sent_one(
    shop: Api, table: str, paid_pickup: str
):
    before = table_snapshot(table)
    r = shop.admin(
        "POST",
        f"/admin/orders/{paid_pickup}/shipments",
        {"carrier": "dhl", "tracking_number": "T-1", "lines": [{"sku": "tea", "quantity": 2}]},
    )
    assert (r.status_code, r.json["error"]["code"]) == (409, "pickup_order_not_shipped")
    assert table_snapshot(table) == before
    sent = shop.place(
        order_body([("tea", 1)], shipping_method="dhl", payment_method="bank_transfer")
    )
    shop.admin("POST", f"/admin/orders/{sent.json['id']}/payments", {"bank_reference": "TX-8"})
    before = table_snapshot(table)
    for path, body in (("ready-for-pickup", None), ("pickup", {"code": "123456"})):
        r = shop.admin("POST", f"/admin/orders/{sent.json['id']}/{path}", body)
        assert (r.status_code, r.json["error"]["code"]) == (409, "not_a_pickup_order"), path
    assert table_snapshot(table) == before


def test_an_unpaid_pickup_order_is_not_ready_and_nothing_is_handed_over_before_it_is(
    shop: Api, table: str, paid_pickup: str
):
    unpaid = collect(shop, [("tea", 1)]).json
    before = table_snapshot(table)
    r = shop.admin("POST", f"/admin/orders/{unpaid['id']}/ready-for-pickup")
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    r = shop.admin("POST", f"/admin/orders/{paid_pickup}/pickup", {"code": "123456"})
    assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
    assert table_snapshot(table) == before


def test_the_desk_lists_orders_ready_for_pickup(shop: Api, paid_pickup: str):
    shop.admin("POST", f"/admin/orders/{paid_pickup}/ready-for-pickup")
    listed = shop.admin("GET", "/admin/orders?status=ready_for_pickup").json["orders"]
    assert [o["id"] for o in listed] == [paid_pickup]
