"""The Factur-X PDF (invoice_pdf/facturx_pdf.py): a business buyer's invoice
or credit note as PDF/A-3 with its EN 16931 XML embedded, read back by pypdf
and by the factur-x library's own check; a consumer gets the plain PDF."""

from __future__ import annotations

import io
import re
from datetime import date

import facturx
import pytest
from pypdf import PdfReader

from chalicelib.domain import einvoice
from chalicelib.domain import invoice as invoices
from chalicelib.domain.invoice import Credited, CreditReason
from chalicelib.domain.order import PaymentMethod
from invoice_pdf.facturx_pdf import pdf_for, render_einvoice
from invoice_pdf.render import render
from tests.invoice_samples import AT, business_order, invoice_of, paid_order


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def xmp(pdf: bytes) -> str:
    metadata = reader(pdf).trailer["/Root"]["/Metadata"].get_object()
    return metadata.get_data().decode()


@pytest.fixture(scope="module")
def invoice() -> invoices.Invoice:
    return invoice_of(business_order(method=PaymentMethod.BANK_TRANSFER))


@pytest.fixture(scope="module")
def note(invoice: invoices.Invoice) -> invoices.CreditNote:
    return invoices.credit_note_for(
        invoice,
        number="GS-2026-00001",
        amount=1000,
        credited=Credited.nothing(),
        reason=CreditReason.RETURN,
        source="evt-1",
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )


@pytest.fixture(scope="module")
def pdf(invoice: invoices.Invoice) -> bytes:
    return pdf_for(invoice)


def test_a_business_buyers_pdf_carries_its_xml_as_factur_x_xml(invoice, pdf):
    xml = einvoice.invoice_xml(invoice)
    assert reader(pdf).attachments == {"factur-x.xml": [xml]}
    # The factur-x library's own reading: the attachment it finds, checked
    # against the EN 16931 schema.
    name, found = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert (name, found) == ("factur-x.xml", xml)


def test_the_attachment_is_declared_as_the_invoices_data(pdf):
    root = reader(pdf).trailer["/Root"]
    (spec,) = [entry.get_object() for entry in root["/AF"]]
    assert spec["/F"] == "factur-x.xml"
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"


def test_it_is_pdf_a_3b_with_factur_x_metadata_an_output_intent_and_embedded_fonts(pdf):
    read = reader(pdf)
    assert read.pdf_header == "%PDF-1.7"
    metadata = xmp(pdf)
    assert re.search(r"<pdfaid:part>3</pdfaid:part>", metadata)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", metadata)
    assert re.search(r"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>", metadata)
    assert re.search(r"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>", metadata)
    assert re.search(r"<fx:DocumentType>INVOICE</fx:DocumentType>", metadata)
    (intent,) = [i.get_object() for i in read.trailer["/Root"]["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3  # an RGB ICC profile
    for page in read.pages:
        for font in page["/Resources"]["/Font"].values():
            (descendant,) = font.get_object()["/DescendantFonts"]
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # embedded, as PDF/A requires


def test_the_page_still_says_what_the_plain_pdf_says_and_names_the_buyers_vat_id(invoice, pdf):
    text = "\n".join(page.extract_text() for page in reader(pdf).pages)
    plain = "\n".join(page.extract_text() for page in reader(render(invoice)).pages)
    assert text == plain
    assert "Beispiel Handel GmbH" in text and "USt-IdNr. DE136695976" in text


def test_a_business_buyers_credit_note_is_factur_x_too(note):
    pdf = pdf_for(note)
    _, found = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert found == einvoice.credit_note_xml(note)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in found


def test_a_consumer_gets_the_plain_pdf():
    consumer = invoice_of(paid_order())
    assert not consumer.buyer.is_business
    pdf = pdf_for(consumer)
    assert pdf == render(consumer)
    assert reader(pdf).attachments == {}


def test_a_company_without_a_vat_id_is_a_business_buyer():
    company = invoice_of(paid_order(company="Beispiel Handel GmbH"))
    assert reader(pdf_for(company)).attachments.keys() == {"factur-x.xml"}


def test_xml_that_is_not_en16931_is_refused(invoice):
    broken = einvoice.invoice_xml(invoice).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    with pytest.raises(Exception, match=r"(?i)xsd|schema|TypeCode"):
        render_einvoice(invoice, broken)
