"""Our generic signed callback format, for payment providers without a
library. Documented in docs/payments.md:

    POST /webhooks/payments/hmac
    Shop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

    {"id": "<unique event id>", "type": "payment.succeeded" | "payment.failed"
     | "payment.refunded" | "checkout.expired", "created": <unix seconds>,
     "order_id": "<our order id>", "reference": "<the provider's payment id>",
     "amount": <minor units>, "currency": "EUR", "refunded_total": <minor units>,
     "reason": "<short code>"}
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from chalicelib.domain.errors import MalformedEvent
from chalicelib.domain.provider_events import PaymentEvent, PaymentEventKind
from chalicelib.payments import signing
from chalicelib.services.ports import VerifiedCallback

PROVIDER = "hmac"
SIGNATURE_HEADER = "shop-signature"

_KINDS = {
    "payment.succeeded": PaymentEventKind.SUCCEEDED,
    "payment.failed": PaymentEventKind.FAILED,
    "payment.refunded": PaymentEventKind.REFUNDED,
    "checkout.expired": PaymentEventKind.SESSION_EXPIRED,
}
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
Amount = Annotated[StrictInt, Field(ge=0, le=10**11)]


class HmacEventIn(BaseModel):
    # Fields may be added to the format later; unknown ones are ignored.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    id: Id
    type: Literal["payment.succeeded", "payment.failed", "payment.refunded", "checkout.expired"]
    created: Amount
    order_id: Id
    reference: Id | None = None
    amount: Amount | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    refunded_total: Amount | None = None
    reason: Annotated[str, Field(max_length=100)] | None = None


class HmacCallbacks:
    def __init__(
        self, secrets: Callable[[], Sequence[str]], tolerance: int = signing.TOLERANCE_SECONDS
    ) -> None:
        self._secrets = secrets
        self._tolerance = tolerance

    def verify(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> VerifiedCallback:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        signing.verify(raw_body, header, list(self._secrets()), now, self._tolerance)
        try:
            body = HmacEventIn.model_validate_json(raw_body)
        except ValidationError as exc:
            raise MalformedEvent("the body does not follow the documented format") from exc
        kind = _KINDS[body.type]
        needs = {
            PaymentEventKind.SUCCEEDED: ("reference", "amount", "currency"),
            PaymentEventKind.REFUNDED: ("reference", "amount", "currency", "refunded_total"),
        }.get(kind, ())
        missing = [name for name in needs if getattr(body, name) is None]
        if missing:
            raise MalformedEvent(f"a {body.type} event needs these fields", missing=missing)
        event = PaymentEvent(
            provider=PROVIDER,
            event_id=body.id,
            kind=kind,
            order_id=body.order_id,
            occurred_at=datetime.fromtimestamp(body.created, UTC),
            reference=body.reference,
            amount=body.amount,
            currency=body.currency,
            refunded_total=body.refunded_total,
            reason=body.reason,
        )
        return VerifiedCallback(event_id=body.id, event_type=body.type, event=event)
