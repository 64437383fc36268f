"""Orders and sellers for the invoice tests: priced by the domain, as checkout prices them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from chalicelib.domain import invoice as invoices
from chalicelib.domain import order as orders
from chalicelib.domain.catalog import Product
from chalicelib.domain.pricing import Delivery, DiscountCode, DiscountKind, ShippingMethod

AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
PRODUCTS = {
    "tea": Product(sku="tea", name="Darjeeling 100 g", price=1190, currency="EUR",
                   tax_rate=Decimal("7"), available=100),
    "mug": Product(sku="mug", name="Steingut-Becher Größe M", price=1900, currency="EUR",
                   tax_rate=Decimal("19"), available=100),
}  # fmt: skip
CUSTOMER = orders.Customer(email="erika@example.com", name="Erika Mustermann")
ADDRESS = orders.Address(
    name="Erika Mustermann", line1="Hauptstraße 1", postal_code="10115", city="Berlin", country="DE"
)
DHL = ShippingMethod(
    id="dhl", names={"de": "DHL Paket", "en": "DHL parcel"}, carrier="dhl", price=495,
    countries=frozenset({"DE"}),
)  # fmt: skip
TEN_PERCENT = DiscountCode(code="TEN", kind=DiscountKind.PERCENTAGE, percent=Decimal("10"))
SELLER = invoices.Seller(
    legal_name="Beispiel Tee GmbH",
    address=("Musterstraße 1", "10115 Berlin", "DE"),
    vat_id="DE123456789",
    tax_number="27/123/45678",
    register="Amtsgericht Berlin-Charlottenburg, HRB 123456",
    email="support@example.com",
    managing_directors="Erika Beispiel",
    contact="Buchhaltung",
    phone="+49 30 1234567",
)
BANK = invoices.BankDetails(
    account_holder="Beispiel Tee GmbH", iban="DE89370400440532013000", bic="COBADEFFXXX",
    reference="7K3M-9Q2X",
)  # fmt: skip


def paid_order(
    lines: dict[str, int] | None = None,
    *,
    method: orders.PaymentMethod = orders.PaymentMethod.CARD,
    shipping: bool = True,
    discount: DiscountCode | None = TEN_PERCENT,
    locale: str = "de",
    order_id: str = "o-1",
    products: dict[str, Product] | None = None,
    company: str | None = None,
    vat_id: str | None = None,
    buyer_reference: str | None = None,
) -> orders.Order:
    products = products or PRODUCTS
    placement = orders.place(
        order_id=order_id,
        number="7K3M-9Q2X",
        token_hash="token-hash",
        requested=[
            orders.RequestedLine(sku, q) for sku, q in (lines or {"tea": 2, "mug": 1}).items()
        ],
        products=products,
        customer=CUSTOMER,
        shipping_address=ADDRESS,
        billing_address=replace(ADDRESS, company=company),
        payment_method=method,
        locale=locale,
        now=AT,
        payment_window=timedelta(minutes=30),
        shipping=Delivery(method=DHL, country="DE") if shipping else None,
        discount=discount,
        vat_id=vat_id,
        buyer_reference=buyer_reference,
    )
    order = placement.order
    payment = orders.Payment(
        provider="stripe", reference="pi_1", amount=order.totals.total, currency="EUR",
        received_at=AT + timedelta(minutes=5),
    )  # fmt: skip
    return replace(
        order,
        status=orders.OrderStatus.PAID,
        payment_status=orders.PaymentStatus.PAID,
        payments=(payment,),
        version=2,
    )


def business_order(**changes: object) -> orders.Order:
    """A company's order with its VAT ID, as a business buyer checks out."""
    fields: dict[str, object] = {"company": "Beispiel Handel GmbH", "vat_id": "DE136695976"}
    return paid_order(**{**fields, **changes})  # type: ignore[arg-type]


def invoice_of(order: orders.Order, number: str = "RE-2026-00001") -> invoices.Invoice:
    return invoices.invoice_for(
        order,
        number=number,
        seller=SELLER,
        issued_at=AT + timedelta(minutes=6),
        issue_date=date(2026, 12, 3),
        paid_at=AT + timedelta(minutes=5),
        delivery_date=None,
        bank=BANK,
    )
