"""Parsers of one imported cell: properties over generated values, and the examples of spec §4.1."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from servicekit.identifiers import nir_key

from data_import.domain.values import (Ignored, ValueProblem, normalise_header, one_of, parse_birth_date,
                                       parse_date, parse_email, parse_emails, parse_name, parse_nir, parse_phone,
                                       parse_phones, parse_postal_code, parse_rome_labels, parse_siret, parse_text,
                                       parse_website, parse_yes_no)

pytestmark = pytest.mark.unit

DATE_WRITINGS = ["{d:%Y-%m-%d}", "{d:%d/%m/%Y}", "{d:%d-%m-%Y}", "{d:%d.%m.%Y}", "{d:%Y-%m-%d} 00:00:00.0",
                 "{d:%Y-%m-%d}T00:00:00", "{d.day}/{d.month}/{d:%Y}"]


@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(DATE_WRITINGS))
def test_any_date_written_in_an_accepted_format_parses_back(day: date, writing: str) -> None:
    assert parse_date(writing.format(d=day)) == day


@given(st.integers(min_value=10_000, max_value=99_999))
def test_excel_serial_numbers_are_days_since_1899_12_30(serial: int) -> None:
    assert parse_date(str(serial)) == date(1899, 12, 30) + timedelta(days=serial)
    assert parse_date(f"{serial}.0") == parse_date(str(serial))


@pytest.mark.parametrize("text, expected", [
    ("44927", date(2023, 1, 1)), ("25/05/1998", date(1998, 5, 25)), ("22-04-1997", date(1997, 4, 22)),
    ("1982-02-01 00:00:00.0", date(1982, 2, 1)), ("1/2/2003", date(2003, 2, 1)),
])
def test_v1_date_examples(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, message", [
    ("19970-04-22", "« 19970-04-22 » n'est pas une date reconnue : formats acceptés AAAA-MM-JJ, JJ/MM/AAAA, "
                    "JJ-MM-AAAA ou JJ.MM.AAAA."),
    ("01/02/03", "« 01/02/03 » n'est pas une date reconnue"),  # two-digit years: 1903 or 2003?
    ("1997/04/22", "n'est pas une date reconnue"),
    ("22/04-1997", "n'est pas une date reconnue"),
    ("31/02/2000", "« 31/02/2000 » n'existe pas dans le calendrier : vérifiez le jour et le mois."),
    ("20230101", "n'est pas une date reconnue"),
    ("1998", "n'est pas une date reconnue"),
    ("２０２３-０１-０１", "n'est pas une date reconnue"),  # digits of another script  # a year alone is not Excel's 1905-06-20
])
def test_dates_refused_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueProblem, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_date(text)


def test_birth_dates_are_neither_in_the_future_nor_before_1900() -> None:
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ValueProblem, match="est dans le futur : vérifiez l'année"):
        parse_birth_date(tomorrow.isoformat())
    with pytest.raises(ValueProblem, match="est antérieure à 1900"):
        parse_birth_date("31/12/1899")
    assert parse_birth_date("01/01/1900") == date(1900, 1, 1)
    assert parse_birth_date(date.today().isoformat()) == date.today()


NIR_BODIES = st.builds(lambda sex, year, month, dept, rest: f"{sex}{year:02}{month:02}{dept}{rest:06}",
                       st.sampled_from("12378"), st.integers(0, 99), st.integers(1, 12),
                       st.sampled_from(["2A", "2B"]) | st.integers(1, 99).map("{:02}".format),
                       st.integers(0, 999_999))


@given(NIR_BODIES)
def test_a_nir_with_its_computed_key_validates_and_is_truncated_to_13(body: str) -> None:
    key = f"{nir_key(body):02}"
    assert parse_nir(body + key) == body
    assert parse_nir(body) == body
    spaced = f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:]} {key}"
    assert parse_nir(spaced.lower()) == body


@given(NIR_BODIES, st.integers(1, 96))
def test_a_nir_with_a_wrong_key_is_refused(body: str, shift: int) -> None:
    wrong = (nir_key(body) - 1 + shift) % 97 + 1  # any key in 1..97 but the right one
    with pytest.raises(ValueProblem, match="la clé .* ne correspond pas au numéro"):
        parse_nir(f"{body}{wrong:02}")


def test_corsica_counts_2a_as_19_and_2b_as_18_in_the_key() -> None:
    assert nir_key("185072A056123") == 97 - 1850719056123 % 97
    assert nir_key("185072B056123") == 97 - 1850718056123 % 97


@pytest.mark.parametrize("text", ["12345678901234", "1234567890", "185077505612X", "985077505612324", "2A",
                                  "１８５０７７５０５６１２３"])
def test_nir_of_a_wrong_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueProblem, match="n'est pas un NIR valide : il faut 13 caractères, ou 15 avec la clé"):
        parse_nir(text)


# Metropolitan mobiles: 069x and 0709 are overseas numbers, whose national form is not +33.
MOBILES = st.builds("0{}{:07}".format, st.sampled_from(["6", "7"]).flatmap(
    lambda first: st.sampled_from([first + d for d in ("012345678" if first == "6" else "3456789")])),
    st.integers(0, 9_999_999)).filter(
    lambda national: not national.startswith("0639"))  # 06 39 is Mayotte's (+262 639), dialled nationally


@given(MOBILES)
def test_a_french_mobile_in_national_or_international_form_gives_the_same_e164(national: str) -> None:
    e164 = "+33" + national[1:]
    spaced = " ".join(national[i:i + 2] for i in range(0, 10, 2))
    writings = [national, spaced, national.replace("", ".").strip("."), e164, "0033" + national[1:],
                "+33 " + spaced[1:]]
    assert {parse_phone(w) for w in writings} == {e164}


def test_phone_lists_and_the_bad_ones_named() -> None:
    assert parse_phones("0601234567, 0712345670") == ["+33601234567", "+33712345670"]
    assert parse_phones("0692123456") == ["+262692123456"]  # La Réunion, dialled nationally
    assert parse_phones("601234567") == ["+33601234567"]  # a spreadsheet's number cell lost the leading zero
    with pytest.raises(ValueProblem, match="« 071234567 » n'est pas un numéro de téléphone français valide"):
        parse_phones("0601234567, 071234567")
    with pytest.raises(ValueProblem, match="« 999999 », « abc » ne sont pas des numéros de téléphone"):
        parse_phones("999999, 0601234567, abc")
    with pytest.raises(ValueProblem, match="un seul numéro de téléphone est attendu"):
        parse_phone("0601234567, 0612345678")


def test_rome_labels_are_cut_after_each_code_not_at_the_commas_inside_labels() -> None:
    assert parse_rome_labels("Modéliste en bijouterie, orfèvrerie, joaillerie (B1603), "
                             "Pontier élingueur / Pontière élingueuse (N1104),") == [
        "Modéliste en bijouterie, orfèvrerie, joaillerie (B1603)", "Pontier élingueur / Pontière élingueuse (N1104)"]
    assert parse_rome_labels("Boulanger, Pâtissier (D1104)") == ["Boulanger, Pâtissier (D1104)"]
    assert parse_rome_labels("Boulanger, Pâtissier") == ["Boulanger", "Pâtissier"]


def test_emails() -> None:
    assert parse_email(" Salome@CD26.fr ") == "salome@cd26.fr"
    assert parse_emails("a@cd26.fr, b@cd26.fr,") == ["a@cd26.fr", "b@cd26.fr"]
    for text in ("@toto", "contact@cd93", "ruben.delamare.cd93.fr"):
        with pytest.raises(ValueProblem, match=f"« {text} » n'est pas une adresse e-mail valide"):
            parse_email(text)
    with pytest.raises(ValueProblem, match="« x@ » n'est pas une adresse e-mail valide"):
        parse_emails("a@cd26.fr, x@")


@pytest.mark.parametrize("text, expected", [("61120", "61120"), ("1000", "01000"), ("97400", "97400")])
def test_postal_codes(text: str, expected: str) -> None:
    assert parse_postal_code(text) == expected


@pytest.mark.parametrize("text", ["00123", "611", "123", "611200", "61 20", "ABCDE", "１２３４５"])
def test_postal_codes_refused(text: str) -> None:
    with pytest.raises(ValueProblem, match="n'est pas un code postal valide : 5 chiffres"):
        parse_postal_code(text)


@pytest.mark.parametrize("text, expected", [("Oui", True), ("O", True), ("oui", True), ("NON", False),
                                            ("n", False)])
def test_yes_no(text: str, expected: bool) -> None:
    assert parse_yes_no(text) is expected


def test_anything_but_yes_or_no_is_left_empty_with_a_warning() -> None:
    with pytest.raises(Ignored, match="« Peut-être » n'est ni Oui ni Non : la valeur est laissée vide"):
        parse_yes_no("Peut-être")


def test_codes_of_closed_lists_whatever_their_case_and_accents() -> None:
    parse = one_of(["recherche_emploi", "scolarisé", "NV5"], "une situation connue")
    assert parse("Scolarise") == "scolarisé"
    assert parse("nv5") == "NV5"
    with pytest.raises(ValueProblem, match="« chômage » n'est pas une situation connue : .*emploi, scolarisé"):
        parse("chômage")


def test_names_refuse_parentheses_and_collapse_spaces() -> None:
    assert parse_name("Jean  Pierre") == "Jean Pierre"
    with pytest.raises(ValueProblem, match="Les parenthèses ne sont pas autorisées dans les noms"):
        parse_name("Dupont (Martin)")
    with pytest.raises(ValueProblem, match="caractères de contrôle"):
        parse_name("Dupont\x00")


def test_siret_key() -> None:
    assert parse_siret("229 300 082 01453") == "22930008201453"
    assert parse_siret("35600000000048") == "35600000000048"  # La Poste's head office: Luhn
    assert parse_siret("35600000000010") == "35600000000010"  # another of La Poste's: digit sum modulo 5
    with pytest.raises(ValueProblem, match="« 12312312312311 » n'est pas un SIRET valide : sa clé"):
        parse_siret("12312312312311")
    with pytest.raises(ValueProblem, match="il faut 14 chiffres"):
        parse_siret("2293000820145")


def test_websites_need_their_scheme() -> None:
    assert parse_website("https://carnetdebord.inclusion.beta.gouv.fr") == "https://carnetdebord.inclusion.beta.gouv.fr"
    for text in ("carnetdebord.inclusion.beta.gouv.fr", "javascript://alert(1)", "https://"):
        with pytest.raises(ValueProblem, match="doit commencer par https://"):
            parse_website(text)


@pytest.mark.parametrize("written", ["Date de naissance*", "date de naissance", "DATE DE NAISSANCE",
                                     " Date  de naissance *", "\ufeffDate de naissance*", "Date de naissance\xa0"])
def test_headers_match_whatever_their_case_accents_spaces_and_stars(written: str) -> None:
    assert normalise_header(written) == normalise_header("Date de naissance")


def test_headers_match_whatever_their_apostrophe_and_accents() -> None:
    assert normalise_header("Prime d’activité") == normalise_header("prime d'activite")
    assert normalise_header("Prénom") == normalise_header("PRENOM")
    assert normalise_header("Adresse (complément)") != normalise_header("Adresse")


@given(st.text())
def test_control_characters_refused_are_those_of_categories_cc_and_cs(text) -> None:
    import unicodedata

    control = any(unicodedata.category(c) in ("Cc", "Cs") for c in text)
    try:
        assert parse_text(text) == text and not control
    except ValueProblem:
        assert control
