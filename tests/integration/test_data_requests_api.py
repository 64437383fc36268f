"""Data subject requests through the app on moto (docs/gdpr.md): one record
of every kind the shop keeps about a customer is made through the real
routes, handlers and pipeline; the export shows each kind, the erasure
leaves none of what may go, keeps the orders restricted, and every marketing
path then refuses the address; each request is recorded."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.data_requests import EXPORTED_KINDS, subject_hash
from chalicelib.payments import fake
from local.delivery import sqs_lambda_event
from tests.conftest import STRIPE_SECRETS, order_body, table_snapshot
from tests.integration.test_payments_api import PAYMENT_EVENTS_ARN, receive_all
from tests.integration.test_schedules import cart_body, invoke, shop  # noqa: F401 - fixtures

EMAIL = "erika@example.com"


def data_request(api: Any, kind: str, email: str = EMAIL) -> Any:
    return api.admin("POST", "/admin/data-requests", {"email": email, "kind": kind})


def items(table: str) -> list[dict[str, Any]]:
    return table_snapshot(table)


def pks(table: str, prefix: str) -> list[str]:
    return [i["PK"]["S"] for i in items(table) if i["PK"]["S"].startswith(prefix)]


def one_of_everything(api: Any, pipeline: Any, clock: Any) -> dict[str, str]:
    """A paid, shipped card order (webhook receipt, payment reference,
    tracking claim, its emails, its invoice and a credit note), a nudged
    cart (its event, opt-out link and email), an opt-out (suppression) and
    an earlier request."""
    placed = api.place(order_body([("tea", 1)], customer={"email": EMAIL, "name": "Erika"}))
    assert placed.status_code == 201, placed.json
    order_id = placed.json["id"]
    order = bootstrap.context().orders.get(order_id).order
    body, headers = fake.signed_request(
        bootstrap.fake_stripe().pay(order), STRIPE_SECRETS[1], int(clock.now.timestamp())
    )
    assert (
        api.call("POST", "/webhooks/payments/stripe", headers=headers, raw=body).json["outcome"]
        == "queued"
    )
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:
        applied = client.lambda_.invoke(
            "apply_payment_events", sqs_lambda_event(receive_all(), PAYMENT_EVENTS_ARN)
        ).payload
    assert applied == {"batchItemFailures": []}
    shipped = api.admin(
        "POST",
        f"/admin/orders/{order_id}/shipments",
        {
            "carrier": "dhl",
            "tracking_number": "00340434161094042557",
            "lines": [{"sku": "tea", "quantity": 1}],
        },
    )
    assert shipped.status_code == 201, shipped.json
    # Its invoice and a credit note, as the invoices queue's consumer issues
    # them (the credit note from a refund event alone: the order stays paid).
    from chalicelib.services.invoices import issue_documents

    for detail_type, data in (("OrderPaid", {}), ("OrderRefunded", {"amount": 100})):
        detail = {"event_id": f"evt-{detail_type}", "order": {"id": order_id}, "data": data}
        assert len(issue_documents(detail_type, detail, bootstrap.invoicing())) == 1

    cart = api.call("POST", "/carts", cart_body(email="Erika@Example.com")).json
    clock.advance(hours=11)
    assert invoke(api, "nudge_abandoned_carts")["acted"] == 1
    pipeline.run_until_quiet()
    assert {m.to for m in pipeline.mails()} >= {EMAIL, "Erika@example.com"}
    (token,) = [
        i["data"]["M"]["opt_out_token"]["S"]
        for i in items(pipeline.table)
        if i.get("entity", {}).get("S") == "cart_event"
    ]
    opted_out = api.http.request(
        "POST",
        f"/opt-out/{token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click",
    )
    assert opted_out.status_code == 200
    return {"order_id": order_id, "cart_id": cart["id"], "opt_out_token": token}


def test_the_export_holds_every_kind_of_record_kept_about_the_customer(pipeline, shop, clock):  # noqa: F811
    made = one_of_everything(shop, pipeline, clock)
    assert data_request(shop, "export").status_code == 201  # an earlier request is a record too

    r = data_request(shop, "export", "  ERIKA@example.COM")
    assert r.status_code == 201, r.json
    export = r.json["export"]
    assert set(export) == set(EXPORTED_KINDS)
    missing = [kind for kind in EXPORTED_KINDS if not export[kind]]
    assert missing == [], f"the export has no {missing}: make one in one_of_everything"
    (order,) = export["order"]
    assert order["customer"]["email"] == EMAIL
    assert export["cart"][0]["consent"]["granted"] is True
    assert export["suppression"][0]["source"] == "one_click"
    text = json.dumps(export)
    # No secret leaves with the export: no token, no token hash, no link with a token.
    secrets = ("token_hash", "recovery_token", made["opt_out_token"], "/opt-out/", "token=")
    for secret in secrets:
        assert secret not in text
    assert r.json["kept_orders"] == []
    outcome = r.json["request"]["outcome"]
    assert outcome["order"] == {"found": 1, "erased": 0, "restricted": 0, "kept": 1}


def test_erasure_leaves_nothing_erasable_keeps_the_order_restricted_and_stops_marketing(
    pipeline,
    shop,  # noqa: F811
    clock,
):
    made = one_of_everything(shop, pipeline, clock)
    other = shop.call("POST", "/carts", cart_body(email="someone@example.com")).json
    late = shop.call("POST", "/carts", cart_body()).json
    clock.advance(hours=11)
    # Only the other customer's cart: Erika opted out.
    assert invoke(shop, "nudge_abandoned_carts")["acted"] == 1

    r = data_request(shop, "erasure", EMAIL)
    assert r.status_code == 201, r.json
    table = pipeline.table
    assert pks(table, f"CART#{made['cart_id']}") == []
    assert pks(table, f"CART#{late['id']}") == []
    erika_hash = subject_hash(EMAIL)
    tokens = [i for i in items(table) if i["PK"]["S"].startswith("OPTOUT#")]
    assert [t["email_hash"]["S"] for t in tokens] == [subject_hash("someone@example.com")]
    assert erika_hash not in json.dumps(tokens)
    assert pks(table, f"EMAILRECEIPT#{made['cart_id']}") == []
    assert pks(table, f"CART#{other['id']}"), "another customer's cart stays"
    assert (
        "erika"
        not in json.dumps(
            [i for i in items(table) if not i["PK"]["S"].startswith(("ORDER#", "EMAILRECEIPT#"))]
        ).lower()
    ), "only the kept order (and its partition) may still name the address"

    (kept,) = r.json["kept_orders"]
    assert kept["order_id"] == made["order_id"]
    assert kept["kept_until"] == "2034-12-31"  # paid in 2026: a booking record, 8 years
    order = bootstrap.context().orders.get(made["order_id"]).order
    assert order.processing_restricted_at is not None and not order.marketing_allowed
    assert r.json["request"]["outcome"]["order"]["restricted"] == 1
    assert r.json["request"]["outcome"]["cart"]["erased"] == 2  # the nudged one and `late`

    left = data_request(shop, "export").json["export"]
    for kind in ("cart", "cart_event", "opt_out_token"):
        assert left[kind] == [], kind
    assert [e["kind"] for e in left["email_receipt"]] != []  # the order's stay
    assert all(not e["kind"].startswith("cart") for e in left["email_receipt"])
    assert left["order"][0]["processing_restricted_at"] == kept["restricted_at"]
    assert left["suppression"] and left["data_request"]

    # A new cart of the address is never nudged.
    again = shop.call("POST", "/carts", cart_body(email="ERIKA@example.com")).json
    clock.advance(hours=11)
    assert invoke(shop, "nudge_abandoned_carts")["acted"] == 0
    assert [i for i in pks(table, f"CART#{again['id']}")] == [f"CART#{again['id']}"]


def test_a_nudge_in_flight_when_the_erasure_comes_is_not_mailed(pipeline, shop, clock):  # noqa: F811
    cart = shop.call("POST", "/carts", cart_body()).json
    clock.advance(hours=11)
    assert invoke(shop, "nudge_abandoned_carts")["acted"] == 1  # written, not yet mailed
    assert data_request(shop, "erasure").status_code == 201
    assert pks(pipeline.table, f"CART#{cart['id']}") == []
    pipeline.run_until_quiet()
    assert [m for m in pipeline.mails() if m.to == EMAIL] == []
    assert pipeline.dead_letters() == []


def test_a_restriction_deletes_nothing_and_stops_the_nudge(pipeline, shop, clock):  # noqa: F811
    placed = shop.place(order_body([("tea", 1)]))
    cart = shop.call("POST", "/carts", cart_body()).json
    before = len(items(pipeline.table))
    r = data_request(shop, "restriction")
    assert r.status_code == 201, r.json
    assert r.json["export"] is None
    assert bootstrap.context().orders.get(placed.json["id"]).order.marketing_allowed is False
    assert pks(pipeline.table, f"CART#{cart['id']}")
    # Added: the suppression entry and the request's record; nothing deleted.
    assert len(items(pipeline.table)) == before + 2
    clock.advance(hours=11)
    assert invoke(shop, "nudge_abandoned_carts")["acted"] == 0


def test_each_request_is_recorded_by_the_address_s_hash_never_the_address(pipeline, shop, clock):  # noqa: F811
    for kind in ("export", "restriction", "erasure"):
        assert data_request(shop, kind).status_code == 201
    records = [i for i in items(pipeline.table) if i["PK"]["S"].startswith("DATAREQUEST#")]
    assert {i["PK"]["S"] for i in records} == {f"DATAREQUEST#{subject_hash(EMAIL)}"}
    assert sorted(i["kind"]["S"] for i in records) == ["erasure", "export", "restriction"]
    for record in records:
        assert record["actor"]["S"].startswith("merchant:")
        assert record["requested_at"]["S"] and record["completed_at"]["S"]
        assert int(record["expires_at"]["N"]) > int(clock.now.timestamp())
    assert "erika" not in json.dumps(records).lower()


def test_an_invalid_address_or_kind_is_a_422_and_writes_nothing(api, table):
    before = table_snapshot(table)
    for body in (
        {"email": "not-an-address", "kind": "export"},
        {"email": EMAIL, "kind": "delete_everything"},
        {"email": EMAIL},
        {"email": EMAIL, "kind": "erasure", "extra": 1},
    ):
        r = api.admin("POST", "/admin/data-requests", body)
        assert r.status_code == 422, (body, r.json)
        assert r.json["error"]["code"]
    assert (
        api.call("POST", "/admin/data-requests", {"email": EMAIL, "kind": "export"}).status_code
        == 401
    )
    assert table_snapshot(table) == before
