"""The storefront's withdrawal function ("Vertrag widerrufen"): find the
order, choose the whole order or some lines, confirm (docs/withdrawal.md)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import wiring
from chalicelib.api import withdrawal_presenters as present
from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import parse_body, route
from chalicelib.api.withdrawal_schemas import (
    OrderReferenceIn,
    WithdrawalOrderOut,
    WithdrawalReceivedOut,
    WithdrawIn,
)
from chalicelib.domain import errors
from chalicelib.domain.withdrawal import LineRequest
from chalicelib.services import withdrawals

storefront_withdrawals = Blueprint(__name__)


def _client() -> str:
    """The caller's source IP as API Gateway saw it: what the throttle counts."""
    context = storefront_withdrawals.current_request.context or {}
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")


def _reference(body: OrderReferenceIn) -> withdrawals.OrderReference:
    return withdrawals.OrderReference(
        order_id=body.order_id,
        token=body.token,
        number=body.number,
        email=str(body.email) if body.email is not None else None,
    )


@route(storefront_withdrawals, "/withdrawals/lookup", methods=["POST"], cors=storefront_cors())
@documented(
    "Find the order for the withdrawal form: its lines and what may still be withdrawn",
    description="By `order_id` and `token`, or `number` and `email`. A wrong pair answers "
    "exactly like an unknown order. Counted per client: 429 beyond the limit.",
    ok={200: WithdrawalOrderOut},
    body=OrderReferenceIn,
    errors=(errors.OrderNotFound, errors.TooManyAttempts),
)
def look_up_for_withdrawal() -> dict[str, Any]:
    body = parse_body(storefront_withdrawals.current_request, OrderReferenceIn)
    ctx = wiring.context()
    record = withdrawals.look_up(_reference(body), _client(), ctx)
    return present.order(record, ctx.settings.timezone).model_dump(mode="json")


@route(storefront_withdrawals, "/withdrawals", methods=["POST"], cors=storefront_cors())
@documented(
    "Withdraw from the contract: the whole order or some lines",
    description="201 with the withdrawal received; the same submission again within a day "
    "answers 200 with the same withdrawal (nothing is written, no second email). After the "
    "period: 422 `withdrawal_period_ended`.",
    ok={201: WithdrawalReceivedOut, 200: WithdrawalReceivedOut},
    body=WithdrawIn,
    errors=(
        errors.OrderNotFound,
        errors.TooManyAttempts,
        errors.WithdrawalPeriodEnded,
        errors.WithdrawalLinesInvalid,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
    ),
)
def withdraw() -> Response:
    body = parse_body(storefront_withdrawals.current_request, WithdrawIn)
    lines = (
        [LineRequest(sku=line.sku, quantity=line.quantity) for line in body.lines]
        if body.lines is not None
        else None
    )
    ctx = wiring.context()
    received = withdrawals.withdraw(_reference(body), lines, _client(), ctx)
    return Response(
        body=present.received(received.record, received.withdrawal_id, ctx.settings.timezone),
        status_code=201 if received.created else 200,
    )
