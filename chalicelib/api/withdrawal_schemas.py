"""Bodies of the withdrawal routes (docs/withdrawal.md)."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StrictInt, model_validator

from chalicelib.api.bodies import Answer, Request, Sku
from chalicelib.api.schemas import Email, LineIn
from chalicelib.domain.order import MAX_LINE_QUANTITY, MAX_ORDER_LINES

OrderNumber = Annotated[str, Field(pattern=r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")]


class OrderReferenceIn(Request):
    """The order: `order_id` with `token` (the order page's link), or
    `number` with `email` (from the confirmation email)."""

    order_id: (
        Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[0-9a-zA-Z_-]+$")] | None
    ) = None
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{20,200}$")] | None = None
    number: OrderNumber | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        by_token = self.order_id is not None and self.token is not None
        by_number = self.number is not None and self.email is not None
        given = [
            f for f in ("order_id", "token", "number", "email") if getattr(self, f) is not None
        ]
        if by_token == by_number or len(given) != 2:
            raise ValueError("send `order_id` with `token`, or `number` with `email`")
        return self


class WithdrawalLineIn(Request):
    sku: Sku
    quantity: StrictInt = Field(ge=1, le=MAX_LINE_QUANTITY)


class WithdrawIn(OrderReferenceIn):
    scope: Literal["order", "lines"] = Field(description="the whole order, or `lines`")
    lines: list[WithdrawalLineIn] | None = Field(
        default=None, min_length=1, max_length=MAX_ORDER_LINES, description="with scope `lines`"
    )
    confirm: Literal[True] = Field(description="the customer confirmed the withdrawal")

    @model_validator(mode="after")
    def _lines_with_scope(self) -> Self:
        if (self.scope == "lines") != (self.lines is not None):
            raise ValueError("`lines` goes with scope `lines`, and only with it")
        return self


class AcceptWithdrawalIn(Request):
    lines: list[LineIn] | None = Field(
        default=None, min_length=1, max_length=MAX_ORDER_LINES, description="none: all that is left"
    )
    sent_at: AwareDatetime | None = Field(
        default=None, description="when the customer sent the declaration (a letter)"
    )


class ReleaseIn(Request):
    reason: Literal["proof_of_dispatch", "goods_returned"] = Field(
        default="proof_of_dispatch", description="what arrived"
    )


class WithdrawableLineOut(Answer):
    sku: str
    name: str
    quantity: int
    withdrawable: int = Field(description="not withdrawn yet")


class WithdrawnLineOut(Answer):
    sku: str
    quantity: int
    refund: int
    to_return: int


class WithdrawalOut(Answer):
    id: str
    received_at: str
    lines: list[WithdrawnLineOut]
    full: bool
    currency: str
    refund_goods: int
    refund_delivery: int
    refund_total: int
    refund_due_at: str
    status: Literal["open", "refunded"]
    hold: Literal["none", "awaiting_return", "released"]
    late: bool


class WithdrawalOrderOut(Answer):
    order_id: str
    number: str
    status: str
    currency: str
    lines: list[WithdrawableLineOut]
    period_ends_at: str | None = Field(description="null: the goods have not all arrived yet")
    withdrawals: list[WithdrawalOut]


class WithdrawalReceivedOut(Answer):
    withdrawal: WithdrawalOut
    order: WithdrawalOrderOut
