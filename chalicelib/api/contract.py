"""How a route documents itself for the OpenAPI document (docs/api.md).

One declaration under the route, next to the handler it describes::

    @route(storefront, "/products/{sku}", methods=["GET"])
    @documented(
        "A product's price and availability",
        ok={200: ProductOut},
        errors=(ProductNotFound,),
    )
    def get_product(sku: str) -> dict[str, Any]: ...

``errors`` names the domain errors the route can raise; their HTTP statuses
come from the one table in api/errors.py, so the document cannot drift from
what the route answers. The errors every route of a kind can answer (a
malformed body, a missing token, a rejected admin key, 500) are added by
the generator (local/openapi_document.py) from ``body``, ``auth`` and ``headers``.

This module is imported by every route module at cold start: it only
records the declaration. Schemas are built by `make openapi` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])

#: Who may call an operation: the security schemes of the document.
Auth = Literal[
    "order_token",
    "cart_token",
    "admin_key",
    "stripe_signature",
    "hmac_signature",
    "carrier_signature",
]

#: A response body that is an HTML page rather than JSON.
HTML = "text/html"
#: A response body that is an XML document (the e-invoice).
XML = "application/xml"
#: A response body that is a CSV file (the month's journal).
CSV = "text/csv"


@dataclass(frozen=True)
class Header:
    """A request header an operation reads (besides Authorization)."""

    name: str
    description: str
    required: bool = True
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    "a unique key per logical request (e.g. a UUID); a retry with the same key and "
    "body returns the first answer instead of placing a second order",
    schema={"type": "string", "pattern": "^[\\x21-\\x7e]{16,200}$"},
)


@dataclass(frozen=True)
class Operation:
    """What a route declares about itself for the OpenAPI document."""

    summary: str
    ok: Mapping[int, type[BaseModel] | str | None]
    description: str = ""
    body: type[BaseModel] | None = None
    body_required: bool = True
    body_media_types: tuple[str, ...] = ("application/json",)
    #: Alternatives: any one of them authorises the call.
    auth: tuple[Auth, ...] = ()
    headers: tuple[Header, ...] = ()
    #: Domain error classes (status from api/errors.py) or explicit statuses.
    errors: tuple[type[Exception] | int, ...] = ()
    #: Query parameters: the model the handler validates them with, or name -> schema.
    query: type[BaseModel] | Mapping[str, Mapping[str, Any]] | None = None
    #: Path parameters whose schema differs from PATH_PARAMETERS (local/openapi_document.py).
    path_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


#: The attribute a documented view carries; functools.wraps (api/http.py
#: ``route``) copies it onto the error-mapping wrapper Chalice registers.
ATTRIBUTE = "__operation__"

#: Every documented view, so the coverage test also finds declarations whose
#: route was removed or never registered.
DOCUMENTED: list[Callable[..., Any]] = []


def documented(
    summary: str,
    *,
    ok: Mapping[int, type[BaseModel] | str | None],
    auth: Auth | tuple[Auth, ...] = (),
    **details: Any,
) -> Callable[[F], F]:
    """Attach the operation's contract to its view (apply under ``@route``)."""
    operation = Operation(
        summary=summary, ok=ok, auth=(auth,) if isinstance(auth, str) else auth, **details
    )

    def attach(view: F) -> F:
        setattr(view, ATTRIBUTE, operation)
        DOCUMENTED.append(view)
        return view

    return attach


def operation_of(view: Callable[..., Any]) -> Operation | None:
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
