"""Withdrawals on orders with fakes: the period from the carrier's delivery,
repeats, several partial withdrawals and their refund targets, the hold and
the identical answer for every failed identification."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from chalicelib.domain.errors import (
    OrderNotFound,
    ShipmentExceedsOrder,
    TooManyAttempts,
    WithdrawalLinesInvalid,
    WithdrawalPeriodEnded,
)
from chalicelib.domain.order import Customer, OrderStatus, PaymentMethod, RequestedLine
from chalicelib.domain.pricing import ShippingMethod
from chalicelib.domain.shipment import TrackingEvent, TrackingStatus
from chalicelib.domain.withdrawal import LineRequest, RefundHold
from chalicelib.services import checkout_terms, fulfilment, payments, placement, withdrawals
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION
from tests.unit.test_fulfilment import (
    ADDRESS,
    assert_invariant,
    counters,
    pay,
    place,
    ship,
)
from tests.unit.test_fulfilment import stocked as stocked  # noqa: PLC0414 - the fixture

TRACKING = "00340434161094042557"


@pytest.fixture
def delivered(stocked: Context, clock) -> str:
    """tea 4 x 500, mug 2 x 1500, paid, shipped and delivered at the clock's now."""
    order_id = place(stocked, ("tea", 4), ("mug", 2))
    pay(stocked, order_id)
    ship(stocked, order_id, TRACKING, ("tea", 4), ("mug", 2))
    fulfilment.apply_tracking_event(
        TrackingEvent(event_id="d-1", carrier="dhl", tracking_number=TRACKING,
                      status=TrackingStatus.DELIVERED, occurred_at=clock()),
        stocked,
    )  # fmt: skip
    return order_id


def by_token(ctx: Context, order_id: str) -> withdrawals.OrderReference:
    order = ctx.orders.get(order_id).order
    return withdrawals.OrderReference(number=order.number, email=order.customer.email)


def test_the_period_runs_from_delivery_and_ends_with_its_own_error(stocked, delivered, clock):
    ref = by_token(stocked, delivered)
    clock.advance(days=20)  # past day 14 and any weekend that moves its end
    with pytest.raises(WithdrawalPeriodEnded):
        withdrawals.withdraw(ref, [LineRequest("tea", 1)], "1.2.3.4", stocked)
    assert stocked.orders.get(delivered).order.withdrawals == ()
    # The merchant may still accept it by hand.
    late = withdrawals.accept_late(
        delivered, [LineRequest("tea", 1)], sent_at=None, actor="merchant", ctx=stocked
    )
    assert late.created and stocked.orders.get(delivered).order.withdrawals[0].late


def test_before_delivery_a_withdrawal_is_always_possible(stocked, clock):
    order_id = place(stocked, ("tea", 2))
    pay(stocked, order_id)
    clock.advance(days=60)
    received = withdrawals.withdraw(by_token(stocked, order_id), None, "1.2.3.4", stocked)
    withdrawal = received.record.order.withdrawals[0]
    # Nothing shipped: nothing comes back, so nothing is held.
    assert (withdrawal.full, withdrawal.hold, withdrawal.refund.total) == (
        True,
        RefundHold.NONE,
        1000,
    )


def test_a_repeat_within_a_day_is_the_same_withdrawal_and_later_a_new_one(
    stocked, delivered, clock
):
    ref = by_token(stocked, delivered)
    first = withdrawals.withdraw(ref, [LineRequest("tea", 1)], "1.2.3.4", stocked)
    clock.advance(hours=2)
    again = withdrawals.withdraw(ref, [LineRequest("tea", 1)], "1.2.3.4", stocked)
    assert (first.created, again.created) == (True, False)
    assert again.withdrawal_id == first.withdrawal_id
    events = [e.event for e in stocked.orders.get(delivered).history]
    assert events.count("WithdrawalReceived") == 1
    clock.advance(days=1)
    later = withdrawals.withdraw(ref, [LineRequest("tea", 1)], "1.2.3.4", stocked)
    assert later.created and later.withdrawal_id != first.withdrawal_id
    with pytest.raises(WithdrawalLinesInvalid):
        withdrawals.withdraw(ref, [LineRequest("tea", 3)], "1.2.3.4", stocked)


def test_each_withdrawal_is_refunded_when_the_refunds_reach_its_target(stocked, delivered):
    ref = by_token(stocked, delivered)
    withdrawals.withdraw(ref, [LineRequest("tea", 1)], "1.2.3.4", stocked)  # 500
    withdrawals.withdraw(ref, [LineRequest("mug", 1)], "1.2.3.4", stocked)  # 1500
    payments.refund_order(delivered, 400, reason="part", actor="merchant", ctx=stocked)
    assert [w.refunded_at for w in stocked.orders.get(delivered).order.withdrawals] == [None] * 2
    payments.refund_order(delivered, 100, reason="rest", actor="merchant", ctx=stocked)
    first, second = stocked.orders.get(delivered).order.withdrawals
    assert first.refunded_at is not None and second.refunded_at is None
    payments.refund_order(delivered, 1500, reason="mug", actor="merchant", ctx=stocked)
    record = stocked.orders.get(delivered)
    assert all(w.refunded_at is not None for w in record.order.withdrawals)
    assert [e.event for e in record.history].count("WithdrawalRefunded") == 2


def test_every_failed_identification_is_the_same_error(stocked, delivered):
    order = stocked.orders.get(delivered).order
    failures = [
        withdrawals.OrderReference(number=order.number, email="mallory@example.com"),
        withdrawals.OrderReference(number="ZZZZ-ZZZZ", email=order.customer.email),
        withdrawals.OrderReference(order_id=order.id, token="not-the-token-at-all"),
        withdrawals.OrderReference(order_id="no-such-order", token="not-the-token-at-all"),
    ]
    seen = set()
    for ref in failures:
        with pytest.raises(OrderNotFound) as caught:
            withdrawals.look_up(ref, "1.2.3.4", stocked)
        seen.add((caught.value.message, tuple(caught.value.details.items())))
    assert seen == {("no order matches these details", ())}


def test_the_eleventh_lookup_in_a_window_is_refused_and_the_next_window_is_open(
    stocked, delivered, clock
):
    ref = withdrawals.OrderReference(number="ZZZZ-ZZZZ", email="a@b.de")
    clock.now = clock.now.replace(minute=0, second=0, microsecond=0)
    for _ in range(10):
        with pytest.raises(OrderNotFound):
            withdrawals.look_up(ref, "1.2.3.4", stocked)
    with pytest.raises(TooManyAttempts):
        withdrawals.look_up(ref, "1.2.3.4", stocked)
    # Another client is counted on its own.
    assert withdrawals.look_up(by_token(stocked, delivered), "5.6.7.8", stocked)
    clock.advance(minutes=15)
    with pytest.raises(OrderNotFound):
        withdrawals.look_up(ref, "1.2.3.4", stocked)


def _place_shipped_with(ctx: Context, method_id: str) -> str:
    placed = placement.place_order(
        placement.PlaceOrder(
            lines=(RequestedLine("tea", 2),),
            customer=Customer("e@example.com", "E"),
            shipping_address=ADDRESS,
            billing_address=ADDRESS,
            payment_method=PaymentMethod.CARD,
            locale="en",
            shipping_method=method_id,
            terms_version=TERMS_VERSION,
        ),
        f"key-{uuid.uuid4()}",
        ctx,
    )
    pay(ctx, placed.order.id)
    return placed.order.id


def _method(method_id: str, price: int, countries=("DE",), free_from=None) -> ShippingMethod:
    return ShippingMethod(
        id=method_id, names={"en": method_id}, carrier="dhl", price=price,
        countries=frozenset(countries), free_from=free_from,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("also_offered", "refunded_delivery"),
    [
        # Express chosen while standard costs 4.90: the customer pays the difference.
        ([_method("standard", 490)], 490),
        # Standard is free for these goods (2 x 5.00 from 5.00): nothing of express comes back.
        ([_method("standard", 490, free_from=500)], 0),
        # The cheaper method does not deliver to Germany: express was the cheapest on offer.
        ([_method("standard", 490, countries=("AT",))], 690),
        # Nothing else offered (or the other switched off): what was paid.
        ([], 690),
        ([replace(_method("standard", 490), active=False)], 690),
    ],
)
def test_a_full_withdrawal_refunds_no_more_than_the_cheapest_standard_delivery(
    stocked, also_offered, refunded_delivery
):
    for method in (_method("express", 690), *also_offered):
        checkout_terms.save_shipping_method(method, stocked)
    order_id = _place_shipped_with(stocked, "express")
    order = stocked.orders.get(order_id).order
    assert order.totals.shipping == 690

    received = withdrawals.withdraw(by_token(stocked, order_id), None, "1.2.3.4", stocked)

    refund = received.record.order.withdrawals[0].refund
    assert (refund.goods, refund.delivery) == (1000, refunded_delivery)


def test_a_partial_withdrawal_refunds_no_delivery(stocked):
    checkout_terms.save_shipping_method(_method("express", 690), stocked)
    order_id = _place_shipped_with(stocked, "express")
    received = withdrawals.withdraw(
        by_token(stocked, order_id), [LineRequest("tea", 1)], "1.2.3.4", stocked
    )
    assert received.record.order.withdrawals[0].refund.delivery == 0


def test_units_withdrawn_before_shipping_go_back_on_the_shelf_and_are_not_shipped(stocked):
    order_id = place(stocked, ("tea", 4), ("mug", 2))
    pay(stocked, order_id)
    before = counters(stocked, "tea")

    withdrawals.withdraw(by_token(stocked, order_id), [LineRequest("tea", 3)], "1.2.3.4", stocked)

    available, reserved, _, _ = counters(stocked, "tea")
    assert (available, reserved) == (before[0] + 3, before[1] - 3)
    with pytest.raises(ShipmentExceedsOrder):
        ship(stocked, order_id, "T-1", ("tea", 2))
    ship(stocked, order_id, "T-2", ("tea", 1), ("mug", 2))
    order = stocked.orders.get(order_id).order
    # What is left is what shipped: the order is shipped, with nothing to come back.
    assert order.status is OrderStatus.SHIPPED
    assert [w.to_return for w in order.withdrawals[0].lines] == [0]
    assert counters(stocked, "tea")[1:3] == (before[1] - 4, before[2] + 1)
    assert_invariant(stocked)


def test_withdrawing_the_unshipped_rest_completes_a_partial_shipment(stocked):
    order_id = place(stocked, ("tea", 4), ("mug", 2))
    pay(stocked, order_id)
    ship(stocked, order_id, "T-1", ("tea", 4))
    withdrawals.withdraw(by_token(stocked, order_id), [LineRequest("mug", 2)], "1.2.3.4", stocked)
    order = stocked.orders.get(order_id).order
    assert (order.status, order.fulfilment_status.value) == (OrderStatus.SHIPPED, "shipped")
    assert counters(stocked, "mug")[1] == 0  # nothing of the mugs is reserved any more
    assert_invariant(stocked)


def test_a_cancel_after_a_withdrawal_releases_only_what_is_still_reserved(stocked):
    order_id = place(stocked, ("tea", 4))
    pay(stocked, order_id)
    withdrawals.withdraw(by_token(stocked, order_id), [LineRequest("tea", 1)], "1.2.3.4", stocked)
    fulfilment.cancel_as_merchant(order_id, "out of stock", actor="merchant:test", ctx=stocked)
    assert counters(stocked, "tea")[1] == 0
    assert_invariant(stocked)
