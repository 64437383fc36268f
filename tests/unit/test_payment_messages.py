"""The queue's message format: what the webhook writes, the consumer reads back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from chalicelib.domain.provider_events import PaymentEvent, PaymentEventKind
from chalicelib.payments.messages import from_message, to_message

texts = st.text(min_size=1, max_size=20)
optional_ints = st.none() | st.integers(min_value=0, max_value=10**12)
events = st.builds(
    PaymentEvent,
    provider=texts,
    event_id=texts,
    kind=st.sampled_from(PaymentEventKind),
    order_id=st.text(max_size=20),
    occurred_at=st.datetimes(timezones=st.just(UTC)),
    reference=st.none() | texts,
    amount=optional_ints,
    currency=st.none() | st.sampled_from(["EUR", "CHF"]),
    refunded_total=optional_ints,
    reason=st.none() | texts,
)


@given(events)
def test_every_event_survives_the_queue_unchanged(event: PaymentEvent):
    assert from_message(to_message(event)) == event


@given(events)
def test_the_written_message_is_what_pydantic_would_write(event: PaymentEvent):
    # The hand-written writer and pydantic's serialisation agree on every
    # field's value (times compared as instants, as both parse them).
    ours = json.loads(to_message(event))
    theirs = json.loads(TypeAdapter(PaymentEvent).dump_json(event))
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        if name == "occurred_at":
            assert datetime.fromisoformat(ours[name]) == datetime.fromisoformat(value)
        else:
            assert ours[name] == value, name


def test_an_offset_other_than_utc_keeps_its_instant():
    berlin = timezone(timedelta(hours=1))
    event = PaymentEvent(
        provider="stripe",
        event_id="evt_1",
        kind=PaymentEventKind.SUCCEEDED,
        order_id="o-1",
        occurred_at=datetime(2026, 12, 3, 7, 30, tzinfo=berlin),
        reference="pi_1",
        amount=1999,
        currency="EUR",
    )
    read = from_message(to_message(event))
    assert read.occurred_at == datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    assert read.kind is PaymentEventKind.SUCCEEDED


@pytest.mark.parametrize(
    "body",
    [
        "{}",
        '{"provider": "stripe"}',
        '{"provider":"stripe","event_id":"e","kind":"stolen","order_id":"o",'
        '"occurred_at":"2026-12-03T06:00:00+00:00"}',
        "not json",
    ],
)
def test_a_message_that_is_no_event_is_refused(body: str):
    with pytest.raises(ValidationError):
        from_message(body)
