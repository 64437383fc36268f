"""Tracking links, the carrier signature scheme, and the note email."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib import bootstrap
from chalicelib.carriers import signing
from chalicelib.domain import carriers as links
from chalicelib.domain.errors import InvalidCarrierSignature, InvalidRequest
from chalicelib.notify import emails as catalogue
from local.email_samples import sample

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BODY = b'{"event_id":"e1","tracking_number":"A-1","status":"delivered"}'


@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        ("DHL", "https://www.dhl.de/de/privatkunden/dhl-sendungsverfolgung.html?piececode=AB%2012"),
        (
            "dhl express",
            "https://www.dhl.com/de-en/home/tracking/tracking-express.html?submit=1&tracking-id=AB%2012",
        ),
        ("dpd", "https://tracking.dpd.de/status/de_DE/parcel/AB%2012"),
        ("GLS", "https://gls-group.com/DE/de/paketverfolgung?match=AB%2012"),
        (
            "Hermes",
            "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#AB%2012",
        ),
        ("ups", "https://www.ups.com/track?loc=de_DE&tracknum=AB%2012"),
    ],
)
def test_known_carriers_get_their_tracking_page_with_the_number_encoded(carrier, expected):
    slug = links.normalise_carrier(carrier)
    assert links.tracking_url(slug, "AB 12") == expected


def test_unknown_carriers_need_a_url_and_a_given_url_wins():
    with pytest.raises(InvalidRequest):
        links.tracking_url("bike_courier", "1")
    assert (
        links.tracking_url("dhl", "1", "https://reseller.example/1") == "https://reseller.example/1"
    )
    with pytest.raises(InvalidRequest):
        links.normalise_carrier("dhl/../../etc")


def test_a_signature_from_any_active_secret_within_the_window_is_accepted():
    header = signing.sign("new", int(NOW.timestamp()) - 299, BODY)
    signing.verify(BODY, header, ["old", "new"], NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=abc,v1=00",
        "t=\u00b2,v1=00",  # a digit to str.isdigit, not to int()
        "v1=00",
        f"t={int(NOW.timestamp())}",
        signing.sign("other", int(NOW.timestamp()), BODY),
        signing.sign("new", int(NOW.timestamp()) - 301, BODY),
        signing.sign("new", int(NOW.timestamp()) + 301, BODY),
        # Malformed in ways that used to raise ValueError/TypeError (a 500):
        f"t=\u00b2,v1={'0' * 64}",
        f"t={int(NOW.timestamp())},v1=\u00e9{'0' * 63}",
        "t,v1",
    ],
)
def test_missing_wrong_or_stale_signatures_are_refused(header):
    with pytest.raises(InvalidCarrierSignature):
        signing.verify(BODY, header, ["new"], NOW)


def test_a_signature_does_not_cover_another_body():
    header = signing.sign("new", int(NOW.timestamp()), BODY)
    with pytest.raises(InvalidCarrierSignature):
        signing.verify(BODY.replace(b"delivered", b"in_transit"), header, ["new"], NOW)


def test_no_active_secret_accepts_nothing():
    with pytest.raises(InvalidCarrierSignature):
        signing.verify(BODY, signing.sign("", int(NOW.timestamp()), BODY), [], NOW)


@pytest.mark.parametrize("blank", ["", " ", "\t\n"])
def test_a_blank_secret_is_never_used_to_sign(blank):
    # Anyone can compute an HMAC with a blank key: a slip in the parameter
    # must not open the callback to everyone.
    forged = signing.sign(blank, int(NOW.timestamp()), BODY)
    with pytest.raises(InvalidCarrierSignature):
        signing.verify(BODY, forged, [blank, "new"], NOW)


def test_secrets_parameter_is_one_secret_or_a_json_list():
    assert bootstrap.parse_secret_list("plain-secret\n") == ["plain-secret"]
    assert bootstrap.parse_secret_list('["a", "b"]') == ["a", "b"]
    assert bootstrap.parse_secret_list('["a", " ", ""]') == ["a"]
    assert bootstrap.parse_secret_list("") == []


def test_the_callbacks_check_against_the_secrets_read_per_request():
    active = ["old"]
    callbacks = signing.CarrierCallbacks(lambda: active)
    header = signing.sign("new", int(NOW.timestamp()), BODY)
    with pytest.raises(InvalidCarrierSignature):
        callbacks.verify(BODY, header, NOW)
    active.append("new")  # rotated: the next request sees it
    callbacks.verify(BODY, header, NOW)
    with pytest.raises(InvalidCarrierSignature):
        callbacks.verify(BODY, None, NOW)


def test_a_customer_visible_note_is_mailed_and_an_internal_one_is_not():
    shop = catalogue.Shop(
        "Shop", "Musterstr. 1", "s@example.com", "", "Europe/Berlin", "m@example.com", "de"
    )
    detail = sample("NoteAdded", "en")
    mails = catalogue.emails_for("NoteAdded", catalogue.parse("NoteAdded", detail), shop)
    assert [(m.kind, m.to) for m in mails] == [("order_note", "erika@example.com")]
    assert "Ihr Wasserkocher kommt in einem zweiten Paket." in mails[0].text
    assert mails[0].subject == "A message about your order K7Q-4M2-XP"
    detail["visibility"] = "internal"
    assert catalogue.emails_for("NoteAdded", catalogue.parse("NoteAdded", detail), shop) == []
