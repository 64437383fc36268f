"""The interfaces the services need from storage, and the facts storage
reports back. DynamoDB adapters live in chalicelib/store; in-memory fakes
for unit tests in tests/fakes.py. Both pass the same contract tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from chalicelib.domain.cart import Cart, CartNudge
from chalicelib.domain.catalog import Product
from chalicelib.domain.order import HistoryEntry, Order, OrderChange, Placement
from chalicelib.domain.shipment import Shipment

T = TypeVar("T")


@dataclass(frozen=True)
class IdempotencyRecord:
    key_hash: str  # sha256 of the client's Idempotency-Key
    fingerprint: str  # sha256 of the canonical request
    order_id: str
    token_salt: str  # see domain/ids.py: order_token
    expires_at: int  # epoch seconds


class DuplicateRequest(Exception):
    """The Idempotency-Key was seen before; ``previous`` says for what."""

    def __init__(self, previous: IdempotencyRecord) -> None:
        super().__init__("idempotency key already used")
        self.previous = previous


class OrderNumberTaken(Exception):
    """The random order number collided with an existing one."""


@dataclass(frozen=True)
class OrderRecord:
    """An order with its history, oldest entry first."""

    order: Order
    history: Sequence[HistoryEntry]
    shipments: Sequence[Shipment] = ()  # oldest first (fulfilment)


class CatalogStore(Protocol):
    def get(self, sku: str) -> Product:
        """The product with its current stock, or ProductNotFound."""
        ...

    def get_many(self, skus: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        """The existing products among ``skus``; may be served from a cache
        unless ``fresh``."""
        ...

    def forget(self, skus: Iterable[str]) -> None:
        """Drop cached entries, e.g. after a placement found them stale."""
        ...

    def put_product(
        self, sku: str, *, name: str, price: int, currency: str, tax_rate: Decimal
    ) -> Product:
        """Create or update catalog data; bumps the catalog version."""
        ...

    def set_available(self, sku: str, available: int) -> Product:
        """Set the counted sellable stock, recording the adjustment."""
        ...


class OrderStore(Protocol):
    def place(self, placement: Placement, idempotency: IdempotencyRecord) -> None:
        """Write the order, its number, its first history entry, the
        idempotency record and every reservation, all or nothing.

        Raises InsufficientStock (details name each short SKU), CatalogChanged,
        DuplicateRequest, OrderNumberTaken or ConcurrentUpdate."""
        ...

    def get(self, order_id: str) -> OrderRecord:
        """The order and its history, or OrderNotFound."""
        ...

    def apply(self, change: OrderChange) -> None:
        """Write a change if the order still has the expected status and
        version (else ConcurrentUpdate), with its history and stock moves.

        Also its shipments and claims: a claim that exists already raises
        TrackingNumberInUse (tracking numbers) or AlreadyClaimed (others)."""
        ...

    def shipment_for_tracking(self, carrier: str, tracking_number: str) -> tuple[str, str] | None:
        """(order id, shipment id) of the carrier's tracking number, if any."""
        ...


# --- carts, suppression list and the sweep indexes (schedules) ----------------------


class AddressSuppressed(Exception):
    """The cart's address is on the suppression list: it must not be emailed."""


@dataclass(frozen=True)
class DuePage(Generic[T]):
    """Candidates from a sparse sweep index, and how many index items the
    query read (what the sweep pays for, and what the benchmark checks)."""

    items: Sequence[T]
    items_read: int


class CartStore(Protocol):
    def create(self, cart: Cart) -> None:
        """Write a new cart (its id must be new)."""
        ...

    def get(self, cart_id: str) -> Cart:
        """The cart, read consistently, or CartNotFound."""
        ...

    def save(self, cart: Cart, expected_version: int) -> None:
        """Replace the cart if it is still open at ``expected_version``; else
        CartConverted (it became an order) or ConcurrentUpdate."""
        ...

    def nudge(self, nudge: CartNudge) -> None:
        """Write the nudged cart, its CartAbandoned event and its opt-out token
        in one transaction, only if the cart is unchanged and its address is
        not suppressed; else ConcurrentUpdate or AddressSuppressed."""
        ...


class SuppressionList(Protocol):
    """Addresses that opted out of marketing email, by sha256 of the
    lower-cased address; opt-out links carry a token, never the address."""

    def opt_out(self, opt_out_token_hash: str, *, at: datetime, source: str) -> bool:
        """Suppress the address the token was issued for (idempotent). False
        when the token is unknown or expired."""
        ...

    def knows_token(self, opt_out_token_hash: str, *, at: datetime) -> bool:
        """Whether the opt-out token is valid (read only)."""
        ...

    def is_suppressed(self, email_hash: str) -> bool: ...


class SweepIndex(Protocol):
    """Reads of the sparse sweep indexes (eventually consistent: every
    candidate is re-checked by a conditional write)."""

    def orders_due(self, *, until: datetime, limit: int) -> DuePage[Order]:
        """Orders awaiting payment whose deadline is at or before ``until``,
        oldest deadline first per shard, at most ``limit`` of them."""
        ...

    def orders_to_remind(self, *, after: datetime, until: datetime, limit: int) -> DuePage[Order]:
        """Bank-transfer orders not yet reminded whose deadline lies in
        (``after``, ``until``]."""
        ...

    def carts_due(self, *, until: datetime, limit: int) -> DuePage[Cart]:
        """Carts whose nudge falls due at or before ``until``."""
        ...


# --- the order desk (fulfilment) -------------------------------------------------------


@dataclass(frozen=True)
class DeskQuery:
    """Filters of the merchant's order listing; all optional, combined with AND.
    ``created_from`` is inclusive, ``created_to`` exclusive."""

    status: str | None = None
    payment_status: str | None = None
    payment_method: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    email: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class DeskPosition:
    """Where a page ended: the month partition (by_month only) and the
    ``listed_at`` of the last item read (None: from the month's start)."""

    month: str | None
    after: str | None


@dataclass(frozen=True)
class DeskPage:
    orders: Sequence[Order]
    next: DeskPosition | None  # None: no more pages
    items_read: int  # index items read for this page (what it cost)
    index: str  # the key or index that served it


class OrderDesk(Protocol):
    def search(
        self,
        query: DeskQuery,
        *,
        limit: int,
        start: DeskPosition | None,
        newest_month: str,
        oldest_month: str,
    ) -> DeskPage:
        """Orders matching ``query``, newest first, at most ``limit``; reads
        at most a bounded multiple of ``limit`` items, so a page may hold
        fewer orders and still have a next position. When no filter but the
        dates applies, months (yyyy-mm) are walked from ``newest_month`` back
        to ``oldest_month``."""
        ...
