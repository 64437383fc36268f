"""Racing checkouts for a discount code over real HTTP on the local stack
(moto's server behind its lock, Chalice's threaded local server): a code is
never redeemed more often than allowed, because its use is claimed in the
placement's own transaction (docs/checkout.md, "Uses")."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.conftest import order_body

ADMIN = {"Authorization": "Bearer local-admin-key"}


def setup(stack: Any, sku: str, code: str, **terms: Any) -> None:
    r = requests.put(
        f"{stack.api}/admin/products/{sku}",
        json={"name": f"Race {sku}", "price": 1000, "currency": "EUR", "tax_rate": "19"},
        headers=ADMIN,
        timeout=10,
    )
    assert r.status_code == 200, r.text
    r = requests.put(
        f"{stack.api}/admin/stock/{sku}", json={"available": 10_000}, headers=ADMIN, timeout=10
    )
    assert r.status_code == 200, r.text
    r = requests.put(
        f"{stack.api}/admin/discount-codes/{code}", json=terms, headers=ADMIN, timeout=10
    )
    assert r.status_code == 200, r.text


def race(stack: Any, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    start = threading.Barrier(len(bodies))

    def buy(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        start.wait()
        r = requests.post(
            f"{stack.api}/orders",
            json=body,
            headers={"Idempotency-Key": f"race-{uuid.uuid4()}"},
            timeout=120,
        )
        return r.status_code, r.json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(buy, bodies))


def uses(stack: Any, code: str) -> int:
    codes = requests.get(f"{stack.api}/admin/discount-codes", headers=ADMIN, timeout=10).json()
    return next(c["uses"] for c in codes["discount_codes"] if c["code"] == code)


def test_a_code_limited_to_10_uses_is_redeemed_exactly_10_times_by_100_racing_buyers(stack):
    setup(stack, "RACE-TEN", "TEN-ONLY", kind="percentage", percent="10", usage_limit=10)
    bodies = [
        order_body(
            [("RACE-TEN", 1)],
            customer={"email": f"buyer{i}@example.com", "name": f"Buyer {i}"},
            discount_code="ten-only",
        )
        for i in range(100)
    ]
    answers = race(stack, bodies)
    outcomes = Counter(
        (status, body["error"]["code"] if status >= 400 else body["discount"]["code"])
        for status, body in answers
    )
    assert outcomes == {(201, "TEN-ONLY"): 10, (422, "discount_code_used_up"): 90}, outcomes
    placed = [body for status, body in answers if status == 201]
    assert all(body["totals"]["discount"] == 100 for body in placed)
    assert uses(stack, "TEN-ONLY") == 10
    stock = requests.get(f"{stack.api}/admin/stock/RACE-TEN", headers=ADMIN, timeout=10).json()
    assert stock["reserved"] == 10  # the refused checkouts reserved nothing


def test_a_once_per_customer_code_is_redeemed_once_by_10_racing_checkouts_of_one_email(stack):
    setup(stack, "RACE-ONE", "WELCOME", kind="fixed_amount", amount=300, once_per_customer=True)
    emails = ["Erika@Example.com ", "erika@example.com", " ERIKA@EXAMPLE.COM"]
    bodies = [
        order_body(
            [("RACE-ONE", 1)],
            customer={"email": emails[i % 3].strip(), "name": "Erika"},
            discount_code="welcome",
        )
        for i in range(10)
    ]
    answers = race(stack, bodies)
    outcomes = Counter(
        (status, body["error"]["code"] if status >= 400 else body["discount"]["code"])
        for status, body in answers
    )
    assert outcomes == {(201, "WELCOME"): 1, (422, "discount_code_already_used"): 9}, outcomes
    assert uses(stack, "WELCOME") == 1
