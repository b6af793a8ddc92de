"""Another territory: the transfer's state machine and the referral's rules, pure (no database, no clock).

A transfer is asked by a manager of the notebook's territory (the origin) for another known territory, one at a time
per notebook; it waits (``pending``) until a manager of the destination accepts it (the notebook and its history
move there) or refuses it with a reason (nothing moves). A referral lets a professional of another territory into
the group until a date: its access ends the day after, as it is read (no job needed).
"""
from __future__ import annotations

import uuid
from datetime import date

from contracts.identity import Role
from contracts.transfers import TransferStatus
from servicekit.errors import Conflict, Forbidden, Invalid

MAX_REFERRAL_DAYS = 366
REASON_REQUIRED = "Indiquez le motif du transfert (par exemple le déménagement du bénéficiaire)."
REFUSAL_REASON_REQUIRED = "Indiquez pourquoi vous refusez ce transfert."
SAME_TERRITORY = "Le carnet appartient déjà à ce territoire : choisissez un autre territoire."
UNKNOWN_TERRITORY = "Ce territoire n'existe pas sur Carnet de bord."
ALREADY_PENDING = "Un transfert de ce carnet attend déjà la décision du territoire de destination."
NOT_PENDING = "Ce transfert n'attend plus de décision."
ONLY_ORIGIN_MANAGERS = "Seuls les gestionnaires du territoire du carnet peuvent demander son transfert."
ONLY_DESTINATION_MANAGERS = "Seuls les gestionnaires du territoire de destination acceptent ou refusent ce transfert."
REFERRAL_IN_PAST = "La date de fin de l'accès doit être aujourd'hui ou plus tard."
REFERRAL_TOO_LONG = "Un accès temporaire dure au plus un an."
REFERRAL_SAME_TERRITORY = ("Ce professionnel travaille sur le territoire du carnet : rattachez-le au groupe de suivi "
                           "plutôt que de l'inviter.")
REFERRAL_NOT_A_PROFESSIONAL = "Seul un professionnel d'un autre territoire peut être invité pour un temps."
REFERRAL_PERSON_UNKNOWN = "Aucun professionnel actif ne correspond à cette adresse électronique."
REFERRAL_ONLY_MANAGERS = ("Seuls les gestionnaires du territoire du carnet invitent un professionnel d'un autre "
                          "territoire.")
INVITED_ROLES = frozenset({Role.professional, Role.orientation_manager})


def check_request(role: Role, caller_territory: uuid.UUID | None, origin: uuid.UUID, destination: uuid.UUID,
                  destination_known: bool, pending: bool, reason: str) -> TransferStatus:
    """Only the origin's managers ask; never for the same territory nor an unknown one; one pending at a time."""
    if role != Role.manager or caller_territory != origin:
        raise Forbidden(ONLY_ORIGIN_MANAGERS)
    if destination == origin:
        raise Invalid(SAME_TERRITORY, details={"field": "to_deployment_id"})
    if not destination_known:
        raise Invalid(UNKNOWN_TERRITORY, details={"field": "to_deployment_id"})
    if not reason.strip():
        raise Invalid(REASON_REQUIRED, details={"field": "reason"})
    if pending:
        raise Conflict(ALREADY_PENDING)
    return TransferStatus.pending


def check_decision(status: TransferStatus | None, role: Role, caller_territory: uuid.UUID | None,
                   destination: uuid.UUID, accepted: bool, reason: str) -> TransferStatus:
    """Only a manager of the destination decides, and only on a pending request; a refusal says why."""
    if role != Role.manager or caller_territory != destination:
        raise Forbidden(ONLY_DESTINATION_MANAGERS)
    if status != TransferStatus.pending:
        raise Conflict(NOT_PENDING, details={"status": status.value if status else None})
    if not accepted and not reason.strip():
        raise Invalid(REFUSAL_REASON_REQUIRED, details={"field": "reason"})
    return TransferStatus.accepted if accepted else TransferStatus.refused


def check_referral(role: Role, caller_territory: uuid.UUID | None, owner: uuid.UUID, person_role: Role | None,
                   person_territory: uuid.UUID | None, until: date, today: date) -> None:
    """A manager of the owner territory invites a professional of another territory, from today up to a year."""
    if role != Role.manager or caller_territory != owner:
        raise Forbidden(REFERRAL_ONLY_MANAGERS)
    if person_role is None:
        raise Invalid(REFERRAL_PERSON_UNKNOWN, details={"field": "email"})
    if person_role not in INVITED_ROLES:
        raise Invalid(REFERRAL_NOT_A_PROFESSIONAL, details={"field": "email"})
    if person_territory == owner:
        raise Invalid(REFERRAL_SAME_TERRITORY, details={"field": "email"})
    if until < today:
        raise Invalid(REFERRAL_IN_PAST, details={"field": "until"})
    if (until - today).days > MAX_REFERRAL_DAYS:
        raise Invalid(REFERRAL_TOO_LONG, details={"field": "until"})


def referral_active(until: date, ended: bool, today: date) -> bool:
    """Access lasts through ``until`` (Paris day), unless ended before."""
    return not ended and today <= until
