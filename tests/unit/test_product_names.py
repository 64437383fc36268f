"""Product names per locale: the order line keeps them, each order is named in
its own locale (the German confirmation lists German names), one plain name
stands for both, and products and orders stored before names per locale read
back as they were."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.domain import order as orders
from chalicelib.domain.catalog import Product
from chalicelib.jobs import outbox
from chalicelib.notify import emails as catalogue
from chalicelib.store.attributes import to_dynamo
from chalicelib.store.mapping import (
    history_to_item,
    order_from_item,
    order_to_item,
    product_from_item,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ADDRESS = orders.Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin",
                         country="DE")  # fmt: skip
PRODUCTS = {
    "tea": Product(sku="tea", name="Schwarzer Tee", price=790, currency="EUR",
                   tax_rate=Decimal("7"), names={"de": "Schwarzer Tee", "en": "Black tea"}),
    "mug": Product(sku="mug", name="Becher", price=1490, currency="EUR", tax_rate=Decimal("19")),
}  # fmt: skip


def placed(locale: str) -> orders.Placement:
    return orders.place(
        order_id=f"o-{locale}", number="7K3M-9Q2X", token_hash="h",
        requested=[orders.RequestedLine("tea", 1), orders.RequestedLine("mug", 1)],
        products=PRODUCTS, customer=orders.Customer("e@example.com", "E"),
        shipping_address=ADDRESS, billing_address=ADDRESS,
        payment_method=orders.PaymentMethod.CARD, locale=locale, now=AT,
        payment_window=timedelta(minutes=30),
    )  # fmt: skip


def test_each_order_names_its_lines_in_its_locale_and_keeps_both_names():
    de, en = placed("de").order, placed("en").order
    assert [line.name for line in de.lines] == ["Schwarzer Tee", "Becher"]
    assert [line.name for line in en.lines] == ["Black tea", "Becher"]  # one name for both
    assert en.lines[0].names == {"de": "Schwarzer Tee", "en": "Black tea"}


def test_the_german_confirmation_lists_the_german_names(settings):
    placement = placed("de")
    item = history_to_item(placement.order, placement.history, 0)
    records = [{"eventName": "INSERT", "dynamodb": {"NewImage": to_dynamo(item)}}]
    (event,) = [e for i in outbox.new_items(records) if (e := outbox.event_for(i))]
    detail_type, published = event
    # As the bus carries it: JSON there and back.
    detail = catalogue.parse(detail_type, json.loads(json.dumps(published, default=str)))
    assert detail is not None
    shop = catalogue.Shop.from_settings(settings)
    confirmation = next(
        e for e in catalogue.emails_for("OrderPlaced", detail, shop)
        if e.kind == "order_confirmation"
    )  # fmt: skip
    assert "Schwarzer Tee" in confirmation.text and "Black tea" not in confirmation.text
    assert "Schwarzer Tee" in confirmation.html


def test_a_product_stored_with_one_name_reads_back_with_it_for_every_locale():
    old = {"sku": "tea", "name": "Tee", "price": 790, "currency": "EUR", "tax_rate": "7",
           "catalog_version": 3}  # fmt: skip
    product = product_from_item(old)
    assert (product.names, product.name_in("en"), product.name_in("de")) == ({}, "Tee", "Tee")


def test_an_order_stored_before_names_per_locale_reads_back_as_it_was():
    item = order_to_item(placed("de").order)
    assert "names" not in item["lines"][1]  # one name: stored as before
    item["lines"][0].pop("names")
    order = order_from_item(item)
    assert [(line.name, dict(line.names)) for line in order.lines] == [
        ("Schwarzer Tee", {}),
        ("Becher", {}),
    ]


def test_an_order_line_keeps_its_names_through_the_store():
    order = placed("en").order
    assert order_from_item(order_to_item(order)).lines == order.lines
