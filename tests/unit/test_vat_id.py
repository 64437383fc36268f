"""Our EU VAT ID check against python-stdnum, the reference (as stripe is
the reference of our Stripe client): over many generated numbers per member
state, every final check digit (or pair) tried, our verdict equals stdnum's;
where we check only the format, we never refuse a number stdnum accepts."""

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.eu import vat as reference

from chalicelib.domain.errors import VatIdInvalid
from chalicelib.domain.vat_id import RULES, checked_vat_id, compact, verdict

CHECKED = ["AT", "BE", "DE", "DK", "EE", "EL", "FI", "FR", "HR", "HU", "IT", "LU", "MT", "NL"]
CHECKED += ["PL", "PT", "RO", "SE", "SI"]
FORMAT_ONLY = sorted(set(RULES) - set(CHECKED))

#: The numbers we generate per state: a body, then every last character.
SHAPES = {
    "AT": ("U", 7, 1),
    "BE": ("", 8, 2),
    "DE": ("", 8, 1),
    "DK": ("", 7, 1),
    "EE": ("", 8, 1),
    "EL": ("", 8, 1),
    "FI": ("", 7, 1),
    "HR": ("", 10, 1),
    "HU": ("", 7, 1),
    "IT": ("", 10, 1),
    "LU": ("", 6, 2),
    "MT": ("", 7, 1),
    "PL": ("", 9, 1),
    "PT": ("", 8, 1),
    "SI": ("", 7, 1),
}


def _ours(number: str) -> bool:
    return verdict(number) is None


def _finals(width: int) -> list[str]:
    return [f"{n:0{width}d}" for n in range(10**width)]


def _numbers(state: str, rng: random.Random, bodies: int) -> list[str]:
    if state in SHAPES:
        lead, body, tail = SHAPES[state]
        out = []
        for _ in range(bodies):
            digits = "".join(rng.choice(string.digits) for _ in range(body))
            out += [f"{state}{lead}{digits}{final}" for final in _finals(tail)]
        return out
    if state == "FR":  # every key before a SIREN that passes its Luhn digit
        keys = [
            a + b
            for a in "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
            for b in "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        ]
        out = []
        for _ in range(bodies // 10):
            body = "".join(rng.choice(string.digits) for _ in range(8))
            for final in string.digits:
                siren = body + final
                out += [f"FR{key}{siren}" for key in rng.sample(keys, 30)]
                out.append(f"FR{int(siren + '12') % 97:02d}{siren}")
        return out
    if state == "NL":
        out = []
        for _ in range(bodies):
            body = "".join(rng.choice(string.digits) for _ in range(8))
            suffix = f"{rng.randint(0, 99):02d}"
            out += [f"NL{body}{final}B{suffix}" for final in string.digits]
            out += [f"NL{body}{rng.choice(string.digits)}B{final}" for final in _finals(2)]
        return out
    if state == "RO":
        out = []
        for _ in range(bodies):
            length = rng.randint(1, 9)
            body = "".join(rng.choice(string.digits) for _ in range(length))
            out += [f"RO{body}{final}" for final in string.digits]
        return out
    if state == "SE":
        out = []
        for _ in range(bodies):
            body = "".join(rng.choice(string.digits) for _ in range(9))
            out += [f"SE{body}{final}01" for final in string.digits]
            out.append(f"SE{body}{rng.choice(string.digits)}{rng.randint(0, 99):02d}")
        return out
    raise AssertionError(state)


@pytest.mark.parametrize("state", CHECKED)
def test_verdicts_equal_stdnums_over_generated_numbers(state: str) -> None:
    rng = random.Random(state)
    numbers = _numbers(state, rng, bodies=300)
    disagreements = [n for n in numbers if _ours(n) != reference.is_valid(n)]
    assert disagreements == []
    valid = sum(_ours(n) for n in numbers)
    assert 0 < valid < len(numbers)  # both verdicts were exercised


@pytest.mark.parametrize("state", FORMAT_ONLY)
def test_format_only_states_never_refuse_what_stdnum_accepts(state: str) -> None:
    rng = random.Random(state)
    pattern, _ = RULES[state]
    refused_by_both = 0
    for _ in range(3000):
        length = rng.randint(7, 13)
        chars = string.digits * 3 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        rest = "".join(
            rng.choice(string.digits if rng.random() < 0.9 else chars) for _ in range(length)
        )
        number = state + rest
        if reference.is_valid(number):
            assert _ours(number), number
        elif not _ours(number):
            refused_by_both += 1
    assert refused_by_both > 0
    assert not pattern.fullmatch("")


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(CHECKED),
    st.text(alphabet=string.digits + "UB", min_size=0, max_size=14),
)
def test_any_text_after_a_checked_prefix_gets_stdnums_verdict(state: str, rest: str) -> None:
    number = state + rest
    if state == "RO" and len(rest) == 13:
        return  # stdnum also takes a person's CNP; we take companies' CUIs only
    assert _ours(number) == reference.is_valid(number)


@pytest.mark.parametrize(
    "text, compacted",
    [
        ("DE 136 695 976", "DE136695976"),
        ("de136695976", "DE136695976"),
        ("ATU13585627", "ATU13585627"),
        ("BE 0776.091.951", "BE0776091951"),
        ("GR 094259216", "EL094259216"),
        ("FR 40 303 265 045", "FR40303265045"),
        ("NL004495445B01", "NL004495445B01"),
    ],
)
def test_known_numbers_pass_in_compact_form(text: str, compacted: str) -> None:
    assert reference.is_valid(compacted)
    assert checked_vat_id(text) == compacted


@pytest.mark.parametrize(
    "text, reason",
    [
        ("DE136695975", "check_digits"),
        ("DE13669597", "format"),
        ("CH123456789", "unknown_country"),
        ("US123", "unknown_country"),
        ("", "unknown_country"),
        ("ATU1358562", "format"),
        ("DE036695976", "check_digits"),
    ],
)
def test_refusals_name_why(text: str, reason: str) -> None:
    with pytest.raises(VatIdInvalid) as refused:
        checked_vat_id(text)
    assert refused.value.details == {"reason": reason}
    assert not reference.is_valid(text)


def test_compact_reads_greece_as_el_and_drops_separators() -> None:
    assert compact(" gr-094.259/216 ") == "EL094259216"
