"""An invoice or credit note as an A4 PDF (fpdf2, DejaVu Sans embedded).

Renders the domain's documents (chalicelib/domain/invoice.py) as they were
issued: nothing is computed here but the layout, so the PDF says what the
stored document says. German or English by the document's locale. The font
is embedded (subset), so the euro sign, umlauts and ß show in any reader.

This module and its dependencies are not in the API's Lambda package: they
would add about 14 MB zipped to a package budgeted at 5 MB
(invoice_pdf/README.md, docs/invoices.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from chalicelib.domain.invoice import CreditNote, Invoice, InvoiceLine, LineKind, RateAmounts
from chalicelib.domain.order import PaymentMethod
from chalicelib.notify.formatting import money

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"

LABELS: Mapping[str, Mapping[str, str]] = {
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Rechnungskorrektur",
        "number": "Rechnungsnummer",
        "credit_number": "Nummer der Korrektur",
        "corrects": "Korrigiert Rechnung",
        "of": "vom",
        "issue_date": "Rechnungsdatum",
        "credit_date": "Datum der Korrektur",
        "delivery_date": "Lieferdatum",
        "delivery_month": "Leistungszeitraum",
        "order": "Bestellnummer",
        "buyer_reference": "Ihre Referenz",
        "buyer": "Rechnungsempfänger",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "register": "Handelsregister",
        "directors": "Geschäftsführung",
        "pos": "Pos.",
        "quantity": "Menge",
        "item": "Bezeichnung",
        "unit_price": "Einzelpreis",
        "rate": "USt.",
        "amount": "Betrag",
        "after_discount": "nach Rabatt",
        "net_at": "Nettobetrag {rate} %",
        "tax_at": "Umsatzsteuer {rate} %",
        "gross_at": "Bruttobetrag {rate} %",
        "net_total": "Summe netto",
        "tax_total": "Summe Umsatzsteuer",
        "gross_total": "Gesamtbetrag",
        "credit_total": "Erstattungsbetrag",
        "payment": "Zahlungsart",
        "paid_on": "Bezahlt am {date}.",
        "refund_reason": "Grund",
        "holder": "Kontoinhaber",
        "reference": "Verwendungszweck",
        "prices": "Alle Preise in {currency}; die Einzelpreise enthalten die Umsatzsteuer.",
        "month_note": "Liefer- bzw. Leistungsdatum: der genannte Monat.",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Invoice number",
        "credit_number": "Credit note number",
        "corrects": "Corrects invoice",
        "of": "of",
        "issue_date": "Invoice date",
        "credit_date": "Date of the credit note",
        "delivery_date": "Delivery date",
        "delivery_month": "Delivery period",
        "order": "Order number",
        "buyer_reference": "Your reference",
        "buyer": "Billed to",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "register": "Commercial register",
        "directors": "Managing directors",
        "pos": "No.",
        "quantity": "Qty",
        "item": "Description",
        "unit_price": "Unit price",
        "rate": "VAT",
        "amount": "Amount",
        "after_discount": "after discount",
        "net_at": "Net amount {rate} %",
        "tax_at": "VAT {rate} %",
        "gross_at": "Gross amount {rate} %",
        "net_total": "Total net",
        "tax_total": "Total VAT",
        "gross_total": "Total",
        "credit_total": "Amount credited",
        "payment": "Payment method",
        "paid_on": "Paid on {date}.",
        "refund_reason": "Reason",
        "holder": "Account holder",
        "reference": "Reference",
        "prices": "All prices in {currency}; unit prices include VAT.",
        "month_note": "Date of delivery or service: the month stated.",
    },
}
METHODS: Mapping[str, Mapping[PaymentMethod, str]] = {
    "de": {
        PaymentMethod.CARD: "Kreditkarte",
        PaymentMethod.PAYPAL: "PayPal",
        PaymentMethod.BANK_TRANSFER: "Überweisung (Vorkasse)",
    },
    "en": {
        PaymentMethod.CARD: "Card",
        PaymentMethod.PAYPAL: "PayPal",
        PaymentMethod.BANK_TRANSFER: "Bank transfer (prepayment)",
    },
}
REASONS: Mapping[str, Mapping[str, str]] = {
    "de": {"refund": "Erstattung", "return": "Rücksendung", "cancellation": "Stornierung"},
    "en": {"refund": "Refund", "return": "Return", "cancellation": "Cancellation"},
}
#: Column widths of the line table (mm); A4 is 210 mm, margins 20 mm.
COLUMNS = (12, 16, 72, 28, 14, 28)


def _date(day: date, locale: str) -> str:
    return day.strftime("%d.%m.%Y") if locale == "de" else day.isoformat()


def _month(month: str, locale: str) -> str:
    year, number = month.split("-")
    return f"{number}/{year}" if locale == "de" else month


class _Page(FPDF):
    def __init__(self, compliance: str | None = None) -> None:
        super().__init__(
            orientation="portrait", unit="mm", format="A4", enforce_compliance=compliance
        )
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=20)
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))

    def text_line(
        self, text: str, *, size: float = 9, bold: bool = False, height: float = 4.6
    ) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pair(self, label: str, value: str, *, bold: bool = False) -> None:
        """``label: value`` right-aligned as a totals row."""
        self.set_font(FONT, "B" if bold else "", 9)
        self.cell(120, 5, label, align="R")
        self.cell(0, 5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(document: Invoice | CreditNote) -> bytes:
    """The document as a PDF; the same document gives the same bytes."""
    return render_as(document)


def render_as(document: Invoice | CreditNote, compliance: str | None = None) -> bytes:
    """The document as a PDF that fpdf2 keeps to ``compliance`` (e.g.
    ``PDFA_3B``: every font embedded, an sRGB output intent, PDF 1.7), or to
    nothing in particular (``render``)."""
    credit = isinstance(document, CreditNote)
    locale = "de" if document.locale == "de" else "en"
    words = LABELS[locale]
    pdf = _Page(compliance)
    title = words["credit_note" if credit else "invoice"]
    pdf.set_title(f"{title} {document.number}")
    pdf.set_author(document.seller.legal_name)
    pdf.set_creator("shop-orders")
    pdf.set_creation_date(datetime.combine(document.issue_date, time(), tzinfo=UTC))
    pdf.add_page()

    seller = document.seller
    pdf.text_line(seller.legal_name, size=13, bold=True, height=6)
    pdf.text_line(" · ".join((*seller.address, seller.email)), size=8)
    pdf.ln(6)

    pdf.text_line(words["buyer"], size=8)
    buyer = document.buyer
    for line in (buyer.company, buyer.name, *buyer.address):
        if line:
            pdf.text_line(line, size=10)
    if buyer.vat_id:
        pdf.text_line(f"{words['vat_id']} {buyer.vat_id}", size=9)
    pdf.ln(6)

    pdf.text_line(f"{title} {document.number}", size=15, bold=True, height=8)
    for label, value in _facts(document, words, locale):
        pdf.set_font(FONT, "", 9)
        pdf.cell(45, 5, label)
        pdf.cell(0, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    _lines(pdf, document.lines, document.currency, locale, words)
    pdf.ln(3)
    _totals(pdf, document.rates, document.currency, locale, words, credit=credit)
    pdf.ln(5)
    _payment(pdf, document, words, locale)

    pdf.ln(4)
    pdf.text_line(words["prices"].format(currency=document.currency), size=7.5)
    if isinstance(document, Invoice) and document.delivery_date is None:
        pdf.text_line(words["month_note"], size=7.5)
    ids = [f"{words['vat_id']} {seller.vat_id}" if seller.vat_id else ""]
    ids.append(f"{words['tax_number']} {seller.tax_number}" if seller.tax_number else "")
    ids.append(f"{words['register']}: {seller.register}" if seller.register else "")
    pdf.text_line(" · ".join(part for part in ids if part), size=7.5)
    if seller.managing_directors:
        pdf.text_line(f"{words['directors']}: {seller.managing_directors}", size=7.5)
    return bytes(pdf.output())


def _facts(
    document: Invoice | CreditNote, words: Mapping[str, str], locale: str
) -> list[tuple[str, str]]:
    if isinstance(document, CreditNote):
        return [
            (words["credit_number"], document.number),
            (words["credit_date"], _date(document.issue_date, locale)),
            (
                words["corrects"],
                f"{document.invoice_number} {words['of']} {_date(document.invoice_date, locale)}",
            ),
            (words["refund_reason"], REASONS[locale][document.reason.value]),
            (words["order"], document.order_number),
            *(
                [(words["buyer_reference"], document.buyer.reference)]
                if document.buyer.reference
                else []
            ),
        ]
    delivery = (
        (words["delivery_date"], _date(document.delivery_date, locale))
        if document.delivery_date is not None
        else (words["delivery_month"], _month(document.delivery_month, locale))
    )
    facts = [
        (words["number"], document.number),
        (words["issue_date"], _date(document.issue_date, locale)),
        delivery,
        (words["order"], document.order_number),
    ]
    if document.buyer.reference:
        facts.append((words["buyer_reference"], document.buyer.reference))
    return facts


def _lines(
    pdf: _Page,
    lines: Sequence[InvoiceLine],
    currency: str,
    locale: str,
    words: Mapping[str, str],
) -> None:
    heads = ("pos", "quantity", "item", "unit_price", "rate", "amount")
    pdf.set_font(FONT, "B", 8.5)
    for width, head in zip(COLUMNS, heads, strict=True):
        pdf.cell(width, 6, words[head], border="B", align="L" if head == "item" else "R")
    pdf.ln()
    pdf.set_font(FONT, "", 8.5)
    for position, line in enumerate(lines, start=1):
        cells = (
            str(position),
            str(line.quantity),
            line.name,
            money(line.unit_price, currency, locale),
            f"{line.tax_rate} %",
            money(line.amount, currency, locale),
        )
        for width, text, head in zip(COLUMNS, cells, heads, strict=True):
            pdf.cell(width, 5.5, text, align="L" if head == "item" else "R")
        pdf.ln()
        if line.kind is LineKind.GOODS and line.discount:
            pdf.set_font(FONT, "", 7.5)
            pdf.cell(COLUMNS[0] + COLUMNS[1])
            after = money(line.amount_after_discount, currency, locale)
            pdf.cell(COLUMNS[2], 4, f"{words['after_discount']} {after}")
            pdf.ln()
            pdf.set_font(FONT, "", 8.5)
    pdf.cell(sum(COLUMNS), 0, "", border="T", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _totals(
    pdf: _Page,
    rates: Sequence[RateAmounts],
    currency: str,
    locale: str,
    words: Mapping[str, str],
    *,
    credit: bool,
) -> None:
    for rate in rates:
        pdf.pair(words["net_at"].format(rate=rate.rate), money(rate.net, currency, locale))
        pdf.pair(words["tax_at"].format(rate=rate.rate), money(rate.tax, currency, locale))
        pdf.pair(words["gross_at"].format(rate=rate.rate), money(rate.gross, currency, locale))
    pdf.ln(1)
    pdf.pair(words["net_total"], money(sum(r.net for r in rates), currency, locale))
    pdf.pair(words["tax_total"], money(sum(r.tax for r in rates), currency, locale))
    total = words["credit_total" if credit else "gross_total"]
    pdf.pair(total, money(sum(r.gross for r in rates), currency, locale), bold=True)


def _payment(
    pdf: _Page, document: Invoice | CreditNote, words: Mapping[str, str], locale: str
) -> None:
    payment = document.payment
    pdf.text_line(f"{words['payment']}: {METHODS[locale][payment.method]}")
    if payment.paid_at is not None and not isinstance(document, CreditNote):
        pdf.text_line(words["paid_on"].format(date=_date(payment.paid_at.date(), locale)))
    bank = payment.bank
    if bank is not None and bank.iban:
        pdf.text_line(f"{words['holder']}: {bank.account_holder}")
        pdf.text_line(f"IBAN: {bank.iban} · BIC: {bank.bic}")
        pdf.text_line(f"{words['reference']}: {bank.reference}")
