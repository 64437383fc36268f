"""The month's documents for the tax advisor (docs/invoices.md, "The month's
export"): the merchant's listing of a month's invoices and credit notes,
paged by cursor, and the month's journal as CSV or as a DATEV booking batch.

A month is a calendar month of the documents' issue date, which is the date
in the shop's timezone printed on each document. The documents are read from
the by_document_month index (invoices first, each kind in number order),
never by a Scan.

The cursor is opaque to the caller, as the order desk's: base64url of a small
JSON naming the month and where the page ended, validated on the way in, so
a forged cursor or one of another month is a 400, never a query with a key
the store did not produce.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from chalicelib.domain import datev, journal
from chalicelib.domain.errors import InvalidCursor, InvalidRequest
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.domain.invoice import CreditNote, Invoice
    from chalicelib.services.context import Context
    from chalicelib.services.ports import InvoiceStore
    from chalicelib.settings import TaxExportSettings

MAX_PAGE_SIZE = 100
#: The journal reads the month in pages of this many documents.
JOURNAL_PAGE = 100
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)
_AFTER = re.compile(r"^[12]#[A-Z]{1,4}-[0-9]{4}-[0-9]{5}$")

JournalFormat = Literal["csv", "datev"]


@dataclass(frozen=True)
class MonthDocuments:
    month: str
    documents: Sequence[Invoice | CreditNote]
    cursor: str | None  # for the next page


@dataclass(frozen=True)
class JournalFile:
    filename: str
    text: str  # UTF-8 with a byte order mark when sent
    documents: int
    rows: int


def _check_month(month: str) -> None:
    if not _MONTH.match(month):
        raise InvalidRequest("the month is YYYY-MM", month=month)


def encode_cursor(month: str, after: str) -> str:
    raw = json.dumps({"v": 1, "m": month, "a": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(month: str, cursor: str) -> str:
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor("the cursor is not one this API issued") from None
    if not isinstance(data, dict) or data.get("v") != 1 or set(data) != {"v", "m", "a"}:
        raise InvalidCursor("the cursor is not one this API issued")
    if data["m"] != month:
        raise InvalidCursor("the cursor belongs to another month; start again without it")
    after = data["a"]
    if not (isinstance(after, str) and _AFTER.match(after)):
        raise InvalidCursor("the cursor is not one this API issued")
    return after


def _store(ctx: Context) -> InvoiceStore:
    if ctx.invoices is None:
        raise RuntimeError("the month's documents need ctx.invoices")
    return ctx.invoices


def list_month_documents(
    month: str, *, page_size: int, cursor: str | None, ctx: Context
) -> MonthDocuments:
    """One page of the documents issued in ``month``: invoices first, each
    kind in number order."""
    _check_month(month)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest("page size out of range", max=MAX_PAGE_SIZE)
    after = decode_cursor(month, cursor) if cursor else None
    page = _store(ctx).documents_of_month(month, after=after, limit=page_size)
    next_cursor = encode_cursor(month, page.after) if page.after is not None else None
    return MonthDocuments(month=month, documents=page.documents, cursor=next_cursor)


def month_documents(month: str, store: InvoiceStore) -> list[Invoice | CreditNote]:
    """Every document of ``month``, page by page."""
    found: list[Invoice | CreditNote] = []
    after: str | None = None
    while True:
        page = store.documents_of_month(month, after=after, limit=JOURNAL_PAGE)
        found.extend(page.documents)
        if page.after is None:
            return found
        after = page.after


def rate_map(text: str) -> dict[str, str]:
    """``"19=8400,7=8300"`` (the settings' form) as {rate: value}."""
    pairs = (part.split("=", 1) for part in text.split(",") if part)
    return {rate.strip(): value.strip() for rate, value in pairs}


def datev_settings(settings: TaxExportSettings) -> datev.DatevSettings:
    return datev.DatevSettings(
        consultant_number=settings.datev_consultant_number,
        client_number=settings.datev_client_number,
        fiscal_year_start_month=settings.datev_fiscal_year_start_month,
        account_length=settings.datev_account_length,
        chart=settings.datev_chart,
        customer_account=settings.datev_customer_account,
        revenue_accounts=rate_map(settings.datev_revenue_accounts),
        tax_keys=rate_map(settings.datev_tax_keys),
    )


def month_journal(month: str, *, output: JournalFormat, ctx: Context) -> JournalFile:
    """The month's journal as CSV, or as a DATEV booking batch."""
    _check_month(month)
    month_journal = journal.journal_of(month, month_documents(month, _store(ctx)))
    if output == "csv":
        made = JournalFile(
            filename=journal.journal_filename(month),
            text=journal.journal_csv(month_journal),
            documents=len(month_journal.entries),
            rows=sum(len(entry.rates) for entry in month_journal.entries),
        )
    else:
        created_at = ctx.clock().astimezone(ZoneInfo(ctx.settings.timezone))
        batch = datev.booking_batch(
            month_journal, datev_settings(ctx.settings), created_at=created_at
        )
        made = JournalFile(
            filename=datev.batch_filename(month),
            text="\ufeff" + batch,
            documents=len(month_journal.entries),
            rows=batch.count("\r\n") - 2,
        )
    logger.info(
        "month journal made", month=month, output=output, documents=made.documents, rows=made.rows
    )
    return made
