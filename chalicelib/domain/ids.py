"""Identifiers and secrets for orders.

- The order id is a random UUID: unguessable, safe to put in URLs.
- The order number is for people (phone calls, bank transfer references):
  eight characters of Crockford's base32 (no I, L, O, U, so it reads aloud
  without ambiguity), e.g. ``7K3M-9Q2X``. It is random rather than sequential
  because a counter is one hot item every checkout must write (and an extra
  round trip), and sequential numbers tell competitors our sales volume.
  Uniqueness is enforced by the placement transaction itself.
- The order token authorises the storefront to read and cancel the order. It
  is an HMAC of the order id and a random per-order salt, keyed with the
  client's Idempotency-Key: a retried checkout (same key, same body) gets the
  same token back, yet the table only ever holds the token's SHA-256 hash and
  the key's hash, and nobody without the key (and the unpublished salt) can
  compute it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_id() -> str:
    return str(uuid.uuid4())


def new_order_number() -> str:
    chars = "".join(secrets.choice(_CROCKFORD) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def new_salt() -> str:
    return secrets.token_hex(16)


def order_token(idempotency_key: str, order_id: str, salt: str) -> str:
    digest = hmac.new(
        idempotency_key.encode(), f"order-token:{order_id}:{salt}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(sha256_hex(token), token_hash)
