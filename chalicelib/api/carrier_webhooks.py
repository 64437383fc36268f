"""Carrier callbacks: signed tracking events in our generic format
(docs/fulfilment.md). Answers 200 for applied, duplicate and stale events
alike, so the sender stops retrying; 401 for a bad signature; 404 while no
shipment has the tracking number (the sender retries later)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import wiring
from chalicelib.api.contract import documented
from chalicelib.api.fulfilment_schemas import TrackingAckOut, TrackingEventIn
from chalicelib.api.http import parse_body, raw_body, route
from chalicelib.carriers import signing
from chalicelib.domain import carriers as links
from chalicelib.domain import errors
from chalicelib.domain.shipment import TrackingEvent, TrackingStatus
from chalicelib.services import fulfilment

carrier_webhooks = Blueprint(__name__)


@route(carrier_webhooks, "/webhooks/carriers/{carrier}", methods=["POST"])
@documented(
    "A carrier's signed tracking event (our generic format, docs/fulfilment.md)",
    description="200 for applied, duplicate and stale events alike (`outcome`); 404 "
    "while no shipment has the tracking number (retry later).",
    ok={200: TrackingAckOut},
    body=TrackingEventIn,
    auth="carrier_signature",
    errors=(errors.InvalidCarrierSignature, errors.ShipmentNotFound),
)
def receive_tracking_event(carrier: str) -> dict[str, Any]:
    request = carrier_webhooks.current_request
    ctx = wiring.context()
    # The signature is checked on the raw bytes before anything is parsed
    # (and their size before the signature).
    fulfilment.verify_tracking_callback(raw_body(request), request.headers.get(signing.HEADER), ctx)
    body = parse_body(request, TrackingEventIn)
    event = TrackingEvent(
        event_id=body.event_id,
        carrier=links.normalise_carrier(carrier),
        tracking_number=body.tracking_number,
        status=TrackingStatus(body.status),
        occurred_at=body.occurred_at,
        location=body.location,
        description=body.description,
    )
    return TrackingAckOut(outcome=fulfilment.apply_tracking_event(event, ctx)).model_dump()
