"""The withdrawal routes' answers."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.api.withdrawal_schemas import (
    WithdrawableLineOut,
    WithdrawalOrderOut,
    WithdrawalOut,
    WithdrawnLineOut,
)
from chalicelib.domain import order_withdrawal
from chalicelib.domain.withdrawal import Withdrawal
from chalicelib.services.ports import OrderRecord


def withdrawal(w: Withdrawal) -> WithdrawalOut:
    return WithdrawalOut(
        id=w.id,
        received_at=w.received_at.isoformat(),
        lines=[
            WithdrawnLineOut(sku=x.sku, quantity=x.quantity, refund=x.refund, to_return=x.to_return)
            for x in w.lines
        ],
        full=w.full,
        currency=w.refund.currency,
        refund_goods=w.refund.goods,
        refund_delivery=w.refund.delivery,
        refund_total=w.refund.total,
        refund_due_at=w.refund_due_at.isoformat(),
        status="open" if w.refunded_at is None else "refunded",
        hold=w.hold.value,
        late=w.late,
    )


def order(record: OrderRecord, timezone: str) -> WithdrawalOrderOut:
    o = record.order
    withdrawn = order_withdrawal.withdrawn_quantities(o)
    period = order_withdrawal.period(o, record.shipments, ZoneInfo(timezone))
    return WithdrawalOrderOut(
        order_id=o.id,
        number=o.number,
        status=o.status.value,
        currency=o.currency,
        lines=[
            WithdrawableLineOut(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                withdrawable=line.quantity - withdrawn.get(line.sku, 0),
            )
            for line in o.lines
        ],
        period_ends_at=period.ends_at.isoformat() if period is not None else None,
        withdrawals=[withdrawal(w) for w in o.withdrawals],
    )


def received(record: OrderRecord, withdrawal_id: str, timezone: str) -> dict[str, Any]:
    found = order_withdrawal.find(record.order, withdrawal_id)
    return {
        "withdrawal": withdrawal(found).model_dump(mode="json"),
        "order": order(record, timezone).model_dump(mode="json"),
    }
