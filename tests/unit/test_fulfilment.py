"""Shipping, tracking, returns, notes and merchant cancel, on fakes."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.errors import (
    IllegalTransition,
    InvalidRequest,
    RefundExceedsPaid,
    ReturnExceedsShipped,
    ShipmentExceedsOrder,
    ShipmentNotFound,
    TrackingNumberInUse,
)
from chalicelib.domain.fulfilment import ReturnedLine
from chalicelib.domain.order import (
    Address,
    Customer,
    FulfilmentStatus,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    RequestedLine,
    Visibility,
)
from chalicelib.domain.shipment import ShipmentLine, TrackingEvent, TrackingStatus
from chalicelib.services import catalog, fulfilment, payments, placement
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
INITIAL = {"tea": 10, "mug": 5, "pot": 4}
PRICES = {"tea": 500, "mug": 1500, "pot": 4000}


@pytest.fixture
def stocked(ctx: Context) -> Context:
    for sku, available in INITIAL.items():
        catalog.save_product(
            sku, name=sku.title(), price=PRICES[sku], currency="EUR", tax_rate=Decimal("19"),
            ctx=ctx,
        )  # fmt: skip
        catalog.count_stock(sku, available, ctx)
    return ctx


def place(ctx: Context, *lines: tuple[str, int]) -> str:
    placed = placement.place_order(
        placement.PlaceOrder(
            lines=tuple(RequestedLine(s, q) for s, q in lines),
            customer=Customer("e@example.com", "E"),
            shipping_address=ADDRESS,
            billing_address=ADDRESS,
            payment_method=PaymentMethod.CARD,
            locale="en",
            terms_version=TERMS_VERSION,
        ),
        f"key-{uuid.uuid4()}",
        ctx,
    )
    return placed.order.id


def pay(ctx: Context, order_id: str) -> None:
    """Paid by bank transfer, as the merchant confirms it."""
    payments.mark_paid(order_id, f"TX-{order_id}", actor="merchant:test", ctx=ctx)


def counters(ctx: Context, sku: str) -> tuple[int, int, int, int]:
    p = ctx.catalog.get(sku)
    return (p.available, p.reserved, p.shipped, p.restocked)


def assert_invariant(ctx: Context) -> None:
    for sku, initial in INITIAL.items():
        p = ctx.catalog.get(sku)
        assert min(p.available, p.reserved, p.shipped, p.restocked) >= 0
        # Counted stock (adjusted, from zero) is all that came in.
        assert p.adjusted == initial
        assert p.available + p.reserved + p.shipped - p.restocked == p.adjusted


def ship(ctx: Context, order_id: str, number: str, *lines: tuple[str, int], carrier="dhl"):
    return fulfilment.ship(
        order_id,
        fulfilment.ShipLines(carrier, number, tuple(ShipmentLine(s, q) for s, q in lines)),
        actor="merchant:test",
        ctx=ctx,
    )


@pytest.fixture
def paid3(stocked: Context) -> str:
    order_id = place(stocked, ("tea", 4), ("mug", 2), ("pot", 1))
    pay(stocked, order_id)
    return order_id


# --- shipping ----------------------------------------------------------------------------


def test_a_three_line_order_ships_in_two_parts_moving_stock_at_each_step(stocked, paid3, clock):
    assert counters(stocked, "tea") == (6, 4, 0, 0)

    first = ship(stocked, paid3, "00340434161094042557", ("tea", 3), ("mug", 2))
    order = stocked.orders.get(paid3).order
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    assert order.fulfilment_status is FulfilmentStatus.PARTIALLY_SHIPPED
    assert counters(stocked, "tea") == (6, 1, 3, 0)
    assert counters(stocked, "mug") == (3, 0, 2, 0)
    assert counters(stocked, "pot") == (3, 1, 0, 0)
    assert first.tracking_url.endswith("piececode=00340434161094042557")

    clock.advance(hours=3)
    ship(stocked, paid3, "1Z999AA10123456784", ("tea", 1), ("pot", 1), carrier="UPS")
    record = stocked.orders.get(paid3)
    assert record.order.status is OrderStatus.SHIPPED
    assert record.order.fulfilment_status is FulfilmentStatus.SHIPPED
    assert counters(stocked, "tea") == (6, 0, 4, 0)
    assert counters(stocked, "pot") == (3, 0, 1, 0)
    assert [s.carrier for s in record.shipments] == ["dhl", "ups"]
    shipped_events = [e for e in record.history if e.event == "OrderShipped"]
    assert [e.data["lines"] for e in shipped_events] == [
        [{"sku": "tea", "quantity": 3}, {"sku": "mug", "quantity": 2}],
        [{"sku": "tea", "quantity": 1}, {"sku": "pot", "quantity": 1}],
    ]
    assert set(shipped_events[1].data) == {
        "shipment_id", "carrier", "tracking_number", "tracking_url", "lines",
    }  # fmt: skip
    assert shipped_events[1].data["tracking_url"] == (
        "https://www.ups.com/track?loc=de_DE&tracknum=1Z999AA10123456784"
    )
    assert_invariant(stocked)


def test_shipping_more_than_ordered_minus_shipped_is_refused_and_changes_nothing(stocked, paid3):
    ship(stocked, paid3, "T-0001", ("tea", 3))
    before = (stocked.orders.get(paid3), counters(stocked, "tea"))
    with pytest.raises(ShipmentExceedsOrder) as refused:
        ship(stocked, paid3, "T-0002", ("tea", 2))
    assert refused.value.details["lines"] == [{"sku": "tea", "requested": 2, "unshipped": 1}]
    assert (stocked.orders.get(paid3), counters(stocked, "tea")) == before


def test_only_paid_orders_ship(stocked):
    order_id = place(stocked, ("tea", 1))
    with pytest.raises(IllegalTransition):
        ship(stocked, order_id, "T-0001", ("tea", 1))
    assert counters(stocked, "tea") == (9, 1, 0, 0)


def test_a_tracking_number_ships_once_per_carrier(stocked, paid3):
    ship(stocked, paid3, "T-0001", ("tea", 1))
    with pytest.raises(TrackingNumberInUse):
        ship(stocked, paid3, "T-0001", ("tea", 1))
    assert counters(stocked, "tea") == (6, 3, 1, 0)
    ship(stocked, paid3, "T-0001", ("tea", 1), carrier="dpd")  # another carrier's number


def test_an_unknown_carrier_needs_a_tracking_url(stocked, paid3):
    with pytest.raises(InvalidRequest):
        ship(stocked, paid3, "T-0001", ("tea", 1), carrier="bike-courier")
    shipment = fulfilment.ship(
        paid3,
        fulfilment.ShipLines(
            "Bike Courier", "T-0001", (ShipmentLine("tea", 1),), "https://courier.example/t/1"
        ),
        actor="merchant:test",
        ctx=stocked,
    )
    assert (shipment.carrier, shipment.tracking_url) == (
        "bike_courier",
        "https://courier.example/t/1",
    )


# --- tracking ----------------------------------------------------------------------------


def _events(number: str, start, carrier: str = "dhl") -> list[TrackingEvent]:
    statuses = [
        TrackingStatus.LABEL_CREATED,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.EXCEPTION,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERY_ATTEMPTED,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    return [
        TrackingEvent(f"{number}-{i}", carrier, number, status, start + timedelta(hours=i))
        for i, status in enumerate(statuses)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_and_duplicated_tracking_events_end_delivered_and_never_go_back(
    stocked, paid3, clock, seed
):
    ship(stocked, paid3, "A-1", ("tea", 4), ("mug", 2))
    ship(stocked, paid3, "B-2", ("pot", 1))
    events = _events("A-1", clock.now) + _events("B-2", clock.now + timedelta(minutes=5))
    deliveries = events + random.Random(seed).sample(events, 8)  # duplicates too
    random.Random(seed + 100).shuffle(deliveries)

    outcomes = [fulfilment.apply_tracking_event(e, stocked) for e in deliveries]

    record = stocked.orders.get(paid3)
    assert record.order.status is OrderStatus.DELIVERED
    assert record.order.fulfilment_status is FulfilmentStatus.DELIVERED
    assert all(s.status is TrackingStatus.DELIVERED for s in record.shipments)
    last = max(e.occurred_at for e in events)
    assert [e.event for e in record.history].count("OrderDelivered") == 1
    assert next(e for e in record.history if e.event == "OrderDelivered").at == last
    # Each shipment's taken events are in carrier time order, and none after delivery.
    for number in ("A-1", "B-2"):
        taken = [
            e for e in record.history
            if e.event == "ShipmentUpdated" and e.data["tracking_number"] == number
        ]  # fmt: skip
        times = [e.data["occurred_at"] for e in taken]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert taken[-1].data["status"] == "delivered"
        assert all(e.visibility is Visibility.INTERNAL for e in taken)
    assert outcomes.count("applied") == len(
        [e for e in record.history if e.event == "ShipmentUpdated"]
    )
    # Everything arriving now is a no-op.
    version = record.order.version
    for event in events:
        assert fulfilment.apply_tracking_event(event, stocked) in {"ignored", "duplicate"}
    assert stocked.orders.get(paid3).order.version == version


def test_a_delivered_shipment_never_goes_back_to_in_transit(stocked, paid3, clock):
    ship(stocked, paid3, "A-1", ("tea", 4), ("mug", 2), ("pot", 1))
    delivered = TrackingEvent("e1", "dhl", "A-1", TrackingStatus.DELIVERED, clock.now)
    late = TrackingEvent(
        "e2", "dhl", "A-1", TrackingStatus.IN_TRANSIT, clock.now + timedelta(hours=1)
    )
    assert fulfilment.apply_tracking_event(delivered, stocked) == "applied"
    assert fulfilment.apply_tracking_event(late, stocked) == "ignored"
    assert stocked.orders.get(paid3).shipments[0].status is TrackingStatus.DELIVERED


def test_a_replayed_event_id_is_a_no_op(stocked, paid3, clock):
    ship(stocked, paid3, "A-1", ("tea", 1))
    first = TrackingEvent("same-id", "dhl", "A-1", TrackingStatus.IN_TRANSIT, clock.now)
    # Same id, later time: a replay dressed up as news is still ignored.
    replay = replace(first, occurred_at=clock.now + timedelta(hours=2))
    assert fulfilment.apply_tracking_event(first, stocked) == "applied"
    assert fulfilment.apply_tracking_event(replay, stocked) == "duplicate"
    assert stocked.orders.get(paid3).shipments[0].last_event_at == clock.now


def test_a_partially_shipped_order_is_not_delivered_by_its_first_parcel(stocked, paid3, clock):
    ship(stocked, paid3, "A-1", ("tea", 4))
    event = TrackingEvent("e1", "dhl", "A-1", TrackingStatus.DELIVERED, clock.now)
    assert fulfilment.apply_tracking_event(event, stocked) == "applied"
    assert stocked.orders.get(paid3).order.status is OrderStatus.PARTIALLY_SHIPPED


def test_an_event_for_an_unknown_tracking_number_is_not_found(stocked, clock):
    event = TrackingEvent("e1", "dhl", "NOPE", TrackingStatus.DELIVERED, clock.now)
    with pytest.raises(ShipmentNotFound):
        fulfilment.apply_tracking_event(event, stocked)


# --- returns -----------------------------------------------------------------------------


def test_a_return_with_mixed_restock_choices_moves_only_restocked_lines(stocked, paid3):
    ship(stocked, paid3, "A-1", ("tea", 4), ("mug", 2), ("pot", 1))
    record = fulfilment.record_return(
        paid3,
        fulfilment.RecordReturn(
            lines=(ReturnedLine("tea", 2, restock=True), ReturnedLine("mug", 1, restock=False)),
            refund=2000,
            surcharge=500,
            reason="did not fit",
        ),
        actor="merchant:test",
        ctx=stocked,
    )
    assert counters(stocked, "tea") == (8, 0, 4, 2)  # available += 2, restocked += 2
    assert counters(stocked, "mug") == (3, 0, 2, 0)  # written off: nothing moves
    order = record.order
    assert order.return_credit_total == 2 * 500 + 1500
    assert order.return_surcharge_total == 500
    assert {line.sku: line.returned_quantity for line in order.lines} == {
        "tea": 2, "mug": 1, "pot": 0,
    }  # fmt: skip
    assert order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    events = [e.event for e in record.history]
    assert events[-2:] == ["ReturnRecorded", "OrderRefunded"]
    refunded = record.history[-1].data
    assert (refunded["amount"], refunded["refunded_total"]) == (2000, 2000)
    assert_invariant(stocked)


def test_returning_more_than_shipped_is_refused_and_changes_nothing(stocked, paid3):
    ship(stocked, paid3, "A-1", ("tea", 2))
    before = (stocked.orders.get(paid3), counters(stocked, "tea"))
    with pytest.raises(ReturnExceedsShipped):
        fulfilment.record_return(
            paid3,
            fulfilment.RecordReturn(lines=(ReturnedLine("tea", 3, restock=True),)),
            actor="m",
            ctx=stocked,
        )
    assert (stocked.orders.get(paid3), counters(stocked, "tea")) == before


def test_a_refund_above_what_was_paid_is_refused_before_anything_is_written(stocked, paid3):
    ship(stocked, paid3, "A-1", ("tea", 4), ("mug", 2), ("pot", 1))
    before = stocked.orders.get(paid3)
    with pytest.raises(RefundExceedsPaid):
        fulfilment.record_return(
            paid3,
            fulfilment.RecordReturn(
                lines=(ReturnedLine("tea", 1, restock=True),), refund=before.order.totals.total + 1
            ),
            actor="m",
            ctx=stocked,
        )
    assert stocked.orders.get(paid3) == before


def test_a_return_refund_is_recorded_with_the_return_reason(stocked, paid3):
    ship(stocked, paid3, "A-1", ("tea", 4))
    record = fulfilment.record_return(
        paid3,
        fulfilment.RecordReturn(lines=(ReturnedLine("tea", 1, restock=True),), refund=500),
        actor="m",
        ctx=stocked,
    )
    refunds = [e for e in record.history if e.event == "OrderRefunded"]
    assert len(refunds) == 1
    assert (refunds[0].data["amount"], refunds[0].data["reason"]) == (500, "returned by customer")
    assert refunds[0].actor == "m"


# --- notes and merchant cancel -------------------------------------------------------------


def test_notes_are_history_entries_with_their_visibility(stocked, paid3):
    fulfilment.add_note(paid3, "fragile, pack well", Visibility.INTERNAL, actor="m", ctx=stocked)
    record = fulfilment.add_note(
        paid3, "Your mug ships Monday", Visibility.CUSTOMER, actor="m", ctx=stocked
    )
    notes = [(e.data["note"], e.visibility) for e in record.history if e.event == "NoteAdded"]
    assert notes == [
        ("fragile, pack well", Visibility.INTERNAL),
        ("Your mug ships Monday", Visibility.CUSTOMER),
    ]
    assert record.order.status is OrderStatus.PAID


def test_merchant_cancel_of_a_paid_order_releases_stock_and_refunds_once(stocked, paid3):
    record = fulfilment.cancel_as_merchant(paid3, "out of stock", actor="m", ctx=stocked)
    assert record.order.status is OrderStatus.CANCELLED
    assert record.order.payment_status is PaymentStatus.REFUNDED
    assert counters(stocked, "tea") == (10, 0, 0, 0)
    again = fulfilment.cancel_as_merchant(paid3, "out of stock", actor="m", ctx=stocked)
    assert [e.event for e in again.history].count("OrderRefunded") == 1
    assert [e.event for e in again.history].count("OrderCancelled") == 1


def test_merchant_cannot_cancel_after_the_first_shipment(stocked, paid3):
    ship(stocked, paid3, "A-1", ("tea", 1))
    with pytest.raises(IllegalTransition):
        fulfilment.cancel_as_merchant(paid3, "changed my mind", actor="m", ctx=stocked)
    assert stocked.orders.get(paid3).order.status is OrderStatus.PARTIALLY_SHIPPED


# --- with the payment ports connected ------------------------------------------------------


@pytest.fixture
def paid_by_transfer(pay_ctx: Context) -> tuple[Context, str]:
    for sku, available in INITIAL.items():
        catalog.save_product(
            sku, name=sku, price=PRICES[sku], currency="EUR", tax_rate=Decimal("19"), ctx=pay_ctx
        )
        catalog.count_stock(sku, available, pay_ctx)
    order_id = place(pay_ctx, ("tea", 4), ("mug", 2))
    payments.mark_paid(order_id, "TX-1", actor="merchant:test", ctx=pay_ctx)
    return pay_ctx, order_id


def test_a_return_refund_goes_through_the_payment_provider(paid_by_transfer):
    ctx, order_id = paid_by_transfer
    ship(ctx, order_id, "A-1", ("tea", 4), ("mug", 2))
    record = fulfilment.record_return(
        order_id,
        fulfilment.RecordReturn(lines=(ReturnedLine("mug", 1, restock=True),), refund=1500),
        actor="merchant:test",
        ctx=ctx,
    )
    assert [p.refunded for p in record.order.payments] == [1500]
    assert record.order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert [e.event for e in record.history][-2:] == ["ReturnRecorded", "OrderRefunded"]
    with pytest.raises(RefundExceedsPaid):
        fulfilment.record_return(
            order_id,
            fulfilment.RecordReturn(lines=(ReturnedLine("mug", 1, restock=True),), refund=5000),
            actor="merchant:test",
            ctx=ctx,
        )
    assert counters(ctx, "mug") == (4, 0, 2, 1)  # the refused return moved nothing


def test_merchant_cancel_refunds_through_the_payment_provider(paid_by_transfer):
    ctx, order_id = paid_by_transfer
    record = fulfilment.cancel_as_merchant(order_id, "sold out", actor="merchant:test", ctx=ctx)
    assert record.order.status is OrderStatus.CANCELLED
    assert [p.outstanding for p in record.order.payments] == [0]
    assert record.order.payment_status is PaymentStatus.REFUNDED
    again = fulfilment.cancel_as_merchant(order_id, "sold out", actor="merchant:test", ctx=ctx)
    assert [e.event for e in again.history].count("OrderRefunded") == 1
    assert counters(ctx, "tea") == (10, 0, 0, 0)
