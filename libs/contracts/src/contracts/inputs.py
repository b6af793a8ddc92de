"""One set of input rules for every request, the same on SQLite and PostgreSQL, and their French messages.

A value the database cannot hold (a NUL byte on PostgreSQL, an offset past int64, a year past 9999 once in
UTC) must be refused here with a 4xx naming the field, never reach the database and come back as a 500.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

MAX_OFFSET = 1_000_000
MAX_VERSION = 2**31 - 1  # versions are int columns: past this, PostgreSQL and SQLite fail differently
APPOINTMENT_YEARS = (2000, 2100)
FIRST_BIRTH_DATE = date(1900, 1, 1)
MULTI_LINE = {"\t", "\n", "\r"}
# Unicode's Cc (NUL and the other control characters) and Cs (lone surrogates, which no database can encode in
# UTF-8), as one character class: checked on every text field of every row of an import, where a lookup of each
# character's category cost more than the rest of the field's validation (a test compares it with the categories).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _control_characters(value: str, allowed: set[str]) -> str:
    if any(c not in allowed for c in CONTROL.findall(value)):
        raise PydanticCustomError("control_characters", "contient des caractères de contrôle")
    return value


def _one_line(value: str) -> str:
    return _control_characters(value, set())


def _multi_line(value: str) -> str:
    return _control_characters(value, MULTI_LINE)


def _postal_code(value: str) -> str:
    if value and not (len(value) == 5 and value.isascii() and value.isdigit()):
        raise PydanticCustomError("postal_code", "5 chiffres attendus")
    return value


def _website(value: str) -> str:
    lowered = value.lower()
    if value and not (lowered.startswith(("http://", "https://")) and len(value.split("://", 1)[1]) > 0):
        raise PydanticCustomError("website", "adresse en http:// ou https:// attendue")
    return value


def _appointment_time(value: datetime) -> datetime:
    # The local year, without converting to UTC: 0001-01-01T00:00+14:00 would overflow on the way.
    if not APPOINTMENT_YEARS[0] <= value.year <= APPOINTMENT_YEARS[1]:
        raise PydanticCustomError("appointment_range", "entre {low} et {high} attendue",
                                  {"low": APPOINTMENT_YEARS[0], "high": APPOINTMENT_YEARS[1]})
    return value


def _birth_date(value: date) -> date:
    if value > date.today():
        raise PydanticCustomError("birth_date_future", "ne peut pas être dans le futur")
    if value < FIRST_BIRTH_DATE:
        raise PydanticCustomError("birth_date_past", "antérieure à 1900")
    return value


# Names, cities, emails, search words: one line, no control characters.
Line = Annotated[str, AfterValidator(_one_line)]
# Free text written by people (a reason, a description): tabs and new lines allowed, other controls not.
Text = Annotated[str, AfterValidator(_multi_line)]
# Empty (not given) or five digits.
PostalCode = Annotated[str, Field(max_length=5), AfterValidator(_postal_code)]
# Empty or an http(s) address: never javascript:, data: or a file path shown as a link.
Website = Annotated[str, Field(max_length=300), AfterValidator(_one_line), AfterValidator(_website)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
# With its time zone (a naive time is ambiguous around DST changes), within sane years.
AppointmentTime = Annotated[AwareDatetime, AfterValidator(_appointment_time)]
BirthDate = Annotated[date, AfterValidator(_birth_date)]


# --- French messages ---------------------------------------------------------------------------------

FIELD_LABELS = {
    "firstname": "Le prénom", "lastname": "Le nom", "email": "L'adresse e-mail", "new_email": "L'adresse e-mail",
    "phone": "Le téléphone", "mobile_number": "Le téléphone portable", "position": "La fonction",
    "name": "Le nom", "label": "Le nom du territoire", "department_code": "Le code du département",
    "siret": "Le SIRET", "short_desc": "La description", "address1": "L'adresse", "address2": "Le complément d'adresse",
    "postal_code": "Le code postal", "city": "La ville", "website": "Le site internet",
    "structure_name": "Le nom de la structure", "date_of_birth": "La date de naissance",
    "place_of_birth": "Le lieu de naissance", "nir": "Le NIR", "caf_number": "Le numéro CAF",
    "pe_number": "L'identifiant France Travail", "external_id": "L'identifiant externe",
    "rsa_suspension_reason": "Le motif de suspension du RSA", "rsa_closure_reason": "Le motif de clôture du RSA",
    "rsa_closure_date": "La date de clôture du RSA", "at": "La date du rendez-vous", "reason": "Le motif",
    "theme": "La thématique", "target": "L'objectif", "action": "L'action", "starting_at": "La date de début",
    "status": "Le statut", "role": "Le rôle", "q": "La recherche", "offset": "Le décalage",
    "limit": "Le nombre de résultats",
    "version": "La version", "code": "Le code", "token": "Le jeton", "refresh_token": "Le jeton",
    "recipient": "Le destinataire", "timeline_kind": "Le type d'historique", "kind": "Le type",
    "rome_code": "Le métier recherché", "mobility_radius_km": "Le rayon de mobilité",
    "hourly_rate_cents": "Le salaire horaire", "orientation_type": "Le type d'orientation",
    "structure_id": "La structure", "person_id": "La personne", "notebook_id": "Le carnet",
    "orientation_system_id": "Le dispositif", "deployment_id": "Le territoire", "referent_id": "Le référent",
    "structure_ids": "Les structures", "orientation_system_ids": "Les dispositifs",
    "work_situation_date": "La date de la situation", "work_situation_end_date": "La date de fin de la situation",
    "last_job_ended_at": "La date de fin du dernier emploi", "frequency": "La fréquence",
    "notebook_ids": "La sélection de carnets",
    # Page forms parsed by the API's body models (issue 20 item 3) name these fields too.
    "accepted": "La décision", "answer": "La réponse", "addressed_to": "Les destinataires", "text": "Le message",
    "as_referent": "Le choix de référent", "assessment": "L'appréciation", "next_steps": "Les prochaines étapes",
    "bilan_date": "La date du bilan", "beneficiary_commitments": "Les engagements du bénéficiaire",
    "referent_commitments": "Les engagements du référent", "comment": "Le commentaire",
    "decided_on": "La date de la décision", "validated": "La décision", "start_date": "La date de début",
    "end_date": "La date de fin", "ended_on": "La date de fin", "signed_on": "La date de signature",
    "renewed_from": "Le contrat renouvelé", "deployment_ids": "Les territoires", "partner": "Le partenaire",
    "field": "L'information concernée", "wanted": "La correction souhaitée", "linked_to": "Le lien",
    "user_consent": "L'accord du bénéficiaire", "mentions": "Les personnes mentionnées",
    "shared_with_beneficiary": "Le partage avec le bénéficiaire", "shared": "Le partage avec le territoire",
    "months": "La durée de conservation (en mois)", "until": "La date de fin", "to_deployment_id": "Le territoire",
    "list_name": "La liste", "format": "Le format", "filters": "Les filtres", "query_id": "La requête",
    "exclude_rows": "Les lignes exclues",
    "right_rsa": "Le droit RSA", "right_are": "Le droit ARE", "right_ass": "Le droit ASS",
    "right_bonus": "La prime d'activité", "right_rqth": "La RQTH",
    "subject_to_right_and_duty": "« Soumis aux droits et devoirs »", "notification_channels": "Les moyens d'être prévenu",
    "work_situation": "La situation actuelle", "education_level": "Le niveau d'étude", "projects": "Les projets",
    "contract_type": "Le type de contrat", "employment_type": "La durée du temps de travail",
    "situation_ids": "Les situations", "sensitive": "« Structure sensible »", "remove_previous": "Le choix de l'ancien référent",
    "event_types": "Les événements", "url": "L'adresse", "list": "La liste",
    # The beneficiaries' filter builder (pilotage).
    "action_statuses": "Le statut des actions", "cer_states": "L'état du CER", "cer_days_min": "Le délai minimum",
    "cer_days_max": "Le délai maximum", "cer_end_from": "La fin du CER à partir du", "cer_end_to": "La fin du CER jusqu'au",
    "created_from": "Créé à partir du", "created_to": "Créé jusqu'au", "last_activity_from": "Dernière activité à partir du",
    "last_activity_to": "Dernière activité jusqu'au", "orientation_days_min": "Le délai minimum d'orientation",
    "orientation_days_max": "Le délai maximum d'orientation", "origins": "La provenance",
    "referent_ids": "Les référents", "other_than_referent_ids": "Les référents exclus",
    "reorientation_from": "Demande de réorientation à partir du", "reorientation_to": "Demande de réorientation jusqu'au",
    "rsa_rights": "Le droit RSA", "support": "L'accompagnement", "themes": "Les thématiques",
    "without_structure": "« Sans structure »",
}
LOCATIONS = {"body", "query", "path", "header", "cookie"}

MESSAGES = {
    "missing": "{label} est obligatoire.",
    "string_too_long": "{label} : {max_length} caractères au plus.",
    "string_too_short": "{label} : {min_length} caractères au moins.",
    "too_long": "{label} : {max_length} éléments au plus.",
    "too_short": "{label} : {min_length} éléments au moins.",
    "greater_than_equal": "{label} : {ge} au moins.",
    "greater_than": "{label} : plus de {gt}.",
    "less_than_equal": "{label} : {le} au plus.",
    "less_than": "{label} : moins de {lt}.",
    "int_parsing": "{label} doit être un nombre entier.",
    "int_type": "{label} doit être un nombre entier.",
    "int_from_float": "{label} doit être un nombre entier.",
    "string_type": "{label} doit être du texte.",
    "bool_parsing": "{label} doit valoir vrai ou faux.",
    "bool_type": "{label} doit valoir vrai ou faux.",
    "uuid_parsing": "{label} n'est pas un identifiant valide.",
    "uuid_type": "{label} n'est pas un identifiant valide.",
    "enum": "{label} : valeur inconnue.",
    "literal_error": "{label} : valeur inconnue.",
    "string_pattern_mismatch": "{label} : valeur inconnue.",
    "date_parsing": "{label} n'est pas une date valide (AAAA-MM-JJ).",
    "date_from_datetime_parsing": "{label} n'est pas une date valide (AAAA-MM-JJ).",
    "date_type": "{label} n'est pas une date valide (AAAA-MM-JJ).",
    "datetime_parsing": "{label} n'est pas une date et heure valide.",
    "datetime_from_date_parsing": "{label} n'est pas une date et heure valide.",
    "datetime_type": "{label} n'est pas une date et heure valide.",
    "timezone_aware": "{label} doit préciser son fuseau horaire (par exemple 2030-01-01T10:00:00+01:00).",
    "control_characters": "{label} contient des caractères de contrôle.",
    "string_unicode": "{label} contient des caractères invalides.",
    "postal_code": "{label} doit comporter 5 chiffres.",
    "website": "{label} doit commencer par http:// ou https://.",
    "appointment_range": "{label} doit être entre {low} et {high}.",
    "birth_date_future": "{label} ne peut pas être dans le futur.",
    "birth_date_past": "{label} ne peut pas être antérieure à 1900.",
    "id_mismatch": "{label} : l'identifiant du corps diffère de celui de l'adresse.",
    "model_attributes_type": "La demande doit être un objet JSON.",
    "dict_type": "{label} doit être un objet JSON.",
    "list_type": "{label} doit être une liste.",
    "json_invalid": "Le corps de la demande n'est pas du JSON valide.",
    "extra_forbidden": "{label} n'est pas attendu.",
    "too_many_notebooks": ("Une décision d'orientation porte sur {max} carnets au plus : {count} sont sélectionnés. "
                           "Sélectionnez-en moins."),
}
# A field whose pattern is a rule of its own (not a list of values, which « valeur inconnue » says): what to write.
FIELD_MESSAGES = {
    ("partner", "string_pattern_mismatch"): ("Le partenaire : un nom de 2 à 31 lettres minuscules sans accent ou "
                                             "chiffres, sans espace, commençant par une lettre (par exemple rdvi)."),
}
DEFAULT_MESSAGE = "{label} n'est pas valide."
# A plural label (« Les destinataires ») takes the plural of the messages' verbs.
PLURAL_VERBS = (
    (" n'est pas un identifiant valide", " ne sont pas des identifiants valides"),
    (" n'est pas une date valide", " ne sont pas des dates valides"),
    (" n'est pas une date et heure valide", " ne sont pas des dates et heures valides"),
    (" n'est pas attendu", " ne sont pas attendus"), (" n'est pas valide", " ne sont pas valides"),
    (" est obligatoire", " sont obligatoires"), (" doit ", " doivent "), (" contient ", " contiennent "),
    (" ne peut pas ", " ne peuvent pas "),
)


def agreeing(template: str, label: str) -> str:
    if label.startswith("Les "):
        for singular, plural in PLURAL_VERBS:
            template = template.replace(singular, plural)
    return template


def field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """The field an error is about: the last part of its location that names a field, not a list index."""
    names = [str(part) for part in loc if isinstance(part, str) and part not in LOCATIONS]
    known = [name for name in names if name in FIELD_LABELS]
    return known[-1] if known else (names[-1] if names else "")


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or (f"Le champ « {name} »" if name else "La demande")


def field_message(error: dict[str, Any]) -> str:
    """One pydantic error (``ValidationError.errors()`` or FastAPI's) in French, naming the field."""
    name = field_name(error.get("loc", ()))
    label = field_label(name)
    template = FIELD_MESSAGES.get((name, error.get("type", ""))) or agreeing(
        MESSAGES.get(error.get("type", ""), DEFAULT_MESSAGE), label)
    try:
        return template.format(label=label, **(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return agreeing(DEFAULT_MESSAGE, label).format(label=label)


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an error envelope's ``details.fields`` says: location, pydantic type and the French message."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type", ""), "message": field_message(e)}
            for e in errors]


def invalid_message(fields: list[dict[str, Any]]) -> str:
    """The envelope's message: every distinct field message, in order (the first few)."""
    messages = list(dict.fromkeys(f["message"] for f in fields))
    return " ".join(messages[:5]) or "La demande est mal formée."
