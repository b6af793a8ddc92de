"""The six kinds of spec §4.1 on v1's own files: their header lines match, their rows give v1's verdicts in French."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from data_import.domain.kinds import KINDS, InvalidRow, ValidRow, match_header, validate_row

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[3]
# v1's files live in shared/, inside the checkout (on the device machine) or next to it (../shared, as the issue says).
FIXTURES = REPOSITORY / "shared" / "fixtures" / "cdb-v1"
if not FIXTURES.is_dir():
    FIXTURES = REPOSITORY.parent / "shared" / "fixtures" / "cdb-v1"

FILE_KINDS = {
    "import_beneficiaires.csv": "beneficiaries", "import_beneficiaires_buggy.csv": "beneficiaries",
    "import_beneficiaires_partial.csv": "beneficiaries", "re_import_beneficiaires.csv": "beneficiaries",
    "import_beneficiaires_with_all_date_formats.csv": "beneficiaries",
    "import_structures.csv": "structures", "import_structures_buggy.csv": "structures",
    "import_structures_missing_key.csv": "structures", "e2e_import_structures.csv": "structures",
    "import_charges_orientation.csv": "orientation-managers", "import_professionnels.csv": "professionals",
    "beneficiaires_en_attente.csv": "referents",
    "import_reorientation_change_referent.csv": "reorientations",
    "import_reorientation_change_referent_same_structure.csv": "reorientations",
    "import_reorientation_change_structure.csv": "reorientations",
    "import_reorientation_deactivate_referent.csv": "reorientations",
}


def read(name: str) -> list[list[str]]:
    # Only to get at the cells of v1's files: reading files (encodings, separators, spreadsheets) is reading.py's.
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file, delimiter=";"))


def verdicts(name: str) -> list[ValidRow | InvalidRow]:
    header, *rows = read(name)
    header_map = match_header(FILE_KINDS[name], header)
    assert header_map.problem is None
    return [validate_row(FILE_KINDS[name], header_map, row) for row in rows]


def messages(row: ValidRow | InvalidRow) -> list[str]:
    return [e.message for e in row.errors] if isinstance(row, InvalidRow) else []


@pytest.mark.parametrize("name", sorted(FILE_KINDS))
def test_every_v1_header_line_matches_its_kind_with_no_unknown_column(name: str) -> None:
    header = read(name)[0]
    header_map = match_header(FILE_KINDS[name], header)
    assert header_map.problem is None
    assert header_map.unknown == () and header_map.duplicated == ()
    assert len(header_map.positions) == sum(1 for cell in header if cell.strip()) - header.count("Zone de mobilité")


def test_the_csv_fixtures_are_all_covered() -> None:
    csv_files = {p.name for p in FIXTURES.glob("*.csv")}
    # Pôle emploi's flux (§4.3) are not manager imports.
    assert csv_files - set(FILE_KINDS) == {"actions_example.csv",
                                           "i03300c.j.extract_spie_carnet_spie_carnet_de_bord_principal.csv"}


def test_every_missing_mandatory_column_is_named_in_one_message() -> None:
    header_map = match_header("beneficiaries", ["Identifiant dans le SI*", "Nom*", "Email", "Couleur préférée", ""])
    assert header_map.missing == ("Prénom", "Date de naissance")
    assert header_map.problem == ("Les colonnes obligatoires « Prénom », « Date de naissance » sont absentes de la "
                                  "ligne d'en-tête : ajoutez-les (voir le modèle de fichier).")
    assert header_map.unknown == ("Couleur préférée",)
    assert header_map.warnings == ["Colonnes inconnues, ignorées : « Couleur préférée »."]
    single = match_header("orientation-managers", ["Prénom", "Nom"])
    assert single.problem == ("La colonne obligatoire « Courriel » est absente de la ligne d'en-tête : ajoutez-la "
                              "(voir le modèle de fichier).")


def test_headers_match_tolerantly_and_a_column_given_twice_is_refused() -> None:
    header_map = match_header("reorientations", ["PRENOM", "nom", "Date de naissance"])
    assert header_map.problem is None
    assert header_map.positions == {"firstname": 0, "lastname": 1, "date_of_birth": 2}
    twice = match_header("reorientations", ["Prénom", "nom", "Date de naissance", "NOM*", "Nom"])
    assert twice.problem == ("Colonnes présentes deux fois dans la ligne d'en-tête : « NOM », « Nom » ; gardez-en "
                             "une seule de chaque.")


def test_templates_list_every_column_with_a_star_on_the_mandatory_ones() -> None:
    assert KINDS["professionals"].template_header() == ["Courriel*", "Prénom*", "Nom*", "Téléphone", "Fonction"]
    # Re-imports overwrite variable fields only: a beneficiary's identity never changes through a file.
    identity = [c.field for c in KINDS["beneficiaries"].columns if c.scope == "identity"]
    assert identity == ["external_id", "firstname", "lastname", "date_of_birth", "structure_name", "referent_email"]


def test_beneficiaries_buggy_file_names_each_bad_cell() -> None:
    first, second, third = verdicts("import_beneficiaires_buggy.csv")
    assert messages(first) == [
        "La colonne « Date de naissance » est obligatoire : indiquez une valeur.",
        "« Téléphone » : « 071234567 » n'est pas un numéro de téléphone français valide (10 chiffres, par exemple "
        "06 12 34 56 78).",
    ]
    assert messages(second) == [
        "« Date de naissance » : « 19970-04-22 » n'est pas une date reconnue : formats acceptés AAAA-MM-JJ, "
        "JJ/MM/AAAA, JJ-MM-AAAA ou JJ.MM.AAAA."]
    assert isinstance(third, ValidRow)


def test_a_beneficiary_row_parsed_whole() -> None:
    row = verdicts("re_import_beneficiaires.csv")[0]
    assert isinstance(row, ValidRow) and row.warnings == ()
    assert row.values == {
        "external_id": "1234", "firstname": "Sophie", "lastname": "tifour", "date_of_birth": date(1982, 2, 1),
        "nir": "2000000000000", "place_of_birth": "Avignon", "mobile_numbers": ["+33601020304"],
        "email": "stifour@caramail.fr", "address1": "7 quai d'anjou", "address2": "Appartement 2",
        "postal_code": "61120", "city": "Livry-Gargan", "work_situation": "recherche_emploi",
        "caf_number": "2055990", "pe_number": "300002L", "right_rsa": "rsa_droit_ouvert_et_suspendu",
        "right_are": None, "right_ass": True, "right_bonus": False, "right_rqth": None,
        "rome_labels": ["Pontier élingueur / Pontière élingueuse (N1104)"], "education_level": "NV5",
        "structure_name": None, "referent_email": None,
    }


def test_every_v1_date_format_of_the_beneficiaries_file() -> None:
    rows = verdicts("import_beneficiaires_with_all_date_formats.csv")
    assert [r.values["date_of_birth"] for r in rows[1:]] == [date(1997, 4, 22)] * 3


def test_nir_keys_of_the_partial_file() -> None:
    rows = verdicts("import_beneficiaires_partial.csv")
    assert messages(rows[0]) == ["« NIR » : « 185077505612324 » : la clé (les 2 derniers chiffres) ne correspond "
                                 "pas au numéro ; vérifiez le NIR."]
    assert messages(rows[1]) == ["« NIR » : « 12345678901234 » n'est pas un NIR valide : il faut 13 caractères, "
                                 "ou 15 avec la clé (chiffres, 2A ou 2B pour la Corse)."]
    assert [r.values["nir"] for r in rows[2:]] == ["2000000000000", "1000000000000"]


def test_structures_buggy_file_gives_v1s_three_invalid_rows_in_french() -> None:
    rows = verdicts("import_structures_buggy.csv")
    assert isinstance(rows[0], ValidRow)
    assert rows[0].values["phones"] == ["+33601234567", "+33712345670"]
    assert rows[0].values["siret"] == "22930008201453"
    assert messages(rows[1]) == ["La colonne « Nom » est obligatoire : indiquez une valeur."]
    url = ("« Site web » : « carnetdebord.inclusion.beta.gouv.fr » n'est pas une adresse de site valide : elle doit "
           "commencer par https:// (par exemple https://www.exemple.fr).")
    assert messages(rows[2]) == [
        url,
        "« Courriel » : « contact@cd93 » n'est pas une adresse e-mail valide (par exemple nom@domaine.fr).",
        "« Siret » : « 12312312312311 » n'est pas un SIRET valide : sa clé de contrôle ne correspond pas ; vérifiez "
        "les 14 chiffres.",
        "« Courriel responsable » : « ruben.delamare.cd93.fr » n'est pas une adresse e-mail valide (par exemple "
        "nom@domaine.fr).",
    ]
    assert messages(rows[3]) == [
        url,
        "La colonne « Courriel responsable » est obligatoire : indiquez une valeur.",
        "« Téléphones responsable » : « 999999 » n'est pas un numéro de téléphone français valide (10 chiffres, par "
        "exemple 06 12 34 56 78).",
    ]


def test_structures_without_the_optional_siret_column_are_all_valid() -> None:
    rows = verdicts("import_structures_missing_key.csv")
    assert all(isinstance(r, ValidRow) for r in rows) and len(rows) == 2
    assert rows[1].values["siret"] is None and rows[1].values["admin_email"] == "zoe.lacaze@cd93.fr"


def test_orientation_managers_first_and_last_names_are_no_longer_swapped() -> None:
    good, other, missing, bad = verdicts("import_charges_orientation.csv")
    assert (good.values["firstname"], good.values["lastname"]) == ("Woirnesse", "La Réunion")
    assert other.values["phones"] == ["+33612345670", "+33812345670"]
    assert messages(missing) == ["La colonne « Courriel » est obligatoire : indiquez une valeur."]
    assert messages(bad) == ["« Courriel » : « @toto » n'est pas une adresse e-mail valide (par exemple "
                             "nom@domaine.fr)."]


def test_professionals_with_v1s_lowercase_headers() -> None:
    salome, _ = verdicts("import_professionnels.csv")
    assert salome.values == {"email": "salome@cd26.fr", "firstname": "Salomé", "lastname": "Légase",
                             "mobile_number": "+33901234567", "position": "Conseillère en insertion"}


def test_referents_from_the_pending_beneficiaries_file() -> None:
    (row,) = verdicts("beneficiaires_en_attente.csv")
    assert str(row.values["notebook_id"]) == "4e6157e1-c2ef-48a6-a05c-8d3bda831169"
    assert (row.values["firstname"], row.values["lastname"]) == ("Myrna", "Henderson")
    assert row.values["referent_emails"] == ["pierre.chevalier@livry-gargan.fr"]


def test_reorientations() -> None:
    (row,) = verdicts("import_reorientation_change_referent_same_structure.csv")
    assert row.values == {"firstname": "Dee", "lastname": "Jennings", "date_of_birth": date(1974, 1, 8),
                          "referents_to_add": ["bienvenu.lejeune@mission-locale.fr"],
                          "referents_to_remove": ["edith.orial@interlogement93.fr"],
                          "structure_names": ["Interlogement 93"]}


@pytest.mark.parametrize("cells, message", [
    (["Dee (Dédé)", "Jennings", "08/01/1974"],
     "« Prénom » : Les parenthèses ne sont pas autorisées dans les noms ; retirez-les."),
    (["", "Jennings", "08/01/1974"], "La colonne « Prénom » est obligatoire : indiquez une valeur."),
    (["Dee", "Jennings", "08/01/1974", "x@"],
     "« Accompagnateurs à ajouter » : « x@ » n'est pas une adresse e-mail valide (par exemple nom@domaine.fr)."),
])
def test_reorientation_rows_refused(cells: list[str], message: str) -> None:
    header_map = match_header("reorientations", read("import_reorientation_change_structure.csv")[0])
    assert messages(validate_row("reorientations", header_map, cells)) == [message]


def test_yes_no_and_codes_of_a_beneficiary_row() -> None:
    header = ["Identifiant dans le SI", "Prénom", "Nom", "Date de naissance", "Droits ARE", "Situation",
              "Niveau de formation", "Droits RSA"]
    header_map = match_header("beneficiaries", header)
    warned = validate_row("beneficiaries", header_map, ["1", "Léa", "Martin", "44927", "Peut-être", "Scolarise",
                                                        "nv4", "rsa_clos"])
    assert isinstance(warned, ValidRow)
    assert [w.message for w in warned.warnings] == [
        "« Droits ARE » : « Peut-être » n'est ni Oui ni Non : la valeur est laissée vide (écrivez Oui, O, Non ou N)."]
    assert (warned.values["date_of_birth"], warned.values["right_are"], warned.values["work_situation"],
            warned.values["education_level"]) == (date(2023, 1, 1), None, "scolarisé", "NV4")
    refused = validate_row("beneficiaries", header_map, ["1", "Léa", "Martin", "01/01/1990", "", "chômage", "NV9",
                                                         "ouvert"])
    assert [e.column for e in refused.errors] == ["Situation", "Droits RSA", "Niveau de formation"]
    assert refused.errors[2].message.startswith("« Niveau de formation » : « NV9 » n'est pas un niveau de formation "
                                                "connu : valeurs acceptées AFS, C12, C3A")


def test_a_row_longer_than_the_header_is_refused_not_shifted() -> None:
    """A « ; » inside an unquoted value shifts every later cell one column to the right: the row must not be
    saved with its city in the address and its last value dropped."""
    header = ["Identifiant dans le SI", "Prénom", "Nom", "Date de naissance", "Adresse", "Adresse (complément)",
              "Ville"]
    header_map = match_header("beneficiaries", header)
    shifted = validate_row("beneficiaries", header_map, ["1", "Jean", "Dupont", "01/01/1980", "3 rue X", " bât B",
                                                         "Appt 2", "Paris"])
    assert messages(shifted) == [
        "Cette ligne a plus de cellules que la ligne d'en-tête n'a de colonnes (8 au lieu de 7) : une valeur "
        "contient sans doute le séparateur et décale les suivantes. Mettez-la entre guillemets ou retirez le "
        "séparateur."]
    assert isinstance(validate_row("beneficiaries", header_map, ["1", "Jean", "Dupont", "01/01/1980", "3 rue X",
                                                                 "bât B", "Paris"]), ValidRow)
