"""The input rules every contract reuses, and their French messages naming the field."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from pydantic import BaseModel, Field, ValidationError

from contracts.directory import SearchPeopleV1, StructureFields, UpdateStructureV1
from contracts.inputs import (
    MAX_OFFSET,
    AppointmentTime,
    BirthDate,
    Line,
    Offset,
    PostalCode,
    Text,
    Version,
    Website,
    field_errors,
    invalid_message,
)
from contracts.notebook import BeneficiaryFields, BookAppointmentV1

pytestmark = pytest.mark.unit


class Form(BaseModel):
    firstname: Line = Field(default="", max_length=250)
    reason: Text = ""
    postal_code: PostalCode = ""
    website: Website = ""
    offset: Offset = 0
    version: Version = 1
    at: AppointmentTime | None = None
    date_of_birth: BirthDate | None = None


def refusal(**fields) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        Form(**fields)
    return field_errors(caught.value.errors())


def messages(**fields) -> list[str]:
    return [error["message"] for error in refusal(**fields)]


@pytest.mark.parametrize("value", ["Noël", "Jean-Pierre O'Brien", "Zoë 🙂", ""])
def test_a_line_takes_any_printable_text(value):
    assert Form(firstname=value).firstname == value


@pytest.mark.parametrize("value", ["a\x00b", "a\tb", "a\nb", "a\rb", "\x7f", "\x1b[31m", "\x85"])
def test_a_line_refuses_nul_and_every_control_character(value):
    assert messages(firstname=value) == ["Le prénom contient des caractères de contrôle."]


def test_a_lone_surrogate_is_refused_before_any_database_fails_to_encode_it():
    assert messages(firstname="a\ud800b") == ["Le prénom contient des caractères invalides."]


def test_free_text_keeps_tabs_and_new_lines_but_no_other_control():
    assert Form(reason="Première ligne\r\n\tseconde").reason == "Première ligne\r\n\tseconde"
    assert messages(reason="a\x00b") == ["Le motif contient des caractères de contrôle."]
    assert messages(reason="a\x0bb") == ["Le motif contient des caractères de contrôle."]


@pytest.mark.parametrize("value", ["", "93190", "01000", "20000"])
def test_postal_codes_are_empty_or_five_digits(value):
    assert Form(postal_code=value).postal_code == value


@pytest.mark.parametrize("value", ["9319", "9319O", "931900", "93 19", "٩٣١٩٠", "AB123"])
def test_other_postal_codes_are_refused(value):
    [error] = refusal(postal_code=value)
    assert error["message"] in ("Le code postal doit comporter 5 chiffres.", "Le code postal : 5 caractères au plus.")


@pytest.mark.parametrize("value", ["", "https://ccas.fr", "http://ccas.fr/contact", "HTTPS://CCAS.FR"])
def test_websites_are_http_or_https(value):
    assert Form(website=value).website == value


@pytest.mark.parametrize("value", ["javascript:alert(1)", "data:text/html,x", "ftp://ccas.fr", "ccas.fr", "https://"])
def test_other_websites_are_refused(value):
    assert messages(website=value) == ["Le site internet doit commencer par http:// ou https://."]


def test_offsets_and_versions_are_bounded_within_a_database_integer():
    assert Form(offset=MAX_OFFSET).offset == MAX_OFFSET
    assert messages(offset=MAX_OFFSET + 1) == ["Le décalage : 1000000 au plus."]
    assert messages(offset=2**63) == ["Le décalage : 1000000 au plus."]
    assert messages(offset=-1) == ["Le décalage : 0 au moins."]
    assert messages(version=0) == ["La version : 1 au moins."]
    assert messages(version=2**63) == ["La version : 2147483647 au plus."]
    assert messages(offset="beaucoup") == ["Le décalage doit être un nombre entier."]


def test_appointment_times_have_a_time_zone_and_a_sane_year():
    assert Form(at="2030-01-01T10:00:00+01:00").at.utcoffset() == timedelta(hours=1)
    assert messages(at="2030-01-01T10:00:00") == [
        "La date du rendez-vous doit préciser son fuseau horaire (par exemple 2030-01-01T10:00:00+01:00)."]
    for overflowing in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "1999-12-31T23:00:00Z"):
        assert messages(at=overflowing) == ["La date du rendez-vous doit être entre 2000 et 2100."]


def test_a_date_of_birth_is_neither_in_the_future_nor_before_1900():
    assert Form(date_of_birth=date.today()).date_of_birth == date.today()
    assert Form(date_of_birth="1900-01-01").date_of_birth == date(1900, 1, 1)
    assert messages(date_of_birth=date.today() + timedelta(days=1)) == [
        "La date de naissance ne peut pas être dans le futur."]
    assert messages(date_of_birth="1899-12-31") == ["La date de naissance ne peut pas être antérieure à 1900."]


def test_messages_name_each_field_in_french_with_its_limit():
    with pytest.raises(ValidationError) as caught:
        BeneficiaryFields.model_validate({"lastname": "x" * 121, "date_of_birth": "1975-12-25"})
    fields = field_errors(caught.value.errors())
    assert [(f["loc"], f["message"]) for f in fields] == [
        (["firstname"], "Le prénom est obligatoire."), (["lastname"], "Le nom : 120 caractères au plus.")]
    assert invalid_message(fields) == "Le prénom est obligatoire. Le nom : 120 caractères au plus."
    unknown = field_errors([{"loc": ["body", "beneficiary", "mystery"], "type": "whatever"}])
    assert unknown[0]["message"] == "Le champ « mystery » n'est pas valide."


def test_a_plural_label_takes_a_plural_verb():
    messages = [f["message"] for f in field_errors([
        {"loc": ["body", "addressed_to"], "type": "missing"},
        {"loc": ["body", "referent_ids", 0], "type": "uuid_parsing"},
        {"loc": ["body", "event_types"], "type": "list_type"},
        {"loc": ["body", "themes"], "type": "whatever"},
        {"loc": ["body", "themes"], "type": "control_characters"}])]
    assert messages == ["Les destinataires sont obligatoires.",
                        "Les référents ne sont pas des identifiants valides.",
                        "Les événements doivent être une liste.",
                        "Les thématiques ne sont pas valides.",
                        "Les thématiques contiennent des caractères de contrôle."]


def test_a_partner_name_breaking_its_pattern_says_the_rule_and_a_list_of_values_says_unknown():
    from contracts.partners import CreatePartnerCredentialV1

    for bad in ("Mon RDV", "r", "1rdv", "rdvé", "x" * 40):
        with pytest.raises(ValidationError) as caught:
            CreatePartnerCredentialV1(partner=bad, deployment_ids=[uuid.uuid4()])
        assert invalid_message(field_errors(caught.value.errors())) == (
            "Le partenaire : un nom de 2 à 31 lettres minuscules sans accent ou chiffres, sans espace, commençant "
            "par une lettre (par exemple rdvi).")
    # Another field's pattern listing values (a history's kind) still says the value is unknown.
    [other] = field_errors([{"loc": ["body", "kind"], "type": "string_pattern_mismatch"}])
    assert other["message"] == "Le type : valeur inconnue."


def test_the_contracts_reuse_the_rules():
    with pytest.raises(ValidationError):
        StructureFields(name="CCAS", city="Livry\x00")
    with pytest.raises(ValidationError):
        StructureFields(name="CCAS", website="javascript:alert(1)")
    with pytest.raises(ValidationError):
        SearchPeopleV1(q="\x00")
    with pytest.raises(ValidationError):
        SearchPeopleV1(offset=2**63)
    with pytest.raises(ValidationError):
        UpdateStructureV1(structure_id=uuid.uuid4(), version=0, structure=StructureFields(name="CCAS"))
    with pytest.raises(ValidationError):
        BookAppointmentV1(notebook_id=uuid.uuid4(), at="2030-01-01T10:00:00")
    with pytest.raises(ValidationError):
        BeneficiaryFields(firstname="Noël", lastname="Keller", date_of_birth="2999-01-01")


def test_control_characters_are_exactly_the_categories_cc_and_cs():
    """The pattern that finds them (a regular expression, fast on every text field of a 100,000-row import) names
    exactly the characters of Unicode's categories Cc and Cs, multi-line text allowing tab and line breaks."""
    import unicodedata

    from contracts.inputs import MULTI_LINE, _control_characters

    def refused(value: str, allowed: set[str]) -> bool:
        try:
            _control_characters(value, allowed)
        except Exception:
            return True
        return False

    for code in range(0x110000):
        c = chr(code)
        control = unicodedata.category(c) in ("Cc", "Cs")
        assert refused(f"a{c}b", set()) is control, hex(code)
        assert refused(f"a{c}b", MULTI_LINE) is (control and c not in MULTI_LINE), hex(code)
