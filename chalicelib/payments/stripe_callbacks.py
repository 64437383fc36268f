"""Stripe's signed webhook events, checked by signing.py and read into the
payment events we act on. Apart from the provider (stripe_adapter.py): the
webhook function loads these models and the signature scheme, a checkout
neither."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.domain.errors import MalformedEvent
from chalicelib.domain.provider_events import PaymentEvent, PaymentEventKind
from chalicelib.payments import STRIPE as PROVIDER
from chalicelib.payments import signing
from chalicelib.services.ports import VerifiedCallback

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
