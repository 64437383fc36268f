"""Withdrawals on an order: the rules of domain/withdrawal.py applied to an
``Order``, as the ``OrderChange`` each step writes.

- ``receive``: a declaration through the withdrawal function (or one the
  merchant accepts by hand after the period); the withdrawal is kept on the
  order (``Order.withdrawals``) and a ``WithdrawalReceived`` entry written.
- ``settle_refunds``: after a refund is recorded, each open withdrawal whose
  refund is now covered is marked refunded (``WithdrawalRefunded``).
- ``release``: the goods, or the customer's proof of dispatch, arrived; the
  merchant no longer holds the refund (``WithdrawalReleased``).
- ``remind``: the refund job's reminder or overdue notice was sent once.

A withdrawal counts as refunded when the order's refunded amount reaches its
``refund_target``: what had been refunded when it arrived, plus the refunds
of the withdrawals still open then, plus its own. Refunds are made through
the one refund path (services/refunds.py), however the merchant triggers them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import payments as ledger
from chalicelib.domain import pricing
from chalicelib.domain.errors import IllegalTransition, WithdrawalNotFound
from chalicelib.domain.events import (
    WithdrawalReceivedData,
    WithdrawalRefundedData,
    WithdrawalRefundReminderData,
    WithdrawalReleasedData,
    WithdrawnLineData,
)
from chalicelib.domain.order import (
    FulfilmentStatus,
    HistoryEntry,
    Order,
    OrderChange,
    OrderLine,
    OrderStatus,
    StockMove,
    Visibility,
)
from chalicelib.domain.pricing import ShippingMethod
from chalicelib.domain.shipment import Shipment
from chalicelib.domain.withdrawal import (
    Delivery,
    LineRequest,
    PaidLine,
    RefundHold,
    Withdrawal,
    WithdrawalPeriod,
    withdraw,
    withdrawal_period,
)

#: A submission with the same lines within this time is the same declaration
#: sent twice (a double click, a retried request): it is answered with the
#: first one. After it, the same lines make a new declaration.
REPEAT_WINDOW = timedelta(hours=24)

#: Orders a withdrawal applies to: paid (shipped or not). An unpaid order is
#: cancelled instead; a cancelled or expired one has no contract left.
WITHDRAWABLE = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.PICKED_UP,
    }
)


def request_fingerprint(order_id: str, requested: Sequence[LineRequest] | None) -> str:
    """The same order and lines (in any order, a SKU split or not) give the same text."""
    if requested is None:
        lines: object = "all"
    else:
        merged: dict[str, int] = {}
        for line in requested:
            merged[line.sku] = merged.get(line.sku, 0) + line.quantity
        lines = sorted(merged.items())
    canonical = json.dumps([order_id, lines], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def repeated(order: Order, fingerprint: str, at: datetime) -> Withdrawal | None:
    """The withdrawal this submission repeats, if it is one."""
    for withdrawal in reversed(order.withdrawals):
        if withdrawal.id == withdrawal_id(fingerprint, _count_of(order, withdrawal)) and (
            at - withdrawal.received_at < REPEAT_WINDOW
        ):
            return withdrawal
    return None


def withdrawal_id(fingerprint: str, earlier: int) -> str:
    """Derived from the request and the number of earlier withdrawals: two
    racing copies of one submission make the same id, and only one of them
    is written (the order's write is conditional on its version)."""
    return "wd_" + hashlib.sha256(f"{fingerprint}:{earlier}".encode()).hexdigest()[:20]


def _count_of(order: Order, withdrawal: Withdrawal) -> int:
    return order.withdrawals.index(withdrawal)


def withdrawn_quantities(order: Order) -> dict[str, int]:
    out: dict[str, int] = {}
    for withdrawal in order.withdrawals:
        for line in withdrawal.lines:
            out[line.sku] = out.get(line.sku, 0) + line.quantity
    return out


def paid_lines(order: Order) -> list[PaidLine]:
    withdrawn = withdrawn_quantities(order)
    return [
        PaidLine(
            sku=line.sku,
            quantity=line.quantity,
            paid=line.paid,
            shipped=line.shipped_quantity,
            withdrawn=withdrawn.get(line.sku, 0),
        )
        for line in order.lines
    ]


def period(
    order: Order,
    shipments: Sequence[Shipment],
    timezone: ZoneInfo,
    holidays: Collection[date] = frozenset(),
) -> WithdrawalPeriod | None:
    """The period, from the delivery of the last shipment (a pickup order:
    from its hand-over); None while goods still have to reach the customer.
    Units withdrawn before they were shipped are not waited for."""
    if order.pickup is not None:
        # Click & collect: the goods reach the customer at the counter, so
        # the period runs from the hand-over as from a carrier's delivery.
        handed_over = order.picked_up_at
        return withdrawal_period(
            [handed_over] if handed_over is not None else [],
            timezone,
            everything_shipped=handed_over is not None,
            holidays=holidays,
        )
    withdrawn = withdrawn_quantities(order)
    everything_shipped = all(
        line.shipped_quantity >= line.quantity - withdrawn.get(line.sku, 0) for line in order.lines
    )
    return withdrawal_period(
        [s.delivered_at for s in shipments],
        timezone,
        everything_shipped=everything_shipped,
        holidays=holidays,
    )


def delivery_refund(order: Order, methods: Sequence[ShippingMethod] = ()) -> Delivery:
    """What a full withdrawal refunds of the delivery: what the customer paid
    for shipping, but no more than the cheapest standard delivery the shop
    offers to the order's destination for its goods (section 357 (2) BGB: a
    customer who chose express pays the difference).

    The shop's methods are read when the withdrawal arrives, not kept from the
    checkout: that keeps the checkout at its two round trips. Prices change
    rarely, the chosen method's own price at checkout is taken into account,
    and the refund never exceeds what was paid; a merchant who changed prices
    in between can refund the rest by hand. docs/withdrawal.md."""
    charged = order.totals.shipping
    if order.shipping is None or charged == 0:
        return Delivery(charged=charged, cheapest_standard=charged)
    goods = order.totals.subtotal - order.totals.discount
    offered = [
        option.price for option in pricing.shipping_options(methods, order.shipping.country, goods)
    ]
    cheapest = min([order.shipping.price, *offered])
    return Delivery(charged=charged, cheapest_standard=cheapest)


def receive(
    order: Order,
    shipments: Sequence[Shipment],
    requested: Sequence[LineRequest] | None,
    *,
    fingerprint: str,
    at: datetime,
    timezone: ZoneInfo,
    actor: str,
    late: bool = False,
    sent_at: datetime | None = None,
    methods: Sequence[ShippingMethod] = (),
) -> OrderChange:
    """The change that records a withdrawal of ``requested`` (None: all
    that is left). Refused after the period unless ``late`` (the merchant
    accepts it by hand)."""
    if order.status not in WITHDRAWABLE:
        raise IllegalTransition(
            f"an order that is {order.status} cannot be withdrawn from",
            status=order.status.value,
        )
    found = None if late else period(order, shipments, timezone)
    taken = withdraw(
        paid_lines(order),
        requested,
        currency=order.currency,
        delivery=delivery_refund(order, methods),
        period=found,
        received_at=at,
        timezone=timezone,
        sent_at=sent_at,
    )
    still_open = sum(w.refund.total for w in order.withdrawals if w.refunded_at is None)
    withdrawal = replace(
        taken,
        id=withdrawal_id(fingerprint, len(order.withdrawals)),
        late=late,
        refund_target=ledger.refunded_amount(order) + still_open + taken.refund.total,
        # Nothing to pay back (free goods): settled as it arrives.
        refunded_at=at if taken.refund.total == 0 else None,
    )
    names = {line.sku: line.name for line in order.lines}
    entry = HistoryEntry.of(
        WithdrawalReceivedData(
            withdrawal_id=withdrawal.id,
            received_at=at,
            lines=[
                WithdrawnLineData(
                    sku=line.sku,
                    name=names[line.sku],
                    quantity=line.quantity,
                    refund=line.refund,
                    to_return=line.to_return,
                )
                for line in withdrawal.lines
            ],
            full=withdrawal.full,
            refund_goods=withdrawal.refund.goods,
            refund_delivery=withdrawal.refund.delivery,
            refund_total=withdrawal.refund.total,
            currency=order.currency,
            refund_due_at=withdrawal.refund_due_at,
            awaiting_return=withdrawal.hold is RefundHold.AWAITING_RETURN,
            late=late,
            timezone=str(timezone),
        ),
        at=at,
        actor=actor,
        message=f"Withdrawal received: {sum(line.quantity for line in withdrawal.lines)} item(s)",
    )
    lines, releases = _release_unshipped(order, withdrawal)
    # Units withdrawn before they were shipped are not shipped any more: their
    # reservation goes back to the shelf in this write, and an order whose
    # rest was withdrawn is shipped with what has gone.
    everything_gone = all(line.unshipped_quantity == 0 for line in lines)
    fields: dict[str, Any] = {"withdrawals": (*order.withdrawals, withdrawal), "lines": lines}
    if order.status is OrderStatus.PARTIALLY_SHIPPED and everything_gone:
        change = order.change(
            OrderStatus.SHIPPED,
            at=at,
            history=[entry],
            fulfilment_status=FulfilmentStatus.SHIPPED,
            **fields,
        )
    else:
        change = order.record(at=at, history=[entry], **fields)
    return replace(change, stock_moves=tuple(releases))


def _release_unshipped(
    order: Order, withdrawal: Withdrawal
) -> tuple[tuple[OrderLine, ...], list[StockMove]]:
    """The order's lines with the withdrawn units that were not shipped taken
    off what is still to ship, and the stock moves releasing them."""
    released = {w.sku: w.quantity - w.to_return for w in withdrawal.lines}
    lines = tuple(
        replace(line, withdrawn_unshipped=line.withdrawn_unshipped + released[line.sku])
        if released.get(line.sku, 0) > 0
        else line
        for line in order.lines
    )
    moves = [
        StockMove(sku=sku, available=quantity, reserved=-quantity)
        for sku, quantity in released.items()
        if quantity > 0
    ]
    return lines, moves


def find(order: Order, withdrawal_id: str) -> Withdrawal:
    for withdrawal in order.withdrawals:
        if withdrawal.id == withdrawal_id:
            return withdrawal
    raise WithdrawalNotFound("the order has no such withdrawal", withdrawal_id=withdrawal_id)


def open_withdrawals(order: Order) -> list[Withdrawal]:
    return [w for w in order.withdrawals if w.refunded_at is None]


def settle_refunds(change: OrderChange, *, at: datetime, actor: str) -> OrderChange:
    """``change`` (a refund recorded), plus every open withdrawal it covers
    marked refunded, with its entry, in the same write."""
    order = change.order
    refunded = ledger.refunded_amount(order)
    settled = [w for w in open_withdrawals(order) if refunded >= w.refund_target]
    if not settled:
        return change
    ids = {w.id for w in settled}
    withdrawals = tuple(replace(w, refunded_at=at) if w.id in ids else w for w in order.withdrawals)
    entries = [
        HistoryEntry.of(
            WithdrawalRefundedData(
                withdrawal_id=w.id,
                refund_total=w.refund.total,
                currency=w.refund.currency,
                refunded_at=at,
            ),
            at=at,
            actor=actor,
            message="Withdrawal refunded",
        )
        for w in settled
    ]
    return replace(
        change,
        order=replace(order, withdrawals=withdrawals),
        history=(*change.history, *entries),
    )


def release(
    order: Order, withdrawal_ids: Collection[str], *, reason: str, at: datetime, actor: str
) -> OrderChange | None:
    """The refund of these withdrawals no longer waits for the goods. None
    when none of them was waiting."""
    waiting = [
        w
        for w in order.withdrawals
        if w.id in withdrawal_ids and w.hold is RefundHold.AWAITING_RETURN
    ]
    if not waiting:
        return None
    ids = {w.id for w in waiting}
    withdrawals = tuple(w.release() if w.id in ids else w for w in order.withdrawals)
    entries = [
        HistoryEntry.of(
            WithdrawalReleasedData(withdrawal_id=w.id, reason=reason),
            at=at,
            actor=actor,
            message="Withdrawal: goods or proof of dispatch received",
            visibility=Visibility.INTERNAL,
        )
        for w in waiting
    ]
    return order.record(at=at, history=entries, withdrawals=withdrawals)


def release_after_return(change: OrderChange, *, at: datetime, actor: str) -> OrderChange:
    """``change`` (a return recorded), plus every withdrawal waiting for its
    goods released: the merchant records the return of what came back."""
    waiting = [w.id for w in change.order.withdrawals if w.hold is RefundHold.AWAITING_RETURN]
    released = release(change.order, waiting, reason="goods_returned", at=at, actor=actor)
    if released is None:
        return change
    return replace(
        change,
        order=replace(change.order, withdrawals=released.order.withdrawals),
        history=(*change.history, *released.history),
    )


def remind(
    order: Order, withdrawal_id: str, kind: str, *, at: datetime, timezone: ZoneInfo
) -> OrderChange:
    """The refund job told the merchant (``due_soon`` or ``overdue``); the
    withdrawal remembers it, so each notice goes out once."""
    withdrawal = find(order, withdrawal_id)
    marked = (
        replace(withdrawal, reminded_at=at)
        if kind == "due_soon"
        else replace(withdrawal, overdue_reported_at=at)
    )
    entry = HistoryEntry.of(
        WithdrawalRefundReminderData(
            withdrawal_id=withdrawal.id,
            kind="due_soon" if kind == "due_soon" else "overdue",
            refund_total=withdrawal.refund.total,
            currency=withdrawal.refund.currency,
            refund_due_at=withdrawal.refund_due_at,
            timezone=str(timezone),
        ),
        at=at,
        actor="system",
        message="Withdrawal refund due soon" if kind == "due_soon" else "Withdrawal refund overdue",
        visibility=Visibility.INTERNAL,
    )
    withdrawals = tuple(marked if w.id == withdrawal.id else w for w in order.withdrawals)
    return order.record(at=at, history=[entry], withdrawals=withdrawals)
