"""Withdrawal (Widerruf) from a distance contract for goods, as pure rules.

A consumer may withdraw within 14 days without giving a reason (Art. 9 ff.
Consumer Rights Directive; in Germany sections 355 ff. BGB), through the
shop's withdrawal function as well as by any other clear statement (Art. 11a
CRD, section 356a BGB). This module decides, without I/O:

- the period: when it began and when it ends (``withdrawal_period``), and
  whether a declaration came in time (``ensure_in_time``);
- what a withdrawal covers: the whole order or some lines (``withdrawn_lines``);
- the refund due: goods, delivery costs, its deadline and the merchant's right
  to wait for the goods (``withdraw``, ``Withdrawal``);
- when the refund job reminds the merchant (``reminder_verdict``,
  ``overdue_verdict``).

Counting days. The day of delivery does not count (section 187 (1) BGB); the
period ends at the end of its 14th day (section 188 (1) BGB for periods in
days; the same day as section 188 (2) gives for "two weeks"). Days are days of
the shop's timezone. A last day on a Saturday, Sunday or public holiday moves
to the next working day: section 193 BGB applies to the period for a
declaration such as the withdrawal (the prevailing view), and so does Art. 3
(4) of Regulation (EEC, Euratom) No 1182/71, which recital 41 of the CRD
makes the rule for the directive's periods. Weekends are modelled; public
holidays are not computed here (they differ between the German states and the
place of the declaration decides), the caller may pass the dates it knows.

Not modelled: the longer period when the withdrawal notice was missing or
wrong (section 356 (3) BGB: at most 12 months and 14 days), the exceptions of
section 312g (2) BGB (custom-made or perishable goods, unsealed hygiene
goods...), the return costs borne by the consumer (section 357 (5) BGB) and
compensation for a loss in value (section 357a (1) BGB).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import WithdrawalLinesInvalid, WithdrawalPeriodEnded
from chalicelib.domain.money import unit_share

#: The withdrawal period (section 355 (2) BGB) and the refund's (section 357 (1) BGB).
WITHDRAWAL_DAYS = 14
REFUND_DAYS = 14
#: How long before the refund deadline the merchant is reminded, unless configured.
DEFAULT_REMINDER_LEAD = timedelta(days=3)


# --- the period -------------------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawalPeriod:
    #: The day the last goods reached the customer (shop's timezone); not counted.
    delivered_on: date
    #: The period's last day, after a move past a weekend or holiday.
    last_day: date
    #: The first instant after the period: midnight after ``last_day``, shop's timezone.
    ends_at: datetime

    def is_open(self, at: datetime) -> bool:
        return at < self.ends_at


def withdrawal_period(
    delivered_at: Iterable[datetime | None],
    timezone: ZoneInfo,
    *,
    everything_shipped: bool,
    holidays: Collection[date] = frozenset(),
) -> WithdrawalPeriod | None:
    """The period, from the day the last of the order's goods was delivered.

    ``delivered_at`` holds one entry per shipment of the order (None: not
    delivered yet); ``everything_shipped`` says that these shipments carry
    every line of the order. None: some goods have not reached the customer,
    so the period has not begun (section 356 (2) no. 1 BGB) and a withdrawal is
    possible at any time.
    """
    instants = list(delivered_at)
    if not everything_shipped or not instants or any(at is None for at in instants):
        return None
    last = max(_local_day(at, timezone) for at in instants if at is not None)
    last_day = next_working_day(last + timedelta(days=WITHDRAWAL_DAYS), holidays)
    return WithdrawalPeriod(
        delivered_on=last, last_day=last_day, ends_at=_end_of(last_day, timezone)
    )


def ensure_in_time(period: WithdrawalPeriod | None, sent_at: datetime) -> None:
    """Refuse a declaration sent after the period. Sending in time is enough
    (section 355 (1) sentence 5 BGB); through the withdrawal function it is
    sent and received at once."""
    if period is not None and not period.is_open(sent_at):
        raise WithdrawalPeriodEnded(
            "the withdrawal period has ended",
            last_day=period.last_day.isoformat(),
            ends_at=period.ends_at.isoformat(),
        )


def next_working_day(day: date, holidays: Collection[date] = frozenset()) -> date:
    """``day``, or the next day that is neither a Saturday, a Sunday nor in ``holidays``."""
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def _local_day(at: datetime, timezone: ZoneInfo) -> date:
    if at.tzinfo is None:
        raise ValueError("instants must carry a timezone")
    return at.astimezone(timezone).date()


def _end_of(day: date, timezone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone)


# --- what a withdrawal covers -----------------------------------------------------------


@dataclass(frozen=True)
class PaidLine:
    """One line of the order as a withdrawal sees it."""

    sku: str
    quantity: int  # ordered
    #: What the customer paid for the whole line, minor units, any discount allocated.
    paid: int
    shipped: int = 0
    withdrawn: int = 0  # by earlier (partial) withdrawals

    @property
    def left(self) -> int:
        return self.quantity - self.withdrawn

    def to_return(self, quantity: int) -> int:
        """Of ``quantity`` more units withdrawn, how many the customer has to
        send back: units not shipped yet are taken first (they stay here)."""
        unshipped = self.quantity - self.shipped
        return max(0, self.withdrawn + quantity - unshipped) - max(0, self.withdrawn - unshipped)


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class WithdrawnLine:
    sku: str
    quantity: int
    refund: int  # minor units
    to_return: int  # of ``quantity``, the units shipped, which the customer sends back


def withdrawn_lines(
    lines: Sequence[PaidLine], requested: Sequence[LineRequest] | None
) -> tuple[WithdrawnLine, ...]:
    """The lines a withdrawal covers: ``requested`` (the same SKU twice adds
    up), or everything not withdrawn yet when ``requested`` is None."""
    by_sku = {line.sku: line for line in lines}
    if requested is None:
        wanted = {line.sku: line.left for line in lines if line.left > 0}
    else:
        wanted = {}
        for request in requested:
            wanted[request.sku] = wanted.get(request.sku, 0) + request.quantity
    problems = [
        problem
        for sku, quantity in wanted.items()
        if (problem := _line_problem(by_sku.get(sku), sku, quantity)) is not None
    ]
    if problems:
        raise WithdrawalLinesInvalid("these lines cannot be withdrawn", lines=problems)
    if not wanted:
        raise WithdrawalLinesInvalid("nothing is left to withdraw", lines=[])
    return tuple(
        WithdrawnLine(
            sku=sku,
            quantity=quantity,
            refund=line_refund(by_sku[sku], quantity),
            to_return=by_sku[sku].to_return(quantity),
        )
        for sku, quantity in wanted.items()
    )


def _line_problem(line: PaidLine | None, sku: str, quantity: int) -> dict[str, object] | None:
    if line is None:
        return {"sku": sku, "reason": "not_on_order"}
    if quantity < 1:
        return {"sku": sku, "reason": "quantity_not_positive", "requested": quantity}
    if quantity > line.left:
        return {"sku": sku, "reason": "exceeds_order", "requested": quantity, "left": line.left}
    return None


def line_refund(line: PaidLine, quantity: int) -> int:
    """The share of the line's paid amount for ``quantity`` more units.

    Shares are cut from the running total (rounded down), so partial
    withdrawals never add up to more than was paid, and withdrawing every
    unit returns exactly what was paid, whatever the order of the steps.
    """
    return unit_share(line.paid, line.quantity, line.withdrawn, quantity)


# --- the refund -------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What the customer paid for delivery, and the cheapest standard delivery
    the shop offered for the order: only that much is refunded (section 357
    (2) BGB), so a customer who chose express pays the difference."""

    charged: int
    cheapest_standard: int

    @property
    def refundable(self) -> int:
        return min(self.charged, self.cheapest_standard)


@dataclass(frozen=True)
class Refund:
    currency: str
    goods: int
    delivery: int

    @property
    def total(self) -> int:
        return self.goods + self.delivery


class RefundHold(StrEnum):
    """The merchant may refuse the refund until the goods are back or the
    customer proves they were sent (section 357 (4) BGB), unless the merchant
    offered to collect them."""

    NONE = "none"  # nothing to send back (not shipped yet), or the shop collects it
    AWAITING_RETURN = "awaiting_return"
    RELEASED = "released"  # the goods or the proof of dispatch arrived


@dataclass(frozen=True)
class Withdrawal:
    received_at: datetime
    lines: tuple[WithdrawnLine, ...]
    #: Nothing of the order is left after this withdrawal.
    full: bool
    refund: Refund
    #: The refund's deadline: the end of the 14th day after receipt (shop's timezone).
    refund_due_at: datetime
    hold: RefundHold
    refunded_at: datetime | None = None
    reminded_at: datetime | None = None
    overdue_reported_at: datetime | None = None
    #: Set when the withdrawal is kept on an order (domain/order_withdrawal.py):
    #: its id, whether the merchant accepted it after the period, and the
    #: order's refunded amount at which this withdrawal counts as refunded.
    id: str = ""
    late: bool = False
    refund_target: int = 0

    @property
    def may_refund(self) -> bool:
        return self.hold is not RefundHold.AWAITING_RETURN

    def release(self) -> Withdrawal:
        """The goods, or the customer's proof of dispatch, arrived."""
        if self.hold is RefundHold.AWAITING_RETURN:
            return replace(self, hold=RefundHold.RELEASED)
        return self


def withdraw(
    lines: Sequence[PaidLine],
    requested: Sequence[LineRequest] | None,
    *,
    currency: str,
    delivery: Delivery,
    period: WithdrawalPeriod | None,
    received_at: datetime,
    timezone: ZoneInfo,
    shop_collects: bool = False,
    sent_at: datetime | None = None,
) -> Withdrawal:
    """A withdrawal received at ``received_at`` (``sent_at`` when a letter
    was sent earlier), with the refund it makes due.

    Delivery costs are refunded with the withdrawal that leaves nothing of
    the order (a partial withdrawal keeps the delivery the customer still
    uses); the refund is due 14 days after receipt (section 357 (1) BGB). That
    deadline is not moved past a weekend: the shop pays early, not at the last
    legal minute.
    """
    ensure_in_time(period, sent_at or received_at)
    taken = withdrawn_lines(lines, requested)
    by_sku = {line.sku: line.quantity for line in taken}
    full = all(line.left == by_sku.get(line.sku, 0) for line in lines)
    received_on = _local_day(received_at, timezone)
    awaiting = any(line.to_return for line in taken) and not shop_collects
    hold = RefundHold.AWAITING_RETURN if awaiting else RefundHold.NONE
    return Withdrawal(
        received_at=received_at,
        lines=taken,
        full=full,
        refund=Refund(
            currency=currency,
            goods=sum(line.refund for line in taken),
            delivery=delivery.refundable if full else 0,
        ),
        refund_due_at=_end_of(received_on + timedelta(days=REFUND_DAYS), timezone),
        hold=hold,
    )


# --- reminders for the refund job --------------------------------------------------------


class Verdict(StrEnum):
    ACT = "act"
    NOT_DUE = "not_due"
    HELD = "held"  # waiting for the goods (section 357 (4) BGB): nothing to remind of yet
    DONE = "done"  # refunded, or this reminder was already sent
    PASSED = "passed"  # too late for "before the deadline"; the overdue one takes it


def reminder_at(withdrawal: Withdrawal, lead: timedelta = DEFAULT_REMINDER_LEAD) -> datetime:
    """When the merchant is reminded that the refund deadline is near."""
    return withdrawal.refund_due_at - lead


def reminder_verdict(
    withdrawal: Withdrawal, now: datetime, lead: timedelta = DEFAULT_REMINDER_LEAD
) -> Verdict:
    """Whether the "refund due soon" reminder goes out now."""
    if withdrawal.refunded_at is not None or withdrawal.reminded_at is not None:
        return Verdict.DONE
    if not withdrawal.may_refund:
        return Verdict.HELD
    if now >= withdrawal.refund_due_at:
        return Verdict.PASSED
    return Verdict.ACT if now >= reminder_at(withdrawal, lead) else Verdict.NOT_DUE


def overdue_verdict(withdrawal: Withdrawal, now: datetime) -> Verdict:
    """Whether the "refund deadline passed" notice goes out now. Goods that
    come back after the deadline make the refund overdue at once."""
    if withdrawal.refunded_at is not None or withdrawal.overdue_reported_at is not None:
        return Verdict.DONE
    if not withdrawal.may_refund:
        return Verdict.HELD
    return Verdict.ACT if now >= withdrawal.refund_due_at else Verdict.NOT_DUE
