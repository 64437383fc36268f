"""Bodies of the merchant's data request route (docs/gdpr.md)."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from typing import Any, Literal

from pydantic import Field

from chalicelib.api.bodies import Answer, Request
from chalicelib.api.schemas import Email


class DataRequestIn(Request):
    email: Email = Field(description="the customer's address; compared lower-cased")
    kind: Literal["export", "erasure", "restriction"] = Field(
        description="export (Art. 15/20), erasure (Art. 17) or restriction (Art. 18/21(3))"
    )


class KindOutcomeOut(Answer):
    found: int
    erased: int
    restricted: int
    kept: int


class DataRequestRecordOut(Answer):
    id: str
    kind: str
    requested_at: str
    completed_at: str | None
    actor: str
    outcome: dict[str, KindOutcomeOut] = Field(description="per kind of record (entity)")


class KeptOrderOut(Answer):
    order_id: str
    number: str
    kept_until: str = Field(description="the last day tax and commercial law make us keep it")
    restricted_at: str


class DataRequestOut(Answer):
    request: DataRequestRecordOut
    kept_orders: list[KeptOrderOut] = Field(description="orders kept and restricted")
    export: dict[str, list[dict[str, Any]]] | None = Field(
        description="kind export: every exported kind of record, an empty list if none"
    )
