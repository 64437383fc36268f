"""GET /admin/invoices and /admin/invoices/journal: the month's documents and
its journal for the tax advisor (on moto; the documents issued by the
invoices service as its queue consumer issues them)."""

from __future__ import annotations

import csv
import io

from chalicelib import bootstrap
from chalicelib.services.invoices import issue_documents
from tests.conftest import ADMIN_KEY, order_body
from tests.integration.test_invoice_api import documents, event, paid


def month_with_documents(api, orders=3):
    """``orders`` paid and invoiced orders, the first refunded in part."""
    invoicing = bootstrap.invoicing()
    placed = []
    for i in range(orders):
        order = paid(api) if i == 0 else paid_again(api)
        issue_documents("OrderPaid", event("OrderPaid", order, f"paid-{i}"), invoicing)
        placed.append(order)
    r = api.admin("POST", f"/admin/orders/{placed[0]['id']}/refunds", {"amount": 1000})
    assert r.status_code == 200, r.json
    refund = event("OrderRefunded", placed[0], "refund-0", amount=1000, reference=None)
    issue_documents("OrderRefunded", refund, invoicing)
    issued = documents(api, placed[0]).json["documents"][0]["issue_date"]
    return issued[:7], placed


def paid_again(api):
    r = api.place(order_body([("tea", 1)], payment_method="bank_transfer"))
    assert r.status_code == 201, r.json
    r = api.admin("POST", f"/admin/orders/{r.json['id']}/payments", {"bank_reference": "TX-2"})
    assert r.status_code == 200, r.json
    return r.json


def listing(api, query):
    return api.admin("GET", f"/admin/invoices?{query}")


def test_the_month_lists_invoices_then_credit_notes_in_number_order_by_cursor(api):
    month, placed = month_with_documents(api)
    numbers, cursor, pages = [], None, 0
    while True:
        r = listing(api, f"month={month}&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.json
        assert r.json["month"] == month
        numbers.extend(d["number"] for d in r.json["documents"])
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    year = month[:4]
    assert numbers == [f"RE-{year}-00001", f"RE-{year}-00002", f"RE-{year}-00003",
                       f"GS-{year}-00001"]  # fmt: skip
    assert pages == 2
    first = listing(api, f"month={month}").json["documents"]
    assert first[0]["order_id"] == placed[0]["id"] and first[0]["customer"]
    assert first[0]["payment_method"] == "bank_transfer"
    assert first[3]["kind"] == "credit_note" and first[3]["corrects"] == numbers[0]
    assert first[3]["gross"] == -1000
    assert listing(api, "month=1999-01").json == {
        "month": "1999-01", "documents": [], "next_cursor": None,
    }  # fmt: skip


def test_a_cursor_belongs_to_its_month(api):
    month, _ = month_with_documents(api, orders=2)
    cursor = listing(api, f"month={month}&limit=1").json["next_cursor"]
    r = listing(api, f"month=1999-01&cursor={cursor}")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_cursor"


def test_the_journal_downloads_as_csv_and_adds_up_to_the_listing(api):
    month, _ = month_with_documents(api)
    r = api.http.request(
        "GET", f"/admin/invoices/journal?month={month}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )  # fmt: skip
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="Rechnungsjournal_{month}.csv"'
    )
    text = r.body.decode("utf-8")
    assert text.startswith("\ufeffBelegnummer;")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))
    listed = listing(api, f"month={month}").json["documents"]
    gross = {d["number"]: d["gross"] for d in listed}
    read: dict[str, int] = {}
    for row in rows:
        units, cents = row["Brutto"].lstrip("-").split(",")
        amount = int(units) * 100 + int(cents)
        read[row["Belegnummer"]] = read.get(row["Belegnummer"], 0) + (
            -amount if row["Brutto"].startswith("-") else amount
        )
    assert read == gross


def test_the_journal_as_a_datev_booking_batch(api):
    month, _ = month_with_documents(api, orders=1)
    r = api.http.request(
        "GET", f"/admin/invoices/journal?month={month}&format=datev",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )  # fmt: skip
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="EXTF_Buchungsstapel_{month}.csv"'
    )
    lines = r.body.decode("utf-8").split("\r\n")
    assert lines[0].startswith('\ufeff"EXTF";700;21;"Buchungsstapel";13;')
    assert len(lines[1].split(";")) == 125
    # The invoice at 7 % and 19 %, the credit note at both: four bookings.
    bookings = [line.split(";") for line in lines[2:-1]]
    assert [(b[1], b[7]) for b in bookings] == [
        ('"S"', "8300"), ('"S"', "8400"), ('"H"', "8300"), ('"H"', "8400"),
    ]  # fmt: skip


def test_a_bad_month_or_format_is_a_422_with_the_error_body(api):
    for query in ("month=2026-13", "month=26-12", "month=", "", "month=2026-12&format=xlsx"):
        r = (
            listing(api, query)
            if "format" not in query
            else api.admin("GET", f"/admin/invoices/journal?{query}")
        )
        assert r.status_code == 422, (query, r.json)
        assert set(r.json["error"]) == {"code", "message", "details", "request_id"}
    r = api.admin("GET", "/admin/invoices/journal?month=2026-00")
    assert r.status_code == 422


def test_without_the_admin_key_nothing_is_listed(api):
    r = api.call("GET", "/admin/invoices?month=2026-12")
    assert r.status_code == 401
