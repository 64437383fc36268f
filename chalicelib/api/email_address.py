"""Customer email addresses, checked by email-validator (syntax only, no DNS).

email-validator compiles eight regular expressions at import, five of them
with a character class running to the end of Unicode (``\\u0080-\\U0010FFFF``).
Python's regex compiler builds such a class as a 64 K bitmap in Python code:
about 70 million instructions each, some 290 million together, more than a
third of what a checkout's first request costs on a fresh instance
(docs/performance.md, "email-validator's character classes"). The same sets
written as the complement of the ASCII characters they leave out compile in a
thousandth of that.

So, before email-validator is first imported, ``_install_cheap_constants``
puts in place of its ``rfc_constants`` module one with the same names and
values, whose classes over all of Unicode are written as complements: the
same characters, compiled cheaply. Everything else (the rules, the IDNA
handling, the messages) is the library's own. This depends on one private
module of one pinned version; tests/unit/test_email_address.py checks, for
every constant, that ours equals the library's (the classes code point by
code point over all of Unicode), so an upgrade that changes the module fails
there before it can change what we accept.
"""

from __future__ import annotations

import re
import sys
import types

_LIBRARY_CONSTANTS = "email_validator.rfc_constants"


def _complement_of_ascii(allowed_ascii: str) -> str:
    """A class of every character except the ASCII ones ``allowed_ascii``
    (a class body, ASCII only) does not match: that is ``allowed_ascii``
    plus everything from U+0080 up, without spelling out the range."""
    allowed = re.compile(f"[{allowed_ascii}]")
    left_out = "".join(chr(c) for c in range(128) if not allowed.fullmatch(chr(c)))
    return "[^" + "".join(f"\\x{ord(c):02x}" for c in left_out) + "]"


def cheap_constants() -> types.ModuleType:
    """email-validator 2.4's ``rfc_constants``, with its classes over all of
    Unicode compiled as complements of ASCII sets."""
    module = types.ModuleType(_LIBRARY_CONSTANTS)
    atext = r"a-zA-Z0-9_!#\$%&\'\*\+\-/=\?\^`\{\|\}~"
    atext_intl_class = _complement_of_ascii(atext)
    hostname_label = r"(?:(?:[a-zA-Z0-9][a-zA-Z0-9\-]*)?[a-zA-Z0-9])"
    values = {
        "ATEXT": atext,
        "ATEXT_RE": re.compile("[." + atext + "]"),
        "DOT_ATOM_TEXT": re.compile("[" + atext + "]+(?:\\.[" + atext + r"]+)*\Z"),
        # The library's source text for these, kept for anything that reads it.
        "ATEXT_INTL": atext + "\u0080-\U0010ffff",
        "ATEXT_INTL_DOT_RE": re.compile(_complement_of_ascii("." + atext)),
        "DOT_ATOM_TEXT_INTL": re.compile(
            atext_intl_class + "+(?:\\." + atext_intl_class + r"+)*\Z"
        ),
        "ATEXT_HOSTNAME_INTL": re.compile(_complement_of_ascii(r"a-zA-Z0-9\-\.")),
        "HOSTNAME_LABEL": hostname_label,
        "DOT_ATOM_TEXT_HOSTNAME": re.compile(hostname_label + r"(?:\." + hostname_label + r")*\Z"),
        "DOMAIN_NAME_REGEX": re.compile(r"[A-Za-z]\Z"),
        # U+0021-U+00FA and U+005E-U+007E: no class over all of Unicode, as is.
        "DOMAIN_LITERAL_CHARS": re.compile(r"[\u0021-\u00FA\u005E-\u007E]"),
        "QTEXT_INTL": re.compile(_complement_of_ascii(r"\u0020-\u007E")),
        "EMAIL_MAX_LENGTH": 254,
        "LOCAL_PART_MAX_LENGTH": 64,
        "DNS_LABEL_LENGTH_LIMIT": 63,
        "DOMAIN_MAX_LENGTH": 253,
        "CASE_INSENSITIVE_MAILBOX_NAMES": (
            "info marketing sales support abuse noc security postmaster hostmaster usenet news"
            " webmaster www uucp ftp"
        ).split(),
    }
    module.__dict__.update(values)
    return module


def _install_cheap_constants() -> None:
    # Only before the library's first import: once it is loaded, its own
    # (equivalent) constants are in use and stay.
    if "email_validator" not in sys.modules:
        sys.modules.setdefault(_LIBRARY_CONSTANTS, cheap_constants())


def valid_email(address: str) -> str:
    """The address as email-validator accepts it (syntax only, no DNS), in the
    form SES sends to; a ValueError naming the fault otherwise."""
    _install_cheap_constants()
    from email_validator import EmailNotValidError, validate_email

    try:
        # SES speaks no SMTPUTF8: the part before the @ must be ASCII, and an
        # international domain goes out in its ASCII (Punycode) form. An
        # address SES would refuse is refused here, while the customer can
        # still correct it, instead of parking their emails in the DLQ.
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        return str(checked.ascii_email or checked.normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
