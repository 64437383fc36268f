"""The published catalogue of event schemas matches the models."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.domain import events
from local.email_samples import DETAIL_TYPES, sample

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "events.schema.json"


def test_the_committed_schema_file_matches_the_models():
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == json.loads(json.dumps(events.json_schemas())), (
        'regenerate: .venv/bin/python -c "import json; from chalicelib.domain.events import '
        "json_schemas; open('docs/events.schema.json','w').write(json.dumps(json_schemas(), "
        "indent=2, sort_keys=True)+'\\n')\""
    )


def test_every_sample_event_is_valid_against_its_model():
    for detail_type in DETAIL_TYPES:
        parsed = events.parse_detail(detail_type, sample(detail_type))
        assert parsed is not None
        assert parsed.schema_version == 1


def test_consumers_ignore_fields_added_later():
    detail = sample("OrderShipped")
    detail["data"]["parcel_weight_grams"] = 1200
    detail["order"]["gift_wrap"] = True
    parsed = events.parse_detail("OrderShipped", detail)
    assert parsed.data.tracking_number == "00340434161094042557"


def test_every_detail_type_of_the_design_has_a_model():
    assert set(events.DETAIL_MODELS) == {
        "OrderPlaced",
        "OrderPaid",
        "PaymentFailed",
        "OrderCancelled",
        "OrderExpired",
        "OrderRefunded",
        "PaymentReminderDue",
        "OrderShipped",
        "OrderDelivered",
        "NoteAdded",
        "CartAbandoned",
        "ShipmentUpdated",
        "ReturnRecorded",
    }
