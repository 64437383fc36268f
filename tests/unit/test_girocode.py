"""The EPC QR code: its payload byte for byte, its checks, and a PNG that a
real decoder (zxing-cpp, a dev dependency) reads back to the payload."""

from __future__ import annotations

import struct
import zlib
from email.message import EmailMessage
from email.policy import SMTP

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.payments import girocode
from chalicelib.payments.girocode import InvalidTransferDetails, Transfer

WIKIMEDIA = Transfer(
    beneficiary="Wikimedia Foerdergesellschaft",
    iban="DE33 1002 0500 0001 1947 00",
    bic="BFSWDE33BER",
    amount=12345,
    text="Spende fuer Wikipedia",
)


def test_the_payload_follows_the_epc_layout_byte_for_byte():
    assert girocode.payload(WIKIMEDIA) == (
        b"BCD\n002\n1\nSCT\nBFSWDE33BER\nWikimedia Foerdergesellschaft\n"
        b"DE33100205000001194700\nEUR123.45\n\n\nSpende fuer Wikipedia"
    )


def test_a_creditor_reference_and_the_payers_note_take_their_own_lines():
    transfer = Transfer(
        beneficiary="Jürgen's Teeladen",
        iban="de89370400440532013000",
        amount=790,
        reference="RF18 5390 0754 7034",
        information="Bestellung K7Q-4M2-XP",
    )
    assert (
        girocode.payload(transfer)
        == (
            "BCD\n002\n1\nSCT\n\nJürgen's Teeladen\nDE89370400440532013000\nEUR7.90\n\n"
            "RF18539007547034\n\nBestellung K7Q-4M2-XP"
        ).encode()
    )


def test_amounts_keep_two_decimals_at_both_limits():
    def amount_line(cents):
        return girocode.payload(Transfer("A", "DE89370400440532013000", cents)).split(b"\n")[7]

    assert amount_line(1) == b"EUR0.01"
    assert amount_line(100) == b"EUR1.00"
    assert amount_line(99_999_999_999) == b"EUR999999999.99"
    for bad in (0, -5, 100_000_000_000):
        with pytest.raises(InvalidTransferDetails) as caught:
            amount_line(bad)
        assert caught.value.details["field"] == "amount"


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "AT611904300234573201",
        "NL91ABNA0417164300",
    ],
)
def test_valid_ibans_pass_in_electronic_form(iban):
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    assert girocode.normal_iban(spaced) == iban


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # one digit off
        "DE98370400440532013000",  # check digits swapped
        "DE8937040044053201300",  # one digit short
        "D89370400440532013000",
        "DE89-3704-0044-0532-0130-00",
        "",
    ],
)
def test_invalid_ibans_are_refused(iban):
    with pytest.raises(InvalidTransferDetails) as caught:
        girocode.normal_iban(iban)
    assert caught.value.code == "invalid_transfer_details"
    assert caught.value.details == {"field": "iban"}


@given(st.text(alphabet="0123456789", min_size=10, max_size=20), st.integers(0, 9))
def test_any_single_digit_change_breaks_the_iban_check(account, replacement):
    check = 98 - int(account + "131400") % 97  # D = 13, E = 14, then "00"
    iban = f"DE{check:02d}{account}"
    assert girocode.normal_iban(iban) == iban
    position = 4 + len(account) // 2
    if iban[position] != str(replacement):
        changed = iban[:position] + str(replacement) + iban[position + 1 :]
        with pytest.raises(InvalidTransferDetails):
            girocode.normal_iban(changed)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bic": "BFSWDE3"}, "bic"),
        ({"beneficiary": " "}, "beneficiary"),
        ({"beneficiary": "x" * 71}, "beneficiary"),
        ({"text": "x" * 141}, "text"),
        ({"text": "line one\nline two"}, "text"),
        ({"information": "x" * 71}, "information"),
        ({"text": "", "reference": "RF19539007547034"}, "reference"),
        ({"reference": "RF18539007547034"}, "reference"),  # text and reference
    ],
)
def test_details_that_break_the_layout_are_refused_naming_the_field(changes, field):
    from dataclasses import replace

    with pytest.raises(InvalidTransferDetails) as caught:
        girocode.payload(replace(WIKIMEDIA, **changes))
    assert caught.value.details["field"] == field


def test_the_longest_details_fit_in_331_bytes_unless_they_are_multibyte():
    longest = Transfer(
        beneficiary="x" * 70,
        iban="DE89370400440532013000",
        bic="BFSWDE33BER",
        amount=99_999_999_999,
        text="y" * 140,
        information="z" * 52,
    )
    assert len(girocode.payload(longest)) == 331
    with pytest.raises(InvalidTransferDetails) as caught:
        girocode.payload(Transfer(**{**longest.__dict__, "beneficiary": "ü" * 70}))
    assert caught.value.details == {"field": "payload", "size": 401, "limit": 331}


# --- the image -----------------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[bytes, int, int]:
    """The grey pixels (0 or 255) of a 1-bit greyscale PNG as segno writes it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = {}, 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunks[kind] = chunks.get(kind, b"") + data[position + 8 : position + 8 + length]
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = (width + 7) // 8
    pixels, previous = bytearray(), bytes(stride)
    for row in range(height):
        start = row * (stride + 1)
        line = raw[start + 1 : start + 1 + stride]
        assert raw[start] in (0, 2), "filter none or up"
        if raw[start] == 2:
            line = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        previous = line
        for x in range(width):
            pixels.append(255 if line[x // 8] >> (7 - x % 8) & 1 else 0)
    return bytes(pixels), width, height


@pytest.mark.parametrize(
    "transfer",
    [
        WIKIMEDIA,
        Transfer("Jürgen's Teeladen", "DE89370400440532013000", 790, reference="RF18539007547034"),
        Transfer(
            "x" * 70, "DE89370400440532013000", 99_999_999_999, text="y" * 140, bic="BFSWDE33BER"
        ),
    ],
)
def test_the_png_decodes_back_to_the_payload(transfer):
    data = girocode.payload(transfer)
    pixels, width, height = png_pixels(girocode.png(data))
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert len(found) == 1
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    assert found[0].bytes == data
    assert found[0].ec_level == "M"


def test_the_png_attaches_to_the_html_part_as_a_related_image():
    message = EmailMessage(policy=SMTP)
    message.set_content("IBAN DE33 1002 0500 0001 1947 00", charset="utf-8")
    message.add_alternative('<img src="cid:girocode@shop" alt="GiroCode">', subtype="html")
    html = message.get_body(("html",))
    html.add_related(
        girocode.png(girocode.payload(WIKIMEDIA)), "image", "png", cid="<girocode@shop>"
    )
    parts = [part.get_content_type() for part in message.walk()]
    assert parts == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    image = next(part for part in message.walk() if part.get_content_type() == "image/png")
    assert image["Content-ID"] == "<girocode@shop>"
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_full_payload_fits_qr_version_13_and_more_is_refused():
    full = b"x" * 331
    pixels, width, height = png_pixels(girocode.png(full, scale=2))
    assert width == height == (69 + 2 * 4) * 2  # version 13: 69 modules, quiet zone 4
    assert zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))[0].bytes == full
    with pytest.raises(InvalidTransferDetails):
        girocode.png(full + b"x")
