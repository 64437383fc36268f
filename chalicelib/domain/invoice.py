"""Invoices and credit notes: what the tax office needs to see, built from an order.

Plain Python, no I/O. ``invoice_for`` turns a paid order into the data of its
invoice (section 14 (4) UStG: seller and buyer, number and dates, every line
with quantity and name, discounts and shipping as lines of their own, net, tax
and gross per rate, the payment); ``credit_note_for`` turns a refund of an
invoiced order into a credit note that names the invoice and carries the
negative amounts per rate. The number is given: the store takes it (a counter
with a condition) in the same transaction that writes the document
(docs/invoices.md).

Amounts are integer minor units. An invoice's per-rate amounts are the
order's own VAT breakdown (``Order.tax_rates``, domain/pricing.py), so the
invoice says to the cent what checkout charged; ``invoice_for`` refuses an
order whose breakdown does not add up to its totals rather than issue a wrong
invoice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from chalicelib.domain.errors import InvoiceMismatch
from chalicelib.domain.events import CreditNoteIssuedData, InvoiceIssuedData, TaxRateAmounts
from chalicelib.domain.money import included_tax
from chalicelib.domain.order import HistoryEntry, Order, OrderLine, PaymentMethod, TaxRateLine
from chalicelib.domain.pricing import allocate

#: Number series (docs/invoices.md): invoices RE-<year>-<5 digits>, credit
#: notes GS-<year>-<5 digits>, each counted from 1 every calendar year.
INVOICE_SERIES = "RE"
CREDIT_NOTE_SERIES = "GS"
NUMBER_DIGITS = 5


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class LineKind(StrEnum):
    GOODS = "goods"
    DISCOUNT = "discount"
    SHIPPING = "shipping"
    CREDIT = "credit"


class CreditReason(StrEnum):
    REFUND = "refund"
    RETURN = "return"
    CANCELLATION = "cancellation"


#: What document_number makes: a series, the year and five digits.
DOCUMENT_NUMBER_PATTERN = r"^[A-Z]{2}-[0-9]{4}-[0-9]{5}$"


def document_number(series: str, year: int, sequence: int) -> str:
    """``RE-2026-00042``: the series, the year of issue and the place in it."""
    if not 1 <= sequence < 10**NUMBER_DIGITS:
        raise ValueError("a series holds 99,999 numbers a year")
    return f"{series}-{year}-{sequence:0{NUMBER_DIGITS}d}"


def series_key(series: str, year: int) -> str:
    """The counter a number is taken from: one per series and year."""
    return f"{series}-{year}"


@dataclass(frozen=True)
class Seller:
    """The shop as the law asks an invoice to name it (from the settings)."""

    legal_name: str
    address: tuple[str, ...]  # street, postal code and city, country
    vat_id: str  # USt-IdNr.; at least one of vat_id and tax_number
    tax_number: str  # Steuernummer
    register: str  # e.g. "Amtsgericht Berlin-Charlottenburg, HRB 123456"; may be empty
    email: str
    # A company's business letters name its managing directors (section 35a
    # GmbHG, section 80 AktG); an invoice is one. Empty for a sole trader.
    managing_directors: str = ""
    # The seller's contact point (EN 16931 BT-41..43; XRechnung requires it):
    # a person or department, a phone number, and ``email``.
    contact: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        if not (self.vat_id or self.tax_number):
            raise ValueError("an invoice needs the seller's VAT ID or tax number")


@dataclass(frozen=True)
class Buyer:
    name: str
    address: tuple[str, ...]  # billing address lines, as printed
    company: str | None = None
    # A business buyer's EU VAT ID: section 14a UStG requires it on an
    # intra-EU reverse-charge or exempt invoice, which the shop does not
    # issue (it charges German VAT); the invoice names it all the same.
    vat_id: str | None = None
    email: str | None = None  # the buyer's electronic address (BT-49)
    reference: str | None = None  # the buyer's reference (BT-10), e.g. a Leitweg-ID

    @property
    def is_business(self) -> bool:
        """A company or a VAT ID: who gets the Factur-X PDF (docs/invoices.md)."""
        return bool(self.company or self.vat_id)


@dataclass(frozen=True)
class InvoiceLine:
    """One printed line. Goods: the quantity at the unit price (gross, as the
    shop sells), its discount share and what is left after it. Discount and
    shipping lines are one per tax rate, so each line has exactly one rate."""

    kind: LineKind
    name: str
    quantity: int
    unit_price: int  # gross, minor units
    amount: int  # quantity x unit price (negative for a discount or a credit)
    tax_rate: str
    sku: str | None = None
    discount: int = 0  # this goods line's share of the discount (positive)

    @property
    def amount_after_discount(self) -> int:
        return self.amount - self.discount


@dataclass(frozen=True)
class RateAmounts:
    """Net, tax and gross at one rate; net + tax == gross, always."""

    rate: str
    net: int
    tax: int
    gross: int

    def __post_init__(self) -> None:
        if self.net + self.tax != self.gross:
            raise InvoiceMismatch(
                "net and tax must add up to the gross", rate=self.rate, gross=self.gross
            )


@dataclass(frozen=True)
class BankDetails:
    account_holder: str
    iban: str
    bic: str
    reference: str  # what the customer writes on the transfer: the order number


@dataclass(frozen=True)
class PaymentTerms:
    method: PaymentMethod
    paid_at: datetime | None
    bank: BankDetails | None = None  # bank transfer only


class _SumsOverRates:
    """The document's totals: the sums over its amounts per rate."""

    rates: tuple[RateAmounts, ...]

    @property
    def gross(self) -> int:
        return sum(rate.gross for rate in self.rates)

    @property
    def net(self) -> int:
        return sum(rate.net for rate in self.rates)

    @property
    def tax(self) -> int:
        return sum(rate.tax for rate in self.rates)


@dataclass(frozen=True)
class Invoice(_SumsOverRates):
    number: str
    order_id: str
    order_number: str
    issued_at: datetime
    issue_date: date  # in the shop's timezone
    delivery_date: date | None  # known when it shipped; else the month below
    delivery_month: str  # "2026-12": section 14 (4) no. 6 allows the month
    locale: str
    currency: str
    seller: Seller
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    rates: tuple[RateAmounts, ...]
    payment: PaymentTerms


@dataclass(frozen=True)
class CreditNote(_SumsOverRates):
    """A correction of an invoice (Rechnungskorrektur; for the whole invoice,
    a Stornorechnung): its own number, the invoice it corrects, and the
    amounts per rate as negative numbers."""

    number: str
    order_id: str
    order_number: str
    invoice_number: str
    invoice_date: date
    issued_at: datetime
    issue_date: date
    reason: CreditReason
    source: str  # what caused it, unique per order: the refund event's id
    locale: str
    currency: str
    seller: Seller
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    rates: tuple[RateAmounts, ...]  # negative
    payment: PaymentTerms


@dataclass(frozen=True)
class Credited:
    """What the credit notes of one invoice have taken back so far, per rate
    (positive amounts), so the next one never takes more than is left."""

    gross: Mapping[str, int]
    tax: Mapping[str, int]

    @classmethod
    def nothing(cls) -> Credited:
        return cls(gross={}, tax={})

    def plus(self, note: CreditNote) -> Credited:
        gross, tax = dict(self.gross), dict(self.tax)
        for rate in note.rates:
            gross[rate.rate] = gross.get(rate.rate, 0) - rate.gross
            tax[rate.rate] = tax.get(rate.rate, 0) - rate.tax
        return Credited(gross=gross, tax=tax)

    def remaining(self, invoice: Invoice) -> list[RateAmounts]:
        """The invoice's amounts per rate less what was credited."""
        left = []
        for rate in invoice.rates:
            gross = rate.gross - self.gross.get(rate.rate, 0)
            tax = rate.tax - self.tax.get(rate.rate, 0)
            left.append(RateAmounts(rate=rate.rate, net=gross - tax, tax=tax, gross=gross))
        return left


def buyer_of(order: Order) -> Buyer:
    """The buyer as the billing address names them, with the order's VAT ID,
    buyer reference and the customer's email."""
    billing = order.billing_address
    lines = (billing.line1, billing.line2, f"{billing.postal_code} {billing.city}", billing.country)
    return Buyer(
        name=billing.name,
        company=billing.company,
        address=tuple(line for line in lines if line),
        vat_id=order.vat_id,
        email=order.customer.email,
        reference=order.buyer_reference,
    )


def _rates_of(order: Order) -> tuple[TaxRateLine, ...]:
    """The order's VAT per rate. Orders placed before checkout pricing kept
    no breakdown: theirs is made from the lines (their shipping was free)."""
    if order.tax_rates:
        return order.tax_rates
    by_rate: dict[str, list[OrderLine]] = {}
    for line in order.lines:
        by_rate.setdefault(line.tax_rate, []).append(line)
    made = []
    for rate, lines in by_rate.items():
        gross = sum(line.line_total - line.discount for line in lines)
        tax = sum(line.tax_amount for line in lines)
        made.append(
            TaxRateLine(rate=rate, goods=gross, shipping=0, gross=gross, net=gross - tax, tax=tax)
        )
    return tuple(made)


def _labels(locale: str) -> Mapping[str, str]:
    return _LABELS["de" if locale == "de" else "en"]


_LABELS: Mapping[str, Mapping[str, str]] = {
    "de": {"discount": "Rabatt", "shipping": "Versand", "credit": "Korrektur zu"},
    "en": {"discount": "Discount", "shipping": "Shipping", "credit": "Correction of"},
}


def invoice_lines(order: Order, rates: Sequence[TaxRateLine]) -> tuple[InvoiceLine, ...]:
    """Goods lines, then one discount line and one shipping line per rate."""
    words = _labels(order.locale)
    goods = [
        InvoiceLine(
            kind=LineKind.GOODS,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.line_total,
            tax_rate=line.tax_rate,
            discount=line.discount,
        )
        for line in order.lines
    ]
    discounts = []
    for rate in rates:
        off = sum(line.discount for line in order.lines if line.tax_rate == rate.rate)
        if off:
            code = f" ({order.discount.code})" if order.discount is not None else ""
            discounts.append(
                InvoiceLine(
                    kind=LineKind.DISCOUNT,
                    name=f"{words['discount']}{code} {rate.rate} %",
                    quantity=1,
                    unit_price=-off,
                    amount=-off,
                    tax_rate=rate.rate,
                )
            )
    shipping_name = order.shipping.name if order.shipping is not None else words["shipping"]
    shipping = [
        InvoiceLine(
            kind=LineKind.SHIPPING,
            name=shipping_name if len(rates) == 1 else f"{shipping_name} {rate.rate} %",
            quantity=1,
            unit_price=rate.shipping,
            amount=rate.shipping,
            tax_rate=rate.rate,
        )
        for rate in rates
        if rate.shipping
    ]
    return (*goods, *discounts, *shipping)


def invoice_for(
    order: Order,
    *,
    number: str,
    seller: Seller,
    issued_at: datetime,
    issue_date: date,
    paid_at: datetime | None,
    delivery_date: date | None,
    bank: BankDetails | None,
) -> Invoice:
    """The invoice of ``order``. Its per-rate amounts are the order's, and
    they must add up to the order's total and tax; its lines must add up to
    the same total. Anything else is refused (``InvoiceMismatch``)."""
    breakdown = _rates_of(order)
    rates = tuple(
        RateAmounts(rate=rate.rate, net=rate.net, tax=rate.tax, gross=rate.gross)
        for rate in breakdown
    )
    lines = invoice_lines(order, breakdown)
    totals = order.totals
    # Goods at full price, the discount lines take the discount off once.
    lines_total = sum(line.amount for line in lines)
    if sum(r.gross for r in rates) != totals.total or sum(r.tax for r in rates) != totals.tax:
        raise InvoiceMismatch(
            "the order's VAT breakdown does not add up to its totals", order_id=order.id
        )
    if lines_total != totals.total:
        raise InvoiceMismatch("the invoice's lines do not add up to the total", order_id=order.id)
    month_of = delivery_date or issue_date
    return Invoice(
        number=number,
        order_id=order.id,
        order_number=order.number,
        issued_at=issued_at,
        issue_date=issue_date,
        delivery_date=delivery_date,
        delivery_month=f"{month_of.year:04d}-{month_of.month:02d}",
        locale=order.locale,
        currency=order.currency,
        seller=seller,
        buyer=buyer_of(order),
        lines=lines,
        rates=rates,
        payment=PaymentTerms(
            method=order.payment_method,
            paid_at=paid_at,
            bank=bank if order.payment_method is PaymentMethod.BANK_TRANSFER else None,
        ),
    )


def credit_amounts(amount: int, remaining: Sequence[RateAmounts]) -> list[RateAmounts]:
    """``amount`` (gross, positive) taken back over the rates that are left.

    Proportional to each rate's remaining gross, by largest remainder
    (pricing.allocate), so the parts add up to ``amount`` to the cent. The
    tax of each part is the tax it contains (rounded half to even); the part
    that takes a rate's whole remaining gross takes its whole remaining tax
    too, so a full correction (or the last of several) cancels the invoice's
    tax exactly. Never more than is left: an amount above it is refused."""
    left = sum(rate.gross for rate in remaining)
    if amount <= 0:
        raise InvoiceMismatch("a credit note credits a positive amount", amount=amount)
    if amount > left:
        raise InvoiceMismatch(
            "a credit note cannot take back more than is left of the invoice",
            amount=amount,
            remaining=left,
        )
    parts = allocate(amount, [rate.gross for rate in remaining])
    result = []
    for rate, gross in zip(remaining, parts, strict=True):
        if gross == 0:
            continue
        if gross == rate.gross:
            tax = rate.tax
        else:
            tax = min(included_tax(gross, Decimal(rate.rate)), rate.tax)
        result.append(RateAmounts(rate=rate.rate, net=-(gross - tax), tax=-tax, gross=-gross))
    return result


def credit_note_for(
    invoice: Invoice,
    *,
    number: str,
    amount: int,
    credited: Credited,
    reason: CreditReason,
    source: str,
    issued_at: datetime,
    issue_date: date,
) -> CreditNote:
    """The credit note that takes ``amount`` (gross) back from ``invoice``,
    given what earlier credit notes took (``credited``)."""
    rates = tuple(credit_amounts(amount, credited.remaining(invoice)))
    word = _labels(invoice.locale)["credit"]
    lines = tuple(
        InvoiceLine(
            kind=LineKind.CREDIT,
            name=f"{word} {invoice.number} {rate.rate} %",
            quantity=1,
            unit_price=rate.gross,
            amount=rate.gross,
            tax_rate=rate.rate,
        )
        for rate in rates
    )
    return CreditNote(
        number=number,
        order_id=invoice.order_id,
        order_number=invoice.order_number,
        invoice_number=invoice.number,
        invoice_date=invoice.issue_date,
        issued_at=issued_at,
        issue_date=issue_date,
        reason=reason,
        source=source,
        locale=invoice.locale,
        currency=invoice.currency,
        seller=invoice.seller,
        buyer=invoice.buyer,
        lines=lines,
        rates=rates,
        payment=invoice.payment,
    )


def refund_corrects_invoice(order: Order, payment_reference: str | None) -> bool:
    """Whether a refund changes what was invoiced. Money that was refused
    (it came late, twice or for another amount: ``refund_due``) was never
    the price of the order, so giving it back corrects no invoice."""
    for payment in order.payments:
        if payment.reference == payment_reference:
            return not payment.refund_due
    return payment_reference is None and any(not p.refund_due for p in order.payments)


def _rates_data(rates: Sequence[RateAmounts]) -> list[TaxRateAmounts]:
    return [TaxRateAmounts(rate=r.rate, net=r.net, tax=r.tax, gross=r.gross) for r in rates]


def invoice_entry(invoice: Invoice, *, trigger: str, at: datetime) -> HistoryEntry:
    """The history entry (and so the event) of an issued invoice."""
    return HistoryEntry.of(
        InvoiceIssuedData(
            number=invoice.number,
            issue_date=invoice.issue_date.isoformat(),
            gross=invoice.gross,
            net=invoice.net,
            tax=invoice.tax,
            currency=invoice.currency,
            rates=_rates_data(invoice.rates),
            trigger=trigger,
        ),
        at=at,
        actor="system",
        message=f"Invoice {invoice.number} issued",
    )


def credit_note_entry(note: CreditNote, *, at: datetime) -> HistoryEntry:
    """The history entry (and so the event) of an issued credit note."""
    return HistoryEntry.of(
        CreditNoteIssuedData(
            number=note.number,
            issue_date=note.issue_date.isoformat(),
            invoice_number=note.invoice_number,
            invoice_date=note.invoice_date.isoformat(),
            gross=note.gross,
            net=note.net,
            tax=note.tax,
            currency=note.currency,
            rates=_rates_data(note.rates),
            reason=note.reason.value,
        ),
        at=at,
        actor="system",
        message=f"Credit note {note.number} issued for invoice {note.invoice_number}",
    )


def credit_reason(order: Order) -> CreditReason:
    """Why money went back: the order was cancelled after payment, goods came
    back (a return or a withdrawal), or a refund the merchant granted."""
    if order.status.value == "cancelled":
        return CreditReason.CANCELLATION
    if order.return_credit_total or order.withdrawals:
        return CreditReason.RETURN
    return CreditReason.REFUND


def paid_at(order: Order) -> datetime | None:
    """When the money the order was paid with arrived (refused money aside)."""
    accepted = [p.received_at for p in order.payments if not p.refund_due]
    return min(accepted) if accepted else None
