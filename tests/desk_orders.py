"""Varied orders for the order desk's tests and benchmark: every status with
a payment status that fits it, three payment methods, a few customers with
many orders each, creation times spread over fourteen months."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from chalicelib.domain import ids
from chalicelib.domain.order import (
    Address,
    Customer,
    FulfilmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Totals,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
_S, _P = OrderStatus, PaymentStatus
#: status -> payment statuses an order in it may have
PAYMENT_FOR: dict[OrderStatus, tuple[PaymentStatus, ...]] = {
    _S.PENDING_PAYMENT: (_P.UNPAID,),
    _S.EXPIRED: (_P.UNPAID,),
    _S.ON_HOLD: (_P.UNPAID,),
    _S.CANCELLED: (_P.UNPAID, _P.REFUNDED),
    _S.PAID: (_P.PAID,),
    _S.PARTIALLY_SHIPPED: (_P.PAID,),
    _S.SHIPPED: (_P.PAID, _P.PARTIALLY_REFUNDED),
    _S.DELIVERED: (_P.PAID, _P.PARTIALLY_REFUNDED, _P.REFUNDED),
}
FULFILMENT_FOR = {
    _S.PARTIALLY_SHIPPED: FulfilmentStatus.PARTIALLY_SHIPPED,
    _S.SHIPPED: FulfilmentStatus.SHIPPED,
    _S.DELIVERED: FulfilmentStatus.DELIVERED,
}


def customer_email(i: int) -> str:
    # Mixed case on purpose: the desk finds an email whatever its case.
    return f"Customer{i}@Example.com" if i % 2 else f"customer{i}@example.com"


def varied_orders(count: int, seed: int = 7, customers: int = 15, days: int = 420) -> list[Order]:
    rng = random.Random(seed)
    statuses = list(PAYMENT_FOR)
    orders = []
    for i in range(count):
        status = statuses[i % len(statuses)] if i < len(statuses) else rng.choice(statuses)
        created = NOW - timedelta(seconds=rng.randrange(days * 86400))
        line = OrderLine(
            sku="tea",
            name="Tea",
            quantity=1,
            unit_price=500,
            tax_rate="19",
            line_total=500,
            tax_amount=80,
            catalog_version=1,
        )
        who = rng.randrange(customers)
        orders.append(
            Order(
                id=ids.new_order_id(),
                number=f"{i:04d}-{rng.randrange(10_000):04d}",
                status=status,
                payment_status=rng.choice(PAYMENT_FOR[status]),
                fulfilment_status=FULFILMENT_FOR.get(status, FulfilmentStatus.UNFULFILLED),
                payment_method=rng.choice(list(PaymentMethod)),
                locale="de",
                lines=(line,),
                totals=Totals("EUR", 500, 0, 80, 500),
                customer=Customer(customer_email(who), f"Kundin Nr. {who:02d}"),
                shipping_address=ADDRESS,
                billing_address=ADDRESS,
                created_at=created,
                updated_at=created,
                payment_due_at=created + timedelta(minutes=30),
                token_hash="0" * 64,
            )
        )
    return orders
