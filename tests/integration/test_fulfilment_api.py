"""Fulfilment through the app on moto: shipments, signed carrier callbacks,
returns, notes, merchant cancel, the desk and the packing slip."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.carriers.signing import sign
from tests.conftest import order_body, table_snapshot

SECRET = "carrier-test-secret"
PARAMETER = "/shop/test/carrier-webhook-secrets"


@pytest.fixture
def shop(api, table, monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("SHOP_CARRIER_WEBHOOK_SECRETS_PARAMETER", PARAMETER)
    boto3.client("ssm").put_parameter(
        Name=PARAMETER,
        Value=json.dumps(["old-secret-being-rotated-out", SECRET]),
        Type="SecureString",
        Overwrite=True,
    )
    bootstrap.reset()
    for sku, available in (("tea", 10), ("mug", 5), ("pot", 4)):
        api.add_product(sku, available)
    return api


def paid_order(api, table, lines=(("tea", 4), ("mug", 2), ("pot", 1)), **overrides) -> str:
    """Placed, then marked paid by the merchant (a bank transfer seen): a real
    payment on the order, so refunds go through the payments service."""
    r = api.place(order_body(list(lines), **overrides))
    assert r.status_code == 201, r.json
    paid = api.admin("POST", f"/admin/orders/{r.json['id']}/payments", {"bank_reference": "TX-1"})
    assert paid.status_code == 200, paid.json
    return r.json["id"]


def ship(api, order_id, number, lines, carrier="dhl", **extra) -> Any:
    return api.admin(
        "POST",
        f"/admin/orders/{order_id}/shipments",
        {
            "carrier": carrier,
            "tracking_number": number,
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            **extra,
        },
    )


def carrier_event(api, carrier, body: dict[str, Any], secret=SECRET, at=None) -> Any:
    raw = json.dumps(body).encode()
    header = sign(secret, int(at if at is not None else time.time()), raw)
    return api.call(
        "POST", f"/webhooks/carriers/{carrier}", raw=raw, headers={"Carrier-Signature": header}
    )


def event(number, status, hours, event_id=None) -> dict[str, Any]:
    at = datetime(2026, 11, 24, 8, tzinfo=UTC) + timedelta(hours=hours)
    return {
        "event_id": event_id or f"{number}-{status}-{hours}",
        "tracking_number": number,
        "status": status,
        "occurred_at": at.isoformat(),
        "location": "Berlin",
    }


def test_ship_in_two_parts_then_carrier_events_deliver_the_order(shop, table):
    order_id = paid_order(shop, table)
    r = ship(shop, order_id, "00340434161094042557", [("tea", 3), ("mug", 2)])
    assert r.status_code == 201, r.json
    assert r.json["tracking_url"].endswith("piececode=00340434161094042557")
    assert (shop.stock("tea")["reserved"], shop.stock("tea")["shipped"]) == (1, 3)
    assert ship(shop, order_id, "H-1234567", [("tea", 1), ("pot", 1)], "hermes").status_code == 201

    detail = shop.admin("GET", f"/admin/orders/{order_id}").json
    assert detail["status"] == "shipped"
    assert [s["carrier"] for s in detail["shipments"]] == ["dhl", "hermes"]
    assert "token_hash" not in detail

    deliveries = [
        ("dhl", event("00340434161094042557", "delivered", 30)),
        ("dhl", event("00340434161094042557", "in_transit", 2)),  # late, older: no-op
        ("dhl", event("00340434161094042557", "delivered", 30)),  # duplicate
        ("hermes", event("H-1234567", "out_for_delivery", 20)),
    ]
    outcomes = [carrier_event(shop, c, b) for c, b in deliveries]
    assert [r.status_code for r in outcomes] == [200] * 4
    # The duplicate finds the parcel delivered already: ignored before its id is checked.
    assert [r.json["outcome"] for r in outcomes] == ["applied", "ignored", "ignored", "applied"]
    assert shop.admin("GET", f"/admin/orders/{order_id}").json["status"] == "shipped"

    r = carrier_event(shop, "hermes", event("H-1234567", "delivered", 40))
    assert r.json["outcome"] == "applied"
    detail = shop.admin("GET", f"/admin/orders/{order_id}").json
    assert (detail["status"], detail["fulfilment_status"]) == ("delivered", "delivered")
    events = [h["event"] for h in detail["history"]]
    assert events.count("OrderShipped") == 2 and events.count("OrderDelivered") == 1
    assert events.count("ShipmentUpdated") == 3


def test_carrier_callbacks_need_a_valid_recent_signature(shop, table):
    order_id = paid_order(shop, table)
    ship(shop, order_id, "A-100", [("tea", 1)])
    body = event("A-100", "in_transit", 1)
    before = table_snapshot(table)
    assert carrier_event(shop, "dhl", body, secret="wrong").status_code == 401
    assert carrier_event(shop, "dhl", body, at=time.time() - 301).status_code == 401
    raw = json.dumps(body).encode()
    unsigned = shop.call("POST", "/webhooks/carriers/dhl", raw=raw)
    assert unsigned.status_code == 401
    assert unsigned.json["error"]["code"] == "invalid_signature"
    # A signed body that was altered afterwards.
    header = sign(SECRET, int(time.time()), raw)
    tampered = raw.replace(b"in_transit", b"delivered")
    r = shop.call(
        "POST", "/webhooks/carriers/dhl", raw=tampered, headers={"Carrier-Signature": header}
    )
    assert r.status_code == 401
    assert table_snapshot(table) == before
    assert carrier_event(shop, "dhl", body).json["outcome"] == "applied"


def test_bad_carrier_events_and_unknown_parcels_are_clear_4xx(shop, table):
    order_id = paid_order(shop, table)
    ship(shop, order_id, "A-100", [("tea", 1)])
    before = table_snapshot(table)
    bad = carrier_event(shop, "dhl", {**event("A-100", "teleported", 1)})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "validation_error"
    naive = carrier_event(
        shop, "dhl", {**event("A-100", "in_transit", 1), "occurred_at": "2026-11-24T08:00:00"}
    )
    assert naive.status_code == 422
    unknown = carrier_event(shop, "dhl", event("NOT-OURS", "in_transit", 1))
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "shipment_not_found"
    other_carrier = carrier_event(shop, "dpd", event("A-100", "in_transit", 1))
    assert other_carrier.status_code == 404
    assert table_snapshot(table) == before


def test_bad_shipments_are_refused_and_change_nothing(shop, table):
    order_id = paid_order(shop, table)
    before = table_snapshot(table)
    too_many = ship(shop, order_id, "A-1", [("tea", 5)])
    assert too_many.status_code == 409
    assert too_many.json["error"]["code"] == "shipment_exceeds_order"
    assert ship(shop, order_id, "A-1", [("nope", 1)]).status_code == 422
    assert ship(shop, order_id, "A-1", [("tea", 0)]).status_code == 422
    assert ship(shop, order_id, "A-1", [("tea", 1)], carrier="pigeon").status_code == 422
    assert ship(shop, order_id, "A-1", []).status_code == 422
    assert ship(shop, order_id, "A-1", [("tea", 1)], extra_field=1).status_code == 422
    assert ship(shop, "no-such-order", "A-1", [("tea", 1)]).status_code == 404
    assert table_snapshot(table) == before
    unpaid = shop.place(order_body([("tea", 1)])).json["id"]
    after_unpaid = table_snapshot(table)
    r = ship(shop, unpaid, "A-2", [("tea", 1)])
    assert r.status_code == 409 and r.json["error"]["code"] == "illegal_transition"
    assert table_snapshot(table) == after_unpaid
    # The same tracking number twice: the retried request ships nothing more.
    assert ship(shop, order_id, "A-1", [("tea", 1)]).status_code == 201
    again = ship(shop, order_id, "A-1", [("tea", 1)])
    assert again.status_code == 409 and again.json["error"]["code"] == "tracking_number_in_use"
    assert shop.stock("tea")["shipped"] == 1


def test_return_with_mixed_restock_choices_and_a_refund(shop, table):
    order_id = paid_order(shop, table)
    ship(shop, order_id, "A-1", [("tea", 4), ("mug", 2), ("pot", 1)])
    r = shop.admin(
        "POST",
        f"/admin/orders/{order_id}/returns",
        {
            "lines": [
                {"sku": "tea", "quantity": 2, "restock": True},
                {"sku": "pot", "quantity": 1, "restock": False},
            ],
            "refund": 3000,
            "surcharge": 490,
            "reason": "did not like it",
        },
    )
    assert r.status_code == 201, r.json
    tea, pot = shop.stock("tea"), shop.stock("pot")
    assert (tea["available"], tea["reserved"], tea["shipped"], tea["restocked"]) == (8, 0, 4, 2)
    assert (pot["available"], pot["shipped"], pot["restocked"]) == (3, 1, 0)
    assert r.json["return_credit_total"] == 2 * 1999 + 1999
    assert r.json["return_surcharge_total"] == 490
    assert r.json["payment_status"] == "partially_refunded"
    assert [h["event"] for h in r.json["history"]][-2:] == ["ReturnRecorded", "OrderRefunded"]
    before = table_snapshot(table)
    over = shop.admin(
        "POST",
        f"/admin/orders/{order_id}/returns",
        {"lines": [{"sku": "tea", "quantity": 3, "restock": True}]},
    )
    assert over.status_code == 409 and over.json["error"]["code"] == "return_exceeds_shipped"
    missing_choice = shop.admin(
        "POST", f"/admin/orders/{order_id}/returns", {"lines": [{"sku": "tea", "quantity": 1}]}
    )
    assert missing_choice.status_code == 422
    assert table_snapshot(table) == before


def test_notes_internal_and_customer_visible(shop, table):
    order_id = paid_order(shop, table)
    token_order = shop.place(order_body([("tea", 1)]))
    for note, visibility in (("fragile", "internal"), ("Ships Monday", "customer")):
        r = shop.admin(
            "POST", f"/admin/orders/{order_id}/notes", {"note": note, "visibility": visibility}
        )
        assert r.status_code == 201
    detail = shop.admin("GET", f"/admin/orders/{order_id}").json
    assert [(n["note"], n["visibility"]) for n in detail["notes"]] == [
        ("fragile", "internal"),
        ("Ships Monday", "customer"),
    ]
    assert detail["notes"][0]["by"].startswith("merchant:")
    assert shop.admin("POST", f"/admin/orders/{order_id}/notes", {"note": ""}).status_code == 422
    # The customer sees the customer-visible note only.
    r = shop.admin("POST", f"/admin/orders/{token_order.json['id']}/notes", {"note": "hidden"})
    assert r.status_code == 201
    r = shop.admin(
        "POST",
        f"/admin/orders/{token_order.json['id']}/notes",
        {"note": "visible", "visibility": "customer"},
    )
    mine = shop.call(
        "GET",
        f"/orders/{token_order.json['id']}",
        headers={"Authorization": f"Bearer {token_order.json['token']}"},
    ).json
    messages = [h["message"] for h in mine["history"]]
    assert "visible" in messages and "hidden" not in messages


def test_merchant_cancel_releases_stock_and_refunds_a_paid_order(shop, table):
    order_id = paid_order(shop, table)
    r = shop.admin("POST", f"/admin/orders/{order_id}/cancel", {"reason": "sold out elsewhere"})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["payment_status"]) == ("cancelled", "refunded")
    assert shop.stock("tea")["available"] == 10
    again = shop.admin("POST", f"/admin/orders/{order_id}/cancel")
    assert [h["event"] for h in again.json["history"]].count("OrderRefunded") == 1
    shipped = paid_order(shop, table)
    ship(shop, shipped, "A-1", [("tea", 1)])
    late = shop.admin("POST", f"/admin/orders/{shipped}/cancel")
    assert late.status_code == 409


def test_desk_listing_through_the_api(shop, table):
    ids = [paid_order(shop, table, lines=(("tea", 1),)) for _ in range(3)]
    bank = shop.place(order_body([("mug", 1)], payment_method="bank_transfer")).json["id"]
    r = shop.admin("GET", "/admin/orders?payment_method=bank_transfer")
    assert [o["id"] for o in r.json["orders"]] == [bank]
    assert r.json["served_by"] == "by_payment_method"
    page1 = shop.admin("GET", "/admin/orders?status=paid&limit=2").json
    assert len(page1["orders"]) == 2 and page1["next_cursor"]
    page2 = shop.admin("GET", f"/admin/orders?status=paid&limit=2&cursor={page1['next_cursor']}")
    seen = [o["id"] for o in page1["orders"] + page2.json["orders"]]
    assert sorted(seen) == sorted(ids)
    bad = shop.admin("GET", "/admin/orders?status=paid&cursor=garbage")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_cursor"
    foreign = shop.admin("GET", f"/admin/orders?status=shipped&cursor={page1['next_cursor']}")
    assert foreign.status_code == 400
    assert shop.admin("GET", "/admin/orders?status=lost").status_code == 422
    assert shop.admin("GET", "/admin/orders?color=red").status_code == 422
    assert shop.admin("GET", "/admin/orders?created_from=2026-11-01").status_code == 422
    number = shop.admin("GET", f"/admin/orders/{ids[0]}").json["number"]
    found = shop.admin("GET", f"/admin/orders?number={number.lower()}").json
    assert [o["id"] for o in found["orders"]] == [ids[0]]
    assert shop.call("GET", "/admin/orders").status_code == 401


def slip(api, path: str) -> Any:
    from tests.conftest import ADMIN_KEY

    return api.http.request("GET", path, headers={"Authorization": f"Bearer {ADMIN_KEY}"})


def test_packing_slip_is_printable_html_in_the_order_language(shop, table):
    order_id = paid_order(
        shop,
        table,
        shipping_address={
            "name": "Erika <Mustermann>",
            "line1": "Hauptstr. 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
    )
    r = slip(shop, f"/admin/orders/{order_id}/packing-slip")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    html = r.body.decode()
    assert "Lieferschein" in html and "@media print" in html
    assert "Erika &lt;Mustermann&gt;" in html  # escaped
    assert all(sku in html for sku in ("tea", "mug", "pot"))
    shipment = ship(shop, order_id, "A-1", [("mug", 2)]).json
    only = slip(shop, f"/admin/orders/{order_id}/packing-slip?shipment_id={shipment['id']}")
    body = only.body.decode()
    assert "Product mug" in body and "Product tea" not in body
    missing = slip(shop, f"/admin/orders/{order_id}/packing-slip?shipment_id=x")
    assert missing.status_code == 422


def test_the_customer_sees_shipments_with_tracking_links_but_no_internal_entries(shop, table):
    placed = shop.place(order_body([("tea", 2)])).json
    shop.admin("POST", f"/admin/orders/{placed['id']}/payments", {"bank_reference": "TX-9"})
    ship(shop, placed["id"], "123456789012", [("tea", 2)], carrier="DPD")
    carrier_event(shop, "dpd", event("123456789012", "in_transit", 1))
    view = shop.call(
        "GET", f"/orders/{placed['id']}", headers={"Authorization": f"Bearer {placed['token']}"}
    ).json
    assert [(s["carrier"], s["tracking_url"], s["status"]) for s in view["shipments"]] == [
        ("dpd", "https://tracking.dpd.de/status/de_DE/parcel/123456789012", "in_transit")
    ]
    assert "ShipmentUpdated" not in [h["event"] for h in view["history"]]
