"""The back office in a real headless Chromium on the local stack (Cognito
and DynamoDB on the embedded AWS): sign in, filter, open an order, add both
kinds of note, ship part of it, refund, mark two bank transfers paid at once,
print two packing slips, sign out. Every screen is photographed into
build/screenshots/ and checked with axe-core: no serious or critical
violation (the Makefile's `browser` target installs axe-core, pinned)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from local.resources import LOCAL_STAFF
from tests.conftest import order_body
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

AXE = ROOT / ".browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "build" / "screenshots"
ADMIN = {"Authorization": "Bearer local-admin-key"}
OWNER = next((email, password) for email, password, role in LOCAL_STAFF if role == "owner")
PHONE = {"width": 390, "height": 844}


def place(stack: Any, name: str, *, paid: bool) -> dict[str, Any]:
    body = order_body(
        [("TEA-SENCHA-100", 2), ("MUG-STONE-01", 1)],
        payment_method="bank_transfer",
        customer={"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": name},
    )
    r = requests.post(
        f"{stack.api}/orders",
        json=body,
        headers={"Idempotency-Key": f"bo-{uuid.uuid4()}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    order = dict(r.json())
    if paid:
        r = requests.post(
            f"{stack.api}/admin/orders/{order['id']}/payments",
            json={"bank_reference": "seed"},
            headers=ADMIN,
            timeout=10,
        )
        assert r.status_code == 200, r.text
    return order


def desk(stack: Any, order: dict[str, Any]) -> dict[str, Any]:
    r = requests.get(f"{stack.api}/admin/orders/{order['id']}", headers=ADMIN, timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


class Screens:
    """Photographs each screen and checks it with axe-core."""

    def __init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.checked: dict[str, list[dict[str, Any]]] = {}

    def check(self, page: Any, name: str) -> None:
        path = SHOTS / f"back-office-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .map(v => ({id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        self.checked[name] = violations
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{name}: {json.dumps(serious, indent=1)}"


def test_a_merchant_runs_the_order_desk_in_the_browser(browser, stack):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `make browser`")
    tag = uuid.uuid4().hex[:6]
    shipped_one = place(stack, f"Erika Versand {tag}", paid=True)
    transfers = [place(stack, f"Max Vorkasse {tag}", paid=False) for _ in range(2)]
    screens = Screens()
    # The pages forbid inline scripts (their CSP); axe is injected as one.
    context = browser.new_context(bypass_csp=True, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    office = f"{stack.api}/backoffice"

    # Not signed in: the sign-in page, then back to where we wanted to go.
    page.goto(f"{office}/orders")
    page.wait_for_selector("form input[name=email]")
    screens.check(page, "sign-in")
    page.fill("#email", OWNER[0])
    page.fill("#password", "wrong-password-1A!")
    page.click("main button[type=submit]")
    page.wait_for_selector(".problem")
    screens.check(page, "sign-in-failed")
    page.fill("#email", OWNER[0])
    page.fill("#password", OWNER[1])
    page.click("main button[type=submit]")
    page.wait_for_url(f"{office}/orders")

    # Filter: bank transfers of these customers; the filter is in the URL.
    page.select_option("#f-method", "bank_transfer")
    page.fill("#f-name", tag)
    page.click("text=Filtern")
    page.wait_for_url("**payment_method=bank_transfer**")
    assert tag in page.url
    rows = page.locator("tbody tr")
    assert rows.count() == 3
    screens.check(page, "orders")
    page.set_viewport_size(PHONE)
    screens.check(page, "orders-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The order: both notes, a partial shipment, a refund.
    page.click(f"text={shipped_one['number']}")
    page.wait_for_selector("h1")
    page.fill("#note", "Bitte bruchsicher verpacken")
    page.check("input[name=visibility][value=internal]")
    page.click("form[action$='/notes'] button[type=submit]")
    page.wait_for_selector(".ok")
    page.fill("#note", "Ihre Tassen kommen in einer zweiten Sendung")
    page.check("input[name=visibility][value=customer]")
    page.click("form[action$='/notes'] button[type=submit]")
    page.wait_for_selector(".ok")
    page.fill("#ship-TEA-SENCHA-100", "2")
    page.fill("#ship-MUG-STONE-01", "0")
    page.select_option("#ship-carrier", "dhl")
    page.fill("#ship-tracking", f"JJD{tag}0001")
    page.click("form[action$='/shipments'] button[type=submit]")
    page.wait_for_selector(".ok")
    page.fill("#refund-amount", "1,50")
    page.fill("#refund-reason", "Kulanz")
    page.click("form[action$='/refunds'] button[type=submit]")
    page.wait_for_selector(".ok")
    assert page.locator(".badge.internal").count() >= 1
    assert page.locator(".badge.customer").count() >= 1
    assert page.locator(f"a[href*='JJD{tag}0001']").count() == 1  # the tracking link
    screens.check(page, "order")
    page.set_viewport_size(PHONE)
    screens.check(page, "order-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    detail = desk(stack, shipped_one)
    assert detail["status"] == "partially_shipped"
    assert {(n["note"], n["visibility"]) for n in detail["notes"]} == {
        ("Bitte bruchsicher verpacken", "internal"),
        ("Ihre Tassen kommen in einer zweiten Sendung", "customer"),
    }
    assert detail["payments"][0]["refunded"] == 150

    # Bulk: mark the two bank transfers paid, then print their packing slips.
    page.goto(f"{office}/orders?payment_method=bank_transfer&payment_status=unpaid&name={tag}")
    for order in transfers:
        page.check(f"#pick-{order['id']}")
    page.fill("#bank-reference", f"Kontoauszug {tag}")
    page.click("button[value=mark_paid]")
    page.wait_for_selector("h1:has-text('Ergebnis')")
    assert page.locator("tbody tr").count() == 2
    screens.check(page, "bulk-result")
    assert [desk(stack, o)["payment_status"] for o in transfers] == ["paid", "paid"]

    page.goto(f"{office}/orders?payment_method=bank_transfer&name={tag}")
    for order in transfers:
        page.check(f"#pick-{order['id']}")
    with context.expect_page() as opened:
        page.click("button[value=packing_slips]")
    slips = opened.value
    slips.wait_for_load_state()
    assert slips.locator("section.slip").count() == 2
    for order in transfers:
        assert order["number"] in slips.content()
    screens.check(slips, "packing-slips")
    slips.close()

    # A refusal is a page of its own.
    page.goto(f"{office}/orders/no-such-order")
    page.wait_for_selector(".problem")
    screens.check(page, "problem")

    # English by the switch; then sign out: the session is gone.
    page.goto(f"{office}/orders")
    page.click("a[hreflang=en]")
    page.wait_for_selector("h1:has-text('Orders')")
    page.click("header button:has-text('Sign out')")
    page.wait_for_url(f"{office}/sign-in")
    page.goto(f"{office}/orders")
    page.wait_for_url("**/backoffice/sign-in**")
    context.close()
    Path(SHOTS / "back-office-axe.json").write_text(json.dumps(screens.checked, indent=1))
