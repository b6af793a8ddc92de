"""Checks of what managers type, with the French messages they read."""
from __future__ import annotations

from servicekit.contact import normalise_email, normalise_phone
from servicekit.errors import Invalid
from servicekit.identifiers import siret_is_valid

SIRET_INVALID = "Le SIRET doit compter 14 chiffres et sa clé de contrôle doit être juste : vérifiez-le sur l'avis de situation."
EMAIL_INVALID = "L'adresse e-mail « {value} » n'est pas valide. Vérifiez qu'elle a la forme prenom.nom@exemple.fr."
PHONE_INVALID = "Le numéro de téléphone « {value} » n'est pas valide. Saisissez un numéro français, par exemple 01 23 45 67 89."
REQUIRED = "Ce champ est obligatoire : {label}."
POSTAL_CODE_INVALID = "Le code postal doit compter 5 chiffres."
DEPARTMENT_CODE_INVALID = "Le code du département doit être 2A, 2B, deux ou trois chiffres (par exemple 93 ou 974)."


def clean_siret(value: str) -> str:
    siret = "".join(value.split())
    if siret and not siret_is_valid(siret):
        raise Invalid(SIRET_INVALID, details={"field": "siret"})
    return siret


def required(value: str, field: str, label: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(REQUIRED.format(label=label), details={"field": field})
    return value


def clean_email(value: str, field: str = "email", *, optional: bool = False) -> str:
    if optional and not value.strip():
        return ""
    email = normalise_email(value)
    if email is None:
        raise Invalid(EMAIL_INVALID.format(value=value.strip()), details={"field": field})
    return email


def clean_phone(value: str, field: str = "phone") -> str:
    if not value.strip():
        return ""
    phone = normalise_phone(value)
    if phone is None:
        raise Invalid(PHONE_INVALID.format(value=value.strip()), details={"field": field})
    return phone


def clean_postal_code(value: str) -> str:
    code = value.strip()
    if code and not (len(code) == 5 and code.isdigit()):
        raise Invalid(POSTAL_CODE_INVALID, details={"field": "postal_code"})
    return code


def clean_department_code(value: str) -> str:
    code = value.strip().upper()
    if not (code in ("2A", "2B") or (code.isdigit() and len(code) in (2, 3))):
        raise Invalid(DEPARTMENT_CODE_INVALID, details={"field": "department_code"})
    return code
