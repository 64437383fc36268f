"""One contract, two implementations: the in-memory fakes the unit tests
use and the DynamoDB adapters must behave the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from chalicelib.domain.errors import (
    CatalogChanged,
    ConcurrentUpdate,
    InsufficientStock,
    OrderNotFound,
    ProductNotFound,
)
from chalicelib.domain.order import (
    Address,
    Customer,
    OrderStatus,
    PaymentMethod,
    RequestedLine,
    place,
)
from chalicelib.services.ports import DuplicateRequest, IdempotencyRecord, OrderNumberTaken
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.orders import DynamoOrders
from tests.fakes import FakeCatalog, FakeOrders, FakeTable

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


@pytest.fixture(params=["fake", "dynamodb"])
def stores(request):
    if request.param == "fake":
        table = FakeTable()
        return FakeCatalog(table), FakeOrders(table)
    name = request.getfixturevalue("table")
    client = boto3.client("dynamodb")
    return DynamoCatalog(client, name, cache_seconds=0), DynamoOrders(client, name)


def placement_for(catalog, lines, order_id="o-1", number="AAAA-BBBB"):
    return place(
        order_id=order_id,
        number=number,
        token_hash="hash",
        requested=[RequestedLine(s, q) for s, q in lines],
        products=catalog.get_many([s for s, _ in lines]),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="de",
        now=NOW,
        payment_window=timedelta(minutes=30),
    )


def record(order_id="o-1", key="k"):
    return IdempotencyRecord(
        key_hash=key, fingerprint="f", order_id=order_id, token_salt="s", expires_at=1
    )


@pytest.fixture
def stocked(stores):
    catalog, orders = stores
    for sku, available in (("tea", 3), ("mug", 1)):
        catalog.put_product(sku, name=sku, price=500, currency="EUR", tax_rate=Decimal("7"))
        catalog.set_available(sku, available)
    return catalog, orders


def test_new_products_start_without_stock_and_versions_grow(stores):
    catalog, _ = stores
    first = catalog.put_product("tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"))
    second = catalog.put_product(
        "tea", name="Tea", price=550, currency="EUR", tax_rate=Decimal("7")
    )
    assert (first.available, first.reserved) == (0, 0)
    assert second.catalog_version == first.catalog_version + 1
    assert catalog.get("tea").price == 550
    with pytest.raises(ProductNotFound):
        catalog.get("nope")
    with pytest.raises(ProductNotFound):
        catalog.set_available("nope", 3)
    assert catalog.get_many(["tea", "nope"]).keys() == {"tea"}


def test_place_reserves_and_reads_back(stocked):
    catalog, orders = stocked
    p = placement_for(catalog, [("tea", 2), ("mug", 1)])
    orders.place(p, record())
    stored = orders.get("o-1")
    assert stored.order == p.order
    assert [h.event for h in stored.history] == ["OrderPlaced"]
    assert (catalog.get("tea").available, catalog.get("tea").reserved) == (1, 2)
    with pytest.raises(OrderNotFound):
        orders.get("o-2")


def test_place_is_all_or_nothing_and_reports_every_short_line(stocked):
    catalog, orders = stocked
    with pytest.raises(InsufficientStock) as err:
        orders.place(placement_for(catalog, [("tea", 1), ("mug", 2)]), record())
    assert err.value.details["lines"] == [{"sku": "mug", "requested": 2, "available": 1}]
    assert catalog.get("tea").reserved == 0
    with pytest.raises(OrderNotFound):
        orders.get("o-1")


def test_place_refuses_a_stale_catalog_version(stocked):
    catalog, orders = stocked
    p = placement_for(catalog, [("tea", 1)])
    catalog.put_product("tea", name="Tea", price=999, currency="EUR", tax_rate=Decimal("7"))
    with pytest.raises(CatalogChanged) as err:
        orders.place(p, record())
    assert err.value.details["skus"] == ["tea"]


def test_place_reports_a_reused_key_and_a_taken_number(stocked):
    catalog, orders = stocked
    orders.place(placement_for(catalog, [("tea", 1)]), record())
    with pytest.raises(DuplicateRequest) as dup:
        orders.place(
            placement_for(catalog, [("tea", 1)], order_id="o-2", number="CCCC-DDDD"), record("o-2")
        )
    assert dup.value.previous.order_id == "o-1"
    with pytest.raises(OrderNumberTaken):
        orders.place(
            placement_for(catalog, [("tea", 1)], order_id="o-3"), record("o-3", key="other")
        )
    assert catalog.get("tea").reserved == 1


def test_apply_is_conditional_on_status_and_version(stocked):
    catalog, orders = stocked
    orders.place(placement_for(catalog, [("tea", 2)]), record())
    order = orders.get("o-1").order
    orders.apply(order.cancel(actor="customer", reason="x", at=NOW))
    assert orders.get("o-1").order.status is OrderStatus.CANCELLED
    assert (catalog.get("tea").available, catalog.get("tea").reserved) == (3, 0)
    with pytest.raises(ConcurrentUpdate):
        orders.apply(
            order.cancel(actor="merchant", reason="again", at=NOW)
        )  # based on a stale read
    assert [h.event for h in orders.get("o-1").history] == ["OrderPlaced", "OrderCancelled"]
    assert catalog.get("tea").available == 3
