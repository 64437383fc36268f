from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    InsufficientStock,
    OrderNotFound,
    TermsNotAccepted,
    TermsVersionOutdated,
)
from chalicelib.domain.order import Address, Customer, OrderStatus, PaymentMethod, RequestedLine
from chalicelib.services import catalog, customer_orders, placement
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION
from tests.fakes import FakeCatalog

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
KEY = "key-0123456789abcdef"


def command(
    *lines: tuple[str, int], method: PaymentMethod = PaymentMethod.CARD
) -> placement.PlaceOrder:
    return placement.PlaceOrder(
        lines=tuple(RequestedLine(s, q) for s, q in lines),
        customer=Customer("e@example.com", "E"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=method,
        locale="en",
        terms_version=TERMS_VERSION,
    )


@pytest.fixture
def stocked(ctx: Context) -> Context:
    catalog.save_product(
        "tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
    )
    catalog.save_product(
        "mug", name="Mug", price=1500, currency="EUR", tax_rate=Decimal("19"), ctx=ctx
    )
    catalog.count_stock("tea", 3, ctx)
    catalog.count_stock("mug", 1, ctx)
    return ctx


def test_placing_reserves_stock_and_sets_the_payment_deadline_by_method(stocked: Context, clock):
    placed = placement.place_order(
        command(("tea", 2), method=PaymentMethod.BANK_TRANSFER), KEY, stocked
    )
    assert placed.created
    tea = stocked.catalog.get("tea")
    assert (tea.available, tea.reserved) == (1, 2)
    assert placed.order.payment_due_at - clock.now == timedelta(days=7)


def test_the_same_key_and_body_returns_the_first_order_without_reserving_again(stocked: Context):
    first = placement.place_order(command(("tea", 1)), KEY, stocked)
    again = placement.place_order(command(("tea", 1)), KEY, stocked)
    assert not again.created
    assert again.order.id == first.order.id
    assert again.token == first.token
    assert stocked.catalog.get("tea").reserved == 1


def test_the_same_key_with_another_body_is_refused(stocked: Context):
    placement.place_order(command(("tea", 1)), KEY, stocked)
    with pytest.raises(IdempotencyKeyReused):
        placement.place_order(command(("tea", 2)), KEY, stocked)
    assert stocked.catalog.get("tea").reserved == 1


def test_out_of_stock_names_each_short_sku_and_reserves_nothing(stocked: Context):
    with pytest.raises(InsufficientStock) as err:
        placement.place_order(command(("tea", 5), ("mug", 2)), KEY, stocked)
    assert err.value.details["lines"] == [
        {"sku": "tea", "requested": 5, "available": 3},
        {"sku": "mug", "requested": 2, "available": 1},
    ]
    assert stocked.catalog.get("tea").reserved == 0
    assert stocked.catalog.get("mug").reserved == 0


class StaleCatalog(FakeCatalog):
    """Serves a cached, older price until asked for fresh data."""

    def __init__(self, table, stale):
        super().__init__(table)
        self.stale = stale
        self.fresh_reads = 0

    def get_many(self, skus, *, fresh=False):
        if fresh:
            self.fresh_reads += 1
            return super().get_many(skus)
        return {sku: self.stale[sku] for sku in skus if sku in self.stale}


def test_a_price_change_during_checkout_is_charged_at_the_new_price(stocked: Context, fake_table):
    old = stocked.catalog.get("tea")
    catalog.save_product(
        "tea", name="Tea", price=650, currency="EUR", tax_rate=Decimal("7"), ctx=stocked
    )
    stale = StaleCatalog(fake_table, {"tea": old})
    ctx = replace(stocked, catalog=stale)
    placed = placement.place_order(command(("tea", 1)), KEY, ctx)
    assert placed.order.totals.total == 650
    assert stale.fresh_reads == 1


def test_the_customer_sees_the_order_only_with_its_token(stocked: Context):
    placed = placement.place_order(command(("tea", 1)), KEY, stocked)
    assert (
        customer_orders.view_order(placed.order.id, placed.token, stocked).order.id
        == placed.order.id
    )
    with pytest.raises(OrderNotFound):
        customer_orders.view_order(placed.order.id, "not-the-token", stocked)
    with pytest.raises(OrderNotFound):
        customer_orders.view_order("no-such-order", placed.token, stocked)


def test_cancel_releases_stock_and_a_second_cancel_changes_nothing(stocked: Context):
    placed = placement.place_order(command(("tea", 2), ("mug", 1)), KEY, stocked)
    record = customer_orders.cancel_order(placed.order.id, placed.token, "too slow", stocked)
    assert record.order.status is OrderStatus.CANCELLED
    assert [e.event for e in record.history] == ["OrderPlaced", "OrderCancelled"]
    tea, mug = stocked.catalog.get("tea"), stocked.catalog.get("mug")
    assert (tea.available, tea.reserved, mug.available, mug.reserved) == (3, 0, 1, 0)
    again = customer_orders.cancel_order(placed.order.id, placed.token, "again", stocked)
    assert len(again.history) == 2
    assert stocked.catalog.get("tea").available == 3


def test_a_shipped_order_cannot_be_cancelled(stocked: Context, fake_table):
    placed = placement.place_order(command(("tea", 1)), KEY, stocked)
    fake_table.orders[placed.order.id] = replace(placed.order, status=OrderStatus.SHIPPED)
    with pytest.raises(IllegalTransition):
        customer_orders.cancel_order(placed.order.id, placed.token, "late", stocked)


def test_stock_counts_record_the_adjustment_so_stock_is_conserved(stocked: Context):
    placement.place_order(command(("tea", 2)), KEY, stocked)
    product = catalog.count_stock("tea", 10, stocked)
    assert (product.available, product.reserved, product.adjusted) == (10, 2, 12)
    assert product.is_conserved()


# --- the terms accepted (docs/legal.md) --------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "error"), [(None, TermsNotAccepted), ("2020-01-01", TermsVersionOutdated)]
)
def test_a_checkout_without_the_current_terms_places_nothing(stocked: Context, accepted, error):
    with pytest.raises(error) as refused:
        placement.place_order(replace(command(("tea", 1)), terms_version=accepted), KEY, stocked)
    assert refused.value.details["current_version"] == TERMS_VERSION
    assert stocked.catalog.get("tea").reserved == 0
    # The same key then places the order: nothing of the refused request was kept.
    assert placement.place_order(command(("tea", 1)), KEY, stocked).created


def test_the_order_keeps_the_terms_it_was_placed_on_and_when(stocked: Context, clock):
    placed = placement.place_order(command(("tea", 1)), KEY, stocked)
    assert (placed.order.terms_version, placed.order.terms_accepted_at) == (
        TERMS_VERSION,
        clock.now,
    )
    stored = stocked.orders.get(placed.order.id)
    assert stored.order.terms_version == TERMS_VERSION
    (entry,) = stored.history
    assert entry.data["terms_version"] == TERMS_VERSION
