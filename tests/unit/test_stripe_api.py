"""StripeApi against the stripe library (a dev dependency, the reference):
the same form body, the same API version, and Stripe's retry rules, with
Stripe's side of the wire canned (no network).

Hypothesis runs derandomized (the same examples on every run); set
SHOP_HYPOTHESIS_EXAMPLES=2000 for a deeper run."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from urllib.error import URLError
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._api_version import _ApiVersion
from stripe._encode import _api_encode

from chalicelib.domain.errors import PaymentProviderUnavailable
from chalicelib.domain.order import PaymentMethod
from chalicelib.payments.stripe_adapter import StripeProvider, checkout_params
from chalicelib.payments.stripe_api import (
    API_VERSION,
    MAX_RETRIES,
    StripeApiError,
    encode_form,
)
from chalicelib.services.ports import CheckoutRequest
from tests.unit.stripe_http import API_KEY, StripeWire, answer, log_lines, stripe_error
from tests.unit.test_payment_service import place

EXAMPLES = int(os.environ.get("SHOP_HYPOTHESIS_EXAMPLES", "200"))


def library_form(params: dict) -> str:
    """What stripe-python 16.1 sends for these params (_api_requestor)."""
    encoded = urlencode(list(_api_encode(params)))
    return encoded.replace("%5B", "[").replace("%5D", "]")


def pairs(form: str) -> list[tuple[str, str]]:
    return sorted(parse_qsl(form, keep_blank_values=True))


# --- the wire format -----------------------------------------------------------------


def test_the_pinned_api_version_is_the_one_the_reference_library_pins():
    assert API_VERSION == _ApiVersion.CURRENT


@pytest.mark.parametrize("method", [PaymentMethod.CARD, PaymentMethod.PAYPAL])
@pytest.mark.parametrize("expires", [True, False])
def test_a_checkout_session_body_is_the_one_the_stripe_library_sends(ctx, clock, method, expires):
    order = replace(place(ctx).order, payment_method=method)
    params = checkout_params(
        CheckoutRequest(
            order=order,
            success_url="https://shop.example/ok?order=1&x={CHECKOUT_SESSION_ID}",
            cancel_url="https://shop.example/no?order=1",
            expires_at=clock() + timedelta(hours=1) if expires else None,
        )
    )
    wire = StripeWire(answer(200, {"id": "cs_1", "url": "https://checkout.stripe.com/x"}))
    wire.api().create_checkout_session(params, idempotency_key="checkout:1")
    sent = wire.requests[0].body.decode()
    assert pairs(sent) == pairs(library_form(params))
    assert ("line_items[0][price_data][currency]", "eur") in pairs(sent)
    assert ("metadata[order_id]", order.id) in pairs(sent)


@pytest.mark.parametrize("amount", [300, None])
def test_a_refund_body_is_the_one_the_stripe_library_sends(amount):
    adapter_answer = answer(200, {"id": "re_1", "charge": "ch_1"})
    wire = StripeWire(adapter_answer)
    StripeProvider(wire.api).refund(
        reference="pi_1", amount=amount, currency="EUR", idempotency_key="k"
    )
    params = {"payment_intent": "pi_1", "expand": ["charge"]}
    if amount is not None:
        params["amount"] = amount
    assert pairs(wire.requests[0].body.decode()) == pairs(library_form(params))
    assert ("expand[0]", "charge") in pairs(wire.requests[0].body.decode())


# Scalars the shop sends (text, integers) in any nesting of dicts and lists.
_keys = st.text(min_size=1, max_size=8)
_params = st.dictionaries(
    _keys,
    st.recursive(
        st.text(max_size=12) | st.integers(-(10**12), 10**12),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
        max_leaves=12,
    ),
    max_size=5,
)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(params=_params)
def test_any_nesting_of_text_and_numbers_encodes_as_the_library_encodes_it(params):
    assert pairs(encode_form(params)) == pairs(library_form(params))


def test_encoding_leaves_out_none_and_writes_booleans_as_stripe_expects():
    assert encode_form({"a": None, "b": True, "c": {"d": False, "e": None}}) == (
        "b=true&c[d]=false"
    )
    assert encode_form({"b": True, "c": {"d": False}}) == library_form(
        {"b": True, "c": {"d": False}}
    )


def test_each_request_carries_the_key_the_version_and_the_idempotency_key():
    wire = StripeWire(answer(200, {"id": "re_1"}))
    wire.api().create_refund({"payment_intent": "pi_1"}, idempotency_key="refund:o1:v3")
    headers = wire.requests[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Stripe-Version"] == _ApiVersion.CURRENT
    assert headers["Idempotency-Key"] == "refund:o1:v3"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert API_KEY not in repr(wire.api())


# --- retries ---------------------------------------------------------------------------


def test_a_server_error_is_retried_with_the_same_idempotency_key():
    wire = StripeWire(stripe_error(500, "api_error"), answer(200, {"id": "re_1"}))
    refund = wire.api().create_refund({"payment_intent": "pi_1"}, idempotency_key="k-500")
    assert refund == {"id": "re_1"}
    assert [r.headers["Idempotency-Key"] for r in wire.requests] == ["k-500", "k-500"]
    assert [r.body for r in wire.requests] == [wire.requests[0].body] * 2
    assert len(wire.sleeps) == 1 and wire.sleeps[0] >= 0.5


def test_rate_limiting_three_times_gives_up_after_three_attempts():
    wire = StripeWire(*[stripe_error(429, "rate_limit_error", "rate_limit")] * 4)
    with pytest.raises(PaymentProviderUnavailable):
        StripeProvider(wire.api).refund(
            reference="pi_1", amount=1, currency="EUR", idempotency_key="k"
        )
    assert len(wire.requests) == 1 + MAX_RETRIES == 3
    assert len(wire.sleeps) == 2 and all(0.5 <= s <= 1.0 for s in wire.sleeps)


@pytest.mark.parametrize(
    "failure",
    [
        URLError(ConnectionRefusedError(111, "Connection refused")),
        TimeoutError("The read operation timed out"),
        ConnectionResetError(104, "Connection reset by peer"),
        stripe_error(409, "idempotency_error"),
        stripe_error(503, "api_error"),
        stripe_error(400, "invalid_request_error", stripe_should_retry="true"),
    ],
)
def test_no_answer_a_conflict_in_flight_or_a_retry_advice_is_retried(failure):
    wire = StripeWire(failure, answer(200, {"id": "cs_1", "url": "u"}))
    assert wire.api().create_checkout_session({}, idempotency_key="k")["id"] == "cs_1"
    assert len(wire.requests) == 2


@pytest.mark.parametrize(
    "refusal",
    [
        stripe_error(400, "invalid_request_error", "charge_already_refunded"),
        stripe_error(402, "card_error"),
        stripe_error(404, "invalid_request_error", "resource_missing"),
        stripe_error(500, "api_error", stripe_should_retry="false"),
    ],
)
def test_a_refusal_is_not_retried(refusal):
    wire = StripeWire(refusal)
    with pytest.raises(StripeApiError) as raised:
        wire.api().create_refund({"payment_intent": "pi_1"}, idempotency_key="k")
    assert len(wire.requests) == 1 and wire.sleeps == []
    assert raised.value.status == refusal.status
    assert raised.value.request_id == "req_unit_1"


def test_a_garbled_error_body_still_fails_by_its_status():
    garbled = replace(stripe_error(502, "api_error"), body=b"<html>Bad gateway</html>")
    wire = StripeWire(garbled, garbled, garbled)
    with pytest.raises(StripeApiError) as raised:
        wire.api().create_refund({}, idempotency_key="k")
    assert (raised.value.status, raised.value.error_type, len(wire.requests)) == (502, None, 3)


# --- logs ------------------------------------------------------------------------------


def test_failures_log_stripes_request_id_but_never_the_key_or_the_customer(ctx):
    order = place(ctx).order
    wire = StripeWire(
        stripe_error(500, "api_error", request_id="req_abc"),
        TimeoutError("timed out"),
        stripe_error(400, "invalid_request_error", "email_invalid", request_id="req_def"),
    )
    with log_lines() as lines, pytest.raises(PaymentProviderUnavailable):
        StripeProvider(wire.api).start_checkout(
            CheckoutRequest(order=order, success_url="s", cancel_url="c", expires_at=None)
        )
    assert len(lines) == 3
    assert '"stripe_request_id":"req_abc"' in lines[0] and '"will_retry":true' in lines[0]
    assert '"network_error":"TimeoutError"' in lines[1]
    assert '"stripe_request_id":"req_def"' in lines[2] and '"will_retry":false' in lines[2]
    everything = "\n".join(lines)
    assert wire.requests[0].headers["Authorization"].endswith(API_KEY)
    assert API_KEY not in everything
    # The customer's email is in the request and in Stripe's error message:
    # neither reaches the logs.
    assert wire.form()["customer_email"] == order.customer.email
    assert order.customer.email not in everything and "erika@" not in everything


def test_the_deployed_client_reads_its_key_from_ssm_once(aws, monkeypatch):
    import boto3

    from chalicelib import bootstrap
    from chalicelib.payments.stripe_api import StripeApi

    parameter = "/shop/unit/stripe-api-key"
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=parameter, Value="sk_live_from_ssm", Type="SecureString")
    monkeypatch.setenv("SHOP_TABLE_NAME", "shop-unit")
    monkeypatch.setenv("SHOP_STRIPE_API_KEY_PARAMETER", parameter)
    bootstrap.reset()
    try:
        client = bootstrap.stripe_client()
        # Rotated after the first read: this warm instance keeps its key.
        ssm.put_parameter(Name=parameter, Value="sk_live_rotated", Type="SecureString",
                          Overwrite=True)  # fmt: skip
        assert isinstance(client, StripeApi) and bootstrap.stripe_client() is client
        assert client._api_key == "sk_live_from_ssm"
        assert "sk_live_from_ssm" not in repr(client)
    finally:
        ssm.delete_parameter(Name=parameter)
        bootstrap.reset()
