"""The order desk's listing, against the in-memory fake and DynamoDB (moto):
each filter, alone and combined, returns exactly the right orders out of
200, newest first, across pages; no page reads more than its budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.domain.errors import InvalidCursor
from chalicelib.services import order_desk
from chalicelib.services.context import Context
from chalicelib.services.ports import DeskQuery
from chalicelib.store.attributes import to_dynamo
from chalicelib.store.desk import READ_FACTOR, DynamoOrderDesk, matches
from chalicelib.store.keys import order_number
from chalicelib.store.mapping import order_to_item
from chalicelib.store.orders import DynamoOrders
from tests.conftest import Clock
from tests.desk_orders import NOW, customer_email, varied_orders
from tests.fakes import FakeCatalog, FakeOrderDesk, FakeOrders, FakeTable, fake_payment_ports

PAGE = 7
ORDERS = varied_orders(200)


@pytest.fixture(scope="module")
def dynamo_table(aws):
    from local.resources import create_table

    client = boto3.client("dynamodb")
    name = "desk-contract"
    create_table(client, name)
    items = []
    for order in ORDERS:
        items.append(order_to_item(order))
        items.append({**order_number(order.number), "entity": "order_number", "order_id": order.id})
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={
                name: [{"PutRequest": {"Item": to_dynamo(i)}} for i in items[start : start + 25]]
            }
        )
    yield name
    client.delete_table(TableName=name)


@pytest.fixture(params=["fake", "dynamodb"])
def ctx(request, settings):
    clock = Clock(NOW)
    if request.param == "fake":
        table = FakeTable()
        table.orders = {o.id: o for o in ORDERS}
        return Context(
            catalog=FakeCatalog(table),
            orders=FakeOrders(table),
            settings=settings,
            payments=fake_payment_ports(table),
            clock=clock,
            desk=FakeOrderDesk(table),
        )
    name = request.getfixturevalue("dynamo_table")
    client = boto3.client("dynamodb")
    return Context(
        catalog=FakeCatalog(FakeTable()),
        orders=DynamoOrders(client, name),
        settings=settings,
        payments=fake_payment_ports(FakeTable()),
        clock=clock,
        desk=DynamoOrderDesk(client, name),
    )


def all_pages(query: DeskQuery, ctx: Context) -> tuple[list[str], list[int], set[str]]:
    ids, reads, served = [], [], set()
    cursor = None
    for _ in range(200):
        listing = order_desk.list_orders(query, page_size=PAGE, cursor=cursor, ctx=ctx)
        assert len(listing.page.orders) <= PAGE
        ids.extend(o.id for o in listing.page.orders)
        reads.append(listing.page.items_read)
        served.add(listing.page.index)
        cursor = listing.cursor
        if cursor is None:
            return ids, reads, served
    raise AssertionError("pagination did not end")


def expected(query: DeskQuery) -> list[str]:
    wanted = [o for o in ORDERS if matches(o, query)]
    return [o.id for o in sorted(wanted, key=lambda o: (o.created_at, o.id), reverse=True)]


SOME = ORDERS[17]
FROM, TO = NOW - timedelta(days=200), NOW - timedelta(days=60)
QUERIES = {
    "everything": DeskQuery(),
    "status": DeskQuery(status="shipped"),
    "status_rare": DeskQuery(status="on_hold"),
    "payment_status": DeskQuery(payment_status="partially_refunded"),
    "payment_method": DeskQuery(payment_method="bank_transfer"),
    "email": DeskQuery(email=customer_email(3).upper()),
    "number": DeskQuery(number=SOME.number),
    "number_with_mismatching_status": DeskQuery(
        number=SOME.number,
        status="paid" if SOME.status.value != "paid" else "expired",
    ),
    "date_range_across_months": DeskQuery(created_from=FROM, created_to=TO),
    "date_from_only": DeskQuery(created_from=NOW - timedelta(days=45)),
    "status_and_method": DeskQuery(status="delivered", payment_method="card"),
    "email_and_status": DeskQuery(email=customer_email(4), status="paid"),
    "payment_status_in_range": DeskQuery(payment_status="paid", created_from=FROM, created_to=TO),
    "method_and_payment_status": DeskQuery(payment_method="paypal", payment_status="unpaid"),
    "nothing_matches": DeskQuery(email="nobody@example.com"),
    # Part of the customer's name (the back office's filter), alone and with a key.
    "name": DeskQuery(name="Nr. 03"),
    "name_and_status": DeskQuery(name="Kundin Nr. 0", status="paid"),
    "name_nothing_matches": DeskQuery(name="kundin"),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_each_filter_returns_exactly_the_matching_orders_newest_first_across_pages(ctx, name):
    query = QUERIES[name]
    ids, reads, served = all_pages(query, ctx)
    assert ids == expected(query)
    assert max(reads) <= PAGE * READ_FACTOR
    if name not in {"nothing_matches", "number_with_mismatching_status", "name_nothing_matches"}:
        assert ids  # the data set gives every query something to find
    if query.number is not None:
        assert served == {"order_number"}
    elif query.email is not None:
        assert served == {"by_customer"}
    elif query.status is not None:
        assert served == {"by_status"}
    elif query.payment_status is not None:
        assert served == {"by_payment_status"}
    elif query.payment_method is not None:
        assert served == {"by_payment_method"}
    else:
        assert served == {"by_month"}


def test_the_first_page_reads_about_a_page_not_the_table(ctx):
    listing = order_desk.list_orders(DeskQuery(), page_size=PAGE, cursor=None, ctx=ctx)
    assert len(listing.page.orders) == PAGE
    assert listing.page.items_read == PAGE


def test_a_cursor_only_works_with_the_filters_it_was_issued_for(ctx):
    listing = order_desk.list_orders(DeskQuery(status="shipped"), page_size=3, cursor=None, ctx=ctx)
    assert listing.cursor is not None
    with pytest.raises(InvalidCursor):
        order_desk.list_orders(
            DeskQuery(status="paid"), page_size=3, cursor=listing.cursor, ctx=ctx
        )
    spoiled = (listing.cursor + "\x00", listing.cursor + "!", "!" + listing.cursor)
    for bad in ("not-a-cursor!", "e30", listing.cursor[:-3], "eyJ2IjoxfQ", *spoiled):
        with pytest.raises(InvalidCursor):
            order_desk.list_orders(DeskQuery(status="shipped"), page_size=3, cursor=bad, ctx=ctx)


def test_the_unfiltered_listing_stops_at_the_lookback(ctx):
    short = replace(ctx, settings=ctx.settings.model_copy(update={"desk_lookback_months": 2}))
    ids, _, _ = all_pages(DeskQuery(), short)
    oldest = datetime(2026, 9, 1, tzinfo=UTC)
    assert ids == expected(DeskQuery(created_from=oldest))
