"""Request and response bodies of the payment routes (docs/payments.md)."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictInt

from chalicelib.api.bodies import ONE_LINE, Answer, Reason, Request

OrderNumber = Annotated[str, Field(pattern=r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")]
BankReference = Annotated[str, Field(min_length=1, max_length=140, pattern=ONE_LINE)]

MAX_BULK_PAYMENTS = 100


class MarkPaidIn(Request):
    bank_reference: BankReference = Field(
        description="the bank's reference of the incoming transfer (or a note)"
    )


class BankTransferIn(Request):
    number: OrderNumber
    bank_reference: BankReference


class BulkMarkPaidIn(Request):
    payments: list[BankTransferIn] = Field(min_length=1, max_length=MAX_BULK_PAYMENTS)


class RefundIn(Request):
    amount: StrictInt | None = Field(
        default=None, ge=1, le=100_000_000, description="minor units; omit to refund everything"
    )
    reason: Reason = "refunded by merchant"


class BankTransferOut(Answer):
    account_holder: str
    iban: str
    bic: str
    reference: str
    amount: int
    currency: str
    due_at: datetime


class PaymentInstructionsOut(Answer):
    method: str
    redirect_url: str | None = None
    session_id: str | None = None
    bank_transfer: BankTransferOut | None = None


class PaymentOut(Answer):
    provider: str
    reference: str
    amount: int
    currency: str
    refunded: int
    refund_due: bool
    received_at: datetime


class MarkPaidResultOut(Answer):
    number: str
    outcome: str
    order_id: str | None = None
    status: str | None = None


class BulkMarkPaidOut(Answer):
    results: list[MarkPaidResultOut]
