"""Data subject requests on fakes: the kinds listed once, export, erasure,
restriction, the record of each request, and the marketing paths refusing a
suppressed address (docs/gdpr.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.cart import CartContent, CartLine
from chalicelib.domain.data_requests import (
    EXPORTED_KINDS,
    RECORD_KINDS,
    OnErasure,
    RequestKind,
    StoredItem,
    erasable,
    retention_ends,
    subject_hash,
    withheld,
)
from chalicelib.domain.order import Address, Customer, PaymentMethod
from chalicelib.notify.emails import Shop
from chalicelib.notify.service import Notifier, send_event_emails
from chalicelib.services import carts, catalog, placement, sweeps
from chalicelib.services.context import Context
from chalicelib.services.data_requests import handle_request
from local.email_samples import sample
from tests.conftest import TERMS_VERSION, new_key
from tests.fakes import FakeEmailReceipts, FakeMailer, FakeSuppressions, FakeTable

STORE = Path(__file__).parents[2] / "chalicelib" / "store"
ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
EMAIL = "erika@example.com"


@pytest.fixture
def stocked(ctx: Context) -> Context:
    catalog.save_product(
        "tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
    )
    catalog.count_stock("tea", 10, ctx)
    return ctx


def cart_content(email: str = EMAIL) -> CartContent:
    return CartContent(
        lines=(CartLine("tea", 1),),
        email=email,
        locale="de",
        consent_granted=True,
        consent_source="cart_page",
    )


def place(ctx: Context, email: str = EMAIL) -> str:
    command = placement.PlaceOrder(
        lines=(placement.RequestedLine("tea", 1),),
        customer=Customer(email, "Erika"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="de",
        terms_version=TERMS_VERSION,
    )
    return placement.place_order(command, new_key(), ctx).order.id


# --- the kinds, listed once -----------------------------------------------------------


def entities_the_store_writes() -> set[str]:
    """Every ``entity`` value written anywhere in chalicelib/store."""
    found = set()
    for source in STORE.glob("*.py"):
        text = source.read_text()
        found |= set(re.findall(r'"entity":\s*"([a-z_]+)"', text))
        found |= set(re.findall(r'":entity":\s*"([a-z_]+)"', text))
    return found


def test_every_kind_of_item_the_store_writes_has_a_decided_export_and_erasure():
    written = entities_the_store_writes()
    assert written >= {"order", "cart", "suppression", "data_request", "email_receipt"}
    listed = [kind.entity for kind in RECORD_KINDS]
    assert len(listed) == len(set(listed)), "a kind is listed twice"
    assert written == set(listed), (
        "a kind the store writes is not in domain/data_requests.py RECORD_KINDS "
        "(or one listed there is written nowhere): decide its export and erasure"
    )


def test_every_kind_that_is_not_personal_data_is_left_out_of_the_export_and_no_other():
    # The one exception: a once-per-customer code's claim, which the export
    # shows through the order it was used on (the order names its code).
    shown_by_order = {"discount_claim"}
    for kind in RECORD_KINDS:
        personal = kind.on_erasure is not OnErasure.NOT_PERSONAL
        assert kind.exported == (personal and kind.entity not in shown_by_order), kind.entity
        assert kind.retention and kind.why


def test_orders_are_kept_eight_years_from_the_end_of_their_year_when_paid_else_six():
    created = datetime(2026, 3, 5, tzinfo=UTC)
    assert retention_ends(created, paid=True) == date(2034, 12, 31)
    assert retention_ends(created, paid=False) == date(2032, 12, 31)


def test_the_export_withholds_tokens_and_index_keys_at_any_depth():
    item = {
        "id": "c1",
        "token_hash": "x",
        "pickup_code": "123456",
        "customer_key": "EMAIL#a",
        "data": {"email": EMAIL, "recovery_token": "secret", "cart_url": "https://x/?token=s"},
        "lines": [{"sku": "tea", "opt_out_token": "t"}],
    }
    assert withheld(item) == {"id": "c1", "data": {"email": EMAIL}, "lines": [{"sku": "tea"}]}


def test_only_a_cart_s_email_receipts_are_erased_an_order_s_stay_with_it():
    key = {"PK": "EMAILRECEIPT#x", "SK": "cart_nudge#e"}
    assert erasable(StoredItem("email_receipt", key, {}, "cart"))
    assert not erasable(StoredItem("email_receipt", key, {}, "order"))
    assert not erasable(StoredItem("order", key, {}, "order"))
    assert not erasable(StoredItem("unknown_kind", key, {}, "address"))


# --- export ------------------------------------------------------------------------------


def test_an_export_lists_every_exported_kind_and_the_address_s_records_only(stocked, clock):
    place(stocked)
    place(stocked, "someone@example.com")
    carts.create_cart(cart_content(), stocked)
    carts.create_cart(cart_content("someone@example.com"), stocked)
    result = handle_request(
        "  Erika@Example.COM ", RequestKind.EXPORT, actor="merchant:1", ctx=stocked
    )
    assert result.records is not None
    assert set(result.records) == set(EXPORTED_KINDS)
    assert len(result.records["order"]) == 1 and len(result.records["cart"]) == 1
    text = json.dumps(result.records)
    assert EMAIL in text and "someone@example.com" not in text
    assert "token_hash" not in text
    assert result.kept_orders == []
    # An export changes nothing: both carts may still be nudged.
    clock.advance(hours=10)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 2


# --- erasure -----------------------------------------------------------------------------


def test_erasure_deletes_carts_and_nudges_and_keeps_the_orders_restricted(
    stocked, clock, fake_table: FakeTable
):
    order_id = place(stocked)
    nudged = carts.create_cart(cart_content(), stocked).view.cart.id
    clock.advance(hours=10)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 1
    assert fake_table.cart_events[nudged] and fake_table.opt_out_tokens
    other = carts.create_cart(cart_content("someone@example.com"), stocked).view.cart.id

    result = handle_request(EMAIL, RequestKind.ERASURE, actor="merchant:1", ctx=stocked)

    assert nudged not in fake_table.carts and nudged not in fake_table.cart_events
    assert not fake_table.opt_out_tokens
    assert other in fake_table.carts
    order = stocked.orders.get(order_id).order
    assert order.processing_restricted_at == clock.now and not order.marketing_allowed
    assert [k.order_id for k in result.kept_orders] == [order_id]
    assert result.kept_orders[0].kept_until == "2032-12-31"  # unpaid: a commercial letter
    assert fake_table.suppressed[subject_hash(EMAIL)] == "erasure_request"
    outcome = result.request.outcome
    assert (outcome["cart"].found, outcome["cart"].erased) == (1, 1)
    assert (outcome["order"].restricted, outcome["order"].erased) == (1, 0)
    left = handle_request(EMAIL, RequestKind.EXPORT, actor="merchant:1", ctx=stocked).records
    assert left is not None
    for kind in ("cart", "cart_event", "opt_out_token"):
        assert left[kind] == [], kind
    assert len(left["order"]) == 1 and left["order"][0]["processing_restricted_at"]


def test_after_erasure_a_new_cart_of_the_address_is_never_nudged(stocked, clock, fake_table):
    handle_request(EMAIL, RequestKind.ERASURE, actor="merchant:1", ctx=stocked)
    cart_id = carts.create_cart(cart_content("ERIKA@example.com"), stocked).view.cart.id
    clock.advance(hours=10)
    report = sweeps.nudge_abandoned_carts(stocked)
    assert (report.found, report.acted) == (1, 0)
    assert cart_id not in fake_table.cart_events
    assert fake_table.carts[cart_id].nudge_suppressed


def test_an_erasure_repeated_changes_nothing_more(stocked, clock, fake_table):
    order_id = place(stocked)
    handle_request(EMAIL, RequestKind.ERASURE, actor="merchant:1", ctx=stocked)
    first = stocked.orders.get(order_id).order
    clock.advance(days=1)
    again = handle_request(EMAIL, RequestKind.ERASURE, actor="merchant:1", ctx=stocked)
    after = stocked.orders.get(order_id).order
    assert after.version == first.version
    assert after.processing_restricted_at == first.processing_restricted_at
    assert again.kept_orders[0].restricted_at == first.processing_restricted_at.isoformat()


# --- restriction -------------------------------------------------------------------------


def test_a_restriction_deletes_nothing_marks_the_orders_and_stops_the_nudge(
    stocked, clock, fake_table
):
    order_id = place(stocked)
    cart_id = carts.create_cart(cart_content(), stocked).view.cart.id
    result = handle_request(EMAIL, RequestKind.RESTRICTION, actor="merchant:1", ctx=stocked)
    assert cart_id in fake_table.carts
    assert not stocked.orders.get(order_id).order.marketing_allowed
    assert result.request.outcome["cart"].erased == 0
    clock.advance(hours=10)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 0
    assert cart_id not in fake_table.cart_events


# --- the record --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RequestKind))
def test_each_request_is_recorded_by_the_address_s_hash_with_who_when_and_outcome(
    kind, stocked, clock
):
    place(stocked)
    result = handle_request(EMAIL, kind, actor="merchant:ab12cd34", ctx=stocked)
    (recorded,) = stocked.customer_data.requests  # type: ignore[union-attr]
    assert recorded == result.request
    assert (recorded.kind, recorded.actor, recorded.requested_at) == (
        kind,
        "merchant:ab12cd34",
        clock.now,
    )
    assert recorded.subject_hash == subject_hash(EMAIL)
    assert recorded.outcome["order"].found == 1
    assert EMAIL not in repr(recorded)
    assert (recorded.expires_at - recorded.requested_at).days == 3 * 365


def test_the_requests_log_names_no_address(stocked, monkeypatch):
    from chalicelib.services import data_requests

    place(stocked)
    logged: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        data_requests.logger, "info", lambda *a, **kw: logged.append((*a, *kw.values()))
    )
    handle_request(EMAIL, RequestKind.ERASURE, actor="merchant:1", ctx=stocked)
    assert [entry[0] for entry in logged] == ["data request answered"]
    assert not any(subject_hash(EMAIL) in str(v) or "erika" in str(v) for v in logged[0])


# --- the marketing send path -------------------------------------------------------------


@pytest.fixture
def notifier(settings, clock, fake_table):
    return Notifier(
        receipts=FakeEmailReceipts(),
        mailer=FakeMailer(),
        shop=Shop.from_settings(settings),
        settings=settings,
        clock=clock,
        suppressions=FakeSuppressions(fake_table),
    )


def test_a_nudge_in_flight_is_not_mailed_to_an_address_suppressed_since(notifier, fake_table):
    detail = sample("CartAbandoned", "de")
    to = detail["cart"]["email"]
    fake_table.suppressed[subject_hash(to)] = "erasure_request"
    assert send_event_emails("CartAbandoned", detail, notifier) == []
    assert notifier.mailer.sent == []


def test_contract_emails_still_go_to_a_suppressed_address(notifier, fake_table):
    detail = sample("OrderShipped", "de")
    fake_table.suppressed[subject_hash(detail["order"]["customer"]["email"])] = "erasure_request"
    assert send_event_emails("OrderShipped", detail, notifier) == ["order_shipped"]


def test_a_nudge_to_an_address_not_suppressed_is_mailed(notifier):
    assert send_event_emails("CartAbandoned", sample("CartAbandoned", "de"), notifier) == [
        "cart_nudge"
    ]
