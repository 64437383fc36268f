"""Carts, checkout from a cart and the scheduled jobs through the Chalice app
on moto, with the test's clock in the app's context."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.domain.order import HistoryEntry, OrderStatus, PaymentStatus
from chalicelib.services import sweeps
from chalicelib.triggers import SCHEDULE_MINUTES
from infrastructure.definitions import SCHEDULES
from tests.conftest import new_key, order_body, table_snapshot


@pytest.fixture
def shop(api, clock):
    """The API and the scheduled handlers, all reading the test's clock."""
    cached = bootstrap.context
    real = cached()
    # Restored here, before the table fixture's teardown resets the cache.
    bootstrap.context = lambda: replace(real, clock=clock)  # type: ignore[assignment]
    try:
        api.add_product("tea", available=10, price=500, tax_rate="7")
        yield api
    finally:
        bootstrap.context = cached


def invoke(api, handler: str) -> dict:
    """Run a scheduled handler as Lambda would, through chalice's test client."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        return client.lambda_.invoke(handler, event).payload


def cart_body(**overrides):
    return {
        "lines": [{"sku": "tea", "quantity": 2}],
        "email": "erika@example.com",
        "locale": "de",
        "marketing_consent": {"granted": True, "source": "cart_page"},
        **overrides,
    }


def items(table, prefix):
    return [i for i in table_snapshot(table) if i["PK"]["S"].startswith(prefix)]


def stock(api):
    s = api.stock("tea")
    return s["available"], s["reserved"]


def test_the_schedules_in_the_app_match_the_deployment_definitions():
    assert {s.handler: s.every_minutes for s in SCHEDULES} == SCHEDULE_MINUTES


# --- carts over HTTP -----------------------------------------------------------------


def test_a_cart_is_created_read_and_replaced_with_its_token(shop, clock):
    r = shop.call("POST", "/carts", cart_body())
    assert r.status_code == 201, r.json
    cart, token = r.json, r.json["token"]
    assert r.headers["Location"] == f"/carts/{cart['id']}"
    assert cart["lines"] == [
        {
            "sku": "tea",
            "quantity": 2,
            "name": "Product tea",
            "unit_price": 500,
            "currency": "EUR",
            "line_total": 1000,
            "available": 10,
            "in_stock": True,
        }
    ]
    assert cart["marketing_consent"]["source"] == "cart_page"
    auth = {"Authorization": f"Bearer {token}"}
    r = shop.call(
        "PUT", f"/carts/{cart['id']}", cart_body(lines=[{"sku": "tea", "quantity": 11}]), auth
    )
    assert r.status_code == 200, r.json
    assert (r.json["lines"][0]["quantity"], r.json["lines"][0]["in_stock"]) == (11, False)
    r = shop.call("GET", f"/carts/{cart['id']}", headers=auth)
    assert r.json["lines"][0]["quantity"] == 11
    assert "token" not in r.json
    stored = items(shop_table(), "CART#")
    assert token not in json.dumps(stored)  # only its hash is stored


def shop_table():
    return bootstrap.context().settings.table_name


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (cart_body(lines=[{"sku": "tea", "quantity": 0}]), 422, "validation_error"),
        (cart_body(email="not-an-address"), 422, "validation_error"),
        (cart_body(coupon="FREE"), 422, "validation_error"),
        (cart_body(lines=[{"sku": "nope", "quantity": 1}]), 422, "unknown_product"),
        (cart_body(marketing_consent={"granted": "yes"}), 422, "validation_error"),
    ],
)
def test_bad_cart_input_is_a_4xx_and_changes_nothing(shop, body, status, code):
    created = shop.call("POST", "/carts", cart_body()).json
    before = items(shop_table(), "CART#")
    auth = {"Authorization": f"Bearer {created['token']}"}
    r = shop.call("PUT", f"/carts/{created['id']}", body, auth)
    assert (r.status_code, r.json["error"]["code"]) == (status, code)
    assert items(shop_table(), "CART#") == before


def test_a_cart_needs_its_own_token(shop):
    mine = shop.call("POST", "/carts", cart_body()).json
    theirs = shop.call("POST", "/carts", cart_body()).json
    r = shop.call(
        "GET", f"/carts/{mine['id']}", headers={"Authorization": f"Bearer {theirs['token']}"}
    )
    assert (r.status_code, r.json["error"]["code"]) == (404, "cart_not_found")
    assert shop.call("GET", f"/carts/{mine['id']}").status_code == 401


def test_an_order_placed_from_a_cart_converts_it_in_the_same_transaction(shop):
    cart = shop.call("POST", "/carts", cart_body()).json
    body = order_body([], cart_id=cart["id"], cart_token=cart["token"])
    del body["lines"]
    key = new_key()
    r = shop.place(body, key)
    assert r.status_code == 201, r.json
    assert [(line["sku"], line["quantity"]) for line in r.json["lines"]] == [("tea", 2)]
    assert stock(shop) == (8, 2)
    auth = {"Authorization": f"Bearer {cart['token']}"}
    converted = shop.call("GET", f"/carts/{cart['id']}", headers=auth).json
    assert (converted["status"], converted["order_id"]) == ("converted", r.json["id"])
    (item,) = items(shop_table(), "CART#")
    assert "nudge_shard" not in item  # out of the nudge index
    again = shop.place(body, key)
    assert (again.status_code, again.json["id"]) == (200, r.json["id"])
    other = shop.place(body)
    assert (other.status_code, other.json["error"]["code"]) == (409, "cart_converted")
    edit = shop.call("PUT", f"/carts/{cart['id']}", cart_body(), auth)
    assert (edit.status_code, edit.json["error"]["code"]) == (409, "cart_converted")
    assert stock(shop) == (8, 2)


def test_an_order_takes_lines_or_a_cart_not_both(shop):
    cart = shop.call("POST", "/carts", cart_body()).json
    both = order_body([("tea", 1)], cart_id=cart["id"], cart_token=cart["token"])
    r = shop.place(both)
    assert (r.status_code, r.json["error"]["code"]) == (422, "validation_error")
    wrong = order_body([], cart_id=cart["id"], cart_token="x" * 43)
    del wrong["lines"]
    r = shop.place(wrong)
    assert (r.status_code, r.json["error"]["code"]) == (404, "cart_not_found")
    assert stock(shop) == (10, 0)


# --- expiry --------------------------------------------------------------------------


def place(shop, quantity=1, method="card"):
    r = shop.place(order_body([("tea", quantity)], payment_method=method))
    assert r.status_code == 201, r.json
    return r.json


def order_status(shop, order):
    auth = {"Authorization": f"Bearer {order['token']}"}
    return shop.call("GET", f"/orders/{order['id']}", headers=auth).json


def test_the_scheduled_sweep_expires_overdue_orders_only(shop, clock):
    early = place(shop, 2)
    clock.advance(minutes=10)
    late = place(shop, 3)
    clock.advance(minutes=21)  # early is 1 minute overdue, late has 9 minutes left
    result = invoke(shop, "expire_unpaid_orders")
    assert (result["found"], result["acted"], result["items_read"]) == (1, 1, 1)
    expired = order_status(shop, early)
    assert (expired["status"], expired["cancel_reason"]) == (
        "expired",
        "payment not received in time",
    )
    assert [h["event"] for h in expired["history"]] == ["OrderPlaced", "OrderExpired"]
    assert order_status(shop, late)["status"] == "pending_payment"
    assert stock(shop) == (7, 3)
    (item,) = [i for i in items(shop_table(), f"ORDER#{early['id']}") if i["SK"]["S"] == "ORDER"]
    assert "due_shard" not in item  # left the sweep index with the write


def test_the_sweep_reads_only_what_is_due(shop, clock):
    shop.add_product("tea", available=20, price=500, tax_rate="7")
    for _ in range(12):
        place(shop)
    place(shop, method="bank_transfer")
    clock.advance(minutes=31)
    for _ in range(3):
        place(shop)
    clock.advance(minutes=31)
    result = invoke(shop, "expire_unpaid_orders")
    assert (result["acted"], result["items_read"]) == (15, 15)
    again = invoke(shop, "expire_unpaid_orders")
    assert (again["found"], again["items_read"]) == (0, 0)
    assert stock(shop) == (19, 1)


class PayFirst:
    """Orders whose first expiry write is overtaken by the payment."""

    def __init__(self, orders, clock):
        self._orders, self._clock, self.raced = orders, clock, False

    def __getattr__(self, name):
        return getattr(self._orders, name)

    def apply(self, change):
        if not self.raced and change.order.status is OrderStatus.EXPIRED:
            self.raced = True
            order = self._orders.get(change.order.id).order
            at = self._clock()
            paid = HistoryEntry(at=at, event="OrderPaid", actor="provider:fake", message="Paid")
            self._orders.apply(
                order.change(
                    OrderStatus.PAID, at=at, history=[paid], payment_status=PaymentStatus.PAID
                )
            )
        self._orders.apply(change)


def test_a_payment_landing_during_the_sweep_wins_and_the_stock_stays_reserved(shop, clock):
    order = place(shop, 2)
    clock.advance(hours=1)
    ctx = bootstrap.context()
    racing = replace(ctx, orders=PayFirst(ctx.orders, clock))
    report = sweeps.expire_unpaid_orders(racing)
    assert (report.acted, report.skipped, report.errors) == (0, 1, 0)
    seen = order_status(shop, order)
    assert seen["status"] == "paid"
    assert [h["event"] for h in seen["history"]] == ["OrderPlaced", "OrderPaid"]
    assert stock(shop) == (8, 2)


class ReadBeforeTheOtherSweep:
    """Both sweeps read the index before either writes: B runs in full
    between A's read and A's writes."""

    def __init__(self, index, other):
        self._index, self._other = index, other

    def orders_due(self, **kwargs):
        page = self._index.orders_due(**kwargs)
        self.other_report = self._other()
        return page


def test_two_sweeps_running_at_once_expire_each_order_once(shop, clock):
    orders = [place(shop) for _ in range(4)]
    clock.advance(hours=1)
    ctx = bootstrap.context()
    index = ReadBeforeTheOtherSweep(ctx.sweeps, lambda: sweeps.expire_unpaid_orders(ctx))
    first = sweeps.expire_unpaid_orders(replace(ctx, sweeps=index))
    assert (index.other_report.acted, first.found, first.acted, first.skipped) == (4, 4, 0, 4)
    for order in orders:
        assert [h["event"] for h in order_status(shop, order)["history"]] == [
            "OrderPlaced",
            "OrderExpired",
        ]
    assert stock(shop) == (10, 0)


def test_a_bank_transfer_order_is_reminded_once_through_the_schedule(shop, clock):
    order = place(shop, method="bank_transfer")
    place(shop, method="card")
    clock.advance(days=5, minutes=1)  # 7-day window, 48-hour lead
    assert invoke(shop, "send_payment_reminders")["acted"] == 1
    assert invoke(shop, "send_payment_reminders")["acted"] == 0
    seen = order_status(shop, order)
    assert [h["event"] for h in seen["history"]] == ["OrderPlaced", "PaymentReminderDue"]
    assert seen["status"] == "pending_payment"


# --- nudges and opt-out --------------------------------------------------------------


def test_an_abandoned_cart_is_nudged_once_and_the_opt_out_link_works(shop, clock):
    cart = shop.call("POST", "/carts", cart_body()).json
    clock.advance(hours=10)
    assert invoke(shop, "nudge_abandoned_carts")["acted"] == 1
    assert invoke(shop, "nudge_abandoned_carts")["found"] == 0
    (event,) = [
        i for i in items(shop_table(), f"CART#{cart['id']}") if i["SK"]["S"].startswith("EVENT#")
    ]
    assert event["entity"]["S"] == "cart_event"
    assert event["event"]["S"] == "CartAbandoned"
    assert "expires_at" in event
    data = json.loads(
        json.dumps(boto3.dynamodb.types.TypeDeserializer().deserialize(event["data"]), default=str)
    )
    assert (data["cart_id"], data["email"]) == (cart["id"], "erika@example.com")

    link = data["opt_out_url"].removeprefix("http://127.0.0.1:8000")
    page = shop.http.request("GET", link)
    assert page.status_code == 200 and b'<form method="post">' in page.body
    assert items(shop_table(), "SUPPRESS#") == []  # a GET never opts out
    r = shop.http.request(
        "POST",
        link,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click",
    )
    assert r.status_code == 200
    (suppressed,) = items(shop_table(), "SUPPRESS#")
    assert "erika" not in json.dumps(suppressed)  # stored hashed
    assert suppressed["source"]["S"] == "one_click"

    later = shop.call("POST", "/carts", cart_body(email="ERIKA@example.com")).json
    clock.advance(hours=10)
    result = invoke(shop, "nudge_abandoned_carts")
    assert (result["found"], result["acted"]) == (1, 0)
    assert invoke(shop, "nudge_abandoned_carts")["found"] == 0
    assert not [
        i for i in items(shop_table(), f"CART#{later['id']}") if i["SK"]["S"].startswith("EVENT#")
    ]


def test_an_unknown_opt_out_link_is_a_404(shop):
    assert shop.http.request("GET", "/opt-out/" + "x" * 43).status_code == 404
    r = shop.http.request(
        "POST",
        "/opt-out/" + "x" * 43,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click",
    )
    assert r.status_code == 404
    assert items(shop_table(), "SUPPRESS#") == []


@pytest.mark.parametrize("state", ["emptied", "no consent", "converted"])
def test_carts_in_never_nudge_states_are_not_even_in_the_index(shop, clock, state):
    cart = shop.call("POST", "/carts", cart_body()).json
    auth = {"Authorization": f"Bearer {cart['token']}"}
    if state == "emptied":
        shop.call("PUT", f"/carts/{cart['id']}", cart_body(lines=[]), auth)
    elif state == "no consent":
        shop.call(
            "PUT", f"/carts/{cart['id']}", cart_body(marketing_consent={"granted": False}), auth
        )
    else:
        body = order_body([], cart_id=cart["id"], cart_token=cart["token"])
        del body["lines"]
        assert shop.place(body).status_code == 201
    clock.advance(days=1)
    result = invoke(shop, "nudge_abandoned_carts")
    assert (result["found"], result["acted"], result["items_read"]) == (0, 0, 0)
