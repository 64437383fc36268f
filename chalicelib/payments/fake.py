"""A fake payment provider for local runs and tests: Stripe's API replaced,
no network. Callbacks keep Stripe's exact event format and signature, so a
storefront developer exercises the same callback path they deploy.

- ``FakeStripe.start_checkout`` answers with a redirect to the dev server's
  pay page (``pay_page_url``/pay/<session id>).
- ``FakeStripe.pay`` and friends build Stripe events for an order (and
  remember the money, so refunds behave like Stripe's: never more than what
  is left); ``signed_request`` signs one as Stripe does. The dev page and the
  tests post the result to ``/webhooks/payments/stripe``.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import NothingLeftToRefund, PaymentProviderUnavailable, RefundRejected
from chalicelib.domain.order import Order
from chalicelib.services.ports import Checkout, CheckoutRequest, RefundResult

LOCAL_WEBHOOK_SECRET = "whsec_local"


@dataclass
class _Charge:
    """Money the fake provider holds for one payment intent."""

    order_id: str
    amount: int
    currency: str
    refunded: int = 0


@dataclass
class FakeStripe:
    """Stripe's API replaced, for the local stack and tests (module docstring)."""

    pay_page_url: str = "http://127.0.0.1:8001"
    charges: dict[str, _Charge] = field(default_factory=dict)  # by payment intent id
    refunds: dict[str, RefundResult] = field(default_factory=dict)  # by idempotency key
    refund_calls: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> order id
    failing: bool = False  # make the API "unavailable", to test retries
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the PaymentProvider port ------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        if self.failing:
            raise PaymentProviderUnavailable("the fake provider is failing", provider="stripe")
        session_id = session_id_for(request.order.id)
        self.sessions[session_id] = request.order.id
        return Checkout(session_id=session_id, redirect_url=f"{self.pay_page_url}/pay/{session_id}")

    def refund(
        self, *, reference: str, amount: int | None, currency: str, idempotency_key: str
    ) -> RefundResult:
        with self._lock:
            call: dict[str, Any] = {
                "reference": reference,
                "amount": amount,  # as asked; None: the rest
                "idempotency_key": idempotency_key,
            }
            self.refund_calls.append(call)
            if self.failing:
                raise PaymentProviderUnavailable("the fake provider is failing", provider="stripe")
            if idempotency_key in self.refunds:
                return self.refunds[idempotency_key]
            charge = self.charges.get(reference)
            if charge is None:
                raise RefundRejected("no such payment", provider="stripe", code="resource_missing")
            made = charge.amount - charge.refunded if amount is None else amount
            if charge.refunded >= charge.amount:
                raise NothingLeftToRefund(
                    "charge already refunded", provider="stripe", code="charge_already_refunded"
                )
            if made <= 0 or charge.refunded + made > charge.amount:
                raise RefundRejected(
                    "refund exceeds the charge", provider="stripe", code="charge_already_refunded"
                )
            charge.refunded += made
            call["made"] = made
            result = RefundResult(
                refund_id=f"re_fake_{secrets.token_hex(8)}", refunded_total=charge.refunded
            )
            self.refunds[idempotency_key] = result
            return result

    # --- what the pay page (and tests) do ----------------------------------------

    def pay(
        self,
        order: Order,
        *,
        amount: int | None = None,
        currency: str | None = None,
        event_type: str = "checkout.session.completed",
        created: int | None = None,
    ) -> dict[str, Any]:
        """The customer pays: the charge is made and its Stripe event built."""
        intent = f"pi_fake_{secrets.token_hex(8)}"
        amount = order.totals.total if amount is None else amount
        currency = currency or order.currency
        with self._lock:
            self.charges[intent] = _Charge(order.id, amount, currency)
        return session_event(
            event_type,
            order,
            created=created,
            payment_status="paid",
            amount=amount,
            currency=currency,
            payment_intent=intent,
        )

    def refund_in_dashboard(
        self, reference: str, amount: int, created: int | None = None
    ) -> dict[str, Any]:
        """The merchant refunds in Stripe's dashboard: ``charge.refunded``."""
        with self._lock:
            charge = self.charges[reference]
            charge.refunded = min(charge.amount, charge.refunded + amount)
            snapshot = _Charge(charge.order_id, charge.amount, charge.currency, charge.refunded)
        return charge_refunded_event(
            reference, snapshot.amount, snapshot.refunded, snapshot.currency, created=created
        )

    def refunded_total(self, reference: str) -> int:
        return self.charges[reference].refunded

    def captured_total(self, order_id: str) -> int:
        return sum(c.amount for c in self.charges.values() if c.order_id == order_id)


def session_id_for(order_id: str) -> str:
    return f"cs_fake_{order_id.replace('-', '')}"


def _event(event_type: str, obj: dict[str, Any], created: int | None) -> dict[str, Any]:
    return {
        "id": f"evt_fake_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2025-10-29.clover",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def session_event(
    event_type: str,
    order: Order,
    *,
    created: int | None = None,
    payment_status: str = "unpaid",
    amount: int | None = None,
    currency: str | None = None,
    payment_intent: str | None = None,
) -> dict[str, Any]:
    """A ``checkout.session.*`` event for the order's session."""
    session = {
        "id": session_id_for(order.id),
        "object": "checkout.session",
        "client_reference_id": order.id,
        "metadata": {"order_id": order.id, "order_number": order.number},
        "mode": "payment",
        "status": "expired" if event_type == "checkout.session.expired" else "complete",
        "payment_status": payment_status,
        "amount_total": order.totals.total if amount is None else amount,
        "currency": (currency or order.currency).lower(),
        "payment_intent": payment_intent,
    }
    return _event(event_type, session, created)


def payment_failed_event(order: Order, created: int | None = None) -> dict[str, Any]:
    intent = {
        "id": f"pi_fake_{secrets.token_hex(8)}",
        "object": "payment_intent",
        "amount": order.totals.total,
        "currency": order.currency.lower(),
        "metadata": {"order_id": order.id, "order_number": order.number},
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    return _event("payment_intent.payment_failed", intent, created)


def charge_refunded_event(
    payment_intent: str, amount: int, refunded_total: int, currency: str, created: int | None = None
) -> dict[str, Any]:
    # Like Stripe's, the charge carries no order id: the order is found
    # through the payment intent we recorded with the payment.
    charge = {
        "id": f"ch_fake_{payment_intent.removeprefix('pi_fake_')}",
        "object": "charge",
        "payment_intent": payment_intent,
        "amount": amount,
        "amount_refunded": refunded_total,
        "currency": currency.lower(),
        "refunded": refunded_total >= amount,
        "metadata": {},
    }
    return _event("charge.refunded", charge, created)


def signed_request(
    event: dict[str, Any], secret: str = LOCAL_WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the callback, signed as Stripe signs them."""
    # Imported here: the API function runs the fake's checkout (local stack),
    # never its callbacks, and a checkout's cold start should not load them.
    from chalicelib.payments import signing
    from chalicelib.payments.stripe_callbacks import event_json

    body = event_json(event)
    at = int(time.time()) if timestamp is None else timestamp
    return body, {
        "Content-Type": "application/json",
        "Stripe-Signature": signing.sign(secret, at, body),
    }
