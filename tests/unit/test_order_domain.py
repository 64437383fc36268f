from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import ids
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import (
    IllegalTransition,
    InvalidRequest,
    MixedCurrencies,
    UnknownProducts,
)
from chalicelib.domain.money import included_tax
from chalicelib.domain.order import (
    MAX_ORDER_LINES,
    TERMINAL,
    Address,
    Customer,
    HistoryEntry,
    OrderStatus,
    PaymentMethod,
    RequestedLine,
    StockMove,
    Visibility,
    can_move,
    place,
    price_lines,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


def product(
    sku: str, price: int = 1000, currency: str = "EUR", tax: str = "19", version: int = 3
) -> Product:
    return Product(
        sku=sku,
        name=sku.title(),
        price=price,
        currency=currency,
        tax_rate=Decimal(tax),
        catalog_version=version,
        available=10,
    )


def placed(lines: list[tuple[str, int]], products: dict[str, Product]):
    return place(
        order_id="o-1",
        number="ABCD-EFGH",
        token_hash="h",
        requested=[RequestedLine(s, q) for s, q in lines],
        products=products,
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="de",
        now=NOW,
        payment_window=timedelta(minutes=30),
    )


def test_prices_and_totals_come_from_the_catalog():
    products = {
        "tea": product("tea", price=1190, tax="19"),
        "book": product("book", price=2140, tax="7"),
    }
    lines, totals = price_lines([RequestedLine("tea", 2), RequestedLine("book", 1)], products)
    assert [(line.sku, line.unit_price, line.line_total) for line in lines] == [
        ("tea", 1190, 2380),
        ("book", 2140, 2140),
    ]
    assert totals.subtotal == 4520
    assert totals.total == 4520
    # 2380 * 19/119 = 380 ; 2140 * 7/107 = 140
    assert totals.tax == 380 + 140
    assert totals.currency == "EUR"


def test_included_tax_rounds_half_to_even():
    assert included_tax(119, Decimal("19")) == 19
    assert included_tax(1, Decimal("19")) == 0  # 0.16 -> 0
    assert included_tax(0, Decimal("19")) == 0
    assert included_tax(1000, Decimal("0")) == 0


def test_rejects_unknown_skus_naming_each():
    with pytest.raises(UnknownProducts) as err:
        price_lines(
            [RequestedLine("tea", 1), RequestedLine("nope", 1), RequestedLine("gone", 1)],
            {"tea": product("tea")},
        )
    assert err.value.details["skus"] == ["nope", "gone"]


def test_rejects_an_order_mixing_currencies():
    with pytest.raises(MixedCurrencies):
        price_lines(
            [RequestedLine("a", 1), RequestedLine("b", 1)],
            {"a": product("a"), "b": product("b", currency="USD")},
        )


def test_rejects_the_same_sku_on_two_lines():
    with pytest.raises(InvalidRequest) as err:
        price_lines([RequestedLine("a", 1), RequestedLine("a", 2)], {"a": product("a")})
    assert err.value.details["skus"] == ["a"]


def test_rejects_more_lines_than_one_transaction_can_reserve():
    products = {f"s{i}": product(f"s{i}") for i in range(MAX_ORDER_LINES + 1)}
    with pytest.raises(InvalidRequest):
        price_lines([RequestedLine(sku, 1) for sku in products], products)
    lines, _ = price_lines([RequestedLine(f"s{i}", 1) for i in range(MAX_ORDER_LINES)], products)
    assert len(lines) == MAX_ORDER_LINES


@pytest.mark.parametrize("quantity", [0, -1, 1000])
def test_rejects_quantities_outside_the_allowed_range(quantity):
    with pytest.raises(InvalidRequest):
        price_lines([RequestedLine("a", quantity)], {"a": product("a")})


def test_placement_reserves_every_line_at_the_priced_catalog_version():
    p = placed([("a", 2), ("b", 1)], {"a": product("a", version=7), "b": product("b", version=2)})
    assert p.order.status is OrderStatus.PENDING_PAYMENT
    assert p.order.payment_due_at == NOW + timedelta(minutes=30)
    assert p.stock_moves == (
        StockMove(sku="a", available=-2, reserved=2, catalog_version=7),
        StockMove(sku="b", available=-1, reserved=1, catalog_version=2),
    )
    assert p.history.event == "OrderPlaced"


def test_cancel_releases_what_was_reserved_and_expects_the_current_state():
    order = placed([("a", 2), ("b", 1)], {"a": product("a"), "b": product("b")}).order
    change = order.cancel(actor="customer", reason="changed my mind", at=NOW)
    assert change.order.status is OrderStatus.CANCELLED
    assert change.expected_status is OrderStatus.PENDING_PAYMENT
    assert change.expected_version == order.version
    assert change.order.version == order.version + 1
    assert {(m.sku, m.available, m.reserved) for m in change.stock_moves} == {
        ("a", 2, -2),
        ("b", 1, -1),
    }
    assert change.history[0].event == "OrderCancelled"


def test_lifecycle_never_moves_back_and_terminal_states_are_final():
    assert can_move(OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    assert not can_move(OrderStatus.PAID, OrderStatus.PENDING_PAYMENT)
    assert not can_move(OrderStatus.SHIPPED, OrderStatus.CANCELLED)
    assert not can_move(OrderStatus.PARTIALLY_SHIPPED, OrderStatus.CANCELLED)
    assert not can_move(OrderStatus.READY_FOR_PICKUP, OrderStatus.SHIPPED)
    assert not can_move(OrderStatus.PARTIALLY_SHIPPED, OrderStatus.READY_FOR_PICKUP)
    assert TERMINAL == {
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.DELIVERED,
        OrderStatus.PICKED_UP,
    }
    for status in TERMINAL:
        assert not any(can_move(status, target) for target in OrderStatus)


def test_cancelling_a_cancelled_order_is_illegal_in_the_domain():
    order = placed([("a", 1)], {"a": product("a")}).order
    cancelled = order.cancel(actor="customer", reason="x", at=NOW).order
    with pytest.raises(IllegalTransition):
        cancelled.cancel(actor="merchant", reason="again", at=NOW)


def test_order_numbers_are_readable_and_tokens_depend_on_key_and_salt():
    number = ids.new_order_number()
    assert len(number) == 9 and number[4] == "-"
    assert not set(number.replace("-", "")) & set("ILOU")
    token = ids.order_token("key-aaaaaaaaaaaaaaaa", "order-1", "salt")
    assert token == ids.order_token("key-aaaaaaaaaaaaaaaa", "order-1", "salt")
    assert token != ids.order_token("key-bbbbbbbbbbbbbbbb", "order-1", "salt")
    assert token != ids.order_token("key-aaaaaaaaaaaaaaaa", "order-1", "other")
    assert ids.token_matches(token, ids.sha256_hex(token))
    assert not ids.token_matches(token + "x", ids.sha256_hex(token))


def test_recording_history_keeps_the_status_and_bumps_the_version():
    order = placed([("a", 1)], {"a": product("a")}).order
    entry = HistoryEntry(
        at=NOW,
        event="NoteAdded",
        actor="merchant",
        message="called the customer",
        visibility=Visibility.INTERNAL,
    )
    change = order.record(at=NOW, history=[entry])
    assert change.order.status is order.status
    assert (change.expected_version, change.order.version) == (order.version, order.version + 1)
    assert change.history == (entry,)
    assert change.stock_moves == ()
