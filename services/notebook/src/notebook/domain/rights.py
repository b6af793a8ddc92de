"""The beneficiary's rights requests (RGPD art. 16 and 21), pure rules: what a request needs, its due date (one month
from its receipt, art. 12.3), who answers it, which are late or due soon, and in which order they are shown."""
from __future__ import annotations

import calendar
from datetime import date

from contracts.identity import Role
from contracts.rights import RightsRequestKind, RightsRequestState
from notebook.domain.habilitation import Relation
from servicekit.errors import Invalid

REMIND_DAYS = 7  # the référent and managers are reminded of an open request this many days before it is due
KIND_LABELS = {RightsRequestKind.rectification: "Demande de rectification",
               RightsRequestKind.objection: "Opposition au traitement"}
STATE_LABELS = {RightsRequestState.open: "en attente de réponse", RightsRequestState.accepted: "acceptée",
                RightsRequestState.refused: "refusée"}
FIELD_NEEDED = "Indiquez quelle information est à corriger."
TEXT_NEEDED = {RightsRequestKind.rectification: "Indiquez ce qui est inexact.",
               RightsRequestKind.objection: "Indiquez la raison de votre opposition."}
ANSWER_NEEDED = "Écrivez la réponse : ce qui a été corrigé, ou la raison du refus."
ONLY_THE_PERSON = "Seule la personne concernée peut faire cette demande, depuis son propre carnet."
ALREADY_ANSWERED = "Cette demande a déjà reçu une réponse."


def add_one_month(day: date) -> date:
    """The same day next month, or that month's last day (31 January → 28 or 29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(received: date) -> date:
    return add_one_month(received)


def checked_request(kind: RightsRequestKind, field: str, text: str, wanted: str) -> tuple[str, str, str]:
    field, text, wanted = field.strip(), text.strip(), wanted.strip()
    if kind == RightsRequestKind.rectification and not field:
        raise Invalid(FIELD_NEEDED, details={"field": "field"})
    if not text:
        raise Invalid(TEXT_NEEDED[kind], details={"field": "text"})
    return field, text, wanted if kind == RightsRequestKind.rectification else ""


def checked_answer(answer: str) -> str:
    if not answer.strip():
        raise Invalid(ANSWER_NEEDED, details={"field": "answer"})
    return answer.strip()


def may_answer(role: Role, relations: frozenset[Relation], is_referent: bool, kind: RightsRequestKind) -> bool:
    """The territory's managers answer every request; the référent a rectification (he keeps the notebook right).
    An objection questions the processing itself: the département (its managers) decides."""
    if role == Role.manager and Relation.territory in relations:
        return True
    return kind == RightsRequestKind.rectification and is_referent and Relation.member in relations


def may_see(role: Role, relations: frozenset[Relation], is_referent: bool) -> bool:
    if role == Role.beneficiary:
        return Relation.own in relations
    return (role == Role.manager and Relation.territory in relations) or (is_referent and Relation.member in relations)


def overdue(state: str, due: date, today: date) -> bool:
    return state == RightsRequestState.open and due < today


def to_remind(state: str, due: date, today: date, reminded_on: date | None) -> bool:
    """Open, due within REMIND_DAYS or late, and not reminded today yet."""
    return state == RightsRequestState.open and (due - today).days <= REMIND_DAYS and reminded_on != today


def order_key(state: str, due: date, created_key: str) -> tuple:
    """Open first, the most urgent (the earliest due, so the late ones) first; then the answered, newest first."""
    if state == RightsRequestState.open:
        return (0, due.toordinal(), created_key)
    return (1, -due.toordinal(), created_key)
