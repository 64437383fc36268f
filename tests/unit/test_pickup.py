"""Click & collect after payment, on fakes: ready for pickup with a code, the
hand-over against it, the stock it consumes and the withdrawal period it
starts, as a carrier's delivery does."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from chalicelib.domain import pickup as domain
from chalicelib.domain.errors import (
    IllegalTransition,
    NotAPickupOrder,
    PickupCodeWrong,
    PickupOrderNotShipped,
    WithdrawalPeriodEnded,
)
from chalicelib.domain.fulfilment import ReturnedLine
from chalicelib.domain.order import (
    Customer,
    FulfilmentStatus,
    OrderStatus,
    PaymentMethod,
    RequestedLine,
)
from chalicelib.domain.pricing import PickupLocation
from chalicelib.domain.withdrawal import LineRequest
from chalicelib.services import catalog, checkout_terms, fulfilment, pickup, placement, withdrawals
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION
from tests.unit.test_fulfilment import ADDRESS, pay, ship

STORE = PickupLocation(
    id="mitte", names={"de": "Laden Berlin-Mitte", "en": "Berlin-Mitte shop"},
    line1="Torstr. 12", postal_code="10119", city="Berlin", country="DE",
    opening_hours={"de": "Mo-Fr 10-19 Uhr"},
)  # fmt: skip


@pytest.fixture
def shop(ctx: Context) -> Context:
    catalog.save_product(
        "tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
    )
    catalog.count_stock("tea", 10, ctx)
    checkout_terms.save_pickup_location(STORE, ctx)
    return ctx


def collect(ctx: Context, quantity: int = 2) -> str:
    command = placement.PlaceOrder(
        lines=(RequestedLine("tea", quantity),),
        customer=Customer("e@example.com", "E"),
        shipping_address=None,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.BANK_TRANSFER,
        locale="en",
        pickup_location="mitte",
        terms_version=TERMS_VERSION,
    )
    placed = placement.place_order(command, f"key-{uuid.uuid4()}", ctx)
    return placed.order.id


@pytest.fixture
def ready(shop: Context) -> str:
    order_id = collect(shop)
    pay(shop, order_id)
    pickup.mark_ready_for_pickup(order_id, actor="merchant", ctx=shop)
    return order_id


def code_of(ctx: Context, order_id: str) -> str:
    code = ctx.orders.get(order_id).order.pickup_code
    assert code is not None
    return code


def test_a_pickup_order_keeps_no_shipping_address_and_costs_no_shipping(shop):
    order = shop.orders.get(collect(shop)).order
    assert order.shipping_address is None and order.shipping is None
    assert order.pickup is not None and order.pickup.name == "Berlin-Mitte shop"
    assert order.totals.shipping == 0 and order.totals.total == 1000


def test_pickup_codes_are_six_random_digits():
    codes = {pickup.new_pickup_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190  # random, not a counter or a constant


def test_ready_then_handed_over_consumes_the_reserved_stock(shop, ready):
    order = shop.orders.get(ready).order
    assert (order.status, order.fulfilment_status) == (
        OrderStatus.READY_FOR_PICKUP,
        FulfilmentStatus.READY_FOR_PICKUP,
    )
    tea = shop.catalog.get("tea")
    assert (tea.available, tea.reserved, tea.shipped) == (8, 2, 0)
    record = pickup.hand_over(ready, code_of(shop, ready), actor="merchant", ctx=shop)
    assert record.order.status is OrderStatus.PICKED_UP
    assert record.order.picked_up_at is not None
    tea = shop.catalog.get("tea")
    assert (tea.available, tea.reserved, tea.shipped) == (8, 0, 2)


def test_a_wrong_code_changes_nothing(shop, ready):
    before = shop.orders.get(ready)
    wrong = "000000" if code_of(shop, ready) != "000000" else "999999"
    with pytest.raises(PickupCodeWrong):
        pickup.hand_over(ready, wrong, actor="merchant", ctx=shop)
    assert shop.orders.get(ready) == before


def test_only_a_paid_pickup_order_becomes_ready_and_only_a_ready_one_is_handed_over(shop):
    unpaid = collect(shop)
    with pytest.raises(IllegalTransition):
        pickup.mark_ready_for_pickup(unpaid, actor="merchant", ctx=shop)
    pay(shop, unpaid)
    with pytest.raises(IllegalTransition):
        pickup.hand_over(unpaid, "123456", actor="merchant", ctx=shop)


def test_a_pickup_order_is_not_shipped_and_a_sent_order_not_handed_over(shop, ready):
    with pytest.raises(PickupOrderNotShipped):
        ship(shop, ready, "T-1", ("tea", 2))
    order = shop.orders.get(ready).order
    sent = replace(order, pickup=None)
    with pytest.raises(NotAPickupOrder):
        domain.ready_for_pickup(sent, code="123456", actor="m", at=order.updated_at)
    with pytest.raises(NotAPickupOrder):
        domain.hand_over(sent, code="123456", actor="m", at=order.updated_at)


def test_the_withdrawal_period_runs_from_the_hand_over(shop, ready, clock):
    order = shop.orders.get(ready).order
    ref = withdrawals.OrderReference(number=order.number, email=order.customer.email)
    clock.advance(days=30)  # not collected yet: the period has not begun
    early = withdrawals.withdraw(ref, [LineRequest("tea", 1)], "1.2.3.4", shop)
    assert early.created and early.record.order.withdrawals[0].refund.goods == 500
    pickup.hand_over(ready, code_of(shop, ready), actor="merchant", ctx=shop)
    clock.advance(days=10)
    assert withdrawals.withdraw(ref, None, "1.2.3.4", shop).created
    clock.advance(days=10)
    with pytest.raises(WithdrawalPeriodEnded):
        withdrawals.withdraw(ref, None, "1.2.3.4", shop)


def test_a_picked_up_order_takes_returns(shop, ready):
    pickup.hand_over(ready, code_of(shop, ready), actor="merchant", ctx=shop)
    record = fulfilment.record_return(
        ready,
        fulfilment.RecordReturn(lines=(ReturnedLine("tea", 1, restock=True),)),
        actor="merchant",
        ctx=shop,
    )
    assert record.order.return_credit_total == 500
