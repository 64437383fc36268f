"""The interfaces the services need from storage, and the facts storage
reports back. DynamoDB adapters live in chalicelib/store; in-memory fakes
for unit tests in tests/fakes.py. Both pass the same contract tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from chalicelib.domain.catalog import Product
from chalicelib.domain.order import HistoryEntry, Order, OrderChange, Placement


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
        version (else ConcurrentUpdate), with its history and stock moves."""
        ...
