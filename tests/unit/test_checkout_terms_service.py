"""Checkout terms with fakes: an expired unpaid order gives its code's use
and its customer's claim back; the fingerprint tells a code's case apart
from a different code (docs/checkout.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.errors import DiscountCodeAlreadyUsed
from chalicelib.domain.order import Address, Customer, OrderStatus, PaymentMethod, RequestedLine
from chalicelib.domain.pricing import DiscountCode, DiscountKind
from chalicelib.services import catalog, checkout_terms, placement, sweeps
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


def command(code: str = "welcome") -> placement.PlaceOrder:
    return placement.PlaceOrder(
        lines=(RequestedLine("tea", 1),),
        customer=Customer("Erika@Example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="de",
        terms_version=TERMS_VERSION,
        discount_code=code,
    )


@pytest.fixture
def shop(ctx: Context) -> Context:
    catalog.save_product(
        "tea", name="Tea", price=900, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
    )
    catalog.count_stock("tea", 10, ctx)
    code = DiscountCode(
        code="WELCOME", kind=DiscountKind.FIXED_AMOUNT, amount=100, once_per_customer=True
    )
    checkout_terms.save_discount_code(code, ctx)
    return ctx


def uses(ctx: Context) -> int:
    (code,) = checkout_terms.list_discount_codes(ctx)
    return code.uses


def test_an_expired_unpaid_order_gives_its_use_and_claim_back(shop: Context, clock):
    placed = placement.place_order(command(), "key-0123456789abcdef-1", shop)
    assert placed.order.discount is not None and placed.order.totals.total == 800
    assert uses(shop) == 1
    with pytest.raises(DiscountCodeAlreadyUsed):
        placement.place_order(command(" WELCOME"), "key-0123456789abcdef-2", shop)
    clock.advance(hours=3)
    sweeps.expire_unpaid_orders(shop)
    assert shop.orders.get(placed.order.id).order.status is OrderStatus.EXPIRED
    assert uses(shop) == 0
    again = placement.place_order(command(), "key-0123456789abcdef-3", shop)
    assert again.created and uses(shop) == 1


def test_a_code_typed_in_another_case_is_the_same_request(shop: Context):
    first = placement.place_order(command("welcome"), "key-0123456789abcdef-4", shop)
    retry = placement.place_order(command("WELCOME "), "key-0123456789abcdef-4", shop)
    assert (retry.created, retry.order.id) == (False, first.order.id)
    assert command("welcome").fingerprint() != replace(command(), discount_code=None).fingerprint()
    assert uses(shop) == 1
    assert timedelta(0) <= first.order.payment_due_at - first.order.created_at
