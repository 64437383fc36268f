"""The merchant's copy of an order's invoice or credit note PDF (docs/invoices.md).
Admin API key required."""

from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib.api import wiring
from chalicelib.api.auth import admin_key_authorizer
from chalicelib.api.contract import documented
from chalicelib.api.errors import RequestError
from chalicelib.api.http import route
from chalicelib.api.order_documents import redirect_to
from chalicelib.domain import errors
from chalicelib.domain.invoice import DOCUMENT_NUMBER_PATTERN
from chalicelib.services import order_desk
from chalicelib.services.archive import PDF_LINK_DESCRIPTION

admin_documents = Blueprint(__name__)


@route(
    admin_documents,
    "/admin/orders/{order_id}/invoices/{number}/pdf",
    methods=["GET"],
    authorizer=admin_key_authorizer,
)
@documented(
    "One of the order's invoices or credit notes as its archived PDF (the merchant's)",
    description=PDF_LINK_DESCRIPTION,
    ok={302: None},
    auth="admin_key",
    path_parameters={"number": {"type": "string", "pattern": DOCUMENT_NUMBER_PATTERN}},
    errors=(errors.OrderNotFound, errors.DocumentNotFound, errors.DocumentNotArchived, 422),
)
def merchant_document_pdf(order_id: str, number: str) -> Response:
    if not re.fullmatch(DOCUMENT_NUMBER_PATTERN, number):
        raise RequestError(422, "invalid_document_number", "a number such as RE-2026-00001")
    return redirect_to(order_desk.document_pdf_link(order_id, number, wiring.context()))
