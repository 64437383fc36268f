"""The legal sample texts (templates/legal/): the withdrawal notice and the
model withdrawal form render in both locales and both formats with the email
environment's settings, carry the seller's identity from the settings and the
sample marker, and point to the withdrawal function."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chalicelib.notify.render import TEMPLATES, environment

MARKER = {
    "de": "Mustertext – vor Verwendung rechtlich prüfen lassen",  # noqa: RUF001 (the text's own dash)
    "en": "Sample text: have it reviewed before use",
}
KINDS = ("withdrawal_notice", "withdrawal_form")
WITHDRAWAL_URL = "https://shop.example.com/orders/K7Q-4M2-XP/withdrawal"


@dataclass(frozen=True)
class Seller:
    """The shop as the legal texts need it: the email Shop plus a phone."""

    name: str = "Tee & Becher GmbH"
    postal_address: str = "Musterstr. 1, 10115 Berlin"
    support_email: str = "support@example.com"
    phone: str = "+49 30 1234567"


def render(locale, kind, ext, seller=None, **values):
    context = {
        "shop": seller or Seller(),
        "withdrawal_url": WITHDRAWAL_URL,
        "returns_paid_by_shop": False,
        "locale": locale,
        **values,
    }
    return environment().get_template(f"legal/{locale}/{kind}.{ext}").render(context)


CASES = [(loc, kind, ext) for loc in ("de", "en") for kind in KINDS for ext in ("html", "txt")]


@pytest.mark.parametrize(("locale", "kind", "ext"), CASES)
def test_each_text_names_the_seller_and_the_withdrawal_function_and_is_marked_a_sample(
    locale, kind, ext
):
    text = render(locale, kind, ext)
    assert MARKER[locale] in text
    name = "Tee &amp; Becher GmbH" if ext == "html" else "Tee & Becher GmbH"
    for needle in (name, "Musterstr. 1, 10115 Berlin", "support@example.com", WITHDRAWAL_URL):
        assert needle in text, needle
    assert "Vertrag widerrufen" in text  # the button's words (section 356a BGB), also in en
    assert "{{" not in text
    assert "{#" not in text
    if kind == "withdrawal_notice":
        assert "+49 30 1234567" in text


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_html_is_escaped_and_the_text_is_not(locale):
    seller = Seller(name="<b>Tee</b>")
    assert "&lt;b&gt;Tee&lt;/b&gt;" in render(locale, "withdrawal_notice", "html", seller)
    assert "<b>Tee</b>" in render(locale, "withdrawal_notice", "txt", seller)


@pytest.mark.parametrize(("locale", "word"), [("de", "Telefon"), ("en", "elephone")])
def test_a_shop_without_a_phone_number_gives_none(locale, word):
    for ext in ("html", "txt"):
        assert word not in render(locale, "withdrawal_notice", ext, Seller(phone=""))


@pytest.mark.parametrize(
    ("locale", "shop_pays", "customer_pays"),
    [
        ("de", "Wir tragen die Kosten", "Sie tragen die unmittelbaren Kosten"),
        ("en", "We will bear the cost", "You will have to bear the direct cost"),
    ],
)
def test_the_notice_says_who_pays_for_the_return(locale, shop_pays, customer_pays):
    for ext in ("html", "txt"):
        ours = render(locale, "withdrawal_notice", ext, returns_paid_by_shop=True)
        theirs = render(locale, "withdrawal_notice", ext, returns_paid_by_shop=False)
        assert shop_pays in ours and customer_pays not in ours
        assert customer_pays in theirs and shop_pays not in theirs


def test_no_template_links_the_closed_eu_dispute_platform():
    # The EU's ODR platform closed on 20 July 2025; a link to it would mislead.
    for path in TEMPLATES.rglob("*.*"):
        source = path.read_text(encoding="utf-8").lower()
        assert "ec.europa.eu/consumers/odr" not in source, path
    for locale, kind, ext in CASES:
        rendered = render(locale, kind, ext).lower()
        for needle in ("os-plattform", "online-streitbeilegung", "dispute resolution", "odr"):
            assert needle not in rendered, (locale, kind, ext, needle)
