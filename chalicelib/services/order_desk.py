"""The merchant's order desk: find orders by filters, page by cursor, and
see one order with everything (internal notes, shipments, tracking).

The cursor is opaque to the caller: base64url of a small JSON naming where
the page ended and a fingerprint of the filters it belongs to. It is
validated on the way in (shape, the filters it was issued for, the key
format), so a bad or foreign cursor is a 400, never a query with a key the
store did not produce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain.errors import InvalidCursor, InvalidRequest
from chalicelib.services.context import Context
from chalicelib.services.ports import DeskPage, DeskPosition, DeskQuery, OrderRecord

MAX_PAGE_SIZE = 100
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_AFTER = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.+]+#[0-9a-f-]{36}$")


@dataclass(frozen=True)
class DeskListing:
    page: DeskPage
    cursor: str | None  # for the next page


def _fingerprint(query: DeskQuery) -> str:
    filters = asdict(query)
    if filters["name"] is None:
        # The back office's name filter came later: without it, a cursor
        # means what it meant before.
        del filters["name"]
    canonical = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(query: DeskQuery, position: DeskPosition) -> str:
    raw = json.dumps(
        {"v": 1, "q": _fingerprint(query), "m": position.month, "a": position.after},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(query: DeskQuery, cursor: str) -> DeskPosition:
    try:
        # validate: characters outside base64url are refused, not skipped.
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor("the cursor is not one this API issued") from None
    if not isinstance(data, dict) or data.get("v") != 1 or set(data) != {"v", "q", "m", "a"}:
        raise InvalidCursor("the cursor is not one this API issued")
    if data["q"] != _fingerprint(query):
        raise InvalidCursor("the cursor belongs to other filters; start again without it")
    month, after = data["m"], data["a"]
    if month is not None and not (isinstance(month, str) and _MONTH.match(month)):
        raise InvalidCursor("the cursor is not one this API issued")
    if after is not None and not (isinstance(after, str) and _AFTER.match(after)):
        raise InvalidCursor("the cursor is not one this API issued")
    if month is None and after is None:
        raise InvalidCursor("the cursor is not one this API issued")
    return DeskPosition(month=month, after=after)


def _month(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m}"


def _months_back(moment: datetime, months: int) -> str:
    year, month = moment.year, moment.month - months
    while month <= 0:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def list_orders(
    query: DeskQuery, *, page_size: int, cursor: str | None, ctx: Context
) -> DeskListing:
    """One page of orders matching every filter, newest first."""
    if ctx.desk is None:
        raise RuntimeError("the order desk needs ctx.desk")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest("page size out of range", max=MAX_PAGE_SIZE)
    if query.created_from and query.created_to and query.created_from >= query.created_to:
        raise InvalidRequest("`created_from` must be before `created_to`")
    now = ctx.clock()
    newest = _month(query.created_to - timedelta(microseconds=1)) if query.created_to else None
    newest = min(newest, _month(now)) if newest else _month(now)
    oldest = (
        _month(query.created_from)
        if query.created_from
        else _months_back(now.astimezone(UTC), ctx.settings.desk_lookback_months)
    )
    start = decode_cursor(query, cursor) if cursor else None
    page = ctx.desk.search(
        query, limit=page_size, start=start, newest_month=newest, oldest_month=oldest
    )
    next_cursor = encode_cursor(query, page.next) if page.next is not None else None
    return DeskListing(page=page, cursor=next_cursor)


def show_order(order_id: str, ctx: Context) -> OrderRecord:
    """The order with its whole history (internal entries too) and shipments."""
    return ctx.orders.get(order_id)


def document_pdf_link(order_id: str, number: str, ctx: Context) -> str:
    """A short-lived link to the archived PDF of one of the order's
    documents, for the merchant (services/archive.py)."""
    from chalicelib.services.archive import document_link

    ctx.orders.get(order_id)  # OrderNotFound
    assert ctx.invoices is not None and ctx.archive is not None, "the context has no archive"
    return document_link(
        order_id,
        number,
        invoices=ctx.invoices,
        archive_store=ctx.archive,
        seconds=ctx.settings.document_link_seconds,
    )
