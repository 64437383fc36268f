"""GET /openapi.json: the API's contract, shipped as a file.

``make openapi`` (local/openapi.py) builds the document from the routes'
``@documented`` declarations and writes it next to this module, so it
ships with the Lambda like the email templates; the function serves the
file and never imports the generator (~700 lines and pydantic's JSON
schema machinery). A test fails while the shipped copy is stale.
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

import functools
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict

from chalicelib.api.contract import documented
from chalicelib.api.cors import storefront_cors
from chalicelib.api.http import route

api_docs = Blueprint(__name__)

#: Compact JSON, exactly the bytes the route answers.
DOCUMENT = Path(__file__).with_name("openapi.json")


class OpenApiDocumentOut(BaseModel):
    """An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@functools.cache
def document_body() -> str:
    """The shipped document, read on the first request of a warm Lambda."""
    return DOCUMENT.read_text()


@route(api_docs, "/openapi.json", methods=["GET"], cors=storefront_cors())
@documented("This document: the API's contract (OpenAPI 3.1)", ok={200: OpenApiDocumentOut})
def get_openapi_document() -> Response:
    return Response(body=document_body(), headers={"Content-Type": "application/json"})
