"""Payments through the services, with fakes: checkout, callbacks, the
consumer, refunds, cancels and bank transfers."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.errors import (
    IllegalTransition,
    InvalidRequest,
    PaymentNotFound,
    PaymentProviderUnavailable,
    UnknownPaymentProvider,
)
from chalicelib.domain.order import (
    Address,
    Customer,
    HistoryEntry,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    RequestedLine,
)
from chalicelib.payments import fake
from chalicelib.services import cancellation, catalog, payment_callbacks, payments, placement
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION
from tests.unit.conftest import STRIPE_SECRET

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


def place(
    ctx: Context, method: PaymentMethod = PaymentMethod.CARD, quantity: int = 2
) -> placement.PlacedOrder:
    if "tea" not in ctx.catalog.get_many(["tea"]):
        catalog.save_product(
            "tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
        )
        catalog.count_stock("tea", 10, ctx)
    command = placement.PlaceOrder(
        lines=(RequestedLine("tea", quantity),),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=method,
        locale="en",
        terms_version=TERMS_VERSION,
    )
    return placement.place_order(command, f"key-{random.random():.12f}", ctx)


def deliver(ctx: Context, event: dict[str, Any], secret: str = STRIPE_SECRET) -> str:
    body, headers = fake.signed_request(event, secret, int(ctx.clock().timestamp()))
    return payment_callbacks.accept_callback("stripe", body, headers, ctx).outcome


def consume(ctx: Context, queue: Any) -> list[str]:
    return [payments.apply_payment_event(event, ctx) for event in queue.drain()]


def events(ctx: Context, order_id: str, name: str) -> list[HistoryEntry]:
    return [e for e in ctx.orders.get(order_id).history if e.event == name]


def expire(ctx: Context, order_id: str) -> None:
    order = ctx.orders.get(order_id).order
    entry = HistoryEntry(at=ctx.clock(), event="OrderExpired", actor="system", message="expired")
    ctx.orders.apply(
        order.change(
            OrderStatus.EXPIRED,
            at=ctx.clock(),
            history=[entry],
            stock_moves=order.release_reservations(),
        )
    )


# --- checkout ----------------------------------------------------------------------------


def test_a_card_order_comes_back_with_the_providers_payment_page(pay_ctx):
    placed = place(pay_ctx)
    assert placed.payment is not None
    assert placed.payment.redirect_url == (
        f"http://127.0.0.1:8001/pay/{fake.session_id_for(placed.order.id)}"
    )
    assert placed.payment.bank_transfer is None


def test_a_retried_checkout_gets_the_same_payment_session(pay_ctx):
    command_key = "key-same-retry-0001"
    pay_ctx.catalog.put_product("tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal(7))
    pay_ctx.catalog.set_available("tea", 5)
    command = placement.PlaceOrder(
        lines=(RequestedLine("tea", 1),),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.PAYPAL,
        locale="de",
        terms_version=TERMS_VERSION,
    )
    first = placement.place_order(command, command_key, pay_ctx)
    again = placement.place_order(command, command_key, pay_ctx)
    assert again.created is False
    assert first.payment == again.payment and first.payment is not None


def test_a_bank_transfer_order_gets_iban_and_its_number_as_reference(pay_ctx):
    settings = pay_ctx.settings.model_copy(
        update={"bank_iban": "DE89370400440532013000", "bank_account_holder": "Teeladen GmbH"}
    )
    ctx = replace(pay_ctx, settings=settings)
    placed = place(ctx, PaymentMethod.BANK_TRANSFER)
    transfer = placed.payment.bank_transfer
    assert transfer.iban == "DE89370400440532013000"
    assert transfer.reference == placed.order.number
    assert (transfer.amount, transfer.currency) == (1000, "EUR")
    assert transfer.due_at == placed.order.payment_due_at
    assert placed.payment.redirect_url is None


def test_a_provider_outage_at_checkout_keeps_the_order_and_a_retry_recovers(pay_ctx, fake_stripe):
    pay_ctx.catalog.put_product("tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal(7))
    pay_ctx.catalog.set_available("tea", 5)
    command = placement.PlaceOrder(
        lines=(RequestedLine("tea", 1),),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="en",
        terms_version=TERMS_VERSION,
    )
    fake_stripe.failing = True
    with pytest.raises(PaymentProviderUnavailable):
        placement.place_order(command, "key-outage-000000001", pay_ctx)
    fake_stripe.failing = False
    retried = placement.place_order(command, "key-outage-000000001", pay_ctx)
    assert retried.created is False and retried.payment.redirect_url
    assert pay_ctx.catalog.get("tea").reserved == 1  # one order, reserved once


# --- callbacks and the consumer ---------------------------------------------------------------


def test_a_paid_checkout_moves_the_order_to_paid(pay_ctx, fake_stripe, payment_queue):
    order = place(pay_ctx).order
    assert deliver(pay_ctx, fake_stripe.pay(order)) == "queued"
    assert consume(pay_ctx, payment_queue) == ["paid"]
    paid = pay_ctx.orders.get(order.id).order
    assert paid.status is OrderStatus.PAID
    assert paid.payment_status is PaymentStatus.PAID
    (payment,) = paid.payments
    assert (payment.provider, payment.amount, payment.currency) == ("stripe", 1000, "EUR")
    assert payment.reference.startswith("pi_fake_")
    assert len(events(pay_ctx, order.id, "OrderPaid")) == 1


def test_a_repeated_event_id_is_acknowledged_and_not_queued_again(
    pay_ctx, fake_stripe, payment_queue
):
    order = place(pay_ctx).order
    event = fake_stripe.pay(order)
    assert [deliver(pay_ctx, event) for _ in range(3)] == ["queued", "duplicate", "duplicate"]
    assert len(payment_queue.messages) == 1


@pytest.mark.parametrize("seed", range(8))
def test_each_event_three_times_in_shuffled_order_yields_one_transition_and_one_entry(
    pay_ctx, fake_stripe, payment_queue, seed
):
    order = place(pay_ctx).order
    stream = [
        fake.payment_failed_event(order),
        fake.session_event("checkout.session.expired", order),
        fake_stripe.pay(order),
    ] * 3
    random.Random(seed).shuffle(stream)
    for event in stream:
        deliver(pay_ctx, event)
    queued = payment_queue.drain()
    # SQS may redeliver too: every queued event is applied three times.
    replays = queued * 3
    random.Random(seed + 100).shuffle(replays)
    for event in replays:
        payments.apply_payment_event(event, pay_ctx)
    record = pay_ctx.orders.get(order.id)
    assert record.order.status is OrderStatus.PAID
    assert len(record.order.payments) == 1
    counts = {
        name: len(events(pay_ctx, order.id, name))
        for name in ("OrderPaid", "PaymentFailed", "PaymentSessionExpired")
    }
    assert counts["OrderPaid"] == 1
    assert counts["PaymentFailed"] <= 1 and counts["PaymentSessionExpired"] <= 1
    # Order placed, at most one failure and one expiry, one payment: one
    # version step per history entry after placement.
    assert record.order.version == len(record.history)


def test_a_failed_attempt_leaves_the_order_pending_with_a_history_entry(pay_ctx, payment_queue):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake.payment_failed_event(order))
    assert consume(pay_ctx, payment_queue) == ["failure_noted"]
    record = pay_ctx.orders.get(order.id)
    assert record.order.status is OrderStatus.PENDING_PAYMENT
    (failure,) = events(pay_ctx, order.id, "PaymentFailed")
    assert failure.data == {"provider": "stripe", "reason": "insufficient_funds"}


def test_an_expired_payment_page_adds_history_only(pay_ctx, payment_queue):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake.session_event("checkout.session.expired", order))
    assert consume(pay_ctx, payment_queue) == ["session_expired"]
    after = pay_ctx.orders.get(order.id).order
    assert after.status is OrderStatus.PENDING_PAYMENT
    assert after.payment_due_at == order.payment_due_at
    assert after.payments == ()


@pytest.mark.parametrize(("amount", "currency"), [(999, "EUR"), (1000, "USD")])
def test_a_payment_with_the_wrong_amount_or_currency_puts_the_order_on_hold(
    pay_ctx, fake_stripe, payment_queue, amount, currency
):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake_stripe.pay(order, amount=amount, currency=currency))
    assert consume(pay_ctx, payment_queue) == ["on_hold"]
    held = pay_ctx.orders.get(order.id).order
    assert held.status is OrderStatus.ON_HOLD
    assert held.payments[0].amount == amount
    (entry,) = events(pay_ctx, order.id, "PaymentOnHold")
    assert entry.data["expected_amount"] == 1000


@pytest.mark.parametrize("closed", ["expired", "cancelled"])
def test_a_late_payment_is_recorded_and_refunded_never_paid(
    pay_ctx, fake_stripe, payment_queue, closed
):
    order = place(pay_ctx).order
    if closed == "expired":
        expire(pay_ctx, order.id)
    else:
        cancellation.cancel_order(order.id, actor="customer", reason="changed mind", ctx=pay_ctx)
    event = fake_stripe.pay(order)
    deliver(pay_ctx, event)
    assert consume(pay_ctx, payment_queue) == ["refund_due"]
    after = pay_ctx.orders.get(order.id).order
    assert after.status.value == closed
    (payment,) = after.payments
    assert payment.refund_due and payment.refunded == payment.amount == 1000
    assert after.payment_status is PaymentStatus.REFUNDED
    assert [call.get("made") for call in fake_stripe.refund_calls] == [1000]
    assert fake_stripe.refunded_total(payment.reference) == 1000
    assert events(pay_ctx, order.id, "LatePaymentReceived")
    assert events(pay_ctx, order.id, "OrderRefunded")
    assert not events(pay_ctx, order.id, "OrderPaid")
    # Redelivered: nothing more happens, no second refund.
    payments.apply_payment_event(next(iter(fake_stripe_events(event, order.id))), pay_ctx)
    assert len(fake_stripe.refund_calls) == 1


def fake_stripe_events(event: dict[str, Any], order_id: str):
    from chalicelib.payments.stripe_callbacks import event_json, parse_event

    verified = parse_event(event_json(event).decode())
    yield replace(verified.event, order_id=order_id)


def test_a_late_payment_refund_is_retried_after_a_provider_outage(
    pay_ctx, fake_stripe, payment_queue
):
    order = place(pay_ctx).order
    expire(pay_ctx, order.id)
    deliver(pay_ctx, fake_stripe.pay(order))
    (event,) = payment_queue.drain()
    fake_stripe.failing = True
    with pytest.raises(PaymentProviderUnavailable):
        payments.apply_payment_event(event, pay_ctx)
    recorded = pay_ctx.orders.get(order.id).order
    assert recorded.payments[0].refund_due and recorded.payments[0].refunded == 0
    fake_stripe.failing = False
    assert payments.apply_payment_event(event, pay_ctx) == "refund_retry"
    assert payments.apply_payment_event(event, pay_ctx) == "noop"
    after = pay_ctx.orders.get(order.id).order
    assert after.payments[0].refunded == 1000
    keys = {call["idempotency_key"] for call in fake_stripe.refund_calls}
    assert len(keys) == 1  # every attempt asked for the same refund


def test_a_second_payment_for_a_paid_order_is_refunded(pay_ctx, fake_stripe, payment_queue):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake_stripe.pay(order))
    deliver(pay_ctx, fake_stripe.pay(order))
    assert consume(pay_ctx, payment_queue) == ["paid", "refund_due"]
    after = pay_ctx.orders.get(order.id).order
    assert after.status is OrderStatus.PAID
    assert after.payment_status is PaymentStatus.PAID  # the kept payment is untouched
    assert [p.refunded for p in after.payments] == [0, 1000]


def test_a_refund_made_in_the_providers_dashboard_is_reconciled(
    pay_ctx, fake_stripe, payment_queue
):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake_stripe.pay(order))
    consume(pay_ctx, payment_queue)
    reference = pay_ctx.orders.get(order.id).order.payments[0].reference
    first = fake_stripe.refund_in_dashboard(reference, 300)
    second = fake_stripe.refund_in_dashboard(reference, 700)
    for event in (second, first, second):  # out of order, and once more
        deliver(pay_ctx, event)
    consume(pay_ctx, payment_queue)
    after = pay_ctx.orders.get(order.id).order
    assert after.payments[0].refunded == 1000
    assert after.payment_status is PaymentStatus.REFUNDED
    assert after.status is OrderStatus.PAID  # refunds act on payment_status only
    assert len(events(pay_ctx, order.id, "OrderRefunded")) == 1


def test_a_refund_reported_before_its_payment_records_both(pay_ctx, fake_stripe, payment_queue):
    order = place(pay_ctx).order
    paid = fake_stripe.pay(order)
    reference = paid["data"]["object"]["payment_intent"]
    refunded = fake_stripe.refund_in_dashboard(reference, 400)
    deliver(pay_ctx, paid)  # received (and the payment remembered) ...
    queued = payment_queue.drain()
    for event in reversed(queued):  # ... but the refund is applied first
        payments.apply_payment_event(event, pay_ctx)
    deliver(pay_ctx, refunded)
    consume(pay_ctx, payment_queue)
    after = pay_ctx.orders.get(order.id).order
    assert after.status is OrderStatus.PAID
    assert (after.payments[0].amount, after.payments[0].refunded) == (1000, 400)
    assert after.payment_status is PaymentStatus.PARTIALLY_REFUNDED


def test_an_unknown_provider_is_refused(pay_ctx):
    with pytest.raises(UnknownPaymentProvider):
        payment_callbacks.accept_callback("paypal-classic", b"{}", {}, pay_ctx)


def test_a_refund_for_a_payment_not_seen_yet_is_refused_for_a_retry_and_writes_nothing(
    pay_ctx, payment_queue, payment_records
):
    event = fake.charge_refunded_event("pi_not_seen_yet", 500, 500, "EUR")
    with pytest.raises(PaymentNotFound):
        deliver(pay_ctx, event)
    assert payment_queue.messages == [] and payment_records.receipts == {}


def test_a_refund_that_overtook_its_payment_is_recorded_when_the_provider_retries_it(
    pay_ctx, fake_stripe, payment_queue
):
    # Found by the whole-API state machine: acknowledged as "ignored", the
    # refund was never sent again and the ledger missed it for good.
    order = place(pay_ctx).order
    paid = fake_stripe.pay(order)
    refunded = fake_stripe.refund_in_dashboard(paid["data"]["object"]["payment_intent"], 400)
    with pytest.raises(PaymentNotFound):
        deliver(pay_ctx, refunded)  # the refund's callback arrives first
    assert deliver(pay_ctx, paid) == "queued"
    assert deliver(pay_ctx, refunded) == "queued"  # the provider's retry
    consume(pay_ctx, payment_queue)
    after = pay_ctx.orders.get(order.id).order
    assert (after.payments[0].amount, after.payments[0].refunded) == (1000, 400)
    assert after.payment_status is PaymentStatus.PARTIALLY_REFUNDED


def test_a_queue_outage_leaves_the_receipt_open_and_the_retry_queues_it(
    pay_ctx, fake_stripe, payment_queue
):
    order = place(pay_ctx).order
    event = fake_stripe.pay(order)
    payment_queue.failing = True
    with pytest.raises(ConnectionError):
        deliver(pay_ctx, event)
    payment_queue.failing = False
    assert deliver(pay_ctx, event) == "queued"  # the provider's retry
    assert deliver(pay_ctx, event) == "duplicate"
    assert len(payment_queue.messages) == 1


# --- cancel and refunds --------------------------------------------------------------------


def paid_order(ctx: Context, fake_stripe: Any, queue: Any) -> str:
    order = place(ctx).order
    deliver(ctx, fake_stripe.pay(order))
    consume(ctx, queue)
    return order.id


def test_cancelling_a_paid_order_refunds_it_through_the_provider(
    pay_ctx, fake_stripe, payment_queue
):
    order_id = paid_order(pay_ctx, fake_stripe, payment_queue)
    placed_stock = pay_ctx.catalog.get("tea")
    record = cancellation.cancel_order(
        order_id, actor="merchant", reason="out of stock", ctx=pay_ctx
    )
    assert record.order.status is OrderStatus.CANCELLED
    assert record.order.payment_status is PaymentStatus.REFUNDED
    assert [c.get("made") for c in fake_stripe.refund_calls] == [1000]
    stock = pay_ctx.catalog.get("tea")
    assert (stock.available, stock.reserved) == (
        placed_stock.available + 2,
        placed_stock.reserved - 2,
    )


def test_a_cancel_whose_refund_failed_refunds_once_when_repeated(
    pay_ctx, fake_stripe, payment_queue
):
    order_id = paid_order(pay_ctx, fake_stripe, payment_queue)
    token_free_cancel = cancellation.cancel_order
    fake_stripe.failing = True
    with pytest.raises(PaymentProviderUnavailable):
        token_free_cancel(order_id, actor="customer", reason="changed mind", ctx=pay_ctx)
    assert pay_ctx.orders.get(order_id).order.status is OrderStatus.CANCELLED
    fake_stripe.failing = False
    token_free_cancel(order_id, actor="customer", reason="changed mind", ctx=pay_ctx)
    token_free_cancel(order_id, actor="customer", reason="changed mind", ctx=pay_ctx)
    after = pay_ctx.orders.get(order_id).order
    assert after.payments[0].refunded == 1000
    reference = after.payments[0].reference
    assert fake_stripe.refunded_total(reference) == 1000
    assert len(events(pay_ctx, order_id, "OrderCancelled")) == 1


def test_partial_refunds_add_up_and_are_tracked_on_the_order(pay_ctx, fake_stripe, payment_queue):
    order_id = paid_order(pay_ctx, fake_stripe, payment_queue)
    first = payments.refund_order(order_id, 250, reason="damaged", actor="merchant", ctx=pay_ctx)
    assert first.order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    rest = payments.refund_order(order_id, None, reason="returned", actor="merchant", ctx=pay_ctx)
    assert rest.order.payment_status is PaymentStatus.REFUNDED
    assert [c.get("made") for c in fake_stripe.refund_calls] == [250, 750]
    assert rest.order.payments[0].refunded == 1000
    with pytest.raises(InvalidRequest):
        payments.refund_order(order_id, 1, reason="more", actor="merchant", ctx=pay_ctx)


def test_a_refund_above_what_is_left_is_refused_and_changes_nothing(
    pay_ctx, fake_stripe, payment_queue
):
    order_id = paid_order(pay_ctx, fake_stripe, payment_queue)
    before = pay_ctx.orders.get(order_id)
    with pytest.raises(InvalidRequest) as raised:
        payments.refund_order(order_id, 1001, reason="x", actor="merchant", ctx=pay_ctx)
    assert raised.value.details == {"requested": 1001, "refundable": 1000}
    assert pay_ctx.orders.get(order_id) == before
    assert fake_stripe.refund_calls == []


def test_refunding_a_held_payment_cancels_the_order_and_releases_stock(
    pay_ctx, fake_stripe, payment_queue
):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake_stripe.pay(order, amount=1200))
    consume(pay_ctx, payment_queue)
    record = payments.refund_order(
        order.id, None, reason="wrong amount", actor="merchant", ctx=pay_ctx
    )
    assert record.order.status is OrderStatus.CANCELLED
    assert record.order.payments[0].refunded == 1200
    assert pay_ctx.catalog.get("tea").reserved == 0


def test_accepting_a_held_payment_marks_the_order_paid(pay_ctx, fake_stripe, payment_queue):
    order = place(pay_ctx).order
    deliver(pay_ctx, fake_stripe.pay(order, amount=1200))
    consume(pay_ctx, payment_queue)
    record = payments.mark_paid(order.id, "accepted", actor="merchant", ctx=pay_ctx)
    assert record.order.status is OrderStatus.PAID
    assert len(record.order.payments) == 1


# --- bank transfers ------------------------------------------------------------------------


def test_marking_a_bank_transfer_paid_twice_changes_the_order_once(pay_ctx):
    order = place(pay_ctx, PaymentMethod.BANK_TRANSFER).order
    first = payments.mark_paid(order.id, "BANK-REF-1", actor="merchant", ctx=pay_ctx)
    again = payments.mark_paid(order.id, "BANK-REF-1", actor="merchant", ctx=pay_ctx)
    assert first.order.status is OrderStatus.PAID
    assert again.order.version == first.order.version
    assert first.order.payments[0].provider == "bank_transfer"
    with pytest.raises(IllegalTransition):
        payments.mark_paid(order.id, "BANK-REF-2", actor="merchant", ctx=pay_ctx)


def test_bulk_mark_paid_answers_per_order(pay_ctx):
    pending = place(pay_ctx, PaymentMethod.BANK_TRANSFER).order
    paid = place(pay_ctx, PaymentMethod.BANK_TRANSFER).order
    payments.mark_paid(paid.id, "R-paid", actor="merchant", ctx=pay_ctx)
    expired = place(pay_ctx, PaymentMethod.BANK_TRANSFER).order
    expire(pay_ctx, expired.id)
    results = payments.mark_paid_in_bulk(
        [
            payments.BankTransferSeen(pending.number, "R-1"),
            payments.BankTransferSeen(paid.number, "R-paid"),
            payments.BankTransferSeen("ZZZZ-ZZZZ", "R-3"),
            payments.BankTransferSeen(expired.number, "R-4"),
        ],
        actor="merchant",
        ctx=pay_ctx,
    )
    assert [(r.number, r.outcome, r.status) for r in results] == [
        (pending.number, "paid", "paid"),
        (paid.number, "already_paid", "paid"),
        ("ZZZZ-ZZZZ", "not_found", None),
        (expired.number, "not_payable", "expired"),
    ]


def test_refunding_a_bank_transfer_records_a_manual_refund_once(pay_ctx, fake_stripe):
    order = place(pay_ctx, PaymentMethod.BANK_TRANSFER).order
    payments.mark_paid(order.id, "R-1", actor="merchant", ctx=pay_ctx)
    record = cancellation.cancel_order(order.id, actor="merchant", reason="no stock", ctx=pay_ctx)
    cancellation.cancel_order(order.id, actor="merchant", reason="no stock", ctx=pay_ctx)
    after = pay_ctx.orders.get(order.id).order
    assert record.order.payments[0].refunded == after.payments[0].refunded == 1000
    assert fake_stripe.refund_calls == []  # the merchant moves the money
    assert len(events(pay_ctx, order.id, "OrderRefunded")) == 1
