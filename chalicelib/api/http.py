"""Small helpers every view uses: routing with error mapping, body parsing,
headers. They keep each view to parse -> call one service -> map."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint
from chalice.app import Request
from pydantic import BaseModel

from chalicelib.api.errors import RequestError, json_errors
from chalicelib.config import api_settings

M = TypeVar("M", bound=BaseModel)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{16,200}$")


def route(
    bp: Blueprint, path: str, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``bp.route`` with every exception mapped to the JSON error body."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        return bp.route(path, **options)(json_errors(view))

    return register


def raw_body(request: Request) -> bytes:
    """The body's bytes as sent, refused with 413 over the limit before
    anything (parsing, a signature's HMAC) looks at them."""
    raw = request.raw_body or b""
    raw = raw if isinstance(raw, bytes) else raw.encode()
    limit = api_settings().max_body_bytes
    if len(raw) > limit:
        raise RequestError(413, "body_too_large", "the request body is too large", max_bytes=limit)
    return raw


def parse_body(request: Request, model: type[M], *, allow_empty: bool = False) -> M:
    raw = raw_body(request)
    if not raw.strip() and allow_empty:
        raw = b"{}"
    return model.model_validate_json(raw)


def parse_query(request: Request, model: type[M]) -> M:
    """The query parameters, each given once, as ``model``."""
    params: Any = request.query_params or {}
    repeated = sorted(name for name in params if len(params.getlist(name)) > 1)
    if repeated:
        # Silently taking one of them could hide a filter the caller meant.
        raise RequestError(
            400,
            "repeated_query_parameter",
            "give each query parameter once",
            parameters=repeated,
        )
    return model.model_validate({name: params[name] for name in params})


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RequestError(
            401, "unauthorized", "send the order's token as `Authorization: Bearer <token>`"
        )
    return token.strip()


def idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    if not key:
        raise RequestError(
            400, "missing_idempotency_key", "send an Idempotency-Key header (e.g. a UUID)"
        )
    if not _IDEMPOTENCY_KEY.match(key):
        raise RequestError(
            400,
            "invalid_idempotency_key",
            "the Idempotency-Key must be 16 to 200 printable ASCII characters",
        )
    return key
