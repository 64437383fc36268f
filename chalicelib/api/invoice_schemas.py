"""The answer of the order's documents route (docs/invoices.md)."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from typing import Literal

from pydantic import Field

from chalicelib.api.bodies import Answer, Request


class RateAmountsOut(Answer):
    rate: str = Field(description="VAT rate in percent, e.g. 19")
    net: int
    tax: int
    gross: int


class DocumentOut(Answer):
    kind: Literal["invoice", "credit_note"]
    number: str = Field(description="RE-<year>-<5 digits>, or GS-... for a credit note")
    issue_date: str = Field(description="ISO date, in the shop's timezone")
    currency: str
    net: int = Field(description="minor units; negative on a credit note")
    tax: int
    gross: int
    rates: list[RateAmountsOut] = Field(description="net, tax and gross per VAT rate")
    corrects: str | None = Field(
        default=None, description="a credit note: the number of the invoice it corrects"
    )
    reason: Literal["refund", "return", "cancellation"] | None = Field(
        default=None, description="a credit note: why money went back"
    )


class OrderDocumentsOut(Answer):
    order_id: str
    documents: list[DocumentOut] = Field(
        description="the invoice first (none before it is issued), then its credit notes"
    )


class EInvoiceQueryIn(Request):
    flavour: Literal["factur-x", "xrechnung"] = Field(
        default="factur-x",
        description="factur-x: EN 16931 as Factur-X / ZUGFeRD embed it; xrechnung: "
        "XRechnung 3.0 (CII), for German public buyers",
    )
