"""Shipments, carrier tracking events and the shipment's lifecycle.

A shipment is one parcel: the lines it carries, the carrier and the tracking
number. Carriers report tracking events at least once and in any order, so a
shipment only ever moves forward:

- events are taken in the order they happened at the carrier (``occurred_at``),
  never in the order they arrive: an event no newer than the last one taken
  is a no-op (this also makes a duplicate a no-op);
- ``delivered`` and ``returned_to_sender`` are final: nothing moves a
  delivered shipment back to ``in_transit``;
- progress never goes backwards (``out_for_delivery`` is not followed by
  ``label_created``); an ``exception`` may interrupt at any time before the
  end, and the parcel may go on from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class TrackingStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


_T = TrackingStatus
#: How far a parcel has come. An exception has no rank: it can happen at any stage.
_PROGRESS: Mapping[TrackingStatus, int] = {
    _T.LABEL_CREATED: 0,
    _T.IN_TRANSIT: 1,
    _T.OUT_FOR_DELIVERY: 2,
    _T.DELIVERY_ATTEMPTED: 2,  # tried today, out for delivery again tomorrow
    _T.DELIVERED: 3,
    _T.RETURNED_TO_SENDER: 3,
}
FINAL = frozenset({_T.DELIVERED, _T.RETURNED_TO_SENDER})


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier report about one parcel (chalicelib/carriers/events.py)."""

    event_id: str
    carrier: str
    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime
    location: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Shipment:
    id: str
    order_id: str
    carrier: str
    tracking_number: str
    tracking_url: str
    lines: tuple[ShipmentLine, ...]
    shipped_at: datetime
    status: TrackingStatus = TrackingStatus.LABEL_CREATED
    #: When the carrier's newest event taken happened (None: no event yet).
    last_event_at: datetime | None = None
    delivered_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def is_delivered(self) -> bool:
        return self.status is TrackingStatus.DELIVERED

    def track(self, event: TrackingEvent) -> Shipment | None:
        """The shipment after ``event``, or None when the event changes
        nothing (duplicate, older than what we know, or after the end)."""
        if self.is_final:
            return None
        if self.last_event_at is not None and event.occurred_at <= self.last_event_at:
            return None
        exception = TrackingStatus.EXCEPTION
        if (
            event.status is not exception
            and self.status is not exception
            and _PROGRESS[event.status] < _PROGRESS[self.status]
        ):
            return None
        return replace(
            self,
            status=event.status,
            last_event_at=event.occurred_at,
            delivered_at=event.occurred_at if event.status is TrackingStatus.DELIVERED else None,
        )


@dataclass(frozen=True)
class Claim:
    """Something that may happen once, written with the change that uses it
    and refused by the store if it exists: a carrier's tracking number (which
    also finds the shipment for tracking events), a carrier event id (a
    replayed event is ignored), a refund key (a retried refund pays once)."""

    kind: str  # "tracking_number", "carrier_event", "refund"
    scope: str  # the carrier, or the order id for refunds
    value: str
    order_id: str
    shipment_id: str | None = None
