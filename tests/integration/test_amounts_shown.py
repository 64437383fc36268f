"""The shipping method (or pickup location), the discount code and the VAT per
rate, wherever an order is shown: the customer's order page, the admin view,
the order desk's listing and the packing slip (the emails:
tests/unit/test_email_rendering.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_KEY, Api, order_body
from tests.integration.test_checkout_terms_api import code
from tests.integration.test_pickup_api import collect
from tests.integration.test_pickup_api import shop as shop  # noqa: PLC0414 - the fixture

RATES = [
    {"rate": "7", "goods": 1422, "shipping": 252, "gross": 1674, "net": 1564, "tax": 110},
    {"rate": "19", "goods": 1341, "shipping": 238, "gross": 1579, "net": 1327, "tax": 252},
]


@pytest.fixture
def coded(shop: Api) -> dict[str, Any]:
    code(shop, "SUMMER10", kind="percentage", percent="10")
    r = shop.place(
        order_body([("tea", 2), ("mug", 1)], shipping_method="dhl", discount_code="summer10")
    )
    assert r.status_code == 201, r.json
    assert r.json["tax_rates"] == RATES
    return dict(r.json)


def slip(api: Api, order_id: str, query: str = "") -> str:
    r = api.http.request(
        "GET",
        f"/admin/orders/{order_id}/packing-slip{query}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert r.status_code == 200, r.body
    return str(r.body.decode())


def test_the_order_page_and_the_admin_view_show_method_code_and_rates(shop: Api, coded):
    page = shop.call(
        "GET", f"/orders/{coded['id']}", headers={"Authorization": f"Bearer {coded['token']}"}
    ).json
    desk = shop.admin("GET", f"/admin/orders/{coded['id']}").json
    for shown in (page, desk):
        assert shown["shipping"]["name"] == "DHL Paket"
        assert shown["discount"]["code"] == "SUMMER10"
        assert shown["tax_rates"] == RATES


def test_the_desk_listing_shows_method_or_location_code_and_rates(shop: Api, coded):
    collected = collect(shop, [("tea", 1)]).json
    listed = {o["id"]: o for o in shop.admin("GET", "/admin/orders").json["orders"]}
    sent = listed[coded["id"]]
    assert (sent["shipping"]["name"], sent["pickup"]) == ("DHL Paket", None)
    assert sent["discount"] == {"code": "SUMMER10", "kind": "percentage", "goods": 307,
                                "shipping": 0}  # fmt: skip
    assert sent["tax_rates"] == RATES
    fetched = listed[collected["id"]]
    assert (fetched["shipping"], fetched["pickup"]["name"]) == (None, "Laden Berlin-Mitte")
    assert [r["rate"] for r in fetched["tax_rates"]] == ["7"]


def test_the_packing_slip_names_the_method_and_shows_amounts_when_asked(shop: Api, coded):
    plain = slip(shop, coded["id"])
    assert "Versandart</strong>: DHL Paket (1-2 Werktage)" in plain
    assert "SUMMER10" not in plain and "Gesamt" not in plain  # no prices by default
    priced = slip(shop, coded["id"], "?amounts=true")
    assert "Gutschein SUMMER10" in priced and "-3,07 €" in priced
    assert "enthaltene MwSt. 7 % (auf 16,74 €)" in priced and "1,10 €" in priced
    assert "enthaltene MwSt. 19 % (auf 15,79 €)" in priced and "2,52 €" in priced
    assert "32,53 €" in priced  # the total


def test_the_packing_slip_of_a_pickup_order_names_the_location(shop: Api):
    collected = collect(shop, [("tea", 1)]).json
    html = slip(shop, collected["id"])
    assert "Abholung" in html and "Laden Berlin-Mitte" in html and "Torstr. 12" in html
    assert "Abholung durch</strong>: Erika Mustermann" in html
