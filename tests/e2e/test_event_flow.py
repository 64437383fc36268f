"""The whole system live: HTTP -> table -> stream -> bus -> queues -> handlers
-> SES, and schedules on timers, in the local stack as a subprocess."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.conftest import order_body
from tests.e2e.conftest import start_stack, stop_stack

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": "Bearer local-admin-key"}
WITHIN_SECONDS = 30


def eventually(probe, timeout: float = WITHIN_SECONDS):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def emails_about(stack, number: str) -> list[str]:
    return [
        m["subject"]
        for m in requests.get(f"{stack.dev}/dev/emails", timeout=5).json()
        if number in m["subject"]
    ]


def place(stack, sku: str, quantity: int, method: str = "card") -> dict:
    r = requests.post(
        f"{stack.api}/orders",
        json=order_body([(sku, quantity)], payment_method=method, locale="en"),
        headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_an_unpaid_order_expires_on_the_schedule_and_its_stock_returns():
    fast = start_stack("--speed", "300")  # card window 6 s, expiry sweep every second
    try:
        before = requests.get(f"{fast.api}/products/POT-CAST-IRON", timeout=5).json()["available"]
        order = place(fast, "POT-CAST-IRON", 2)
        assert (
            requests.get(f"{fast.api}/products/POT-CAST-IRON", timeout=5).json()["available"]
            == before - 2
        )
        auth = {"Authorization": f"Bearer {order['token']}"}
        expired = eventually(
            lambda: (
                requests.get(f"{fast.api}/orders/{order['id']}", headers=auth, timeout=5).json()[
                    "status"
                ]
                == "expired"
            )
        )
        assert expired
        assert (
            requests.get(f"{fast.api}/products/POT-CAST-IRON", timeout=5).json()["available"]
            == before
        )
        assert eventually(
            lambda: len(emails_about(fast, order["number"])) >= 3
        )  # + cancelled/expired mail
    finally:
        assert stop_stack(fast) == 0
