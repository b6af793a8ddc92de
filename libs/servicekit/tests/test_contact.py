"""Contact details normalised the same way by every service: the fast path of numbers already in E.164 (what an
import sends the notebook, row after row) answers exactly what parsing them does."""
from __future__ import annotations

import unicodedata

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicekit.contact import FRENCH_REGIONS, normalise_phone, search_key

pytestmark = pytest.mark.unit


def parsed(phone: str) -> str | None:
    """normalise_phone as it was before its fast path: every text parsed, region after region."""
    for region in FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(phone.strip(), region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=0, max_value=10**10 - 1), st.sampled_from(["+33", "+262", "+590", "0", "+330", "+33 "]),
       st.sampled_from(["", " ", "\t"]))
def test_the_fast_path_answers_what_parsing_does(digits, prefix, space):
    phone = f"{space}{prefix}{digits:09d}{space}"
    assert normalise_phone(phone) == parsed(phone)


@pytest.mark.parametrize("phone", ["+33612345678", "+33712345678", "+33123456789", "+33912345678", "+33612",
                                   "+336123456789", "+33012345678", "0612345678", "+262692123456", "06 12 34 56 78",
                                   "+33 6 12 34 56 78", "", "abc", "+33６12345678"])
def test_known_numbers(phone):
    assert normalise_phone(phone) == parsed(phone)


def stripped(text: str) -> str:
    """search_key as it was, character by character."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@settings(max_examples=3000, deadline=None)
@given(st.text())
def test_search_keys_are_what_stripping_each_character_gives(text):
    assert search_key(text) == stripped(text)


@pytest.mark.parametrize("text", ["Élodie  DUPRÉ", "Hélène Çelik", "ǅemal Ǆ", "Straße", "ﬁlle", "Ἀθῆναι",
                                  "x\u0301\U0001d165", "  ", "", "Zoë\tO'Brien-Lévêque", "İstanbul"])
def test_search_keys_of_names(text):
    assert search_key(text) == stripped(text)
