"""Shipping methods and discount codes through the API, on moto: what a
checkout charges, every refusal with its own code and nothing written, the
uses a code keeps or gives back (docs/checkout.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, order_body, table_snapshot

DHL = {
    "name": {"de": "DHL Paket", "en": "DHL parcel"},
    "carrier": "DHL",
    "price": 490,
    "countries": ["DE", "AT"],
    "free_from": 5000,
    "delivery_time": {"de": "1-2 Werktage", "en": "1-2 working days"},
}
EXPRESS = {"name": {"en": "Express"}, "carrier": "UPS", "price": 1290, "countries": ["DE"]}


def method(api: Api, method_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.admin("PUT", f"/admin/shipping-methods/{method_id}", body)
    assert r.status_code == 200, r.json
    return r.json


def code(api: Api, text: str, **terms: Any) -> dict[str, Any]:
    r = api.admin("PUT", f"/admin/discount-codes/{text}", terms)
    assert r.status_code == 200, r.json
    return r.json


@pytest.fixture
def shop(api: Api) -> Api:
    api.add_product("tea", available=100, price=790, tax_rate="7")
    api.add_product("mug", available=100, price=1490, tax_rate="19")
    method(api, "dhl", DHL)
    method(api, "express", EXPRESS)
    return api


def checkout(api: Api, lines: list[tuple[str, int]], **extra: Any) -> Any:
    return api.place(order_body(lines, **{"shipping_method": "dhl", **extra}))


def test_methods_are_listed_and_deactivated_and_versioned(shop: Api):
    listed = shop.admin("GET", "/admin/shipping-methods").json["shipping_methods"]
    assert [m["id"] for m in listed] == ["dhl", "express"]
    assert listed[0]["countries"] == ["AT", "DE"] and listed[0]["version"] == 1
    r = shop.admin("POST", "/admin/shipping-methods/express/deactivate")
    assert r.status_code == 200 and r.json["active"] is False and r.json["version"] == 2
    r = shop.admin("POST", "/admin/shipping-methods/nope/deactivate")
    assert r.status_code == 422 and r.json["error"]["code"] == "shipping_method_unknown"


def test_shipping_options_price_each_method_for_the_basket_and_country(shop: Api):
    r = shop.call("GET", "/shipping-options?country=DE&lines=tea:2,mug:1&locale=de")
    assert r.status_code == 200, r.json
    assert r.json["goods"] == 3070
    assert [(o["id"], o["name"], o["price"]) for o in r.json["shipping_options"]] == [
        ("dhl", "DHL Paket", 490),
        ("express", "Express", 1290),
    ]
    assert r.json["shipping_options"][0]["delivery_time"] == "1-2 Werktage"
    free = shop.call("GET", "/shipping-options?country=AT&lines=mug:4").json
    assert [(o["id"], o["price"]) for o in free["shipping_options"]] == [("dhl", 0)]
    assert (
        shop.call("GET", "/shipping-options?country=FR&lines=tea:1").json["shipping_options"] == []
    )


def test_shipping_options_for_a_cart_need_its_token(shop: Api):
    cart = shop.call("POST", "/carts", {"lines": [{"sku": "tea", "quantity": 1}]}).json
    path = f"/shipping-options?country=DE&cart_id={cart['id']}"
    assert shop.call("GET", path).status_code == 401
    r = shop.call("GET", path, headers={"Authorization": f"Bearer {cart['token']}"})
    assert r.status_code == 200 and r.json["goods"] == 790


def test_mixed_rates_split_the_shipping_tax_by_the_goods_value(shop: Api):
    r = checkout(shop, [("tea", 2), ("mug", 1)], locale="de")
    assert r.status_code == 201, r.json
    order = r.json
    assert order["totals"] == {
        "currency": "EUR",
        "subtotal": 3070,
        "discount": 0,
        "shipping": 490,
        "tax": 396,
        "total": 3560,
    }
    assert order["shipping"] == {
        "method_id": "dhl",
        "name": "DHL Paket",
        "carrier": "DHL",
        "country": "DE",
        "price": 490,
        "charged": 490,
        "delivery_time": "1-2 Werktage",
    }
    assert order["tax_rates"] == [
        {"rate": "7", "goods": 1580, "shipping": 252, "gross": 1832, "net": 1712, "tax": 120},
        {"rate": "19", "goods": 1490, "shipping": 238, "gross": 1728, "net": 1452, "tax": 276},
    ]
    shown = shop.call(
        "GET", f"/orders/{order['id']}", headers={"Authorization": f"Bearer {order['token']}"}
    ).json
    assert shown["tax_rates"] == order["tax_rates"] and shown["shipping"] == order["shipping"]
    desk = shop.admin("GET", f"/admin/orders/{order['id']}").json
    assert desk["tax_rates"] == order["tax_rates"] and desk["shipping"]["method_id"] == "dhl"


def test_the_free_shipping_threshold_looks_at_the_goods(shop: Api):
    r = checkout(shop, [("mug", 4)])
    assert r.json["totals"]["shipping"] == 0 and r.json["shipping"]["price"] == 0


@pytest.mark.parametrize(
    ("extra", "status", "error"),
    [
        ({"shipping_method": "nope"}, 422, "shipping_method_unknown"),
        (
            {
                "shipping_method": "express",
                "shipping_address": {
                    "name": "E",
                    "line1": "Rue 1",
                    "postal_code": "75001",
                    "city": "Paris",
                    "country": "FR",
                },
            },
            422,
            "shipping_method_unavailable_for_country",
        ),
        ({"shipping_method": None}, 422, "shipping_method_required"),
    ],
)
def test_a_wrong_or_missing_method_is_refused_and_nothing_written(
    shop: Api, table: str, extra: dict[str, Any], status: int, error: str
):
    before = table_snapshot(table)
    body = order_body([("tea", 1)], shipping_method="dhl")
    body.update(extra)
    if body["shipping_method"] is None:
        del body["shipping_method"]
    r = shop.place(body)
    assert (r.status_code, r.json["error"]["code"]) == (status, error), r.json
    assert table_snapshot(table) == before


def test_orders_ship_free_without_a_method_while_the_shop_offers_none(api: Api):
    api.add_product("tea", available=5, price=790, tax_rate="7")
    r = api.place(order_body([("tea", 1)]))
    assert r.status_code == 201 and r.json["shipping"] is None
    assert r.json["totals"]["shipping"] == 0
    method(api, "dhl", DHL)
    r = api.place(order_body([("tea", 1)]))
    assert r.json["error"]["code"] == "shipping_method_required"
    api.admin("POST", "/admin/shipping-methods/dhl/deactivate")
    assert api.place(order_body([("tea", 1)])).status_code == 201


def test_a_percentage_code_is_case_insensitive_and_allocated_to_the_lines(shop: Api):
    code(shop, "Summer10", kind="percentage", percent="10")
    r = checkout(shop, [("tea", 2), ("mug", 1)], discount_code="summer10")
    assert r.status_code == 201, r.json
    order = r.json
    assert order["discount"] == {
        "code": "SUMMER10",
        "kind": "percentage",
        "goods": 307,
        "shipping": 0,
    }
    assert order["totals"]["discount"] == 307
    assert order["totals"]["total"] == 3070 - 307 + 490
    assert sum(line["discount"] for line in order["lines"]) == 307
    assert sum(rate["gross"] for rate in order["tax_rates"]) == order["totals"]["total"]
    assert sum(rate["tax"] for rate in order["tax_rates"]) == order["totals"]["tax"]
    listed = shop.admin("GET", "/admin/discount-codes").json["discount_codes"]
    assert [(c["code"], c["uses"]) for c in listed] == [("SUMMER10", 1)]


def test_a_free_shipping_code_waives_the_shipping(shop: Api):
    code(shop, "SHIPFREE", kind="free_shipping")
    r = checkout(shop, [("tea", 1)], discount_code="shipfree")
    assert r.json["totals"]["shipping"] == 0 and r.json["totals"]["total"] == 790
    assert r.json["shipping"]["price"] == 490 and r.json["shipping"]["charged"] == 0
    assert r.json["discount"]["shipping"] == 490


REFUSALS = [
    ("unknown", {}, "NOPE1", "discount_code_unknown"),
    ("switched off", {"kind": "free_shipping", "active": False}, "OFF1", "discount_code_unknown"),
    (
        "not yet valid",
        {"kind": "free_shipping", "valid_from": "2099-01-01T00:00:00Z"},
        "LATER",
        "discount_code_not_yet_valid",
    ),
    (
        "expired",
        {"kind": "free_shipping", "valid_until": "2020-01-01T00:00:00Z"},
        "OLD1",
        "discount_code_expired",
    ),
    ("used up", {"kind": "free_shipping", "usage_limit": 1}, "ONCE1", "discount_code_used_up"),
    (
        "this customer's",
        {"kind": "free_shipping", "once_per_customer": True},
        "MINE",
        "discount_code_already_used",
    ),
    (
        "minimum",
        {"kind": "fixed_amount", "amount": 500, "minimum": 5000},
        "BIG5",
        "discount_code_minimum_not_reached",
    ),
    (
        "other products",
        {"kind": "percentage", "percent": "5", "skus": ["mug"]},
        "MUGS",
        "discount_code_not_applicable",
    ),
]


@pytest.mark.parametrize(("what", "terms", "text", "error"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_every_refusal_of_a_code_is_a_422_with_its_own_code_and_writes_nothing(
    shop: Api, table: str, what: str, terms: dict[str, Any], text: str, error: str
):
    if terms:
        code(shop, text, **terms)
    if error in ("discount_code_used_up", "discount_code_already_used"):
        assert checkout(shop, [("tea", 1)], discount_code=text).status_code == 201
    before = table_snapshot(table)
    r = checkout(shop, [("tea", 1)], discount_code=text.lower())
    assert (r.status_code, r.json["error"]["code"]) == (422, error), r.json
    assert table_snapshot(table) == before


def test_a_cancelled_unpaid_order_gives_its_use_back_a_paid_one_does_not(shop: Api):
    code(shop, "ONCE", kind="percentage", percent="10", usage_limit=1, once_per_customer=True)
    first = checkout(shop, [("tea", 1)], discount_code="ONCE", payment_method="bank_transfer")
    assert first.status_code == 201, first.json
    assert checkout(shop, [("tea", 1)], discount_code="ONCE").json["error"]["code"] == (
        "discount_code_used_up"
    )
    assert shop.cancel(first.json).status_code == 200
    assert shop.admin("GET", "/admin/discount-codes").json["discount_codes"][0]["uses"] == 0
    again = checkout(shop, [("tea", 1)], discount_code="ONCE", payment_method="bank_transfer")
    assert again.status_code == 201, again.json  # the use and the customer's claim came back
    r = shop.admin("POST", f"/admin/orders/{again.json['id']}/payments", {"bank_reference": "X"})
    assert r.status_code == 200, r.json
    r = shop.admin("POST", f"/admin/orders/{again.json['id']}/cancel", {"reason": "asked"})
    assert r.status_code == 200, r.json
    assert shop.admin("GET", "/admin/discount-codes").json["discount_codes"][0]["uses"] == 1


def test_changing_a_code_keeps_its_uses(shop: Api):
    code(shop, "KEEP", kind="percentage", percent="10")
    checkout(shop, [("tea", 1)], discount_code="KEEP")
    changed = code(shop, "KEEP", kind="fixed_amount", amount=200)
    assert (changed["uses"], changed["version"], changed["percent"]) == (1, 2, None)
    r = shop.admin("POST", "/admin/discount-codes/keep/deactivate")
    assert r.json["active"] is False
    assert checkout(shop, [("tea", 1)], discount_code="KEEP").json["error"]["code"] == (
        "discount_code_unknown"
    )


def test_the_confirmation_shows_the_method_the_code_and_the_tax_per_rate(shop: Api, pipeline):
    code(shop, "SUMMER10", kind="percentage", percent="10")
    r = checkout(
        shop,
        [("tea", 2), ("mug", 1)],
        locale="de",
        discount_code="summer10",
        customer={"email": "rate@example.com", "name": "Rita"},
    )
    assert r.status_code == 201, r.json
    assert pipeline.consume(pipeline.flow()) == []
    (mail,) = [m for m in pipeline.mails() if m.to == "rate@example.com"]
    rates = {rate["rate"]: rate for rate in r.json["tax_rates"]}
    for body in (mail.text, mail.html):
        assert "Versand (DHL Paket)" in body
        assert "Gutschein SUMMER10" in body
        assert "enthaltene MwSt. 7 %" in body and "enthaltene MwSt. 19 %" in body
        for rate in rates.values():
            assert f"{rate['tax'] / 100:.2f}".replace(".", ",") in body
