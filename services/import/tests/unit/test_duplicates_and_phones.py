"""Rows a file repeats, and the fast path of French phone numbers (the same answer as the service-wide one)."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_import.domain.duplicates import Duplicates
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


@settings(max_examples=300)
@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True))
def test_a_national_number_is_read_as_the_services_read_it(number):
    expected = normalise_phone(number)
    if expected is not None:
        assert _import_phone(number) == expected


def test_overseas_numbers_keep_their_own_country_code():
    assert _import_phone("0692123456") == normalise_phone("0692123456") == "+262692123456"
    assert _import_phone("06 12 34 56 78") == "+33612345678"
