"""The Stripe adapter over StripeApi, with Stripe's side of the wire
canned (no network): what we send and how we read the answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.errors import NothingLeftToRefund, PaymentProviderUnavailable, RefundRejected
from chalicelib.domain.order import PaymentMethod
from chalicelib.payments.stripe_adapter import StripeProvider
from chalicelib.services import catalog
from chalicelib.services.ports import CheckoutRequest
from tests.unit.stripe_http import StripeWire, answer, stripe_error
from tests.unit.test_payment_service import place


def provider(*answers) -> tuple[StripeProvider, StripeWire]:
    wire = StripeWire(*answers)
    api = wire.api()
    return StripeProvider(lambda: api), wire


@pytest.fixture
def order(ctx):
    catalog.save_product("tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal(7), ctx=ctx)
    catalog.count_stock("tea", 10, ctx)
    return place(ctx).order


def test_checkout_session_charges_the_order_total_and_names_the_order(order, clock):
    adapter, http = provider(
        answer(
            200,
            {
                "id": "cs_test_1",
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
            },
        )
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
    assert (sent.method, sent.url) == ("POST", "https://api.stripe.com/v1/checkout/sessions")
    assert sent.headers["Idempotency-Key"] == f"checkout:{order.id}"
    form = http.form()
    assert form["client_reference_id"] == order.id
    assert form["metadata[order_id]"] == order.id
    assert form["payment_intent_data[metadata][order_id]"] == order.id
    assert form["line_items[0][price_data][unit_amount]"] == str(order.totals.total)
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["payment_method_types[0]"] == "card"
    assert form["expires_at"] == str(int(due.timestamp()))


def test_paypal_orders_open_stripes_paypal_checkout(order):
    adapter, http = provider(
        answer(200, {"id": "cs_2", "object": "checkout.session", "url": "https://x"})
    )
    paypal = replace(order, payment_method=PaymentMethod.PAYPAL)
    adapter.start_checkout(
        CheckoutRequest(order=paypal, success_url="s", cancel_url="c", expires_at=None)
    )
    form = http.form()
    assert form["payment_method_types[0]"] == "paypal"
    assert "expires_at" not in form


def test_a_refund_reports_the_charges_cumulative_refunded_amount():
    adapter, http = provider(
        answer(
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
    )
    result = adapter.refund(reference="pi_1", amount=300, currency="EUR", idempotency_key="k-1")
    assert (result.refund_id, result.refunded_total) == ("re_1", 700)
    assert http.requests[0].url == "https://api.stripe.com/v1/refunds"
    assert http.form() == {"payment_intent": "pi_1", "amount": "300", "expand[0]": "charge"}
    assert http.requests[0].headers["Idempotency-Key"] == "k-1"


def test_a_full_refund_asks_for_what_is_left():
    adapter, http = provider(answer(200, {"id": "re_2", "object": "refund", "charge": "ch_1"}))
    result = adapter.refund(reference="pi_1", amount=None, currency="EUR", idempotency_key="k-2")
    assert "amount" not in http.form()
    assert result.refunded_total is None  # charge not expanded: the caller adds it up


# The mapping the adapter had on the stripe library: the library's
# InvalidRequestError (400/404, but not an idempotency conflict or a rate
# limit) is a refusal; every other failure means "try again later".
@pytest.mark.parametrize(
    ("answers", "raised", "code"),
    [
        (
            [stripe_error(400, "invalid_request_error", "charge_already_refunded")],
            NothingLeftToRefund,
            None,
        ),
        (
            [stripe_error(400, "invalid_request_error", "amount_too_large")],
            RefundRejected,
            "amount_too_large",
        ),
        (
            [stripe_error(404, "invalid_request_error", "resource_missing")],
            RefundRejected,
            "resource_missing",
        ),
        (
            [stripe_error(400, "invalid_request_error", "rate_limit")],
            PaymentProviderUnavailable,
            None,
        ),
        ([stripe_error(400, "idempotency_error")], PaymentProviderUnavailable, None),
        ([stripe_error(401, "invalid_request_error")], PaymentProviderUnavailable, None),
        ([stripe_error(402, "card_error", "card_declined")], PaymentProviderUnavailable, None),
        ([stripe_error(403, "invalid_request_error")], PaymentProviderUnavailable, None),
        ([stripe_error(500, "api_error")] * 3, PaymentProviderUnavailable, None),
        (
            [stripe_error(429, "rate_limit_error", "rate_limit")] * 3,
            PaymentProviderUnavailable,
            None,
        ),
        ([stripe_error(409, "idempotency_error")] * 3, PaymentProviderUnavailable, None),
        ([TimeoutError("read timed out")] * 3, PaymentProviderUnavailable, None),
        ([answer(200, {"unexpected": True})], PaymentProviderUnavailable, None),
    ],
)
def test_stripe_errors_become_our_errors(answers, raised, code):
    adapter, _ = provider(*answers)
    with pytest.raises(raised) as caught:
        adapter.refund(reference="pi_1", amount=100, currency="EUR", idempotency_key="k")
    assert type(caught.value) is raised
    if code:
        assert caught.value.details.get("code") == code


@pytest.mark.parametrize(
    "failure",
    [
        stripe_error(400, "invalid_request_error", "parameter_invalid_integer"),
        stripe_error(500, "api_error"),
        TimeoutError("timed out"),
    ],
)
def test_a_checkout_stripe_cannot_start_is_unavailable_not_a_refusal(order, failure):
    adapter, _ = provider(*[failure] * 3)
    with pytest.raises(PaymentProviderUnavailable):
        adapter.start_checkout(
            CheckoutRequest(order=order, success_url="s", cancel_url="c", expires_at=None)
        )


def test_a_checkout_answer_without_a_page_is_unavailable(order):
    adapter, _ = provider(answer(200, {"id": "cs_3", "object": "checkout.session"}))
    with pytest.raises(PaymentProviderUnavailable):
        adapter.start_checkout(
            CheckoutRequest(order=order, success_url="s", cancel_url="c", expires_at=None)
        )
