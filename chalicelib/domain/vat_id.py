"""EU VAT identification numbers (USt-IdNr.): their format per member state
and, where the state defines one, their check digits.

Our own code rather than python-stdnum: the whole library zips to 1.19 MB and
even the 93 modules ``stdnum.eu.vat`` imports to 0.12 MB, which the API's
package (at about 4.93 of its 5 MB) cannot take; what the checkout needs is
the table below. python-stdnum is the tests' reference: over many generated
numbers, our verdicts equal its verdicts (tests/unit/test_vat_id.py).

Check digits are verified for AT, BE, DE, DK, EE, EL, FI, FR, HR, HU, IT, LU,
MT, NL, PL, PT, RO, SE and SI. For BG, CY, CZ, ES, IE, LT, LV, SK and XI
(Northern Ireland) only the format is checked: their rules depend on what
kind of person the number belongs to, and a number we let through is still
one the format allows. Neither tells whether the number is *assigned*: only
the member state's register (VIES) knows that (docs/invoices.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from chalicelib.domain.errors import VatIdInvalid

_SEPARATORS = re.compile(r"[\s.\-/:,]")


def _digits(text: str) -> list[int]:
    return [int(c) for c in text]


def _weighted(text: str, weights: Sequence[int]) -> int:
    return sum(w * d for w, d in zip(weights, _digits(text), strict=False))


def _luhn_sum(text: str) -> int:
    total = 0
    for position, digit in enumerate(reversed(_digits(text))):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10


def _iso7064_11_10(text: str) -> bool:
    """ISO 7064 MOD 11,10 over all digits, the last one the check digit (DE, HR)."""
    product = 10
    for digit in _digits(text[:-1]):
        total = (digit + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10 == int(text[-1])


def _at(n: str) -> bool:
    """U, seven digits and a check digit: 6 less their Luhn checksum."""
    return (6 - _luhn_sum(n[1:8])) % 10 == int(n[8])


def _be(n: str) -> bool:
    return n[0] in "01" and int(n) > 0 and (int(n[:-2]) + int(n[-2:])) % 97 == 0


def _de(n: str) -> bool:
    return n[0] != "0" and _iso7064_11_10(n)


def _dk(n: str) -> bool:
    return n[0] != "0" and _weighted(n, (2, 7, 6, 5, 4, 3, 2, 1)) % 11 == 0


def _ee(n: str) -> bool:
    return _weighted(n, (3, 7, 1, 3, 7, 1, 3, 7, 1)) % 10 == 0


def _el(n: str) -> bool:
    total = 0
    for digit in _digits(n[:-1]):
        total = total * 2 + digit
    return total * 2 % 11 % 10 == int(n[-1])


def _fi(n: str) -> bool:
    return _weighted(n, (7, 9, 10, 5, 8, 4, 2, 1)) % 11 == 0


_FR_KEYS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _fr(n: str) -> bool:
    """A key (2 characters) before the SIREN (9 digits); Monaco's numbers
    (SIREN starting 000) have no SIREN check digit."""
    key, siren = n[:2], n[2:]
    if siren[:3] != "000" and _luhn_sum(siren) != 0:
        return False
    if key.isdigit():
        return int(key) == int(siren + "12") % 97
    if key[0].isdigit():
        check = _FR_KEYS.index(key[0]) * 24 + _FR_KEYS.index(key[1]) - 10
    else:
        check = _FR_KEYS.index(key[0]) * 34 + _FR_KEYS.index(key[1]) - 100
    return (int(siren) + 1 + check // 11) % 11 == check % 11


def _hu(n: str) -> bool:
    return _weighted(n, (9, 7, 3, 1, 9, 7, 3, 1)) % 10 == 0


def _it(n: str) -> bool:
    """Seven digits of the company, three of its province office, a Luhn digit."""
    office = n[7:10]
    known_office = "001" <= office <= "100" or office in ("120", "121", "888", "999")
    return int(n[:7]) > 0 and known_office and _luhn_sum(n) == 0


def _lu(n: str) -> bool:
    return int(n[:6]) % 89 == int(n[6:])


def _mt(n: str) -> bool:
    return n[0] != "0" and _weighted(n, (3, 4, 6, 7, 8, 9, 10, 1)) % 37 == 0


def _nl(n: str) -> bool:
    """Nine digits, B, two digits: the nine pass the eleven test (a BSN), or
    the whole number passes ISO 7064 MOD 97-10 (numbers issued since 2020)."""
    body, suffix = n[:9], n[10:]
    if int(body) == 0 or int(suffix) == 0:
        return False
    eleven = (_weighted(body, (9, 8, 7, 6, 5, 4, 3, 2)) - int(body[8])) % 11 == 0
    letters = "".join(str(ord(c) - 55) if c.isalpha() else c for c in "NL" + n)
    return eleven or int(letters) % 97 == 1


def _pl(n: str) -> bool:
    return _weighted(n, (6, 5, 7, 2, 3, 4, 5, 6, 7, -1)) % 11 == 0


def _pt(n: str) -> bool:
    total = sum((9 - i) * d for i, d in enumerate(_digits(n[:8])))
    return n[0] != "0" and (11 - total) % 11 % 10 == int(n[8])


def _ro(n: str) -> bool:
    """The CUI: 2 to 10 digits, the last one checked (a 13-digit CNP is not
    a company's number: refused)."""
    body = n[:-1].zfill(9)
    return n[0] != "0" and 10 * _weighted(body, (7, 5, 3, 2, 1, 7, 5, 3, 2)) % 11 % 10 == int(n[-1])


def _se(n: str) -> bool:
    """The organisation number (10 digits, Luhn) and 01."""
    return n[10:] == "01" and _luhn_sum(n[:10]) == 0


def _si(n: str) -> bool:
    check = 11 - _weighted(n[:7], (8, 7, 6, 5, 4, 3, 2)) % 11
    return n[0] != "0" and (0 if check == 10 else check) == int(n[7])


def _format_only(_: str) -> bool:
    return True


#: Per member state's prefix: the number after it, and its check.
RULES: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    code: (re.compile(pattern), check)
    for code, pattern, check in (
        ("AT", r"U\d{8}", _at),
        ("BE", r"[01]\d{9}", _be),
        ("BG", r"\d{9,10}", _format_only),
        ("CY", r"\d{8}[A-Z]", _format_only),
        ("CZ", r"\d{8,10}", _format_only),
        ("DE", r"\d{9}", _de),
        ("DK", r"\d{8}", _dk),
        ("EE", r"\d{9}", _ee),
        ("EL", r"\d{9}", _el),
        ("ES", r"[0-9A-Z]\d{7}[0-9A-Z]", _format_only),
        ("FI", r"\d{8}", _fi),
        ("FR", r"[0-9A-HJ-NP-Z]{2}\d{9}", _fr),
        ("HR", r"\d{11}", _iso7064_11_10),
        ("HU", r"\d{8}", _hu),
        ("IE", r"\d[0-9A-Z+*]\d{5}[A-W][A-I]?", _format_only),
        ("IT", r"\d{11}", _it),
        ("LT", r"\d{9}|\d{12}", _format_only),
        ("LU", r"\d{8}", _lu),
        ("LV", r"\d{11}", _format_only),
        ("MT", r"\d{8}", _mt),
        ("NL", r"\d{9}B\d{2}", _nl),
        ("PL", r"\d{10}", _pl),
        ("PT", r"\d{9}", _pt),
        ("RO", r"\d{2,10}", _ro),
        ("SE", r"\d{12}", _se),
        ("SI", r"\d{8}", _si),
        ("SK", r"\d{10}", _format_only),
        ("XI", r"\d{9}|\d{12}|GD\d{3}|HA\d{3}", _format_only),
    )
}


def compact(text: str) -> str:
    """Without spaces, dots, dashes, slashes; upper case; GR read as EL."""
    number = _SEPARATORS.sub("", text).upper()
    return "EL" + number[2:] if number.startswith("GR") else number


def verdict(text: str) -> str | None:
    """None if ``text`` is a valid EU VAT ID, else why not: ``unknown_country``,
    ``format`` or ``check_digits``."""
    number = compact(text)
    rule = RULES.get(number[:2])
    if rule is None:
        return "unknown_country"
    pattern, check = rule
    rest = number[2:]
    if not pattern.fullmatch(rest):
        return "format"
    return None if check(rest) else "check_digits"


def checked_vat_id(text: str) -> str:
    """The VAT ID in its compact form (``DE136695976``), or ``VatIdInvalid``."""
    reason = verdict(text)
    if reason is not None:
        raise VatIdInvalid("the VAT ID is not a valid EU VAT identification number", reason=reason)
    return compact(text)
