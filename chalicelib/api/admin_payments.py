"""Merchant payment routes: bank transfers (singly and in bulk), refunds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api import presenters
from chalicelib.api.auth import admin_key_authorizer, principal
from chalicelib.api.http import parse_body, route
from chalicelib.api.payment_schemas import (
    BulkMarkPaidIn,
    MarkPaidIn,
    MarkPaidResultOut,
    PaymentOut,
    RefundIn,
)
from chalicelib.domain import payments as ledger
from chalicelib.services import payments
from chalicelib.services.ports import OrderRecord

admin_payments = Blueprint(__name__)


def _actor() -> str:
    return principal(admin_payments.current_request.context)


def order_with_payments(record: OrderRecord) -> dict[str, Any]:
    """The order as the merchant sees it, with every payment and refund."""
    order = record.order
    return {
        **presenters.order(record),
        "payments": [PaymentOut(**asdict(p)).model_dump(mode="json") for p in order.payments],
        "paid_amount": ledger.paid_amount(order),
        "refunded_amount": ledger.refunded_amount(order),
    }


@route(
    admin_payments,
    "/admin/orders/{order_id}/payments",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
def mark_paid(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_payments.current_request, MarkPaidIn)
    record = payments.mark_paid(
        order_id, body.bank_reference, actor=_actor(), ctx=bootstrap.context()
    )
    return order_with_payments(record)


@route(
    admin_payments,
    "/admin/payments/bank-transfers",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
def mark_paid_in_bulk() -> dict[str, Any]:
    body = parse_body(admin_payments.current_request, BulkMarkPaidIn)
    seen = [payments.BankTransferSeen(p.number, p.bank_reference) for p in body.payments]
    results = payments.mark_paid_in_bulk(seen, actor=_actor(), ctx=bootstrap.context())
    return {"results": [MarkPaidResultOut(**asdict(r)).model_dump() for r in results]}


@route(
    admin_payments,
    "/admin/orders/{order_id}/refunds",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
def refund(order_id: str) -> dict[str, Any]:
    body = parse_body(admin_payments.current_request, RefundIn, allow_empty=True)
    record = payments.refund_order(
        order_id, body.amount, reason=body.reason, actor=_actor(), ctx=bootstrap.context()
    )
    return order_with_payments(record)
