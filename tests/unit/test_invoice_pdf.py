"""The invoice PDF (invoice_pdf/render.py): every field section 14 (4) UStG asks
for, found in the text pypdf extracts, in both languages; the font embedded."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from chalicelib.domain import invoice as documents
from chalicelib.domain.order import PaymentMethod
from chalicelib.notify.formatting import money
from invoice_pdf.render import render
from tests.invoice_samples import AT, invoice_of, paid_order


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def invoice():
    return invoice_of(paid_order(method=PaymentMethod.BANK_TRANSFER))


@pytest.fixture(scope="module")
def text(invoice):
    return text_of(render(invoice))


def test_the_pdf_is_one_a4_page_with_the_font_embedded(invoice):
    reader = PdfReader(io.BytesIO(render(invoice)))
    (page,) = reader.pages
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    fonts = page["/Resources"]["/Font"]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object() for font in fonts.values()]
    names = {d["/BaseFont"] for d in descriptors}
    assert all("DejaVuSans" in name for name in names)
    assert all("/FontFile2" in d["/FontDescriptor"].get_object() for d in descriptors)


def test_the_seller_is_named_with_address_vat_id_tax_number_and_register(text, invoice):
    seller = invoice.seller
    assert seller.legal_name in text
    assert "Musterstraße 1" in text and "10115 Berlin" in text
    assert f"USt-IdNr. {seller.vat_id}" in text
    assert f"Steuernummer {seller.tax_number}" in text
    assert seller.register in text
    assert "Geschäftsführung: Erika Beispiel" in text


def test_the_buyer_is_named_with_the_billing_address(text):
    assert "Rechnungsempfänger" in text
    assert "Erika Mustermann" in text and "Hauptstraße 1" in text


def test_the_number_the_dates_and_the_order_are_shown(text, invoice):
    assert f"Rechnungsnummer {invoice.number}" in text
    assert "Rechnungsdatum 03.12.2026" in text
    assert "Leistungszeitraum 12/2026" in text  # nothing shipped yet: the month
    assert f"Bestellnummer {invoice.order_number}" in text


def test_every_line_shows_quantity_and_name_and_discount_and_shipping_are_lines(text, invoice):
    for position, line in enumerate(invoice.lines, start=1):
        row = f"{position} {line.quantity} {line.name}"
        assert row in text, row
        assert money(line.amount, "EUR", "de") in text
    assert "Rabatt (TEN) 7 %" in text and "DHL Paket 19 %" in text


def test_net_tax_and_gross_per_rate_and_the_totals_add_up(text, invoice):
    for rate in invoice.rates:
        assert f"Nettobetrag {rate.rate} % {money(rate.net, 'EUR', 'de')}" in text
        assert f"Umsatzsteuer {rate.rate} % {money(rate.tax, 'EUR', 'de')}" in text
        assert f"Bruttobetrag {rate.rate} % {money(rate.gross, 'EUR', 'de')}" in text
    assert f"Summe netto {money(invoice.net, 'EUR', 'de')}" in text
    assert f"Summe Umsatzsteuer {money(invoice.tax, 'EUR', 'de')}" in text
    assert f"Gesamtbetrag {money(invoice.gross, 'EUR', 'de')}" in text
    assert "43,47 €" in text


def test_a_bank_transfer_shows_the_account_and_the_reference(text):
    assert "Zahlungsart: Überweisung (Vorkasse)" in text
    assert "IBAN: DE89370400440532013000" in text and "BIC: COBADEFFXXX" in text
    assert "Verwendungszweck: 7K3M-9Q2X" in text


def test_a_card_invoice_shows_the_method_and_no_account():
    text = text_of(render(invoice_of(paid_order())))
    assert "Zahlungsart: Kreditkarte" in text and "IBAN" not in text
    assert "Bezahlt am 03.12.2026." in text


def test_a_shipped_order_shows_its_delivery_date():
    invoice = replace(invoice_of(paid_order()), delivery_date=date(2026, 12, 5))
    assert "Lieferdatum 05.12.2026" in text_of(render(invoice))


def test_an_english_invoice_speaks_english():
    text = text_of(render(invoice_of(paid_order(locale="en"))))
    assert "Invoice RE-2026-00001" in text and "Billed to" in text
    assert "Total VAT" in text and "€43.47" in text
    assert "Delivery period 2026-12" in text


def test_a_credit_note_names_its_invoice_and_shows_negative_amounts_per_rate(invoice):
    note = documents.credit_note_for(
        invoice,
        number="GS-2026-00001",
        amount=1000,
        credited=documents.Credited.nothing(),
        reason=documents.CreditReason.REFUND,
        source="evt-1",
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )
    text = text_of(render(note))
    assert "Rechnungskorrektur GS-2026-00001" in text
    assert "Korrigiert Rechnung RE-2026-00001 vom 03.12.2026" in text
    assert "Grund Erstattung" in text
    for rate in note.rates:
        assert f"Umsatzsteuer {rate.rate} % {money(rate.tax, 'EUR', 'de')}" in text
    assert "Erstattungsbetrag -10,00 €" in text


def test_the_same_document_renders_the_same_bytes(invoice):
    assert render(invoice) == render(invoice)
