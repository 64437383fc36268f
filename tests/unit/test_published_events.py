"""Every event the domain can produce, as the outbox publishes it, is valid
against the schema we publish (docs/events.schema.json).

Each event is made by the domain function that makes it in production and
goes the way a real one goes: the store's item (store/mapping.py,
store/carts.py), DynamoDB's typed JSON as the stream delivers it, the
outbox's stream handling and its PutEvents entry (jobs/outbox.py). Only the
EventBridge client is a recorder.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import cart as carts
from chalicelib.domain import deadlines, events, fulfilment, order_withdrawal, payments, pickup
from chalicelib.domain import order as orders
from chalicelib.domain.catalog import Product
from chalicelib.domain.order import Order, OrderChange, Visibility
from chalicelib.domain.pricing import Pickup, PickupLocation
from chalicelib.domain.provider_events import PaymentEvent, PaymentEventKind
from chalicelib.domain.shipment import ShipmentLine, TrackingEvent, TrackingStatus
from chalicelib.domain.withdrawal import LineRequest
from chalicelib.jobs import outbox
from chalicelib.store.attributes import to_dynamo
from chalicelib.store.carts import cart_event_to_item
from chalicelib.store.mapping import history_to_item

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "events.schema.json"
AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PRODUCTS = {
    "tea": Product(sku="tea", name="Darjeeling 100 g", price=1190, currency="EUR",
                   tax_rate=Decimal("7"), available=10),
    "mug": Product(sku="mug", name="Stoneware mug", price=1900, currency="EUR",
                   tax_rate=Decimal("19"), available=10),
}  # fmt: skip
CUSTOMER = orders.Customer(email="erika@example.com", name="Erika Mustermann")
ADDRESS = orders.Address(
    name="Erika Mustermann", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE"
)
TRACKING = "00340434161094042557"
STORE = PickupLocation(
    id="mitte", names={"de": "Laden Berlin-Mitte"}, line1="Torstr. 12", postal_code="10119",
    city="Berlin", country="DE", opening_hours={"de": "Mo-Fr 10-19 Uhr"},
)  # fmt: skip


def placed(method: orders.PaymentMethod = orders.PaymentMethod.CARD) -> orders.Placement:
    return orders.place(
        order_id="o-1",
        number="7K3M-9Q2X",
        token_hash="token-hash",
        requested=[orders.RequestedLine("tea", 2), orders.RequestedLine("mug", 1)],
        products=PRODUCTS,
        customer=CUSTOMER,
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=method,
        locale="de",
        now=AT,
        payment_window=timedelta(minutes=30),
    )


def provider_event(kind: PaymentEventKind, minutes: int, **fields: Any) -> PaymentEvent:
    return PaymentEvent(
        provider="stripe",
        event_id=f"evt-{kind.value}-{minutes}",
        kind=kind,
        order_id="o-1",
        occurred_at=AT + timedelta(minutes=minutes),
        **fields,
    )


def decided(order: Order, event: PaymentEvent) -> OrderChange:
    change = payments.decide(order, event, event.occurred_at).change
    assert change is not None, event
    return change


def order_changes() -> Iterator[OrderChange]:
    """Changes that, between them, write every kind of order history entry."""
    placement = placed()
    pending = placement.order
    yield OrderChange(
        order=pending,
        expected_status=pending.status,
        expected_version=0,
        history=(placement.history,),
    )
    total = pending.totals.total
    yield pending.cancel(actor="customer", reason="ordered by mistake", at=AT)
    expired = deadlines.expire(pending, at=AT + timedelta(minutes=31))
    yield expired
    yield deadlines.remind(placed(orders.PaymentMethod.BANK_TRANSFER).order, at=AT)

    yield decided(pending, provider_event(PaymentEventKind.FAILED, 1, reason="card_declined"))
    yield decided(pending, provider_event(PaymentEventKind.FAILED, 2))  # no reason given
    yield decided(pending, provider_event(PaymentEventKind.PROCESSING, 3))
    yield decided(pending, provider_event(PaymentEventKind.SESSION_EXPIRED, 4))
    paid = decided(
        pending,
        provider_event(
            PaymentEventKind.SUCCEEDED, 5, reference="pi_1", amount=total, currency="EUR"
        ),
    )
    yield paid
    held = decided(
        pending,
        provider_event(
            PaymentEventKind.SUCCEEDED, 5, reference="pi_1", amount=total - 1, currency="EUR"
        ),
    )
    yield held
    yield payments.mark_paid(held.order, reference="pi_1", actor="merchant", at=AT)
    yield payments.mark_paid(pending, reference="SEPA-2026-11-23-001", actor="merchant", at=AT)
    yield decided(
        paid.order,
        provider_event(
            PaymentEventKind.SUCCEEDED, 6, reference="pi_2", amount=total, currency="EUR"
        ),
    )
    yield decided(
        expired.order,
        provider_event(
            PaymentEventKind.SUCCEEDED, 40, reference="pi_3", amount=total, currency="EUR"
        ),
    )
    yield decided(
        paid.order,
        provider_event(PaymentEventKind.REFUNDED, 7, reference="pi_1", refunded_total=500),
    )
    refund = payments.record_refund(
        paid.order, "pi_1", 700, at=AT, actor="merchant", reason="damaged mug", refund_key="r-1"
    )
    assert refund is not None
    yield refund

    shipped = fulfilment.ship(
        paid.order,
        shipment_id="shp-1",
        carrier="dhl",
        tracking_number=TRACKING,
        tracking_url=f"https://www.dhl.de/track?piececode={TRACKING}",
        lines=[ShipmentLine("tea", 2), ShipmentLine("mug", 1)],
        actor="merchant",
        at=AT + timedelta(days=1),
    )
    yield shipped
    in_transit = fulfilment.track(
        shipped.order,
        shipped.shipments,
        "shp-1",
        TrackingEvent(event_id="c-1", carrier="dhl", tracking_number=TRACKING,
                      status=TrackingStatus.IN_TRANSIT, occurred_at=AT + timedelta(days=1, hours=2),
                      location="Leipzig"),
    )  # fmt: skip
    assert in_transit is not None
    yield in_transit
    delivered = fulfilment.track(
        in_transit.order,
        in_transit.shipments,
        "shp-1",
        TrackingEvent(event_id="c-2", carrier="dhl", tracking_number=TRACKING,
                      status=TrackingStatus.DELIVERED, occurred_at=AT + timedelta(days=2)),
    )  # fmt: skip
    assert delivered is not None
    yield delivered
    # A withdrawal of the mug: received, reminded, its goods back, refunded.
    berlin = ZoneInfo("Europe/Berlin")
    withdrawn = order_withdrawal.receive(
        delivered.order, delivered.shipments, [LineRequest("mug", 1)], fingerprint="f",
        at=AT + timedelta(days=3), timezone=berlin, actor="customer",
    )  # fmt: skip
    yield withdrawn
    withdrawal_id = withdrawn.order.withdrawals[0].id
    yield order_withdrawal.remind(
        withdrawn.order, withdrawal_id, "due_soon", at=AT + timedelta(days=14), timezone=berlin
    )
    returned = fulfilment.record_return(
        withdrawn.order, return_id="ret-2", lines=[fulfilment.ReturnedLine("mug", 1, restock=True)],
        surcharge=0, refund=1900, reason="withdrawal", actor="merchant", at=AT + timedelta(days=5),
    )  # fmt: skip
    released = order_withdrawal.release_after_return(
        returned, at=AT + timedelta(days=5), actor="merchant"
    )
    assert len(released.history) == 2
    yield released
    refund = payments.record_refund(
        released.order, "pi_1", 1900, at=AT + timedelta(days=5), actor="merchant"
    )
    assert refund is not None
    settled = order_withdrawal.settle_refunds(refund, at=AT + timedelta(days=5), actor="merchant")
    assert [e.event for e in settled.history] == ["OrderRefunded", "WithdrawalRefunded"]
    yield settled
    yield fulfilment.record_return(
        delivered.order,
        return_id="ret-1",
        lines=[fulfilment.ReturnedLine("mug", 1, restock=True)],
        surcharge=0,
        refund=1900,
        reason="arrived broken",
        actor="merchant",
        at=AT + timedelta(days=3),
    )
    # Click & collect: paid, ready at the counter, handed over against its code.
    collected = orders.place(
        order_id="o-2", number="7K3M-9Q2Y", token_hash="token-hash",
        requested=[orders.RequestedLine("tea", 1)], products=PRODUCTS, customer=CUSTOMER,
        shipping_address=None, billing_address=ADDRESS, payment_method=orders.PaymentMethod.CARD,
        locale="de", now=AT, payment_window=timedelta(minutes=30), shipping=Pickup(STORE),
    ).order  # fmt: skip
    paid_pickup = payments.mark_paid(collected, reference="SEPA-2", actor="merchant", at=AT)
    ready = pickup.ready_for_pickup(paid_pickup.order, code="123456", actor="merchant", at=AT)
    assert ready is not None
    yield ready
    handed = pickup.hand_over(ready.order, code="123456", actor="merchant", at=AT)
    assert handed is not None
    yield handed
    for visibility in Visibility:
        yield fulfilment.add_note(
            paid.order, note="Gift wrap, please", visibility=visibility, actor="merchant", at=AT
        )


def cart_nudge() -> carts.CartNudge:
    content = carts.CartContent(
        lines=(carts.CartLine("tea", 2), carts.CartLine("gone", 1)),
        email="erika@example.com",
        locale="de",
        consent_granted=True,
        consent_source="cart_page",
    )
    cart = carts.new_cart(
        cart_id="c-1", token_hash="h", content=content, at=AT, nudge_delay=timedelta(hours=10)
    )
    return carts.abandoned(
        cart,
        at=AT + timedelta(hours=10),
        recovery_token="recover",
        recovery_token_hash="recover-hash",
        opt_out_token="opt-out",
        opt_out_token_hash="opt-out-hash",
        email_hash=carts.email_hash("erika@example.com"),
        cart_url="https://shop.example.com/carts/c-1?token=recover",
        opt_out_url="https://shop.example.com/opt-out/opt-out",
        products=PRODUCTS,
    )


def stored_items() -> list[dict[str, Any]]:
    """The items the stores write for every event, as store/orders.py and
    store/carts.py write them."""
    items = [
        history_to_item(change.order, entry, index)
        for change in order_changes()
        for index, entry in enumerate(change.history)
    ]
    nudge = cart_nudge()
    return [*items, *invoice_items(), cart_event_to_item(nudge.cart, nudge.event)]


def invoice_items() -> list[dict[str, Any]]:
    """InvoiceIssued, CreditNoteIssued and DocumentArchived, as store/invoices.py
    writes them."""
    from chalicelib.domain import archive
    from chalicelib.domain import invoice as documents
    from chalicelib.store.invoices import INVOICE_ENTRY_INDEX
    from tests.invoice_samples import invoice_of
    from tests.invoice_samples import paid_order as invoiced_order

    order = invoiced_order()
    invoice = invoice_of(order)
    note = documents.credit_note_for(
        invoice,
        number="GS-2026-00001",
        amount=1000,
        credited=documents.Credited.nothing(),
        reason=documents.CreditReason.REFUND,
        source="evt-refund",
        issued_at=AT,
        issue_date=invoice.issue_date,
    )
    return [
        history_to_item(
            order,
            documents.invoice_entry(invoice, trigger="payment", at=AT),
            INVOICE_ENTRY_INDEX,
        ),
        history_to_item(order, documents.credit_note_entry(note, at=AT), INVOICE_ENTRY_INDEX + 1),
        history_to_item(
            order,
            archive.archive_entry(
                invoice,
                archive.ArchivedPdf(
                    key=archive.pdf_key(invoice),
                    version_id="v1",
                    sha256="ab" * 32,
                    size=2048,
                    stored_at=AT,
                ),
                at=AT,
            ),
            archive.entry_index(invoice, 0),
        ),
    ]


class EventBridge:
    """Records PutEvents calls and accepts every entry."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


def published() -> list[dict[str, Any]]:
    """The PutEvents entries the outbox makes of the stream records of every
    event's item (inserted, new image, DynamoDB's typed JSON)."""
    records = [
        {"eventName": "INSERT", "dynamodb": {"NewImage": to_dynamo(item)}}
        for item in stored_items()
    ]
    bus = EventBridge()
    made = [event for item in outbox.new_items(records) if (event := outbox.event_for(item))]
    assert outbox.publish(made, bus, "orders") == len(records)
    return bus.entries


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    return published()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def test_every_event_the_domain_produces_is_valid_against_its_published_schema(entries, schema):
    import jsonschema_rs

    validators = {
        name: jsonschema_rs.validator_for(detail_schema)
        for name, detail_schema in schema["detail_types"].items()
    }
    for entry in entries:
        detail = json.loads(entry["Detail"])
        assert (entry["Source"], entry["EventBusName"]) == (schema["source"], "orders")
        assert entry["DetailType"] in validators, entry["DetailType"]
        errors = [e.message for e in validators[entry["DetailType"]].iter_errors(detail)]
        assert not errors, (entry["DetailType"], errors)
        assert detail["schema_version"] == schema["schema_version"]
        # ... and its consumers' model reads it.
        assert events.parse_detail(entry["DetailType"], detail) is not None


def test_every_event_carries_only_fields_its_model_documents(entries):
    for entry in entries:
        detail = json.loads(entry["Detail"])
        model = events.EVENT_DATA[entry["DetailType"]]
        assert set(detail["data"]) <= set(model.model_fields), entry["DetailType"]


def test_the_events_produced_are_exactly_the_modelled_and_published_ones(entries, schema):
    produced = {entry["DetailType"] for entry in entries}
    assert produced == set(events.EVENT_DATA) == set(events.detail_models())
    assert produced == set(schema["detail_types"])


def _subclasses(model: type) -> set[type]:
    found = set()
    for sub in model.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_event_model_is_registered_under_its_event_name():
    models = {m for m in _subclasses(events.EventData) if not m.__name__.startswith("_")}
    assert models == set(events.EVENT_DATA.values())
    assert all(name == model.event for name, model in events.EVENT_DATA.items())


#: The only places that make a history entry or cart event from its fields:
#: the ``of`` constructors (from a model) and the store reading one back.
_RAW_CONSTRUCTION_ALLOWED = {"chalicelib/store/mapping.py"}


def test_producers_make_history_entries_only_from_event_models():
    """A hand-written ``HistoryEntry(event=..., data={...})`` would publish an
    event name and data no model checks: every producer goes through
    ``HistoryEntry.of`` / ``CartEvent.of``."""
    raw = []
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("HistoryEntry", "CartEvent")
                and relative not in _RAW_CONSTRUCTION_ALLOWED
            ):
                raw.append(f"{relative}:{node.lineno}")
    assert raw == []


def test_a_producer_that_leaves_out_a_required_field_fails_where_it_builds_the_event():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="amount"):
        events.OrderPaidData(currency="EUR", reference="pi_1")


def test_the_data_written_is_what_the_producer_gave():
    """Fields left to their defaults are not written; a field given as None
    is (the carrier gave no location)."""
    paid = events.OrderPaidData(amount=1190, currency="EUR", reference="pi_1")
    assert paid.as_data() == {"amount": 1190, "currency": "EUR", "reference": "pi_1"}
    update = events.ShipmentUpdatedData(
        shipment_id="shp-1", carrier="dhl", tracking_number=TRACKING, status="delivered",
        previous_status="in_transit", occurred_at=AT, location=None, carrier_event_id="c-2",
    )  # fmt: skip
    assert update.as_data()["location"] is None
    assert update.as_data()["occurred_at"] == "2026-11-23T10:00:00+00:00"


def test_an_order_snapshot_keeps_its_shape(entries):
    placed_detail = json.loads(entries[0]["Detail"])
    assert placed_detail["order"] == {
        "id": "o-1",
        "number": "7K3M-9Q2X",
        "status": "pending_payment",
        "payment_status": "unpaid",
        "fulfilment_status": "unfulfilled",
        "payment_method": "card",
        "locale": "de",
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "totals": {"currency": "EUR", "subtotal": 4280, "shipping": 0, "tax": 459, "total": 4280,
                   "discount": 0},
        "lines": [
            {"sku": "tea", "name": "Darjeeling 100 g", "quantity": 2, "unit_price": 1190,
             "line_total": 2380, "shipped_quantity": 0},
            {"sku": "mug", "name": "Stoneware mug", "quantity": 1, "unit_price": 1900,
             "line_total": 1900, "shipped_quantity": 0},
        ],
        "version": 1,
        "payment_due_at": "2026-11-23T10:30:00+00:00",
        "tax_rates": [
            {"rate": "7", "goods": 2380, "shipping": 0, "gross": 2380, "net": 2224, "tax": 156},
            {"rate": "19", "goods": 1900, "shipping": 0, "gross": 1900, "net": 1597, "tax": 303},
        ],
    }  # fmt: skip
    assert placed_detail["data"] == {"total": 4280, "currency": "EUR"}


def test_a_cart_event_carries_the_cart_priced_from_the_catalog(entries):
    (nudge,) = [e for e in entries if e["DetailType"] == "CartAbandoned"]
    detail = json.loads(nudge["Detail"])
    assert detail["cart"] == {
        "id": "c-1",
        "email": "erika@example.com",
        "locale": "de",
        "currency": "EUR",
        "lines": [{"sku": "tea", "name": "Darjeeling 100 g", "quantity": 2, "unit_price": 1190,
                   "line_total": 2380}],
        "total": 2380,
    }  # fmt: skip
    assert (detail["actor"], detail["message"], detail["visibility"]) == ("system", "", "customer")


def test_a_history_entry_reads_back_as_it_was_written():
    from chalicelib.store.mapping import history_from_item

    for change in order_changes():
        for index, entry in enumerate(change.history):
            assert history_from_item(history_to_item(change.order, entry, index)) == entry


def test_the_published_schema_refuses_an_event_without_a_required_field(entries, schema):
    import jsonschema_rs

    paid = json.loads(next(e["Detail"] for e in entries if e["DetailType"] == "OrderPaid"))
    del paid["data"]["amount"]
    assert not jsonschema_rs.validator_for(schema["detail_types"]["OrderPaid"]).is_valid(paid)


def _customer_emails(entry: dict[str, Any]) -> list[str]:
    from chalicelib.notify import emails as catalogue
    from chalicelib.settings import NotificationSettings

    shop = catalogue.Shop.from_settings(NotificationSettings(table_name="shop-test"))
    detail = json.loads(entry["Detail"])
    parsed = catalogue.parse(entry["DetailType"], detail)
    assert parsed is not None
    return [e.text for e in catalogue.emails_for(entry["DetailType"], parsed, shop)]


def test_the_payment_receipt_shows_the_payment_reference_the_producer_recorded(entries):
    paid = [e for e in entries if e["DetailType"] == "OrderPaid"]
    assert paid
    for entry in paid:
        data = json.loads(entry["Detail"])["data"]
        # The documented fields are filled, from the payment itself.
        assert data["payment_reference"] and data["provider"]
        (receipt,) = _customer_emails(entry)
        assert data["payment_reference"] in receipt


def test_the_refund_email_shows_what_was_refunded_in_all(entries):
    refunded = [e for e in entries if e["DetailType"] == "OrderRefunded"]
    assert refunded
    for entry in refunded:
        data = json.loads(entry["Detail"])["data"]
        assert data["total_refunded"] >= data["amount"] > 0
        (email,) = _customer_emails(entry)
        assert "Insgesamt erstattet" in email


def test_no_event_carries_the_pickup_code(entries):
    pickup_events = [e for e in entries if json.loads(e["Detail"]).get("order", {}).get("pickup")]
    assert {e["DetailType"] for e in pickup_events} >= {"OrderReadyForPickup", "OrderPickedUp"}
    assert all("123456" not in entry["Detail"] for entry in entries)
