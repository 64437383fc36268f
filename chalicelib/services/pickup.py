"""Click & collect use cases: the merchant marks a paid pickup order ready
(a new pickup code, emailed to the customer through the OrderReadyForPickup
event) and hands it over against that code (domain/pickup.py).

Each reads the order, lets the domain decide and writes the one change with
``OrderStore.apply`` (conditional on the order's status and version); a lost
race is re-read and decided again.
"""

from __future__ import annotations

import secrets

from chalicelib.domain import pickup as domain
from chalicelib.observability import logger, metrics
from chalicelib.retry import retry_on_conflict
from chalicelib.services.context import Context
from chalicelib.services.ports import OrderRecord


def new_pickup_code() -> str:
    """Six random digits from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**domain.CODE_DIGITS):0{domain.CODE_DIGITS}d}"


def mark_ready_for_pickup(order_id: str, *, actor: str, ctx: Context) -> OrderRecord:
    """A paid pickup order is ready at its location: it gets its pickup code,
    which the customer's email carries. Repeating it changes nothing (the
    first code stays)."""
    code = new_pickup_code()

    def attempt() -> None:
        change = domain.ready_for_pickup(
            ctx.orders.get(order_id).order, code=code, actor=actor, at=ctx.clock()
        )
        if change is not None:
            ctx.orders.apply(change)

    retry_on_conflict(attempt, message="the order kept changing; try again", order_id=order_id)
    logger.info("order ready for pickup", order_id=order_id)
    metrics.add_metric(name="OrdersReadyForPickup", unit="Count", value=1)
    return ctx.orders.get(order_id)


def hand_over(order_id: str, code: str, *, actor: str, ctx: Context) -> OrderRecord:
    """The customer collected the order and showed its code: the reserved
    stock becomes shipped and the withdrawal period begins. A wrong code is
    refused (PickupCodeWrong) and changes nothing."""

    def attempt() -> None:
        change = domain.hand_over(
            ctx.orders.get(order_id).order, code=code, actor=actor, at=ctx.clock()
        )
        if change is not None:
            ctx.orders.apply(change)

    retry_on_conflict(attempt, message="the order kept changing; try again", order_id=order_id)
    logger.info("order picked up", order_id=order_id)
    metrics.add_metric(name="OrdersPickedUp", unit="Count", value=1)
    return ctx.orders.get(order_id)
