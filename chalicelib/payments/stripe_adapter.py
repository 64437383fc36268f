"""Stripe: Checkout Sessions and refunds through Stripe's REST API
(stripe_api.py, the standard library; why not the ``stripe`` library: see
there), and Stripe's signed webhook events, checked by signing.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.domain.errors import (
    MalformedEvent,
    NothingLeftToRefund,
    PaymentProviderUnavailable,
    RefundRejected,
)
from chalicelib.domain.order import PaymentMethod
from chalicelib.domain.payments import PaymentEvent, PaymentEventKind
from chalicelib.payments import signing
from chalicelib.payments.stripe_api import StripeApiError
from chalicelib.services.ports import Checkout, CheckoutRequest, RefundResult, VerifiedCallback

if TYPE_CHECKING:
    from chalicelib.payments.stripe_api import StripeApi

PROVIDER = "stripe"
SIGNATURE_HEADER = "stripe-signature"

#: The event types we act on; others are acknowledged and ignored.
HANDLED_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.payment_failed",
    "charge.refunded",
)


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


# --- webhooks -------------------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class _Session(_Loose):
    id: str
    client_reference_id: str | None = None
    metadata: dict[str, str] = {}
    payment_status: str | None = None
    amount_total: int | None = None
    currency: str | None = None
    payment_intent: str | None = None


class _LastError(_Loose):
    code: str | None = None
    decline_code: str | None = None


class _PaymentIntent(_Loose):
    id: str
    metadata: dict[str, str] = {}
    amount: int | None = None
    currency: str | None = None
    last_payment_error: _LastError | None = None


class _Charge(_Loose):
    id: str
    payment_intent: str | None = None
    metadata: dict[str, str] = {}
    amount: int
    amount_refunded: int
    currency: str


class _Data(_Loose):
    object: dict[str, Any]


class _Event(_Loose):
    id: str
    type: str
    created: int
    data: _Data


class StripeCallbacks:
    """The CallbackVerifier port for Stripe's ``Stripe-Signature`` scheme
    (signing.py: HMAC-SHA256 over ``<t>.<body>``), every active secret tried
    (rotation: old and new secret both valid for a while); the timestamp
    against our clock, in both directions. tests/unit/test_payment_signing.py
    proves it accepts exactly what the stripe library accepts."""

    def __init__(
        self, secrets: Callable[[], Sequence[str]], tolerance: int = signing.TOLERANCE_SECONDS
    ) -> None:
        self._secrets = secrets
        self._tolerance = tolerance

    def verify(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> VerifiedCallback:
        signing.verify(
            raw_body, _header(headers, SIGNATURE_HEADER), self._secrets(), now, self._tolerance
        )
        try:
            payload = raw_body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEvent("the body is not a Stripe event") from exc
        return parse_event(payload)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_event(payload: str) -> VerifiedCallback:
    """A verified Stripe event body to our normalised event."""
    try:
        event = _Event.model_validate_json(payload)
    except ValidationError as exc:
        raise MalformedEvent("the body is not a Stripe event") from exc
    try:
        normalised = _normalise(event)
    except (ValidationError, ValueError) as exc:
        raise MalformedEvent("the event's object is not what its type promises") from exc
    return VerifiedCallback(event_id=event.id, event_type=event.type, event=normalised)


def _normalise(event: _Event) -> PaymentEvent | None:
    at = datetime.fromtimestamp(event.created, UTC)
    obj = event.data.object

    def make(kind: PaymentEventKind, order_id: str | None, **fields: Any) -> PaymentEvent | None:
        return PaymentEvent(
            provider=PROVIDER,
            event_id=event.id,
            kind=kind,
            order_id=order_id or "",
            occurred_at=at,
            **fields,
        )

    if event.type.startswith("checkout.session.") and event.type in HANDLED_EVENTS:
        session = _Session.model_validate(obj)
        order_id = session.client_reference_id or session.metadata.get("order_id")
        if not order_id:
            return None  # a session some other integration created
        if event.type == "checkout.session.expired":
            return make(PaymentEventKind.SESSION_EXPIRED, order_id)
        if event.type == "checkout.session.async_payment_failed":
            return make(PaymentEventKind.FAILED, order_id, reason="async_payment_failed")
        if session.payment_status != "paid":
            # Completed with a method that settles later (e.g. SEPA debit):
            # async_payment_succeeded or _failed follows.
            return make(PaymentEventKind.PROCESSING, order_id)
        if session.amount_total is None or not session.currency or not session.payment_intent:
            raise ValueError("a paid session needs amount_total, currency and payment_intent")
        return make(
            PaymentEventKind.SUCCEEDED,
            order_id,
            reference=session.payment_intent,
            amount=session.amount_total,
            currency=session.currency.upper(),
        )
    if event.type == "payment_intent.payment_failed":
        intent = _PaymentIntent.model_validate(obj)
        error = intent.last_payment_error
        reason = (error.decline_code or error.code) if error else None
        order_id = intent.metadata.get("order_id")
        return make(PaymentEventKind.FAILED, order_id, reason=reason) if order_id else None
    if event.type == "charge.refunded":
        charge = _Charge.model_validate(obj)
        if not charge.payment_intent:
            return None  # a charge made outside Checkout
        return make(
            PaymentEventKind.REFUNDED,
            charge.metadata.get("order_id"),
            reference=charge.payment_intent,
            amount=charge.amount,
            currency=charge.currency.upper(),
            refunded_total=charge.amount_refunded,
        )
    return None


def event_json(event: dict[str, Any]) -> bytes:
    """The body as Stripe would send it (compact JSON)."""
    return json.dumps(event, separators=(",", ":")).encode()
