"""Every email kind rendered from sample events, in both locales."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.notify import emails as catalogue
from chalicelib.notify.formatting import money, supported_locale
from chalicelib.notify.render import TEMPLATES
from chalicelib.notify.ses import mime
from local.email_previews import write_previews
from local.email_samples import DETAIL_TYPES, sample, secrets

# Every documented kind (docs/events.md), so a kind cannot silently lose its trigger.
EXPECTED_KINDS = {
    "order_confirmation",
    "new_order",
    "payment_received",
    "order_shipped",
    "order_delivered",
    "order_cancelled",
    "refund_issued",
    "invoice_document",
    "payment_reminder",
    "cart_nudge",
    "order_note",  # fulfilment: customer-visible merchant notes
    "ready_for_pickup",  # click & collect: where, when and the pickup code
    "withdrawal_received",  # the customer's acknowledgment
    "withdrawal_notice",  # the merchant's
    "withdrawal_refund_reminder",
}
TOTAL = {"de": "1.234,56 €", "en": "€1,234.56"}
CART_TOTAL = {"de": "35,70 €", "en": "€35.70"}
WITHDRAWAL_REFUND = {"de": "11,90 €", "en": "€11.90"}


@pytest.fixture
def shop(settings):
    return catalogue.Shop.from_settings(settings)


def rendered(detail_type, locale, shop):
    detail = catalogue.parse(detail_type, sample(detail_type, locale))
    return catalogue.emails_for(
        detail_type, detail, replace(shop, merchant_locale=locale), secrets(detail_type)
    )


def all_cases():
    return [(t, loc) for t in DETAIL_TYPES for loc in ("de", "en")]


def test_every_kind_has_a_trigger_and_templates_in_both_locales():
    assert {k for kinds in catalogue.KINDS_BY_EVENT.values() for k in kinds} == EXPECTED_KINDS
    for kind in EXPECTED_KINDS:
        for locale in ("de", "en"):
            for ext in ("html", "txt"):
                assert (TEMPLATES / locale / f"{kind}.{ext}").exists()


@pytest.mark.parametrize(("detail_type", "locale"), all_cases())
def test_text_and_html_parts_carry_the_number_and_totals(detail_type, locale, shop, tmp_path):
    emails = rendered(detail_type, locale, shop)
    assert emails, detail_type
    for mail in emails:
        (tmp_path / f"{mail.kind}.{locale}.html").write_text(mail.html)
        (tmp_path / f"{mail.kind}.{locale}.txt").write_text(mail.text)
        assert mail.locale == locale
        if detail_type == "CartAbandoned":
            expected = [CART_TOTAL[locale], "https://shop.example.com/carts/cart_01JDX6A"]
        elif detail_type.startswith("Withdrawal"):
            # A withdrawal's emails carry its refund, not the order's total.
            expected = ["K7Q-4M2-XP", WITHDRAWAL_REFUND[locale]]
        else:
            expected = ["K7Q-4M2-XP", TOTAL[locale]]
        for part in (mail.html, mail.text):
            for needle in expected:
                assert needle in part, (mail.kind, locale, needle)
        # The shop's identity from the settings, in the frame of every email.
        for part in (mail.html, mail.text):
            assert shop.support_email in part
            assert shop.postal_address in part
        assert "{{" not in mail.html + mail.text + mail.subject


def test_subjects_are_in_the_readers_language(shop):
    de = rendered("OrderShipped", "de", shop)[0]
    en = rendered("OrderShipped", "en", shop)[0]
    assert de.subject == "Ihre Bestellung K7Q-4M2-XP ist unterwegs"
    assert en.subject == "Your order K7Q-4M2-XP is on its way"
    assert "Sendungsnummer: 00340434161094042557" in de.text
    assert "Tracking number: 00340434161094042557" in en.text


def test_placement_tells_the_customer_and_the_merchant(shop):
    confirmation, merchant = catalogue.emails_for(
        "OrderPlaced", catalogue.parse("OrderPlaced", sample("OrderPlaced", "en")), shop
    )
    assert (confirmation.kind, confirmation.to, confirmation.locale) == (
        "order_confirmation",
        "erika@example.com",
        "en",
    )
    # The merchant reads in the merchant's locale, whatever the customer's.
    assert (merchant.kind, merchant.to, merchant.locale) == ("new_order", shop.merchant_email, "de")
    assert merchant.subject == "Neue Bestellung K7Q-4M2-XP über 1.234,56 €"


def test_shipped_email_links_the_carriers_tracking_page(shop):
    mail = rendered("OrderShipped", "en", shop)[0]
    url = sample("OrderShipped")["data"]["tracking_url"]
    assert f'href="{url}"' in mail.html
    assert url in mail.text
    assert "DHL" in mail.text


def test_expiry_says_the_payment_did_not_arrive_in_time(shop):
    de = rendered("OrderExpired", "de", shop)[0]
    en = rendered("OrderExpired", "en", shop)[0]
    assert de.kind == "order_cancelled"
    assert "Zahlung nicht rechtzeitig eingegangen" in de.text
    assert "Reason: payment not received in time" in en.text
    assert "Reason: cancelled by customer" in rendered("OrderCancelled", "en", shop)[0].text


def test_only_the_marketing_nudge_carries_one_click_unsubscribe(shop):
    nudge = rendered("CartAbandoned", "de", shop)[0]
    url = "https://shop.example.com/unsubscribe?t=opaque-token"
    assert nudge.headers == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert f'href="{url}"' in nudge.html and url in nudge.text
    for detail_type in DETAIL_TYPES:
        if detail_type != "CartAbandoned":
            for mail in rendered(detail_type, "de", shop):
                assert mail.headers == {}
                assert "unsubscribe" not in mail.html.lower()


def test_html_escapes_what_came_from_the_catalog_and_text_does_not(shop):
    mail = rendered("OrderPlaced", "en", shop)[0]
    assert "Kettle &lt;Deluxe&gt; &amp; Co" in mail.html
    assert "<Deluxe>" not in mail.html
    assert "Kettle <Deluxe> & Co" in mail.text


def test_internal_entries_send_no_customer_email(shop):
    detail = sample("OrderCancelled", "de")
    detail["visibility"] = "internal"
    parsed = catalogue.parse("OrderCancelled", detail)
    assert catalogue.emails_for("OrderCancelled", parsed, shop) == []


def test_events_without_emails_and_unknown_events_send_nothing():
    assert catalogue.parse("PaymentFailed", {"anything": 1}) is None
    assert catalogue.parse("SomethingNew", {}) is None


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (123456, "EUR", "de", "1.234,56 €"),
        (123456, "EUR", "en", "€1,234.56"),
        (5, "EUR", "de", "0,05 €"),
        (1000000, "CHF", "de", "10.000,00 CHF"),
        (1000000, "CHF", "en", "CHF 10,000.00"),
        (1500, "JPY", "en", "¥1,500"),
        (-250, "GBP", "en", "-£2.50"),
    ],
)
def test_money_is_formatted_for_the_locale(amount, currency, locale, expected):
    assert money(amount, currency, locale) == expected


def test_unknown_locales_fall_back_to_english():
    assert [supported_locale(x) for x in ("de-AT", "DE", "fr", None, "en_GB")] == [
        "de",
        "de",
        "en",
        "en",
        "en",
    ]


def test_mime_message_has_both_parts_and_the_headers(shop):
    mail = rendered("CartAbandoned", "de", shop)[0]
    raw = mime(mail, "Shop <shop@example.com>", "support@example.com")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Ihr Warenkorb bei Shop wartet auf Sie"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Content-Language"] == "de"
    # SMTP line endings on the wire.
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == mail.text
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == mail.html


def test_make_emails_writes_a_browsable_preview_of_every_template(settings, tmp_path: Path):
    files = write_previews(tmp_path, settings)
    index = (tmp_path / "index.html").read_text()
    kinds_seen = {path.name.split(".")[1] for path in files if path.name != "index.html"}
    assert kinds_seen == EXPECTED_KINDS
    for path in files:
        assert path.stat().st_size > 0
        if path.name != "index.html":
            assert f'href="{path.name}"' in index
    assert (tmp_path / "OrderPlaced.new_order.en.html").exists()
    assert (tmp_path / "OrderPlaced.new_order.de.html").exists()


def test_a_subject_template_is_compiled_once_and_renders_each_readers_values(monkeypatch):
    import jinja2

    from chalicelib.notify.render import render_string

    compiled = []
    compile_source = jinja2.Environment.compile

    def counting(self, *args, **kwargs):
        compiled.append(args[0])
        return compile_source(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    source = "Order {{ number }} <{{ locale }}> (compiled once)"
    assert render_string(source, "de", {"number": "A-1"}) == "Order A-1 <de> (compiled once)"
    assert render_string(source, "en", {"number": "B-2"}) == "Order B-2 <en> (compiled once)"
    assert compiled == [source]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_withdrawal_acknowledgment_states_what_and_when_in_the_shops_time(locale, shop):
    emails = {mail.kind: mail for mail in rendered("WithdrawalReceived", locale, shop)}
    assert set(emails) == {"withdrawal_received", "withdrawal_notice"}
    ack = emails["withdrawal_received"]
    assert ack.to == "erika@example.com"
    # Received 09:30 UTC: 10:30 in Berlin, the shop's timezone.
    when = {"de": "27.11.2026, 10:30 Uhr", "en": "27 Nov 2026, 10:30"}[locale]
    for part in (ack.html, ack.text):
        assert when in part
        assert "1 \u00d7 Darjeeling First Flush 100 g (tea-001)" in part
    assert emails["withdrawal_notice"].to == shop.merchant_email


# --- every order email shows the shipping (or pickup), the code and the VAT per rate ----

CHECKOUT = {
    "totals": {"currency": "EUR", "subtotal": 3070, "discount": 307, "shipping": 490,
               "tax": 362, "total": 3253},
    "shipping": {"method_id": "dhl", "name": "DHL Paket", "carrier": "dhl", "price": 490,
                 "charged": 490},
    "discount": {"code": "SUMMER10", "kind": "percentage", "goods": 307, "shipping": 0},
    "tax_rates": [
        {"rate": "7", "goods": 1422, "shipping": 252, "gross": 1674, "net": 1564, "tax": 110},
        {"rate": "19", "goods": 1341, "shipping": 238, "gross": 1579, "net": 1327, "tax": 252},
    ],
}  # fmt: skip
RATE_LINES = {
    "de": ("7 %", "1,10 €", "19 %", "2,52 €"),
    "en": ("7 %", "€1.10", "19 %", "€2.52"),
}


def with_checkout(detail_type: str, locale: str, **order: object) -> dict:
    detail = sample(detail_type, locale)
    collected = "pickup" in detail["order"]
    detail["order"].update(CHECKOUT, **({"shipping": None} if collected else {}), **order)
    return detail


ORDER_EMAILS = [(t, loc) for t in DETAIL_TYPES if t != "CartAbandoned" for loc in ("de", "en")]


@pytest.mark.parametrize(("detail_type", "locale"), ORDER_EMAILS)
def test_every_order_email_shows_the_shipping_the_code_and_the_vat_per_rate(
    detail_type, locale, shop
):
    published = with_checkout(detail_type, locale)
    detail = catalogue.parse(detail_type, published)
    collected = published["order"].get("pickup")
    how = collected["name"] if collected else "DHL Paket"
    emails = catalogue.emails_for(
        detail_type, detail, replace(shop, merchant_locale=locale), secrets(detail_type)
    )
    assert emails
    for sent in emails:
        for body in (sent.text, sent.html):
            assert how in body, (sent.kind, locale)
            assert "SUMMER10" in body, (sent.kind, locale)
            for shown in RATE_LINES[locale]:
                assert shown in body, (sent.kind, locale, shown)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_an_order_email_of_a_pickup_order_names_the_location_instead_of_a_method(locale, shop):
    pickup = sample("OrderReadyForPickup", locale)["order"]["pickup"]
    detail = catalogue.parse(
        "OrderPaid", with_checkout("OrderPaid", locale, shipping=None, pickup=pickup)
    )
    (receipt,) = catalogue.emails_for("OrderPaid", detail, shop)
    label = {"de": "Abholung (Laden Berlin-Mitte)", "en": "Pickup (Laden Berlin-Mitte)"}[locale]
    assert label in receipt.text and label in receipt.html
    assert "DHL Paket" not in receipt.text
