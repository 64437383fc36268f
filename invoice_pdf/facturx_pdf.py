"""The invoice as a Factur-X / ZUGFeRD PDF: a PDF/A-3 with the EN 16931 CII
XML embedded as ``factur-x.xml`` (docs/invoices.md).

fpdf2 renders the same layout as ``render`` under its PDF/A-3B rules (every
font embedded, an sRGB output intent, PDF 1.7); the factur-x library then
checks the XML against the EN 16931 schema, attaches it (AFRelationship
``Data``) and writes the XMP metadata PDF/A and Factur-X require (pdfaid 3B,
the fx extension schema with level EN 16931). The XMP carries the moment it
was written, so unlike ``render`` the bytes differ from run to run: the
documents function renders a document once and stores it.

``pdf_for`` picks: a business buyer (a company or a VAT ID) gets the Factur-X
PDF, a consumer the plain one (docs/invoices.md says why).
"""

from __future__ import annotations

from chalicelib.domain.einvoice import Flavour, document_xml
from chalicelib.domain.invoice import CreditNote, Invoice
from invoice_pdf.render import render, render_as

#: What fpdf2 keeps the rendered PDF to before the XML is embedded.
COMPLIANCE = "PDFA_3B"


def render_einvoice(document: Invoice | CreditNote, xml: bytes) -> bytes:
    """``document`` as a Factur-X PDF/A-3 carrying ``xml`` (its EN 16931 CII
    XML, ``domain.einvoice.document_xml``). The XML is checked against the
    schema first: a document that is not EN 16931 raises, nothing is made."""
    # Imported here: lxml and pypdf are no part of rendering a plain PDF.
    from facturx import generate_from_binary

    pdf = render_as(document, COMPLIANCE)
    title = f"{'Rechnungskorrektur' if isinstance(document, CreditNote) else 'Rechnung'}"
    metadata = {
        "author": document.seller.legal_name,
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": f"{title} {document.number}",
        "subject": f"{title} {document.number} ({document.order_number})",
    }
    return bytes(
        generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            pdf_metadata=metadata,
            lang="de-DE" if document.locale == "de" else "en-GB",
        )
    )


def pdf_for(document: Invoice | CreditNote) -> bytes:
    """The PDF this document's buyer gets: Factur-X for a business, plain for a consumer."""
    if document.buyer.is_business:
        return render_einvoice(document, document_xml(document, Flavour.FACTUR_X))
    return render(document)
