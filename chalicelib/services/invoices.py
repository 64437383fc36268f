"""Issuing invoices and credit notes from the order events (docs/invoices.md).

The invoices queue receives OrderPaid, OrderShipped and OrderRefunded
(infrastructure/definitions.py). ``issue_documents`` decides what one event
issues; each document is issued once whatever the deliveries: the invoice is
keyed by the order and the credit note by the refund's event id, both
written only if absent (store/invoices.py). Events may come in any order: a
refund seen before its order's invoice issues the invoice first, and the
late OrderPaid then finds it issued.

The documents are built from the order as stored, not from the event's
snapshot: an invoice needs the billing address and the VAT breakdown, which
events do not carry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalicelib.clock import utc_now
from chalicelib.domain import invoice as documents
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.ports import DocumentExists, NumberTaken

if TYPE_CHECKING:
    from chalicelib.domain.invoice import CreditNote, Invoice
    from chalicelib.services.ports import InvoiceStore, OrderRecord, OrderStore
    from chalicelib.settings import InvoicingSettings

#: The events the invoices queue receives (infrastructure/definitions.py).
INVOICE_EVENTS = ("OrderPaid", "OrderShipped", "OrderRefunded")


@dataclass(frozen=True)
class Invoicing:
    """What issuing needs: the orders, the documents, the settings, a clock."""

    orders: OrderStore
    invoices: InvoiceStore
    settings: InvoicingSettings
    clock: Callable[[], datetime] = utc_now


def seller(settings: InvoicingSettings) -> documents.Seller:
    """The seller block, from the shop's settings."""
    register = ", ".join(p for p in (settings.register_court, settings.register_number) if p)
    return documents.Seller(
        legal_name=settings.legal_name,
        address=tuple(part.strip() for part in settings.postal_address.split(",")),
        vat_id=settings.vat_id,
        tax_number=settings.tax_number,
        register=register,
        email=settings.support_email,
        managing_directors=settings.managing_directors,
        contact=settings.invoice_contact,
        phone=settings.phone,
    )


def _local_date(moment: datetime, settings: InvoicingSettings) -> date:
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def issue_documents(detail_type: str, detail: Mapping[str, Any], invoicing: Invoicing) -> list[str]:
    """The numbers of the documents this event issued now (none when they
    were issued by an earlier delivery, or the event issues nothing)."""
    order_id = detail["order"]["id"]
    issue_on = invoicing.settings.invoice_issued_at
    issued: list[str] = []
    if (detail_type, issue_on) in {("OrderPaid", "payment"), ("OrderShipped", "first_shipment")}:
        trigger = "payment" if detail_type == "OrderPaid" else "first_shipment"
        invoice, new = issue_invoice(order_id, invoicing, trigger=trigger)
        if new and invoice is not None:
            issued.append(invoice.number)
    elif detail_type == "OrderRefunded":
        data = detail.get("data", {})
        note = issue_credit_note(
            order_id,
            invoicing,
            source=detail["event_id"],
            amount=int(data["amount"]),
            payment_reference=data.get("reference"),
        )
        if note is not None:
            issued.append(note.number)
    return issued


def issue_invoice(
    order_id: str, invoicing: Invoicing, *, trigger: str
) -> tuple[Invoice | None, bool]:
    """The order's invoice, issued now if it has none (True), or as issued
    before (False). None for an order that was never paid: nothing to invoice."""
    store = invoicing.invoices
    existing = store.invoice_of(order_id)
    if existing is not None:
        return existing.invoice, False
    record = invoicing.orders.get(order_id)
    order = record.order
    paid_at = documents.paid_at(order)
    if paid_at is None:
        logger.info("no invoice for an unpaid order", order_id=order_id)
        return None, False
    settings = invoicing.settings
    # In the shop's timezone: the invoice prints the day it was paid there.
    paid_at = paid_at.astimezone(ZoneInfo(settings.timezone))

    def attempt() -> tuple[Invoice, bool]:
        now = invoicing.clock()
        today = _local_date(now, settings)
        series = documents.series_key(settings.invoice_series, today.year)
        sequence = store.last_number(series) + 1
        invoice = documents.invoice_for(
            order,
            number=documents.document_number(settings.invoice_series, today.year, sequence),
            seller=seller(settings),
            issued_at=now,
            issue_date=today,
            paid_at=paid_at,
            delivery_date=_delivery_date(record, settings),
            bank=documents.BankDetails(
                account_holder=settings.bank_account_holder,
                iban=settings.bank_iban,
                bic=settings.bank_bic,
                reference=order.number,
            ),
        )
        entry = documents.invoice_entry(invoice, trigger=trigger, at=now)
        try:
            store.issue_invoice(invoice, series=series, sequence=sequence, order=order, entry=entry)
        except DocumentExists:
            issued = store.invoice_of(order_id)
            assert issued is not None
            return issued.invoice, False
        return invoice, True

    invoice, new = retry_on_conflict(
        attempt,
        message="the invoice number series kept moving; the invoice is issued on a retry",
        retry_on=(NumberTaken, ConcurrentUpdate),
        order_id=order_id,
    )
    if new:
        logger.info("invoice issued", order_id=order_id, number=invoice.number, trigger=trigger)
        metrics.add_metric(name="InvoicesIssued", unit="Count", value=1)
    return invoice, new


def _delivery_date(record: OrderRecord, settings: InvoicingSettings) -> date | None:
    """The first shipment's date, when it has shipped; else the invoice names
    the month of delivery (that of its issue)."""
    if not record.shipments:
        return None
    return _local_date(min(s.shipped_at for s in record.shipments), settings)


def issue_credit_note(
    order_id: str,
    invoicing: Invoicing,
    *,
    source: str,
    amount: int,
    payment_reference: str | None,
) -> CreditNote | None:
    """The credit note for one refund (``source``: its event id), issued now;
    None when it was issued before, or the refund corrects no invoice (the
    money was refused, never the order's price; or nothing is left to credit)."""
    record = invoicing.orders.get(order_id)
    order = record.order
    if not documents.refund_corrects_invoice(order, payment_reference):
        logger.info("refund corrects no invoice", order_id=order_id)
        return None
    # Reordered events: the refund may come before the payment's event.
    issue_invoice(order_id, invoicing, trigger="payment")
    store = invoicing.invoices
    settings = invoicing.settings

    def attempt() -> CreditNote | None:
        issued = store.invoice_of(order_id)
        if issued is None:
            return None
        left = sum(rate.gross for rate in issued.credited.remaining(issued.invoice))
        if left == 0:
            logger.info("refund after the invoice was credited in full", order_id=order_id)
            return None
        now = invoicing.clock()
        today = _local_date(now, settings)
        series = documents.series_key(settings.credit_note_series, today.year)
        sequence = store.last_number(series) + 1
        note = documents.credit_note_for(
            issued.invoice,
            number=documents.document_number(settings.credit_note_series, today.year, sequence),
            amount=min(amount, left),
            credited=issued.credited,
            reason=documents.credit_reason(order),
            source=source,
            issued_at=now,
            issue_date=today,
        )
        try:
            store.issue_credit_note(
                note,
                series=series,
                sequence=sequence,
                credit_notes=issued.credit_notes,
                credited=issued.credited.plus(note),
                order=order,
                entry=documents.credit_note_entry(note, at=now),
            )
        except DocumentExists:
            return None
        return note

    note = retry_on_conflict(
        attempt,
        message="the credit note number series kept moving; it is issued on a retry",
        retry_on=(NumberTaken, ConcurrentUpdate),
        order_id=order_id,
    )
    if note is not None:
        logger.info(
            "credit note issued", order_id=order_id, number=note.number, invoice=note.invoice_number
        )
        metrics.add_metric(name="CreditNotesIssued", unit="Count", value=1)
    return note
