"""Signed callbacks: signed exactly as Stripe documents it (and as the
``stripe`` library itself signs test payloads), verified by our adapters."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import stripe

from chalicelib.payments import signing
from chalicelib.payments.fake import payment_failed_event, signed_request
from chalicelib.payments.hmac_adapter import HmacCallbacks
from chalicelib.payments.ports import InvalidSignature, MalformedEvent, StaleSignature
from chalicelib.payments.stripe_adapter import StripeCallbacks

BODY = b'{"id":"evt_1","type":"checkout.session.expired","created":1,"data":{"object":{}}}'


def test_our_signature_is_byte_for_byte_the_one_the_stripe_library_makes():
    ours = signing.sign("whsec_x", 1_800_000_000, BODY)
    theirs = stripe.WebhookSignature.generate_signature_header(
        BODY.decode(), "whsec_x", timestamp=1_800_000_000
    )
    assert ours == theirs


@pytest.fixture
def stripe_callbacks() -> StripeCallbacks:
    # Two active secrets: a rotation in progress.
    return StripeCallbacks(lambda: ["whsec_old", "whsec_new"])


def _stripe_event(order_id: str = "order-1") -> bytes:
    event = {
        "id": "evt_123",
        "type": "checkout.session.expired",
        "created": 1_800_000_000,
        "data": {"object": {"id": "cs_1", "client_reference_id": order_id}},
    }
    return json.dumps(event).encode()


@pytest.mark.parametrize("secret", ["whsec_old", "whsec_new"])
def test_accepts_a_callback_signed_with_any_active_secret(stripe_callbacks, clock, secret):
    body = _stripe_event()
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=int(clock().timestamp())
    )
    verified = stripe_callbacks.verify(body, {"Stripe-Signature": header}, clock())
    assert verified.event_id == "evt_123"
    assert verified.event is not None and verified.event.order_id == "order-1"


def test_accepts_a_header_carrying_several_v1_signatures(stripe_callbacks, clock):
    body = _stripe_event()
    t = int(clock().timestamp())
    header = f"t={t},v1={'0' * 64},v1={signing.signature('whsec_new', t, body)}"
    assert (
        stripe_callbacks.verify(body, {"stripe-signature": header}, clock()).event_id == "evt_123"
    )


def test_rejects_a_tampered_body(stripe_callbacks, clock):
    body = _stripe_event()
    header = signing.sign("whsec_new", int(clock().timestamp()), body)
    tampered = body.replace(b"order-1", b"order-2")
    with pytest.raises(InvalidSignature):
        stripe_callbacks.verify(tampered, {"Stripe-Signature": header}, clock())


def test_rejects_a_wrong_secret(stripe_callbacks, clock):
    body = _stripe_event()
    header = signing.sign("whsec_retired", int(clock().timestamp()), body)
    with pytest.raises(InvalidSignature):
        stripe_callbacks.verify(body, {"Stripe-Signature": header}, clock())


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_rejects_a_timestamp_outside_the_tolerance(stripe_callbacks, clock, skew):
    body = _stripe_event()
    header = signing.sign("whsec_new", int(clock().timestamp()) + skew, body)
    with pytest.raises(StaleSignature):
        stripe_callbacks.verify(body, {"Stripe-Signature": header}, clock())


def test_accepts_a_timestamp_just_inside_the_tolerance(stripe_callbacks, clock):
    body = _stripe_event()
    header = signing.sign("whsec_new", int((clock() - timedelta(seconds=299)).timestamp()), body)
    assert stripe_callbacks.verify(body, {"Stripe-Signature": header}, clock()).event_id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": ""},
        {"Stripe-Signature": "t=abc,v1=00"},
        {"Stripe-Signature": "t=\u00b2,v1=00"},  # a digit to str.isdigit, not to int()
        {"Stripe-Signature": "t=1"},
    ],
)
def test_rejects_a_missing_or_malformed_header(stripe_callbacks, clock, headers):
    with pytest.raises(InvalidSignature):
        stripe_callbacks.verify(_stripe_event(), headers, clock())


def test_rejects_everything_when_no_secret_is_configured(clock):
    body = _stripe_event()
    header = signing.sign("whsec_new", int(clock().timestamp()), body)
    with pytest.raises(InvalidSignature):
        StripeCallbacks(lambda: []).verify(body, {"Stripe-Signature": header}, clock())


def test_a_correctly_signed_body_that_is_not_an_event_is_malformed(stripe_callbacks, clock):
    body = b'{"hello": "world"}'
    header = signing.sign("whsec_new", int(clock().timestamp()), body)
    with pytest.raises(MalformedEvent):
        stripe_callbacks.verify(body, {"Stripe-Signature": header}, clock())


def test_the_fake_providers_signed_request_verifies(stripe_callbacks, clock, pay_ctx):
    from tests.unit.test_payment_service import place

    order = place(pay_ctx).order
    body, headers = signed_request(
        payment_failed_event(order), "whsec_old", int(clock().timestamp())
    )
    verified = stripe_callbacks.verify(body, headers, clock())
    assert verified.event is not None
    assert verified.event.order_id == order.id
    assert verified.event.reason == "insufficient_funds"


def test_hmac_format_uses_the_same_scheme_in_its_own_header(clock):
    callbacks = HmacCallbacks(lambda: ["hmac_a"])
    body = json.dumps(
        {
            "id": "psp-1",
            "type": "payment.succeeded",
            "created": 1_800_000_000,
            "order_id": "order-9",
            "reference": "txn-9",
            "amount": 1000,
            "currency": "EUR",
        }
    ).encode()
    header = signing.sign("hmac_a", int(clock().timestamp()), body)
    event = callbacks.verify(body, {"Shop-Signature": header}, clock()).event
    assert event is not None
    assert (event.order_id, event.reference, event.amount, event.currency) == (
        "order-9",
        "txn-9",
        1000,
        "EUR",
    )
    with pytest.raises(InvalidSignature):
        callbacks.verify(body, {"Stripe-Signature": header}, clock())


def test_hmac_success_without_an_amount_is_malformed(clock):
    callbacks = HmacCallbacks(lambda: ["hmac_a"])
    body = json.dumps(
        {
            "id": "psp-2",
            "type": "payment.succeeded",
            "created": 1,
            "order_id": "o",
            "reference": "r",
        }
    ).encode()
    header = signing.sign("hmac_a", int(clock().timestamp()), body)
    with pytest.raises(MalformedEvent) as raised:
        callbacks.verify(body, {"Shop-Signature": header}, clock())
    assert raised.value.details == {"missing": ["amount", "currency"]}
