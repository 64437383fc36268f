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
        "regenerate: .venv/bin/python -m local.events_schema"
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
    assert set(events.detail_models()) == {
        "OrderPlaced",
        "OrderPaid",
        "PaymentFailed",
        "OrderCancelled",
        "OrderExpired",
        "OrderRefunded",
        "PaymentReminderDue",
        "OrderShipped",
        "OrderDelivered",
        # Click & collect (docs/fulfilment.md).
        "OrderReadyForPickup",
        "OrderPickedUp",
        "NoteAdded",
        "CartAbandoned",
        "ShipmentUpdated",
        "ReturnRecorded",
        # Payments the order could not simply take, and internal notes of
        # the provider's progress.
        "PaymentOnHold",
        "LatePaymentReceived",
        "DuplicatePaymentReceived",
        "PaymentProcessing",
        "PaymentSessionExpired",
        # Withdrawals (docs/withdrawal.md).
        "WithdrawalReceived",
        "WithdrawalRefunded",
        "WithdrawalReleased",
        "WithdrawalRefundReminder",
        # Invoices (docs/invoices.md).
        "InvoiceIssued",
        "CreditNoteIssued",
        "DocumentArchived",
    }


def _validators():
    import jsonschema_rs

    published = json.loads(SCHEMA_FILE.read_text())["detail_types"]
    return {name: jsonschema_rs.validator_for(schema) for name, schema in published.items()}


#: Events no email is made of, so local/email_samples.py has no sample: what
#: their producers put in ``data``.
_MORE_DATA = {
    "WithdrawalRefunded": {
        "withdrawal_id": "wd_1",
        "refund_total": 1190,
        "currency": "EUR",
        "refunded_at": "2026-11-30T10:00:00+00:00",
    },
    "WithdrawalReleased": {"withdrawal_id": "wd_1", "reason": "goods_returned"},
    "PaymentFailed": {"provider": "stripe", "reason": "card_declined"},
    "NoteAdded": {"note": "customer called: leave at the neighbour's"},
    "ShipmentUpdated": {
        "shipment_id": "shp-1",
        "carrier": "dhl",
        "tracking_number": "00340434161094042557",
        "status": "in_transit",
        "previous_status": "label_created",
        "occurred_at": "2026-11-24T08:00:00+00:00",
        "location": "Leipzig",
        "carrier_event_id": "evt-1",
    },
    "ReturnRecorded": {
        "return_id": "ret-1",
        "lines": [{"sku": "tea", "quantity": 1, "restock": True}],
        "credit": 1190,
        "surcharge": 0,
        "refund": 1190,
        "currency": "EUR",
        "reason": "returned by customer",
    },
    "PaymentOnHold": {
        "amount": 990,
        "currency": "EUR",
        "reference": "pi_1",
        "expected_amount": 1190,
        "expected_currency": "EUR",
    },
    "LatePaymentReceived": {
        "amount": 1190,
        "currency": "EUR",
        "reference": "pi_1",
        "reason": "payment arrived after the order was expired",
    },
    "DuplicatePaymentReceived": {
        "amount": 1190,
        "currency": "EUR",
        "reference": "pi_2",
        "reason": "the order was already paid",
    },
    "OrderPickedUp": {
        "location_id": "mitte",
        "picked_up_at": "2026-11-26T15:00:00+00:00",
        "lines": [{"sku": "tea-001", "quantity": 2}],
    },
    "PaymentProcessing": {},
    "PaymentSessionExpired": {},
    "InvoiceIssued": {
        "number": "RE-2026-00001",
        "issue_date": "2026-12-03",
        "gross": 1190,
        "net": 1000,
        "tax": 190,
        "currency": "EUR",
        "rates": [{"rate": "19", "net": 1000, "tax": 190, "gross": 1190}],
        "trigger": "payment",
    },
    "CreditNoteIssued": {
        "number": "GS-2026-00001",
        "issue_date": "2026-12-04",
        "invoice_number": "RE-2026-00001",
        "invoice_date": "2026-12-03",
        "gross": -1190,
        "net": -1000,
        "tax": -190,
        "currency": "EUR",
        "rates": [{"rate": "19", "net": -1000, "tax": -190, "gross": -1190}],
        "reason": "refund",
    },
}


def published_sample(detail_type: str) -> dict:
    if detail_type in DETAIL_TYPES and detail_type not in _MORE_DATA:
        detail = sample(detail_type)
    else:
        detail = {**sample("OrderPaid"), "data": _MORE_DATA[detail_type]}
    # As the outbox sends it: serialised to JSON and back.
    return json.loads(json.dumps(detail, default=str))


def test_every_published_event_type_validates_against_its_json_schema():
    validators = _validators()
    assert set(validators) == set(events.detail_models()) == set(DETAIL_TYPES) | set(_MORE_DATA)
    for detail_type in validators:
        detail = published_sample(detail_type)
        assert events.parse_detail(detail_type, detail) is not None
        errors = [e.message for e in validators[detail_type].iter_errors(detail)]
        assert not errors, (detail_type, errors)


def test_the_json_schemas_reject_a_detail_without_its_snapshot():
    validators = _validators()
    detail = published_sample("OrderPaid")
    del detail["order"]
    assert not validators["OrderPaid"].is_valid(detail)
    detail = published_sample("CartAbandoned")
    detail["cart"]["total"] = "12.00"
    assert not validators["CartAbandoned"].is_valid(detail)
