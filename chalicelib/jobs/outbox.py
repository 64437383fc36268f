"""The event outbox: the table's stream -> one EventBridge event per history entry.

A state change and its history entry are written in one transaction, so
publishing history entries from the stream gives "no state change without
its event, no event without its state change". The stream delivers at least
once: a record published twice yields two events with the same ``event_id``,
and consumers deduplicate on it (see chalicelib/store/email_receipts.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib import bootstrap
from chalicelib.config import outbox_settings, table_stream_arn
from chalicelib.observability import logger, metrics, per_invocation

outbox = Blueprint(__name__)

#: PutEvents takes at most ten entries per call.
_PUT_EVENTS_LIMIT = 10
#: Copied from the history item into the detail when present: an order
#: entry carries ``order``, a cart entry ``cart``.
_SNAPSHOTS = ("order", "cart")


class PublishFailed(Exception):
    """EventBridge refused some entries; the stream batch must be retried."""


def event_id(item: dict[str, Any]) -> str:
    """Stable per history entry, so a re-published record has the same id."""
    return hashlib.sha256(f"{item['PK']}|{item['SK']}".encode()).hexdigest()[:32]


def event_for(item: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(detail-type, detail) for a new history item of an order or a cart
    (``cart_event``, see docs/schedules.md), None for any other item."""
    if item.get("entity") not in ("history", "cart_event"):
        return None
    # Here, not at import: app.py imports this module to register the stream
    # handler, and the API function must not define the event models at its
    # cold start. The outbox function loads them at init (``prepare``).
    from chalicelib.domain.events import envelope

    detail = envelope(
        event_id=event_id(item),
        occurred_at=item["at"],
        actor=item.get("actor", "system"),
        message=item.get("message", ""),
        visibility=item.get("visibility", "customer"),
        data=item.get("data", {}),
        snapshots={name: item[name] for name in _SNAPSHOTS if name in item},
    )
    return item["event"], detail


def new_items(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The new images of inserted items; history entries are never updated."""
    # Here, not at import: the conversion pulls in boto3, and app.py imports
    # this module too; boto3 loads where a function needs it (in Lambda at
    # init, bootstrap.prepare_at_init).
    from chalicelib.store.attributes import from_dynamo

    return [
        from_dynamo(record["dynamodb"]["NewImage"])
        for record in records
        if record.get("eventName") == "INSERT" and "NewImage" in record.get("dynamodb", {})
    ]


def publish(events: Sequence[tuple[str, dict[str, Any]]], client: Any, bus: str) -> int:
    """Put the events on the bus in order; raise PublishFailed if any is refused."""
    from chalicelib.domain.events import SOURCE

    for start in range(0, len(events), _PUT_EVENTS_LIMIT):
        chunk = events[start : start + _PUT_EVENTS_LIMIT]
        response = client.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                }
                for detail_type, detail in chunk
            ]
        )
        if response.get("FailedEntryCount", 0):
            entries = response.get("Entries", [])
            codes = sorted({e["ErrorCode"] for e in entries if "ErrorCode" in e})
            logger.error("events not published", failed=response["FailedEntryCount"], codes=codes)
            # The whole batch is retried: entries already accepted go out
            # again with the same event_id and are deduplicated downstream.
            raise PublishFailed(f"{response['FailedEntryCount']} events refused")
    return len(events)


def publish_records(records: Iterable[dict[str, Any]]) -> int:
    events = [event for item in new_items(records) if (event := event_for(item))]
    published = publish(events, bootstrap.aws_client("events"), outbox_settings().event_bus_name)
    if published:
        logger.info("events published", count=published)
        metrics.add_metric(name="EventsPublished", unit="Count", value=published)
    return published


@outbox.on_dynamodb_record(
    stream_arn=table_stream_arn(), name="publish_order_events", starting_position="TRIM_HORIZON"
)
@per_invocation
def publish_order_events(event: DynamoDBEvent) -> None:
    publish_records(event.to_dict().get("Records", []))


def prepare() -> None:
    """The EventBridge client, the item conversion and the event envelope,
    made at init (bootstrap.prepare_at_init)."""
    import chalicelib.domain.events
    import chalicelib.store.attributes  # noqa: F401

    bootstrap.aws_client("events")


bootstrap.prepare_at_init(__name__, prepare)
