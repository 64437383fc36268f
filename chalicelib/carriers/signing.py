"""The signed generic tracking-event format (docs/fulfilment.md).

The carrier (or shipping integrator) signs the raw request body:

    Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

the same timestamped scheme Stripe uses and our payment callbacks reuse. The
timestamp must be within ``TOLERANCE_SECONDS`` of our clock (either way), so
a captured request cannot be replayed later; within the window a replay is
caught by the event id, which each change claims once. Several secrets may
be active while one is rotated; every pair is compared in constant time.

``CarrierCallbacks`` is handed the way to read the active secrets
(bootstrap: the SSM parameter, cached per warm Lambda), as the payment
callback verifiers are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from chalicelib.domain.errors import InvalidCarrierSignature, InvalidSignature, StaleSignature
from chalicelib.payments import signing as scheme

TOLERANCE_SECONDS = scheme.TOLERANCE_SECONDS
HEADER = "carrier-signature"


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


class CarrierCallbacks:
    """Checks carrier callbacks against the secrets ``secrets`` returns when
    asked (read per request, so a rotation arrives with the cache's age)."""

    def __init__(
        self, secrets: Callable[[], Sequence[str]], tolerance: int = TOLERANCE_SECONDS
    ) -> None:
        self._secrets = secrets
        self._tolerance = tolerance

    def verify(self, raw_body: bytes, header: str | None, now: datetime) -> None:
        """Raise InvalidCarrierSignature unless an active secret signed this
        body within the tolerance window."""
        verify(raw_body, header, list(self._secrets()), now, self._tolerance)
