"""The merchant's withdrawal routes: accept one by hand (a letter, or after
the period), and release a refund held for the goods (proof of dispatch)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import wiring
from chalicelib.api import withdrawal_presenters as present
from chalicelib.api.auth import admin_key_authorizer, principal
from chalicelib.api.contract import documented
from chalicelib.api.http import parse_body, route
from chalicelib.api.withdrawal_schemas import (
    AcceptWithdrawalIn,
    ReleaseIn,
    WithdrawalOrderOut,
    WithdrawalReceivedOut,
)
from chalicelib.domain import errors
from chalicelib.domain.withdrawal import LineRequest
from chalicelib.services import withdrawals

admin_withdrawals = Blueprint(__name__)
_AUTH = {"authorizer": admin_key_authorizer}


@route(admin_withdrawals, "/admin/orders/{order_id}/withdrawals", methods=["POST"], **_AUTH)
@documented(
    "Accept a withdrawal by hand, in the period or after it",
    description="201 with the withdrawal; the same lines again within a day answer 200.",
    ok={201: WithdrawalReceivedOut, 200: WithdrawalReceivedOut},
    body=AcceptWithdrawalIn,
    body_required=False,
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.WithdrawalLinesInvalid,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
    ),
)
def accept_withdrawal(order_id: str) -> Response:
    request = admin_withdrawals.current_request
    body = parse_body(request, AcceptWithdrawalIn, allow_empty=True)
    lines = (
        [LineRequest(sku=line.sku, quantity=line.quantity) for line in body.lines]
        if body.lines is not None
        else None
    )
    ctx = wiring.context()
    received = withdrawals.accept_late(
        order_id, lines, sent_at=body.sent_at, actor=principal(request.context), ctx=ctx
    )
    return Response(
        body=present.received(received.record, received.withdrawal_id, ctx.settings.timezone),
        status_code=201 if received.created else 200,
    )


@route(
    admin_withdrawals,
    "/admin/orders/{order_id}/withdrawals/{withdrawal_id}/release",
    methods=["POST"],
    **_AUTH,
)
@documented(
    "The customer's proof of dispatch arrived: the refund is no longer held",
    ok={200: WithdrawalOrderOut},
    body=ReleaseIn,
    body_required=False,
    auth="admin_key",
    errors=(errors.OrderNotFound, errors.WithdrawalNotFound, errors.ConcurrentUpdate),
)
def release_withdrawal(order_id: str, withdrawal_id: str) -> dict[str, Any]:
    request = admin_withdrawals.current_request
    body = parse_body(request, ReleaseIn, allow_empty=True)
    ctx = wiring.context()
    record = withdrawals.release(
        order_id, withdrawal_id, reason=body.reason, actor=principal(request.context), ctx=ctx
    )
    return present.order(record, ctx.settings.timezone).model_dump(mode="json")
