"""`make run` really serves the API on an embedded AWS, and stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import order_body
from tests.e2e.conftest import READY_WITHIN_SECONDS, ROOT, start_stack, stop_stack

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": "Bearer local-admin-key"}


def test_stack_is_ready_quickly_with_a_seeded_catalog(stack):
    assert stack.ready_after < READY_WITHIN_SECONDS
    r = requests.get(f"{stack.api}/products/MUG-STONE-01", timeout=5)
    assert r.status_code == 200
    assert r.json()["available"] == 25


def test_checkout_and_cancel_over_http_with_keep_alive(stack):
    with requests.Session() as http:
        r = http.put(
            f"{stack.api}/admin/stock/POT-CAST-IRON",
            json={"available": 4},
            headers=ADMIN,
            timeout=5,
        )
        assert r.status_code == 200, r.text
        r = http.post(
            f"{stack.api}/orders",
            json=order_body([("POT-CAST-IRON", 3)]),
            headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"},
            timeout=5,
        )
        assert r.status_code == 201, r.text
        order = r.json()
        r = http.post(
            f"{stack.api}/orders",
            json=order_body([("POT-CAST-IRON", 2)]),
            headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"},
            timeout=5,
        )
        assert r.status_code == 409
        assert r.json()["error"]["details"]["lines"] == [
            {"sku": "POT-CAST-IRON", "requested": 2, "available": 1}
        ]
        auth = {"Authorization": f"Bearer {order['token']}"}
        r = http.post(f"{stack.api}/orders/{order['id']}/cancel", json={}, headers=auth, timeout=5)
        assert r.json()["status"] == "cancelled"
        assert http.get(f"{stack.api}/products/POT-CAST-IRON", timeout=5).json()["available"] == 4


def test_admin_routes_refuse_a_wrong_key(stack):
    r = requests.put(
        f"{stack.api}/admin/stock/MUG-STONE-01",
        json={"available": 1},
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert r.status_code == 403


def test_a_taken_port_is_reported_clearly_and_ctrl_c_stops_the_stack():
    running = start_stack("--no-seed")
    try:
        api_port = int(running.api.rsplit(":", 1)[1])
        with socket.socket() as s:
            s.connect(("127.0.0.1", api_port))
        assert (
            requests.get(f"{running.api}/products/MUG-STONE-01", timeout=5).status_code == 404
        )  # not seeded
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "local.stack",
                "--api-port",
                str(api_port),
                "--aws-port",
                "0",
                "--dev-port",
                "0",
            ],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert second.returncode != 0
        assert f"port {api_port}" in second.stderr + second.stdout
        assert "already in use" in second.stderr + second.stdout
    finally:
        code = stop_stack(running)
        assert code == 0, "".join(running.output[-40:])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's /proc")
def test_only_the_main_thread_takes_a_stop_signal(stack):
    """Ctrl-C must reach the thread that stops the stack. A signal sent to
    the process goes to any thread that does not block it; if a worker or
    server thread took it, the main thread slept on and Ctrl-C was ignored.
    So every thread blocks the stop signals, and the main thread takes them
    with sigwait."""
    # Make the servers start their per-request threads too.
    requests.get(f"{stack.api}/products/MUG-STONE-01", timeout=5)
    requests.get(f"{stack.dev}/docs", timeout=10)
    stop = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    pid = stack.process.pid
    others = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        if task.name == str(pid):
            continue  # the main thread: in sigwait, which unblocks what it waits for
        try:
            lines = (task / "status").read_text().splitlines()
        except FileNotFoundError:
            continue  # a request's thread, finished meanwhile
        status = dict(line.split(":\t", 1) for line in lines)
        others[f"{status['Name']} ({task.name})"] = int(status["SigBlk"], 16)
    assert len(others) >= 3  # the servers and the delivery workers
    unblocked = [name for name, blocked in others.items() if blocked & stop != stop]
    assert unblocked == []


def test_the_dev_page_serves_the_api_reference(stack):
    page = requests.get(f"{stack.dev}/docs", timeout=10)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "/orders/{order_id}/cancel" in page.text
    assert "/admin/orders/{order_id}/shipments" in page.text
