"""Merchant payment routes: bank transfers (singly and in bulk), refunds."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from dataclasses import asdict
from typing import Any

from chalice import Blueprint

from chalicelib.api import presenters, wiring
from chalicelib.api.auth import admin_key_authorizer, principal
from chalicelib.api.contract import documented
from chalicelib.api.http import parse_body, route
from chalicelib.api.payment_schemas import (
    BulkMarkPaidIn,
    BulkMarkPaidOut,
    MarkPaidIn,
    MarkPaidResultOut,
    PaymentOut,
    RefundIn,
)
from chalicelib.api.schemas import OrderOut
from chalicelib.domain import errors
from chalicelib.domain import payments as ledger
from chalicelib.services import payments
from chalicelib.services.ports import OrderRecord

admin_payments = Blueprint(__name__)


class OrderWithPaymentsOut(OrderOut):
    payments: list[PaymentOut]
    paid_amount: int
    refunded_amount: int


def _actor() -> str:
    return principal(admin_payments.current_request.context)


def order_with_payments(record: OrderRecord) -> dict[str, Any]:
    """The order as the merchant sees it, with every payment and refund."""
    order = record.order
    return OrderWithPaymentsOut.model_validate(
        {
            **presenters.order(record),
            "payments": [PaymentOut(**asdict(p)) for p in order.payments],
            "paid_amount": ledger.paid_amount(order),
            "refunded_amount": ledger.refunded_amount(order),
        }
    ).model_dump(mode="json")


@route(
    admin_payments,
    "/admin/orders/{order_id}/payments",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Mark a bank-transfer order paid (the merchant saw the money arrive)",
    ok={200: OrderWithPaymentsOut},
    body=MarkPaidIn,
    auth="admin_key",
    errors=(errors.OrderNotFound, errors.IllegalTransition, errors.ConcurrentUpdate),
)
def mark_paid(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_payments.current_request, MarkPaidIn)
    record = payments.mark_paid(order_id, body.bank_reference, actor=_actor(), ctx=wiring.context())
    return order_with_payments(record)


@route(
    admin_payments,
    "/admin/payments/bank-transfers",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Mark many bank-transfer orders paid by their numbers (a bank statement)",
    description="One result per payment, in order; an unknown number or an order "
    "not awaiting payment is reported in its result, not as an error.",
    ok={200: BulkMarkPaidOut},
    body=BulkMarkPaidIn,
    auth="admin_key",
)
def mark_paid_in_bulk() -> dict[str, Any]:
    body = parse_body(admin_payments.current_request, BulkMarkPaidIn)
    seen = [payments.BankTransferSeen(p.number, p.bank_reference) for p in body.payments]
    results = payments.mark_paid_in_bulk(seen, actor=_actor(), ctx=wiring.context())
    return BulkMarkPaidOut(results=[MarkPaidResultOut(**asdict(r)) for r in results]).model_dump()


@route(
    admin_payments,
    "/admin/orders/{order_id}/refunds",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Refund a paid order, in full or `amount` of it, through its provider",
    ok={200: OrderWithPaymentsOut},
    body=RefundIn,
    body_required=False,
    auth="admin_key",
    errors=(
        errors.OrderNotFound,
        errors.InvalidRequest,
        errors.IllegalTransition,
        errors.ConcurrentUpdate,
        errors.RefundRejected,
        errors.PaymentProviderUnavailable,
    ),
)
def refund(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_payments.current_request, RefundIn, allow_empty=True)
    record = payments.refund_order(
        order_id, body.amount, reason=body.reason, actor=_actor(), ctx=wiring.context()
    )
    return order_with_payments(record)
