"""What the gateway answers itself, over real HTTP on the local stack: the
CORS preflight and the admin authorizer's refusals, in the documented shape."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.e2e
ALLOWED = "http://localhost:3000"  # config.DEFAULT_CORS_ORIGINS


def test_the_preflight_allows_what_a_storefront_sends(stack):
    r = requests.options(
        f"{stack.api}/orders",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
        timeout=5,
    )
    assert r.status_code == 200
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"idempotency-key", "authorization", "content-type"} <= allowed
    assert "POST" in r.headers["Access-Control-Allow-Methods"].split(",")
    # Two origins are configured: the gateway's preflight can name one only,
    # the answer itself then names the caller's.
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.get(f"{stack.api}/products/MUG-STONE-01", headers={"Origin": ALLOWED}, timeout=5)
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [({}, 401, "unauthorized"), ({"Authorization": "Bearer wrong-key"}, 403, "forbidden")],
)
def test_admin_refusals_have_the_error_body_and_a_request_id(stack, headers, status, code):
    r = requests.get(f"{stack.api}/admin/stock/MUG-STONE-01", headers=headers, timeout=5)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["request_id"] == r.headers["X-Request-Id"] != ""


def test_an_unknown_path_is_a_404_with_the_error_body(stack):
    r = requests.get(f"{stack.api}/no/such/route", timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert r.json()["error"]["request_id"] == r.headers["X-Request-Id"]
