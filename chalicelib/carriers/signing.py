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

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.errors import DomainError

TOLERANCE_SECONDS = 300
HEADER = "carrier-signature"


class InvalidCarrierSignature(DomainError):
    code = "invalid_signature"


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    return hmac.new(
        secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256
    ).hexdigest()


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The header value for ``raw_body`` signed at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, raw_body)}"


def verify(
    raw_body: bytes,
    header: str | None,
    secrets: Sequence[str],
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise InvalidCarrierSignature unless an active secret signed this body
    within the tolerance window."""
    timestamp: int | None = None
    presented: list[str] = []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        # ASCII digits only: "²".isdigit() is true, and int() refuses it.
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            presented.append(value)
    if timestamp is None or not presented:
        raise InvalidCarrierSignature("send `Carrier-Signature: t=<unix seconds>,v1=<hex hmac>`")
    matched = False
    for secret in secrets:
        expected = signature(secret, timestamp, raw_body)
        for candidate in presented:
            # No early exit: every pair is compared, each in constant time.
            matched |= hmac.compare_digest(expected, candidate)
    if not secrets or not matched:
        raise InvalidCarrierSignature("the signature does not match")
    # Checked after the signature, so the answer says nothing about the
    # timestamp to someone who cannot sign.
    if abs(now.timestamp() - timestamp) > tolerance:
        raise InvalidCarrierSignature(
            "the signature timestamp is outside the tolerance window",
            tolerance_seconds=tolerance,
        )


def webhook_secrets() -> list[str]:
    """The active signing secrets (SSM, cached per warm Lambda): a JSON list
    of secrets while rotating, or one secret as plain text."""
    from aws_lambda_powertools.utilities import parameters

    from chalicelib.config import get_settings

    settings = get_settings()
    value = str(
        parameters.get_parameter(
            settings.carrier_webhook_secrets_parameter,
            decrypt=True,
            max_age=settings.carrier_secrets_cache_seconds,
        )
    )
    return parse_secrets(value)


def parse_secrets(value: str) -> list[str]:
    import json

    if value.lstrip().startswith("["):
        return [str(s) for s in json.loads(value) if str(s)]
    return [value.strip()] if value.strip() else []
