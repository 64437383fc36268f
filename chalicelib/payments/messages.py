"""Payment events as queue messages (JSON), both ways.

Writing is plain ``json`` over the dataclass's fields (the webhook writes
one per callback and should not build a validator for it); reading
validates with pydantic, whose adapter is built by the consumer's first
message. ``tests/unit/test_payment_messages.py`` holds the two to each other.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import TYPE_CHECKING

from chalicelib.domain.provider_events import PaymentEvent

if TYPE_CHECKING:
    from pydantic import TypeAdapter


def to_message(event: PaymentEvent) -> str:
    fields = dataclasses.asdict(event)
    fields["kind"] = event.kind.value
    fields["occurred_at"] = event.occurred_at.isoformat()
    return json.dumps(fields, separators=(",", ":"))


@functools.cache
def _adapter() -> TypeAdapter[PaymentEvent]:
    from pydantic import TypeAdapter

    return TypeAdapter(PaymentEvent)


def from_message(body: str) -> PaymentEvent:
    """Raises pydantic's ValidationError for a message that is not an event."""
    return _adapter().validate_json(body)
