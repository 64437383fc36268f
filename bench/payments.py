"""Payment callbacks: what a cold start pays for the card checkout client
(ours on urllib, and the stripe library it replaced, a dev dependency now),
what a signature check costs (ours, and the library's), and how long the
webhook and the consumer take per event on in-process moto (an upper bound:
moto is slower than DynamoDB/SQS for single calls, and runs in this
process). moto copies the whole table for every TransactWriteItems (to roll
back), so ``consumer_apply_moto`` grows with the table and says little about
DynamoDB's ~10-20 ms.

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.aws import LOCAL_CREDENTIALS  # noqa: E402

os.environ.update(LOCAL_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

N = int(os.environ.get("BENCH_EVENTS", "200"))


def ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def cold_import(module: str, then: str = "", after: str = "") -> float:
    """Median seconds to import ``module`` (and run ``then``) in a fresh
    process that has imported ``after`` already (not timed)."""
    code = (
        f"import time; {after + '; ' if after else ''}t = time.perf_counter(); "
        f"import {module}; {then + '; ' if then else ''}print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return statistics.median(runs)


def main() -> None:
    import stripe

    from chalicelib.observability import metrics

    # Metrics would be printed to stdout (EMF) in between the table.
    metrics.add_metric = lambda **_: None  # type: ignore[method-assign]

    from chalicelib.payments import signing

    results: dict[str, object] = {"events": N}
    # The card checkout's first call in a warm-ish Lambda (app.py imported by
    # the cold start): its client, built as bootstrap.stripe_client() builds it.
    results["checkout_client_after_app_s"] = round(
        cold_import("chalicelib.payments.stripe_api as m", "m.StripeApi('k')", after="import app"),
        3,
    )
    results["stripe_library_after_app_s"] = round(
        cold_import(
            "stripe", "stripe.StripeClient('k', max_network_retries=2)", after="import app"
        ),
        3,
    )
    results["import_app_s"] = round(cold_import("app"), 3)

    body = json.dumps(
        {"id": "evt", "type": "checkout.session.completed", "data": {"object": {}}}
    ).encode()
    header = signing.sign("whsec_a", int(time.time()), body)
    timings = []
    for _ in range(2000):
        t = time.perf_counter()
        stripe.WebhookSignature.verify_header(body.decode(), header, "whsec_a", None)
        timings.append(time.perf_counter() - t)
    results["verify_signature_stripe_lib"] = ms(timings)
    timings = []
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for _ in range(2000):
        t = time.perf_counter()
        signing.verify(body, header, ["whsec_old", "whsec_a"], now)
        timings.append(time.perf_counter() - t)
    results["verify_signature_two_secrets_ours"] = ms(timings)

    from moto import mock_aws

    with mock_aws():
        results.update(flow())

    print(f"{'measure':45} {'p50 ms':>10} {'p95 ms':>10}")
    for name, value in results.items():
        if isinstance(value, dict):
            print(f"{name:45} {value['p50_ms']:>10} {value['p95_ms']:>10}")
        else:
            print(f"{name:45} {value!s:>10}")
    print(json.dumps(results))


def flow() -> dict[str, object]:
    import boto3

    from chalicelib import bootstrap
    from chalicelib.domain.order import Address, Customer, PaymentMethod, RequestedLine
    from chalicelib.payments import fake
    from chalicelib.payments.messages import from_message
    from chalicelib.services import catalog, payment_callbacks, payments, placement
    from local.resources import create_queue, create_table

    table = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "SHOP_TABLE_NAME": table,
            "SHOP_STAGE": "test",
            "SHOP_PAYMENT_PROVIDER_API": "fake",
            "SHOP_STRIPE_WEBHOOK_SECRETS_PARAMETER": "/bench/stripe",
            "SHOP_PAYMENT_EVENTS_QUEUE_NAME": "payment-events-bench.fifo",
        }
    )
    create_table(boto3.client("dynamodb"), table)
    boto3.client("ssm").put_parameter(
        Name="/bench/stripe", Value=json.dumps(["whsec_local"]), Type="SecureString"
    )
    url = create_queue(boto3.client("sqs"), "payment-events-bench.fifo", fifo=True)
    bootstrap.reset()
    ctx = bootstrap.context()
    from decimal import Decimal

    catalog.save_product(
        "tea", name="Tea", price=1000, currency="EUR", tax_rate=Decimal(7), ctx=ctx
    )
    catalog.count_stock("tea", N * 2, ctx)
    address = Address(name="E", line1="L", postal_code="1", city="B", country="DE")
    orders = [
        placement.place_order(
            placement.PlaceOrder(
                lines=(RequestedLine("tea", 1),),
                customer=Customer("e@example.com", "E"),
                shipping_address=address,
                billing_address=address,
                payment_method=PaymentMethod.CARD,
                locale="en",
                terms_version="2026-06-19",  # the default ShopSettings.terms_version,
            ),
            f"bench-key-{uuid.uuid4()}",
            ctx,
        ).order
        for _ in range(N)
    ]
    stripe = bootstrap.fake_stripe()
    requests = [fake.signed_request(stripe.pay(order)) for order in orders]
    accept, duplicate = [], []
    for body, headers in requests:
        t = time.perf_counter()
        payment_callbacks.accept_callback("stripe", body, headers, ctx)
        accept.append(time.perf_counter() - t)
    for body, headers in requests[: N // 2]:
        t = time.perf_counter()
        payment_callbacks.accept_callback("stripe", body, headers, ctx)
        duplicate.append(time.perf_counter() - t)
    sqs = boto3.client("sqs")
    apply = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        for message in batch:
            t = time.perf_counter()
            payments.apply_payment_event(from_message(message["Body"]), ctx)
            apply.append(time.perf_counter() - t)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    paid = sum(ctx.orders.get(o.id).order.status.value == "paid" for o in orders)
    return {
        "webhook_accept_moto": ms(accept),
        "webhook_duplicate_moto": ms(duplicate),
        "consumer_apply_moto": ms(apply),
        "orders_paid": paid,
    }


if __name__ == "__main__":
    main()
