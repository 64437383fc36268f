"""Invoices and credit notes built from orders (domain/invoice.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import invoice as invoices
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import InvoiceMismatch
from chalicelib.domain.invoice import Credited, CreditReason, LineKind
from chalicelib.domain.order import PaymentMethod
from chalicelib.domain.pricing import DiscountCode, DiscountKind
from tests.invoice_samples import AT, invoice_of, paid_order


def credit(invoice, amount, credited=None, number="GS-2026-00001", source="evt-1"):
    return invoices.credit_note_for(
        invoice,
        number=number,
        amount=amount,
        credited=credited or Credited.nothing(),
        reason=CreditReason.REFUND,
        source=source,
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )


def test_numbers_name_the_series_the_year_and_five_digits():
    assert invoices.document_number("RE", 2026, 42) == "RE-2026-00042"
    assert invoices.document_number("GS", 2027, 1) == "GS-2027-00001"
    with pytest.raises(ValueError):
        invoices.document_number("RE", 2026, 100_000)


def test_an_invoice_carries_the_orders_breakdown_per_rate_to_the_cent():
    order = paid_order()
    invoice = invoice_of(order)
    assert [(r.rate, r.net, r.tax, r.gross) for r in invoice.rates] == [
        (t.rate, t.net, t.tax, t.gross) for t in order.tax_rates
    ]
    assert invoice.gross == order.totals.total
    assert invoice.tax == order.totals.tax
    assert invoice.net == order.totals.total - order.totals.tax


def test_discount_and_shipping_are_lines_of_their_own_per_rate():
    order = paid_order()
    lines = invoice_of(order).lines
    kinds = [line.kind for line in lines]
    assert (
        kinds
        == [LineKind.GOODS, LineKind.GOODS] + [LineKind.DISCOUNT] * 2 + [LineKind.SHIPPING] * 2
    )
    goods = [line for line in lines if line.kind is LineKind.GOODS]
    assert [(g.name, g.quantity, g.unit_price, g.amount) for g in goods] == [
        ("Darjeeling 100 g", 2, 1190, 2380),
        ("Steingut-Becher Größe M", 1, 1900, 1900),
    ]
    discount = sum(line.amount for line in lines if line.kind is LineKind.DISCOUNT)
    assert discount == -order.totals.discount == -sum(g.discount for g in goods)
    shipping = sum(line.amount for line in lines if line.kind is LineKind.SHIPPING)
    assert shipping == order.totals.shipping == 495
    assert all(g.amount_after_discount == g.amount - g.discount for g in goods)
    assert sum(line.amount for line in lines) == order.totals.total


def test_one_rate_has_one_shipping_line_named_as_the_method():
    order = paid_order({"tea": 3}, discount=None)
    shipping = [line for line in invoice_of(order).lines if line.kind is LineKind.SHIPPING]
    assert [(s.name, s.amount, s.tax_rate) for s in shipping] == [("DHL Paket", 495, "7")]


def test_the_buyer_is_the_billing_address_and_the_seller_the_settings():
    invoice = invoice_of(paid_order())
    assert invoice.buyer.name == "Erika Mustermann"
    assert invoice.buyer.address == ("Hauptstraße 1", "10115 Berlin", "DE")
    assert invoice.seller.vat_id == "DE123456789"
    assert invoice.delivery_month == "2026-12"


def test_bank_details_are_on_a_bank_transfer_invoice_only():
    assert invoice_of(paid_order()).payment.bank is None
    bank = invoice_of(paid_order(method=PaymentMethod.BANK_TRANSFER)).payment.bank
    assert bank is not None and bank.iban == "DE89370400440532013000"
    assert bank.reference == "7K3M-9Q2X"


def test_an_order_whose_breakdown_does_not_add_up_is_not_invoiced():
    order = paid_order()
    broken = replace(order, totals=replace(order.totals, total=order.totals.total + 1))
    with pytest.raises(InvoiceMismatch):
        invoice_of(broken)


def test_a_seller_needs_a_vat_id_or_a_tax_number():
    with pytest.raises(ValueError):
        invoices.Seller(legal_name="X", address=(), vat_id="", tax_number="", register="", email="")


def test_a_full_credit_note_cancels_every_rate_exactly():
    invoice = invoice_of(paid_order())
    note = credit(invoice, invoice.gross)
    assert [(r.rate, r.net, r.tax, r.gross) for r in note.rates] == [
        (r.rate, -r.net, -r.tax, -r.gross) for r in invoice.rates
    ]
    assert note.invoice_number == invoice.number
    assert note.invoice_date == invoice.issue_date


def test_a_partial_refund_is_split_over_the_rates_in_proportion():
    invoice = invoice_of(paid_order({"tea": 1, "mug": 1}, discount=None, shipping=False))
    # 11.90 at 7 % and 19.00 at 19 %: 10.00 back is 3.85 and 6.15 (largest remainder).
    note = credit(invoice, 1000)
    assert [(r.rate, r.gross) for r in note.rates] == [("7", -385), ("19", -615)]
    assert sum(r.gross for r in note.rates) == -1000
    assert all(r.net + r.tax == r.gross for r in note.rates)


def test_a_credit_note_cannot_take_back_more_than_is_left():
    invoice = invoice_of(paid_order())
    first = credit(invoice, invoice.gross - 100)
    credited = Credited.nothing().plus(first)
    with pytest.raises(InvoiceMismatch):
        credit(invoice, 101, credited)
    last = credit(invoice, 100, credited, number="GS-2026-00002")
    done = credited.plus(last)
    assert all(left.gross == 0 and left.tax == 0 for left in done.remaining(invoice))


def test_a_refused_payments_refund_corrects_no_invoice():
    order = paid_order()
    duplicate = replace(order.payments[0], reference="pi_2", refund_due=True)
    order = replace(order, payments=(*order.payments, duplicate))
    assert invoices.refund_corrects_invoice(order, "pi_1")
    assert not invoices.refund_corrects_invoice(order, "pi_2")


# --- properties ----------------------------------------------------------------------------

RATES = ["0", "7", "19", "20", "5.5"]


@st.composite
def orders_(draw):
    count = draw(st.integers(1, 4))
    products = {
        f"p{i}": Product(
            sku=f"p{i}",
            name=f"Produkt {i}",
            price=draw(st.integers(1, 50_000)),
            currency="EUR",
            tax_rate=Decimal(draw(st.sampled_from(RATES))),
            available=1000,
        )
        for i in range(count)
    }
    lines = {sku: draw(st.integers(1, 20)) for sku in products}
    discount = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda p: DiscountCode(code="P", kind=DiscountKind.PERCENTAGE, percent=Decimal(p)),
                st.integers(1, 90),
            ),
            st.builds(
                lambda a: DiscountCode(code="F", kind=DiscountKind.FIXED_AMOUNT, amount=a),
                st.integers(1, 20_000),
            ),
        )
    )
    return paid_order(lines, products=products, discount=discount, shipping=draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(order=orders_(), cuts=st.lists(st.integers(1, 10_000), max_size=6))
def test_per_rate_sums_add_up_and_credit_notes_never_exceed_the_invoice(order, cuts):
    invoice = invoice_of(order)
    assert invoice.gross == order.totals.total and invoice.tax == order.totals.tax
    assert sum(line.amount for line in invoice.lines) == invoice.gross
    credited = Credited.nothing()
    for i, cut in enumerate(cuts):
        left = sum(rate.gross for rate in credited.remaining(invoice))
        if left == 0:
            break
        note = credit(invoice, min(cut, left), credited, source=f"evt-{i}")
        assert sum(r.gross for r in note.rates) == -min(cut, left)
        assert all(r.net + r.tax == r.gross <= 0 and r.tax <= 0 for r in note.rates)
        credited = credited.plus(note)
        for rate in credited.remaining(invoice):
            assert rate.gross >= 0 and rate.tax >= 0 and rate.net >= 0
    rest = sum(rate.gross for rate in credited.remaining(invoice))
    if rest:
        credited = credited.plus(credit(invoice, rest, credited, source="evt-last"))
    # Everything taken back: every rate's gross, tax and net are exactly cancelled.
    assert all(r.gross == r.tax == r.net == 0 for r in credited.remaining(invoice))
