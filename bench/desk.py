"""What the order desk's queries read: 20,000 orders, every admin filter.

Runs on moto in process (no network). Writes 20,000 varied orders (every
status, three payment methods, 300 customers, fourteen months) straight to
the table, then runs each filter of GET /admin/orders for its first page and
for a page deep into the results, and reports the index items each page read
next to the page size and the table size. The point is the shape: items read
follow the page size (at most READ_FACTOR times it), not the table.

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Importing local.aws also makes moto back up only the items a transaction
# touches instead of deep-copying the whole table per item (local/aws.py).
from local.aws import LOCAL_CREDENTIALS

os.environ.update(LOCAL_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # keep the EMF lines off stdout
os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

TOTAL = int(os.environ.get("BENCH_ORDERS", "20000"))
PAGE = int(os.environ.get("BENCH_PAGE", "50"))
DEEP_PAGES = 5  # the "deep" page is the sixth of each listing
TABLE = "bench-desk"


def main() -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.config import Settings
    from chalicelib.services import order_desk
    from chalicelib.services.context import Context
    from chalicelib.services.ports import DeskQuery
    from chalicelib.store.attributes import to_dynamo
    from chalicelib.store.desk import READ_FACTOR, DynamoOrderDesk
    from chalicelib.store.keys import order_number
    from chalicelib.store.mapping import order_to_item
    from chalicelib.store.orders import DynamoOrders
    from local.resources import create_table
    from tests.desk_orders import NOW, customer_email, varied_orders
    from tests.fakes import FakeCatalog, FakeTable, fake_payment_ports

    orders = varied_orders(TOTAL, customers=300)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, TABLE)
        started = time.perf_counter()
        batch: list[dict] = []
        for order in orders:
            batch.append({"PutRequest": {"Item": to_dynamo(order_to_item(order))}})
            batch.append(
                {
                    "PutRequest": {
                        "Item": to_dynamo(
                            {**order_number(order.number), "entity": "order_number",
                             "order_id": order.id}
                        )
                    }
                }
            )  # fmt: skip
            if len(batch) >= 24:
                client.batch_write_item(RequestItems={TABLE: batch})
                batch = []
        if batch:
            client.batch_write_item(RequestItems={TABLE: batch})
        load_seconds = time.perf_counter() - started

        ctx = Context(
            catalog=FakeCatalog(FakeTable()),
            orders=DynamoOrders(client, TABLE),
            settings=Settings(table_name=TABLE, stage="test"),
            payments=fake_payment_ports(FakeTable()),
            clock=lambda: NOW,
            desk=DynamoOrderDesk(client, TABLE),
        )
        queries = {
            "no filter (by month)": DeskQuery(),
            "status=shipped": DeskQuery(status="shipped"),
            "payment_status=refunded": DeskQuery(payment_status="refunded"),
            "payment_method=paypal": DeskQuery(payment_method="paypal"),
            "created in 90 days": DeskQuery(created_from=NOW - timedelta(days=90), created_to=NOW),
            "email": DeskQuery(email=customer_email(42)),
            "number": DeskQuery(number=orders[len(orders) // 2].number),
            "status+method": DeskQuery(status="delivered", payment_method="bank_transfer"),
            "status+payment_status (rare)": DeskQuery(
                status="cancelled", payment_status="refunded"
            ),
        }
        rows = []
        for label, query in queries.items():
            t0 = time.perf_counter()
            first = order_desk.list_orders(query, page_size=PAGE, cursor=None, ctx=ctx)
            seconds = time.perf_counter() - t0
            deep, cursor = first, first.cursor
            pages = 1
            while cursor and pages <= DEEP_PAGES:
                deep = order_desk.list_orders(query, page_size=PAGE, cursor=cursor, ctx=ctx)
                cursor, pages = deep.cursor, pages + 1
            rows.append(
                (
                    label,
                    first.page.index,
                    len(first.page.orders),
                    first.page.items_read,
                    pages,
                    deep.page.items_read,
                    seconds,
                )
            )

    print(f"orders in table: {TOTAL}  page size: {PAGE}  (loaded in {load_seconds:.1f} s)")
    header = (
        f"{'filter':<30}{'served by':<20}{'returned':>9}{'read p1':>9}"
        f"{'page':>6}{'read there':>12}{'moto ms':>9}"
    )
    print(header)
    for label, index, returned, read, page, read_deep, seconds in rows:
        print(
            f"{label:<30}{index:<20}{returned:>9}{read:>9}{page:>6}{read_deep:>12}"
            f"{seconds * 1000:>9.1f}"
        )
    items_read_max = max(max(r[3], r[5]) for r in rows)
    print(f"most items any page read: {items_read_max} (budget {PAGE * READ_FACTOR})")
    print(
        json.dumps(
            {
                "total": TOTAL,
                "page_size": PAGE,
                "items_read_max": items_read_max,
                "read_budget": PAGE * READ_FACTOR,
                "items_read_first_page": {r[0]: r[3] for r in rows},
                "items_read_deep_page": {r[0]: r[5] for r in rows},
                "load_seconds": round(load_seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
