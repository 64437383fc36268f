"""Product names per locale through the API, on moto (docs/api.md)."""

from __future__ import annotations

from tests.conftest import Api, order_body


def test_a_product_named_per_locale_is_ordered_under_the_order_s_locale_name(api: Api):
    r = api.admin(
        "PUT",
        "/admin/products/tea",
        {"name": {"de": "Schwarzer Tee", "en": "Black tea"}, "price": 790,
         "currency": "EUR", "tax_rate": "7"},
    )  # fmt: skip
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["names"]) == (
        "Schwarzer Tee",
        {"de": "Schwarzer Tee", "en": "Black tea"},
    )
    api.admin("PUT", "/admin/stock/tea", {"available": 5})
    assert api.call("GET", "/products/tea").json["names"]["en"] == "Black tea"
    for locale, name in (("de", "Schwarzer Tee"), ("en", "Black tea")):
        placed = api.place(order_body([("tea", 1)], locale=locale))
        assert placed.status_code == 201, placed.json
        assert placed.json["lines"][0]["name"] == name


def test_one_plain_name_stands_for_both_locales(api: Api):
    api.add_product("mug", available=5)
    assert api.call("GET", "/products/mug").json["names"] == {}
    placed = api.place(order_body([("mug", 1)], locale="en"))
    assert placed.json["lines"][0]["name"] == "Product mug"


def test_a_name_in_no_locale_is_refused(api: Api):
    r = api.admin(
        "PUT", "/admin/products/tea", {"name": {}, "price": 1, "currency": "EUR", "tax_rate": "7"}
    )
    assert (r.status_code, r.json["error"]["code"]) == (422, "validation_error")
