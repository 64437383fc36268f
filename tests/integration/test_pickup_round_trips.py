"""A pickup checkout costs what a checkout with a shipping method costs: the
location comes in the same BatchGetItem as the products and the code (two
DynamoDB round trips with a cold cache, one warm), and its version check is
one item of the placement transaction (docs/checkout.md, bench/placement.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import boto3
import pytest

from chalicelib.config import Settings
from chalicelib.domain.order import Address, Customer, PaymentMethod, RequestedLine
from chalicelib.domain.pricing import DiscountCode, DiscountKind, PickupLocation
from chalicelib.services import catalog, checkout_terms, placement
from chalicelib.services.context import Context
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.checkout_terms import DynamoShippingAndCodes
from chalicelib.store.orders import DynamoOrders
from tests.conftest import TERMS_VERSION
from tests.fakes import FakeTable, fake_payment_ports

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
STORE = PickupLocation(
    id="store", names={"de": "Laden"}, line1="Weg 1", postal_code="10115", city="Berlin",
    country="DE", opening_hours={"de": "Mo-Fr 9-18 Uhr"},
)  # fmt: skip


class Requests:
    """The DynamoDB operations a client sends, in order."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("request-created.dynamodb", self._seen)

    def _seen(self, request: Any, **_: object) -> None:
        target = request.headers["X-Amz-Target"]
        text = target.decode() if isinstance(target, bytes) else target
        self.operations.append(text.split(".")[-1])


@pytest.fixture
def shop(table: str) -> tuple[Context, Requests]:
    client = boto3.client("dynamodb")
    ctx = Context(
        catalog=DynamoCatalog(client, table, cache_seconds=300),
        orders=DynamoOrders(client, table),
        settings=Settings(table_name=table, stage="test"),
        payments=fake_payment_ports(FakeTable()),
        terms=DynamoShippingAndCodes(client, table),
    )
    checkout_terms.save_pickup_location(STORE, ctx)
    checkout_terms.save_discount_code(
        DiscountCode(code="TEN", kind=DiscountKind.PERCENTAGE, percent=Decimal("10")), ctx
    )
    for sku in ("tea", "mug"):
        catalog.save_product(
            sku, name=sku, price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
        )
        catalog.count_stock(sku, 100, ctx)
    # A new process's cache: nothing of the terms is cached yet.
    cold = replace(ctx, catalog=DynamoCatalog(client, table, cache_seconds=300))
    return cold, Requests(client)


def collect(ctx: Context) -> None:
    command = placement.PlaceOrder(
        lines=(RequestedLine("tea", 1), RequestedLine("mug", 2)),
        customer=Customer("e@example.com", "E"),
        shipping_address=None,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.BANK_TRANSFER,
        locale="de",
        pickup_location=STORE.id,
        discount_code="ten",
        terms_version=TERMS_VERSION,
    )
    placement.place_order(command, f"key-{uuid.uuid4()}", ctx)


def test_a_pickup_checkout_is_two_round_trips_cold_and_one_warm(shop):
    ctx, requests = shop
    collect(ctx)
    assert requests.operations == ["BatchGetItem", "TransactWriteItems"]
    requests.operations.clear()
    collect(ctx)
    assert requests.operations == ["TransactWriteItems"]
