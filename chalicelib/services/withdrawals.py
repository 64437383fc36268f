"""Withdrawal use cases (docs/withdrawal.md): the customer's withdrawal
function, the merchant's late acceptance and release of a held refund (the
refund reminders are a sweep: services/sweeps.py).

The customer identifies the order by its id and token, or by its number and
email. Every failure to identify answers as ``OrderNotFound`` with the same
message and no details, so the form tells nobody which numbers exist or
whose they are; each attempt is counted per client first (``throttle``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain import ids
from chalicelib.domain import order_withdrawal as domain
from chalicelib.domain.errors import OrderNotFound, TooManyAttempts
from chalicelib.domain.withdrawal import LineRequest
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord

#: The attempt counters' scope (one throttle per form).
LOOKUP_SCOPE = "withdrawal"


@dataclass(frozen=True)
class OrderReference:
    """How the customer names the order: ``order_id`` and ``token``, or
    ``number`` and ``email``."""

    order_id: str | None = None
    token: str | None = None
    number: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Received:
    record: OrderRecord
    withdrawal_id: str
    created: bool  # False: this submission repeated one already received


def _not_found() -> OrderNotFound:
    # One message, no details: an unknown order, a wrong token and a wrong
    # email must be indistinguishable.
    return OrderNotFound("no order matches these details")


def throttle(client: str, ctx: Context) -> None:
    """Count one lookup for ``client`` (the source IP, kept only hashed);
    refuse it beyond the window's limit."""
    if ctx.attempts is None:
        raise RuntimeError("withdrawals need ctx.attempts")
    settings = ctx.settings
    window = settings.withdrawal_lookup_window_minutes * 60
    now = int(ctx.clock().timestamp())
    start = now - now % window
    client_hash = hashlib.sha256(f"{LOOKUP_SCOPE}:{client}".encode()).hexdigest()[:32]
    count = ctx.attempts.count(
        LOOKUP_SCOPE, client_hash, window_start=start, expires_at=start + 2 * window
    )
    if count > settings.withdrawal_lookup_attempts:
        logger.warning("withdrawal lookup throttled", attempts=count)
        metrics.add_metric(name="WithdrawalLookupsThrottled", unit="Count", value=1)
        raise TooManyAttempts(
            "too many attempts; try again later", retry_after_seconds=start + window - now
        )


def identify(reference: OrderReference, client: str, ctx: Context) -> OrderRecord:
    """The order the customer named, after counting the attempt."""
    throttle(client, ctx)
    if reference.order_id is not None and reference.token is not None:
        order_id: str | None = reference.order_id
    elif reference.number is not None and reference.email is not None:
        order_id = ctx.payments.records.order_for_number(reference.number)
    else:
        raise _not_found()
    if order_id is None:
        raise _not_found()
    try:
        record = ctx.orders.get(order_id)
    except OrderNotFound:
        raise _not_found() from None
    order = record.order
    if reference.token is not None:
        matched = ids.token_matches(reference.token, order.token_hash)
    else:
        given = (reference.email or "").strip().lower().encode()
        matched = hmac.compare_digest(given, order.customer.email.strip().lower().encode())
    if not matched:
        raise _not_found()
    return record


def look_up(reference: OrderReference, client: str, ctx: Context) -> OrderRecord:
    """The order for the form: its lines and what may still be withdrawn."""
    return identify(reference, client, ctx)


def withdraw(
    reference: OrderReference,
    lines: Sequence[LineRequest] | None,
    client: str,
    ctx: Context,
) -> Received:
    """Receive the customer's withdrawal of ``lines`` (None: all that is
    left). The same submission again within a day answers with the first."""
    order_id = identify(reference, client, ctx).order.id
    return _receive(order_id, lines, actor="customer", late=False, ctx=ctx)


def accept_late(
    order_id: str,
    lines: Sequence[LineRequest] | None,
    *,
    sent_at: datetime | None,
    actor: str,
    ctx: Context,
) -> Received:
    """The merchant accepts a withdrawal by hand, whether in time or not
    (a letter, a call, a declaration after the period)."""
    return _receive(order_id, lines, actor=actor, late=True, sent_at=sent_at, ctx=ctx)


def _receive(
    order_id: str,
    lines: Sequence[LineRequest] | None,
    *,
    actor: str,
    late: bool,
    ctx: Context,
    sent_at: datetime | None = None,
) -> Received:
    timezone = ZoneInfo(ctx.settings.timezone)
    fingerprint = domain.request_fingerprint(order_id, lines)
    # The shop's methods bound the delivery a full withdrawal refunds.
    methods = ctx.terms.shipping_methods() if ctx.terms is not None else ()

    def attempt() -> Received:
        record = ctx.orders.get(order_id)
        now = ctx.clock()
        earlier = domain.repeated(record.order, fingerprint, now)
        if earlier is not None:
            return Received(record=record, withdrawal_id=earlier.id, created=False)
        change = domain.receive(
            record.order,
            record.shipments,
            lines,
            fingerprint=fingerprint,
            at=now,
            timezone=timezone,
            actor=actor,
            late=late,
            sent_at=sent_at,
            methods=methods,
        )
        ctx.orders.apply(change)
        return Received(
            record=ctx.orders.get(order_id),
            withdrawal_id=change.order.withdrawals[-1].id,
            created=True,
        )

    received = retry_on_conflict(
        attempt, message="the order kept changing; try again", order_id=order_id
    )
    if received.created:
        logger.info(
            "withdrawal received",
            order_id=order_id,
            withdrawal_id=received.withdrawal_id,
            late=late,
        )
        metrics.add_metric(name="WithdrawalsReceived", unit="Count", value=1)
    return received


def release(
    order_id: str,
    withdrawal_id: str,
    *,
    actor: str,
    ctx: Context,
    reason: str = "proof_of_dispatch",
) -> OrderRecord:
    """The customer's proof of dispatch (or the goods) arrived: the refund
    is no longer held."""

    def attempt() -> None:
        order = ctx.orders.get(order_id).order
        domain.find(order, withdrawal_id)
        change = domain.release(order, {withdrawal_id}, reason=reason, at=ctx.clock(), actor=actor)
        if change is not None:
            ctx.orders.apply(change)

    retry_on_conflict(attempt, message="the order kept changing; try again", order_id=order_id)
    return ctx.orders.get(order_id)
