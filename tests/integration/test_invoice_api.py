"""GET /orders/{order_id}/invoices: the customer's invoice and credit notes, by
the order's token (on moto; the documents issued by the invoices service as
its queue consumer issues them)."""

from __future__ import annotations

import json

from chalicelib import bootstrap
from chalicelib.services.invoices import issue_documents
from tests.conftest import ADMIN_KEY, address, order_body


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


def e_invoice(api, order, number, token=None, query=""):
    """The download: XML when it is found, the JSON error body otherwise."""
    auth = {"Authorization": f"Bearer {token or order['token']}"}
    path = f"/orders/{order['id']}/invoices/{number}/xml{query}"
    r = api.http.request("GET", path, headers=auth)
    is_json = r.headers.get("Content-Type", "").startswith("application/json")
    r.json = json.loads(r.body) if is_json else None
    return r


def test_each_document_downloads_as_a_valid_en16931_e_invoice(api):
    from xml.etree import ElementTree as ET

    import facturx

    from chalicelib.domain.einvoice import NS

    order = paid(api)
    invoicing = bootstrap.invoicing()
    (number,) = issue_documents("OrderPaid", event("OrderPaid", order, "e1"), invoicing)
    r = api.admin("POST", f"/admin/orders/{order['id']}/refunds", {"amount": 1000})
    assert r.status_code == 200, r.json
    (credit,) = issue_documents(
        "OrderRefunded", event("OrderRefunded", order, "e2", amount=1000, reference=None), invoicing
    )

    for wanted, type_code, gross in ((number, "380", "42.80"), (credit, "381", "10.00")):
        r = e_invoice(api, order, wanted)
        assert r.status_code == 200, r.body
        assert r.headers["Content-Type"].startswith("application/xml")
        assert f'filename="{wanted}.xml"' in r.headers["Content-Disposition"]
        assert facturx.xml_check_xsd(r.body, flavor="factur-x", level="en16931") is True
        root = ET.fromstring(r.body)
        assert root.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=NS) == wanted
        assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == type_code
        assert root.findtext(".//ram:GrandTotalAmount", namespaces=NS) == gross


def test_an_unknown_number_a_malformed_one_and_a_wrong_token_are_refused(api):
    order = paid(api)
    issue_documents("OrderPaid", event("OrderPaid", order, "e1"), bootstrap.invoicing())
    r = e_invoice(api, order, "RE-1999-00001")
    assert (r.status_code, r.json["error"]["code"]) == (404, "document_not_found")
    r = e_invoice(api, order, "invoice")
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_document_number")
    (number,) = [d["number"] for d in documents(api, order).json["documents"]]
    r = e_invoice(api, order, number, token="x" * 43)
    assert (r.status_code, r.json["error"]["code"]) == (404, "order_not_found")


def test_a_business_buyers_invoice_downloads_as_xrechnung_with_its_vat_id(api):
    from xml.etree import ElementTree as ET

    import facturx

    from chalicelib.domain.einvoice import NS, XRECHNUNG_3

    api.add_product("tea", available=10, price=1190, tax_rate="7")
    billing = {**address(), "company": "Stadtverwaltung Musterstadt"}
    body = order_body(
        [("tea", 1)],
        payment_method="bank_transfer",
        billing_address=billing,
        vat_id="DE136695976",
        buyer_reference="04011000-1234512345-06",
    )
    r = api.place(body)
    assert r.status_code == 201, r.json
    order = r.json
    r = api.admin("POST", f"/admin/orders/{order['id']}/payments", {"bank_reference": "TX-1"})
    assert r.status_code == 200, r.json
    (number,) = issue_documents("OrderPaid", event("OrderPaid", order, "e1"), bootstrap.invoicing())

    r = e_invoice(api, order, number, query="?flavour=xrechnung")
    assert r.status_code == 200, r.body
    assert f'filename="{number}-xrechnung.xml"' in r.headers["Content-Disposition"]
    assert facturx.xml_check_xsd(r.body, flavor="factur-x", level="en16931") is True
    root = ET.fromstring(r.body)
    assert root.findtext(
        ".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", namespaces=NS
    ) == (XRECHNUNG_3)
    assert root.findtext(".//ram:BuyerReference", namespaces=NS) == "04011000-1234512345-06"
    buyer = ".//ram:BuyerTradeParty/"
    assert root.findtext(buyer + "ram:Name", namespaces=NS) == "Stadtverwaltung Musterstadt"
    assert root.findtext(buyer + "ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS) == (
        "DE136695976"
    )
    # The default flavour is Factur-X's EN 16931, from the same stored document.
    r = e_invoice(api, order, number)
    assert (
        ET.fromstring(r.body).findtext(
            ".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", namespaces=NS
        )
        == "urn:cen.eu:en16931:2017"
    )


def test_an_unknown_flavour_is_a_validation_error(api):
    order = paid(api)
    (number,) = issue_documents("OrderPaid", event("OrderPaid", order, "e1"), bootstrap.invoicing())
    r = e_invoice(api, order, number, query="?flavour=ubl")
    assert (r.status_code, r.json["error"]["code"]) == (422, "validation_error")


# --- the PDF from the archive ---------------------------------------------------------


def pdf_download(api, order, number, *, token=None, admin=False):
    """The download: the redirect when archived, the JSON error body otherwise."""
    if admin:
        path = f"/admin/orders/{order['id']}/invoices/{number}/pdf"
        r = api.http.request("GET", path, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    else:
        auth = {"Authorization": f"Bearer {token or order['token']}"}
        path = f"/orders/{order['id']}/invoices/{number}/pdf"
        r = api.http.request("GET", path, headers=auth)
    is_json = r.headers.get("Content-Type", "").startswith("application/json")
    r.json = json.loads(r.body) if is_json else None
    return r


def archive_now(order, number):
    from chalicelib.services.archive import archive_document
    from invoice_pdf.render import render

    detail = {"order": {"id": order["id"]}, "data": {"number": number}}
    return archive_document("InvoiceIssued", detail, bootstrap.archiving(render))


def test_the_pdf_is_404_until_archived_then_a_redirect_to_the_archived_version(api, invoice_bucket):
    import boto3
    import requests

    order = paid(api)
    (number,) = issue_documents("OrderPaid", event("OrderPaid", order, "e1"), bootstrap.invoicing())
    for admin in (False, True):
        r = pdf_download(api, order, number, admin=admin)
        assert (r.status_code, r.json["error"]["code"]) == (404, "document_not_archived")

    stored = archive_now(order, number)
    for admin in (False, True):
        r = pdf_download(api, order, number, admin=admin)
        assert r.status_code == 302, r.body
        location = r.headers["Location"]
        assert f"/{stored.key}?" in location or f"{invoice_bucket}/{stored.key}" in location
        assert f"versionId={stored.version_id}" in location
        assert "X-Amz-Expires=60" in location
        assert r.headers["Cache-Control"] == "no-store"
    # The link serves the archived bytes (moto answers it, as S3 would).
    served = requests.get(location, timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/pdf"
    archived = boto3.client("s3").get_object(Bucket=invoice_bucket, Key=stored.key)
    assert served.content == archived["Body"].read()


def test_the_pdf_of_an_unknown_number_a_malformed_one_or_with_a_wrong_token_is_refused(
    api, invoice_bucket
):
    order = paid(api)
    (number,) = issue_documents("OrderPaid", event("OrderPaid", order, "e1"), bootstrap.invoicing())
    archive_now(order, number)
    r = pdf_download(api, order, "RE-1999-00001")
    assert (r.status_code, r.json["error"]["code"]) == (404, "document_not_found")
    r = pdf_download(api, order, "RE-1999-00001", admin=True)
    assert (r.status_code, r.json["error"]["code"]) == (404, "document_not_found")
    r = pdf_download(api, order, "invoice")
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_document_number")
    r = pdf_download(api, order, number, token="not-the-token")
    assert (r.status_code, r.json["error"]["code"]) == (404, "order_not_found")
    r = pdf_download(api, {"id": "no-such-order"}, number, admin=True)
    assert (r.status_code, r.json["error"]["code"]) == (404, "order_not_found")
