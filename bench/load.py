"""Load on the local stack (loopback only, bounded): 200 concurrent checkouts
against 50 units of one SKU, mixed with payments through the fake provider,
cancellations and the expiry sweep (run with --speed so it fires often).

Prints latency percentiles per operation and checks: exactly 50 units sold
(reserved + shipped), no 5xx, stock conservation for the SKU. The last line is
one JSON object.

    .venv/bin/python bench/load.py [--buyers 200] [--units 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from local.seed import DEMO_CATALOG
from tests.conftest import order_body
from tests.e2e.conftest import start_stack, stop_stack

SKU = "GIFT-CARD-LAST"
ADMIN = {"Authorization": "Bearer local-admin-key"}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def count_orders(api: str, status: str) -> int:
    """Orders in ``status``, through the order desk (every page)."""
    count, cursor = 0, None
    while True:
        params = {"status": status, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{api}/admin/orders", params=params, headers=ADMIN, timeout=30)
        page.raise_for_status()
        body = page.json()
        count += len(body["orders"])
        cursor = body["next_cursor"]
        if not cursor:
            return count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--units", type=int, default=50)
    args = parser.parse_args()
    # 60x: the expiry sweep runs every 5 s and card orders expire after 30 s,
    # so sweeps really run during the load.
    stack = start_stack("--speed", "60")
    latencies: dict[str, list[float]] = {"checkout": [], "pay": [], "cancel": []}
    statuses: dict[int, int] = {}
    #: (operation, status) -> the first body, for any answer other than the
    #: expected ones (201/200/303/409), so a surprise can be read, not guessed.
    surprises: dict[tuple[str, int], str] = {}
    lock = threading.Lock()
    try:
        requests.put(
            f"{stack.api}/admin/stock/{SKU}",
            json={"available": args.units},
            headers=ADMIN,
            timeout=10,
        )
        start = threading.Barrier(args.buyers)

        def timed(kind: str, call) -> requests.Response | None:
            began = time.perf_counter()
            try:
                response = call()
            except requests.RequestException:
                with lock:
                    statuses[0] = statuses.get(0, 0) + 1  # no answer at all
                return None
            with lock:
                latencies[kind].append((time.perf_counter() - began) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code not in (200, 201, 303, 409):
                    surprises.setdefault((kind, response.status_code), response.text[:300])
            return response

        def buyer(index: int) -> None:
            start.wait()
            with requests.Session() as http:
                r = timed(
                    "checkout",
                    lambda: http.post(
                        f"{stack.api}/orders",
                        json=order_body([(SKU, 1)], payment_method="card"),
                        headers={"Idempotency-Key": f"load-{uuid.uuid4()}"},
                        timeout=60,
                    ),
                )
                if r is None or r.status_code != 201:
                    return
                order = r.json()
                if index % 3 == 0:  # pays through the fake provider's signed callback
                    session = order["payment"]["redirect_url"].rsplit("/", 1)[1]
                    timed(
                        "pay",
                        lambda: http.post(
                            f"{stack.dev}/pay/{session}",
                            data={"outcome": "pay"},
                            allow_redirects=False,
                            timeout=60,
                        ),
                    )
                elif index % 3 == 1:  # changes their mind
                    timed(
                        "cancel",
                        lambda: http.post(
                            f"{stack.api}/orders/{order['id']}/cancel",
                            json={},
                            headers={"Authorization": f"Bearer {order['token']}"},
                            timeout=60,
                        ),
                    )
                # the rest never pay: the sweep expires them

        began = time.perf_counter()
        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(args.buyers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        wall = time.perf_counter() - began
        time.sleep(8)  # let the payment queue and a sweep or two settle
        stocks = {
            sku: requests.get(f"{stack.api}/admin/stock/{sku}", headers=ADMIN, timeout=10).json()
            for sku, *_ in DEMO_CATALOG
        }
        stock = stocks[SKU]
        by_status = {
            status: count_orders(stack.api, status)
            for status in ("pending_payment", "paid", "cancelled", "expired")
        }
    finally:
        stop_stack(stack)
        # The first error the stack logged, for whoever reads a failed run.
        first = next(
            (
                i
                for i, line in enumerate(stack.output)
                if '"level":"ERROR"' in line or "Traceback" in line
            ),
            None,
        )
        if first is not None:
            print("".join(stack.output[first : first + 40])[:6000], file=sys.stderr)

    sold_ok = statuses.get(201, 0)
    refused = statuses.get(409, 0)
    five_xx = sum(n for code, n in statuses.items() if code >= 500)
    unanswered = statuses.get(0, 0)
    # For every SKU, not only the contested one: nothing else may move.
    conserved = all(
        s["available"] + s["reserved"] + s["shipped"] - s["restocked"] == s["adjusted"]
        and min(s["available"], s["reserved"], s["shipped"]) >= 0
        for s in stocks.values()
    )
    held = stock["reserved"] + stock["shipped"]  # units held by live orders
    # Every order takes one unit: the live ones hold exactly the counted
    # units, and every accepted order is live, cancelled or expired.
    live = by_status["pending_payment"] + by_status["paid"]
    accounted = live == held and sum(by_status.values()) == sold_ok
    oversold = held > args.units
    print(f"{'operation':<10} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, values in latencies.items():
        p50, p95, p99 = (percentile(values, p) for p in (50, 95, 99))
        worst = max(values, default=0)
        print(f"{kind:<10} {len(values):>6} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f} {worst:>8.0f}")
    print(
        f"checkouts accepted {sold_ok}, refused (409) {refused}, 5xx {five_xx}, wall {wall:.1f} s"
    )
    print(f"stock after: {stock}")
    print(f"orders by status: {by_status} (live orders hold the reserved units: {accounted})")
    for (kind, status), body in sorted(surprises.items()):
        print(f"unexpected {kind} {status}: {body}")
    print(
        json.dumps(
            {
                "buyers": args.buyers,
                "units": args.units,
                "orders_accepted": sold_ok,
                "refused_409": refused,
                "five_xx": five_xx,
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "stock_conserved": conserved,
                "units_held": held,
                "oversold": oversold,
                "orders_by_status": by_status,
                "orders_accounted": accounted,
                "checkout_p50_ms": round(statistics.median(latencies["checkout"]), 1)
                if latencies["checkout"]
                else 0,
                "checkout_p95_ms": round(percentile(latencies["checkout"], 95), 1),
                "wall_s": round(wall, 1),
            }
        )
    )
    ok = five_xx == 0 and unanswered == 0 and conserved and not oversold and accounted
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
