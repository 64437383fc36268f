"""The timestamped HMAC-SHA256 signature scheme Stripe documents, which our
generic HMAC format reuses: header ``t=<unix seconds>,v1=<hex>``, where the
signature is HMAC-SHA256(secret, "<t>.<raw body>"). Several ``v1`` values
may be present (the sender rotating), and several secrets may be active on
our side (we are rotating); one match of any pair is enough."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import InvalidSignature, StaleSignature

#: Stripe's default, and ours for the HMAC format.
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class SignatureHeader:
    """A parsed ``t=...,v1=...`` signature header."""

    timestamp: int
    signatures: tuple[str, ...]


def parse_header(header: str | None) -> SignatureHeader:
    """Read the header as Stripe's own libraries read it (tests compare
    verdicts with stripe-python): the first ``t`` counts, every ``v1`` is a
    candidate, other schemes (``v0``) and unknown entries are ignored."""
    if not header:
        raise InvalidSignature("the signature header is missing")
    found: dict[str, list[str]] = {"t": [], "v1": []}
    for part in header.split(","):
        name, equals, rest = part.partition("=")
        if name in found:
            if not equals:
                raise InvalidSignature("the signature header has an entry without a value")
            found[name].append(rest.split("=", 1)[0])
    try:
        timestamp = int(found["t"][0])
    except (IndexError, ValueError):
        timestamp = None
    signatures = tuple(value for value in found["v1"] if value)
    if timestamp is None or not signatures:
        raise InvalidSignature("the signature header needs t=<timestamp> and v1=<signature>")
    return SignatureHeader(timestamp, signatures)


def check_timestamp(header: SignatureHeader, now: datetime, tolerance: int) -> None:
    # Both directions: a timestamp from the future is as suspect as an old one.
    if abs(now.timestamp() - header.timestamp) > tolerance:
        raise StaleSignature(
            "the signature timestamp is outside the tolerance window", tolerance_seconds=tolerance
        )


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    signed = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The header value for ``raw_body`` signed at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, raw_body)}"


def verify(
    raw_body: bytes,
    header_value: str | None,
    secrets: Sequence[str],
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise unless one active secret signed this body within the window."""
    header = parse_header(header_value)
    # A blank secret (a slip in the SSM list) would let anyone sign: never
    # use one. The stripe library refuses blank secrets the same way.
    active = [secret for secret in secrets if secret.strip(" \t\r\n\f\v")]
    matched = False
    for secret in active:
        expected = signature(secret, header.timestamp, raw_body)
        for presented in header.signatures:
            # No early exit: every pair is compared, each in constant time.
            # As bytes: compare_digest refuses str with non-ASCII characters.
            matched |= hmac.compare_digest(expected.encode(), presented.encode())
    if not active or not matched:
        raise InvalidSignature("the signature does not match")
    check_timestamp(header, now, tolerance)
