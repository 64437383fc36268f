"""The OpenAPI 3.1 document, generated from the app's routes and the very
pydantic models their handlers parse and answer with.

Each route declares its operation with ``api.contract.documented``; this
module walks ``app.routes`` and turns those declarations into the document.
Request bodies are documented in pydantic's validation mode, responses in
its serialization mode, all as components referenced by
``#/components/schemas/<Model>``. It runs in ``make openapi``
(local/openapi.py) only: the Lambda serves the document it wrote
(chalicelib/api/docs.py) and ships none of this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.contract import CSV, HTML, XML, Header, Operation, operation_of

OPENAPI_VERSION = "3.1.0"
INFO = {
    "title": "Shop orders API",
    "version": "1.0.0",
    "summary": "Carts, checkout and order status for storefronts; the merchant's admin API.",
    "description": (
        "Money is in integer minor units with an ISO 4217 currency. Every answer carries "
        'an `X-Request-Id` header; every error answer is the JSON body `{"error": {"code", '
        '"message", "details", "request_id"}}` (`ErrorOut`). Paths are a contract; response '
        "bodies may gain fields, so clients ignore fields they do not know. The events we "
        "publish are documented in docs/events.md and docs/events.schema.json."
    ),
}

REF_TEMPLATE = "#/components/schemas/{model}"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "order_token": {
        "type": "http",
        "scheme": "bearer",
        "description": "the order's secret `token`, returned once by POST /orders",
    },
    "cart_token": {
        "type": "http",
        "scheme": "bearer",
        "description": "the cart's secret `token`, returned once by POST /carts",
    },
    "admin_key": {
        "type": "http",
        "scheme": "bearer",
        "description": "a merchant API key (locally: `local-admin-key`)",
    },
    "stripe_signature": {
        "type": "apiKey",
        "in": "header",
        "name": "Stripe-Signature",
        "description": "Stripe's webhook signature: `t=<unix time>,v1=<HMAC-SHA256 hex>` "
        "over `<t>.<raw body>` with the endpoint's signing secret",
    },
    "hmac_signature": {
        "type": "apiKey",
        "in": "header",
        "name": "Shop-Signature",
        "description": "our generic format: `t=<unix time>,v1=<HMAC-SHA256 hex>` over "
        "`<t>.<raw body>` with the shared secret; refused outside the tolerance window",
    },
    "carrier_signature": {
        "type": "apiKey",
        "in": "header",
        "name": "Carrier-Signature",
        "description": "`t=<unix time>,v1=<HMAC-SHA256 hex>` over `<t>.<raw body>` with the "
        "carrier's shared secret (docs/fulfilment.md)",
    },
}

_STRING = {"type": "string", "minLength": 1, "maxLength": 200}
#: Path parameters by name, shared by every route that uses the name.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "sku": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
    "order_id": {**_STRING, "description": "the order's id (a UUID)"},
    "cart_id": {**_STRING, "description": "the cart's id (a UUID)"},
    "token": {**_STRING, "description": "the opt-out token from the email's link"},
}

# What the kinds of request can fail with, besides what each route declares.
_BODY_ERRORS = {
    400: "malformed_json: the body is not JSON",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error: `details.fields` names each invalid field",
}
# api/http.py parse_query: each parameter once, then the model's bounds.
_QUERY_ERRORS = {
    400: "repeated_query_parameter: a query parameter was given more than once",
    422: "validation_error: `details.fields` names each invalid parameter",
}
_AUTH_ERRORS: dict[str, dict[int, str]] = {
    "order_token": {401: "unauthorized: no `Authorization: Bearer <order token>`"},
    "cart_token": {401: "unauthorized: no `Authorization: Bearer <cart token>`"},
    "admin_key": {
        401: "unauthorized: no Authorization header",
        403: "forbidden: the admin key is not valid",
    },
    # The webhook routes declare their signature errors (400, api/errors.py).
    "stripe_signature": {},
    "hmac_signature": {},
    "carrier_signature": {},
}
# Any route that reads or writes the table may find it throttling us.
_SERVER_ERROR = {
    500: "internal_error",
    503: "temporarily_unavailable: nothing was changed; send the same request again "
    "after Retry-After seconds",
}

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class UndocumentedRoute(Exception):
    """A route has no ``@documented`` declaration."""


@dataclass(frozen=True)
class RouteInfo:
    path: str
    method: str
    view: Callable[..., Any]
    operation: Operation | None
    authorizer: Any
    cors: Any

    @property
    def name(self) -> str:
        module = getattr(self.view, "__module__", "?")
        return f"{self.method} {self.path} ({module}.{self.view.__name__})"


def routes(app: Any) -> Iterator[RouteInfo]:
    """Every HTTP route of a Chalice app with its declared operation; the
    back office's pages (docs/back-office.md) are not operations of the API."""
    from chalicelib.api.routes import PAGES_PREFIX

    for path, methods in sorted(app.routes.items()):
        if path == PAGES_PREFIX or path.startswith(PAGES_PREFIX + "/"):
            continue
        for method, entry in sorted(methods.items()):
            yield RouteInfo(
                path=path,
                method=method,
                view=entry.view_function,
                operation=operation_of(entry.view_function),
                authorizer=entry.authorizer,
                cors=entry.cors,
            )


def build_document(app: Any) -> dict[str, Any]:
    found = list(routes(app))
    missing = [r.name for r in found if r.operation is None]
    if missing:
        raise UndocumentedRoute(
            "routes without @documented(...) (api/contract.py): " + ", ".join(missing)
        )
    models = _models([r.operation for r in found if r.operation])
    refs, defs = models_json_schema(models, ref_template=REF_TEMPLATE)
    ref_of = {model: refs[(model, mode)] for model, mode in models}

    paths: dict[str, dict[str, Any]] = {}
    for r in found:
        assert r.operation is not None
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, r.operation, ref_of)
    return {
        "openapi": OPENAPI_VERSION,
        "info": INFO,
        "tags": _tags(paths),
        "paths": paths,
        "components": {
            "schemas": dict(sorted(defs.get("$defs", {}).items())),
            "securitySchemes": SECURITY_SCHEMES,
            "headers": {
                "X-Request-Id": {
                    "description": "this request's id; also in every error body; quote it "
                    "when you ask us about a request",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                }
            },
        },
    }


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], Any]]:
    from chalicelib.api.schemas import ErrorOut

    seen: dict[tuple[type[BaseModel], str], None] = {(ErrorOut, "serialization"): None}
    for op in operations:
        if op.body is not None:
            seen[(op.body, "validation")] = None
        for model in op.ok.values():
            if isinstance(model, type) and issubclass(model, BaseModel):
                seen[(model, "serialization")] = None
    return list(seen)


def error_statuses(op: Operation) -> dict[int, list[str]]:
    """Every error status the operation can answer, with what each means."""
    from chalicelib.api.errors import status_of

    statuses: dict[int, list[str]] = {}

    def add(found: Mapping[int, str]) -> None:
        for status, meaning in found.items():
            if meaning not in statuses.setdefault(status, []):
                statuses[status].append(meaning)

    if op.body is not None:
        add(_BODY_ERRORS)
    if op.query is not None:
        add(_QUERY_ERRORS)
    for scheme in op.auth:
        add(_AUTH_ERRORS[scheme])
    for header in op.headers:
        if header.required:
            add({400: f"missing or invalid {header.name} header"})
    for error in op.errors:
        if isinstance(error, int):
            add({error: _REASONS.get(error, "error").lower()})
        else:
            status = status_of(error)
            add({status: str(getattr(error, "code", error.__name__))})
    add(_SERVER_ERROR)
    return dict(sorted(statuses.items()))


def _operation(r: RouteInfo, op: Operation, ref_of: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": r.view.__name__,
        "summary": op.summary,
        "tags": list(op.tags or _default_tags(r.path)),
    }
    if op.description:
        out["description"] = op.description
    parameters = [_path_parameter(name, op) for name in _path_names(r.path)]
    parameters += _query_parameters(op)
    parameters += [_header_parameter(h) for h in op.headers]
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        schema = ref_of[op.body]
        out["requestBody"] = {
            "required": op.body_required,
            "content": {media: {"schema": schema} for media in op.body_media_types},
        }
    responses: dict[str, Any] = {}
    for status, model in sorted(op.ok.items()):
        responses[str(status)] = _success(status, model, ref_of)
    for status, meanings in error_statuses(op).items():
        headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
        if status in (429, 503):
            headers["Retry-After"] = {
                "description": "seconds to wait before sending the request again"
                + (" (the client's window ends then)" if status == 429 else ""),
                "schema": {"type": "integer", "minimum": 1},
            }
        responses[str(status)] = {
            "description": "; ".join(meanings),
            "headers": headers,
            "content": {"application/json": {"schema": ref_of[_error_model()]}},
        }
    out["responses"] = responses
    if op.auth:
        out["security"] = [{scheme: []} for scheme in op.auth]
    else:
        out["security"] = []
    return out


def _error_model() -> type[BaseModel]:
    from chalicelib.api.schemas import ErrorOut

    return ErrorOut


def _success(status: int, model: Any, ref_of: Mapping[Any, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _REASONS.get(status, "OK"),
        "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    }
    if status == 201:
        response["headers"]["Location"] = {
            "description": "the created resource",
            "schema": {"type": "string"},
        }
    if status == 302:
        response["headers"]["Location"] = {
            "description": "where the answer is: a presigned link, valid briefly",
            "schema": {"type": "string"},
        }
    if model in (HTML, XML, CSV):
        response["content"] = {model: {"schema": {"type": "string"}}}
    elif model is not None:
        response["content"] = {"application/json": {"schema": ref_of[model]}}
    return response


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _path_parameter(name: str, op: Operation) -> dict[str, Any]:
    schema = op.path_parameters.get(name) or PATH_PARAMETERS.get(name) or _STRING
    return {"name": name, "in": "path", "required": True, "schema": dict(schema)}


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    if isinstance(op.query, type) and issubclass(op.query, BaseModel):
        # Query values arrive as strings: each property is a parameter of its own.
        schema = op.query.model_json_schema(ref_template=REF_TEMPLATE)
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
    else:
        required, properties = set(), dict(op.query)
    parameters = []
    for name, declared in properties.items():
        parameter = {"name": name, "in": "query", "required": name in required}
        schema_of = {k: v for k, v in declared.items() if k != "title"}
        if "description" in schema_of:
            parameter["description"] = schema_of.pop("description")
        parameter["schema"] = schema_of
        parameters.append(parameter)
    return parameters


def _header_parameter(header: Header) -> dict[str, Any]:
    return {
        "name": header.name,
        "in": "header",
        "required": header.required,
        "description": header.description,
        "schema": dict(header.schema),
    }


def _default_tags(path: str) -> tuple[str, ...]:
    first, _, rest = path.strip("/").partition("/")
    if first in ("admin", "webhooks") and rest:
        return (f"{first}: {rest.split('/')[0]}",)
    return (first,)


def _tags(paths: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    names = sorted({tag for ops in paths.values() for op in ops.values() for tag in op["tags"]})
    return [{"name": name} for name in names]
