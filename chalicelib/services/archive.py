"""Archiving the invoices' and credit notes' PDFs (docs/invoices.md).

The documents queue receives InvoiceIssued and CreditNoteIssued
(infrastructure/definitions.py); ``archive_document`` renders the issued
document as stored in the table and puts the PDF into the invoices bucket,
then records the stored object on the document with the history entry
DocumentArchived, whose event mails the PDF to the customer.

Exactly once per document, however the events are delivered: a document
whose PDF is recorded is skipped; the bucket takes a key only if it is free
(a repeat after a crash between the put and the record finds the same bytes
there and records them); the record is written only if none is there, so the
history entry, and with it the email, exists once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.clock import utc_now
from chalicelib.domain import archive
from chalicelib.domain.errors import ConcurrentUpdate, DocumentNotArchived, DocumentNotFound
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.ports import PdfRecorded

if TYPE_CHECKING:
    from chalicelib.domain.archive import ArchivedPdf
    from chalicelib.domain.invoice import CreditNote, Invoice
    from chalicelib.services.ports import (
        DocumentArchive,
        InvoiceStore,
        OrderStore,
        PdfRenderer,
    )

#: The downloads' contract (the customer's and the merchant's routes).
PDF_LINK_DESCRIPTION = (
    "Answers 302 with a presigned link to the PDF in the invoices bucket (the very "
    "version archived when it was issued), valid for a minute: the bytes come from "
    "the archive, not through the API. 404 document_not_archived while the PDF is "
    "still being rendered (seconds after the issue)."
)

#: The events the documents queue receives (infrastructure/definitions.py).
ARCHIVE_EVENTS = ("InvoiceIssued", "CreditNoteIssued")


@dataclass(frozen=True)
class Archiving:
    """What archiving needs: the documents, the order (for its history
    entry), the renderer, the bucket and a clock."""

    orders: OrderStore
    invoices: InvoiceStore
    archive: DocumentArchive
    render: PdfRenderer
    clock: Callable[[], datetime] = utc_now


def archive_document(
    detail_type: str, detail: Mapping[str, Any], archiving: Archiving
) -> ArchivedPdf | None:
    """The PDF this event's document was archived as now; None when an
    earlier delivery archived it (or the event names no document)."""
    if detail_type not in ARCHIVE_EVENTS:
        return None
    order_id = detail["order"]["id"]
    number = detail["data"]["number"]
    invoices = archiving.invoices
    if invoices.archived_pdf(order_id, number) is not None:
        logger.info("document archived before", order_id=order_id, number=number)
        return None
    document, position = _document(invoices, order_id, number)
    pdf = archiving.render(document)
    digest = hashlib.sha256(pdf).hexdigest()
    stored = archiving.archive.store(
        archive.pdf_key(document),
        pdf,
        sha256=digest,
        at=archiving.clock(),
        retain_until=archive.retain_until(document),
    )

    def record() -> bool:
        order = archiving.orders.get(order_id).order
        entry = archive.archive_entry(document, stored, at=archiving.clock())
        try:
            invoices.record_pdf(
                document,
                stored,
                order=order,
                entry=entry,
                entry_index=archive.entry_index(document, position),
            )
        except PdfRecorded:
            return False
        return True

    recorded = retry_on_conflict(
        record,
        message="the order's history moved while archiving; retried",
        retry_on=(ConcurrentUpdate,),
        order_id=order_id,
    )
    if not recorded:
        logger.info("document archived by another delivery", order_id=order_id, number=number)
        return None
    logger.info("document archived", order_id=order_id, number=number, size=stored.size)
    metrics.add_metric(name="DocumentsArchived", unit="Count", value=1)
    return stored


def _document(
    invoices: InvoiceStore, order_id: str, number: str
) -> tuple[Invoice | CreditNote, int]:
    """The issued document of this number, and for a credit note its
    position among the order's credit notes."""
    issued = invoices.invoice_of(order_id)
    if issued is not None and issued.invoice.number == number:
        return issued.invoice, 0
    for position, note in enumerate(invoices.credit_notes_of(order_id)):
        if note.number == number:
            return note, position
    # Written in the transaction whose history entry raised the event: a
    # missing document is a bug or a replayed event of another table.
    raise DocumentNotFound("the order has no document of this number", number=number)


def document_link(
    order_id: str,
    number: str,
    *,
    invoices: InvoiceStore,
    archive_store: DocumentArchive,
    seconds: int,
) -> str:
    """A link, valid for ``seconds``, to the archived PDF of one of the
    order's documents (the caller has checked the order and the right to
    it). DocumentNotFound for a number the order does not have;
    DocumentNotArchived while the PDF is not stored yet."""
    pdf = invoices.archived_pdf(order_id, number)
    if pdf is None:
        _document(invoices, order_id, number)  # DocumentNotFound if there is none
        raise DocumentNotArchived("the document's PDF is not archived yet", number=number)
    return archive_store.link(pdf, filename=archive.pdf_filename(number), seconds=seconds)
