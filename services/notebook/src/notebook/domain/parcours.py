"""Rules of the parcours (work axes → objectives → actions) and of the référent, free of storage."""
from __future__ import annotations

from contracts.notebook import ActionStatus, ContractLink, MemberType, TargetStatus
from servicekit.errors import Conflict, Invalid

CONSENT_REQUIRED = ("Le consentement du bénéficiaire est obligatoire lorsque l'objectif est associé à un contrat.")
REASON_REQUIRED = "Indiquez pourquoi cet objectif est abandonné."
REFERENT_CANNOT_LEAVE = ("Le référent ne peut pas se détacher du carnet : un autre professionnel doit d'abord "
                         "devenir référent.")
NO_ORIENTATION_SYSTEM = ("Pour être référent, choisissez un dispositif d'accompagnement pour lequel vous êtes "
                         "habilité. Si vous n'en avez aucun, demandez-le au gestionnaire de votre structure.")
EDITED_MEANWHILE = ("Quelqu'un a modifié cet élément pendant que vous le modifiiez. Voici la version actuelle : "
                    "vérifiez-la, puis refaites vos changements.")

# Statuses after which an action or objective is over (shown apart in the page and the history).
CLOSED_ACTION_STATUSES = frozenset({ActionStatus.done, ActionStatus.abandoned, ActionStatus.canceled})


def check_consent(linked_to: ContractLink, user_consent: bool) -> None:
    if linked_to != ContractLink.no and not user_consent:
        raise Invalid(CONSENT_REQUIRED, details={"field": "user_consent"})


def check_target_change(status: TargetStatus, reason: str) -> None:
    if status == TargetStatus.abandoned and not reason.strip():
        raise Invalid(REASON_REQUIRED, details={"field": "reason"})


def check_version(current: int, read: int, current_state: dict) -> None:
    """Optimistic concurrency: the caller must have read the version being replaced."""
    if current != read:
        raise Conflict(EDITED_MEANWHILE, details={"version": current, "current": current_state})


def check_can_leave(member_type: MemberType) -> None:
    if member_type == MemberType.referent:
        raise Conflict(REFERENT_CANNOT_LEAVE)


def check_referent_system(chosen: object | None, person) -> None:
    """``person`` holds orientation systems (``holds``): the référent's must be one of them."""
    if chosen is None or not person.holds(chosen):
        raise Invalid(NO_ORIENTATION_SYSTEM, details={"field": "orientation_system_id"})
