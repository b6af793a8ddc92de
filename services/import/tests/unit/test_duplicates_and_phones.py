"""Rows a file repeats, and the fast path of French phone numbers (the same answer as the service-wide one)."""
from __future__ import annotations

import gc
import tracemalloc
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_import.domain.duplicates import Duplicates, Seen
from data_import.domain.values import _import_phone
from servicekit.contact import normalise_phone

pytestmark = pytest.mark.unit
HEADERS = {"external_id": "Identifiant SI", "nir": "NIR", "email": "Courriel"}


def person(external_id: str, firstname: str, lastname: str, born: date, nir: str | None = None) -> dict:
    return {"external_id": external_id, "firstname": firstname, "lastname": lastname, "date_of_birth": born,
            "nir": nir}


def test_a_beneficiary_repeated_by_identifier_nir_or_name_and_birth_date_names_the_first_row():
    duplicates = Duplicates("beneficiaries", HEADERS)
    born = date(1985, 3, 12)
    assert duplicates.message_for(2, person("A1", "Hélène", "Çelik", born, "185037505612345")) is None
    assert duplicates.message_for(3, person("A2", "Jean", "Dupont", born)) is None
    assert duplicates.message_for(4, person(" a1 ", "Autre", "Nom", born)) == (
        "Ligne en double : même « Identifiant SI » que la ligne 2.")
    assert duplicates.message_for(5, person("A9", "X", "Y", born, "185037505612345")) == (
        "Ligne en double : même « NIR » que la ligne 2.")
    assert duplicates.message_for(6, person("A8", "HELENE", "celik", born)) == (
        "Ligne en double : même nom, prénom et date de naissance que la ligne 2.")
    assert duplicates.message_for(7, person("A7", "Hélène", "Çelik", date(1985, 3, 13))) is None


def test_people_repeat_by_email_and_other_kinds_never():
    people = Duplicates("professionals", HEADERS)
    assert people.message_for(2, {"email": "a@b.fr"}) is None
    assert people.message_for(3, {"email": "A@B.FR"}) == "Ligne en double : même « Courriel » que la ligne 2."
    structures = Duplicates("structures", HEADERS)
    assert structures.message_for(2, {"name": "CD 93"}) is None
    assert structures.message_for(3, {"name": "CD 93"}) is None


def test_the_table_of_keys_seen_names_each_first_row_as_it_grows():
    seen, first = Seen(slots=8), {}
    for n in range(5000):
        digest = hash(("clé", n % 3001)) or 1
        if digest not in first:
            assert seen.first(digest) is None
            seen.add(digest, n + 2)
            first[digest] = n + 2
        assert seen.first(digest) == first[digest]
    assert [seen.first(digest) for digest in first] == list(first.values())
    assert seen.size == 3001 and 10 * seen.size <= 7 * len(seen.digests)


def people_keys(rows: int) -> int:
    """Bytes ``Duplicates`` still holds once it has seen ``rows`` distinct beneficiaries (issue 15, item 8)."""
    duplicates = Duplicates("beneficiaries", HEADERS)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(rows):
            values = {"external_id": f"SI{n:07d}", "firstname": "Hélène", "lastname": f"Çelik {n}",
                      "date_of_birth": (date(1960, 1, 1) + timedelta(days=n % 9000)).isoformat(),
                      "nir": f"{185037505600000 + n}"}
            assert duplicates.message_for(n + 2, values) is None
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_the_keys_of_the_rows_seen_cost_little_memory_per_row():
    """Three keys per beneficiary, one per row of the file: held as 64-bit digests in arrays, not as strings in
    dicts (about 320 bytes a row, 32 Mio for 100,000 rows, were most of the service's growth during an import)."""
    small, large = people_keys(20_000), people_keys(60_000)
    # Bytes a row: 3 keys at 12 bytes a slot, the table 35 to 70 % full (17 to 34 bytes a key); was about 320.
    assert large / 60_000 < 110
    assert (large - small) / 40_000 < 110


@settings(max_examples=300)
@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True))
def test_a_national_number_is_read_as_the_services_read_it(number):
    expected = normalise_phone(number)
    if expected is not None:
        assert _import_phone(number) == expected


def test_overseas_numbers_keep_their_own_country_code():
    assert _import_phone("0692123456") == normalise_phone("0692123456") == "+262692123456"
    assert _import_phone("06 12 34 56 78") == "+33612345678"
