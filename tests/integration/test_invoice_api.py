"""GET /orders/{order_id}/invoices: the customer's invoice and credit notes, by
the order's token (on moto; the documents issued by the invoices service as
its queue consumer issues them)."""

from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.services.invoices import issue_documents
from tests.conftest import order_body


def paid(api):
    api.add_product("tea", available=10, price=1190, tax_rate="7")
    api.add_product("mug", available=10, price=1900, tax_rate="19")
    r = api.place(order_body([("tea", 2), ("mug", 1)], payment_method="bank_transfer"))
    assert r.status_code == 201, r.json
    order = r.json
    r = api.admin("POST", f"/admin/orders/{order['id']}/payments", {"bank_reference": "TX-1"})
    assert r.status_code == 200, r.json
    return order


def documents(api, order, token=None):
    auth = {"Authorization": f"Bearer {token or order['token']}"}
    return api.call("GET", f"/orders/{order['id']}/invoices", headers=auth)


def event(detail_type, order, event_id, **data):
    return {"event_id": event_id, "order": {"id": order["id"]}, "data": data}


def test_the_list_is_empty_until_the_invoice_is_issued_then_names_it(api):
    order = paid(api)
    r = documents(api, order)
    assert r.status_code == 200, r.json
    assert r.json == {"order_id": order["id"], "documents": []}

    (number,) = issue_documents("OrderPaid", event("OrderPaid", order, "e1"), bootstrap.invoicing())
    r = documents(api, order)
    (invoice,) = r.json["documents"]
    assert invoice["kind"] == "invoice" and invoice["number"] == number
    assert invoice["gross"] == order["totals"]["total"] == 4280
    assert invoice["tax"] == order["totals"]["tax"]
    assert [rate["rate"] for rate in invoice["rates"]] == ["7", "19"]
    assert invoice["corrects"] is None and invoice["reason"] is None


def test_a_credit_note_follows_its_invoice_and_names_it(api):
    order = paid(api)
    invoicing = bootstrap.invoicing()
    issue_documents("OrderPaid", event("OrderPaid", order, "e1"), invoicing)
    r = api.admin("POST", f"/admin/orders/{order['id']}/refunds", {"amount": 1000})
    assert r.status_code == 200, r.json
    refund = event("OrderRefunded", order, "e2", amount=1000, reference=None)
    issue_documents("OrderRefunded", refund, invoicing)
    invoice, note = documents(api, order).json["documents"]
    assert note["kind"] == "credit_note" and note["number"].startswith("GS-")
    assert note["corrects"] == invoice["number"]
    assert note["gross"] == -1000 and note["reason"] == "refund"
    assert sum(rate["gross"] for rate in note["rates"]) == -1000


def test_a_wrong_token_answers_like_a_missing_order(api):
    order = paid(api)
    r = documents(api, order, token="not-the-token")
    assert r.status_code == 404
    assert r.json["error"]["code"] == "order_not_found"
