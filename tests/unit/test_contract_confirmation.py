"""The order confirmation is the contract confirmation (docs/legal.md): in both
locales and both parts it carries the seller, the terms accepted with their
text, the withdrawal notice and the model form; a bank-transfer order's
confirmation and payment reminder carry the transfer and its GiroCode, which a
real decoder (zxing-cpp) reads back; a card order's carry neither."""

from __future__ import annotations

import email
import email.policy
import html as htmllib
import re
from dataclasses import replace

import pytest
import zxingcpp

from chalicelib.notify import emails as catalogue
from chalicelib.notify.emails import Payee
from chalicelib.notify.render import TEMPLATES
from chalicelib.notify.ses import mime
from chalicelib.settings import ShopSettings
from local.email_samples import sample
from tests.unit.test_girocode import png_pixels

LOCALES = ("de", "en")
PAYEE = Payee(account_holder="Muster Shop GmbH", iban="DE89370400440532013000", bic="COBADEFFXXX")
TERMS_VERSION = ShopSettings().terms_version

#: What the withdrawal notice and the model form must say, per locale.
NOTICE = {
    "de": [
        "Widerrufsbelehrung",
        "Sie haben das Recht, binnen vierzehn Tagen ohne Angabe von Gründen diesen"
        " Vertrag zu widerrufen.",
        "Folgen des Widerrufs",
    ],
    "en": [
        "Withdrawal notice",
        "You have the right to withdraw from this contract within 14 days without"
        " giving any reason.",
        "Effects of withdrawal",
    ],
}
FORM = {
    "de": ["Muster-Widerrufsformular", "Hiermit widerrufe(n) ich/wir (*)"],
    "en": ["Model withdrawal form", "I/We (*) hereby give notice"],
}
ACCEPTED = {
    "de": f"Allgemeinen Geschäftsbedingungen in der Fassung {TERMS_VERSION}"
    " am 16.11.2026, 13:30 Uhr akzeptiert",
    "en": f"terms and conditions, version {TERMS_VERSION}, on 16 Nov 2026, 13:30",
}
TERMS_TEXT = {
    "de": ["Allgemeine Geschäftsbedingungen", f"Fassung vom {TERMS_VERSION}"],
    "en": ["General terms and conditions", f"Version of {TERMS_VERSION}"],
}
AMOUNT = {"de": "1.234,56 €", "en": "€1,234.56"}
#: The order's payment deadline (the confirmation) and the reminder's.
ORDER_DEADLINE = {"de": "23.11.2026, 13:30 Uhr", "en": "23 Nov 2026, 13:30"}
REMINDER_DEADLINE = {"de": "30.11.2026, 13:00 Uhr", "en": "30 Nov 2026, 13:00"}


@pytest.fixture
def shop(settings):
    base = catalogue.Shop.from_settings(settings)
    return replace(base, seller=replace(base.seller, tax_number="27/123/45678"), payee=PAYEE)


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces, and
    HTML without its tags and entities: what a reader sees."""
    text = re.sub(r"</?(?:strong|a|span)\b[^>]*>", "", text)  # inline: no space of their own
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text)


def confirmation(locale, shop, **order_changes):
    detail = sample("OrderPlaced", locale)
    detail["order"].update(order_changes)
    parsed = catalogue.parse("OrderPlaced", detail)
    mails = catalogue.emails_for("OrderPlaced", parsed, shop)
    return next(mail for mail in mails if mail.kind == "order_confirmation")


def reminder(locale, shop, **order_changes):
    detail = sample("PaymentReminderDue", locale)
    detail["order"].update(order_changes)
    (mail,) = catalogue.emails_for(
        "PaymentReminderDue", catalogue.parse("PaymentReminderDue", detail), shop
    )
    return mail


def parts(mail):
    return {"html": flat(mail.html), "text": flat(mail.text)}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_confirmation_names_the_seller_with_every_identity_field(locale, shop):
    seller = shop.seller
    for part, text in parts(confirmation(locale, shop)).items():
        for needle in (
            seller.legal_name,
            shop.postal_address,
            shop.phone,
            shop.support_email,
            seller.vat_id,
            seller.tax_number,
            seller.register_court,
            seller.register_number,
            seller.managing_directors,
        ):
            assert needle and needle in text, (locale, part, needle)
        label = {"de": "USt-IdNr.: DE123456789", "en": "VAT ID: DE123456789"}[locale]
        assert label in text, (locale, part)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_confirmation_carries_the_terms_accepted_the_notice_and_the_form(locale, shop):
    mail = confirmation(locale, shop)
    for part, text in parts(mail).items():
        # Headings are upper case in the text part.
        for needle in [ACCEPTED[locale], *TERMS_TEXT[locale], *NOTICE[locale], *FORM[locale]]:
            assert needle.casefold() in text.casefold(), (locale, part, needle)
        # The withdrawal function of this very order.
        assert "http://127.0.0.1:8000/withdrawal?order=K7Q-4M2-XP" in text, (locale, part)
        # Still the order: lines, totals, VAT.
        assert "Darjeeling First Flush 100 g" in text and AMOUNT[locale] in text
    assert 'href="http://127.0.0.1:8000/withdrawal?order=K7Q-4M2-XP"' in mail.html
    assert "{{" not in mail.html + mail.text and "{#" not in mail.html + mail.text


@pytest.mark.parametrize("locale", LOCALES)
def test_seller_fields_a_shop_leaves_empty_are_left_out(locale, shop):
    bare = replace(shop, phone="", seller=replace(shop.seller, tax_number=""))
    for text in parts(confirmation(locale, bare)).values():
        assert "Steuernummer" not in text and "Tax number" not in text
        assert "+49 30 12345678" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_an_order_placed_before_terms_were_recorded_says_no_version(locale, shop):
    detail = sample("OrderPlaced", locale)
    del detail["data"]["terms_version"], detail["data"]["terms_accepted_at"]
    parsed = catalogue.parse("OrderPlaced", detail)
    mail = catalogue.emails_for("OrderPlaced", parsed, shop)[0]
    for text in parts(mail).values():
        assert ACCEPTED[locale] not in text
        assert NOTICE[locale][1] in text  # the notice and form are there all the same


def test_the_sample_terms_state_the_version_the_shop_requires_by_default():
    for locale in LOCALES:
        for ext in ("html", "txt"):
            source = (TEMPLATES / "legal" / locale / f"terms.{ext}").read_text(encoding="utf-8")
            assert TERMS_VERSION in source, (locale, ext)
            marker = {"de": "Mustertext", "en": "Sample text"}[locale]
            assert marker in source, (locale, ext)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_email_links_the_closed_eu_dispute_platform(locale, shop):
    mails = [
        confirmation(locale, shop),
        confirmation(locale, shop, payment_method="bank_transfer"),
        reminder(locale, shop),
    ]
    for mail in mails:
        for text in (mail.html.lower(), mail.text.lower()):
            for needle in ("ec.europa.eu/consumers/odr", "os-plattform", "dispute resolution"):
                assert needle not in text, (mail.kind, needle)
            assert not re.search(r"\bodr\b", text), mail.kind


# --- bank transfer -------------------------------------------------------------------------


def girocode_of(mail):
    """The MIME message as SES gets it, its parts, and the decoded GiroCode."""
    raw = mime(mail, "Shop <shop@example.com>", "support@example.com")
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    kinds = [part.get_content_type() for part in message.walk()]
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    return message, kinds, images


EXPECTED_PAYLOAD = (
    b"BCD\n002\n1\nSCT\nCOBADEFFXXX\nMuster Shop GmbH\nDE89370400440532013000\n"
    b"EUR1234.56\n\n\nK7Q-4M2-XP"
)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("which", ["confirmation", "reminder"])
def test_a_bank_transfer_order_is_asked_for_the_transfer_with_a_girocode(locale, which, shop):
    if which == "confirmation":
        mail, deadline = confirmation(locale, shop, payment_method="bank_transfer"), ORDER_DEADLINE
    else:
        mail, deadline = reminder(locale, shop), REMINDER_DEADLINE
    for part, text in parts(mail).items():
        for needle in (
            "Muster Shop GmbH",
            "IBAN: DE89 3704 0044 0532 0130 00"
            if part == "text"
            else "DE89 3704 0044 0532 0130 00",
            "COBADEFFXXX",
            AMOUNT[locale],
            "K7Q-4M2-XP",
            deadline[locale],
        ):
            assert needle in text, (which, locale, part, needle)
        reference = {"de": "Verwendungszweck", "en": "Reference"}[locale]
        assert re.search(rf"{reference}:? K7Q-4M2-XP", text), (which, locale, part)

    message, kinds, images = girocode_of(mail)
    assert kinds == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    (image,) = images
    cid = image["Content-ID"].strip("<>")
    html = message.get_body(("html",)).get_content()
    assert f'src="cid:{cid}"' in html
    assert image.get_content_disposition() == "inline"
    pixels, width, height = png_pixels(image.get_content())
    (found,) = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.bytes == EXPECTED_PAYLOAD


@pytest.mark.parametrize("locale", LOCALES)
def test_a_card_order_gets_no_bank_details_and_no_image(locale, shop):
    for mail in (confirmation(locale, shop), reminder(locale, shop, payment_method="card")):
        assert mail.images == ()
        for text in parts(mail).values():
            assert "IBAN" not in text and "COBADEFFXXX" not in text and "GiroCode" not in text
        assert "cid:" not in mail.html
        _, kinds, images = girocode_of(mail)
        assert images == [] and kinds == ["multipart/alternative", "text/plain", "text/html"]


def test_bank_details_that_make_no_girocode_are_still_given_as_text(shop, caplog):
    unset = replace(shop, payee=Payee(account_holder="Muster Shop GmbH", iban="DE00 1234"))
    mail = confirmation("de", unset, payment_method="bank_transfer")
    assert mail.images == () and "cid:" not in mail.html
    assert "IBAN: DE00 1234" in mail.text and "Verwendungszweck: K7Q-4M2-XP" in mail.text
    # A currency other than the euro has no GiroCode either.
    swiss = confirmation(
        "de",
        shop,
        payment_method="bank_transfer",
        totals={**sample("OrderPlaced")["order"]["totals"], "currency": "CHF"},
    )
    assert swiss.images == () and "1.234,56 CHF" in swiss.text


def test_a_paid_bank_transfer_order_is_not_asked_again(shop):
    mail = confirmation("en", shop, payment_method="bank_transfer", payment_status="paid")
    assert mail.images == () and "IBAN" not in mail.text


# --- the footer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "words"),
    [("de", "Fragen? Schreiben Sie uns an"), ("en", "Questions? Write to us at")],
)
def test_the_footer_keeps_a_space_before_the_support_address(locale, words, shop):
    for detail_type in ("OrderPlaced", "OrderShipped", "CartAbandoned"):
        mail = catalogue.emails_for(
            detail_type, catalogue.parse(detail_type, sample(detail_type, locale)), shop
        )[0]
        assert f"{words} <a href" in mail.html, detail_type
        # What the reader sees, tags taken out without adding spaces of their own.
        seen = htmllib.unescape(re.sub(r"<[^>]+>", "", mail.html))
        assert f"{words} support@example.com" in seen, detail_type
        assert f"{words} support@example.com" in mail.text, detail_type
