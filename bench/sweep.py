"""How much the expiry sweep reads: 50,000 orders, 100 of them stale.

Runs on moto in process (no network). Writes the orders straight to the
table, then runs expire_unpaid_orders twice and reports the index items each
run read and how long it took. The point is the shape, not moto's speed:
the sweep reads about as many items as are stale, not the table.

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Importing local.aws also makes moto back up only the items a transaction
# touches instead of deep-copying the whole table per item (local/aws.py).
from local.aws import LOCAL_CREDENTIALS

os.environ.update(LOCAL_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # keep the EMF lines off stdout
os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

TOTAL = int(os.environ.get("BENCH_ORDERS", "50000"))
STALE = int(os.environ.get("BENCH_STALE", "100"))
TABLE = "bench-sweep"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def main() -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.config import Settings
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
    from chalicelib.services import sweeps
    from chalicelib.services.context import Context
    from chalicelib.store.attributes import to_dynamo
    from chalicelib.store.catalog import DynamoCatalog
    from chalicelib.store.mapping import order_to_item
    from chalicelib.store.orders import DynamoOrders
    from chalicelib.store.sweeps import DynamoSweepIndex
    from local.resources import create_table
    from tests.fakes import FakeTable, fake_payment_ports

    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, TABLE)
        client.put_item(
            TableName=TABLE,
            Item=to_dynamo(
                {
                    "PK": "PRODUCT#tea",
                    "SK": "PRODUCT",
                    "entity": "product",
                    "sku": "tea",
                    "name": "Tea",
                    "price": 500,
                    "currency": "EUR",
                    "tax_rate": "7",
                    "catalog_version": 1,
                    "available": 0,
                    "reserved": STALE,
                    "shipped": 0,
                    "restocked": 0,
                    "adjusted": STALE,
                }
            ),
        )
        address = Address("E", "Hauptstr. 1", "10115", "Berlin", "DE")
        template = Order(
            id="",
            number="",
            status=OrderStatus.PENDING_PAYMENT,
            payment_status=PaymentStatus.UNPAID,
            fulfilment_status=FulfilmentStatus.UNFULFILLED,
            payment_method=PaymentMethod.CARD,
            locale="en",
            lines=(OrderLine("tea", "Tea", 1, 500, "7", 500, 33, 1),),
            totals=Totals("EUR", 500, 0, 33, 500),
            customer=Customer("e@example.com", "E"),
            shipping_address=address,
            billing_address=address,
            created_at=NOW - timedelta(hours=2),
            updated_at=NOW - timedelta(hours=2),
            payment_due_at=NOW,
            token_hash="0" * 64,
        )
        started = time.perf_counter()
        batch: list[dict] = []
        for i in range(TOTAL):
            if i < STALE:  # overdue by up to an hour
                status, due = OrderStatus.PENDING_PAYMENT, NOW - timedelta(minutes=1 + i % 60)
            elif i % 2:  # awaiting payment, deadline still ahead
                status, due = OrderStatus.PENDING_PAYMENT, NOW + timedelta(minutes=1 + i % 10_000)
            else:  # paid long ago: not in the sparse index at all
                status, due = OrderStatus.PAID, NOW - timedelta(days=1 + i % 300)
            order = replace(
                template, id=f"order-{i:06d}", number=f"N{i:08d}", status=status, payment_due_at=due
            )
            batch.append({"PutRequest": {"Item": to_dynamo(order_to_item(order))}})
            if len(batch) == 25:
                client.batch_write_item(RequestItems={TABLE: batch})
                batch = []
        if batch:
            client.batch_write_item(RequestItems={TABLE: batch})
        load_seconds = time.perf_counter() - started

        ctx = Context(
            catalog=DynamoCatalog(client, TABLE),
            orders=DynamoOrders(client, TABLE),
            settings=Settings(table_name=TABLE, stage="test"),
            payments=fake_payment_ports(FakeTable()),
            clock=lambda: NOW,
            sweeps=DynamoSweepIndex(client, TABLE),
        )
        runs = []
        for label in ("first run", "second run"):
            t0 = time.perf_counter()
            report = sweeps.expire_unpaid_orders(ctx)
            runs.append((label, report, time.perf_counter() - t0))

    print(f"orders in table: {TOTAL}  stale: {STALE}  (loaded in {load_seconds:.1f} s)")
    print(f"{'run':<12}{'items read':>12}{'found':>8}{'expired':>9}{'errors':>8}{'seconds':>10}")
    for label, report, seconds in runs:
        print(
            f"{label:<12}{report.items_read:>12}{report.found:>8}{report.acted:>9}"
            f"{report.errors:>8}{seconds:>10.3f}"
        )
    first, second = runs[0][1], runs[1][1]
    print(
        json.dumps(
            {
                "total": TOTAL,
                "stale": STALE,
                "items_read": first.items_read,
                "expired": first.acted,
                "errors": first.errors,
                "seconds": round(runs[0][2], 3),
                "second_run_items_read": second.items_read,
                "second_run_seconds": round(runs[1][2], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
