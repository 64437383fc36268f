"""GET /openapi.json: the API's contract, built from the routes themselves."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict

from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import route

api_docs = Blueprint(__name__)


class OpenApiDocumentOut(BaseModel):
    """An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@route(api_docs, "/openapi.json", methods=["GET"], cors=storefront_cors())
@documented("This document: the API's contract (OpenAPI 3.1)", ok={200: OpenApiDocumentOut})
def get_openapi_document() -> dict[str, Any]:
    # Built on the first call only: the schemas cost ~50 ms nobody else should pay.
    from chalicelib.api.openapi import cached_document

    return cached_document(api_docs.current_app)
