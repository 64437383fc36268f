"""The withdrawal function live on the local stack: place, pay, ship, the
carrier's "delivered", a partial withdrawal through the API, both emails,
the return and refund through the existing routes; and the same withdrawal
refused once the period is over (the stack's clock moved on: local/clock.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from chalicelib.carriers.signing import sign
from tests.e2e.conftest import start_stack, stop_stack
from tests.e2e.test_event_flow import ADMIN, eventually, place

pytestmark = pytest.mark.e2e
CARRIER_SECRET = "carrier_local"
EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def mails(stack) -> list[dict]:
    return requests.get(f"{stack.dev}/dev/emails", timeout=5).json()


def mail_about(stack, words: str, number: str) -> dict | None:
    return next((m for m in mails(stack) if words in m["subject"] and number in m["subject"]), None)


def withdraw_one_tea(stack, order: dict) -> requests.Response:
    return requests.post(
        f"{stack.api}/withdrawals",
        json={
            "number": order["number"],
            "email": order["customer"]["email"],
            "scope": "lines",
            "lines": [{"sku": "TEA-EARLGREY-250", "quantity": 1}],
            "confirm": True,
        },
        timeout=10,
    )


def test_a_partial_withdrawal_after_delivery_then_refused_after_the_period():
    stack = start_stack()
    try:
        order = place(stack, "TEA-EARLGREY-250", 2)
        session = order["payment"]["redirect_url"].rsplit("/", 1)[1]
        r = requests.post(f"{stack.dev}/pay/{session}", data={"outcome": "pay"},
                          allow_redirects=False, timeout=10)  # fmt: skip
        assert r.status_code == 303, r.text
        auth = {"Authorization": f"Bearer {order['token']}"}

        def status() -> str:
            url = f"{stack.api}/orders/{order['id']}"
            return requests.get(url, headers=auth, timeout=5).json()["status"]

        assert eventually(lambda: status() == "paid")
        tracking = "00340434160000000042"
        r = requests.post(
            f"{stack.api}/admin/orders/{order['id']}/shipments",
            headers=ADMIN,
            json={"carrier": "DHL", "tracking_number": tracking,
                  "lines": [{"sku": "TEA-EARLGREY-250", "quantity": 2}]},
            timeout=10,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        now = datetime.now(ZoneInfo("UTC")).isoformat()
        delivered = {"event_id": "e2e-delivered", "tracking_number": tracking,
                     "status": "delivered", "occurred_at": now}  # fmt: skip
        raw = json.dumps(delivered).encode()
        r = requests.post(
            f"{stack.api}/webhooks/carriers/dhl",
            data=raw,
            headers={"Carrier-Signature": sign(CARRIER_SECRET, int(time.time()), raw),
                     "Content-Type": "application/json"},
            timeout=10,
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text
        assert status() == "delivered"

        # The customer withdraws one of the two teas by number and email.
        r = withdraw_one_tea(stack, order)
        assert r.status_code == 201, r.text
        withdrawal = r.json()["withdrawal"]
        assert (withdrawal["refund_total"], withdrawal["full"]) == (1490, False)
        received = datetime.fromisoformat(withdrawal["received_at"]).astimezone(
            ZoneInfo("Europe/Berlin")
        )
        when = f"{received.day} {EN_MONTHS[received.month - 1]} {received.year}, {received:%H:%M}"

        number = order["number"]
        ack = eventually(lambda: mail_about(stack, "received your withdrawal", number))
        assert ack, [m["subject"] for m in mails(stack)]
        html = requests.get(f"{stack.dev}/dev/emails/{ack['id']}", timeout=5).text
        assert when in html
        assert "1 \u00d7 Earl Grey, 250 g" in html
        merchant = eventually(lambda: mail_about(stack, "Widerruf zu Bestellung", number))
        assert merchant, [m["subject"] for m in mails(stack)]

        # The goods come back; the refund goes through the existing route.
        r = requests.post(
            f"{stack.api}/admin/orders/{order['id']}/returns",
            headers=ADMIN,
            json={"lines": [{"sku": "TEA-EARLGREY-250", "quantity": 1, "restock": True}],
                  "refund": withdrawal["refund_total"]},
            timeout=10,
        )  # fmt: skip
        assert r.status_code in (200, 201), r.text
        detail = requests.get(f"{stack.api}/admin/orders/{order['id']}", headers=ADMIN,
                              timeout=5).json()  # fmt: skip
        events = [h["event"] for h in detail["history"]]
        assert {"WithdrawalReceived", "WithdrawalReleased", "OrderRefunded",
                "WithdrawalRefunded"} <= set(events)  # fmt: skip
        open_ones = requests.get(f"{stack.api}/admin/orders?withdrawal=open", headers=ADMIN,
                                 timeout=5).json()["orders"]  # fmt: skip
        assert order["id"] not in [o["id"] for o in open_ones]

        # Twenty days on (past day 14, and past any weekend that moves its end).
        r = requests.post(f"{stack.dev}/dev/clock", json={"days": 20}, timeout=5)
        assert r.status_code == 200, r.text
        r = withdraw_one_tea(stack, order)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "withdrawal_period_ended"
    finally:
        assert stop_stack(stack) == 0
