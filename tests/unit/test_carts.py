"""Carts, checkout from a cart and the abandoned-cart nudge, on fakes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.cart import CartContent, CartLine, CartStatus, email_hash
from chalicelib.domain.errors import (
    CartConverted,
    CartNotFound,
    IdempotencyKeyReused,
    OptOutLinkUnknown,
    UnknownProducts,
)
from chalicelib.domain.order import Address, Customer, PaymentMethod
from chalicelib.services import carts, catalog, placement, sweeps
from chalicelib.services.context import Context
from tests.conftest import TERMS_VERSION, new_key

ADDRESS = Address(name="E", line1="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")
DELAY = timedelta(hours=10)


@pytest.fixture
def stocked(ctx: Context) -> Context:
    catalog.save_product(
        "tea", name="Tea", price=500, currency="EUR", tax_rate=Decimal("7"), ctx=ctx
    )
    catalog.count_stock("tea", 3, ctx)
    return ctx


def content(
    lines=(("tea", 2),), email="erika@example.com", consent=True, locale="de"
) -> CartContent:
    return CartContent(
        lines=tuple(CartLine(s, q) for s, q in lines),
        email=email,
        locale=locale,
        consent_granted=consent,
        consent_source="cart_page" if consent is not None else None,
    )


def order_details() -> placement.PlaceOrder:
    return placement.PlaceOrder(
        lines=(),
        customer=Customer("erika@example.com", "Erika"),
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
        payment_method=PaymentMethod.CARD,
        locale="de",
        terms_version=TERMS_VERSION,
    )


# --- the cart ------------------------------------------------------------------------


def test_a_cart_shows_each_lines_availability(stocked):
    created = carts.create_cart(content(lines=(("tea", 5),)), stocked)
    (line,) = created.view.lines
    assert (line.sku, line.quantity, line.available, line.in_stock) == ("tea", 5, 3, False)
    assert (line.unit_price, line.line_total, line.currency) == (500, 2500, "EUR")
    view = carts.update_cart(created.view.cart.id, created.token, content(), stocked)
    assert view.lines[0].in_stock


def test_a_cart_is_read_and_changed_only_with_its_token(stocked):
    created = carts.create_cart(content(), stocked)
    cart_id = created.view.cart.id
    assert stocked.carts.get(cart_id).token_hash != created.token
    assert carts.view_cart(cart_id, created.token, stocked).cart.id == cart_id
    with pytest.raises(CartNotFound):
        carts.view_cart(cart_id, "not-the-token", stocked)
    with pytest.raises(CartNotFound):
        carts.update_cart(cart_id, "not-the-token", content(lines=()), stocked)
    assert stocked.carts.get(cart_id).lines == (CartLine("tea", 2),)


def test_unknown_products_are_refused_and_nothing_changes(stocked):
    created = carts.create_cart(content(), stocked)
    with pytest.raises(UnknownProducts):
        carts.update_cart(created.view.cart.id, created.token, content(lines=(("x", 1),)), stocked)
    assert stocked.carts.get(created.view.cart.id).version == 1


def test_consent_keeps_when_and_where_it_was_given(stocked, clock):
    created = carts.create_cart(content(), stocked)
    given = created.view.cart.consent
    assert (given.granted, given.at, given.source) == (True, clock.now, "cart_page")
    clock.advance(hours=1)
    view = carts.update_cart(created.view.cart.id, created.token, content(), stocked)
    assert view.cart.consent == given
    view = carts.update_cart(
        created.view.cart.id,
        created.token,
        content(email="other@example.com", consent=None),
        stocked,
    )
    assert view.cart.consent is None  # consent belongs to the address it was given for


# --- checkout from a cart ------------------------------------------------------------


def test_placing_an_order_from_a_cart_converts_it_and_reserves_its_lines(stocked):
    created = carts.create_cart(content(), stocked)
    cart_id = created.view.cart.id
    placed = carts.place_order_from_cart(
        cart_id, created.token, order_details(), new_key(), stocked
    )
    assert [(line.sku, line.quantity) for line in placed.order.lines] == [("tea", 2)]
    cart = stocked.carts.get(cart_id)
    assert (cart.status, cart.order_id, cart.nudge_due_at) == (
        CartStatus.CONVERTED,
        placed.order.id,
        None,
    )
    assert stocked.catalog.get("tea").reserved == 2
    with pytest.raises(CartConverted):
        carts.update_cart(cart_id, created.token, content(lines=()), stocked)


def test_a_retried_checkout_from_a_cart_returns_the_first_order(stocked):
    created = carts.create_cart(content(), stocked)
    cart_id, key = created.view.cart.id, new_key()
    first = carts.place_order_from_cart(cart_id, created.token, order_details(), key, stocked)
    again = carts.place_order_from_cart(cart_id, created.token, order_details(), key, stocked)
    assert (again.created, again.order.id, again.token) == (False, first.order.id, first.token)
    with pytest.raises(CartConverted):
        carts.place_order_from_cart(cart_id, created.token, order_details(), new_key(), stocked)
    assert stocked.catalog.get("tea").reserved == 2


def test_the_same_key_for_another_cart_is_refused(stocked):
    one = carts.create_cart(content(), stocked)
    two = carts.create_cart(content(), stocked)
    key = new_key()
    carts.place_order_from_cart(one.view.cart.id, one.token, order_details(), key, stocked)
    with pytest.raises(IdempotencyKeyReused):
        carts.place_order_from_cart(two.view.cart.id, two.token, order_details(), key, stocked)
    assert stocked.carts.get(two.view.cart.id).status is CartStatus.OPEN


def test_an_edit_during_checkout_is_ordered_as_edited(stocked, fake_table):
    created = carts.create_cart(content(), stocked)
    cart_id = created.view.cart.id
    real_get = stocked.carts.get
    edited = []

    def get_then_edit(cid):
        cart = real_get(cid)
        if not edited:  # the shopper changes the cart in another tab
            edited.append(True)
            carts.update_cart(cid, created.token, content(lines=(("tea", 1),)), stocked)
        return cart

    stocked.carts.get = get_then_edit
    placed = carts.place_order_from_cart(
        cart_id, created.token, order_details(), new_key(), stocked
    )
    assert [(line.sku, line.quantity) for line in placed.order.lines] == [("tea", 1)]
    assert stocked.catalog.get("tea").reserved == 1


# --- the nudge -----------------------------------------------------------------------


def test_an_abandoned_cart_is_nudged_once_with_its_links(stocked, clock, fake_table):
    created = carts.create_cart(content(), stocked)
    cart_id = created.view.cart.id
    clock.advance(hours=10, seconds=-1)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 0
    clock.advance(seconds=1)
    report = sweeps.nudge_abandoned_carts(stocked)
    assert (report.found, report.acted) == (1, 1)
    (event,) = fake_table.cart_events[cart_id]
    assert event.event == "CartAbandoned"
    data = event.data
    assert (data["cart_id"], data["email"], data["locale"]) == (cart_id, "erika@example.com", "de")
    assert data["lines"] == [{"sku": "tea", "quantity": 2}]
    assert data["recovery_token"] in data["cart_url"]
    assert data["opt_out_url"].endswith(f"/opt-out/{data['opt_out_token']}")
    # The link back works like the cart's token.
    assert carts.view_cart(cart_id, data["recovery_token"], stocked).cart.id == cart_id
    clock.advance(days=3)
    assert sweeps.nudge_abandoned_carts(stocked).found == 0
    carts.update_cart(cart_id, created.token, content(lines=(("tea", 1),)), stocked)
    clock.advance(days=3)
    assert sweeps.nudge_abandoned_carts(stocked).found == 0  # one nudge per cart, ever
    assert len(fake_table.cart_events[cart_id]) == 1


def test_touching_the_cart_restarts_the_abandonment_clock(stocked, clock, fake_table):
    created = carts.create_cart(content(), stocked)
    clock.advance(hours=9)
    carts.update_cart(created.view.cart.id, created.token, content(lines=(("tea", 3),)), stocked)
    clock.advance(hours=9)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 0
    clock.advance(hours=1)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 1


@pytest.mark.parametrize(
    "state",
    ["emptied", "converted", "no consent", "consent refused", "no email", "opted out"],
)
def test_carts_are_never_nudged_when(state, stocked, clock, fake_table):
    created = carts.create_cart(content(), stocked)
    cart_id = created.view.cart.id
    if state == "emptied":
        carts.update_cart(cart_id, created.token, content(lines=()), stocked)
    elif state == "converted":
        carts.place_order_from_cart(cart_id, created.token, order_details(), new_key(), stocked)
    elif state == "no consent":
        carts.update_cart(
            cart_id, created.token, content(email="new@example.com", consent=None), stocked
        )
    elif state == "consent refused":
        carts.update_cart(cart_id, created.token, content(consent=False), stocked)
    elif state == "no email":
        carts.update_cart(cart_id, created.token, content(email=None), stocked)
    elif state == "opted out":
        fake_table.suppressed[email_hash("ERIKA@example.com ")] = "one_click"
    clock.advance(days=2)
    report = sweeps.nudge_abandoned_carts(stocked)
    assert report.acted == 0
    assert cart_id not in fake_table.cart_events
    # and it is out of the index, so later runs do not even read it
    assert sweeps.nudge_abandoned_carts(stocked).found == 0


def test_an_opt_out_link_stops_every_later_nudge_to_that_address(stocked, clock, fake_table):
    first = carts.create_cart(content(), stocked)
    clock.advance(hours=10)
    sweeps.nudge_abandoned_carts(stocked)
    token = fake_table.cart_events[first.view.cart.id][0].data["opt_out_token"]
    carts.check_opt_out_link(token, stocked)
    carts.opt_out(token, stocked, source="one_click")
    carts.opt_out(token, stocked, source="one_click")  # a second click changes nothing
    assert fake_table.suppressed == {email_hash("erika@example.com"): "one_click"}
    second = carts.create_cart(content(email="Erika@Example.com"), stocked)
    clock.advance(hours=10)
    assert sweeps.nudge_abandoned_carts(stocked).acted == 0
    assert second.view.cart.id not in fake_table.cart_events


def test_an_unknown_opt_out_link_is_refused(stocked):
    with pytest.raises(OptOutLinkUnknown):
        carts.opt_out("x" * 43, stocked, source="one_click")
    with pytest.raises(OptOutLinkUnknown):
        carts.check_opt_out_link("x" * 43, stocked)


def test_a_shopper_editing_while_the_nudge_is_written_keeps_the_edit(stocked, clock, fake_table):
    created = carts.create_cart(content(), stocked)
    cart_id = created.view.cart.id
    clock.advance(hours=10)
    real_nudge = stocked.carts.nudge

    def edit_first(nudge):
        stocked.carts.nudge = real_nudge
        carts.update_cart(cart_id, created.token, content(lines=()), stocked)  # emptied
        real_nudge(nudge)

    stocked.carts.nudge = edit_first
    report = sweeps.nudge_abandoned_carts(stocked)
    assert (report.acted, report.skipped) == (0, 1)
    assert stocked.carts.get(cart_id).lines == ()
    assert cart_id not in fake_table.cart_events
