"""The beneficiaries' filters (contracts.pilotage.BeneficiaryFilters) in a URL or a form: the filter builder's GET
form, the drill-down links of the dashboards and the export form all use the field names of BeneficiaryFilters,
repeated keys for lists, booleans "1"/"0" and ISO dates; an empty field does not filter."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pydantic import ValidationError

from contracts.pilotage import BeneficiaryFilters
from servicekit.errors import Invalid

LABELS = {
    "structure_ids": "structures", "without_structure": "sans structure", "referent_ids": "référents",
    "orientation_system_ids": "dispositifs d'orientation", "support": "statut d'accompagnement",
    "rsa_rights": "droits RSA", "subject_to_right_and_duty": "soumis aux droits et devoirs",
    "cer_states": "état du CER", "cer_end_from": "fin du CER à partir du", "cer_end_to": "fin du CER jusqu'au",
    "last_activity_from": "dernière activité à partir du", "last_activity_to": "dernière activité jusqu'au",
    "themes": "thèmes", "created_from": "créé à partir du", "created_to": "créé jusqu'au",
    "origins": "provenance",
    "reorientation_from": "réorientation demandée à partir du", "reorientation_to": "réorientation demandée jusqu'au",
    "orientation_days_min": "délai d'orientation, à partir de (jours)",
    "orientation_days_max": "délai d'orientation, jusqu'à (jours)",
    "cer_days_min": "délai du premier CER, à partir de (jours)", "cer_days_max": "délai du premier CER, jusqu'à (jours)",
    "other_than_referent_ids": "autres référents que", "action_statuses": "statut de l'action",
}
FIELDS = tuple(BeneficiaryFilters.model_fields)
LIST_FIELDS = tuple(f for f in FIELDS if isinstance(getattr(BeneficiaryFilters(), f), list))
TRUE = {"1", "true", "on", "oui"}
FALSE = {"0", "false", "off", "non"}


def filters_to_query(filters: BeneficiaryFilters) -> str:
    """The query string of these filters (without "?"): only the filled fields, in the model's order."""
    pairs: list[tuple[str, str]] = []
    for field in FIELDS:
        value = getattr(filters, field)
        if isinstance(value, list):
            pairs.extend((field, _text(v)) for v in value)
        elif isinstance(value, bool):
            if field == "without_structure" and not value:
                continue  # False is its default: it does not filter
            pairs.append((field, "1" if value else "0"))
        elif value is not None:
            pairs.append((field, _text(value)))
    return urlencode(pairs)


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _values(multi_dict, field: str) -> list[str]:
    """Every non-empty value of ``field`` in a query string, a form, or a plain dict (of strings or lists)."""
    if hasattr(multi_dict, "getlist"):
        raw = multi_dict.getlist(field)
    else:
        value = multi_dict.get(field)
        raw = value if isinstance(value, list | tuple) else [] if value is None else [value]
    return [str(v).strip() for v in raw if v is not None and str(v).strip()]


def filters_from_query(multi_dict) -> BeneficiaryFilters:
    """The filters of a query string or a form post (other keys, such as csrf or format, are ignored). A bad value
    raises Invalid with a French message naming the field, so that the page can show it with nothing done."""
    data: dict[str, Any] = {}
    for field in FIELDS:
        values = _values(multi_dict, field)
        if field in LIST_FIELDS:
            if values:
                data[field] = values
            continue
        if not values:
            continue
        value = values[-1]
        if field in ("without_structure", "subject_to_right_and_duty"):
            if value.lower() in TRUE:
                data[field] = True
            elif value.lower() in FALSE:
                data[field] = False
            else:
                raise Invalid(f"Le champ « {LABELS[field]} » attend oui ou non.", details={"field": field})
        else:
            data[field] = value
    try:
        return BeneficiaryFilters.model_validate(data)
    except ValidationError as failure:
        error = failure.errors()[0]
        field = str(error["loc"][0]) if error.get("loc") else ""
        if field in LABELS:
            if error.get("type") == "too_long":
                message = f"Le champ « {LABELS[field]} » contient trop de choix."
            else:
                message = f"Le champ « {LABELS[field]} » contient une valeur invalide."
        else:  # a rule on several fields (a period ending before it starts): its own French message
            message = str(error.get("msg", "")).removeprefix("Value error, ") or "Les filtres sont invalides."
        raise Invalid(message, details={"field": field}) from None


def filter_fields(filters: BeneficiaryFilters) -> list[tuple[str, str]]:
    """The filters as (name, value) pairs: the hidden fields of a form that posts them again (save, export)."""
    return parse_qsl(filters_to_query(filters))


def has_filters(multi_dict) -> bool:
    """Whether a query string or form names any filter (empty fields do not count)."""
    return any(_values(multi_dict, field) for field in FIELDS)
