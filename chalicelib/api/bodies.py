"""The two bases of every request and response body of the API.

Every model is built lazily (``defer_build``): pydantic compiles a model's
validator and serialiser on its first use instead of at import, so a Lambda
cold start pays only for the models its request touches (bench/cold_start.py
measures it).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Request(BaseModel):
    """Unknown fields are refused, strings stripped, values frozen."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, defer_build=True
    )


class Answer(BaseModel):
    """Base of the response bodies (the presenters validate through them)."""

    model_config = ConfigDict(defer_build=True)
