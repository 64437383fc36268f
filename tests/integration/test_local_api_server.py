"""The local API server (`make run`) under concurrent clients.

Chalice keeps the request being handled on the app object
(``app.current_request``): fine on Lambda, where an instance handles one
invocation at a time, but chalice's threaded local server lets concurrent
requests overwrite each other's (aws/chalice#759). A checkout then read
another buyer's Idempotency-Key, headers or body.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.conftest import order_body

BUYERS = 64


def test_concurrent_checkouts_each_read_their_own_request(api: Any) -> None:
    from local.stack import api_server

    api.add_product("tea", available=BUYERS * 3)
    server = api_server("127.0.0.1", 0)
    host, port = server.server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    start = threading.Barrier(BUYERS)

    def buy(i: int) -> tuple[int, dict[str, Any], int]:
        quantity = 1 + i % 3
        body = order_body(
            [("tea", quantity)], customer={"email": f"buyer{i}@example.com", "name": f"Buyer {i}"}
        )
        start.wait()
        r = requests.post(
            f"http://{host}:{port}/orders",
            json=body,
            headers={"Idempotency-Key": f"buyer-{i:04d}-0123456789abcdef"},
            timeout=60,
        )
        return r.status_code, r.json(), quantity

    try:
        with ThreadPoolExecutor(BUYERS) as pool:
            answers = list(pool.map(buy, range(BUYERS)))
    finally:
        server.shutdown()
        thread.join(timeout=5)

    for i, (status, answer, quantity) in enumerate(answers):
        assert status == 201, (i, answer)
        assert answer["customer"]["email"] == f"buyer{i}@example.com"
        assert [line["quantity"] for line in answer["lines"]] == [quantity]
    assert len({answer["id"] for _, answer, _ in answers}) == BUYERS
    stock = api.stock("tea")
    assert stock["reserved"] == sum(q for _, _, q in answers)
