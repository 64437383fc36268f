"""Payment deadlines: when an unpaid order expires, and its reminder.

Both are decisions about one order at one moment, made here without I/O; the
sweeps (services/sweeps.py) find the candidates and write the resulting
``OrderChange`` conditionally, so an order that was paid, cancelled or
reminded meanwhile is never touched twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.events import OrderExpiredData, PaymentReminderDueData
from chalicelib.domain.order import (
    HistoryEntry,
    Order,
    OrderChange,
    OrderStatus,
    PaymentMethod,
)

EXPIRY_REASON = "payment not received in time"


class Verdict(StrEnum):
    ACT = "act"
    NOT_DUE = "not_due"  # deadline (or the grace for a payment in flight) not reached
    SETTLED = "settled"  # no longer awaiting payment: paid, cancelled, expired...
    DONE = "done"  # the reminder was already sent
    NOT_APPLICABLE = "not_applicable"  # e.g. a card order gets no reminder


def expiry_verdict(order: Order, now: datetime, attempt_grace: timedelta) -> Verdict:
    """Whether the order should expire now.

    A payment attempt the provider reported as started (``payment_attempt_at``)
    may still be confirmed after the deadline: the order then waits
    ``attempt_grace`` from that attempt before it expires, so a customer who
    paid at the last minute does not get an expiry and a refund instead.
    """
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return Verdict.SETTLED
    deadline = order.payment_due_at
    if order.payment_attempt_at is not None:
        deadline = max(deadline, order.payment_attempt_at + attempt_grace)
    return Verdict.ACT if deadline <= now else Verdict.NOT_DUE


def expire(order: Order, *, at: datetime) -> OrderChange:
    """pending_payment -> expired, releasing every reservation."""
    entry = HistoryEntry.of(
        OrderExpiredData(
            reason=EXPIRY_REASON,
            previous_status=order.status.value,
            payment_due_at=order.payment_due_at,
        ),
        at=at,
        actor="system",
        message=f"Order expired: {EXPIRY_REASON}",
    )
    change = order.change(
        OrderStatus.EXPIRED,
        at=at,
        history=[entry],
        stock_moves=order.release_reservations(),
        cancel_reason=EXPIRY_REASON,
    )
    return replace(change, discount_release=order.discount_to_give_back())


def reminder_verdict(order: Order, now: datetime, lead: timedelta) -> Verdict:
    """Whether a bank-transfer order gets its (one) payment reminder now:
    within ``lead`` of its deadline and before it."""
    if order.payment_method is not PaymentMethod.BANK_TRANSFER:
        return Verdict.NOT_APPLICABLE
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return Verdict.SETTLED
    if order.payment_reminder_sent_at is not None:
        return Verdict.DONE
    if now >= order.payment_due_at:
        return Verdict.SETTLED  # too late to remind; the expiry sweep takes it
    return Verdict.ACT if order.payment_due_at - lead <= now else Verdict.NOT_DUE


def remind(order: Order, *, at: datetime) -> OrderChange:
    """Record the reminder on the order. The status stays pending_payment,
    but the version moves on, so two sweeps racing cannot both remind."""
    entry = HistoryEntry.of(
        PaymentReminderDueData(
            payment_due_at=order.payment_due_at, payment_method=order.payment_method.value
        ),
        at=at,
        actor="system",
        message="Payment reminder sent",
    )
    reminded = replace(order, payment_reminder_sent_at=at, updated_at=at, version=order.version + 1)
    return OrderChange(
        order=reminded,
        expected_status=order.status,
        expected_version=order.version,
        history=(entry,),
    )
