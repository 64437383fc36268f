"""Placement cost: DynamoDB round trips, write units and throughput.

Every checkout chooses a shipping method and uses a discount code, so the
transaction carries the method's check and the code's use besides the stock.
For orders of 1, 5 and 25 lines it prints, per order, the DynamoDB round
trips (counted with botocore's request-created event) with a cold and a warm
catalog cache, the transaction's items and its write capacity units
(computed from item sizes, as moto reports none), and the orders per second
of `place_order` against a baseline that sends the same TransactWriteItems
by hand, as a ratio measured in the same run. Runs on in-process moto.

    .venv/bin/python bench/placement.py [--orders 150]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="eu-central-1",
    POWERTOOLS_LOG_LEVEL="WARNING",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_DEV="false",
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
from moto import mock_aws

import local.aws  # noqa: F401 - moto's transaction speed-up
from bench.dynamo_cost import item_size, write_units
from chalicelib.config import Settings
from chalicelib.domain.order import Address, Customer, PaymentMethod, RequestedLine
from chalicelib.domain.pricing import DiscountCode, DiscountKind, ShippingMethod
from chalicelib.observability import metrics
from chalicelib.services import catalog, checkout_terms, placement
from chalicelib.services.context import Context
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.checkout_terms import DynamoShippingAndCodes
from chalicelib.store.orders import DynamoOrders
from local.resources import create_table
from tests.fakes import FakeTable, fake_payment_ports

LINE_COUNTS = (1, 5, 25)
ADDRESS = Address(
    name="Bench", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE"
)


class Recorder:
    """Counts DynamoDB requests and keeps the last TransactWriteItems."""

    def __init__(self, client) -> None:
        self.requests = 0
        self.last_transaction: dict | None = None
        client.meta.events.register("request-created.dynamodb", self._count)
        client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", self._keep)

    def _count(self, **_: object) -> None:
        self.requests += 1

    def _keep(self, params: dict, **_: object) -> None:
        self.last_transaction = params

    def reset(self) -> None:
        self.requests = 0


METHOD = ShippingMethod(
    id="bench-dhl", names={"en": "DHL"}, carrier="DHL", price=490, countries=frozenset({"DE"})
)
CODE = DiscountCode(code="BENCH5", kind=DiscountKind.PERCENTAGE, percent=Decimal("5"))


def command(skus: list[str]) -> placement.PlaceOrder:
    return placement.PlaceOrder(
        lines=tuple(RequestedLine(sku, 1) for sku in skus),
        customer=Customer("bench@example.com", "Bench"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="en",
        terms_version="2026-06-19",  # the default ShopSettings.terms_version
        shipping_method=METHOD.id,
        discount_code="bench5",
    )


def transaction_cost(transaction: dict, client) -> tuple[int, int]:
    """(items, WCU) of a TransactWriteItems request; updates and condition
    checks are charged at the size of the item they touch (after the change
    ~ before for counters)."""
    units = 0
    for entry in transaction["TransactItems"]:
        ((kind, body),) = entry.items()
        if kind == "Put":
            size = item_size(body["Item"])
        else:
            item = client.get_item(TableName="bench", Key=body["Key"]).get("Item", {})
            size = item_size(item)
        units += write_units(size, transactional=True)
    return len(transaction["TransactItems"]), units


def fresh_ids(transaction: dict) -> dict:
    """The same transaction for a new order: new keys for the order-scoped items."""
    order_id, number, key = str(uuid.uuid4()), uuid.uuid4().hex[:9].upper(), uuid.uuid4().hex
    items = []
    for entry in transaction["TransactItems"]:
        ((kind, body),) = entry.items()
        if kind == "Put":
            item = dict(body["Item"])
            pk = item["PK"]["S"]
            if pk.startswith("ORDER#"):
                item["PK"] = {"S": f"ORDER#{order_id}"}
            elif pk.startswith("ORDERNO#"):
                item["PK"] = {"S": f"ORDERNO#{number}"}
            elif pk.startswith("IDEMPOTENCY#"):
                item["PK"] = {"S": f"IDEMPOTENCY#{key}"}
            body = {**body, "Item": item}
        items.append({kind: body})
    return {"TransactItems": items}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--orders", type=int, default=40, help="orders per line count for throughput"
    )
    args = parser.parse_args()
    rows, ratios, trips = [], [], []
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, "bench")
        recorder = Recorder(client)
        ctx = Context(
            catalog=DynamoCatalog(client, "bench", cache_seconds=300),
            orders=DynamoOrders(client, "bench"),
            settings=Settings(table_name="bench", stage="test"),
            payments=fake_payment_ports(FakeTable()),
            terms=DynamoShippingAndCodes(client, "bench"),
        )
        checkout_terms.save_shipping_method(METHOD, ctx)
        checkout_terms.save_discount_code(CODE, ctx)
        for count in LINE_COUNTS:
            skus = [f"B{count}-{i:03d}" for i in range(count)]
            for sku in skus:
                catalog.save_product(
                    sku,
                    name=f"Bench {sku}",
                    price=1000,
                    currency="EUR",
                    tax_rate=Decimal("19"),
                    ctx=ctx,
                )
                catalog.count_stock(sku, 10_000_000, ctx)
            # Cold: a new process's catalog, with nothing cached (products,
            # method and code alike).
            ctx = replace(ctx, catalog=DynamoCatalog(client, "bench", cache_seconds=300))

            recorder.reset()
            placement.place_order(command(skus), f"bench-{uuid.uuid4()}", ctx)
            cold = recorder.requests
            recorder.reset()
            placement.place_order(command(skus), f"bench-{uuid.uuid4()}", ctx)
            warm = recorder.requests
            transaction = recorder.last_transaction
            assert transaction is not None
            items, wcu = transaction_cost(transaction, client)

            # Interleaved, so both sides see the same table size (moto's
            # transactions slow down as the table grows) and the same load.
            ours_seconds = baseline_seconds = 0.0
            for _ in range(args.orders):
                started = time.perf_counter()
                placement.place_order(command(skus), f"bench-{uuid.uuid4()}", ctx)
                ours_seconds += time.perf_counter() - started
                metrics.clear_metrics()  # a handler publishes them per request
                request = fresh_ids(transaction)
                started = time.perf_counter()
                client.transact_write_items(**request)
                baseline_seconds += time.perf_counter() - started
            ours, baseline = args.orders / ours_seconds, args.orders / baseline_seconds

            ratio = ours / baseline
            ratios.append(ratio)
            trips.extend([cold, warm])
            rows.append((count, cold, warm, items, wcu, ours, baseline, ratio))

    print(
        f"{'lines':>5} {'trips cold':>10} {'trips warm':>10} {'tx items':>8} {'WCU':>5} "
        f"{'orders/s':>9} {'baseline/s':>10} {'ratio':>6}"
    )
    for count, cold, warm, items, wcu, ours, baseline, ratio in rows:
        row = f"{count:>5} {cold:>10} {warm:>10} {items:>8} {wcu:>5}"
        print(f"{row} {ours:>9.1f} {baseline:>10.1f} {ratio:>6.2f}")
    figures = {
        "round_trips_max": max(trips),
        "round_trips_warm_max": max(row[2] for row in rows),
        "ratio": round(min(ratios), 3),
        "wcu": {str(row[0]): row[4] for row in rows},
        "orders_per_second": {str(row[0]): round(row[5], 1) for row in rows},
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
