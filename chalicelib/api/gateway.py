"""The answers API Gateway gives itself, before any function runs, in our
error shape: the admin authorizer's 401 and 403, unknown paths.

The deployment sets them as gateway responses (``gateway_responses``, for
infrastructure/); the local stack rewrites chalice local's own answers with
``error_body`` (local/stack.py), so the contract holds in both places.
"""

from __future__ import annotations

import json
from typing import Any

#: API Gateway response type -> (status, code, message).
GATEWAY_ERRORS: dict[str, tuple[int, str, str]] = {
    "UNAUTHORIZED": (401, "unauthorized", "send an admin key as `Authorization: Bearer <key>`"),
    "ACCESS_DENIED": (403, "forbidden", "this admin key is not valid"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "no such route"),
    "DEFAULT_5XX": (500, "internal_error", "something went wrong on our side"),
}


def error_body(status: int, request_id: str) -> bytes:
    """Our JSON error body for a gateway answer of this status."""
    code, message = next(
        ((c, m) for s, c, m in GATEWAY_ERRORS.values() if s == status),
        ("error", "request failed"),
    )
    return json.dumps(
        {"error": {"code": code, "message": message, "details": {}, "request_id": request_id}}
    ).encode()


def gateway_responses() -> dict[str, dict[str, Any]]:
    """AWS::ApiGateway::GatewayResponse properties per response type."""
    return {
        kind: {
            "StatusCode": str(status),
            "ResponseParameters": {
                "gatewayresponse.header.X-Request-Id": "context.requestId",
            },
            "ResponseTemplates": {
                "application/json": json.dumps(
                    {
                        "error": {
                            "code": code,
                            "message": message,
                            "details": {},
                            "request_id": "$context.requestId",
                        }
                    }
                )
            },
        }
        for kind, (status, code, message) in GATEWAY_ERRORS.items()
    }
