"""The cheap stand-in for email-validator's constants (api/email_address.py)
must be the library's own, value for value and character for character:
otherwise we would accept or refuse other addresses than the library does."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import email_validator
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.api.email_address import cheap_constants, valid_email

ALL_OF_UNICODE = range(0x110000)


def library_constants() -> types.ModuleType:
    """The library's own module, executed under another name so that the
    process's email-validator is not disturbed."""
    path = Path(email_validator.__file__).with_name("rfc_constants.py")
    if not path.exists():  # the package ships bytecode only
        path = path.with_suffix(".pyc")
    spec = importlib.util.spec_from_file_location("library_rfc_constants", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def constants() -> tuple[types.ModuleType, types.ModuleType]:
    return library_constants(), cheap_constants()


def public(module: types.ModuleType) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(module).items()
        if name.isupper() and not isinstance(value, types.ModuleType)
    }


def test_the_stand_in_has_every_constant_of_the_library_and_no_other(constants):
    library, ours = constants
    assert set(public(ours)) == set(public(library))


def test_every_plain_constant_equals_the_librarys(constants):
    library, ours = constants
    for name, value in public(library).items():
        if not isinstance(value, re.Pattern):
            assert getattr(ours, name) == value, name


@pytest.mark.parametrize(
    "name", ["ATEXT_RE", "ATEXT_INTL_DOT_RE", "ATEXT_HOSTNAME_INTL", "DOMAIN_LITERAL_CHARS",
             "QTEXT_INTL"],
)  # fmt: skip
def test_each_character_class_matches_the_same_characters_over_all_of_unicode(constants, name):
    library, ours = constants
    theirs, mine = getattr(library, name), getattr(ours, name)
    differing = [
        c for c in ALL_OF_UNICODE if bool(theirs.match(chr(c))) != bool(mine.match(chr(c)))
    ]
    assert differing == []


ADDRESS_LIKE = st.text(
    alphabet=st.sampled_from("aZ09._-+!#$%&'*/=?^`{|}~ \"@()[]\\,;:\x00\x7fäßé\u200b\U0001f600"),
    max_size=30,
)


@pytest.mark.parametrize(
    "name", ["DOT_ATOM_TEXT", "DOT_ATOM_TEXT_INTL", "DOT_ATOM_TEXT_HOSTNAME", "DOMAIN_NAME_REGEX"]
)
@given(text=ADDRESS_LIKE)
def test_each_dot_atom_pattern_matches_the_same_texts(constants, name, text):
    library, ours = constants
    theirs, mine = getattr(library, name), getattr(ours, name)
    assert bool(theirs.match(text)) == bool(mine.match(text))


@pytest.mark.parametrize(
    "address, expected",
    [
        ("Erika.Mustermann@Example.DE", "Erika.Mustermann@example.de"),
        ("erika@münchen.de", "erika@xn--mnchen-3ya.de"),
        ("a+tag@shop.example.com", "a+tag@shop.example.com"),
    ],
)
def test_a_valid_address_comes_back_in_the_form_ses_sends_to(address, expected):
    assert valid_email(address) == expected


@pytest.mark.parametrize(
    "address",
    ["zoë@example.de", "no-at-sign", "two..dots@example.de", "erika@localhost", "a@b@example.de",
     "erika@example.test", " @example.de"],
)  # fmt: skip
def test_an_address_the_library_refuses_is_refused(address):
    with pytest.raises(ValueError, match="not a valid email address"):
        valid_email(address)


def test_a_fresh_interpreter_compiles_no_class_over_all_of_unicode():
    """In a new process (as a Lambda instance is) the library loads our
    constants: none of its patterns spans the whole of Unicode."""
    script = textwrap.dedent(
        """
        import re, sys
        from chalicelib.api.email_address import valid_email
        assert valid_email("erika@example.de") == "erika@example.de"
        constants = sys.modules["email_validator.rfc_constants"]
        spans = [name for name, value in vars(constants).items()
                 if isinstance(value, re.Pattern) and "\\U0010ffff" in value.pattern.lower()]
        print(getattr(constants, "__file__", "stand-in"), spans)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.stdout.split() == ["stand-in", "[]"]
