"""A business buyer at checkout, on moto: POST /orders (from lines or from a
cart) takes a `vat_id` and a `buyer_reference` beside the billing address's
`company`; the order keeps the VAT ID in its compact form, a bad one is a 422
`vat_id_invalid` that writes nothing (docs/checkout.md, docs/invoices.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, address, order_body, table_snapshot


@pytest.fixture
def shop(api: Api) -> Api:
    api.add_product("tea", available=10, price=790, tax_rate="7")
    return api


def from_lines(api: Api, **changes: Any) -> dict[str, Any]:
    return {**order_body([("tea", 2)]), **changes}


def from_cart(api: Api, **changes: Any) -> dict[str, Any]:
    r = api.call("POST", "/carts", {"lines": [{"sku": "tea", "quantity": 2}]})
    assert r.status_code == 201, r.json
    body = order_body([], cart_id=r.json["id"], cart_token=r.json["token"])
    del body["lines"]
    return {**body, **changes}


BODIES = {"lines": from_lines, "cart": from_cart}
COMPANY = {**address(), "company": "Beispiel Handel GmbH"}


@pytest.mark.parametrize("source", sorted(BODIES))
def test_the_order_keeps_the_company_vat_id_and_buyer_reference(shop: Api, source: str):
    body = BODIES[source](
        shop,
        billing_address=COMPANY,
        vat_id="de 136 695 976",
        buyer_reference="04011000-1234512345-06",
    )
    r = shop.place(body)
    assert r.status_code == 201, r.json
    placed = r.json
    assert placed["vat_id"] == "DE136695976"
    assert placed["buyer_reference"] == "04011000-1234512345-06"
    assert placed["billing_address"]["company"] == "Beispiel Handel GmbH"
    auth = {"Authorization": f"Bearer {placed['token']}"}
    again = shop.call("GET", f"/orders/{placed['id']}", headers=auth).json
    assert (again["vat_id"], again["buyer_reference"]) == ("DE136695976", "04011000-1234512345-06")


def test_a_consumer_order_has_neither(shop: Api):
    r = shop.place(from_lines(shop))
    assert r.status_code == 201, r.json
    assert r.json["vat_id"] is None and r.json["buyer_reference"] is None


@pytest.mark.parametrize("source", sorted(BODIES))
@pytest.mark.parametrize(
    "vat_id, reason",
    [("DE136695975", "check_digits"), ("ATU1234", "format"), ("CHE123456789", "unknown_country")],
)
def test_a_bad_vat_id_is_refused_and_changes_nothing(
    shop: Api, table: str, source: str, vat_id: str, reason: str
):
    body = BODIES[source](shop, billing_address=COMPANY, vat_id=vat_id)
    before = table_snapshot(table)
    r = shop.place(body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "vat_id_invalid"
    assert r.json["error"]["details"] == {"reason": reason}
    assert r.json["error"]["request_id"]
    assert table_snapshot(table) == before
    assert shop.stock("tea")["available"] == 10


@pytest.mark.parametrize("field", ["vat_id", "buyer_reference"])
@pytest.mark.parametrize("value", ["", "x" * 200, 12, "<script>"])
def test_malformed_values_are_validation_errors(shop: Api, table: str, field: str, value: Any):
    before = table_snapshot(table)
    r = shop.place(from_lines(shop, **{field: value}))
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert table_snapshot(table) == before
