"""The merchant's documents of a month, for the tax advisor: the listing and
the journal (CSV or DATEV). Admin API key required (docs/invoices.md, "The
month's export")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import wiring
from chalicelib.api.auth import admin_key_authorizer
from chalicelib.api.contract import CSV, documented
from chalicelib.api.http import parse_query, route
from chalicelib.api.invoice_schemas import (
    JournalQueryIn,
    MonthDocumentOut,
    MonthDocumentsOut,
    MonthQueryIn,
)
from chalicelib.api.order_documents import document
from chalicelib.domain import errors
from chalicelib.domain.invoice import CreditNote, Invoice
from chalicelib.domain.journal import customer_of
from chalicelib.services import tax_export

admin_invoices = Blueprint(__name__)
_AUTH = {"authorizer": admin_key_authorizer}


def _listed(found: Invoice | CreditNote) -> MonthDocumentOut:
    return MonthDocumentOut(
        **document(found).model_dump(),
        order_id=found.order_id,
        order_number=found.order_number,
        customer=customer_of(found),
        payment_method=found.payment.method.value,
    )


@route(admin_invoices, "/admin/invoices", methods=["GET"], **_AUTH)
@documented(
    "The invoices and credit notes issued in a month (the issue date, shop's timezone)",
    description="Invoices first, then credit notes, each in number order; by cursor.",
    ok={200: MonthDocumentsOut},
    query=MonthQueryIn,
    auth="admin_key",
    errors=(errors.InvalidRequest, errors.InvalidCursor, 422),
)
def list_month_documents() -> dict[str, Any]:
    params = parse_query(admin_invoices.current_request, MonthQueryIn)
    found = tax_export.list_month_documents(
        params.month, page_size=params.limit, cursor=params.cursor, ctx=wiring.context()
    )
    answer = MonthDocumentsOut(
        month=found.month,
        documents=[_listed(d) for d in found.documents],
        next_cursor=found.cursor,
    )
    return answer.model_dump(mode="json")


@route(admin_invoices, "/admin/invoices/journal", methods=["GET"], **_AUTH)
@documented(
    "The month's journal for the tax advisor: CSV, or a DATEV booking batch (EXTF)",
    description="csv: one row per document and VAT rate, semicolons and decimal commas "
    "(German Excel); datev: DATEV-Format Buchungsstapel, format version 13. Both UTF-8 "
    "with a byte order mark.",
    ok={200: CSV},
    query=JournalQueryIn,
    auth="admin_key",
    errors=(errors.InvalidRequest, errors.DatevAccountMissing, 422),
)
def download_journal() -> Response:
    params = parse_query(admin_invoices.current_request, JournalQueryIn)
    found = tax_export.month_journal(params.month, output=params.format, ctx=wiring.context())
    return Response(
        body=found.text,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{found.filename}"',
        },
    )
