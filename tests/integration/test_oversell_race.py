"""Many buyers race for the last units through a real moto server.

The server runs in this process on a free port, behind the same lock the
local stack uses, so what is tested is our conditional transaction, not the
emulator's thread safety.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest

from chalicelib.config import Settings
from chalicelib.domain.errors import InsufficientStock
from chalicelib.domain.order import Address, Customer, PaymentMethod, RequestedLine
from chalicelib.services import catalog, placement
from chalicelib.services.context import Context
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.orders import DynamoOrders
from local.aws import EmbeddedAWS
from local.resources import create_table
from tests.conftest import TERMS_VERSION
from tests.fakes import FakeTable, fake_payment_ports

BUYERS = 24
UNITS = 7
ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[EmbeddedAWS]:
    server = EmbeddedAWS(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def server_ctx(moto_server: EmbeddedAWS) -> Context:
    client = boto3.client("dynamodb", endpoint_url=moto_server.url)
    name = f"race-{uuid.uuid4().hex[:8]}"
    create_table(client, name)
    # Caching off: every buyer reads the catalog like a cold Lambda would.
    return Context(
        catalog=DynamoCatalog(client, name, cache_seconds=0),
        orders=DynamoOrders(client, name),
        settings=Settings(table_name=name, stage="test"),
        payments=fake_payment_ports(FakeTable()),
    )


def buy(ctx: Context, quantity: int) -> placement.PlaceOrder:
    return placement.PlaceOrder(
        lines=(RequestedLine("last-units", quantity),),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="en",
        terms_version=TERMS_VERSION,
    )


@pytest.mark.parametrize("quantities", [[1] * BUYERS, [1, 2, 3] * (BUYERS // 3)])
def test_racing_buyers_never_get_more_than_the_stock(server_ctx: Context, quantities: list[int]):
    catalog.save_product(
        "last-units", name="Last", price=999, currency="EUR", tax_rate=Decimal("19"), ctx=server_ctx
    )
    catalog.count_stock("last-units", UNITS, server_ctx)
    start = threading.Barrier(len(quantities))
    sold: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(quantity: int) -> None:
        start.wait()
        try:
            placement.place_order(buy(server_ctx, quantity), f"race-{uuid.uuid4()}", server_ctx)
        except InsufficientStock:
            with lock:
                refused.append(quantity)
        except BaseException as exc:  # any other outcome fails the test below
            with lock:
                errors.append(exc)
        else:
            with lock:
                sold.append(quantity)

    threads = [threading.Thread(target=attempt, args=(q,)) for q in quantities]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(sold) + len(refused) == len(quantities)
    product = server_ctx.catalog.get("last-units")
    assert sum(sold) <= UNITS
    assert product.reserved == sum(sold)
    assert product.available == UNITS - sum(sold)
    assert product.available >= 0 and product.reserved >= 0
    assert product.is_conserved()
    # Every refused buyer wanted more than what was left when the race ended.
    assert all(q > product.available for q in refused)
