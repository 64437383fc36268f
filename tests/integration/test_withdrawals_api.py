"""The withdrawal function through the app on moto: identifying the order,
bad input, the identical answer for a wrong email, the throttle,
idempotency, the desk's filter, the refund through the existing routes and
the reminder job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import order_withdrawal
from tests.conftest import Clock, order_body, table_snapshot
from tests.integration.test_fulfilment_api import carrier_event, ship
from tests.integration.test_fulfilment_api import shop as shop  # noqa: PLC0414 - the fixture

TRACKING = "00340434169999000001"


def delivered_order(api) -> dict:
    """Placed (tea 4, mug 2, pot 1), paid by transfer, shipped, delivered now."""
    placed = api.place(order_body([("tea", 4), ("mug", 2), ("pot", 1)]))
    assert placed.status_code == 201, placed.json
    order = placed.json
    paid = api.admin("POST", f"/admin/orders/{order['id']}/payments", {"bank_reference": "TX-1"})
    assert paid.status_code == 200, paid.json
    r = ship(api, order["id"], TRACKING, [("tea", 4), ("mug", 2), ("pot", 1)])
    assert r.status_code == 201, r.json
    event = {
        "event_id": f"{TRACKING}-delivered",
        "tracking_number": TRACKING,
        "status": "delivered",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    assert carrier_event(api, "dhl", event).json["outcome"] == "applied"
    return order


def by_number(order: dict, email: str = "erika@example.com", **more) -> dict:
    return {"number": order["number"], "email": email, **more}


def withdraw_mug(api, order: dict, **reference):
    body = {
        **(reference or by_number(order)),
        "scope": "lines",
        "lines": [{"sku": "mug", "quantity": 1}],
        "confirm": True,
    }
    return api.call("POST", "/withdrawals", body)


def test_a_partial_withdrawal_by_number_and_email_is_received_once(shop, table):
    order = delivered_order(shop)
    first = withdraw_mug(shop, order)
    assert first.status_code == 201, first.json
    withdrawal = first.json["withdrawal"]
    assert withdrawal["lines"] == [{"sku": "mug", "quantity": 1, "refund": 1999, "to_return": 1}]
    assert (withdrawal["full"], withdrawal["refund_total"], withdrawal["hold"]) == (
        False,
        1999,
        "awaiting_return",
    )
    assert first.json["order"]["period_ends_at"] is not None

    before = table_snapshot(table)
    again = withdraw_mug(shop, order)  # a double click
    assert again.status_code == 200
    assert again.json["withdrawal"] == withdrawal
    after = table_snapshot(table)
    # Nothing but the attempt counter changed: no second entry, so no second email.
    assert [i for i in after if i["PK"]["S"].startswith("ORDER#")] == [
        i for i in before if i["PK"]["S"].startswith("ORDER#")
    ]
    history = shop.admin("GET", f"/admin/orders/{order['id']}").json["history"]
    assert [h["event"] for h in history].count("WithdrawalReceived") == 1

    # By the order page's token the same order is found.
    looked = shop.call(
        "POST", "/withdrawals/lookup", {"order_id": order["id"], "token": order["token"]}
    )
    assert looked.status_code == 200, looked.json
    mug = next(line for line in looked.json["lines"] if line["sku"] == "mug")
    assert mug["withdrawable"] == 1


def test_a_wrong_email_answers_exactly_like_an_unknown_order(shop, table):
    order = delivered_order(shop)
    wrong_email = withdraw_mug(shop, order, **by_number(order, "mallory@example.com"))
    unknown = withdraw_mug(shop, order, **{"number": "ZZZZ-ZZZZ", "email": "erika@example.com"})
    wrong_token = withdraw_mug(shop, order, order_id=order["id"], token="x" * 43)
    answers = [wrong_email, unknown, wrong_token]
    assert {r.status_code for r in answers} == {404}

    def without_request_id(r):
        error = dict(r.json["error"])
        error.pop("request_id")
        return error, {k: v for k, v in r.headers.items() if k.lower() != "x-request-id"}

    assert without_request_id(wrong_email) == without_request_id(unknown)
    assert without_request_id(wrong_email) == without_request_id(wrong_token)
    assert wrong_email.json["error"]["details"] == {}
    # The email matches whatever its case.
    assert withdraw_mug(shop, order, **by_number(order, "Erika@Example.COM")).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"scope": "order", "confirm": True},  # no order named
        {"number": "AAAA-AAAA", "email": "a@b.de", "order_id": "o" * 10, "scope": "order",
         "confirm": True},  # both ways at once
        {"number": "AAAA-AAAA", "email": "a@b.de", "scope": "order"},  # not confirmed
        {"number": "AAAA-AAAA", "email": "a@b.de", "scope": "order", "confirm": False},
        {"number": "AAAA-AAAA", "email": "a@b.de", "scope": "lines", "confirm": True},
        {"number": "AAAA-AAAA", "email": "a@b.de", "scope": "order", "confirm": True,
         "lines": [{"sku": "mug", "quantity": 1}]},
        {"number": "AAAA-AAAA", "email": "a@b.de", "scope": "lines", "confirm": True,
         "lines": [{"sku": "mug", "quantity": 0}]},
        {"number": "AAAA-AAAA", "email": "not-an-email", "scope": "order", "confirm": True},
        {"number": "AAAA-AAAA", "email": "a@b.de", "scope": "order", "confirm": True, "x": 1},
    ],
)  # fmt: skip
def test_bad_input_is_a_422_and_writes_nothing(shop, table, body):
    before = table_snapshot(table)
    r = shop.call("POST", "/withdrawals", body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"
    assert table_snapshot(table) == before


def test_lines_not_on_the_order_or_beyond_it_are_refused_and_change_no_order(shop, table):
    order = delivered_order(shop)
    before = shop.admin("GET", f"/admin/orders/{order['id']}").json
    for lines in ([{"sku": "ghost", "quantity": 1}], [{"sku": "mug", "quantity": 3}]):
        body = {**by_number(order), "scope": "lines", "lines": lines, "confirm": True}
        r = shop.call("POST", "/withdrawals", body)
        assert r.status_code == 422, r.json
        assert r.json["error"]["code"] == "withdrawal_lines_invalid"
    assert shop.admin("GET", f"/admin/orders/{order['id']}").json == before


def test_the_lookup_is_throttled_per_client(shop, table, monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("SHOP_WITHDRAWAL_LOOKUP_ATTEMPTS", "3")
    bootstrap.reset()
    body = {"number": "ZZZZ-ZZZZ", "email": "erika@example.com"}
    answers = [shop.call("POST", "/withdrawals/lookup", body) for _ in range(4)]
    assert [r.status_code for r in answers] == [404, 404, 404, 429]
    assert answers[-1].json["error"]["code"] == "too_many_attempts"
    wait = answers[-1].json["error"]["details"]["retry_after_seconds"]
    assert 0 < wait <= 15 * 60
    assert answers[-1].headers["Retry-After"] == str(wait)
    assert "Retry-After" not in answers[0].headers
    # The counter is one item with a TTL, keyed by the hashed address only.
    counters = [i for i in table_snapshot(table) if i["PK"]["S"].startswith("ATTEMPTS#")]
    assert len(counters) == 1
    assert counters[0]["attempts"]["N"] == "4" and "expires_at" in counters[0]
    assert "127.0.0.1" not in counters[0]["PK"]["S"]


def test_withdrawal_refund_through_the_existing_routes_marks_it_refunded(shop, table):
    order = delivered_order(shop)
    assert withdraw_mug(shop, order).status_code == 201
    listing = shop.admin("GET", "/admin/orders?withdrawal=open").json
    assert [o["id"] for o in listing["orders"]] == [order["id"]]

    r = shop.admin(
        "POST",
        f"/admin/orders/{order['id']}/returns",
        {"lines": [{"sku": "mug", "quantity": 1, "restock": True}], "refund": 1999},
    )
    assert r.status_code in (200, 201), r.json
    detail = shop.admin("GET", f"/admin/orders/{order['id']}").json
    events = [h["event"] for h in detail["history"]]
    assert events[-4:] == [
        "ReturnRecorded",
        "WithdrawalReleased",
        "OrderRefunded",
        "WithdrawalRefunded",
    ]
    assert shop.admin("GET", "/admin/orders?withdrawal=open").json["orders"] == []


def test_the_merchant_accepts_a_late_withdrawal_by_hand(shop, table):
    order = delivered_order(shop)
    r = shop.admin(
        "POST",
        f"/admin/orders/{order['id']}/withdrawals",
        {"lines": [{"sku": "pot", "quantity": 1}]},
    )
    assert r.status_code == 201, r.json
    assert r.json["withdrawal"]["late"] is True
    unauthorised = shop.call("POST", f"/admin/orders/{order['id']}/withdrawals", {})
    assert unauthorised.status_code == 401


def test_the_reminder_job_tells_the_merchant_once_before_and_once_after_the_deadline(
    shop, table, monkeypatch
):
    from chalicelib import bootstrap
    from chalicelib.services import sweeps

    order = delivered_order(shop)
    received = shop.admin("POST", f"/admin/orders/{order['id']}/withdrawals", {})  # all of it
    withdrawal_id = received.json["withdrawal"]["id"]
    real = bootstrap.context()
    withdrawal = real.orders.get(order["id"]).order.withdrawals[0]
    clock = Clock(withdrawal.refund_due_at - timedelta(days=2))
    ctx = real.__class__(**{**real.__dict__, "clock": clock})
    # Held for the goods: nothing to remind of yet.
    assert sweeps.send_withdrawal_reminders(ctx).acted == 0
    # The customer's proof of dispatch arrives.
    path = f"/admin/orders/{order['id']}/withdrawals/{withdrawal_id}/release"
    released = shop.admin("POST", path)
    assert released.status_code == 200, released.json
    assert released.json["withdrawals"][0]["hold"] == "released"
    assert (
        shop.admin("POST", f"/admin/orders/{order['id']}/withdrawals/wd_nope/release").status_code
        == 404
    )

    clock.advance(days=-2)
    assert sweeps.send_withdrawal_reminders(ctx).acted == 0  # not yet
    clock.advance(days=2)
    assert sweeps.send_withdrawal_reminders(ctx).acted == 1  # due soon
    assert sweeps.send_withdrawal_reminders(ctx).acted == 0  # sent already
    clock.advance(days=3)
    assert sweeps.send_withdrawal_reminders(ctx).acted == 1  # overdue
    assert sweeps.send_withdrawal_reminders(ctx).acted == 0
    history = real.orders.get(order["id"]).history
    reminders = [e.data["kind"] for e in history if e.event == "WithdrawalRefundReminder"]
    assert reminders == ["due_soon", "overdue"]
    assert order_withdrawal.open_withdrawals(real.orders.get(order["id"]).order)
