"""Events as the outbox really publishes them (stream -> EventBridge ->
queue) match the JSON Schemas we publish in docs/events.schema.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline import place

pytestmark = pytest.mark.integration
SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "events.schema.json"


def test_placed_and_cancelled_events_on_the_bus_match_their_published_schemas(
    api,
    pipeline,
):
    import jsonschema_rs

    published = json.loads(SCHEMA_FILE.read_text())
    order = place(api, locale="en")
    r = api.cancel(order, "changed my mind")
    assert r.status_code == 200, r.json
    received = [json.loads(m["body"]) for m in pipeline.flow()["Records"]]
    assert sorted(e["detail-type"] for e in received) == ["OrderCancelled", "OrderPlaced"]
    for event in received:
        assert event["source"] == published["source"]
        schema = published["detail_types"][event["detail-type"]]
        errors = [
            e.message for e in jsonschema_rs.validator_for(schema).iter_errors(event["detail"])
        ]
        assert not errors, (event["detail-type"], errors)
        assert event["detail"]["schema_version"] == published["schema_version"]
        assert event["detail"]["order"]["id"] == order["id"]
