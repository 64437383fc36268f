"""The EPC QR code ("GiroCode") for paying an order by bank transfer.

The payload follows the European Payments Council's guideline EPC069-12
(version 002): twelve lines separated by LF, UTF-8 (character set 1), at most
331 bytes, which fits a QR code of version 13 at error correction level M,
the level the guideline prescribes. Elements after the last one given are
left out, with their separators.

For an HTML email, attach the PNG from ``png()`` as a related part and point
the image at it, because many email clients block ``data:`` URIs and SVG::

    html_part = message.get_body(("html",))
    html_part.add_related(png_bytes, "image", "png", cid="<girocode@shop>")
    # template: <img src="cid:girocode@shop" alt="GiroCode" width="164" height="164">

(``EmailMessage.add_related`` on the html alternative turns it into
multipart/related; the text part carries the IBAN and reference as text.)
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from chalicelib.domain.errors import InvalidTransferDetails

MAX_PAYLOAD_BYTES = 331
MIN_AMOUNT = 1  # cents: EUR 0.01
MAX_AMOUNT = 99_999_999_999  # cents: EUR 999999999.99

_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")
_CREDITOR_REFERENCE = re.compile(r"RF[0-9]{2}[A-Z0-9]{1,21}")


@dataclass(frozen=True)
class Transfer:
    """A SEPA credit transfer for the customer to make, in euro."""

    beneficiary: str  # the account holder, at most 70 characters
    iban: str
    amount: int  # minor units (cents)
    #: Remittance: a structured ISO 11649 creditor reference ("RF...") or a
    #: text of at most 140 characters, never both.
    reference: str = ""
    text: str = ""
    bic: str = ""  # optional within the EEA (version 002)
    #: Shown to the payer by the banking app, at most 70 characters.
    information: str = ""


def payload(transfer: Transfer) -> bytes:
    """The EPC QR code's content, validated; raises InvalidTransferDetails."""
    if transfer.reference and transfer.text:
        raise InvalidTransferDetails(
            "give either a creditor reference or a text, not both", field="reference"
        )
    lines = [
        "BCD",  # service tag
        "002",  # version
        "1",  # character set: UTF-8
        "SCT",  # identification: SEPA credit transfer
        _bic(transfer.bic),
        _text("beneficiary", transfer.beneficiary, 70, required=True),
        normal_iban(transfer.iban),
        _amount(transfer.amount),
        "",  # purpose (AT-44): none
        creditor_reference(transfer.reference) if transfer.reference else "",
        _text("text", transfer.text, 140),
        _text("information", transfer.information, 70),
    ]
    while not lines[-1]:
        lines.pop()
    data = "\n".join(lines).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise InvalidTransferDetails(
            "the payment details are too long for an EPC QR code",
            field="payload",
            size=len(data),
            limit=MAX_PAYLOAD_BYTES,
        )
    return data


def png(data: bytes, *, scale: int = 4) -> bytes:
    """The QR code of ``data`` as a black-on-white PNG, with the quiet zone
    of four modules the QR standard asks for (at scale 4 a payload near the
    limit gives about 300 pixels square)."""
    # segno is imported here, not at cold start: only the emails need it.
    import segno

    # 331 bytes is what QR version 13, the largest the guideline allows,
    # holds at level M: a payload within it never needs a larger symbol.
    if len(data) > MAX_PAYLOAD_BYTES:
        raise InvalidTransferDetails("the payload is too long", field="payload")
    code = segno.make_qr(data, mode="byte", error="m", boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def normal_iban(value: str) -> str:
    """The IBAN in its electronic form (no spaces, upper case), or
    InvalidTransferDetails when its structure or ISO 13616 check digits are wrong."""
    iban = _compact(value)
    if not _IBAN.fullmatch(iban) or _mod97(iban) != 1:
        raise InvalidTransferDetails("this is not a valid IBAN", field="iban")
    return iban


def creditor_reference(value: str) -> str:
    """An ISO 11649 creditor reference ("RF" + check digits + up to 21
    characters) in electronic form, checked like an IBAN (mod 97)."""
    reference = _compact(value)
    if not _CREDITOR_REFERENCE.fullmatch(reference) or _mod97(reference) != 1:
        raise InvalidTransferDetails("this is not a valid creditor reference", field="reference")
    return reference


def _mod97(value: str) -> int:
    """ISO 7064 MOD 97-10 as IBANs and creditor references use it: the first
    four characters move to the end, letters become 10..35."""
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97


def _compact(value: str) -> str:
    return "".join(value.split()).upper()


def _bic(value: str) -> str:
    bic = _compact(value)
    if bic and not _BIC.fullmatch(bic):
        raise InvalidTransferDetails("this is not a valid BIC", field="bic")
    return bic


def _amount(cents: int) -> str:
    if not MIN_AMOUNT <= cents <= MAX_AMOUNT:
        raise InvalidTransferDetails(
            "the amount must be from EUR 0.01 to EUR 999999999.99", field="amount"
        )
    return f"EUR{cents // 100}.{cents % 100:02d}"


def _text(field: str, value: str, limit: int, *, required: bool = False) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidTransferDetails(f"{field} is required", field=field)
    if len(text) > limit:
        raise InvalidTransferDetails(
            f"{field} may have at most {limit} characters", field=field, limit=limit
        )
    # A line break would shift every element after it; other control
    # characters have no place in a banking app's form.
    if any(not char.isprintable() for char in text):
        raise InvalidTransferDetails(f"{field} holds a control character", field=field)
    return text
