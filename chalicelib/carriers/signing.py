"""The signed generic tracking-event format (docs/fulfilment.md).

The carrier (or shipping integrator) signs the raw request body:

    Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

the same timestamped scheme Stripe uses and our payment callbacks reuse. The
timestamp must be within ``TOLERANCE_SECONDS`` of our clock (either way), so
a captured request cannot be replayed later; within the window a replay is
caught by the event id, which each change claims once. Several secrets may
be active while one is rotated; every pair is compared in constant time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.errors import DomainError
from chalicelib.payments import signing as scheme
from chalicelib.payments.ports import InvalidSignature, StaleSignature

TOLERANCE_SECONDS = scheme.TOLERANCE_SECONDS
HEADER = "carrier-signature"


class InvalidCarrierSignature(DomainError):
    code = "invalid_signature"


#: The scheme is the payment callbacks' one (payments/signing.py): one
#: implementation, read exactly as Stripe reads its header, with blank
#: secrets never used and malformed headers refused, not crashed on.
signature = scheme.signature
sign = scheme.sign


def verify(
    raw_body: bytes,
    header: str | None,
    secrets: Sequence[str],
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise InvalidCarrierSignature unless an active secret signed this body
    within the tolerance window."""
    if not header:
        raise InvalidCarrierSignature("send `Carrier-Signature: t=<unix seconds>,v1=<hex hmac>`")
    try:
        scheme.verify(raw_body, header, secrets, now, tolerance)
    except StaleSignature as exc:
        # Checked after the signature, so the answer says nothing about the
        # timestamp to someone who cannot sign.
        raise InvalidCarrierSignature(
            "the signature timestamp is outside the tolerance window",
            tolerance_seconds=tolerance,
        ) from exc
    except InvalidSignature as exc:
        raise InvalidCarrierSignature(exc.message) from exc


def webhook_secrets() -> list[str]:
    """The active signing secrets (SSM, cached per warm Lambda): a JSON list
    of secrets while rotating, or one secret as plain text."""
    from chalicelib import bootstrap
    from chalicelib.config import service_settings

    settings = service_settings()
    value = str(
        bootstrap.secret_parameter(
            settings.carrier_webhook_secrets_parameter,
            max_age=settings.carrier_secrets_cache_seconds,
        )
    )
    return parse_secrets(value)


def parse_secrets(value: str) -> list[str]:
    import json

    if value.lstrip().startswith("["):
        return [str(s) for s in json.loads(value) if str(s).strip()]
    return [value.strip()] if value.strip() else []
