"""Refunds the merchant makes outside our system: bank transfers (they send
the money back from their bank) and the generic HMAC provider (they refund
in that provider's dashboard; its ``payment.refunded`` callback confirms)."""

from __future__ import annotations

from chalicelib.services.ports import Checkout, CheckoutRequest, RefundResult


class ManualRefunds:
    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        raise NotImplementedError("manual payments have no hosted checkout")

    def refund(
        self, *, reference: str, amount: int | None, currency: str, idempotency_key: str
    ) -> RefundResult:
        # Nothing to call: the refund is recorded, and the history tells the
        # merchant to move the money.
        return RefundResult(refund_id=f"manual:{idempotency_key}", refunded_total=None)
