"""Click & collect end to end over HTTP on the local stack: a pickup order is
paid, made ready, its code reaches the customer by email (and by no event),
and the order is handed over against it."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
import requests

from tests.conftest import order_body

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer local-admin-key"}
LOCATION = {
    "name": {"de": "Laden Berlin-Mitte", "en": "Berlin-Mitte shop"},
    "line1": "Torstr. 12",
    "postal_code": "10119",
    "city": "Berlin",
    "country": "DE",
    "opening_hours": {"de": "Mo-Fr 10-19 Uhr", "en": "Mon-Fri 10am-7pm"},
}
_CODE = re.compile(r"<strong>(\d{6})</strong>")


def code_from_email(stack: Any, number: str, within: float = 30.0) -> str:
    """The pickup code in the ready-for-pickup email of order ``number``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for message in requests.get(f"{stack.dev}/dev/emails", timeout=5).json():
            subject = message["subject"]
            if number in subject and ("pickup" in subject or "Abholung" in subject):
                html = requests.get(f"{stack.dev}/dev/emails/{message['id']}", timeout=5).text
                found = _CODE.search(html)
                assert found, html
                return found.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no ready-for-pickup email for {number}")


def test_a_pickup_order_is_collected_with_the_code_from_its_email(stack):
    http = requests.Session()
    r = http.put(f"{stack.api}/admin/pickup-locations/mitte", json=LOCATION, headers=ADMIN)
    assert r.status_code == 200, r.text
    body = order_body([("TEA-EARLGREY-250", 1)], payment_method="bank_transfer", locale="en")
    body["billing_address"] = body.pop("shipping_address")
    r = http.post(
        f"{stack.api}/orders",
        json={**body, "pickup_location": "mitte"},
        headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["pickup"]["name"] == "Berlin-Mitte shop" and order["totals"]["shipping"] == 0
    path = f"{stack.api}/admin/orders/{order['id']}"
    assert http.post(f"{path}/payments", json={"bank_reference": "SEPA 1"}, headers=ADMIN).ok
    assert http.post(f"{path}/ready-for-pickup", headers=ADMIN).status_code == 200
    code = code_from_email(stack, order["number"])
    wrong = "000000" if code != "000000" else "111111"
    refused = http.post(f"{path}/pickup", json={"code": wrong}, headers=ADMIN)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "pickup_code_wrong")
    done = http.post(f"{path}/pickup", json={"code": code}, headers=ADMIN)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "picked_up"
