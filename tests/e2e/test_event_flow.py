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


def test_placed_paid_and_shipped_order_sends_its_emails(stack):
    order = place(stack, "TEA-EARLGREY-250", 2)
    number = order["number"]
    assert eventually(lambda: len(emails_about(stack, number)) >= 2)  # confirmation + merchant

    # The customer pays on the fake provider's page: a signed Stripe callback.
    session = order["payment"]["redirect_url"].rsplit("/", 1)[1]
    r = requests.post(
        f"{stack.dev}/pay/{session}", data={"outcome": "pay"}, allow_redirects=False, timeout=10
    )
    assert r.status_code == 303, r.text
    auth = {"Authorization": f"Bearer {order['token']}"}
    paid = eventually(
        lambda: (
            requests.get(f"{stack.api}/orders/{order['id']}", headers=auth, timeout=5).json()[
                "status"
            ]
            == "paid"
        )
    )
    assert paid

    r = requests.post(
        f"{stack.api}/admin/orders/{order['id']}/shipments",
        headers=ADMIN,
        timeout=10,
        json={
            "carrier": "DHL",
            "tracking_number": "00340434161234567890",
            "lines": [{"sku": "TEA-EARLGREY-250", "quantity": 2}],
        },
    )
    assert r.status_code in (200, 201), r.text

    shipped = eventually(lambda: any("on its way" in s for s in emails_about(stack, number)))
    subjects = emails_about(stack, number)
    assert shipped, subjects
    customer = {
        f"Your Shop order {number}",
        f"Payment received for order {number}",
        f"Your order {number} is on its way",
    }
    assert customer <= set(subjects)
    merchant = [
        s for s in subjects if s not in customer
    ]  # the new-order mail, in the merchant's locale
    assert len(merchant) == 1, subjects
    assert len(subjects) == 4  # each email exactly once


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
