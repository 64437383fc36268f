"""The dev page in a real headless Chromium: add to cart, check out, pay on
the fake provider's page, see the order turn paid and its emails listed.
The browser fixture (Debian's Chromium, its flags) is in conftest.py."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_checkout_and_pay_in_the_browser(browser, stack, tmp_path):
    dev = stack.dev
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(dev)
    page.locator("button.add[data-sku='TEA-SENCHA-100']").click()
    page.locator("button.add[data-sku='TEA-SENCHA-100']").click()
    page.select_option("select[name=payment_method]", "card")
    page.wait_for_function("document.getElementById('terms-version').textContent !== '…'")
    page.check("input[name=terms]")
    page.click("#place-order")
    page.wait_for_selector("#pay-link")
    number = page.locator("#checkout-result").inner_text().split()[1]
    page.click("#pay-link")
    page.wait_for_selector("#pay")
    page.click("#pay")
    page.wait_for_url(f"{dev}/**")
    page.wait_for_selector(f".order[data-number='{number}'] .status.paid")
    mails_about = "n => [...document.querySelectorAll('#email-list .subject')]"
    page.wait_for_function(
        f"{mails_about}.filter(s => s.textContent.includes(n)).length >= 3", arg=number
    )
    subjects = page.locator("#email-list .subject").all_inner_texts()
    assert (
        sum(number in s for s in subjects) >= 3
    )  # confirmation, merchant's new order, payment received
    page.screenshot(path=str(tmp_path / "dev-page-paid.png"), full_page=True)
    assert (tmp_path / "dev-page-paid.png").stat().st_size > 10_000
