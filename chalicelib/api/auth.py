"""Admin API keys: a Chalice (Lambda TOKEN) authorizer checks the bearer
key against hashed keys kept in an SSM SecureString parameter."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest

from chalicelib import bootstrap
from chalicelib.config import api_settings
from chalicelib.observability import logger

admin_auth = Blueprint(__name__)


def admin_key_hashes() -> list[str]:
    """The sha256 hex digests of the valid admin keys, cached per warm
    Lambda for ``admin_keys_cache_seconds`` (rotation takes that long)."""
    settings = api_settings()
    return bootstrap.secret_list(
        settings.admin_keys_parameter, max_age=settings.admin_keys_cache_seconds
    )


def is_admin_key(presented: str, hashes: list[str]) -> bool:
    digest = hashlib.sha256(presented.encode()).hexdigest()
    # Compare against every hash without stopping early, in constant time each.
    matches = [hmac.compare_digest(digest, known) for known in hashes]
    return any(matches)


@admin_auth.authorizer()
def admin_key_authorizer(auth_request: AuthRequest) -> AuthResponse:
    scheme, _, key = (auth_request.token or "").partition(" ")
    if scheme.lower() == "bearer" and key and is_admin_key(key.strip(), admin_key_hashes()):
        digest = hashlib.sha256(key.strip().encode()).hexdigest()
        # The principal names the key by a short hash prefix: enough to tell
        # keys apart in logs and history, useless to an attacker.
        return AuthResponse(routes=["*"], principal_id=f"merchant:{digest[:8]}")
    logger.warning("admin key rejected")
    return AuthResponse(routes=[], principal_id="anonymous")


def principal(context: dict[str, Any]) -> str:
    return str(context.get("authorizer", {}).get("principalId", "merchant"))


bootstrap.prepare_at_init(__name__, bootstrap.secure_parameters)
