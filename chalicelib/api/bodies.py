"""The two bases of every request and response body of the API, and the
field types the bodies share.

Every model is built lazily (``defer_build``): pydantic compiles a model's
validator and serialiser on its first use instead of at import, so a Lambda
cold start pays only for the models its request touches (bench/cold_start.py
measures it).
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.money import CURRENCY_EXPONENTS

#: Free text on one line (names, address lines, cities, product names, bank
#: references): no control characters. A NUL, a line break or a tab in a name
#: cannot be printed on a parcel label or put in an email header, and breaks
#: the CSV exports and ERPs downstream; no real name has one. Bidi marks and
#: emoji are text, not control characters, and stay allowed.
ONE_LINE = r"^[^\x00-\x1F\x7F-\x9F]*$"
#: Free text that may run over lines (reasons, notes, descriptions): line
#: breaks and tabs allowed, no other control character.
PARAGRAPHS = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
#: Why something was cancelled, returned or refunded (kept in the history,
#: and quoted in the customer's email).
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=PARAGRAPHS)]

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Sku = Annotated[str, Field(pattern=SKU_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=ONE_LINE)]
ShortText = Annotated[str, Field(min_length=1, max_length=40, pattern=ONE_LINE)]


def _known_currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(f"currency must be one of {', '.join(sorted(CURRENCY_EXPONENTS))}")
    return code


Currency = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217",
        # Documented as the list we accept, not just any three letters.
        json_schema_extra={"enum": sorted(CURRENCY_EXPONENTS)},
    ),
    AfterValidator(_known_currency),
]


class Request(BaseModel):
    """Unknown fields are refused, strings stripped, values frozen."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, defer_build=True
    )


class Answer(BaseModel):
    """Base of the response bodies (the presenters validate through them)."""

    model_config = ConfigDict(defer_build=True)


class PerLocale(Request):
    """A text per locale; one of them may stand for both."""

    de: Text | None = None
    en: Text | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> Self:
        if self.de is None and self.en is None:
            raise ValueError("give the text in de, en or both")
        return self

    def texts(self) -> dict[str, str]:
        return {k: v for k, v in (("de", self.de), ("en", self.en)) if v is not None}
