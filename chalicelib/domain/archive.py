"""The archive of the invoices' and credit notes' PDFs (docs/invoices.md).

Plain Python, no I/O. Each issued document is rendered once and stored once,
under a key made of its number, in a bucket whose Object Lock keeps every
object unchanged for the eight years of section 147 AO. What was stored (the
key, the object's version, the digest and size of its bytes) is recorded on
the document, with the history entry ``DocumentArchived``, which the outbox
publishes and the notifications function answers with the customer's email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.domain.events import DocumentArchivedData
from chalicelib.domain.invoice import CreditNote, DocumentKind, Invoice
from chalicelib.domain.order import HistoryEntry

#: History entry indexes at the order's version (store/invoices.py writes the
#: invoice's at 50 and its credit notes' from 51): the archive's entries take
#: their own range, the invoice's first, then one per credit note by its
#: position among the order's credit notes, so no two keys ever meet.
ARCHIVE_ENTRY_INDEX = 200

#: Section 147 (1) no. 4, (3) AO: invoices and credit notes are kept eight
#: years, counted from the end of the calendar year they were issued in
#: (section 147 (4) AO). The bucket's default retention (infrastructure/) is
#: this many years from the upload; each PDF is locked until the end of its
#: period, which is up to a year later.
RETENTION_YEARS = 8


@dataclass(frozen=True)
class ArchivedPdf:
    """One stored PDF: where it is, which version, and what its bytes are."""

    key: str
    version_id: str
    sha256: str  # hex
    size: int
    stored_at: datetime


def kind_of(document: Invoice | CreditNote) -> DocumentKind:
    return DocumentKind.CREDIT_NOTE if isinstance(document, CreditNote) else DocumentKind.INVOICE


def pdf_key(document: Invoice | CreditNote) -> str:
    """``invoices/2026/RE-2026-00001.pdf``, ``credit-notes/2026/GS-2026-00001.pdf``:
    one object per number, grouped by kind and year of issue (the tax
    advisor's month and year exports list a prefix)."""
    folder = "credit-notes" if isinstance(document, CreditNote) else "invoices"
    return f"{folder}/{document.issue_date.year}/{document.number}.pdf"


def retain_until(document: Invoice | CreditNote) -> datetime:
    """The end of the document's retention period: the end of the eighth
    calendar year after the year of its issue (midnight UTC of the next
    New Year's Day, an hour after it ends in Germany: never earlier)."""
    return datetime(document.issue_date.year + RETENTION_YEARS + 1, 1, 1, tzinfo=UTC)


def pdf_filename(number: str) -> str:
    return f"{number}.pdf"


def archive_entry(
    document: Invoice | CreditNote, pdf: ArchivedPdf, *, at: datetime
) -> HistoryEntry:
    """The history entry (and so the event) of a document's stored PDF."""
    kind = kind_of(document)
    return HistoryEntry.of(
        DocumentArchivedData(
            kind=kind.value,
            number=document.number,
            key=pdf.key,
            version_id=pdf.version_id,
            sha256=pdf.sha256,
            size=pdf.size,
        ),
        at=at,
        actor="system",
        message=f"{'Credit note' if kind is DocumentKind.CREDIT_NOTE else 'Invoice'} "
        f"{document.number} archived as PDF",
    )


def entry_index(document: Invoice | CreditNote, position: int) -> int:
    """The archive entry's index: the invoice's, or after it the credit
    note's at ``position`` (0 for the order's first credit note)."""
    if isinstance(document, CreditNote):
        return ARCHIVE_ENTRY_INDEX + 1 + position
    return ARCHIVE_ENTRY_INDEX
