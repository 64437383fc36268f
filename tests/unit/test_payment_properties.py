"""Property: whatever the order of payment events, replays, refunds,
cancels and expiry, an order never moves backwards and its money adds up."""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.config import Settings
from chalicelib.domain import payments as ledger
from chalicelib.domain.errors import IllegalTransition, NothingLeftToRefund, RefundRejected
from chalicelib.domain.order import OrderStatus, can_move
from chalicelib.payments import fake
from chalicelib.payments.fake import FakeStripe
from chalicelib.payments.hmac_adapter import HmacCallbacks
from chalicelib.payments.manual import ManualRefunds
from chalicelib.payments.stripe_callbacks import StripeCallbacks
from chalicelib.services import cancellation, payments
from chalicelib.services.context import Context
from chalicelib.services.ports import PaymentPorts
from tests.conftest import Clock
from tests.fakes import FakeCatalog, FakeOrders, FakePaymentQueue, FakePaymentRecords, FakeTable
from tests.unit.conftest import STRIPE_SECRET
from tests.unit.test_payment_service import deliver, expire, place

ACTIONS = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from([0, 0, 0, -1, 250])),  # delta to the total
    st.tuples(st.just("fail"), st.just(0)),
    st.tuples(st.just("session_expired"), st.just(0)),
    st.tuples(st.just("dashboard_refund"), st.integers(1, 1200)),
    st.tuples(st.just("admin_refund"), st.integers(1, 1200)),
    st.tuples(st.just("cancel"), st.just(0)),
    st.tuples(st.just("expire"), st.just(0)),
    st.tuples(st.just("apply_some"), st.integers(0, 5)),
    st.tuples(st.just("replay"), st.integers(0, 50)),
)


def new_world() -> tuple[Context, FakeStripe, FakePaymentQueue]:
    table = FakeTable()
    stripe, queue = FakeStripe(), FakePaymentQueue()
    manual = ManualRefunds()
    ctx = Context(
        catalog=FakeCatalog(table),
        orders=FakeOrders(table),
        settings=Settings(table_name="shop-test", stage="test"),
        clock=Clock(),
        payments=PaymentPorts(
            providers={"stripe": stripe, "hmac": manual, "bank_transfer": manual},
            callbacks={
                "stripe": StripeCallbacks(lambda: [STRIPE_SECRET]),
                "hmac": HmacCallbacks(lambda: ["x"]),
            },
            records=FakePaymentRecords(table),
            queue=queue,
        ),
    )
    return ctx, stripe, queue


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(ACTIONS, max_size=25), seed=st.integers(0, 2**16))
def test_orders_never_move_backwards_and_paid_and_refunded_add_up(actions, seed):
    ctx, stripe, queue = new_world()
    rng = random.Random(seed)
    order = place(ctx).order
    applied: list = []  # every event the consumer saw, for replays
    statuses = [order.status]

    def apply(event):
        applied.append(event)
        payments.apply_payment_event(event, ctx)

    for action, value in actions:
        current = ctx.orders.get(order.id).order
        if action == "pay":
            deliver(ctx, stripe.pay(current, amount=current.totals.total + value))
        elif action == "fail":
            deliver(ctx, fake.payment_failed_event(current))
        elif action == "session_expired":
            deliver(ctx, fake.session_event("checkout.session.expired", current))
        elif action == "dashboard_refund":
            charges = [ref for ref, c in stripe.charges.items() if c.refunded < c.amount]
            if charges:
                deliver(ctx, stripe.refund_in_dashboard(rng.choice(charges), value))
        elif action == "admin_refund":
            refundable = sum(p.outstanding for p in current.payments if not p.refund_due)
            if refundable and current.status is not OrderStatus.ON_HOLD:
                amount = min(value, refundable)
                try:
                    payments.refund_order(order.id, amount, reason="r", actor="merchant", ctx=ctx)
                except (RefundRejected, NothingLeftToRefund):
                    # Only legitimate when our ledger lags the provider: a
                    # dashboard refund whose charge.refunded is still queued.
                    # The provider refuses to return more than is left, and
                    # the order is left exactly as it was.
                    assert any(
                        stripe.charges[p.reference].refunded > p.refunded
                        for p in current.payments
                        if p.reference in stripe.charges
                    )
                    assert ctx.orders.get(order.id).order == current
        elif action == "cancel":
            try:
                cancellation.cancel_order(order.id, actor="customer", reason="r", ctx=ctx)
            except IllegalTransition:
                assert current.status is OrderStatus.EXPIRED
        elif action == "expire":
            if current.status is OrderStatus.PENDING_PAYMENT:
                expire(ctx, order.id)
        elif action == "apply_some":
            batch = queue.drain()
            rng.shuffle(batch)
            for event in batch[:value]:
                apply(event)
            queue.messages.extend(batch[value:])
        elif action == "replay" and applied:
            apply(applied[value % len(applied)])
        statuses.append(ctx.orders.get(order.id).order.status)
        check_money(ctx, stripe, order.id, settled=False)

    # Deliver everything still queued (in a random order), then settle.
    rest = queue.drain()
    rng.shuffle(rest)
    for event in rest:
        apply(event)
    statuses.append(ctx.orders.get(order.id).order.status)

    for before, after in itertools.pairwise(statuses):
        assert before == after or can_move(before, after), f"{before} -> {after}"
    check_money(ctx, stripe, order.id, settled=True)


def check_money(ctx: Context, stripe: FakeStripe, order_id: str, *, settled: bool) -> None:
    order = ctx.orders.get(order_id).order
    for payment in order.payments:
        assert 0 <= payment.refunded <= payment.amount
        provider_refunded = stripe.refunded_total(payment.reference)
        # We never record a refund the provider has not made; once every
        # event is in, we know of every refund it made.
        assert payment.refunded <= provider_refunded
        if settled:
            assert payment.refunded == provider_refunded
    assert order.payment_status is ledger.payment_status(order.payments)
    if settled:
        assert ledger.paid_amount(order) == stripe.captured_total(order_id)
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert ledger.paid_amount(order) == ledger.refunded_amount(order)
        if order.status is OrderStatus.PAID:
            kept = [p for p in order.payments if not p.refund_due]
            assert sum(p.amount for p in kept) == order.totals.total
        # Money that had to go back went back.
        assert all(p.refunded == p.amount for p in order.payments if p.refund_due)
