"""Data subject requests (GDPR Art. 15, 17, 18): what the shop holds about one
email address, what an erasure deletes, what it must keep and restrict, and
the record of each request (docs/gdpr.md).

``RECORD_KINDS`` is the one list of every kind of item the table holds (its
``entity``), each with what a request does with it. The store writes no
entity that is not listed here: tests/unit/test_data_requests.py compares the
list with the entities the store's source writes, so a new kind cannot be
added without deciding its export and erasure. Pure Python: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Any


class RequestKind(StrEnum):
    EXPORT = "export"  # Art. 15 (access) and 20 (portability)
    ERASURE = "erasure"  # Art. 17
    RESTRICTION = "restriction"  # Art. 18, and an objection to marketing (Art. 21(3))


class OnErasure(StrEnum):
    ERASE = "erase"  # deleted: nothing obliges us to keep it
    RESTRICT = "restrict"  # kept (tax and commercial law), marked: never used for marketing
    KEEP = "keep"  # kept as it is: part of a restricted order, or needed to honour the request
    NOT_PERSONAL = "not_personal"  # holds nothing that names or finds the customer


@dataclass(frozen=True)
class RecordKind:
    """One kind of item in the table (its ``entity``) and what requests do with it."""

    entity: str
    #: Part of an export: found from the address and holding data about them.
    exported: bool
    on_erasure: OnErasure
    retention: str
    why: str


RECORD_KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        "order",
        True,
        OnErasure.RESTRICT,
        "8 years after the end of the order's year when money was paid (booking record), "
        "else 6 years (the order confirmation is a commercial letter)",
        "section 147 AO, section 257 HGB; GDPR Art. 17(3)(b)",
    ),
    RecordKind("history", True, OnErasure.KEEP, "with its order", "the order's booking trail"),
    RecordKind(
        "shipment", True, OnErasure.KEEP, "with its order", "proof of delivery (commercial record)"
    ),
    RecordKind(
        "order_number", True, OnErasure.KEEP, "with its order", "finds the order of a bank transfer"
    ),
    RecordKind(
        "payment_reference",
        True,
        OnErasure.KEEP,
        "with its order",
        "links the provider's payment to the order (booking record)",
    ),
    RecordKind(
        "webhook_receipt",
        True,
        OnErasure.KEEP,
        "deleted by TTL (SHOP_WEBHOOK_RECEIPT_TTL_DAYS)",
        "a payment callback of the order; no address in it",
    ),
    RecordKind(
        "claim",
        True,
        OnErasure.KEEP,
        "tracking numbers with their order; carrier event ids and refund keys by TTL (90 days)",
        "a shipment's tracking number, used once per carrier",
    ),
    RecordKind(
        "email_receipt",
        True,
        OnErasure.ERASE,
        "an order's: by TTL (SHOP_EMAIL_RECEIPT_TTL_DAYS); a cart's: erased",
        "an order's receipts are kept (proof the contract emails went out, no address in "
        "them); a cart's go with the cart",
    ),
    RecordKind(
        "cart",
        True,
        OnErasure.ERASE,
        "erased; else deleted by TTL 60 days after the last change",
        "not an order: nothing obliges us to keep it (its marketing consent goes with it)",
    ),
    RecordKind(
        "cart_event",
        True,
        OnErasure.ERASE,
        "erased; else deleted by TTL after 14 days",
        "the abandoned-cart nudge as sent (address, links): marketing",
    ),
    RecordKind(
        "opt_out_token",
        True,
        OnErasure.ERASE,
        "erased; else deleted by TTL after 365 days",
        "the opt-out link of a nudge; the suppression entry replaces it",
    ),
    RecordKind(
        "suppression",
        True,
        OnErasure.KEEP,
        "for as long as the shop sends marketing email",
        "a hash of the address, no address: without it a later cart could be nudged again "
        "(GDPR Art. 21(3), 17(3)(b))",
    ),
    RecordKind(
        "data_request",
        True,
        OnErasure.KEEP,
        "3 years (TTL), the regular limitation period (section 195 BGB)",
        "proof that the request was answered (GDPR Art. 5(2)); a hash of the address only",
    ),
    RecordKind(
        "idempotency",
        False,
        OnErasure.NOT_PERSONAL,
        "deleted by TTL (SHOP_IDEMPOTENCY_TTL_HOURS)",
        "a checkout's key hash, request fingerprint and order id: no address, not found from one",
    ),
    RecordKind(
        "attempts",
        False,
        OnErasure.NOT_PERSONAL,
        "deleted by TTL (two throttle windows)",
        "a count per hashed client, not linked to any address",
    ),
    RecordKind(
        "staff_session",
        False,
        OnErasure.NOT_PERSONAL,
        "deleted when its user signs out or it expires (at most the session's absolute "
        "lifetime, then TTL)",
        "a back-office user's session: the staff member's own address, never a customer's",
    ),
    RecordKind(
        "invoice",
        True,
        OnErasure.KEEP,
        "8 years after the end of its year (section 147 (3) AO, section 14b UStG)",
        "an issued invoice is a booking record: never edited, never deleted before then",
    ),
    RecordKind(
        "credit_note",
        True,
        OnErasure.KEEP,
        "8 years after the end of its year, like its invoice",
        "a correction of an invoice is a booking record too",
    ),
    RecordKind(
        "invoice_number",
        False,
        OnErasure.NOT_PERSONAL,
        "8 years, with its document",
        "a document number and its order id: shows an auditor who holds each number",
    ),
    RecordKind(
        "invoice_series",
        False,
        OnErasure.NOT_PERSONAL,
        "for as long as the series is used",
        "the last number taken in a series and year",
    ),
    RecordKind("product", False, OnErasure.NOT_PERSONAL, "catalog", "the shop's own data"),
    RecordKind(
        "shipping_method",
        False,
        OnErasure.NOT_PERSONAL,
        "the shop's settings",
        "the shop's own data",
    ),
    RecordKind(
        "pickup_location",
        False,
        OnErasure.NOT_PERSONAL,
        "the shop's settings",
        "the shop's own data",
    ),
    RecordKind(
        "discount_code", False, OnErasure.NOT_PERSONAL, "the shop's settings", "the shop's own data"
    ),
    RecordKind(
        "discount_claim",
        False,
        OnErasure.KEEP,
        "as long as its code exists",
        "a once-per-customer code's use by a hashed address, part of the kept order it was "
        "used on (which the export shows, with its code); keyed by the code, so it is not "
        "looked up from the address",
    ),
)

KINDS_BY_ENTITY: Mapping[str, RecordKind] = {kind.entity: kind for kind in RECORD_KINDS}
EXPORTED_KINDS: tuple[str, ...] = tuple(kind.entity for kind in RECORD_KINDS if kind.exported)

#: How long the record of a request is kept.
REQUEST_RECORD_RETENTION = timedelta(days=3 * 365)
#: Years an order is kept after the end of its calendar year.
BOOKING_RECORD_YEARS = 8  # section 147(1) no. 4, (3) AO: booking records
COMMERCIAL_LETTER_YEARS = 6  # section 257(1) no. 2-3, (4) HGB

#: Attributes never exported: secrets (token hashes, tokens in links, claim
#: tokens) and the table's own keys. An export goes to the customer by
#: email; it must not open their carts or orders to whoever reads it.
WITHHELD_ATTRIBUTES = frozenset(
    {
        "PK",
        "SK",
        "token_hash",
        "recovery_token_hash",
        "token_salt",
        "pickup_code",  # collects the goods: an export by email must not carry it
        "claim",
        "recovery_token",
        "opt_out_token",
        "cart_url",
        "opt_out_url",
        "unsubscribe_url",
        "status_key",
        "customer_key",
        "listed_at",
        "payment_status_key",
        "payment_method_key",
        "month_key",
        "withdrawal_key",
        "due_shard",
        "nudge_shard",
        "subject_key",
        "subject_item",
    }
)


def normalised_email(email: str) -> str:
    """The address as the table finds it: the order index and the
    suppression list both compare lower-cased addresses (store/keys.py
    customer_key, domain/cart.py email_hash)."""
    return email.strip().lower()


def subject_hash(email: str) -> str:
    """How requests, suppressions and the subject index name an address
    (the same hash as domain/cart.py email_hash)."""
    return sha256(normalised_email(email).encode()).hexdigest()


def retention_ends(created_at: datetime, *, paid: bool) -> date:
    """The last day an order must be kept: the period starts at the end of
    the calendar year it was created in (section 147(4) AO, 257(5) HGB)."""
    years = BOOKING_RECORD_YEARS if paid else COMMERCIAL_LETTER_YEARS
    return date(created_at.year + years, 12, 31)


def withheld(value: Any) -> Any:
    """``value`` without the attributes an export never shows, at any depth."""
    if isinstance(value, Mapping):
        return {k: withheld(v) for k, v in value.items() if k not in WITHHELD_ATTRIBUTES}
    if isinstance(value, list | tuple):
        return [withheld(v) for v in value]
    return value


@dataclass(frozen=True)
class StoredItem:
    """One item found for an address: its kind (``entity``), its key and
    its attributes as plain values."""

    entity: str
    key: Mapping[str, str]
    data: Mapping[str, Any]
    #: What it was found through: "order", "cart" or "address".
    found_via: str = "address"


@dataclass(frozen=True)
class KindOutcome:
    found: int = 0
    erased: int = 0
    restricted: int = 0
    kept: int = 0


@dataclass(frozen=True)
class DataRequest:
    """The record of one request: who asked, when, what kind, what was done.
    It names the address by its hash only."""

    id: str
    kind: RequestKind
    subject_hash: str
    requested_at: datetime
    actor: str
    outcome: Mapping[str, KindOutcome] = field(default_factory=dict)
    completed_at: datetime | None = None

    @property
    def expires_at(self) -> datetime:
        return self.requested_at + REQUEST_RECORD_RETENTION


def erasable(item: StoredItem) -> bool:
    """Whether an erasure deletes this item: by its kind, except the email
    receipts of orders (kept until their TTL with the order)."""
    kind = KINDS_BY_ENTITY.get(item.entity)
    if kind is None or kind.on_erasure is not OnErasure.ERASE:
        return False
    if item.entity == "email_receipt":
        return item.found_via == "cart"
    return True
