"""Stripe: Checkout Sessions and refunds through Stripe's REST API
(stripe_api.py, the standard library; why not the ``stripe`` library: see
there). Its signed webhook events are stripe_callbacks.py's: a checkout
loads neither their models nor the signature scheme."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import (
    NothingLeftToRefund,
    PaymentProviderUnavailable,
    RefundRejected,
)
from chalicelib.domain.order import PaymentMethod
from chalicelib.payments import STRIPE
from chalicelib.payments.stripe_api import StripeApiError
from chalicelib.services.ports import Checkout, CheckoutRequest, RefundResult

if TYPE_CHECKING:
    from chalicelib.payments.stripe_api import StripeApi

PROVIDER = STRIPE


def checkout_params(request: CheckoutRequest) -> dict[str, Any]:
    """The Checkout Session for an order: one line with the order's total
    (the prices were fixed at placement; Stripe must charge exactly that),
    and the order id on everything Stripe will send back to us."""
    order = request.order
    tags = {"order_id": order.id, "order_number": order.number}
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": order.id,
        "metadata": tags,
        "payment_intent_data": {"metadata": tags},
        "payment_method_types": [
            "paypal" if order.payment_method is PaymentMethod.PAYPAL else "card"
        ],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency.lower(),
                    "unit_amount": order.totals.total,
                    "product_data": {"name": f"Order {order.number}"},
                },
            }
        ],
        "customer_email": order.customer.email,
        "locale": order.locale,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    if request.expires_at is not None:
        params["expires_at"] = int(request.expires_at.timestamp())
    return params


class StripeProvider:
    """The PaymentProvider port on Stripe's API. ``client`` returns the
    StripeApi (lazily: the API key comes from SSM)."""

    def __init__(self, client: Callable[[], StripeApi]) -> None:
        self._client = client

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        try:
            session = self._client().create_checkout_session(
                checkout_params(request),
                # Stripe replays the first answer for 24 h: a retried
                # placement gets the same session, not a second one.
                idempotency_key=f"checkout:{request.order.id}",
            )
        except StripeApiError as exc:
            raise PaymentProviderUnavailable(
                "the payment provider did not answer; try again", provider=PROVIDER
            ) from exc
        session_id, url = session.get("id"), session.get("url")
        if not isinstance(session_id, str) or not isinstance(url, str):
            raise PaymentProviderUnavailable(
                "the payment provider's answer has no checkout page", provider=PROVIDER
            )
        return Checkout(session_id=session_id, redirect_url=url)

    def refund(
        self, *, reference: str, amount: int | None, currency: str, idempotency_key: str
    ) -> RefundResult:
        params: dict[str, Any] = {"payment_intent": reference, "expand": ["charge"]}
        if amount is not None:
            params["amount"] = amount  # absent: Stripe refunds what is left
        try:
            refund = self._client().create_refund(params, idempotency_key=idempotency_key)
        except StripeApiError as exc:
            if not exc.invalid_request:  # no answer, 5xx, rate limited, key in use, ...
                raise PaymentProviderUnavailable(
                    "the payment provider did not answer; try again", provider=PROVIDER
                ) from exc
            if exc.code == "charge_already_refunded":
                raise NothingLeftToRefund(
                    "the payment is refunded in full already", provider=PROVIDER
                ) from exc
            raise RefundRejected(
                "the payment provider refused the refund", provider=PROVIDER, code=exc.code
            ) from exc
        refund_id, charge = refund.get("id"), refund.get("charge")
        if not isinstance(refund_id, str):
            raise PaymentProviderUnavailable(
                "the payment provider's answer names no refund", provider=PROVIDER
            )
        total = charge.get("amount_refunded") if isinstance(charge, Mapping) else None
        return RefundResult(refund_id=refund_id, refunded_total=total)
