"""The consumer, the settings and the infrastructure definitions agree."""

from __future__ import annotations

import json
import threading

from chalicelib.config import Settings
from chalicelib.domain.order import OrderStatus
from chalicelib.services import cancellation, payments
from chalicelib.triggers import PAYMENT_EVENTS_QUEUE
from infrastructure.definitions import (
    HMAC_WEBHOOK_SECRETS,
    QUEUES,
    STRIPE_WEBHOOK_SECRETS,
    Definitions,
)
from tests.unit.test_payment_service import deliver, place


def test_the_consumer_listens_on_the_defined_fifo_queue():
    (queue,) = [q for q in QUEUES if q.consumer == "apply_payment_events"]
    assert queue.fifo and queue.queue_name == PAYMENT_EVENTS_QUEUE
    assert Settings(table_name="shop-test").payment_events_queue_name == PAYMENT_EVENTS_QUEUE


def test_webhook_secret_parameters_are_defined_with_the_documented_local_values():
    assert STRIPE_WEBHOOK_SECRETS in Definitions().parameters
    assert json.loads(STRIPE_WEBHOOK_SECRETS.local_value) == ["whsec_local"]
    assert json.loads(HMAC_WEBHOOK_SECRETS.local_value) == ["hmac_local"]
    defaults = Settings(table_name="shop-test")
    assert STRIPE_WEBHOOK_SECRETS.name.format(stage="dev") == (
        defaults.stripe_webhook_secrets_parameter
    )
    assert HMAC_WEBHOOK_SECRETS.name.format(stage="dev") == defaults.hmac_webhook_secrets_parameter


def test_a_cancel_racing_a_payment_ends_cancelled_with_all_money_returned(
    pay_ctx, fake_stripe, payment_queue
):
    for _ in range(20):
        order = place(pay_ctx, quantity=1).order
        deliver(pay_ctx, fake_stripe.pay(order))
        (event,) = payment_queue.drain()
        start = threading.Barrier(2)

        def pay(event=event, start=start):
            start.wait()
            payments.apply_payment_event(event, pay_ctx)

        def cancel(order_id=order.id, start=start):
            start.wait()
            cancellation.cancel_order(order_id, actor="customer", reason="race", ctx=pay_ctx)

        threads = [threading.Thread(target=pay), threading.Thread(target=cancel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = pay_ctx.orders.get(order.id).order
        assert after.status is OrderStatus.CANCELLED
        (payment,) = after.payments
        assert payment.refunded == payment.amount == order.totals.total
        assert fake_stripe.refunded_total(payment.reference) == order.totals.total
