"""`make run`: pay an order and open its invoice PDF from the dev page; a
refund adds its credit note. The local stack runs as a subprocess: the
payment's event goes stream -> bus -> the invoices queue -> issue_invoices,
its InvoiceIssued -> the documents queue -> render_documents, which puts the
PDF into the invoices bucket; the dev page's link opens it through the API's
download (a redirect to the archive), and the customer is mailed it."""

from __future__ import annotations

import io
import uuid

import pytest
import requests
from pypdf import PdfReader

from tests.conftest import order_body
from tests.e2e.test_event_flow import ADMIN, emails_about, eventually

pytestmark = pytest.mark.e2e


def documents_of(stack, number: str) -> list[dict]:
    """The order's documents once each is archived (the link works from then)."""
    for order in requests.get(f"{stack.dev}/dev/orders", timeout=5).json():
        if order["number"] == number:
            documents = order["documents"]
            return documents if all(d["archived"] for d in documents) else []
    return []


def pdf_text(stack, url: str) -> str:
    r = requests.get(f"{stack.dev}{url}", timeout=10)
    # Through the API's download (the dev page asks it): the 302 it answered,
    # to the presigned link, then the bytes from the archive.
    assert [h.status_code for h in r.history] == [302], r.history
    assert "X-Amz-Signature=" in r.url
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)


def test_a_paid_order_shows_its_invoice_pdf_on_the_dev_page_and_a_refund_its_credit_note(stack):
    r = requests.post(
        f"{stack.api}/orders",
        json=order_body([("MUG-STONE-01", 2)], payment_method="bank_transfer", locale="de"),
        headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"},
        timeout=5,
    )
    assert r.status_code == 201, r.text
    order = r.json()
    r = requests.post(
        f"{stack.api}/admin/orders/{order['id']}/payments",
        json={"bank_reference": "TX-E2E"},
        headers=ADMIN,
        timeout=5,
    )
    assert r.status_code == 200, r.text

    (invoice,) = eventually(lambda: documents_of(stack, order["number"]))
    assert invoice["kind"] == "invoice" and invoice["number"].startswith("RE-")
    text = pdf_text(stack, invoice["url"])
    assert f"Rechnung {invoice['number']}" in text
    assert f"Bestellnummer {order['number']}" in text
    assert "Überweisung" in text

    r = requests.post(
        f"{stack.api}/admin/orders/{order['id']}/refunds",
        json={"amount": 500},
        headers=ADMIN,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    documents = eventually(lambda: (d := documents_of(stack, order["number"]))[1:] and d)
    note = documents[1]
    assert note["kind"] == "credit_note" and note["number"].startswith("GS-")
    text = pdf_text(stack, note["url"])
    assert f"Korrigiert Rechnung {invoice['number']}" in text
    assert "-5,00 €" in text
    # The customer got each as an attachment of its own email.
    subjects = emails_about(stack, order["number"])
    assert any(invoice["number"] in s for s in subjects), subjects
    mailed = eventually(
        lambda: [s for s in emails_about(stack, order["number"]) if note["number"] in s]
    )
    assert mailed
