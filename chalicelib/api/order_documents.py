"""The customer's invoice and credit notes of an order, by the order's token."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import wiring
from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import bearer_token, route
from chalicelib.api.invoice_schemas import DocumentOut, OrderDocumentsOut, RateAmountsOut
from chalicelib.domain import errors
from chalicelib.domain.invoice import CreditNote, Invoice
from chalicelib.services import customer_orders

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
