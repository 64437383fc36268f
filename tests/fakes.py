"""In-memory stores with the same behaviour as the DynamoDB adapters, for
fast unit tests. tests/integration/test_store_contract.py runs one contract
suite against both."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import (
    CatalogChanged,
    ConcurrentUpdate,
    InsufficientStock,
    OrderNotFound,
    ProductNotFound,
)
from chalicelib.domain.order import HistoryEntry, Order, OrderChange, Placement, StockMove
from chalicelib.domain.payments import PaymentEvent
from chalicelib.services.ports import (
    DuplicateRequest,
    IdempotencyRecord,
    OrderNumberTaken,
    OrderRecord,
)

_COUNTERS = ("available", "reserved", "shipped", "restocked")


@dataclass
class FakeTable:
    products: dict[str, Product] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def moved(self, move: StockMove) -> Product | None:
        """The product after the move, or None if a condition fails."""
        product = self.products.get(move.sku)
        if product is None:
            return None
        if move.catalog_version is not None and product.catalog_version != move.catalog_version:
            return None
        values = {c: getattr(product, c) + getattr(move, c) for c in _COUNTERS}
        if any(getattr(move, c) < 0 and values[c] < 0 for c in _COUNTERS):
            return None
        return replace(product, **values)


class FakeCatalog:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def get(self, sku: str) -> Product:
        if sku not in self.table.products:
            raise ProductNotFound("no such product", sku=sku)
        return self.table.products[sku]

    def get_many(self, skus: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        return {sku: self.table.products[sku] for sku in skus if sku in self.table.products}

    def forget(self, skus: Iterable[str]) -> None:
        pass

    def put_product(
        self, sku: str, *, name: str, price: int, currency: str, tax_rate: Decimal
    ) -> Product:
        with self.table.lock:
            old = self.table.products.get(sku)
            product = Product(
                sku=sku,
                name=name,
                price=price,
                currency=currency,
                tax_rate=tax_rate,
                catalog_version=(old.catalog_version + 1) if old else 1,
                available=old.available if old else 0,
                reserved=old.reserved if old else 0,
                shipped=old.shipped if old else 0,
                restocked=old.restocked if old else 0,
                adjusted=old.adjusted if old else 0,
            )
            self.table.products[sku] = product
            return product

    def set_available(self, sku: str, available: int) -> Product:
        with self.table.lock:
            old = self.get(sku)
            product = replace(
                old, available=available, adjusted=old.adjusted + available - old.available
            )
            self.table.products[sku] = product
            return product


class FakeOrders:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def place(self, placement: Placement, idempotency: IdempotencyRecord) -> None:
        t = self.table
        with t.lock:
            if idempotency.key_hash in t.idempotency:
                raise DuplicateRequest(t.idempotency[idempotency.key_hash])
            moved = [(move, t.moved(move)) for move in placement.stock_moves]
            shortages, changed = [], []
            for move, product in moved:
                if product is not None:
                    continue
                current = t.products.get(move.sku)
                if current is not None and current.available < -move.available:
                    shortages.append(
                        {
                            "sku": move.sku,
                            "requested": -move.available,
                            "available": current.available,
                        }
                    )
                else:
                    changed.append(move.sku)
            if shortages:
                raise InsufficientStock("not enough stock for some lines", lines=shortages)
            if changed:
                raise CatalogChanged("products changed while ordering", skus=changed)
            if placement.order.number in t.numbers:
                raise OrderNumberTaken()
            for _, product in moved:
                assert product is not None
                t.products[product.sku] = product
            t.orders[placement.order.id] = placement.order
            t.history[placement.order.id] = [placement.history]
            t.numbers.add(placement.order.number)
            t.idempotency[idempotency.key_hash] = idempotency

    def get(self, order_id: str) -> OrderRecord:
        if order_id not in self.table.orders:
            raise OrderNotFound("no such order", order_id=order_id)
        return OrderRecord(
            order=self.table.orders[order_id], history=list(self.table.history[order_id])
        )

    def apply(self, change: OrderChange) -> None:
        t = self.table
        with t.lock:
            current = t.orders.get(change.order.id)
            if current is None or (current.status, current.version) != (
                change.expected_status,
                change.expected_version,
            ):
                raise ConcurrentUpdate("the order changed meanwhile", order_id=change.order.id)
            moved = [(move, t.moved(move)) for move in change.stock_moves]
            short = [move.sku for move, product in moved if product is None]
            if short:
                raise InsufficientStock("stock counters do not allow this change", skus=short)
            for _, product in moved:
                assert product is not None
                t.products[product.sku] = product
            t.orders[change.order.id] = change.order
            t.history[change.order.id].extend(change.history)


# --- payments ---------------------------------------------------------------------


@dataclass
class FakePaymentRecords:
    """Behaves like store/payments.py DynamoPaymentRecords."""

    table: FakeTable
    receipts: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    references: dict[tuple[str, str], str] = field(default_factory=dict)

    def claim_receipt(
        self,
        provider: str,
        event_id: str,
        *,
        order_id: str,
        event_type: str,
        received_at: datetime,
        expires_at: int,
    ) -> bool:
        with self.table.lock:
            previous = self.receipts.get((provider, event_id))
            if previous is not None:
                return not previous["handed_on"]
            self.receipts[(provider, event_id)] = {
                "order_id": order_id,
                "event_type": event_type,
                "handed_on": False,
                "expires_at": expires_at,
            }
            return True

    def mark_handed_on(self, provider: str, event_id: str) -> None:
        self.receipts[(provider, event_id)]["handed_on"] = True

    def remember_payment(self, provider: str, reference: str, order_id: str) -> None:
        self.references[(provider, reference)] = order_id

    def order_for_payment(self, provider: str, reference: str) -> str | None:
        return self.references.get((provider, reference))

    def order_for_number(self, number: str) -> str | None:
        return next((o.id for o in self.table.orders.values() if o.number == number), None)


@dataclass
class FakePaymentQueue:
    """FIFO like SQS: messages kept in order; ``failing`` simulates an outage."""

    messages: list[PaymentEvent] = field(default_factory=list)
    failing: bool = False

    def send(self, event: PaymentEvent) -> None:
        if self.failing:
            raise ConnectionError("queue unavailable")
        self.messages.append(event)

    def drain(self) -> list[PaymentEvent]:
        taken, self.messages = self.messages, []
        return taken
