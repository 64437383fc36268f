"""The customer's invoice and credit notes of an order, by the order's token."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import wiring
from chalicelib.api.contract import XML, documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.errors import RequestError
from chalicelib.api.http import bearer_token, parse_query, route
from chalicelib.api.invoice_schemas import (
    DocumentOut,
    EInvoiceQueryIn,
    OrderDocumentsOut,
    RateAmountsOut,
)
from chalicelib.domain import einvoice, errors
from chalicelib.domain.invoice import DOCUMENT_NUMBER_PATTERN, CreditNote, Invoice
from chalicelib.services import customer_orders
from chalicelib.services.archive import PDF_LINK_DESCRIPTION

order_documents = Blueprint(__name__)


def document(found: Invoice | CreditNote) -> DocumentOut:
    credit = isinstance(found, CreditNote)
    return DocumentOut(
        kind="credit_note" if credit else "invoice",
        number=found.number,
        issue_date=found.issue_date.isoformat(),
        currency=found.currency,
        net=found.net,
        tax=found.tax,
        gross=found.gross,
        rates=[
            RateAmountsOut(rate=r.rate, net=r.net, tax=r.tax, gross=r.gross) for r in found.rates
        ],
        corrects=found.invoice_number if isinstance(found, CreditNote) else None,
        reason=found.reason.value if isinstance(found, CreditNote) else None,
    )


@route(order_documents, "/orders/{order_id}/invoices", methods=["GET"], cors=storefront_cors())
@documented(
    "The order's invoice and credit notes",
    description="Issued when the order is paid (or at its first shipment, as the shop "
    "chooses), one credit note per refund after it; an empty list before that.",
    ok={200: OrderDocumentsOut},
    auth="order_token",
    errors=(errors.OrderNotFound,),
)
def list_order_documents(order_id: str) -> dict[str, Any]:
    token = bearer_token(order_documents.current_request)
    found = customer_orders.order_documents(order_id, token, wiring.context())
    answer = OrderDocumentsOut(order_id=order_id, documents=[document(d) for d in found])
    return answer.model_dump(mode="json")


#: RE-2026-00001 (invoice) or GS-2026-00001 (credit note): docs/invoices.md.
_NUMBER_PATH = {"number": {"type": "string", "pattern": DOCUMENT_NUMBER_PATTERN}}


@route(
    order_documents,
    "/orders/{order_id}/invoices/{number}/xml",
    methods=["GET"],
    cors=storefront_cors(),
)
@documented(
    "One invoice or credit note as an e-invoice: CII XML in the EN 16931 profile",
    description="The XML Factur-X / ZUGFeRD embed (`flavour=factur-x`, the default) or an "
    "XRechnung 3.0 (`flavour=xrechnung`), from the same content (docs/invoices.md): type "
    "380 for an invoice, 381 for a credit note naming its invoice.",
    ok={200: XML},
    auth="order_token",
    query=EInvoiceQueryIn,
    path_parameters=_NUMBER_PATH,
    errors=(errors.OrderNotFound, errors.DocumentNotFound, 422),
)
def download_e_invoice(order_id: str, number: str) -> Response:
    if not re.fullmatch(DOCUMENT_NUMBER_PATTERN, number):
        raise RequestError(422, "invalid_document_number", "a number such as RE-2026-00001")
    request = order_documents.current_request
    flavour = einvoice.Flavour(parse_query(request, EInvoiceQueryIn).flavour)
    found = customer_orders.order_document(
        order_id, number, bearer_token(request), wiring.context()
    )
    suffix = "-xrechnung" if flavour is einvoice.Flavour.XRECHNUNG else ""
    return Response(
        body=einvoice.document_xml(found, flavour).decode(),
        status_code=200,
        headers={
            "Content-Type": "application/xml; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{found.number}{suffix}.xml"',
        },
    )


@route(
    order_documents,
    "/orders/{order_id}/invoices/{number}/pdf",
    methods=["GET"],
    cors=storefront_cors(),
)
@documented(
    "One invoice or credit note as its archived PDF: a redirect to a short-lived link",
    description=PDF_LINK_DESCRIPTION,
    ok={302: None},
    auth="order_token",
    path_parameters=_NUMBER_PATH,
    errors=(errors.OrderNotFound, errors.DocumentNotFound, errors.DocumentNotArchived, 422),
)
def download_document_pdf(order_id: str, number: str) -> Response:
    if not re.fullmatch(DOCUMENT_NUMBER_PATTERN, number):
        raise RequestError(422, "invalid_document_number", "a number such as RE-2026-00001")
    token = bearer_token(order_documents.current_request)
    link = customer_orders.document_pdf_link(order_id, number, token, wiring.context())
    return redirect_to(link)


def redirect_to(link: str) -> Response:
    """302 to the archive's presigned link; never cached (it expires)."""
    return Response(
        body="", status_code=302, headers={"Location": link, "Cache-Control": "no-store"}
    )
