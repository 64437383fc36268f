"""StripeApi's real transport (urllib) against a local HTTPS server standing
in for api.stripe.com: certificates are verified, answers of any status are
read, and a server that stops answering is given up on (read timeout).

The server's certificate is made here; trusting it means pointing
SSL_CERT_FILE at it, the way the system CA bundle is found (nothing else in
the transport changes for the test)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.payments.stripe_api import (
    HttpRequest,
    StripeApi,
    StripeApiError,
    urllib_transport,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stripe-stand-in")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


Handler = Callable[[BaseHTTPRequestHandler, dict[str, Any]], None]


@pytest.fixture
def stripe_stand_in(certificate: tuple[Path, Path]) -> Iterator[Callable[[Handler], str]]:
    """Start an HTTPS server whose requests ``handle``; returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(handle: Handler) -> str:
        class Stripe(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                handle(
                    self, {"headers": dict(self.headers), "form": dict(parse_qsl(body.decode()))}
                )

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Stripe)
        server.daemon_threads = True
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*certificate)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def reply(status: int, body: dict[str, Any]) -> Handler:
    def handle(request: BaseHTTPRequestHandler, seen: dict[str, Any]) -> None:
        data = json.dumps({**body, "seen": seen}).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Request-Id", "req_local_1")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    return handle


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


def test_sends_the_form_with_its_headers_over_verified_tls(stripe_stand_in, trusted):
    base = stripe_stand_in(reply(200, {"id": "re_1", "object": "refund"}))
    api = StripeApi("sk_test_local", base_url=base)
    refund = api.create_refund(
        {"payment_intent": "pi_1", "expand": ["charge"]}, idempotency_key="k-1"
    )
    assert refund["id"] == "re_1"
    seen = refund["seen"]
    assert seen["form"] == {"payment_intent": "pi_1", "expand[0]": "charge"}
    assert seen["headers"]["Authorization"] == "Bearer sk_test_local"
    assert seen["headers"]["Idempotency-Key"] == "k-1"
    assert seen["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_an_error_status_is_read_as_an_answer_with_stripes_request_id(stripe_stand_in, trusted):
    refusal = {"error": {"type": "invalid_request_error", "code": "charge_already_refunded"}}
    base = stripe_stand_in(reply(400, refusal))
    with pytest.raises(StripeApiError) as raised:
        StripeApi("sk_test_local", base_url=base).create_refund({}, idempotency_key="k")
    error = raised.value
    assert (error.status, error.code, error.request_id) == (
        400,
        "charge_already_refunded",
        "req_local_1",
    )
    assert error.invalid_request


def test_a_certificate_nobody_vouches_for_is_refused(stripe_stand_in):
    calls: list[dict[str, Any]] = []
    base = stripe_stand_in(lambda request, seen: calls.append(seen))
    send = urllib_transport()
    api = StripeApi("sk_test_local", send=send, base_url=base, sleep=lambda _: None)
    with pytest.raises(StripeApiError) as raised:
        api.create_refund({}, idempotency_key="k")
    assert raised.value.status is None  # no answer: the TLS handshake failed
    assert calls == []  # nothing, the key included, was sent


def test_a_server_that_stops_answering_is_given_up_on(stripe_stand_in, trusted):
    release = threading.Event()

    def hang(request: BaseHTTPRequestHandler, seen: dict[str, Any]) -> None:
        # Then the handler returns without an answer: the connection closes.
        # Without its read timeout the client would see that, not a timeout.
        release.wait(3)

    base = stripe_stand_in(hang)
    send = urllib_transport(connect_timeout=20, read_timeout=0.3)
    try:
        with pytest.raises(TimeoutError):
            send(HttpRequest("POST", base + "/v1/refunds", {}, b""))
    finally:
        release.set()
