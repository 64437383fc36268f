"""CORS for the storefront routes (docs/api.md).

Storefronts authenticate with bearer tokens in the Authorization header,
never cookies, so no credentials are allowed cross-origin.

API Gateway answers the preflight (OPTIONS) itself from the route's
CORSConfig, which can name one origin only. With one origin configured that
is the origin; with several the preflight says ``*`` (safe: no credentials,
and every route still checks its own token) and the actual answer, which
decides whether the page may read it, names the caller's origin only if it
is in SHOP_CORS_ORIGINS (``apply``, from the middleware).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from chalice import CORSConfig, Response

from chalicelib.config import cors_origins

_ALLOW_ORIGIN = "Access-Control-Allow-Origin"


@functools.cache
def storefront_cors() -> CORSConfig:
    origins = cors_origins()
    return CORSConfig(
        allow_origin=origins[0] if len(origins) == 1 else "*",
        allow_headers=["Idempotency-Key"],
        expose_headers=["X-Request-Id", "Location"],
        max_age=600,
    )


def apply(request_headers: Mapping[str, str], response: Response) -> None:
    """Name the caller's origin on a CORS route's answer, or no origin at all."""
    if _ALLOW_ORIGIN not in response.headers:
        return  # not a CORS route
    origin = next((v for k, v in request_headers.items() if k.lower() == "origin"), None)
    if origin in cors_origins():
        response.headers[_ALLOW_ORIGIN] = origin
    else:
        del response.headers[_ALLOW_ORIGIN]
    # Caches must not hand one origin's answer to another.
    response.headers["Vary"] = "Origin"
