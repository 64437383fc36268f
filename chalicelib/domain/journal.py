"""The month's journal for the tax advisor: one entry per invoice or credit
note with its own amounts per VAT rate (so it adds up to the documents to the
cent), and its CSV for German Excel: one row per document and rate, UTF-8
with a BOM, semicolons, decimal commas. Plain Python, no I/O; the choices and
why: docs/invoices.md, "The month's export".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.domain.invoice import CreditNote, DocumentKind, Invoice, RateAmounts
from chalicelib.domain.order import PaymentMethod


@dataclass(frozen=True)
class JournalEntry:
    """One document as the journal lists it."""

    number: str
    kind: DocumentKind
    issue_date: date
    corrects: str | None  # a credit note: the invoice it corrects
    customer: str  # the billing company if any, else the billing name
    order_number: str
    payment_method: PaymentMethod
    currency: str
    rates: tuple[RateAmounts, ...]

    @property
    def net(self) -> int:
        return sum(rate.net for rate in self.rates)

    @property
    def tax(self) -> int:
        return sum(rate.tax for rate in self.rates)

    @property
    def gross(self) -> int:
        return sum(rate.gross for rate in self.rates)


@dataclass(frozen=True)
class Journal:
    month: str  # "2026-12"
    entries: tuple[JournalEntry, ...]

    def rates(self) -> list[str]:
        """The VAT rates present in the month, highest first."""
        found = {rate.rate for entry in self.entries for rate in entry.rates}
        return sorted(found, key=Decimal, reverse=True)

    def totals_by_rate(self) -> dict[str, RateAmounts]:
        """Net, tax and gross per rate over every document of the month."""
        sums: dict[str, tuple[int, int, int]] = {}
        for entry in self.entries:
            for rate in entry.rates:
                net, tax, gross = sums.get(rate.rate, (0, 0, 0))
                sums[rate.rate] = (net + rate.net, tax + rate.tax, gross + rate.gross)
        return {
            rate: RateAmounts(rate=rate, net=net, tax=tax, gross=gross)
            for rate, (net, tax, gross) in sums.items()
        }


def customer_of(document: Invoice | CreditNote) -> str:
    """Who the document is addressed to: the billing company, else the name."""
    return document.buyer.company or document.buyer.name


def entry_of(document: Invoice | CreditNote) -> JournalEntry:
    credit = isinstance(document, CreditNote)
    return JournalEntry(
        number=document.number,
        kind=DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
        issue_date=document.issue_date,
        corrects=document.invoice_number if isinstance(document, CreditNote) else None,
        customer=customer_of(document),
        order_number=document.order_number,
        payment_method=document.payment.method,
        currency=document.currency,
        rates=document.rates,
    )


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def journal_of(month: str, documents: Iterable[Invoice | CreditNote]) -> Journal:
    """The journal of ``month`` from its documents, in the order given (the
    listing's: invoices, then credit notes, each in number order). A
    document issued in another month is a mistake of the caller."""
    entries = tuple(entry_of(document) for document in documents)
    strays = [entry.number for entry in entries if month_of(entry.issue_date) != month]
    if strays:
        raise ValueError(f"documents not issued in {month}: {', '.join(strays)}")
    numbers = [entry.number for entry in entries]
    if len(set(numbers)) != len(numbers):
        raise ValueError("a document is listed twice")
    return Journal(month=month, entries=entries)


# --- the CSV -----------------------------------------------------------------------

KIND_LABELS: Mapping[DocumentKind, str] = {
    DocumentKind.INVOICE: "Rechnung",
    DocumentKind.CREDIT_NOTE: "Rechnungskorrektur",
}
PAYMENT_LABELS: Mapping[PaymentMethod, str] = {
    PaymentMethod.CARD: "Karte",
    PaymentMethod.PAYPAL: "PayPal",
    PaymentMethod.BANK_TRANSFER: "Überweisung",
}
CSV_COLUMNS = (
    "Belegnummer",
    "Belegart",
    "Belegdatum",
    "Korrigiert Rechnung",
    "Kunde",
    "Bestellnummer",
    "Zahlungsart",
    "Währung",
    "USt-Satz %",
    "Netto",
    "USt",
    "Brutto",
    "Beleg Netto",
    "Beleg USt",
    "Beleg Brutto",
)
#: What a spreadsheet reads as the start of a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def decimal_comma(minor: int) -> str:
    """Minor units as German Excel reads an amount: ``-1234,56``."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{units},{cents:02d}"


def rate_text(rate: str) -> str:
    """A rate as printed: ``19``, ``7``, ``5,5``."""
    return format(Decimal(rate).normalize(), "f").replace(".", ",")


def safe_text(text: str) -> str:
    """Free text that a spreadsheet shows and never evaluates."""
    flat = " ".join(text.split())
    return f"'{flat}" if flat.startswith(_FORMULA_START) else flat


def csv_rows(journal: Journal) -> list[list[str]]:
    """The rows under the column header: one per document and rate."""
    rows = []
    for entry in journal.entries:
        for rate in entry.rates:
            rows.append(
                [
                    entry.number,
                    KIND_LABELS[entry.kind],
                    f"{entry.issue_date:%d.%m.%Y}",
                    entry.corrects or "",
                    safe_text(entry.customer),
                    entry.order_number,
                    PAYMENT_LABELS[entry.payment_method],
                    entry.currency,
                    rate_text(rate.rate),
                    decimal_comma(rate.net),
                    decimal_comma(rate.tax),
                    decimal_comma(rate.gross),
                    decimal_comma(entry.net),
                    decimal_comma(entry.tax),
                    decimal_comma(entry.gross),
                ]
            )
    return rows


def journal_csv(journal: Journal) -> str:
    """The journal as CSV text, starting with the byte order mark (encode
    it as UTF-8: ``journal_csv_bytes``)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(journal))
    return "\ufeff" + out.getvalue()


def journal_csv_bytes(journal: Journal) -> bytes:
    return journal_csv(journal).encode("utf-8")


def journal_filename(month: str) -> str:
    return f"Rechnungsjournal_{month}.csv"
