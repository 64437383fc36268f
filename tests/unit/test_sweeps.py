"""The scheduled jobs on fakes, with a clock the tests move by hand."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.deadlines import EXPIRY_REASON
from chalicelib.domain.order import (
    Address,
    Customer,
    HistoryEntry,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    RequestedLine,
)
from chalicelib.observability import metrics
from chalicelib.services import catalog, placement, sweeps
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION, new_key
from tests.fakes import FakeOrders

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


@pytest.fixture
def stocked(ctx: Context) -> Context:
    catalog.save_product(
        "tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
    )
    catalog.count_stock("tea", 100, ctx)
    return ctx


def place(ctx: Context, quantity: int = 2, method: PaymentMethod = PaymentMethod.CARD):
    command = placement.PlaceOrder(
        lines=(RequestedLine("tea", quantity),),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=method,
        locale="en",
        terms_version=TERMS_VERSION,
    )
    return placement.place_order(command, new_key(), ctx).order


def tea(ctx: Context):
    product = ctx.catalog.get("tea")
    return product.available, product.reserved


def pay(ctx: Context, order_id: str) -> None:
    """What the payments service does when the provider confirms a payment."""
    order = ctx.orders.get(order_id).order
    at = ctx.clock()
    ctx.orders.apply(
        order.change(
            OrderStatus.PAID,
            at=at,
            history=[HistoryEntry(at=at, event="OrderPaid", actor="provider:fake", message="Paid")],
            payment_status=PaymentStatus.PAID,
        )
    )


def events(ctx: Context, order_id: str) -> list[str]:
    return [entry.event for entry in ctx.orders.get(order_id).history]


# --- expiry --------------------------------------------------------------------------


def test_an_order_just_before_its_deadline_stays_and_just_after_it_expires(stocked, clock):
    order = place(stocked)  # card: 30 minutes
    clock.now = order.payment_due_at - timedelta(microseconds=1)
    report = sweeps.expire_unpaid_orders(stocked)
    assert (report.found, report.acted) == (0, 0)
    assert stocked.orders.get(order.id).order.status is OrderStatus.PENDING_PAYMENT
    assert tea(stocked) == (98, 2)

    clock.now = order.payment_due_at + timedelta(seconds=1)
    report = sweeps.expire_unpaid_orders(stocked)
    assert (report.found, report.acted, report.skipped, report.errors) == (1, 1, 0, 0)
    record = stocked.orders.get(order.id)
    assert record.order.status is OrderStatus.EXPIRED
    assert record.order.cancel_reason == EXPIRY_REASON
    expired = record.history[-1]
    assert (expired.event, expired.actor, expired.data["reason"]) == (
        "OrderExpired",
        "system",
        "payment not received in time",
    )
    assert expired.data["previous_status"] == "pending_payment"
    assert tea(stocked) == (100, 0)
    assert stocked.catalog.get("tea").is_conserved()


def test_an_order_expires_exactly_at_its_deadline(stocked, clock):
    order = place(stocked)
    clock.now = order.payment_due_at
    assert sweeps.expire_unpaid_orders(stocked).acted == 1


def test_payment_windows_are_per_method(stocked, clock):
    card = place(stocked, method=PaymentMethod.CARD)
    transfer = place(stocked, method=PaymentMethod.BANK_TRANSFER)
    clock.advance(hours=1)
    assert sweeps.expire_unpaid_orders(stocked).acted == 1
    assert stocked.orders.get(card.id).order.status is OrderStatus.EXPIRED
    assert stocked.orders.get(transfer.id).order.status is OrderStatus.PENDING_PAYMENT
    clock.advance(days=7)
    assert sweeps.expire_unpaid_orders(stocked).acted == 1
    assert stocked.orders.get(transfer.id).order.status is OrderStatus.EXPIRED


def test_a_second_run_changes_nothing(stocked, clock):
    order = place(stocked)
    clock.advance(hours=1)
    sweeps.expire_unpaid_orders(stocked)
    again = sweeps.expire_unpaid_orders(stocked)
    assert (again.found, again.acted) == (0, 0)
    assert events(stocked, order.id) == ["OrderPlaced", "OrderExpired"]
    assert tea(stocked) == (100, 0)


def test_a_payment_attempt_in_flight_gets_a_grace_period(stocked, clock, fake_table):
    order = place(stocked)
    # The provider reported a started payment one minute before the deadline.
    fake_table.orders[order.id] = replace(
        order, payment_attempt_at=order.payment_due_at - timedelta(minutes=1)
    )
    grace = stocked.settings.payment_attempt_grace_minutes
    clock.now = order.payment_due_at + timedelta(minutes=grace - 2)
    report = sweeps.expire_unpaid_orders(stocked)
    assert (report.found, report.acted, report.skipped) == (1, 0, 1)
    assert stocked.orders.get(order.id).order.status is OrderStatus.PENDING_PAYMENT
    clock.now = order.payment_due_at + timedelta(minutes=grace)
    assert sweeps.expire_unpaid_orders(stocked).acted == 1
    assert stocked.orders.get(order.id).order.status is OrderStatus.EXPIRED


class PaidDuringSweep(FakeOrders):
    """The provider's confirmation lands between the sweep's read and write."""

    def __init__(self, table, ctx):
        super().__init__(table)
        self.ctx = ctx
        self.paid = False

    def apply(self, change):
        if not self.paid and change.order.status is OrderStatus.EXPIRED:
            self.paid = True
            pay(self.ctx, change.order.id)
        super().apply(change)


def test_a_payment_arriving_while_the_sweep_runs_wins_and_keeps_the_stock(
    stocked, clock, fake_table
):
    order = place(stocked)
    clock.advance(hours=1)
    racing = replace(stocked, orders=PaidDuringSweep(fake_table, stocked))
    report = sweeps.expire_unpaid_orders(racing)
    assert (report.found, report.acted, report.skipped) == (1, 0, 1)
    record = stocked.orders.get(order.id)
    assert record.order.status is OrderStatus.PAID
    assert [e.event for e in record.history] == ["OrderPlaced", "OrderPaid"]
    assert tea(stocked) == (98, 2)  # still reserved for the paid order


def test_a_payment_after_the_expiry_cannot_revive_the_order(stocked, clock):
    order = place(stocked)
    clock.advance(hours=1)
    sweeps.expire_unpaid_orders(stocked)
    from chalicelib.domain.errors import IllegalTransition

    with pytest.raises(IllegalTransition):
        pay(stocked, order.id)
    assert tea(stocked) == (100, 0)


def test_two_sweeps_in_parallel_expire_each_order_once(stocked, clock):
    orders = [place(stocked, quantity=1) for _ in range(30)]
    clock.advance(hours=1)
    start = threading.Barrier(2)
    reports = []

    def run():
        start.wait()
        reports.append(sweeps.expire_unpaid_orders(stocked))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.acted for r in reports) == 30
    assert sum(r.errors for r in reports) == 0
    for order in orders:
        assert events(stocked, order.id) == ["OrderPlaced", "OrderExpired"]
    assert tea(stocked) == (100, 0)
    assert stocked.catalog.get("tea").is_conserved()


def test_a_run_takes_at_most_the_batch_size_and_the_next_run_continues(stocked, clock):
    for _ in range(5):
        place(stocked, quantity=1)
    clock.advance(hours=1)
    small = replace(stocked, settings=stocked.settings.model_copy(update={"sweep_batch_size": 3}))
    assert sweeps.expire_unpaid_orders(small).acted == 3
    assert sweeps.expire_unpaid_orders(small).acted == 2
    assert sweeps.expire_unpaid_orders(small).found == 0


class Broken(FakeOrders):
    def __init__(self, table, bad_id):
        super().__init__(table)
        self.bad_id = bad_id

    def apply(self, change):
        if change.order.id == self.bad_id:
            raise RuntimeError("boom")
        super().apply(change)


def test_one_failing_order_is_counted_and_does_not_stop_the_others(stocked, clock, fake_table):
    bad, good = place(stocked), place(stocked)
    clock.advance(hours=1)
    report = sweeps.expire_unpaid_orders(replace(stocked, orders=Broken(fake_table, bad.id)))
    assert (report.acted, report.errors) == (1, 1)
    assert stocked.orders.get(good.id).order.status is OrderStatus.EXPIRED
    assert stocked.orders.get(bad.id).order.status is OrderStatus.PENDING_PAYMENT


def test_each_run_publishes_found_acted_skipped_errors_for_its_job(stocked, clock, capsys):
    place(stocked)
    clock.advance(hours=1)
    metrics.clear_metrics()  # placement's own metric is not the sweep's
    capsys.readouterr()
    sweeps.expire_unpaid_orders(stocked)
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert len(records) == 1
    record = records[0]
    assert record["job"] == "expire_unpaid_orders"
    assert {m["Name"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        "SweepFound",
        "SweepActed",
        "SweepSkipped",
        "SweepErrors",
        "SweepItemsRead",
    }
    assert (record["SweepFound"], record["SweepActed"], record["SweepErrors"]) == ([1], [1], [0])


# --- payment reminders ---------------------------------------------------------------


def test_a_bank_transfer_order_gets_one_reminder_before_its_deadline(stocked, clock):
    order = place(stocked, method=PaymentMethod.BANK_TRANSFER)
    card = place(stocked, method=PaymentMethod.CARD)
    lead = timedelta(hours=stocked.settings.payment_reminder_lead_hours)
    clock.now = order.payment_due_at - lead - timedelta(seconds=1)
    assert sweeps.send_payment_reminders(stocked).acted == 0
    clock.now = order.payment_due_at - lead
    assert sweeps.send_payment_reminders(stocked).acted == 1
    clock.advance(hours=1)
    assert sweeps.send_payment_reminders(stocked).acted == 0
    record = stocked.orders.get(order.id)
    assert [e.event for e in record.history] == ["OrderPlaced", "PaymentReminderDue"]
    assert record.order.status is OrderStatus.PENDING_PAYMENT
    assert record.order.payment_reminder_sent_at == order.payment_due_at - lead
    assert events(stocked, card.id) == ["OrderPlaced"]


def test_two_reminder_runs_in_parallel_remind_once(stocked, clock):
    orders = [place(stocked, method=PaymentMethod.BANK_TRANSFER) for _ in range(10)]
    clock.advance(days=6)
    start = threading.Barrier(2)

    def run():
        start.wait()
        sweeps.send_payment_reminders(stocked)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for order in orders:
        assert events(stocked, order.id) == ["OrderPlaced", "PaymentReminderDue"]


def test_a_paid_or_overdue_order_gets_no_reminder(stocked, clock):
    paid = place(stocked, method=PaymentMethod.BANK_TRANSFER)
    pay(stocked, paid.id)
    clock.advance(days=6)
    assert sweeps.send_payment_reminders(stocked).acted == 0
    overdue = place(stocked, method=PaymentMethod.BANK_TRANSFER)
    clock.advance(days=8)
    assert sweeps.send_payment_reminders(stocked).acted == 0
    assert events(stocked, overdue.id) == ["OrderPlaced"]
