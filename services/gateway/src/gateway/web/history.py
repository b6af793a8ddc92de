"""A history entry's changes as a French reader wants them: « Téléphone : 06 12 34 56 78 → 06 98 76 54 32 »,
« Statut de l'action : En projet → En cours ». The notebook sends the stored values (codes, ISO dates,
E.164 phones) and None for a secret identifier, which reads « modifié »."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from contracts.notebook import TimelineEntry
from gateway.web import formatting, labels

FIELD_LABELS = {
    "firstname": "Prénom", "lastname": "Nom", "date_of_birth": "Date de naissance",
    "place_of_birth": "Lieu de naissance", "email": "Courriel", "mobile_number": "Téléphone",
    "address1": "Adresse", "address2": "Complément d'adresse", "postal_code": "Code postal", "city": "Ville",
    "nir": "Numéro de sécurité sociale", "caf_number": "Identifiant CAF/MSA", "pe_number": "Identifiant France Travail",
    "external_id": "Identifiant dans le SI", "right_rsa": "Droit RSA", "right_are": "ARE", "right_ass": "ASS",
    "right_bonus": "Prime d'activité", "rsa_suspension_reason": "Motif de suspension du RSA",
    "rsa_closure_reason": "Motif de clôture du RSA", "rsa_closure_date": "Date de clôture du RSA",
    "subject_to_right_and_duty": "Soumis aux droits et devoirs", "notification_channels": "Moyens d'être prévenu",
    # the diagnostic
    "work_situation": "Situation actuelle", "work_situation_date": "Situation depuis le",
    "work_situation_end_date": "Situation jusqu'au", "right_rqth": "RQTH", "education_level": "Niveau d'étude",
    "last_job_ended_at": "Date de fin du dernier emploi",
    # objectives
    "linked_to": "Contrat lié", "user_consent": "Engagement du bénéficiaire",
}
STATUS_LABELS = {"target": ("Statut de l'objectif", labels.TARGET_STATUS),
                 "action": ("Statut de l'action", labels.ACTION_STATUS)}
VALUE_LABELS = {"right_rsa": labels.RIGHT_RSA, "work_situation": labels.WORK_SITUATION,
                "education_level": labels.EDUCATION_LEVEL, "linked_to": labels.CONTRACT_LINK}
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
EMPTY = "non renseigné"


@dataclass(frozen=True)
class ShownChange:
    label: str
    before: str
    after: str
    secret: bool = False  # only « modifié » is shown


def value_of(field: str, value: str, value_labels: dict[str, str] | None) -> str:
    if not value:
        return EMPTY
    if value_labels and value in value_labels:
        return value_labels[value]
    if value in ("True", "False"):
        return "oui" if value == "True" else "non"
    if field == "mobile_number":
        return formatting.phone(value)
    if ISO_DAY.fullmatch(value):
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    return value


def changes_of(entry: TimelineEntry) -> list[ShownChange]:
    shown = []
    for change in entry.changes:
        if change.field == "status" and entry.kind in STATUS_LABELS:
            label, value_labels = STATUS_LABELS[entry.kind]
        else:
            label, value_labels = FIELD_LABELS.get(change.field, change.field), VALUE_LABELS.get(change.field)
        if change.before is None or change.after is None:
            shown.append(ShownChange(label, "", "", secret=True))
        else:
            shown.append(ShownChange(label, value_of(change.field, change.before, value_labels),
                                     value_of(change.field, change.after, value_labels)))
    return shown
