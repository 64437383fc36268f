"""The documents' routes: the customer's list of an order's documents and
the merchant's month (docs/invoices.md)."""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from typing import Annotated, Literal

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


# --- the month's export (the merchant's routes) -------------------------------------

#: A calendar month, as the documents' issue date (services/tax_export.py).
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class MonthQueryIn(Request):
    month: Month
    limit: int = Field(default=50, ge=1, le=100)
    cursor: Annotated[str, Field(min_length=4, max_length=1000)] | None = None


class JournalQueryIn(Request):
    month: Month
    format: Literal["csv", "datev"] = Field(
        default="csv", description="csv: the journal; datev: a DATEV booking batch (EXTF)"
    )


class MonthDocumentOut(DocumentOut):
    order_id: str
    order_number: str
    customer: str = Field(description="the billing company if any, else the billing name")
    payment_method: str


class MonthDocumentsOut(Answer):
    month: str
    documents: list[MonthDocumentOut] = Field(
        description="invoices first, then credit notes, each in number order"
    )
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class EInvoiceQueryIn(Request):
    flavour: Literal["factur-x", "xrechnung"] = Field(
        default="factur-x",
        description="factur-x: EN 16931 as Factur-X / ZUGFeRD embed it; xrechnung: "
        "XRechnung 3.0 (CII), for German public buyers",
    )
