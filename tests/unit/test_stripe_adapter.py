"""The Stripe adapter against the real ``stripe`` library, with its HTTP
layer replaced (no network): what we send and how we read the answers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
import stripe

from chalicelib.domain.order import PaymentMethod
from chalicelib.payments.ports import (
    CheckoutRequest,
    NothingLeftToRefund,
    PaymentProviderUnavailable,
    RefundRejected,
)
from chalicelib.payments.stripe_adapter import StripeProvider
from chalicelib.services import catalog
from tests.unit.test_payment_service import place


class RecordingHttp(stripe.HTTPClient):
    """Answers each request with the next canned (status, body)."""

    name = "recording"

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        super().__init__()
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(
            {
                "method": method,
                "url": url,
                "headers": dict(headers or {}),
                "form": parse_qs(post_data or ""),
            }
        )
        status, body = self.answers.pop(0)
        return json.dumps(body), status, {"request-id": "req_1"}

    def close(self):
        pass


def provider(answers: list[tuple[int, dict[str, Any]]]) -> tuple[StripeProvider, RecordingHttp]:
    http = RecordingHttp(answers)
    client = stripe.StripeClient("sk_test_unit", http_client=http, max_network_retries=0)
    return StripeProvider(lambda: client), http


@pytest.fixture
def order(ctx):
    catalog.save_product("tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal(7), ctx=ctx)
    catalog.count_stock("tea", 10, ctx)
    return place(ctx).order


def test_checkout_session_charges_the_order_total_and_names_the_order(order, clock):
    adapter, http = provider(
        [
            (
                200,
                {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                },
            )
        ]
    )
    due = clock() + timedelta(hours=2)
    checkout = adapter.start_checkout(
        CheckoutRequest(
            order=order, success_url="https://shop/ok", cancel_url="https://shop/no", expires_at=due
        )
    )
    assert (checkout.session_id, checkout.redirect_url) == (
        "cs_test_1",
        "https://checkout.stripe.com/c/pay/cs_test_1",
    )
    (sent,) = http.requests
    assert sent["url"].endswith("/v1/checkout/sessions")
    assert sent["headers"]["Idempotency-Key"] == f"checkout:{order.id}"
    form = {k: v[0] for k, v in sent["form"].items()}
    assert form["client_reference_id"] == order.id
    assert form["metadata[order_id]"] == order.id
    assert form["payment_intent_data[metadata][order_id]"] == order.id
    assert form["line_items[0][price_data][unit_amount]"] == str(order.totals.total)
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["payment_method_types[0]"] == "card"
    assert form["expires_at"] == str(int(due.timestamp()))


def test_paypal_orders_open_stripes_paypal_checkout(order):
    adapter, http = provider(
        [(200, {"id": "cs_2", "object": "checkout.session", "url": "https://x"})]
    )
    paypal = replace(order, payment_method=PaymentMethod.PAYPAL)
    adapter.start_checkout(
        CheckoutRequest(order=paypal, success_url="s", cancel_url="c", expires_at=None)
    )
    form = http.requests[0]["form"]
    assert form["payment_method_types[0]"] == ["paypal"]
    assert "expires_at" not in form


def test_a_refund_reports_the_charges_cumulative_refunded_amount():
    adapter, http = provider(
        [
            (
                200,
                {
                    "id": "re_1",
                    "object": "refund",
                    "amount": 300,
                    "charge": {
                        "id": "ch_1",
                        "object": "charge",
                        "amount": 1000,
                        "amount_refunded": 700,
                    },
                },
            )
        ]
    )
    result = adapter.refund(reference="pi_1", amount=300, currency="EUR", idempotency_key="k-1")
    assert (result.refund_id, result.refunded_total) == ("re_1", 700)
    form = http.requests[0]["form"]
    assert form["payment_intent"] == ["pi_1"] and form["amount"] == ["300"]
    assert form["expand[0]"] == ["charge"]
    assert http.requests[0]["headers"]["Idempotency-Key"] == "k-1"


def test_a_full_refund_asks_for_what_is_left():
    adapter, http = provider([(200, {"id": "re_2", "object": "refund", "charge": "ch_1"})])
    result = adapter.refund(reference="pi_1", amount=None, currency="EUR", idempotency_key="k-2")
    assert "amount" not in http.requests[0]["form"]
    assert result.refunded_total is None  # charge not expanded: the caller adds it up


@pytest.mark.parametrize(
    ("status", "error", "raised"),
    [
        (
            400,
            {"type": "invalid_request_error", "code": "charge_already_refunded"},
            NothingLeftToRefund,
        ),
        (400, {"type": "invalid_request_error", "code": "amount_too_large"}, RefundRejected),
        (500, {"type": "api_error"}, PaymentProviderUnavailable),
    ],
)
def test_stripe_errors_become_our_errors(status, error, raised):
    adapter, _ = provider([(status, {"error": {"message": "no", **error}})])
    with pytest.raises(raised):
        adapter.refund(reference="pi_1", amount=100, currency="EUR", idempotency_key="k")
