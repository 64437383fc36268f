"""A hypothesis state machine over the whole API.

The real Chalice app runs in process on moto with a fresh table, payment
queue, bus and notification queue per example, and a clock the machine
moves. Rules place orders, pay them (Stripe-format callbacks signed as the
fake provider signs them, or the merchant marking a bank transfer paid),
fail and mis-pay them, cancel (customer and merchant), expire them through
the sweep Lambda, ship all or part, report parcels delivered, take returns,
refund (admin and the provider's dashboard), count stock, and play the
network: callbacks repeated, held back and delivered later in any order,
queued payment events applied whenever the consumer happens to run, and the
notification pipeline run at random points.

After every step, read from the admin API and the stores:
- each order's history is a path of the documented lifecycle (docs/architecture.md), checked against
  the domain's own table AND the one written out below from the docs; the
  history only grows and the status seen never moves back;
- per SKU: available + reserved + shipped - restocked == the counts set, no
  counter below zero, and reserved/shipped/restocked match what the orders
  say they hold, shipped and took back;
- per payment: 0 <= refunded <= amount, amount and refunds as the fake
  provider recorded them, payment_status as the payments say;
- after draining the notification pipeline: exactly one email per history
  entry that calls for one, so at most one per (order, kind) for the things
  that happen once (placed, paid, delivered, cancelled/expired), one per
  shipment and one per refund.
At the end every held-back callback is delivered, every queued event applied
and every email sent: the ledger then equals the provider's, money that had
to go back went back, and the emails are complete.

Emails are counted per history entry, as the notifier keys its receipts:
an order gets one order_shipped per parcel and one refund_issued per refund,
and exactly one of each other kind that applies to it.

Settings: the "ci" profile (derandomized, no example database) runs by
default, about a minute on a 2-CPU machine; ``HYPOTHESIS_PROFILE=deep`` runs
200 examples of up to 50 steps (tens of minutes; a failure it finds is kept in
.hypothesis/ and replayed first next time):

    HYPOTHESIS_PROFILE=deep WHOLE_API_STATS=1 .venv/bin/python -m pytest \\
        tests/integration/test_whole_api_state_machine.py -q -s

``WHOLE_API_STATS=1`` prints how often each rule ran and what it cost (and,
on stderr, progress after every example). Hypothesis swarm-tests the rules
(each example switches a random subset off), so the network's misbehaviours
share one rule, picked by its ``what`` argument.

Found with it (fixed, each with a focused regression test): a Stripe refund
callback that overtook its payment's callback was acknowledged and lost; an
accepted held payment published an OrderPaid without the amount its schema
requires, so no receipt email was ever sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chalicelib.carriers import signing as carrier_signing
from chalicelib.domain.order import OrderStatus, can_move
from chalicelib.payments import fake
from chalicelib.triggers import PAYMENT_EVENTS_QUEUE
from local.delivery import sqs_lambda_event
from tests.conftest import (
    ADMIN_KEY,
    ADMIN_KEYS_PARAMETER,
    STRIPE_SECRETS,
    Api,
    Clock,
    _payment_resources,
    new_key,
    order_body,
)
from tests.pipeline import Pipeline, running_pipeline

pytestmark = pytest.mark.integration

# Each example costs seconds (a fresh table, queues and bus; every step a few
# moto round trips; the settlement at the end): "ci" stays near a minute.
settings.register_profile(
    "ci",
    max_examples=12,
    stateful_step_count=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

# --- the lifecycle as the docs write it (independent of the domain's table) ----

DOCUMENTED_LIFECYCLE: dict[str, set[str]] = {
    "pending_payment": {"paid", "expired", "cancelled", "on_hold"},
    "paid": {"cancelled", "partially_shipped", "shipped"},
    "partially_shipped": {"partially_shipped", "shipped"},
    "shipped": {"delivered"},
    "on_hold": {"paid", "cancelled"},
    "cancelled": set(),
    "expired": set(),
    "delivered": set(),
}
PROGRESS = {"label_created": 0, "in_transit": 1, "delivered": 3}
HOLDS_STOCK = {"pending_payment", "paid", "on_hold", "partially_shipped"}
CANCELLABLE = {"pending_payment", "paid", "on_hold"}
SHIPPABLE = {"paid", "partially_shipped"}
RETURNABLE = {"partially_shipped", "shipped", "delivered"}
REFUSED_BY_PROVIDER = {"refund_rejected", "nothing_left_to_refund"}

#: The documented emails (docs/events.md): the history entries that send one, and to whom.
EMAILS_BY_EVENT: dict[str, tuple[str, ...]] = {
    "OrderPlaced": ("order_confirmation", "new_order"),
    "OrderPaid": ("payment_received",),
    "OrderShipped": ("order_shipped",),
    "OrderDelivered": ("order_delivered",),
    "OrderCancelled": ("order_cancelled",),
    "OrderExpired": ("order_cancelled",),
    "OrderRefunded": ("refund_issued",),
}
MERCHANT = "merchant@example.com"
CUSTOMER = "erika@example.com"
SUBJECTS = {  # the English subjects (every order here is placed in English)
    "order_confirmation": r"Your Teeladen order (?P<number>\S+)",
    "new_order": r"New order (?P<number>\S+) for .+",
    "payment_received": r"Payment received for order (?P<number>\S+)",
    "order_shipped": r"Your order (?P<number>\S+) is on its way",
    "order_delivered": r"Your order (?P<number>\S+) has been delivered",
    "order_cancelled": r"Your order (?P<number>\S+) has been cancelled",
    "refund_issued": r"Refund for your order (?P<number>\S+)",
}
RECIPIENT = {"new_order": MERCHANT}

SKUS = ("tea", "mug", "pot")
PRICES = {"tea": 1190, "mug": 2500, "pot": 790}
CARRIER_SECRET = "carrier-state-machine-secret"
PAYMENT_EVENTS_ARN = f"arn:aws:sqs:eu-central-1:123456789012:{PAYMENT_EVENTS_QUEUE}"


def kind_of(subject: str) -> tuple[str, str]:
    for kind, pattern in SUBJECTS.items():
        match = re.fullmatch(pattern, subject)
        if match:
            return kind, match["number"]
    raise AssertionError(f"an email nobody expects: {subject!r}")


# --- one shop per example ------------------------------------------------------------


class Shop:
    """Everything one example runs against: a fresh table, payment queue,
    bus, notification queue, carrier secret and clock, and the app on them.
    Built like the ``table``/``api``/``pipeline`` fixtures, by hand, because
    a state machine's examples cannot take function-scoped fixtures."""

    def __init__(self) -> None:
        from chalice.test import Client

        from app import app
        from chalicelib import bootstrap
        from local.resources import create_table, put_admin_key_hashes

        self.patch = pytest.MonkeyPatch()
        self.table = f"shop-{uuid.uuid4().hex[:12]}"
        self.patch.setenv("SHOP_TABLE_NAME", self.table)
        self.patch.setenv("SHOP_STAGE", "test")
        self.patch.setenv("SHOP_ADMIN_KEYS_PARAMETER", ADMIN_KEYS_PARAMETER)
        create_table(boto3.client("dynamodb"), self.table)
        put_admin_key_hashes(
            boto3.client("ssm"),
            ADMIN_KEYS_PARAMETER,
            json.dumps([hashlib.sha256(ADMIN_KEY.encode()).hexdigest()]),
        )
        _payment_resources(self.patch, self.table)
        carrier_parameter = f"/shop/test/{self.table}/carrier-secrets"
        boto3.client("ssm").put_parameter(
            Name=carrier_parameter, Value=json.dumps([CARRIER_SECRET]), Type="SecureString"
        )
        self.patch.setenv("SHOP_CARRIER_WEBHOOK_SECRETS_PARAMETER", carrier_parameter)
        bootstrap.reset()
        self.client_context = Client(app, stage_name="dev")
        self.client = client = self.client_context.__enter__()
        self.api = Api(client)
        self.lambdas = client.lambda_
        self.pipeline_run: Iterator[Pipeline] = running_pipeline(self.api, self.table, self.patch)
        self.pipeline = next(self.pipeline_run)
        # The app and its jobs read this clock (as tests/integration/test_schedules.py does).
        self.clock = Clock()
        self.cached_context = bootstrap.context
        real = bootstrap.context()
        bootstrap.context = lambda: replace(real, clock=self.clock)  # type: ignore[assignment]
        self.stripe = bootstrap.fake_stripe()
        self.sqs = boto3.client("sqs")
        self.payment_queue = self.sqs.get_queue_url(
            QueueName=bootstrap.get_settings().payment_events_queue_name
        )["QueueUrl"]

    def close(self) -> None:
        from chalicelib import bootstrap

        bootstrap.context = self.cached_context  # type: ignore[method-assign]
        self.pipeline_run.close()
        self.client_context.__exit__(None, None, None)
        bootstrap.reset()
        boto3.client("dynamodb").delete_table(TableName=self.table)
        self.patch.undo()

    def order_of(self, order_id: str) -> Any:
        from chalicelib import bootstrap

        return bootstrap.context().orders.get(order_id).order

    def now(self) -> int:
        return int(self.clock().timestamp())


# --- what the machine remembers ------------------------------------------------------


@dataclass
class Tracked:
    """An order the machine placed, and what it has seen of it."""

    id: str
    number: str
    token: str
    method: str
    lines: dict[str, int]
    seen_statuses: list[str] = field(default_factory=lambda: ["pending_payment"])
    seen_history: list[tuple[str, str]] = field(default_factory=list)
    shipped: Counter[str] = field(default_factory=Counter)
    tracking_numbers: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # short, for hypothesis' printed steps
        return f"<order {self.number} {self.method} {dict(self.lines)}>"


@dataclass
class Callback:
    """A provider callback: re-signed at each delivery, as Stripe signs each attempt."""

    event: dict[str, Any]
    order_id: str

    @property
    def reference(self) -> str | None:
        """The payment it is about (Stripe: the PaymentIntent)."""
        return self.event["data"]["object"].get("payment_intent")

    def __repr__(self) -> str:
        return f"<{self.event['type']} {self.event['id'][-6:]}>"


LINES = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(1, 3)),
    min_size=1,
    max_size=3,
    unique_by=lambda line: line[0],
)
METHODS = st.sampled_from(["card", "card", "paypal", "bank_transfer"])


class WholeApi(RuleBasedStateMachine):
    """Reads are the cost here (each is a moto round trip): the machine keeps
    the admin view of every order and the stock counters from its last
    read, and after each step re-reads what that step may have changed."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        started = time.perf_counter()
        self.shop = Shop()
        STATS["ms:(new shop)"] += int((time.perf_counter() - started) * 1000)
        self.counted: dict[str, int] = {}  # what the merchant set, in total per SKU
        self.tracked: list[Tracked] = []
        self.details: dict[str, dict[str, Any]] = {}  # order id -> admin view, as last read
        self.stock: dict[str, dict[str, Any]] = {}  # SKU -> counters, as last read
        self.dirty: set[str] = set()  # orders this step may have changed
        self.stock_dirty = False
        self.sent: list[Callback] = []  # accepted by the API at least once
        self.held: list[Callback] = []  # made at the provider, not delivered yet
        self.carrier_events: list[bytes] = []  # raw bodies sent
        self.carrier_orders: dict[bytes, str] = {}  # raw body -> order id
        self.consumed: list[dict[str, Any]] = []  # payment-event messages applied
        self.serial = 0
        self.steps_started = 0
        self.steps_checked = 0
        self.step: tuple[str, float] | None = None
        STATS["examples"] += 1

    # --- helpers ------------------------------------------------------------------

    def _begin(self, name: str) -> None:
        self.steps_started += 1
        STATS[f"rule:{name}"] += 1
        self.step = (name, time.perf_counter())

    def _next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:06d}"

    def read(self, order: Tracked) -> dict[str, Any]:
        """The merchant's view of the order, read now (and remembered)."""
        r = self.shop.api.admin("GET", f"/admin/orders/{order.id}")
        assert r.status_code == 200, r.json
        self.details[order.id] = r.json
        self.dirty.discard(order.id)
        return r.json

    def read_stock(self) -> dict[str, dict[str, Any]]:
        self.stock = {sku: self.shop.api.stock(sku) for sku in SKUS}
        self.stock_dirty = False
        return self.stock

    def status(self, order: Tracked) -> str:
        return str(self.details[order.id]["status"])

    def changed(self, *orders: Tracked, stock: bool = False) -> None:
        self.dirty.update(o.id for o in orders)
        self.stock_dirty |= stock

    def post_callback(self, callback: Callback) -> Any:
        body, headers = fake.signed_request(
            callback.event, STRIPE_SECRETS[1], timestamp=self.shop.now()
        )
        return self.shop.api.call("POST", "/webhooks/payments/stripe", headers=headers, raw=body)

    def deliver(self, callback: Callback, *, first: bool) -> bool:
        """Send a callback; False when it was refused for a retry, which the
        provider then keeps (as Stripe retries a non-2xx answer)."""
        r = self.post_callback(callback)
        if r.status_code == 404 and r.json["error"]["code"] == "payment_not_found":
            # Only a refund whose payment's own callback has not arrived yet.
            assert callback.event["type"] == "charge.refunded", (callback, r.json)
            assert callback.reference not in self.payments_sent(), (callback, r.json)
            self.held.append(callback)
            return False
        assert r.status_code == 200, (callback, r.json)
        if first:
            assert r.json["outcome"] == "queued", (callback, r.json)
            self.sent.append(callback)
        else:
            assert r.json["outcome"] == "duplicate", (callback, r.json)
        return True

    def payments_sent(self) -> set[str | None]:
        return {c.reference for c in self.sent if c.event["type"] != "charge.refunded"}

    def send_or_hold(self, callback: Callback, hold: bool) -> None:
        if hold:
            self.held.append(callback)
        else:
            self.deliver(callback, first=True)

    def provider_is_ahead(self, detail: dict[str, Any]) -> bool:
        """A dashboard refund the provider made that our ledger has not heard of yet."""
        return any(
            self.shop.stripe.charges[p["reference"]].refunded > p["refunded"]
            for p in detail["payments"]
            if p["reference"] in self.shop.stripe.charges
        )

    def by_card(self) -> list[Tracked]:
        return [o for o in self.tracked if o.method != "bank_transfer"]

    # --- setup --------------------------------------------------------------------

    @initialize(
        target=orders,
        stock=st.fixed_dictionaries({sku: st.integers(1, 6) for sku in SKUS}),
        first=st.lists(st.tuples(LINES, METHODS), min_size=1, max_size=2),
    )
    def open_the_shop(self, stock: dict[str, int], first: list[Any]) -> Any:
        """Products with a little stock each, and the first orders."""
        self._begin("(open the shop)")
        for sku, available in stock.items():
            self.shop.api.add_product(sku, available, price=PRICES[sku], tax_rate="19")
            self.counted[sku] = available
        self.read_stock()
        placed = [self.place_order(lines, method) for lines, method in first]
        return multiple(*[order for order in placed if order is not None])

    # --- the storefront -----------------------------------------------------------

    @rule(target=orders, lines=LINES, method=METHODS)
    def place(self, lines: list[tuple[str, int]], method: str) -> Any:
        self._begin("place")
        order = self.place_order(lines, method)
        return multiple() if order is None else multiple(order)

    def place_order(self, lines: list[tuple[str, int]], method: str) -> Tracked | None:
        """201 with the stock reserved, or a 409 that changes nothing when stock is short."""
        before = self.read_stock() if self.stock_dirty else self.stock
        r = self.shop.api.place(order_body(lines, payment_method=method, locale="en"), new_key())
        if any(q > before[sku]["available"] for sku, q in lines):
            assert (r.status_code, r.json["error"]["code"]) == (409, "insufficient_stock"), r.json
            assert self.read_stock() == before, "a refused order changed the stock"
            return None
        assert r.status_code == 201, r.json
        assert r.json["status"] == "pending_payment"
        order = Tracked(r.json["id"], r.json["number"], r.json["token"], method, dict(lines))
        self.tracked.append(order)
        self.changed(order, stock=True)
        return order

    @rule(order=orders, hold=st.booleans())
    def pay(self, order: Tracked, hold: bool) -> None:
        """The customer pays in full: through the provider (its callback now,
        or held back), or by bank transfer, which the merchant marks paid."""
        self._begin("pay")
        if order.method != "bank_transfer":
            event = self.shop.stripe.pay(self.shop.order_of(order.id), created=self.shop.now())
            self.send_or_hold(Callback(event, order.id), hold)
            return
        before = self.status(order)
        r = self.shop.api.admin(
            "POST", f"/admin/orders/{order.id}/payments", {"bank_reference": self._next("TX")}
        )
        self.changed(order)
        if before == "pending_payment":
            assert (r.status_code, r.json["status"]) == (200, "paid"), r.json
        else:
            assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")

    @precondition(lambda self: self.by_card())
    @rule(data=st.data(), delta=st.sampled_from([-1, 250]), hold=st.booleans())
    def pay_the_wrong_amount(self, data: st.DataObject, delta: int, hold: bool) -> None:
        self._begin("pay_the_wrong_amount")
        order = data.draw(st.sampled_from(self.by_card()), label="order")
        current = self.shop.order_of(order.id)
        event = self.shop.stripe.pay(
            current, amount=current.totals.total + delta, created=self.shop.now()
        )
        self.send_or_hold(Callback(event, order.id), hold)

    @precondition(lambda self: self.by_card())
    @rule(data=st.data(), hold=st.booleans())
    def fail_a_payment(self, data: st.DataObject, hold: bool) -> None:
        self._begin("fail_a_payment")
        order = data.draw(st.sampled_from(self.by_card()), label="order")
        event = fake.payment_failed_event(self.shop.order_of(order.id), created=self.shop.now())
        self.send_or_hold(Callback(event, order.id), hold)

    @precondition(lambda self: any(d["status"] == "on_hold" for d in self.details.values()))
    @rule(data=st.data())
    def merchant_accepts_a_held_payment(self, data: st.DataObject) -> None:
        self._begin("merchant_accepts_a_held_payment")
        held = [o for o in self.tracked if self.status(o) == "on_hold"]
        order = data.draw(st.sampled_from(held), label="order")
        r = self.shop.api.admin(
            "POST", f"/admin/orders/{order.id}/payments", {"bank_reference": self._next("OK")}
        )
        self.changed(order)
        assert (r.status_code, r.json["status"]) == (200, "paid"), r.json

    @rule(order=orders)
    def customer_cancels(self, order: Tracked) -> None:
        self._begin("customer_cancels")
        r = self.shop.api.call(
            "POST",
            f"/orders/{order.id}/cancel",
            {"reason": "changed my mind"},
            {"Authorization": f"Bearer {order.token}"},
        )
        self.check_cancel(order, r)

    @rule(order=orders)
    def merchant_cancels(self, order: Tracked) -> None:
        self._begin("merchant_cancels")
        r = self.shop.api.admin("POST", f"/admin/orders/{order.id}/cancel", {"reason": "no"})
        self.check_cancel(order, r)

    def check_cancel(self, order: Tracked, r: Any) -> None:
        before = self.status(order)
        self.changed(order, stock=True)
        if before in CANCELLABLE or before == "cancelled":
            assert (r.status_code, r.json["status"]) == (200, "cancelled"), (before, r.json)
            # Everything kept goes back with the cancel. A payment the
            # provider refunded in full in its dashboard (the report still
            # on its way) is not refunded again: the provider holds nothing.
            after = self.read(order)
            assert self.kept_by_provider(after) == 0, ("kept money", after["payments"])
        else:
            assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
            assert self.read(order)["status"] == before

    # --- time and the sweep -------------------------------------------------------

    @rule(wait=st.sampled_from([1, 31, 8 * 24 * 60]))
    def time_passes_and_the_sweep_runs(self, wait: int) -> None:
        """Minutes pass (card orders have 30 to pay, bank transfers 7 days)."""
        self._begin("time_passes_and_the_sweep_runs")
        self.shop.clock.advance(minutes=wait)
        now = self.shop.clock()
        event = self.shop.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        self.shop.lambdas.invoke("expire_unpaid_orders", event)
        for order in self.tracked:
            was = self.details[order.id]
            if was["status"] != "pending_payment":
                continue
            overdue = datetime.fromisoformat(was["payment_due_at"]) <= now
            after = self.read(order)["status"]
            assert after == ("expired" if overdue else "pending_payment"), (order, after)
            self.stock_dirty |= overdue

    # --- the merchant -------------------------------------------------------------

    @rule(order=orders, everything=st.booleans())
    def ship(self, order: Tracked, everything: bool) -> None:
        """Ship every unshipped line, or one unit of the first."""
        self._begin("ship")
        before = self.details[order.id]
        unshipped = {
            line["sku"]: line["quantity"] - line["shipped_quantity"]
            for line in before["lines"]
            if line["quantity"] > line["shipped_quantity"]
        }
        if everything or not unshipped:
            lines = unshipped or dict.fromkeys(order.lines, 1)
        else:
            lines = {sorted(unshipped)[0]: 1}
        number = self._next("TRK")
        r = self.shop.api.admin(
            "POST",
            f"/admin/orders/{order.id}/shipments",
            {
                "carrier": "dhl",
                "tracking_number": number,
                "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
            },
        )
        self.changed(order, stock=True)
        if before["status"] not in SHIPPABLE:
            assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
            return
        assert r.status_code == 201, r.json
        order.shipped.update(lines)
        order.tracking_numbers.append(number)
        complete = all(order.shipped[sku] == q for sku, q in order.lines.items())
        assert self.read(order)["status"] == ("shipped" if complete else "partially_shipped")

    @precondition(lambda self: any(o.tracking_numbers for o in self.tracked))
    @rule(
        data=st.data(),
        status=st.sampled_from(["delivered", "delivered", "in_transit"]),
        minutes_ago=st.sampled_from([0, 90]),
    )
    def carrier_reports(self, data: st.DataObject, status: str, minutes_ago: int) -> None:
        self._begin("carrier_reports")
        order = data.draw(
            st.sampled_from([o for o in self.tracked if o.tracking_numbers]), label="order"
        )
        number = data.draw(st.sampled_from(order.tracking_numbers), label="tracking_number")
        parcel = next(
            s for s in self.details[order.id]["shipments"] if s["tracking_number"] == number
        )
        occurred = self.shop.clock() - timedelta(minutes=minutes_ago)
        raw = json.dumps(
            {
                "event_id": self._next("CE"),
                "tracking_number": number,
                "status": status,
                "occurred_at": occurred.isoformat(),
            }
        ).encode()
        self.carrier_events.append(raw)
        self.carrier_orders[raw] = order.id
        r = self.post_carrier(raw)
        self.changed(order)
        assert r.status_code == 200, r.json
        # A parcel only moves forward, in the order things happened at the carrier.
        last = parcel["last_event_at"]
        moves_on = (
            parcel["status"] not in ("delivered", "returned_to_sender")
            and (last is None or occurred > datetime.fromisoformat(last))
            and PROGRESS[status] >= PROGRESS[parcel["status"]]
        )
        assert r.json["outcome"] == ("applied" if moves_on else "ignored"), (parcel, raw)

    def post_carrier(self, raw: bytes) -> Any:
        header = carrier_signing.sign(CARRIER_SECRET, self.shop.now(), raw)
        return self.shop.api.call(
            "POST", "/webhooks/carriers/dhl", raw=raw, headers={"Carrier-Signature": header}
        )

    @rule(order=orders, restock=st.booleans(), refund=st.sampled_from(["none", "some", "all"]))
    def customer_returns_a_parcel(self, order: Tracked, restock: bool, refund: str) -> None:
        """One unit comes back, restocked or written off, with or without a refund."""
        self._begin("customer_returns_a_parcel")
        before = self.details[order.id]
        returnable = [
            line["sku"]
            for line in before["lines"]
            if line["shipped_quantity"] > line["returned_quantity"]
        ]
        sku = returnable[0] if returnable else sorted(order.lines)[0]
        left = refundable(before)
        amount = {"none": 0, "some": min(100, left), "all": left}[refund]
        r = self.shop.api.admin(
            "POST",
            f"/admin/orders/{order.id}/returns",
            {"lines": [{"sku": sku, "quantity": 1, "restock": restock}], "refund": amount},
        )
        self.changed(order, stock=True)
        if before["status"] not in RETURNABLE:
            assert (r.status_code, r.json["error"]["code"]) == (409, "illegal_transition")
        elif not returnable:
            assert (r.status_code, r.json["error"]["code"]) == (409, "return_exceeds_shipped")
        elif r.status_code == 409 and r.json["error"]["code"] in REFUSED_BY_PROVIDER:
            # Legitimate only while a dashboard refund is on its way to us:
            # the provider will not return more than it still holds. The
            # goods are back all the same (the return is written first).
            assert self.provider_is_ahead(before), r.json
        else:
            assert r.status_code == 201, r.json
            self.check_refunded(before, amount, self.read(order))

    @rule(order=orders, amount=st.sampled_from([None, 1, 500]))
    def merchant_refunds(self, order: Tracked, amount: int | None) -> None:
        """All that is left (no amount), or part of it."""
        self._begin("merchant_refunds")
        before = self.details[order.id]
        left = refundable(before)
        r = self.shop.api.admin(
            "POST",
            f"/admin/orders/{order.id}/refunds",
            {} if amount is None else {"amount": amount},
        )
        self.changed(order, stock=before["status"] == "on_hold")
        if before["status"] == "on_hold":
            # A held payment goes back in full, and the order is cancelled.
            assert (r.status_code, r.json["status"]) == (200, "cancelled"), r.json
        elif left == 0 or (amount or 0) > left:
            assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_request"), r.json
        elif r.status_code == 409:
            assert r.json["error"]["code"] in REFUSED_BY_PROVIDER, r.json
            assert self.provider_is_ahead(before), r.json
            assert self.read(order) == before, "a refused refund changed the order"
        else:
            assert r.status_code == 200, r.json
            self.check_refunded(before, amount or left, self.read(order))

    def check_refunded(self, before: dict[str, Any], amount: int, after: dict[str, Any]) -> None:
        left = refundable(before) - amount
        if self.provider_is_ahead(before):
            # A dashboard refund we have not heard of yet: the ledger catches
            # up when its report arrives; the provider keeps no more than left.
            assert self.kept_by_provider(after) <= left, (amount, before, after)
        else:
            assert refundable(after) == left, (amount, before["payments"], after["payments"])

    def kept_by_provider(self, detail: dict[str, Any]) -> int:
        """What the provider (or, for bank transfers, the merchant) still holds."""
        kept = 0
        for p in detail["payments"]:
            charge = self.shop.stripe.charges.get(p["reference"])
            if not p["refund_due"]:
                kept += charge.amount - charge.refunded if charge else p["amount"] - p["refunded"]
        return kept

    @precondition(
        lambda self: any(c.refunded < c.amount for c in self.shop.stripe.charges.values())
    )
    @rule(data=st.data(), amount=st.sampled_from([1, 300, 100_000]), hold=st.booleans())
    def merchant_refunds_in_the_dashboard(
        self, data: st.DataObject, amount: int, hold: bool
    ) -> None:
        self._begin("merchant_refunds_in_the_dashboard")
        charges = self.shop.stripe.charges
        reference = data.draw(
            st.sampled_from(sorted(r for r, c in charges.items() if c.refunded < c.amount)),
            label="payment",
        )
        event = self.shop.stripe.refund_in_dashboard(reference, amount, created=self.shop.now())
        self.send_or_hold(Callback(event, charges[reference].order_id), hold)

    @rule(sku=st.sampled_from(SKUS), delta=st.integers(-2, 3))
    def merchant_counts_stock(self, sku: str, delta: int) -> None:
        self._begin("merchant_counts_stock")
        available = self.stock[sku]["available"]
        counted = max(0, available + delta)
        r = self.shop.api.admin("PUT", f"/admin/stock/{sku}", {"available": counted})
        assert r.status_code == 200, r.json
        self.counted[sku] += counted - available
        self.changed(stock=True)

    # --- the network and the queues ------------------------------------------------

    @rule(batch=st.integers(1, 10))
    def payment_events_consumer_runs(self, batch: int) -> None:
        self._begin("payment_events_consumer_runs")
        self.consume(batch)

    @rule(
        what=st.sampled_from(
            ["provider_repeats", "held_arrive", "sqs_redelivers", "carrier_repeats"]
        ),
        data=st.data(),
    )
    def the_network_misbehaves(self, what: str, data: st.DataObject) -> None:
        """At least once, in any order: the provider repeats a callback it
        sent; callbacks it held back arrive, shuffled; SQS delivers an
        applied payment event again; a carrier repeats a report."""
        self._begin(f"the_network_misbehaves:{what}")
        if what == "provider_repeats" and self.sent:
            self.deliver(data.draw(st.sampled_from(self.sent), label="callback"), first=False)
        elif what == "held_arrive" and self.held:
            arriving = data.draw(st.permutations(self.held), label="arriving")
            count = data.draw(st.integers(1, len(arriving)), label="count")
            self.held = arriving[count:]
            for callback in arriving[:count]:
                self.deliver(callback, first=True)
        elif what == "sqs_redelivers" and self.consumed:
            message = dict(data.draw(st.sampled_from(self.consumed), label="message"))
            message["MessageId"] = str(uuid.uuid4())
            result = self.shop.lambdas.invoke(
                "apply_payment_events", sqs_lambda_event([message], PAYMENT_EVENTS_ARN)
            ).payload
            assert result == {"batchItemFailures": []}
            self.changed(self._tracked(message["Attributes"]["MessageGroupId"]))
        elif what == "carrier_repeats" and self.carrier_events:
            raw = data.draw(st.sampled_from(self.carrier_events), label="report")
            r = self.post_carrier(raw)
            self.changed(self._tracked(self.carrier_orders[raw]))
            assert r.status_code == 200, r.json
            assert r.json["outcome"] in ("duplicate", "ignored"), r.json

    @rule()
    def notifications_are_sent(self) -> None:
        self._begin("notifications_are_sent")
        self.drain_notifications()
        self.check_emails()

    def _tracked(self, order_id: str) -> Tracked:
        return next(o for o in self.tracked if o.id == order_id)

    def consume(self, batch: int) -> int:
        """Receive up to ``batch`` payment events and run the consumer on
        them, as Lambda's event source does; returns how many it took."""
        sqs, url = self.shop.sqs, self.shop.payment_queue
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=batch, AttributeNames=["All"], VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return 0
        result = self.shop.lambdas.invoke(
            "apply_payment_events", sqs_lambda_event(messages, PAYMENT_EVENTS_ARN)
        ).payload
        assert result == {"batchItemFailures": []}, result
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            self.changed(self._tracked(message["Attributes"]["MessageGroupId"]))
        self.consumed.extend(messages)
        return len(messages)

    def drain_notifications(self) -> None:
        pipeline = self.shop.pipeline
        for _ in range(50):
            records = pipeline.new_stream_records()
            if records:
                pipeline.publish(records)
            event = pipeline.receive()
            if event["Records"]:
                assert pipeline.consume(event) == []
            elif not records:
                return
        raise AssertionError("the notification pipeline did not drain")

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def the_books_balance(self) -> None:
        for order in self.tracked:
            if order.id in self.dirty:
                self.read(order)
        if self.stock_dirty:
            self.read_stock()
        for order in self.tracked:
            self.check_lifecycle(order, self.details[order.id])
            self.check_money(self.details[order.id], settled=False)
        self.check_stock()
        self.steps_checked = self.steps_started
        if self.step is not None:  # milliseconds per rule, its checks included
            STATS[f"ms:{self.step[0]}"] += int((time.perf_counter() - self.step[1]) * 1000)

    def check_lifecycle(self, order: Tracked, detail: dict[str, Any]) -> None:
        history = [(e["event"], e["at"]) for e in detail["history"]]
        assert history[: len(order.seen_history)] == order.seen_history, "history was rewritten"
        order.seen_history = history
        path = status_path(detail)
        assert path[0] == "pending_payment"
        assert path[-1] == detail["status"], (path, detail["status"])
        for before, after in pairwise(path):
            assert after in DOCUMENTED_LIFECYCLE[before], f"{order}: {before} -> {after}"
            assert can_move(OrderStatus(before), OrderStatus(after)), f"{before} -> {after}"
        if detail["status"] != order.seen_statuses[-1]:
            order.seen_statuses.append(detail["status"])
        assert is_subsequence(order.seen_statuses, path), (order.seen_statuses, path)
        fulfilment = detail["status"] if detail["status"] in RETURNABLE else "unfulfilled"
        assert detail["fulfilment_status"] == fulfilment, (detail["status"], fulfilment)
        shipments = detail["shipments"]
        assert sorted(s["tracking_number"] for s in shipments) == sorted(order.tracking_numbers)
        if detail["status"] == "shipped":
            assert not all(s["status"] == "delivered" for s in shipments), (
                "every parcel arrived but the order is not delivered"
            )
        if detail["status"] == "delivered":
            assert all(s["status"] == "delivered" for s in shipments)

    def check_money(self, detail: dict[str, Any], *, settled: bool) -> None:
        stripe = self.shop.stripe
        payments = detail["payments"]
        for p in payments:
            assert 0 <= p["refunded"] <= p["amount"], p
            if p["provider"] == "stripe":
                charge = stripe.charges[p["reference"]]
                assert charge.order_id == detail["id"]
                assert p["amount"] == charge.amount, (p, charge)
                # Never a refund recorded that the provider has not made;
                # once everything arrived, every refund it made is recorded.
                assert p["refunded"] <= charge.refunded, (p, charge)
                if settled:
                    assert p["refunded"] == charge.refunded, (p, charge)
            else:  # the merchant saw the bank transfer: the order's total
                assert p["provider"] == "bank_transfer", p
                assert p["amount"] == detail["totals"]["total"], p
        kept = [p for p in payments if not p["refund_due"]] or payments
        paid = sum(p["amount"] for p in kept)
        refunded = sum(p["refunded"] for p in kept)
        assert paid - refunded >= 0
        if paid == 0:
            expected = "unpaid"
        elif refunded == 0:
            expected = "paid"
        else:
            expected = "refunded" if refunded >= paid else "partially_refunded"
        assert detail["payment_status"] == expected, (detail["payment_status"], payments)
        if detail["status"] in ("paid", "partially_shipped", "shipped", "delivered"):
            assert any(not p["refund_due"] for p in payments), "paid or shipped, but no payment"
        if settled:
            recorded = {p["reference"] for p in payments if p["provider"] == "stripe"}
            charged = {ref for ref, c in stripe.charges.items() if c.order_id == detail["id"]}
            assert recorded == charged, "the provider took money the order does not show"
            if detail["status"] in ("cancelled", "expired"):
                assert all(p["refunded"] == p["amount"] for p in payments), payments
            assert all(p["refunded"] == p["amount"] for p in payments if p["refund_due"])

    def check_stock(self) -> None:
        """Conservation, and the counters match what the orders hold, shipped and took back."""
        reserved: Counter[str] = Counter()
        shipped: Counter[str] = Counter()
        restocked: Counter[str] = Counter()
        for order in self.tracked:
            detail = self.details[order.id]
            for line in detail["lines"]:
                shipped[line["sku"]] += line["shipped_quantity"]
                if detail["status"] in HOLDS_STOCK:
                    reserved[line["sku"]] += line["quantity"] - line["shipped_quantity"]
            for entry in detail["history"]:
                if entry["event"] == "ReturnRecorded":
                    for line in entry["data"]["lines"]:
                        restocked[line["sku"]] += line["quantity"] if line["restock"] else 0
        shipped_by_us: Counter[str] = sum((o.shipped for o in self.tracked), Counter())
        for sku, s in self.stock.items():
            assert min(s["available"], s["reserved"], s["shipped"], s["restocked"]) >= 0, s
            assert s["available"] + s["reserved"] + s["shipped"] - s["restocked"] == s["adjusted"]
            assert s["adjusted"] == self.counted[sku], (s, self.counted[sku])
            assert s["reserved"] == reserved[sku], (sku, s, reserved[sku])
            assert s["shipped"] == shipped[sku] == shipped_by_us[sku], (sku, s, shipped[sku])
            assert s["restocked"] == restocked[sku], (sku, s, restocked[sku])

    def check_emails(self) -> None:
        """After a full drain: one email per history entry that calls for
        one (the orders' views are current: sending mail changes no order)."""
        sent: Counter[tuple[str, str]] = Counter()
        for mail in self.shop.pipeline.mails():
            kind, number = kind_of(mail.subject)
            assert mail.to == RECIPIENT.get(kind, CUSTOMER), (kind, mail.to)
            sent[number, kind] += 1
        expected: Counter[tuple[str, str]] = Counter()
        for order in self.tracked:
            for entry in self.details[order.id]["history"]:
                for kind in EMAILS_BY_EVENT.get(entry["event"], ()):
                    # Internal entries tell the merchant only.
                    if kind in RECIPIENT or entry["visibility"] == "customer":
                        expected[order.number, kind] += 1
        assert sent == expected, {
            "missing": dict(expected - sent),
            "extra or duplicate": dict(sent - expected),
        }
        for (number, kind), count in sent.items():
            if kind not in ("order_shipped", "refund_issued"):  # one per parcel, per refund
                assert count == 1, (number, kind, count)

    # --- the end ----------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            # Only when every step so far passed its checks: a failing step
            # is reported as it is, not buried under a settlement failure.
            started = time.perf_counter()
            if self.steps_checked == self.steps_started:
                self.settle()
            STATS["ms:(settle)"] += int((time.perf_counter() - started) * 1000)
        finally:
            started = time.perf_counter()
            self.shop.close()
            STATS["ms:(close)"] += int((time.perf_counter() - started) * 1000)
            if os.environ.get("WHOLE_API_STATS"):  # progress, for long runs
                print(json.dumps({"so_far": dict(STATS)}), file=sys.stderr)

    def settle(self) -> None:
        """Deliver what was held back, apply every queued event, send every
        email; then the books must balance exactly."""
        rng = random.Random(len(self.held))
        while self.held:
            held, self.held = self.held, []
            rng.shuffle(held)
            delivered = [self.deliver(callback, first=True) for callback in held]
            assert any(delivered), ("the provider's retries never get through", held)
        while self.consume(10):
            pass
        self.drain_notifications()
        for order in self.tracked:
            self.read(order)
        self.read_stock()
        self.check_emails()
        for order in self.tracked:
            self.check_lifecycle(order, self.details[order.id])
            self.check_money(self.details[order.id], settled=True)
        self.check_stock()


def refundable(detail: dict[str, Any]) -> int:
    """What the merchant can still refund: kept payments, less their refunds."""
    return sum(p["amount"] - p["refunded"] for p in detail["payments"] if not p["refund_due"])


def status_path(detail: dict[str, Any]) -> list[str]:
    """The statuses an order went through, read from its history."""
    ordered = {line["sku"]: line["quantity"] for line in detail["lines"]}
    shipped: Counter[str] = Counter()
    path = []
    simple = {
        "OrderPlaced": "pending_payment",
        "OrderPaid": "paid",
        "PaymentOnHold": "on_hold",
        "OrderCancelled": "cancelled",
        "OrderExpired": "expired",
        "OrderDelivered": "delivered",
    }
    for entry in detail["history"]:
        event = entry["event"]
        if event in simple:
            path.append(simple[event])
        elif event == "OrderShipped":
            for line in entry["data"]["lines"]:
                shipped[line["sku"]] += line["quantity"]
            complete = all(shipped[sku] == q for sku, q in ordered.items())
            path.append("shipped" if complete else "partially_shipped")
    return path


def is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(any(item == x for x in it) for item in short)


STATS: Counter[str] = Counter()


def test_the_whole_api_keeps_its_books_whatever_happens(aws: None) -> None:
    """Places, pays, fails, cancels, expires, ships, delivers, returns and
    refunds orders, with callbacks repeated and reordered, checking the
    lifecycle, the stock, the money and the emails after every step."""
    STATS.clear()
    started = time.perf_counter()
    run_state_machine_as_test(WholeApi, settings=settings.get_profile(PROFILE))
    if os.environ.get("WHOLE_API_STATS"):
        rules = {k.removeprefix("rule:"): v for k, v in sorted(STATS.items()) if "rule:" in k}
        ms = {k.removeprefix("ms:"): v for k, v in sorted(STATS.items()) if "ms:" in k}
        print(
            json.dumps(
                {
                    "profile": PROFILE,
                    "examples": STATS["examples"],
                    "steps": sum(v for k, v in rules.items() if not k.startswith("(")),
                    "seconds": round(time.perf_counter() - started, 1),
                    "rules": rules,
                    "mean_ms_per_rule": {k: v // rules[k] for k, v in ms.items() if k in rules},
                    "total_ms_outside_rules": {k: v for k, v in ms.items() if k not in rules},
                }
            )
        )
