"""The in-memory InvoiceStore: the same contract as store/invoices.py
(tests/integration/test_invoice_store_contract.py), with a fault hook."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from chalicelib.domain.archive import ArchivedPdf
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.invoice import Credited, CreditNote, Invoice
from chalicelib.domain.order import HistoryEntry, Order
from chalicelib.services.ports import (
    DocumentExists,
    DocumentPage,
    IssuedInvoice,
    NumberRecord,
    NumberTaken,
    PdfRecorded,
)
from chalicelib.store import keys
from tests.fakes import FakeTable


@dataclass
class FakeInvoices:
    table: FakeTable
    counters: dict[str, int] = field(default_factory=dict)
    invoices: dict[str, IssuedInvoice] = field(default_factory=dict)
    credit_notes: dict[tuple[str, str], CreditNote] = field(default_factory=dict)
    numbers: dict[str, NumberRecord] = field(default_factory=dict)
    pdfs: dict[str, ArchivedPdf] = field(default_factory=dict)  # number -> stored PDF
    #: Called before anything is written: raise in it to stand for a crash.
    before_write: Callable[[], None] | None = None

    def last_number(self, series: str) -> int:
        return self.counters.get(series, 0)

    def _take(self, series: str, sequence: int) -> None:
        if self.counters.get(series, 0) != sequence - 1:
            raise NumberTaken(series)

    def _write(self, series: str, sequence: int, number: str, kind: str, doc, entry) -> None:
        if self.before_write is not None:
            self.before_write()
        self.counters[series] = sequence
        self.numbers[number] = NumberRecord(
            number=number, kind=kind, order_id=doc.order_id, issued_at=doc.issued_at.isoformat()
        )
        self.table.history.setdefault(doc.order_id, []).append(entry)

    def issue_invoice(
        self, invoice: Invoice, *, series: str, sequence: int, order: Order, entry: HistoryEntry
    ) -> None:
        with self.table.lock:
            if order.id in self.invoices:
                raise DocumentExists(order.id)
            self._take(series, sequence)
            self._write(series, sequence, invoice.number, "invoice", invoice, entry)
            self.invoices[order.id] = IssuedInvoice(invoice, Credited.nothing(), 0)

    def issue_credit_note(
        self,
        note: CreditNote,
        *,
        series: str,
        sequence: int,
        credit_notes: int,
        credited: Credited,
        order: Order,
        entry: HistoryEntry,
    ) -> None:
        with self.table.lock:
            if (order.id, note.source) in self.credit_notes:
                raise DocumentExists(order.id)
            self._take(series, sequence)
            issued = self.invoices.get(order.id)
            if issued is None or issued.credit_notes != credit_notes:
                raise ConcurrentUpdate("the invoice changed meanwhile", order_id=order.id)
            self._write(series, sequence, note.number, "credit_note", note, entry)
            self.credit_notes[(order.id, note.source)] = note
            self.invoices[order.id] = IssuedInvoice(issued.invoice, credited, credit_notes + 1)

    def invoice_of(self, order_id: str) -> IssuedInvoice | None:
        return self.invoices.get(order_id)

    def credit_notes_of(self, order_id: str) -> Sequence[CreditNote]:
        found = [note for (oid, _), note in self.credit_notes.items() if oid == order_id]
        return sorted(found, key=lambda note: note.number)

    def number(self, number: str) -> NumberRecord | None:
        return self.numbers.get(number)

    def documents_of_month(self, month: str, *, after: str | None, limit: int) -> DocumentPage:
        listed = sorted(
            (keys.document_key(kind, doc.number), doc)
            for kind, doc in [
                *(("invoice", issued.invoice) for issued in self.invoices.values()),
                *(("credit_note", note) for note in self.credit_notes.values()),
            ]
            if f"{doc.issue_date:%Y-%m}" == month and (after is None or
                keys.document_key(kind, doc.number) > after)
        )  # fmt: skip
        page = listed[:limit]
        # As DynamoDB: a full page names its end, even when nothing follows.
        full = len(page) == limit and len(listed) >= limit
        return DocumentPage(documents=[doc for _, doc in page], after=page[-1][0] if full else None)

    def archived_pdf(self, order_id: str, number: str) -> ArchivedPdf | None:
        record = self.numbers.get(number)
        if record is None or record.order_id != order_id:
            return None
        return self.pdfs.get(number)

    def record_pdf(
        self,
        document: Invoice | CreditNote,
        pdf: ArchivedPdf,
        *,
        order: Order,
        entry: HistoryEntry,
        entry_index: int,
    ) -> None:
        with self.table.lock:
            if document.number not in self.numbers:
                raise PdfRecorded(document.number)  # as the store: the condition fails
            if document.number in self.pdfs:
                raise PdfRecorded(document.number)
            self.pdfs[document.number] = pdf
            self.table.history.setdefault(order.id, []).append(entry)
