"""Payment events as queue messages (JSON), both ways."""

from __future__ import annotations

from pydantic import TypeAdapter

from chalicelib.domain.payments import PaymentEvent

_ADAPTER = TypeAdapter(PaymentEvent)


def to_message(event: PaymentEvent) -> str:
    return _ADAPTER.dump_json(event).decode()


def from_message(body: str) -> PaymentEvent:
    """Raises pydantic's ValidationError for a message that is not an event."""
    return _ADAPTER.validate_json(body)
