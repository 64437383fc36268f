"""The customer's own order: its page and their cancel, by the order's token.

Apart from checkout (services/placement.py) because a cold start that places
an order should not load the cancel path (cancellation, refunds and the
withdrawal rules behind them): docs/performance.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib.domain import ids
from chalicelib.domain.errors import DocumentNotFound, OrderNotFound
from chalicelib.domain.order import Visibility
from chalicelib.services import cancellation
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord

if TYPE_CHECKING:
    from chalicelib.domain.invoice import CreditNote, Invoice


def authorised_record(order_id: str, token: str, ctx: Context) -> OrderRecord:
    """The order if ``token`` is its token; else OrderNotFound."""
    record = ctx.orders.get(order_id)
    # A wrong token answers exactly like a missing order: the caller learns
    # nothing about which order ids exist.
    if not ids.token_matches(token, record.order.token_hash):
        raise OrderNotFound("no such order", order_id=order_id)
    return record


def view_order(order_id: str, token: str, ctx: Context) -> OrderRecord:
    """The order as its customer sees it: internal history left out."""
    record = authorised_record(order_id, token, ctx)
    visible = [entry for entry in record.history if entry.visibility is Visibility.CUSTOMER]
    return replace(record, history=visible)  # shipments and all else kept


def order_documents(order_id: str, token: str, ctx: Context) -> list[Invoice | CreditNote]:
    """The order's invoice (none before it is issued) and its credit notes."""
    authorised_record(order_id, token, ctx)
    assert ctx.invoices is not None, "the context has no invoice store"
    issued = ctx.invoices.invoice_of(order_id)
    found: list[Invoice | CreditNote] = [] if issued is None else [issued.invoice]
    found.extend(ctx.invoices.credit_notes_of(order_id))
    return found


def order_document(order_id: str, number: str, token: str, ctx: Context) -> Invoice | CreditNote:
    """One of the order's documents by its number."""
    for found in order_documents(order_id, token, ctx):
        if found.number == number:
            return found
    raise DocumentNotFound("the order has no document of this number", number=number)


def document_pdf_link(order_id: str, number: str, token: str, ctx: Context) -> str:
    """A short-lived link to the archived PDF of one of the order's
    documents (services/archive.py); DocumentNotArchived until it is stored."""
    from chalicelib.services.archive import document_link

    authorised_record(order_id, token, ctx)
    assert ctx.invoices is not None and ctx.archive is not None, "the context has no archive"
    return document_link(
        order_id,
        number,
        invoices=ctx.invoices,
        archive_store=ctx.archive,
        seconds=ctx.settings.document_link_seconds,
    )


def cancel_order(order_id: str, token: str, reason: str, ctx: Context) -> OrderRecord:
    """Cancel before shipment and release the stock; refund what was paid.
    Cancelling a cancelled order again changes nothing and succeeds (and
    retries a refund the provider failed the first time)."""
    authorised_record(order_id, token, ctx)
    cancellation.cancel_order(order_id, actor="customer", reason=reason, ctx=ctx)
    return view_order(order_id, token, ctx)
