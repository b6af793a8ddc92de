"""The contract (CER, contrat d'engagement réciproque) as a state machine, and its rules, free of storage.

draft → submitted → validated → signed (active from its start to its end date) → ended or renewed; a submitted CER
returned with a reason goes back to draft. PPAE, CEJ and PACEA are recorded already signed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from contracts.notebook import ContractLink, ContractStatus
from servicekit.errors import Conflict, Invalid

NOT_A_DRAFT = "Ce contrat n'est plus un brouillon : il ne peut plus être modifié."
NOT_SUBMITTED = "Ce contrat n'a pas été soumis à validation : il ne peut pas être validé ni renvoyé."
NOT_VALIDATED = "Ce contrat doit d'abord être validé pour être signé."
NOT_SIGNED = "Seul un contrat signé peut prendre fin ou être renouvelé."
DATES_REQUIRED = "Indiquez les dates de début et de fin du contrat."
END_BEFORE_START = "La date de fin du contrat doit être postérieure à sa date de début."
DATE_OUT_OF_RANGE = "Cette date n'est pas plausible : vérifiez l'année."
RETURN_REASON_REQUIRED = "Indiquez pourquoi le contrat est renvoyé au référent."
ANOTHER_ACTIVE = "Ce carnet a déjà un CER en vigueur sur cette période : un seul CER peut être actif à la fois."
ANOTHER_IN_PROGRESS = "Un CER est déjà en cours d'élaboration sur ce carnet : reprenez-le plutôt que d'en créer un autre."
SIGNED_IN_FUTURE = "La date de signature ne peut pas être dans le futur."
NOT_A_CER = "Seul un CER se prépare dans l'outil ; les autres contrats sont enregistrés avec leurs dates."
ONLY_OTHER_KINDS = "Choisissez un PPAE, un CEJ ou un PACEA : le CER se prépare depuis « Préparer un CER »."
END_BEFORE_SIGNATURE = "La date de fin ne peut pas précéder la signature du contrat."

# A CER being written, sent or validated: one at a time per notebook (a partial unique index says it too).
# A contract is read by the beneficiary's whole follow-up and its validators: no health information goes in it
# (the CER page says so), so its draft leaves out the diagnostic's situations of these themes.
THEMES_LEFT_OUT_OF_CONTRACTS = frozenset({"sante"})

IN_PROGRESS = frozenset({ContractStatus.draft, ContractStatus.submitted, ContractStatus.validated})
OTHER_KINDS = frozenset({ContractLink.ppae, ContractLink.cej, ContractLink.pacea})
REMINDER_DAYS = 30
PLAUSIBLE_YEARS = (2000, 2100)
STATUS_LABELS = {ContractStatus.draft: "Brouillon", ContractStatus.submitted: "En attente de validation",
                 ContractStatus.validated: "Validé, à signer", ContractStatus.signed: "Signé",
                 ContractStatus.ended: "Terminé", ContractStatus.renewed: "Renouvelé"}
KIND_LABELS = {ContractLink.cer: "Contrat d'Engagement Réciproque (CER)",
               ContractLink.cej: "Contrat d'Engagement Jeune (CEJ)",
               ContractLink.ppae: "Projet Personnalisé d'Accès à l'Emploi (PPAE)",
               ContractLink.pacea: "Parcours contractualisé d'Accompagnement vers l'Emploi et l'Autonomie (PACEA)",
               ContractLink.no: "Aucun"}


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None  # None: open-ended ("durée indéterminée")

    def overlaps(self, other: Period) -> bool:
        far = date.max
        return (self.start or date.min) <= (other.end or far) and (other.start or date.min) <= (self.end or far)

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


def check_date(value: date | None, field: str) -> None:
    if value is not None and not PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]:
        raise Invalid(DATE_OUT_OF_RANGE, details={"field": field})


def check_dates(start: date | None, end: date | None, *, required: bool = False) -> None:
    """End after start; both needed to submit a CER (a draft may leave them empty)."""
    check_date(start, "start_date")
    check_date(end, "end_date")
    if required and (start is None or end is None):
        raise Invalid(DATES_REQUIRED, details={"field": "start_date" if start is None else "end_date"})
    if start is not None and end is not None and end <= start:
        raise Invalid(END_BEFORE_START, details={"field": "end_date"})


def check_editable(status: ContractStatus) -> None:
    if status != ContractStatus.draft:
        raise Conflict(NOT_A_DRAFT, details={"status": status.value})


def check_can_submit(status: ContractStatus, start: date | None, end: date | None) -> ContractStatus:
    check_editable(status)
    check_dates(start, end, required=True)
    return ContractStatus.submitted


def decide(status: ContractStatus, validated: bool, comment: str) -> ContractStatus:
    """Validated, or returned to draft with a reason; nothing is validated without being submitted first."""
    if status != ContractStatus.submitted:
        raise Conflict(NOT_SUBMITTED, details={"status": status.value})
    if not validated and not comment.strip():
        raise Invalid(RETURN_REASON_REQUIRED, details={"field": "comment"})
    return ContractStatus.validated if validated else ContractStatus.draft


def check_signature(status: ContractStatus, signed_on: date, today: date) -> ContractStatus:
    if status != ContractStatus.validated:
        raise Conflict(NOT_VALIDATED, details={"status": status.value})
    check_date(signed_on, "signed_on")
    if signed_on > today:
        raise Invalid(SIGNED_IN_FUTURE, details={"field": "signed_on"})
    return ContractStatus.signed


def check_no_other_active(period: Period, others: list[Period]) -> None:
    """No two CER in force at the same time: a signed one's period must not overlap another signed one's."""
    if any(period.overlaps(other) for other in others):
        raise Conflict(ANOTHER_ACTIVE)


def check_can_end(status: ContractStatus, ended_on: date, signed_on: date | None) -> ContractStatus:
    if status != ContractStatus.signed:
        raise Conflict(NOT_SIGNED, details={"status": status.value})
    check_date(ended_on, "ended_on")
    if signed_on is not None and ended_on < signed_on:
        raise Invalid(END_BEFORE_SIGNATURE, details={"field": "ended_on"})
    return ContractStatus.ended


def check_can_renew(kind: ContractLink, status: ContractStatus) -> None:
    if kind != ContractLink.cer:
        raise Invalid(NOT_A_CER, details={"field": "renewed_from"})
    if status not in (ContractStatus.signed, ContractStatus.ended):
        raise Conflict(NOT_SIGNED, details={"status": status.value})


def renewal_period(previous: Period) -> Period:
    """A renewal starts the day after the previous CER ends, for as long as it lasted."""
    if previous.start is None or previous.end is None:
        return Period(None, None)
    start = previous.end + timedelta(days=1)
    return Period(start, start + (previous.end - previous.start))


def check_other_kind(kind: ContractLink, signed_on: date, start: date, end: date | None) -> None:
    if kind not in OTHER_KINDS:
        raise Invalid(ONLY_OTHER_KINDS, details={"field": "kind"})
    check_date(signed_on, "signed_on")
    check_dates(start, end)


def is_active(status: ContractStatus, period: Period, today: date) -> bool:
    return status == ContractStatus.signed and period.covers(today)


def reminder_due(end: date | None, today: date) -> bool:
    """Whether the référent should hear now that the CER ends soon (within ``REMINDER_DAYS``)."""
    return end is not None and today <= end <= today + timedelta(days=REMINDER_DAYS)


def changed_fields(before: dict, after: dict) -> list[str]:
    return sorted(key for key in after if before.get(key) != after.get(key))
