"""An abandoned cart's nudge travels stream -> bus -> queue -> SES as a
marketing email with one-click unsubscribe headers and the priced cart."""

from __future__ import annotations

from tests.integration.test_schedules import cart_body, invoke, shop  # noqa: F401 - fixtures


def test_the_nudge_is_mailed_once_with_its_cart_and_unsubscribe_headers(pipeline, shop, clock):  # noqa: F811
    cart = shop.call("POST", "/carts", cart_body(locale="en")).json
    clock.advance(hours=11)
    assert invoke(shop, "nudge_abandoned_carts")["acted"] == 1

    event = pipeline.flow()
    assert pipeline.consume(event) == []
    assert pipeline.consume(event) == []  # redelivered: still one mail
    (mail,) = [m for m in pipeline.mails() if m.to == "erika@example.com"]
    unsubscribe = str(mail.headers["List-Unsubscribe"]).strip()
    assert "/opt-out/" in unsubscribe
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.strip("<>") in mail.html
    assert cart["id"] in mail.text and cart["id"] in mail.html  # the link back to the cart
    assert "Product tea" in mail.text  # named and priced from the catalog
    assert "€10.00" in mail.text  # 2 x 5.00
