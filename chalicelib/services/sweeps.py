"""The scheduled jobs: expire unpaid orders, remind of bank transfers, nudge
abandoned carts.

Each job reads its candidates from a sparse, sharded index (never a Scan),
decides each one in the domain at the clock's ``now`` and writes the result
conditionally on the version it decided on. So a job is safe to run twice at
once, to be retried, and to race a payment: for each order exactly one
writer wins, and a loser re-reads and decides again. Work per run is bounded
by ``sweep_batch_size``; what is left is found by the next run.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain import deadlines, ids
from chalicelib.domain.cart import Cart, abandoned, email_hash
from chalicelib.domain.deadlines import Verdict
from chalicelib.domain.errors import CartConverted, ConcurrentUpdate, OrderNotFound
from chalicelib.domain.order import Order, OrderChange
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.carts import carts_of
from chalicelib.services.context import Context
from chalicelib.services.ports import AddressSuppressed, SweepIndex


@dataclass
class SweepReport:
    """What one run of a job did; published as metrics and logged."""

    job: str
    found: int = 0  # candidates the index returned
    acted: int = 0  # expired / reminded / nudged by this run
    skipped: int = 0  # not (or no longer) due, or done by someone else
    errors: int = 0  # failed unexpectedly; left for the next run
    items_read: int = 0  # index items read to find the candidates

    def count(self, outcome: Verdict) -> None:
        if outcome is Verdict.ACT:
            self.acted += 1
        else:
            self.skipped += 1


def sweeps_of(ctx: Context) -> SweepIndex:
    if ctx.sweeps is None:
        raise RuntimeError("this context has no sweep index")
    return ctx.sweeps


# --- expire unpaid orders ----------------------------------------------------------


def expire_unpaid_orders(ctx: Context) -> SweepReport:
    """Expire every pending_payment order whose payment deadline has passed
    (and whose payment attempt in flight, if any, is past its grace period),
    releasing its stock in the same transaction."""
    now = ctx.clock()
    grace = timedelta(minutes=ctx.settings.payment_attempt_grace_minutes)
    page = sweeps_of(ctx).orders_due(until=now, limit=ctx.settings.sweep_batch_size)

    def decide(order: Order) -> tuple[Verdict, OrderChange | None]:
        verdict = deadlines.expiry_verdict(order, now, grace)
        if verdict is not Verdict.ACT:
            return verdict, None
        return verdict, deadlines.expire(order, at=ctx.clock())

    return _run("expire_unpaid_orders", page.items, page.items_read, decide, ctx)


# --- payment reminders -------------------------------------------------------------


def send_payment_reminders(ctx: Context) -> SweepReport:
    """Record one PaymentReminderDue (the notifications job emails it) for
    each bank-transfer order within the reminder lead of its deadline."""
    now = ctx.clock()
    lead = timedelta(hours=ctx.settings.payment_reminder_lead_hours)
    page = sweeps_of(ctx).orders_to_remind(
        after=now, until=now + lead, limit=ctx.settings.sweep_batch_size
    )

    def decide(order: Order) -> tuple[Verdict, OrderChange | None]:
        verdict = deadlines.reminder_verdict(order, now, lead)
        if verdict is not Verdict.ACT:
            return verdict, None
        return verdict, deadlines.remind(order, at=ctx.clock())

    return _run("send_payment_reminders", page.items, page.items_read, decide, ctx)


def send_withdrawal_reminders(ctx: Context) -> SweepReport:
    """Tell the merchant when a withdrawal's refund deadline is near, and
    again when it has passed (docs/withdrawal.md). Each notice is written
    once per withdrawal, conditional on the order's version; an order with
    several notices due gets one per run."""
    from zoneinfo import ZoneInfo

    from chalicelib.domain import order_withdrawal
    from chalicelib.domain import withdrawal as rules

    lead = timedelta(hours=ctx.settings.withdrawal_reminder_lead_hours)
    timezone = ZoneInfo(ctx.settings.timezone)
    page = sweeps_of(ctx).open_withdrawals(limit=ctx.settings.sweep_batch_size)

    def decide(order: Order) -> tuple[Verdict, OrderChange | None]:
        now = ctx.clock()
        for withdrawal in order_withdrawal.open_withdrawals(order):
            for kind, verdict in (
                ("due_soon", rules.reminder_verdict(withdrawal, now, lead)),
                ("overdue", rules.overdue_verdict(withdrawal, now)),
            ):
                if verdict is rules.Verdict.ACT:
                    change = order_withdrawal.remind(
                        order, withdrawal.id, kind, at=now, timezone=timezone
                    )
                    return Verdict.ACT, change
        return Verdict.NOT_DUE, None

    return _run("send_withdrawal_reminders", page.items, page.items_read, decide, ctx)


def _run(
    job: str,
    candidates: Sequence[Order],
    items_read: int,
    decide: Callable[[Order], tuple[Verdict, OrderChange | None]],
    ctx: Context,
) -> SweepReport:
    report = SweepReport(job=job, items_read=items_read, found=len(candidates))
    for order in candidates:
        try:
            report.count(_settle(order, decide, ctx))
        except Exception:
            # One broken order must not stop the batch; it stays in the index
            # and is retried next run, and the error metric alarms.
            report.errors += 1
            logger.exception("sweep failed for an order", job=job, order_id=order.id)
    return _finish(report)


def _settle(
    order: Order, decide: Callable[[Order], tuple[Verdict, OrderChange | None]], ctx: Context
) -> Verdict:
    """Decide and write; on a lost race re-read (consistently) and decide
    again. Still losing after the retry policy's attempts, the order is left
    to the next run."""
    current = order
    lost = False

    def attempt() -> Verdict:
        nonlocal current, lost
        if lost:
            try:
                current = ctx.orders.get(order.id).order
            except OrderNotFound:
                return Verdict.SETTLED
        verdict, change = decide(current)
        if change is None:
            return verdict
        try:
            ctx.orders.apply(change)
        except ConcurrentUpdate:
            lost = True
            raise
        logger.info(
            "order swept",
            order_id=current.id,
            event=change.history[0].event,
            version=current.version,
        )
        return Verdict.ACT

    try:
        return retry_on_conflict(attempt, message="the order kept changing", order_id=order.id)
    except ConcurrentUpdate:
        return Verdict.NOT_DUE


# --- abandoned carts ---------------------------------------------------------------


def nudge_abandoned_carts(ctx: Context) -> SweepReport:
    """Nudge each abandoned cart once (a CartAbandoned event the notifications
    job emails), unless its address opted out."""
    now = ctx.clock()
    page = sweeps_of(ctx).carts_due(until=now, limit=ctx.settings.sweep_batch_size)
    report = SweepReport(
        job="nudge_abandoned_carts", items_read=page.items_read, found=len(page.items)
    )
    for cart in page.items:
        try:
            report.count(_nudge(cart, now, ctx))
        except Exception:
            # As for orders: one broken cart must not stop the batch.
            report.errors += 1
            logger.exception("sweep failed for a cart", job=report.job, cart_id=cart.id)
    return _finish(report)


def _nudge(cart: Cart, now: datetime, ctx: Context) -> Verdict:
    carts = carts_of(ctx)
    current = cart
    lost = False

    def attempt() -> Verdict:
        nonlocal current, lost
        if lost:
            current = carts.get(cart.id)
        if not current.is_nudge_due(now) or current.email is None:
            return Verdict.NOT_DUE  # emptied, converted, opted out or touched again
        recovery, opt_out = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        settings = ctx.settings
        nudge = abandoned(
            current,
            at=now,
            recovery_token=recovery,
            recovery_token_hash=ids.sha256_hex(recovery),
            opt_out_token=opt_out,
            opt_out_token_hash=ids.sha256_hex(opt_out),
            email_hash=email_hash(current.email),
            cart_url=settings.cart_link_template.format(cart_id=current.id, token=recovery),
            opt_out_url=f"{settings.public_api_url.rstrip('/')}/opt-out/{opt_out}",
            products=ctx.catalog.get_many(line.sku for line in current.lines),
        )
        try:
            carts.nudge(nudge)
        except AddressSuppressed:
            _leave_index(current, ctx)
            logger.info("cart not nudged: address opted out", cart_id=current.id)
            return Verdict.SETTLED
        except ConcurrentUpdate:
            lost = True
            raise
        logger.info("cart nudged", cart_id=current.id)
        return Verdict.ACT

    try:
        return retry_on_conflict(attempt, message="the cart kept changing", cart_id=cart.id)
    except ConcurrentUpdate:
        return Verdict.NOT_DUE  # still losing: the next run decides


def _leave_index(cart: Cart, ctx: Context) -> None:
    """Take an opted-out cart out of the nudge index so later runs do not read
    it again. Best effort: if the cart changed meanwhile, the next run decides."""
    try:
        carts_of(ctx).save(cart.suppress_nudge(), cart.version)
    except (ConcurrentUpdate, CartConverted):
        pass


# --- metrics -----------------------------------------------------------------------


def _finish(report: SweepReport) -> SweepReport:
    """Log the run and publish its figures as one EMF record with the job as
    dimension (flushed here, so the dimension stays on this record alone)."""
    logger.info(
        "sweep finished",
        job=report.job,
        found=report.found,
        acted=report.acted,
        skipped=report.skipped,
        errors=report.errors,
        items_read=report.items_read,
    )
    metrics.add_dimension(name="job", value=report.job)
    for name, value in (
        ("SweepFound", report.found),
        ("SweepActed", report.acted),
        ("SweepSkipped", report.skipped),
        ("SweepErrors", report.errors),
        ("SweepItemsRead", report.items_read),
    ):
        metrics.add_metric(name=name, unit="Count", value=value)
    metrics.flush_metrics()
    return report
