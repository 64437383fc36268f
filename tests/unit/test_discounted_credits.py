"""Returns and withdrawals of an order placed with a discount code credit what
the customer paid for the units (the line after its share of the discount),
never the list price, and a line returned in steps adds up to the cent."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.fulfilment import ReturnedLine
from chalicelib.domain.money import unit_share
from chalicelib.domain.order import Customer, PaymentMethod, RequestedLine
from chalicelib.domain.pricing import DiscountCode, DiscountKind
from chalicelib.domain.withdrawal import LineRequest
from chalicelib.services import catalog, checkout_terms, fulfilment, placement, withdrawals
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION
from tests.unit.test_fulfilment import ADDRESS, pay, ship

TRACKING = "00340434161094042557"


@pytest.fixture
def coded(ctx: Context) -> str:
    """odd 3 x 3,33 € and mug 1 x 15,00 € with 10 % off: 2,50 € taken, the odd
    line pays 8,99 € (1,00 € of the discount), the mug 13,50 €; paid, shipped."""
    for sku, price in {"odd": 333, "mug": 1500}.items():
        catalog.save_product(
            sku, name=sku.title(), price=price, currency="EUR", tax_rate=Decimal("19"), ctx=ctx
        )
        catalog.count_stock(sku, 10, ctx)
    checkout_terms.save_discount_code(
        DiscountCode(code="TEN", kind=DiscountKind.PERCENTAGE, percent=Decimal("10")), ctx
    )
    placed = placement.place_order(
        placement.PlaceOrder(
            lines=(RequestedLine("odd", 3), RequestedLine("mug", 1)),
            customer=Customer("e@example.com", "E"),
            shipping_address=ADDRESS,
            billing_address=ADDRESS,
            payment_method=PaymentMethod.BANK_TRANSFER,
            locale="de",
            discount_code="ten",
            terms_version=TERMS_VERSION,
        ),
        f"key-{uuid.uuid4()}",
        ctx,
    )
    lines = {line.sku: line for line in placed.order.lines}
    assert (lines["odd"].discount, lines["mug"].discount) == (100, 150)
    pay(ctx, placed.order.id)
    ship(ctx, placed.order.id, TRACKING, ("odd", 3), ("mug", 1))
    return placed.order.id


def returned(ctx: Context, order_id: str, *lines: tuple[str, int]) -> int:
    before = ctx.orders.get(order_id).order.return_credit_total
    record = fulfilment.record_return(
        order_id,
        fulfilment.RecordReturn(lines=tuple(ReturnedLine(s, q, restock=True) for s, q in lines)),
        actor="merchant:test",
        ctx=ctx,
    )
    assert record.history[-1].data["credit"] == record.order.return_credit_total - before
    return record.order.return_credit_total - before


def test_returning_one_of_three_discounted_units_credits_its_share_of_what_was_paid(ctx, coded):
    assert returned(ctx, coded, ("odd", 1)) == 299  # 899 // 3, not the list price 333


def test_returning_a_line_in_steps_credits_exactly_what_was_paid_for_it(ctx, coded):
    steps = [returned(ctx, coded, ("odd", 1)), returned(ctx, coded, ("odd", 2))]
    assert steps == [299, 600] and sum(steps) == 899


def test_returning_everything_credits_what_was_paid_for_the_goods(ctx, coded):
    order = ctx.orders.get(coded).order
    credit = returned(ctx, coded, ("odd", 3), ("mug", 1))
    assert credit == order.totals.subtotal - order.totals.discount == 2249


def test_a_withdrawal_refunds_the_discounted_share_and_all_of_it_for_everything(ctx, coded):
    order = ctx.orders.get(coded).order
    ref = withdrawals.OrderReference(number=order.number, email=order.customer.email)
    one = withdrawals.withdraw(ref, [LineRequest("odd", 1)], "1.2.3.4", ctx)
    first = one.record.order.withdrawals[0]
    assert first.refund.goods == 299
    rest = withdrawals.withdraw(ref, None, "1.2.3.4", ctx).record.order.withdrawals[1]
    assert first.refund.goods + rest.refund.goods == order.totals.total - order.totals.shipping
    assert rest.full


@settings(max_examples=200, deadline=None)
@given(
    paid=st.integers(0, 10**7),
    steps=st.lists(st.integers(1, 20), min_size=1, max_size=10),
)
def test_the_units_of_a_line_add_up_to_what_was_paid_for_it_in_any_steps(paid, steps):
    quantity = sum(steps)
    taken = shares = 0
    for units in steps:
        share = unit_share(paid, quantity, taken, units)
        # Every step is within one cent of its exact share.
        assert abs(share * quantity - paid * units) < 2 * quantity
        shares += share
        taken += units
    assert shares == paid
