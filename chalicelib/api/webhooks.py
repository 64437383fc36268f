"""Signed payment provider callbacks: verify, record, queue, answer fast."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import wiring
from chalicelib.api.contract import documented
from chalicelib.api.http import raw_body, route
from chalicelib.api.webhook_schemas import CallbackAckOut, ProviderEventIn
from chalicelib.domain import errors
from chalicelib.services import payment_callbacks

webhooks = Blueprint(__name__)


@route(webhooks, "/webhooks/payments/{provider}", methods=["POST"])
@documented(
    "A payment provider's signed event (Stripe's format, or our HMAC format)",
    description="Verified against the raw body, recorded once and queued; a repeated "
    "or stale event is acknowledged with 200 and changes nothing (`outcome`). A refund "
    "of a payment not known yet is 404 `payment_not_found` (the provider retries).",
    ok={200: CallbackAckOut},
    body=ProviderEventIn,
    auth=("stripe_signature", "hmac_signature"),
    errors=(
        errors.InvalidSignature,
        errors.StaleSignature,
        errors.MalformedEvent,
        errors.UnknownPaymentProvider,
        errors.PaymentNotFound,
    ),
    path_parameters={
        "provider": {"type": "string", "description": "stripe, hmac (fake: local stack only)"}
    },
)
def payment_callback(provider: str) -> dict[str, Any]:
    request = webhooks.current_request
    raw = raw_body(request)
    # The signature covers the exact bytes: the body is never re-serialised.
    ack = payment_callbacks.accept_callback(provider, raw, dict(request.headers), wiring.context())
    return CallbackAckOut(outcome=ack.outcome, event_id=ack.event_id).model_dump()
